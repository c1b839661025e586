// Each platform server keeps every daily budget by the sandbox date it was set on: a past day is
// reported with the budget it had then, whatever changed since, and the budget's history reaches
// the simulator, so a large change makes the ad set relearn for some days (truth.learningPhase)
// while a small one does not. Three sandboxes of the same world build the same objects (same ids,
// so the same draws); they differ only in their budgets' histories.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { addDays } from '../../core/dates.ts';
import { deepLink } from '../../core/tracking.ts';
import { createGoogleAds, type GoogleAds } from '../../platforms/google/google-ads.ts';
import { createMetaAds, type MetaAds } from '../../platforms/meta/meta-ads.ts';
import { createTikTokAds, type TikTokAds } from '../../platforms/tiktok/tiktok-ads.ts';
import type { AttributedDelivery } from '../../sandbox/contracts.ts';
import { GoogleStore } from '../../sandbox/google/google-store.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { TikTokStore } from '../../sandbox/tiktok/tiktok-store.ts';
import { loadWorld } from '../../sandbox/world.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';
import { TEST_APP, appLinkOf, liveAd, liveAdSet } from '../helpers/meta-app.ts';

const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const DAY1 = '2026-03-01';
/** The day budgets change on: the third day of delivery. */
const CHANGE = '2026-03-03';
const PLATFORMS = ['meta', 'tiktok', 'google'] as const;
type Platform = (typeof PLATFORMS)[number];

/** The three clients of one sandbox, and one delivering ad set (ad group, campaign) on each. */
interface Stack {
  sandbox: Sandbox;
  meta: MetaAds;
  tiktok: TikTokAds;
  google: GoogleAds;
  /** Sets the daily budget of the platform's ad set, in minor units of its currency. */
  setBudget: Record<Platform, (minor: number) => Promise<void>>;
  /** Per-day per-ad rows of the platform's insights over [since, until], as its client reads them. */
  insights: Record<Platform, (since: string, until: string) => Promise<unknown[]>>;
}

/** A sandbox of the demo world with one live ad set per platform, each on `budgetMinor` a day. */
async function stack(budgetMinor: number): Promise<Stack> {
  const sandbox = await startSandbox({ world: DEMO_WORLD, date: DAY1 });
  Object.assign(sandbox.tiktok.limits, { perSecond: 100_000, perMinute: 1_000_000 });
  const meta = createMetaAds({ graphUrl: sandbox.metaUrl, ...sandbox.credentials });
  const tiktok = createTikTokAds({
    baseUrl: sandbox.tiktokUrl,
    ...sandbox.tiktokCredentials,
    rateLimit: null,
    adCreateRateLimit: null,
  });
  const google = createGoogleAds({
    restUrl: sandbox.googleUrls.rest,
    grpcUrl: sandbox.googleUrls.grpc,
    tokenUrl: sandbox.googleUrls.token,
    ...sandbox.googleCredentials,
  });
  const link = (platform: Platform, market: string) =>
    deepLink({ platform, market, artistId: 'a01', templateId: 'spotlight' });

  // Meta: an EUR account's iOS ad set in SE.
  const campaign = await meta.createCampaign({ name: 'budget' });
  const adsetId = await liveAdSet(meta, {
    name: 'budget/SE',
    campaignId: campaign,
    country: 'SE',
    dailyBudgetMinor: budgetMinor,
    os: 'ios',
    app: TEST_APP,
  });
  const { hash } = await meta.uploadImage(PNG_1x1, 'one.png');
  const creativeId = await meta.createCreative({
    name: 'budget',
    imageHash: hash,
    storeUrl: TEST_APP.storeUrl,
    appLink: appLinkOf(link('meta', 'SE')),
    message: 'm',
    headline: 'h',
  });
  await liveAd(meta, { name: 'budget/ad', adsetId, creativeId });

  // TikTok: a USD advertiser's Android ad group in SE.
  const ttCampaign = await tiktok.createCampaign({ name: 'budget' });
  const adGroupId = await tiktok.createAdGroup({
    name: 'budget/SE',
    campaignId: ttCampaign,
    country: 'SE',
    dailyBudget: budgetMinor,
    os: 'android',
    appId: sandbox.world.tiktok.appIds.android,
  });
  const square = await sharp({
    create: { width: 100, height: 100, channels: 3, background: { r: 200, g: 40, b: 90 } },
  })
    .png()
    .toBuffer();
  const { imageId } = await tiktok.uploadImage(square, 'square.png');
  const ad = await tiktok.createAd({
    adGroupId,
    name: 'budget/ad',
    identity: { type: 'CUSTOMIZED_USER', id: sandbox.world.tiktok.identityId },
    text: 'Listen now',
    landingPageUrl: link('tiktok', 'SE'),
    imageId,
  });
  await tiktok.setAdStatuses([ad], 'ENABLE');
  await tiktok.setAdGroupStatus([adGroupId], 'ENABLE');
  await tiktok.setCampaignStatus([ttCampaign], 'ENABLE');

  // Google: a USD customer's Android App campaign in DE (USD: 10,000 micros a cent).
  const budgetId = await google.createBudget({ name: 'budget', amountMicros: budgetMinor * 1e4 });
  const googleCampaign = await google.createAppCampaign({
    name: 'budget/DE',
    budgetId,
    appId: sandbox.world.google.appIds.android,
    appStore: 'GOOGLE_APP_STORE',
    goal: 'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
    targetCpaMicros: 2e6,
    country: 'DE',
    language: 'de',
  });
  const group = await google.createAdGroup({ campaignId: googleCampaign, name: 'budget/DE' });
  const image = await sharp({
    create: { width: 1200, height: 1200, channels: 3, background: { r: 20, g: 140, b: 90 } },
  })
    .png()
    .toBuffer();
  const assets = await google.createImageAssets([{ name: 'budget img', bytes: image }]);
  const asset = assets.get('budget img');
  assert.equal(typeof asset, 'string', String(asset));
  const appAd = await google.createAppAd(group, {
    headlines: ['New music every day'],
    descriptions: ['Stream the artists you love'],
    images: [asset as string],
    videos: [],
  });
  await google.setAppAdStatus(group, appAd, 'ENABLED');
  await google.setStatus('ad_group', [group], 'ENABLED');
  await google.setStatus('campaign', [googleCampaign], 'ENABLED');

  return {
    sandbox,
    meta,
    tiktok,
    google,
    setBudget: {
      meta: (minor) => meta.setAdSetBudget(adsetId, minor),
      tiktok: (minor) => tiktok.updateAdGroupBudget(adGroupId, minor),
      google: (minor) => google.setBudgetAmount(budgetId, minor * 1e4),
    },
    insights: {
      meta: (since, until) => meta.insights({ since, until, adsetId }),
      tiktok: (since, until) => tiktok.insights({ since, until, adGroupId }),
      google: (since, until) =>
        google.insights({
          since,
          until,
          adGroupId: group,
          conversions: { installs: ['Install'], registrations: ['sign_up'], subscriptions: [] },
        }),
    },
  };
}

