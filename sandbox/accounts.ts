// The accounts configuration (core/accounts.ts) that matches a sandbox world: its Meta ad accounts
// and the markets each runs, its TikTok advertiser with the identity and app ids it knows, and
// its app in both stores. `npm start`, the benchmarks and the tests point adloop at it, as an
// operator points adloop at the accounts of a real business.
import type { AccountsInput } from '../core/accounts.ts';
import type { World } from './world.ts';

/** Budget of each ad set and ad group, in major units of its account's currency. */
export const SANDBOX_DAILY_BUDGET = '500';
/**
 * Each market's daily spend cap in the reporting currency: four ad sets (two stores, two
 * platforms) at the budget above, in EUR or USD, with room to spare.
 */
export const SANDBOX_MARKET_CAP = '2500';

export function sandboxAccounts(world: World): AccountsInput {
  return {
    app: {
      name: world.app.name,
      metaApplicationId: world.meta.applicationId,
      ios: world.app.ios,
      android: world.app.android,
    },
    meta: {
      accounts: world.metaAccounts.map((a) => ({
        id: a.id,
        pageId: world.meta.pageId,
        markets: a.markets,
      })),
    },
    tiktok: {
      advertisers: [
        {
          id: world.tiktok.advertiserId,
          identity: { type: 'CUSTOMIZED_USER', id: world.tiktok.identityId },
          appIds: world.tiktok.appIds,
          markets: Object.keys(world.markets),
        },
      ],
    },
    markets: {
      '*': {
        dailyBudget: { meta: SANDBOX_DAILY_BUDGET, tiktok: SANDBOX_DAILY_BUDGET },
        spendCap: SANDBOX_MARKET_CAP,
      },
    },
    // Generous enough for every market of a large world, so the caps are held, never hit.
    spendCap: String(Number(SANDBOX_MARKET_CAP) * Object.keys(world.markets).length),
  };
}
