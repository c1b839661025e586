// The accounts file (which accounts run which markets, the app, budgets, caps), money in each
// currency's own minor units, and the spend caps deploy checks before any write.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { spendCapProblems, type BudgetLine } from '../../activities/deploy/spend.ts';
import {
  artistDeepLink,
  budgetMinor,
  loadAccounts,
  marketAccounts,
  parseAccounts,
  runMarkets,
  type AccountsInput,
} from '../../core/accounts.ts';
import { fromMinorUnits, parseFxTable, toMinorUnits } from '../../core/money.ts';
import { loadConfig } from '../../core/config.ts';
import { sandboxAccounts } from '../../sandbox/accounts.ts';
import { loadWorld } from '../../sandbox/world.ts';
import { DEMO_WORLD, ROOT } from '../helpers/stack.ts';

const example = () =>
  JSON.parse(
    fs.readFileSync(path.join(ROOT, 'config/accounts.example.json'), 'utf8'),
  ) as AccountsInput & Record<string, unknown>;

describe('money in minor units', () => {
  it('follows each currency’s own minor unit (ISO 4217)', () => {
    assert.equal(toMinorUnits('49.90', 'EUR'), 4990);
    assert.equal(toMinorUnits(500, 'JPY'), 500);
    assert.equal(toMinorUnits('1.234', 'KWD'), 1234);
    assert.equal(fromMinorUnits(4990, 'EUR'), '49.90');
    assert.equal(fromMinorUnits(500, 'KRW'), '500');
    assert.equal(fromMinorUnits(5, 'USD'), '0.05');
  });

  it('refuses what the currency cannot express instead of rounding money', () => {
    assert.throws(() => toMinorUnits('10.5', 'JPY'), /10\.5 JPY has 1 decimals; JPY has none/);
    assert.throws(() => toMinorUnits('1.999', 'USD'), /USD has 2/);
    assert.throws(() => toMinorUnits('-3', 'USD'), /"-3" is not an amount of USD/);
    assert.throws(() => toMinorUnits('3', 'usd'), /usd is not an ISO 4217 code/);
  });
});

describe('accounts file', () => {
  it('resolves each market to its own Meta account, TikTok advertiser, app and budgets', () => {
    const file = loadAccounts(path.join(ROOT, 'config/accounts.example.json'));
    const se = marketAccounts(file, 'SE');
    assert.equal(se.meta?.adAccountId, 'act_111111111111111');
    assert.equal(se.meta?.applicationId, '123456789012345');
    assert.equal(se.meta?.dailyBudget, '450');
    assert.equal(se.tiktok?.identity.type, 'CUSTOMIZED_USER');
    assert.equal(se.tiktok?.appIds.android, '7200000000000000002');
    assert.equal(se.trackingLinks.ios, 'https://app.adjust.com/abc123');
    assert.equal(se.spendCap, '200');
    const br = marketAccounts(file, 'BR');
    assert.equal(br.meta?.adAccountId, 'act_333333333333333');
    assert.equal(br.meta?.dailyBudget, '50', 'the * defaults');
    assert.equal(br.spendCap, '250');
    // A market's entry overrides only the fields it names; the rest come from `*`.
    const partial = parseAccounts({
      ...example(),
      markets: {
        '*': { dailyBudget: { meta: '50', tiktok: '40' } },
        DE: { spendCap: '900', dailyBudget: { tiktok: '45' } },
      },
    });
    const de = marketAccounts(partial, 'DE');
    assert.deepEqual(
      [de.meta?.dailyBudget, de.tiktok?.dailyBudget, de.spendCap],
      ['50', '45', '900'],
    );
    assert.equal(marketAccounts(file, 'JP').meta, null, 'no account runs JP');
    assert.deepEqual(runMarkets(file), ['SE', 'DE', 'BR', 'EG']);
    assert.equal(
      artistDeepLink(se.apps.ios!, 'artist 7'),
      'yourmusic://artist/artist%207',
      'the artist id is encoded into the deep link',
    );
  });

  it('names what is wrong, and where', () => {
    const bad = example();
    bad.app.ios!.storeUrl = 'https://example.com/app';
    bad.meta!.accounts[1]!.markets = ['SE'];
    delete bad.tiktok!.advertisers[0]!.appIds.ios;
    bad.markets!.SE!.dailyBudget = { meta: 'lots' };
    assert.throws(
      () => parseAccounts(bad, 'accounts.json'),
      (e: Error) =>
        /accounts\.json is invalid/.test(e.message) &&
        /app\.ios\.storeUrl: must be an App Store URL/.test(e.message) &&
        /meta\.accounts\[1\]\.markets\[0\]: SE is already run by accounts\[0\]/.test(e.message) &&
        /tiktok\.advertisers\[0\]\.appIds\.ios: required: the app is in the App Store/.test(
          e.message,
        ) &&
        /markets\.SE\.dailyBudget\.meta: must be an amount/.test(e.message),
    );
    assert.throws(
      () => loadAccounts('/nonexistent/accounts.json'),
      /no accounts file at \/nonexistent\/accounts\.json \(ACCOUNTS_PATH\): copy config\/accounts\.example\.json/,
    );
    const noApp = example();
    delete noApp.app.metaApplicationId;
    assert.throws(() => parseAccounts(noApp), /app\.metaApplicationId: required when Meta/);
  });

  it('reads a Google Ads customer as Google Ads writes its id, and names what is wrong in it', () => {
    const file = parseAccounts(example());
    const se = marketAccounts(file, 'SE');
    assert.deepEqual(se.google, {
      customerId: '1234567890',
      loginCustomerId: '1112223333',
      appIds: { ios: '1234567890', android: 'com.example.music' },
      conversions: {
        installs: ['Adjust install'],
        registrations: ['Adjust sign_up'],
        subscriptions: ['Adjust subscribe'],
      },
      dailyBudget: '50',
    });
    assert.equal(se.appName, 'Your Music App');
    assert.equal(marketAccounts(file, 'JP').google, null);
    const bad = example() as AccountsInput & {
      google: { customers: Array<Record<string, unknown>> };
    };
    const c = bad.google.customers[0]!;
    c.id = '123-456-789';
    c.appIds = { ios: '1234567890', android: 'music app' };
    c.conversions = { installs: [], registrations: ['x'] };
    bad.google.customers.push({ ...c, id: '9999999999', markets: ['SE'] });
    assert.throws(
      () => parseAccounts(bad, 'accounts.json'),
      (e: Error) =>
        /google\.customers\[0\]\.id: must be a customer id like 123-456-7890/.test(e.message) &&
        /google\.customers\[0\]\.appIds\.android: must be a package name/.test(e.message) &&
        /google\.customers\[0\]\.conversions\.installs: /.test(e.message) &&
        /google\.customers\[1\]\.markets\[0\]: SE is already run by customers\[0\]/.test(e.message),
    );
  });

  it('turns a budget into the account currency’s minor units, or says where it does not fit', () => {
    assert.equal(budgetMinor('450', 'EUR', 'markets.SE'), 45_000);
    assert.equal(budgetMinor('450', 'JPY', 'markets.SE'), 450);
    assert.throws(
      () => budgetMinor(null, 'EUR', 'markets.SE.dailyBudget.meta'),
      /markets\.SE\.dailyBudget\.meta: no daily budget/,
    );
    assert.throws(
      () => budgetMinor('450.5', 'KRW', 'markets.SE.dailyBudget.meta'),
      /markets\.SE\.dailyBudget\.meta: 450\.5 KRW has 1 decimals; KRW has none/,
    );
  });

  it('matches the sandbox world: every market on one of its two Meta accounts', () => {
    const world = loadWorld(DEMO_WORLD);
    const file = parseAccounts(sandboxAccounts(world));
    const accounts = ['SE', 'DE', 'BR', 'EG'].map((m) => marketAccounts(file, m).meta?.adAccountId);
    assert.deepEqual(accounts, [
      'act_1000000001',
      'act_1000000001',
      'act_1000000002',
      'act_1000000002',
    ]);
    assert.deepEqual(
      world.metaAccounts.map((a) => a.currency),
      ['EUR', 'USD'],
      'two accounts in different currencies',
    );
  });
});

