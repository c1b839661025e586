// The sandbox Google Ads API through google-ads-api, changed only in endpoints
// (platforms/google/transport.ts): queries over REST, mutates over gRPC, partial failures, quota
// errors and per-asset delivery as Google has them. Skipped until the sandbox serves Google
// (startSandbox's googleUrls).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { PlatformError } from '../../platforms/errors.ts';
import { toFailure } from '../../activities/stage.ts';
import { FAILURE } from '../../core/failures.ts';
import { createGoogleAds, type GoogleAds } from '../../platforms/google/google-ads.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

/** What startSandbox gives for Google once the sandbox serves it. */
interface GoogleSandbox {
  googleUrls: { rest: string; grpc: string; token: string; youtube: string };
  googleCredentials: {
    developerToken: string;
    clientId: string;
    clientSecret: string;
    refreshToken: string;
    customerId: string;
  };
}

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    .png()
    .toBuffer();

describe('sandbox Google Ads API', async () => {
  // Started here so a missing Google sandbox skips the suite instead of failing it.
  const sandbox: Sandbox & Partial<GoogleSandbox> = await startSandbox({
    world: DEMO_WORLD,
    date: '2026-03-01',
  });
  const ready = Boolean(sandbox.googleUrls && sandbox.googleCredentials);
  let client: GoogleAds;
  const clientFor = (o: Partial<Parameters<typeof createGoogleAds>[0]> = {}) =>
    createGoogleAds({
      restUrl: sandbox.googleUrls.rest,
      grpcUrl: sandbox.googleUrls.grpc,
      tokenUrl: sandbox.googleUrls.token,
      ...sandbox.googleCredentials,
      requestTries: 1,
      ...o,
    });
  const control = (route: string, body: unknown) =>
    fetch(`${sandbox.metaUrl}/__sandbox/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...sandbox.controlHeaders() },
      body: JSON.stringify(body),
    });

  before(() => {
    if (ready) client = clientFor();
  });
  after(() => sandbox.close());

  const options = ready ? {} : { skip: 'the sandbox does not serve Google yet (googleUrls)' };
  let campaignId = '';
  let adGroupId = '';
  let adId = '';
  const images: string[] = [];

  it('describes the customer', options, async () => {
    const customer = await client.customer();
    assert.equal(customer.id, sandbox.googleCredentials.customerId.replace(/-/g, ''));
    assert.match(customer.currency, /^[A-Z]{3}$/);
    assert.ok(customer.timeZone, 'an IANA time zone');
    assert.equal(customer.manager, false);
    const accessible = await client.accessibleCustomers();
    // The OAuth user reaches the manager when there is one, and the customer through it.
    const direct = sandbox.googleCredentials.loginCustomerId ?? customer.id;
    assert.ok(accessible.includes(direct), accessible.join(','));
  });

  it(
    'creates a budget, an App campaign and an ad group, found by name after',
    options,
    async () => {
      const budgetId = await client.createBudget({
        name: "adloop DE budget 'a'",
        amountMicros: 50e6,
      });
      campaignId = await client.createAppCampaign({
        name: "adloop DE android 'a'",
        budgetId,
        appId: (sandbox.world as unknown as { google: { appIds: { android: string } } }).google
          .appIds.android,
        appStore: 'GOOGLE_APP_STORE',
        goal: 'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
        targetCpaMicros: 2e6,
        country: 'DE',
        language: 'de',
      });
      assert.match(campaignId, /^\d+$/);
      assert.equal(await client.campaignBudgetMicros(campaignId), 50e6);
      const found = await client.findByName('campaign', "adloop DE android 'a'");
      assert.deepEqual(found, { id: campaignId, status: 'PAUSED' });
      assert.equal(await client.findByName('campaign', 'no such campaign'), null);
      adGroupId = await client.createAdGroup({ campaignId, name: 'adloop DE android group' });
      const group = await client.findByName('ad_group', 'adloop DE android group');
      assert.equal(group?.campaignId, campaignId);
      await assert.rejects(
        client.createAppCampaign({
          name: 'x',
          budgetId,
          appId: 'a',
          appStore: 'GOOGLE_APP_STORE',
          goal: 'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
          targetCpaMicros: 1,
          country: 'DE',
          language: 'xx',
        }),
        (e: unknown) =>
          e instanceof PlatformError && e.kind === 'invalid' && /"xx"/.test(e.message),
      );
    },
  );

  it(
    'creates image assets with partial failure: a refused image is its own error',
    options,
    async () => {
      const result = await client.createImageAssets([
        { name: 'adloop img square', bytes: await png(1200, 1200) },
        { name: 'adloop img bad', bytes: await png(1000, 123) },
        { name: 'adloop img landscape', bytes: await png(1200, 628) },
      ]);
      const bad = result.get('adloop img bad');
      assert.ok(bad instanceof PlatformError, String(bad));
      assert.equal(bad.kind, 'invalid');
      assert.match(bad.message, /ImageError\.[A-Z_]+/);
      for (const name of ['adloop img square', 'adloop img landscape']) {
        const id = result.get(name);
        assert.equal(typeof id, 'string', `${name}: ${String(id)}`);
        images.push(id as string);
      }
      const found = await client.findAssetsByName(['adloop img square', 'adloop img bad']);
      assert.deepEqual([...found.keys()], ['adloop img square']);
    },
  );

  it('creates and updates the app ad, and lists its assets', options, async () => {
    assert.equal(await client.appAd(adGroupId), null);
    adId = await client.createAppAd(adGroupId, {
      headlines: ['New music every day'],
      descriptions: ['Stream the artists you love'],
      images: [images[0]!],
      videos: [],
    });
    await client.updateAppAd(adGroupId, adId, { images });
    const ad = await client.appAd(adGroupId);
    assert.equal(ad?.adId, adId);
    assert.equal(ad?.status, 'PAUSED');
    assert.deepEqual(ad?.assets.images, images);
    assert.deepEqual(ad?.assets.headlines, ['New music every day'], 'lists not given stay');
    const linked = await client.linkedAssets(adGroupId);
    const linkedImages = linked.filter((a) => a.fieldType === 'MARKETING_IMAGE');
    assert.deepEqual(linkedImages.map((a) => a.assetId).sort(), [...images].sort());
    assert.ok(
      linkedImages.every((a) => a.name.startsWith('adloop img')),
      JSON.stringify(linkedImages),
    );
    await client.setAppAdStatus(adGroupId, adId, 'ENABLED');
    await client.setStatus('ad_group', [adGroupId], 'ENABLED');
    await client.setStatus('campaign', [campaignId], 'ENABLED');
  });

  it('shows a policy-rejected asset as rejected, with its reasons', options, async () => {
    // The world's review bans "guaranteed" in an ad's text (sandbox/review.ts): every asset of
    // an app ad saying it is disapproved in that ad (policy_summary of ad_group_ad_asset_view).
    const res = await control('review', {
      google: { bannedTerms: ['guaranteed'], delaySeconds: 0 },
    });
    assert.equal(res.status, 200, await res.text());
    const group = await client.createAdGroup({ campaignId, name: 'adloop DE banned group' });
    await client.createAppAd(group, {
      headlines: ['Guaranteed hits every day'],
      descriptions: ['Stream the artists you love'],
      images: [images[1]!],
      videos: [],
    });
    const linked = await client.linkedAssets(group);
    assert.equal(linked.length, 1, JSON.stringify(linked));
    assert.equal(linked[0]!.assetId, images[1]);
    assert.equal(linked[0]!.review, 'rejected');
    assert.ok(linked[0]!.reasons.length > 0, 'a rejection names its policy topic');
    assert.ok(
      linked[0]!.reasons.every((r) => /^[A-Z_]+$/.test(r)),
      linked[0]!.reasons.join(),
    );
    // The same image in the first group's ad (no banned text) stays approved there.
    const first = await client.linkedAssets(adGroupId);
    assert.ok(
      first.every((a) => a.review === 'approved'),
      JSON.stringify(first.map((a) => a.review)),
    );
  });

  it('reports per-asset delivery after the clock moves', options, async () => {
    // The campaign, ad group and app ad were enabled on 2026-03-01 (the previous test): three
    // whole days have passed by 2026-03-04.
    assert.equal((await control('clock', { date: '2026-03-04' })).status, 200);
    const rows = await client.insights({
      since: '2026-03-01',
      until: '2026-03-03',
      adGroupId,
      conversions: { installs: ['Install'], registrations: ['Registration'], subscriptions: [] },
    });
    const { currency } = await client.customer();
    assert.ok(rows.length > 0, 'the enabled ad delivered');
    for (const r of rows) {
      assert.ok(images.includes(r.adId), r.adId);
      assert.ok(r.adName.startsWith('adloop img'), r.adName);
      assert.equal(r.adGroupId, adGroupId);
      assert.equal(r.currency, currency);
      assert.ok(r.date >= '2026-03-01' && r.date <= '2026-03-03', r.date);
      assert.ok(Number.isInteger(r.installs) && Number.isInteger(r.registrations), 'whole counts');
    }
    const days = new Set(rows.map((r) => r.date));
    assert.ok(days.size >= 2, `days: ${[...days].join(',')}`);
    assert.deepEqual(
      new Set(rows.map((r) => r.adId)),
      new Set(images),
      'both images of the ad delivered',
    );
    const sum = (k: 'impressions' | 'clicks' | 'spendMicros' | 'installs') =>
      rows.reduce((s, r) => s + r[k], 0);
    assert.ok(sum('impressions') > 0, `impressions ${sum('impressions')}`);
    assert.ok(sum('spendMicros') > 0, `spend ${sum('spendMicros')}`);
    assert.ok(sum('clicks') <= sum('impressions'), 'clicks within impressions');
    assert.ok(sum('installs') > 0, `installs ${sum('installs')}`);
    // At most the 50-a-day budget each day.
    for (const d of days) {
      const spent = rows.filter((r) => r.date === d).reduce((s, r) => s + r.spendMicros, 0);
      assert.ok(spent <= 50e6, `${d}: spent ${spent}`);
    }
    // The banned group's only asset is disapproved: it serves nothing.
    const all = await client.insights({
      since: '2026-03-01',
      until: '2026-03-03',
      conversions: { installs: ['Install'], registrations: [], subscriptions: [] },
    });
    assert.deepEqual(new Set(all.map((r) => r.adGroupId)), new Set([adGroupId]));
  });

  it(
    'reports an injected server error as transient, for a query and a mutate',
    options,
    async () => {
      const faults = sandbox.google.faults;
      faults.errorRate = 1;
      try {
        for (const call of [
          () => client.findByName('campaign', 'anything'),
          () => client.createBudget({ name: 'adloop error', amountMicros: 1e6 }),
        ])
          await assert.rejects(
            call(),
            (e: unknown) =>
              e instanceof PlatformError &&
              e.kind === 'transient' &&
              /InternalError\./.test(e.message),
          );
      } finally {
        faults.errorRate = 0;
      }
      assert.equal(await client.findByName('campaign_budget', 'adloop error'), null, 'not written');
    },
  );

  it(
    'reports a lost answer as transient, and the write is found by name after',
    options,
    async () => {
      const faults = sandbox.google.faults;
      faults.lostResponseRate = 1;
      try {
        await assert.rejects(
          client.createBudget({ name: 'adloop lost answer', amountMicros: 1e6 }),
          (e: unknown) => e instanceof PlatformError && e.kind === 'transient',
        );
      } finally {
        faults.lostResponseRate = 0;
      }
      const found = await client.findByName('campaign_budget', 'adloop lost answer');
      assert.ok(found, 'the budget was created although its answer was lost');
      assert.match(found.id, /^\d+$/);
      assert.equal(sandbox.google.requests.filter((r) => r.lost).length, 1);
    },
  );

  it('reports a quota error as throttled, with its retry delay', options, async () => {
    const res = await control('faults', { google: { errorRate: 0, throttleRate: 1 } });
    assert.equal(res.status, 200, await res.text());
    try {
      for (const call of [
        () => client.findByName('campaign', 'anything'),
        () => client.createBudget({ name: 'adloop quota', amountMicros: 1e6 }),
      ])
        await assert.rejects(
          call(),
          (e: unknown) =>
            e instanceof PlatformError &&
            e.kind === 'throttled' &&
            /QuotaError\.RESOURCE_TEMPORARILY_EXHAUSTED/.test(e.message) &&
            (e.retryAfterMs ?? 0) >= 1000,
        );
    } finally {
      await control('faults', { google: { throttleRate: 0 } });
    }
    assert.equal(await client.findByName('campaign_budget', 'adloop quota'), null, 'not written');
  });

  it(
    'gives Google up for the day when the developer token’s daily operations are spent',
    options,
    async () => {
      const g = sandbox.world.google;
      const before = g.dailyOperationLimit;
      // Basic access: 15,000 operations a day; this token has used its day.
      g.dailyOperationLimit = 0;
      const started = Date.now();
      try {
        const err = await client.findByName('campaign', 'anything').then(
          () => null,
          (e: unknown) => e,
        );
        assert.ok(
          err instanceof PlatformError &&
            err.kind === 'throttled' &&
            /QuotaError\.RESOURCE_EXHAUSTED/.test(err.message) &&
            (err.retryAfterMs ?? 0) > 0,
          `a daily quota error, got ${String(err)}`,
        );
        assert.ok(Date.now() - started < 10_000, 'not waited for on the spot');
        const failure = toFailure(err) as {
          type?: string;
          nonRetryable?: boolean;
          details?: unknown[];
        };
        if ((err.retryAfterMs ?? 0) > 2 * 3_600_000) {
          assert.equal(failure.type, FAILURE.platformQuota);
          assert.equal(failure.nonRetryable, true, 'not retried today');
          assert.deepEqual(failure.details, [{ platform: 'google' }]);
        } else
          assert.equal(failure.type, FAILURE.platformThrottled, 'near the reset: retried then');
      } finally {
        g.dailyOperationLimit = before;
      }
    },
  );
});