/** What a platform server delivered on `date` (its DeliveryLog), ad by ad. */
function delivered(s: Stack, platform: Platform, date: string): AttributedDelivery['delivery'][] {
  return s.sandbox[platform].deliveriesOn(date).map((d) => d.delivery);
}

const total = (
  ds: Array<{ installs: number; spendMinor: number }>,
  key: 'installs' | 'spendMinor',
) => ds.reduce((sum, d) => sum + d[key], 0);

describe('dated budget histories on the platform servers', () => {
  const { threshold, days, penalty } = loadWorld(DEMO_WORLD).truth.learningPhase;
  /** First budget and the one set on CHANGE, per scenario (minor units, every platform). */
  const LOW = 10_000;
  const HIGH = 30_000;
  let large: Stack;
  let small: Stack;
  let steady: Stack;

  before(async () => {
    // large: LOW, then HIGH (3x: past the threshold); small: HIGH/1.2, then HIGH; steady: HIGH.
    [large, small, steady] = await Promise.all([
      stack(LOW),
      stack(Math.round(HIGH / 1.2)),
      stack(HIGH),
    ]);
    for (const s of [large, small, steady]) s.sandbox.clock.set(CHANGE);
    assert.ok(days > 0 && penalty > 0, 'the demo world has a learning phase');
    assert.ok(HIGH / LOW - 1 > threshold && 1.2 - 1 < threshold, 'one change past it, one not');
  });
  after(async () => {
    await Promise.all([large, small, steady].map((s) => s?.sandbox.close()));
  });

  for (const platform of PLATFORMS) {
    it(`${platform}: a budget changed today leaves the days before it as they were`, async () => {
      const pastBefore = await large.insights[platform](DAY1, addDays(CHANGE, -1));
      assert.ok(pastBefore.length > 0, 'the days before delivered');
      const todayBefore = total(delivered(large, platform, CHANGE), 'spendMinor');
      await large.setBudget[platform](HIGH);
      const pastAfter = await large.insights[platform](DAY1, addDays(CHANGE, -1));
      assert.deepEqual(pastAfter, pastBefore, 'insights of past days unchanged');
      for (const day of [DAY1, addDays(DAY1, 1)])
        assert.ok(total(delivered(large, platform, day), 'spendMinor') <= LOW, `${day} spent LOW`);
      const todayAfter = total(delivered(large, platform, CHANGE), 'spendMinor');
      assert.ok(
        todayAfter > todayBefore * 2,
        `today spends the new budget: ${todayBefore} -> ${todayAfter}`,
      );
    });
  }

  for (const platform of PLATFORMS) {
    it(`${platform}: a large change makes the ad set relearn for some days; a small one does not`, async (t) => {
      await small.setBudget[platform](HIGH);
      // Days are read once they are past; the clocks go back for the next platform's change.
      for (const s of [large, small, steady]) s.sandbox.clock.set(addDays(CHANGE, days + 1));
      t.after(() => {
        for (const s of [large, small, steady]) s.sandbox.clock.set(CHANGE);
      });
      let relearning = 0;
      let learned = 0;
      for (let i = 0; i <= days; i++) {
        const day = addDays(CHANGE, i);
        const l = delivered(large, platform, day);
        const sm = delivered(small, platform, day);
        const st = delivered(steady, platform, day);
        assert.ok(st.length > 0, `${day}: delivered`);
        // The same budget that day, split alike: the same spend in all three.
        assert.equal(total(l, 'spendMinor'), total(st, 'spendMinor'), `${day}: spend`);
        assert.deepEqual(sm, st, `${day}: a small change delivers as if there was none`);
        if (i < days) {
          relearning += total(l, 'installs');
          learned += total(st, 'installs');
        } else assert.deepEqual(l, st, `${day}: relearnt after ${days} days`);
      }
      assert.ok(learned > 50, `enough installs to compare: ${learned}`);
      assert.ok(
        relearning < learned * (1 - penalty / 2),
        `relearning converts fewer clicks: ${relearning} vs ${learned}`,
      );
    });
  }
});