describe('spend caps', () => {
  const fx = parseFxTable({
    base: 'USD',
    asOf: '2026-01-01',
    perBase: { USD: 1, EUR: 0.5, JPY: 100 },
  });
  const line = (
    market: string,
    platform: string,
    dailyMinor: number,
    currency: string,
  ): BudgetLine => ({
    market,
    platform,
    adSets: 2,
    dailyMinor,
    currency,
  });

  it('holds a market’s budgets in every currency against its cap in the reporting currency', () => {
    // 2 x 50.00 EUR = 200 USD, 2 x 3000 JPY = 60 USD: 260 USD.
    const lines = [line('SE', 'meta', 5000, 'EUR'), line('SE', 'tiktok', 3000, 'JPY')];
    const caps = { market: '260', global: null, reportingCurrency: 'USD' };
    assert.deepEqual(spendCapProblems({ market: 'SE', lines, all: lines }, caps, fx), []);
    assert.deepEqual(
      spendCapProblems({ market: 'SE', lines, all: lines }, { ...caps, market: '259.99' }, fx),
      [
        "SE's daily budgets come to 260.00 USD (meta 2 x 50.00 EUR + tiktok 2 x 3000 JPY), over its spend cap of 259.99 USD",
      ],
    );
  });

  it('holds every market’s budgets together against the global cap', () => {
    const se = [line('SE', 'meta', 5000, 'EUR')];
    const all = [...se, line('DE', 'meta', 5000, 'EUR')];
    const caps = { market: null, global: '399', reportingCurrency: 'USD' };
    assert.deepEqual(spendCapProblems({ market: 'SE', lines: se, all }, caps, fx), [
      'the daily budgets of every market come to 400.00 USD, over the global spend cap of 399.00 USD',
    ]);
  });
});

describe('deploy mode', () => {
  it('is live on the sandbox and a dry run against real platforms unless asked for', () => {
    const token = { META_ACCESS_TOKEN: 'token' };
    assert.equal(loadConfig(token, ROOT).DEPLOY_MODE, 'live');
    const real = { ...token, META_GRAPH_URL: 'https://graph.facebook.com' };
    assert.equal(loadConfig(real, ROOT).DEPLOY_MODE, 'dry-run');
    assert.equal(loadConfig({ ...real, DEPLOY_MODE: 'live' }, ROOT).DEPLOY_MODE, 'live');
    const tiktok = {
      ...token,
      TIKTOK_ACCESS_TOKEN: 't',
      TIKTOK_BASE_URL: 'https://business-api.tiktok.com',
    };
    assert.equal(loadConfig(tiktok, ROOT).DEPLOY_MODE, 'dry-run');
  });
});
