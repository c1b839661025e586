// The accounts configuration (core/accounts.ts) that matches a sandbox world: its Meta ad accounts
// and the markets each runs, its TikTok advertiser with the identity and app ids it knows, its
// Google Ads customer with its app ids and conversion actions, and its app in both stores. `npm start`, the benchmarks and the tests point adloop at it, as an
// operator points adloop at the accounts of a real business.
import type { AccountsInput } from '../core/accounts.ts';
import type { World } from './world.ts';

/** Budget of each ad set and ad group, in major units of its account's currency. */
export const SANDBOX_DAILY_BUDGET = '500';
/**
 * Each market's daily spend cap in the reporting currency: six ad sets, ad groups and campaigns
 * (two stores, three platforms) at the budget above, in EUR or USD, with room to spare.
 */
export const SANDBOX_MARKET_CAP = '3500';

/** The names of the world's Google conversion actions that count a funnel stage. */
function googleActions(world: World, stage: 'installs' | 'registrations' | 'subscriptions') {
  return world.google.conversionActions.filter((a) => a.counts === stage).map((a) => a.name);
}

/**
 * The accounts file of `world`. With `allocate`, it also gives a daily budget to allocate over
 * every market's ad sets (what the fixed budgets add up to: six ad sets per market), so budgets
 * follow results; without, every ad set keeps its fixed budget.
 */
export function sandboxAccounts(world: World, o: { allocate?: boolean } = {}): AccountsInput {
  const markets = Object.keys(world.markets).length;
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
    google: {
      customers: [
        {
          id: world.google.customerId,
          ...(world.google.managerId ? { loginCustomerId: world.google.managerId } : {}),
          appIds: world.google.appIds,
          conversions: {
            installs: googleActions(world, 'installs'),
            registrations: googleActions(world, 'registrations'),
            subscriptions: googleActions(world, 'subscriptions'),
          },
          markets: Object.keys(world.markets),
        },
      ],
    },
    markets: {
      '*': {
        dailyBudget: {
          meta: SANDBOX_DAILY_BUDGET,
          tiktok: SANDBOX_DAILY_BUDGET,
          google: SANDBOX_DAILY_BUDGET,
        },
        spendCap: SANDBOX_MARKET_CAP,
      },
    },
    // Generous enough for every market of a large world, so the caps are held, never hit.
    spendCap: String(Number(SANDBOX_MARKET_CAP) * markets),
    ...(o.allocate ? { dailyBudget: String(Number(SANDBOX_DAILY_BUDGET) * 6 * markets) } : {}),
  };
}
