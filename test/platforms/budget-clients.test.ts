// Daily budget changes through each platform's official client against its sandbox server: a
// change lands and reads back, a budget under the platform's minimum and an unknown id are refused
// with the platform's own errors, and a refused change leaves the budget as it was.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tiktok from 'tiktok-business-api-sdk-official';
import type { TikTokEnvelope } from 'tiktok-business-api-sdk-official';
import { PlatformError } from '../../platforms/errors.ts';
import { createGoogleAds, type GoogleAds } from '../../platforms/google/google-ads.ts';
import { createMetaAds, type MetaAds } from '../../platforms/meta/meta-ads.ts';
import { createTikTokAds, type TikTokAds } from '../../platforms/tiktok/tiktok-ads.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';
import { TEST_APP } from '../helpers/meta-app.ts';

/** A PlatformError of `platform` and `kind`, with `code` and a message matching `text`. */
function refused(
  platform: PlatformError['platform'],
  kind: PlatformError['kind'],
  code: number | null,
  text?: RegExp,
) {
  return (e: unknown) => {
    assert.ok(e instanceof PlatformError, `a PlatformError, got ${String(e)}`);
    assert.equal(e.platform, platform);
    assert.equal(e.kind, kind, e.message);
    if (code !== null) assert.equal(e.code, code, e.message);
    if (text) assert.match(e.message, text);
    return true;
  };
}