describe('dated fields in the state file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-dated-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('persists each budget by date, and reads a state file written without histories', () => {
    const file = path.join(dir, 'tiktok.json');
    const store = new TikTokStore(1, file);
    const group = store.create('adgroup', '7', { budget: 20, operation_status: 'ENABLE' }, DAY1);
    store.update(group, { budget: 50 }, CHANGE);
    store.update(group, { budget: 45 }, CHANGE);
    store.update(group, { budget: 45 }, addDays(CHANGE, 1));
    store.update(group, { adgroup_name: 'renamed' }, addDays(CHANGE, 2));

    const reloaded = new TikTokStore(1, file);
    const g = reloaded.get(group.id, 'adgroup')!;
    assert.deepEqual(reloaded.fieldHistory(g, 'budget'), [
      { date: DAY1, value: 20 },
      { date: CHANGE, value: 50 },
      { date: CHANGE, value: 45 },
    ]);
    assert.deepEqual(
      reloaded.dailyValues(g, 'budget'),
      [
        { date: DAY1, value: 20 },
        { date: CHANGE, value: 45 },
      ],
      "one entry a day: the day's last change",
    );
    assert.equal(reloaded.fieldOn(g, 'budget', addDays(CHANGE, -1)), 20);
    assert.equal(reloaded.fieldOn(g, 'budget', CHANGE), 45);
    assert.equal(reloaded.fieldOn(g, 'budget', '2026-02-01'), 20, 'before it existed: its first');

    // A state file of before the histories: the budget then stands for the whole life, and the
    // next change is dated on from there.
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      objects: Array<{ fieldLog?: unknown }>;
    };
    for (const o of state.objects) delete o.fieldLog;
    fs.writeFileSync(file, JSON.stringify(state));
    const old = new TikTokStore(1, file);
    const o = old.get(group.id, 'adgroup')!;
    assert.equal(o.fieldLog, undefined);
    assert.equal(old.fieldOn(o, 'budget', DAY1), 45);
    old.update(o, { budget: 60 }, addDays(CHANGE, 3));
    assert.equal(old.fieldOn(o, 'budget', CHANGE), 45);
    assert.equal(old.fieldOn(o, 'budget', addDays(CHANGE, 3)), 60);
  });

  it('reads a Google budget’s amounts from `_amounts`, where the store kept them before', () => {
    const file = path.join(dir, 'google.json');
    const store = new GoogleStore(1, file);
    const budget = store.create(
      'campaign_budget',
      '1234567890',
      {
        amount_micros: '30000000',
        // As budgets were stored before the store dated fields: their own dated amounts.
        _amounts: [
          { date: DAY1, amount_micros: '10000000' },
          { date: CHANGE, amount_micros: '30000000' },
        ],
      },
      DAY1,
    );
    delete budget.fieldLog;
    assert.equal(store.fieldOn(budget, 'amount_micros', DAY1), '10000000');
    assert.equal(store.fieldOn(budget, 'amount_micros', CHANGE), '30000000');
    store.update(budget, { amount_micros: '40000000' }, addDays(CHANGE, 1));
    assert.deepEqual(store.dailyValues(budget, 'amount_micros'), [
      { date: DAY1, value: '10000000' },
      { date: CHANGE, value: '30000000' },
      { date: addDays(CHANGE, 1), value: '40000000' },
    ]);
  });

  it('takes a dated change back with the rest of a failed Google mutate', () => {
    const store = new GoogleStore(2, null);
    const budget = store.create('campaign_budget', '1', { amount_micros: '10000000' }, DAY1);
    const log: Parameters<GoogleStore['rollback']>[0] = [];
    store.logging(log, () => store.update(budget, { amount_micros: '20000000' }, CHANGE));
    assert.equal(store.fieldOn(budget, 'amount_micros', CHANGE), '20000000');
    store.rollback(log);
    assert.equal(budget.fields.amount_micros, '10000000');
    assert.deepEqual(store.fieldHistory(budget, 'amount_micros'), [
      { date: DAY1, value: '10000000' },
    ]);
  });
});