describe('daily budget changes through the platforms’ clients', () => {
  let sandbox: Sandbox;
  let meta: MetaAds;
  let tt: TikTokAds;
  let google: GoogleAds;

  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    // TikTok's per-second quota is not what these tests are about.
    Object.assign(sandbox.tiktok.limits, { perSecond: 100_000, perMinute: 1_000_000 });
    meta = createMetaAds({ graphUrl: sandbox.metaUrl, ...sandbox.credentials, requestTries: 1 });
    tt = createTikTokAds({
      baseUrl: sandbox.tiktokUrl,
      ...sandbox.tiktokCredentials,
      rateLimit: null,
      adCreateRateLimit: null,
      requestTries: 1,
    });
    google = createGoogleAds({
      restUrl: sandbox.googleUrls.rest,
      grpcUrl: sandbox.googleUrls.grpc,
      tokenUrl: sandbox.googleUrls.token,
      ...sandbox.googleCredentials,
      requestTries: 1,
    });
  });
  after(async () => sandbox?.close());

  it('Meta: sets and reads an ad set’s daily budget in ISO minor units', async () => {
    const { currency } = await meta.describeAccount();
    assert.equal(currency, 'EUR');
    const campaignId = await meta.createCampaign({ name: 'budget/meta' });
    const adsetId = await meta.createAdSet({
      name: 'budget/meta/SE',
      campaignId,
      country: 'SE',
      dailyBudgetMinor: 20_000,
      os: 'ios',
      app: TEST_APP,
    });
    assert.equal(await meta.adSetBudgetMinor(adsetId), 20_000);
    await meta.setAdSetBudget(adsetId, 35_050);
    assert.equal(await meta.adSetBudgetMinor(adsetId), 35_050);
    // What Graph holds: EUR has offset 100, so Meta's units are cents too.
    assert.equal(sandbox.meta.store.get(adsetId)?.fields.daily_budget, '35050');

    // Meta's minimum for an impression-billed ad set in EUR: 1.00 a day.
    await assert.rejects(
      meta.setAdSetBudget(adsetId, 99),
      refused('meta', 'invalid', 100, /Invalid parameter/),
    );
    await meta.setAdSetBudget(adsetId, 100);
    assert.equal(await meta.adSetBudgetMinor(adsetId), 100, 'exactly the minimum is taken');
    await meta.setAdSetBudget(adsetId, 35_050);
    assert.equal(await meta.adSetBudgetMinor(adsetId), 35_050, 'a refused change changes nothing');

    // An ad set of no account of the token: Graph's "does not exist" (code 100).
    const unknown = '120000000999999';
    await assert.rejects(
      meta.setAdSetBudget(unknown, 30_000),
      refused('meta', 'invalid', 100, /does not exist/),
    );
    await assert.rejects(meta.adSetBudgetMinor(unknown), refused('meta', 'invalid', 100));
  });

  it('Meta: the minimum names the amount, as Graph’s “Budget Is Too Low”', async () => {
    const campaignId = await meta.createCampaign({ name: 'budget/meta/raw' });
    const adsetId = await meta.createAdSet({
      name: 'budget/meta/raw/SE',
      campaignId,
      country: 'SE',
      dailyBudgetMinor: 5_000,
      os: 'ios',
      app: TEST_APP,
    });
    const res = await fetch(`${sandbox.metaUrl}/v24.0/${adsetId}`, {
      method: 'POST',
      body: new URLSearchParams({
        daily_budget: '50',
        access_token: sandbox.credentials.accessToken,
      }),
    });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as {
      error: { code: number; error_user_title?: string; error_user_msg?: string };
    };
    assert.equal(error.code, 100);
    assert.equal(error.error_user_title, 'Budget Is Too Low');
    assert.match(String(error.error_user_msg), /at least 1\.00 EUR/);
  });

  it('TikTok: updates an ad group’s daily budget through adgroup/update', async () => {
    const { currency } = await tt.advertiser();
    const campaignId = await tt.createCampaign({ name: 'budget/tiktok' });
    const adGroupId = await tt.createAdGroup({
      name: 'budget/tiktok/SE',
      campaignId,
      country: 'SE',
      dailyBudget: 20_000,
      os: 'android',
      appId: sandbox.world.tiktok.appIds.android,
    });
    await tt.updateAdGroupBudget(adGroupId, 35_050);
    assert.equal((await tt.getAdGroup(adGroupId))?.dailyBudget, 35_050);
    const raw = sandbox.tiktok.store.get(adGroupId, 'adgroup');
    assert.equal(raw?.fields.budget, 350.5, `major units of ${currency} on the wire`);
    assert.ok(
      sandbox.tiktok.requests.some((r) => r.path === '/open_api/v1.3/adgroup/update/'),
      'through adgroup/update',
    );

    // The sandbox's ad group minimum: 20 a day.
    await assert.rejects(
      tt.updateAdGroupBudget(adGroupId, 1_999),
      refused('tiktok', 'invalid', 40002, /budget: .*at least 20 /),
    );
    assert.equal((await tt.getAdGroup(adGroupId))?.dailyBudget, 35_050, 'unchanged');
    await assert.rejects(
      tt.updateAdGroupBudget('1799999999999999999', 30_000),
      refused('tiktok', 'invalid', 40002, /adgroup_id: .*does not exist/),
    );
    // A deleted ad group cannot be changed.
    await tt.setAdGroupStatus([adGroupId], 'DISABLE');
    const other = await tt.createAdGroup({
      name: 'budget/tiktok/SE/2',
      campaignId,
      country: 'SE',
      dailyBudget: 20_000,
      os: 'android',
      appId: sandbox.world.tiktok.appIds.android,
    });
    await new Promise<void>((resolve, reject) =>
      new tiktok.AdgroupApi(
        Object.assign(new tiktok.ApiClient(), { basePath: sandbox.tiktokUrl }),
      ).adgroupStatusUpdate(
        sandbox.tiktokCredentials.accessToken,
        {
          body: {
            advertiser_id: sandbox.tiktokCredentials.advertiserId,
            adgroup_ids: [other],
            operation_status: 'DELETE',
          },
        },
        (err) => (err ? reject(new Error('delete failed', { cause: err })) : resolve()),
      ),
    );
    await assert.rejects(
      tt.updateAdGroupBudget(other, 30_000),
      refused('tiktok', 'invalid', 40002, /deleted/),
    );
  });

  it('TikTok: refuses fields it does not change and a budget under CBO', async () => {
    const campaignId = await tt.createCampaign({ name: 'budget/tiktok/raw' });
    const adGroupId = await tt.createAdGroup({
      name: 'budget/tiktok/raw/SE',
      campaignId,
      country: 'SE',
      dailyBudget: 20_000,
      os: 'android',
      appId: sandbox.world.tiktok.appIds.android,
    });
    const api = new tiktok.AdgroupApi(
      Object.assign(new tiktok.ApiClient(), { basePath: sandbox.tiktokUrl }),
    );
    const update = (body: Record<string, unknown>) =>
      new Promise<TikTokEnvelope | null>((resolve) =>
        api.adgroupUpdate(
          sandbox.tiktokCredentials.accessToken,
          { body: { advertiser_id: sandbox.tiktokCredentials.advertiserId, ...body } },
          (_err, data) => resolve(data),
        ),
      );
    const renamed = await update({ adgroup_id: adGroupId, adgroup_name: 'other' });
    assert.equal(renamed?.code, 40002);
    assert.match(String(renamed?.message), /^adgroup_name: /);
    const missing = await update({ budget: 30 });
    assert.equal(missing?.code, 40002);
    assert.match(String(missing?.message), /^adgroup_id: Missing data/);
    const ok = await update({ adgroup_id: adGroupId, budget: 30 });
    assert.ok(!ok?.code, ok?.message);
    assert.equal((ok?.data as { budget?: number }).budget, 30, 'answers the ad group');

    // A campaign with Campaign Budget Optimization: its ad groups' budgets cannot be updated.
    const cbo = sandbox.tiktok.account.createCampaign({
      advertiser_id: sandbox.tiktokCredentials.advertiserId,
      campaign_name: 'budget/tiktok/cbo',
      objective_type: 'APP_PROMOTION',
      app_promotion_type: 'APP_INSTALL',
      budget_mode: 'BUDGET_MODE_DAY',
      budget: 500,
      budget_optimize_on: true,
    }) as { campaign_id: string };
    const cboGroup = sandbox.tiktok.account.createAdGroup({
      advertiser_id: sandbox.tiktokCredentials.advertiserId,
      campaign_id: cbo.campaign_id,
      adgroup_name: 'budget/tiktok/cbo/SE',
      promotion_type: 'APP_ANDROID',
      app_id: sandbox.world.tiktok.appIds.android,
      operating_systems: ['ANDROID'],
      placement_type: 'PLACEMENT_TYPE_NORMAL',
      placements: ['PLACEMENT_TIKTOK'],
      location_ids: ['2661886'],
      budget_mode: 'BUDGET_MODE_DAY',
      budget: 200,
      schedule_type: 'SCHEDULE_FROM_NOW',
      schedule_start_time: '2026-03-01 00:00:00',
      optimization_goal: 'INSTALL',
      billing_event: 'OCPM',
      bid_type: 'BID_TYPE_NO_BID',
    }) as { adgroup_id: string };
    await assert.rejects(
      tt.updateAdGroupBudget(cboGroup.adgroup_id, 30_000),
      refused('tiktok', 'invalid', 40002, /Campaign Budget Optimization/),
    );
  });

  it('Google: reads a campaign’s budget id and sets its amount with mask amount_micros', async () => {
    const budgetId = await google.createBudget({ name: 'budget/google', amountMicros: 50e6 });
    const campaignId = await google.createAppCampaign({
      name: 'budget/google/DE',
      budgetId,
      appId: sandbox.world.google.appIds.android,
      appStore: 'GOOGLE_APP_STORE',
      goal: 'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
      targetCpaMicros: 2e6,
      country: 'DE',
      language: 'de',
    });
    assert.deepEqual(await google.campaignBudget(campaignId), { budgetId, amountMicros: 50e6 });
    await google.setBudgetAmount(budgetId, 80_500_000);
    assert.deepEqual(await google.campaignBudget(campaignId), {
      budgetId,
      amountMicros: 80_500_000,
    });
    assert.equal(await google.campaignBudgetMicros(campaignId), 80_500_000);
    const stored = sandbox.google.store
      .list('campaign_budget', sandbox.googleCredentials.customerId)
      .find((b) => b.id === budgetId);
    assert.equal(stored?.fields.name, 'budget/google', 'the mask changed the amount only');

    // A daily budget must be above 0 and a whole number of the currency's smallest unit.
    await assert.rejects(
      google.setBudgetAmount(budgetId, 0),
      refused('google', 'invalid', null, /RangeError\.TOO_LOW/),
    );
    await assert.rejects(
      google.setBudgetAmount(budgetId, 10_001),
      refused(
        'google',
        'invalid',
        null,
        /CampaignBudgetError\.NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT/,
      ),
    );
    assert.equal(await google.campaignBudgetMicros(campaignId), 80_500_000, 'unchanged');
    await assert.rejects(
      google.setBudgetAmount('999999999', 10e6),
      refused('google', 'invalid', null, /MutateError\.RESOURCE_NOT_FOUND/),
    );
    await assert.rejects(
      google.campaignBudget('999999999'),
      refused('google', 'invalid', null, /not found/),
    );
    await assert.rejects(
      google.setBudgetAmount(budgetId, 1.5),
      refused('google', 'invalid', null, /whole number of micros/),
    );
  });
});
