// The chaos audit's judgements: what counts as a duplicate ad and as a lost metric row, and that
// the metrics audit takes its truth from the sandbox itself, so it catches what adloop's own
// clients would misread.
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities, type ActivityDeps } from '../../activities/index.ts';
import {
  auditMetrics,
  diffRows,
  duplicateAds,
  duplicateObjects,
  extraNames,
  platformAds,
  platformDeliveries,
  removedTwins,
  reportedAttribution,
  reportedDelivery,
  reportedGoogleDelivery,
  type PlatformAd,
} from '../../bench/chaos/audit.ts';
import { googleTallyOf, onAll, type PlatformTally, type Tally } from '../../bench/chaos/faults.ts';
import type { GoogleRequestEvent } from '../../sandbox/google/google-server.ts';
import type { AttributedDelivery } from '../../sandbox/contracts.ts';
import { asReported } from '../../sandbox/reporting.ts';
import { renderAll, typedRun } from '../helpers/activity.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const H1 = 'a'.repeat(16);
const H2 = 'b'.repeat(16);
let ids = 0;
const ad = (
  name: string,
  live = true,
  platform: PlatformAd['platform'] = 'meta',
  deleted = false,
): PlatformAd => ({
  platform,
  id: String(++ids),
  name,
  live,
  deleted,
});
const none = new Set<string>();

describe('duplicateAds', () => {
  it('finds none in a clean rotation', () => {
    const ads = [
      ad(`adloop/SE/default/ad/2026-06-01/${H1}`, false),
      ad(`adloop/SE/default/ad/2026-06-02/${H1}`),
      ad(`adloop/SE/default/ad/2026-06-02/${H2}`),
      // The same name on the other platform is its own ad.
      ad(`adloop/SE/default/ad/2026-06-02/${H1}`, true, 'tiktok'),
    ];
    assert.equal(duplicateAds(ads, none), 0);
  });

  it('counts an ad created twice under one name, live or not', () => {
    const name = `adloop/SE/default/ad/2026-06-02/${H1}`;
    assert.equal(duplicateAds([ad(name), ad(name)], none), 1);
    assert.equal(duplicateAds([ad(name), ad(name, false), ad(name, false)], none), 2);
  });

  it('does not count a twin adloop deleted before it delivered, and counts one that delivered', () => {
    const name = `adloop/SE/default/ad/2026-06-02/${H1}`;
    const twin = ad(name, false, 'meta', true);
    const ads = [ad(name), twin];
    assert.equal(duplicateAds(ads, none), 0);
    assert.equal(removedTwins(ads, none), 1);
    assert.equal(duplicateAds(ads, new Set([twin.id])), 1, 'it ran: a duplicate');
    assert.equal(removedTwins(ads, new Set([twin.id])), 0);
  });

  it('counts two live ads showing one creative in one ad set', () => {
    const ads = [
      ad(`adloop/SE/default/ad/2026-06-01/${H1}`),
      ad(`adloop/SE/default/ad/2026-06-02/${H1}`),
      // Another ad set (a segment) may show it too.
      ad(`adloop/SE/ios/installs/ad/2026-06-02/${H1}`),
    ];
    assert.equal(duplicateAds(ads, none), 1);
  });

  it('counts Google image assets as ads: one made twice, or one creative linked twice in a group', () => {
    const name = `adloop/SE/ios/installs/ad/2026-06-02/${H1}`;
    // The same name on Meta and TikTok is their own ad.
    const clean = [
      ad(name, true, 'google'),
      ad(name, true, 'meta'),
      ad(`adloop/SE/android/installs/ad/2026-06-02/${H1}`, true, 'google'),
      // Paused: unlinked from the app ad.
      ad(`adloop/SE/ios/installs/ad/2026-06-01/${H2}`, false, 'google'),
    ];
    assert.equal(duplicateAds(clean, none), 0);
    assert.equal(duplicateAds([...clean, ad(name, false, 'google')], none), 1);
    // Two dated assets of one creative both linked in the ios group's app ad.
    assert.equal(
      duplicateAds(
        [...clean, ad(`adloop/SE/ios/installs/ad/2026-06-01/${H1}`, true, 'google')],
        none,
      ),
      1,
    );
  });
});

describe('extraNames', () => {
  it("counts every extra object under one of adloop's names, and ignores others'", () => {
    assert.equal(
      extraNames([
        'google asset adloop/SE/ios/installs/ad/2026-06-02/x',
        'google asset adloop/SE/ios/installs/ad/2026-06-02/x',
        'google asset adloop/SE/ios/installs/ad/2026-06-02/x',
        'google campaign adloop/SE/ios/installs',
        'google asset Brand logo',
        'google asset Brand logo',
      ]),
      2,
    );
  });
});

describe("the chaos faults' proof from Google's log", () => {
  const event = (e: Partial<GoogleRequestEvent>): GoogleRequestEvent => ({
    transport: 'grpc',
    method: 'CampaignService/MutateCampaigns',
    path: 'CampaignService/MutateCampaigns',
    status: 0,
    requestId: 'r',
    operations: 1,
    ...e,
  });

  it('reads gRPC codes as gRPC codes and REST statuses as HTTP', () => {
    const t = googleTallyOf([
      event({}), // OK
      event({ status: 13, fault: 'error', error: 'internal_error.TRANSIENT_ERROR' }),
      event({ status: 14, fault: 'down', error: 'internal_error.TRANSIENT_ERROR' }),
      event({ status: 8, error: 'quota_error.RESOURCE_EXHAUSTED' }),
      event({ status: 3, error: 'campaign_error.DUPLICATE_CAMPAIGN_NAME' }),
      event({ status: 0, lost: true }),
      event({ status: 0, late: true }),
      event({ transport: 'rest', method: 'POST', status: 200 }),
      event({ transport: 'rest', method: 'POST', status: 200, malformed: true }),
      event({ transport: 'rest', method: 'POST', status: 500, fault: 'error' }),
      event({ transport: 'rest', method: 'POST', status: 429, fault: 'throttle' }),
      event({ transport: 'rest', method: 'POST', status: 0, timedOut: true }),
    ]);
    assert.deepEqual(t, {
      requests: 12,
      refused: 6,
      failed: 3,
      throttled: 2,
      lost: 1,
      timedOut: 1,
      late: 1,
      lateUnheard: 0,
      malformed: 1,
    });
  });

  it('proves a rate fault only when every platform, Google too, shows it', () => {
    const some = (failed: number): PlatformTally => ({
      ...googleTallyOf([]),
      requests: 10,
      failed,
    });
    const tally = (google: number): Tally => ({
      meta: some(3),
      tiktok: some(2),
      google: some(google),
      adjust: { requests: 0, refused: 0 },
    });
    const proof = onAll('failed', 'answered 5xx');
    assert.equal(proof(tally(0)), null);
    assert.equal(
      proof(tally(4)),
      'answered 5xx: Meta 3 of 10 requests, TikTok 2 of 10 requests, Google 4 of 10 requests',
    );
  });
});

describe('diffRows', () => {
  const key = (r: { id: string }) => r.id;
  const values = (r: { n: number }) => [r.n];
  it('counts rows missing from the database and rows stored with other numbers', () => {
    const truth = [
      { id: 'a', n: 1 },
      { id: 'b', n: 2 },
      { id: 'c', n: 3 },
    ];
    const stored = [
      { id: 'a', n: 1 },
      { id: 'b', n: 5 },
      { id: 'z', n: 9 },
    ];
    const d = diffRows(truth, stored, key, values);
    assert.equal(d.missing, 1);
    assert.equal(d.differing, 1);
    assert.deepEqual(d.examples.sort(), ['b: stored 5, source 2', 'missing c']);
  });

  it('finds nothing lost when every row is stored as reported', () => {
    const rows = [{ id: 'a', n: 1 }];
    assert.deepEqual(diffRows(rows, rows, key, values), { missing: 0, differing: 0, examples: [] });
  });

  it('against a source that is behind, counts only rows stored with less (or not at all)', () => {
    const late = [
      { id: 'a', n: 3 },
      { id: 'b', n: 4 },
      { id: 'c', n: 1 },
    ];
    const stored = [
      { id: 'a', n: 5 },
      { id: 'b', n: 2 },
    ];
    const d = diffRows(late, stored, key, values, { atLeast: true });
    assert.equal(d.missing, 1);
    assert.equal(d.differing, 1);
    assert.deepEqual(d.examples.sort(), ['b: stored 2, source 4', 'missing c']);
  });
});

describe('the sandbox’s rows as adloop stores them', () => {
  const delivery = (spendMinor: number): AttributedDelivery => ({
    platform: 'meta',
    market: 'JP',
    campaignId: 'c1',
    campaignName: 'adloop/JP',
    adGroupId: 'g1',
    adGroupName: 'g',
    adId: 'a1',
    adName: `adloop/JP/default/ad/2026-03-01/${H1}`,
    delivery: {
      adId: 'a1',
      date: '2026-03-03',
      impressions: 1000,
      clicks: 20,
      spendMinor,
      installs: 6,
      registrations: 3,
      subscriptions: 1,
      byOs: {
        ios: { installs: 2, registrations: 1, subscriptions: 0 },
        android: { installs: 4, registrations: 2, subscriptions: 1 },
      },
    },
  });

  it('expects spend as micros of the account’s own currency, by its minor unit', () => {
    const final = (currency: string) =>
      reportedDelivery(delivery(1234), currency, '2026-03-10', 0).values;
    // 1234 cents = 12.34 USD; 1234 yen; 1.234 dinar.
    assert.deepEqual(final('USD'), [1000, 20, 12_340_000, 6, 3, 1, 'USD']);
    assert.deepEqual(final('JPY'), [1000, 20, 1_234_000_000, 6, 3, 1, 'JPY']);
    assert.deepEqual(final('KWD'), [1000, 20, 1_234_000, 6, 3, 1, 'KWD']);
    assert.equal(
      reportedDelivery(delivery(1234), 'USD', '2026-03-10', 0).key,
      'meta|a1|2026-03-03',
    );
  });

  it('expects a Google asset’s day as Google reports it: conversions per action, no all-zero rows', () => {
    const google = {
      currency: 'USD',
      conversionActions: [
        { name: 'Install', type: 'GOOGLE_PLAY_DOWNLOAD', category: 'DOWNLOAD', counts: 'installs' },
        // Two actions count registrations: Google reports both, adloop adds them up.
        {
          name: 'sign_up',
          type: 'FIREBASE_ANDROID_CUSTOM',
          category: 'SIGNUP',
          counts: 'registrations',
        },
        {
          name: 'sign_up_web',
          type: 'FIREBASE_IOS_CUSTOM',
          category: 'SIGNUP',
          counts: 'registrations',
        },
      ],
    } as const;
    const row = { ...delivery(1234), platform: 'google' as const, adId: 'x1' };
    assert.deepEqual(reportedGoogleDelivery(row, google, '2026-03-10', 0), {
      key: 'google|x1|2026-03-03',
      values: [1000, 20, 12_340_000, 6, 6, 0, 'USD'],
    });
    const idle = {
      ...row,
      delivery: {
        ...row.delivery,
        impressions: 0,
        clicks: 0,
        spendMinor: 0,
        installs: 0,
        registrations: 0,
        subscriptions: 0,
      },
    };
    assert.equal(reportedGoogleDelivery(idle, google, '2026-03-10', 0), null);
  });

  it('expects a recent day as the platform reports it then: partial', () => {
    // Read a day later with a two-day reporting delay: two thirds there, rounded down.
    assert.deepEqual(reportedDelivery(delivery(1234), 'USD', '2026-03-04', 2).values, [
      666,
      13,
      8_220_000,
      4,
      2,
      0,
      'USD',
    ]);
  });

  it('keys Android rows by ad group and ad, iOS postbacks by campaign only', () => {
    const row = {
      date: '2026-03-03',
      platform: 'meta' as const,
      market: 'JP',
      campaignId: 'c1',
      campaignName: 'adloop/JP',
      adGroupId: 'g1',
      adGroupName: 'g',
      adId: 'a1',
      adName: 'ad',
      installs: 4,
      registrations: 2,
      subscriptions: 1,
    };
    assert.deepEqual(reportedAttribution({ ...row, os: 'android', aggregated: false }), {
      key: '2026-03-03|c1|g1|a1|android',
      values: [4, 2, 1],
    });
    const ios = { ...row, adGroupId: null, adGroupName: null, adId: null, adName: null };
    assert.equal(
      reportedAttribution({ ...ios, os: 'ios', aggregated: true }).key,
      '2026-03-03|c1|||ios',
    );
  });
});

// The metrics audit on real parts: adloop's activities deploy and ingest against the sandbox,
// then the audit compares the database with the sandbox's own records (never adloop's clients).
describe('auditMetrics', () => {
  // An EUR and a USD Meta account (demo.json); TikTok and the Google customer in USD.
  const MARKETS = ['SE', 'BR'];
  const DEPLOYED = '2026-03-01';
  const RUN_DATE = '2026-03-04';
  // The wall clock of the runs: late enough that every account (São Paulo too) has finished 03-03.
  const clock = () => new Date('2026-03-04T12:00:00Z');
  const audit = {
    lastRunDate: RUN_DATE,
    markets: MARKETS,
    metricsLookbackDays: 3,
    attributionLookbackDays: 3,
  };
  let stack: TestStack;

  const runFor = (market: string, date: string) =>
    typedRun(
      new MockActivityEnvironment({
        workflowExecution: { workflowId: `market/${market}/${date}`, runId: 'r' },
      }),
    );
  /** The day's two ingests, for every market, through `deps` (default the stack's own). */
  async function ingest(deps: ActivityDeps = stack.deps, only: 'all' | 'attribution' = 'all') {
    const acts = createActivities({ ...deps, clock });
    for (const market of MARKETS) {
      const run = runFor(market, RUN_DATE);
      if (only === 'all') await run(acts.ingestPlatformMetrics, { market, date: RUN_DATE });
      await run(acts.ingestAttribution, { market, date: RUN_DATE });
    }
  }
  const storedCount = async (table: 'ad_metrics_daily' | 'mmp_attribution') =>
    Number(
      (
        await stack.database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  before(async () => {
    // Both stores: iOS attribution arrives aggregated per campaign, Android per creative.
    // Google too (App campaigns, images only): one per store and market.
    stack = await startTestStack({
      date: DEPLOYED,
      deploy: { DEPLOY_OS: ['ios', 'android'] },
      google: 'images',
    });
    const acts = createActivities({ ...stack.deps, clock });
    for (const market of MARKETS) {
      const run = runFor(market, DEPLOYED);
      const input = { market, date: DEPLOYED };
      await run(acts.startMarketRun, input);
      await run(acts.ingestCatalog, input);
      const { selected } = await run(acts.rankMarket, { ...input, metricsAvailable: true });
      const creatives = await renderAll(run, acts, { ...input, items: selected });
      await run(acts.deployCreatives, { ...input, creatives });
    }
    // A day is final on the platforms two days later: the last day read is partial, and the audit
    // must expect it as the platform reported it then.
    stack.sandbox.world.truth.reportingDelayDays = 2;
    stack.sandbox.clock.set(RUN_DATE);
    for (const market of MARKETS)
      await runFor(market, RUN_DATE)(acts.startMarketRun, { market, date: RUN_DATE });
    await ingest();
  });
  after(async () => stack?.close());

  it('finds nothing lost when adloop stored what the sandbox delivered and attributed', async () => {
    const a = await auditMetrics(stack.sandbox, stack.database.db, audit);
    assert.deepEqual(a.delivery, { missing: 0, differing: 0, examples: [] });
    assert.deepEqual(a.attribution, { missing: 0, differing: 0, examples: [] });
    // Every stored row was checked: the two markets are all the database holds.
    assert.ok(a.deliveryRows > 0 && a.attributionRows > 0);
    assert.equal(a.deliveryRows, await storedCount('ad_metrics_daily'));
    assert.equal(a.attributionRows, await storedCount('mmp_attribution'));
    const currencies = await stack.database.db
      .selectFrom('ad_metrics_daily')
      .select(['platform', 'currency'])
      .distinct()
      .orderBy('platform')
      .orderBy('currency')
      .execute();
    assert.deepEqual(
      currencies.map((c) => `${c.platform} ${c.currency}`),
      ['google USD', 'meta EUR', 'meta USD', 'tiktok USD'],
      'spend in each account’s own currency',
    );
  });

  it('counts (a) a row missing from the database and (b) a row stored with other numbers', async () => {
    const { db } = stack.database;
    const metaRow = await db
      .selectFrom('ad_metrics_daily')
      .selectAll()
      .where('platform', '=', 'meta')
      .orderBy('date')
      .orderBy('ad_id')
      .executeTakeFirstOrThrow();
    const tiktokRow = await db
      .selectFrom('ad_metrics_daily')
      .selectAll()
      .where('platform', '=', 'tiktok')
      .where('impressions', '>', 0)
      .orderBy('date', 'desc')
      .orderBy('ad_id')
      .executeTakeFirstOrThrow();
    await db
      .deleteFrom('ad_metrics_daily')
      .where('platform', '=', 'meta')
      .where('ad_id', '=', metaRow.ad_id)
      .where('date', '=', metaRow.date)
      .execute();
    await db
      .updateTable('ad_metrics_daily')
      .set({ clicks: Number(tiktokRow.clicks) + 1 })
      .where('platform', '=', 'tiktok')
      .where('ad_id', '=', tiktokRow.ad_id)
      .where('date', '=', tiktokRow.date)
      .execute();
    const ios = await db
      .selectFrom('mmp_attribution')
      .selectAll()
      .where('os', '=', 'ios')
      .orderBy('date')
      .orderBy('campaign_id')
      .executeTakeFirstOrThrow();
    const android = await db
      .selectFrom('mmp_attribution')
      .selectAll()
      .where('os', '=', 'android')
      .orderBy('date')
      .orderBy('creative_id')
      .executeTakeFirstOrThrow();
    await db
      .deleteFrom('mmp_attribution')
      .where('os', '=', 'ios')
      .where('date', '=', ios.date)
      .where('campaign_id', '=', ios.campaign_id)
      .execute();
    await db
      .updateTable('mmp_attribution')
      .set({ installs: Number(android.installs) + 1 })
      .where('os', '=', 'android')
      .where('date', '=', android.date)
      .where('creative_id', '=', android.creative_id)
      .execute();

    const a = await auditMetrics(stack.sandbox, db, audit);
    assert.equal(a.delivery.missing, 1);
    assert.equal(a.delivery.differing, 1);
    assert.ok(a.delivery.examples.includes(`missing meta|${metaRow.ad_id}|${metaRow.date}`));
    assert.ok(
      a.delivery.examples.some((e) => e.startsWith(`tiktok|${tiktokRow.ad_id}|${tiktokRow.date}:`)),
    );
    assert.equal(a.attribution.missing, 1);
    assert.equal(a.attribution.differing, 1);
    assert.ok(a.attribution.examples.includes(`missing ${ios.date}|${ios.campaign_id}|||ios`));

    // A market whose run said it could not read a source is not counted there.
    const excused = await auditMetrics(stack.sandbox, db, {
      ...audit,
      excused: new Map([[metaRow.market, { delivery: true, attribution: false }]]),
    });
    assert.equal(excused.delivery.missing, 0);
    assert.ok(excused.deliveryRows < a.deliveryRows);

    // The next day's re-read repairs both.
    await ingest();
    const repaired = await auditMetrics(stack.sandbox, db, audit);
    assert.equal(repaired.delivery.missing + repaired.delivery.differing, 0);
    assert.equal(repaired.attribution.missing + repaired.attribution.differing, 0);
  });

  it('counts a Google asset’s day lost or stored with other numbers', async () => {
    const { db } = stack.database;
    const rows = await db
      .selectFrom('ad_metrics_daily')
      .selectAll()
      .where('platform', '=', 'google')
      .orderBy('date')
      .orderBy('ad_id')
      .execute();
    assert.ok(rows.length >= 2, 'Google delivered and adloop stored it');
    const [lost, changed] = [rows[0]!, rows.at(-1)!];
    await db
      .deleteFrom('ad_metrics_daily')
      .where('platform', '=', 'google')
      .where('ad_id', '=', lost.ad_id)
      .where('date', '=', lost.date)
      .execute();
    await db
      .updateTable('ad_metrics_daily')
      .set({ clicks: Number(changed.clicks) + 1 })
      .where('platform', '=', 'google')
      .where('ad_id', '=', changed.ad_id)
      .where('date', '=', changed.date)
      .execute();
    const a = await auditMetrics(stack.sandbox, db, audit);
    assert.equal(a.delivery.missing, 1);
    assert.equal(a.delivery.differing, 1);
    assert.ok(
      a.delivery.examples.includes(`missing google|${lost.ad_id}|${lost.date}`),
      a.delivery.examples.join('; '),
    );
    await ingest();
    const repaired = await auditMetrics(stack.sandbox, db, audit);
    assert.equal(repaired.delivery.missing + repaired.delivery.differing, 0);
  });

  it('finds Google’s objects once each, and counts an asset or a video made twice', () => {
    const { sandbox } = stack;
    const google = platformAds(sandbox).filter((a) => a.platform === 'google');
    assert.ok(
      google.some((a) => a.live),
      'the deployed image assets, linked to their app ads',
    );
    assert.equal(duplicateObjects(sandbox), 0);
    assert.equal(duplicateAds(platformAds(sandbox), none), 0);
    const customer = sandbox.world.google.customerId;
    const asset = sandbox.google.store.list('asset', customer)[0]!;
    const twin = sandbox.google.store.create(
      'asset',
      customer,
      { ...asset.fields, resource_name: `customers/${customer}/assets/twin` },
      DEPLOYED,
    );
    try {
      assert.equal(duplicateObjects(sandbox), 1, 'the asset made twice');
      // Linked nowhere, it still counts as an ad made twice.
      assert.equal(duplicateAds(platformAds(sandbox), none), 1);
      const channel = `UC${customer}`;
      sandbox.google.store.create(
        'youtube_video',
        channel,
        { title: `adloop/SE/creative/${H1}` },
        DEPLOYED,
      );
      sandbox.google.store.create(
        'youtube_video',
        channel,
        { title: `adloop/SE/creative/${H1}` },
        DEPLOYED,
      );
      assert.equal(duplicateObjects(sandbox), 2, 'and a video uploaded twice');
    } finally {
      twin.fields.name = 'removed from the audit';
    }
  });

  it('(c) counts rows adloop’s own clients mis-read, which reading through them would hide', async () => {
    const { db } = stack.database;
    // Three bugs a client could have: Meta's registration action missed, TikTok's last row of a
    // report lost (a paging bug), and Adjust's creative name taken for its id.
    let lostPages = 0;
    const deps: ActivityDeps = {
      ...stack.deps,
      meta: (id) => {
        const c = stack.deps.meta(id);
        return {
          ...c,
          insights: async (r) => (await c.insights(r)).map((x) => ({ ...x, registrations: 0 })),
        };
      },
      tiktok: (id) => {
        const c = stack.deps.tiktok!(id);
        return {
          ...c,
          insights: async (r) => {
            const rows = await c.insights(r);
            if (rows.length > 0) lostPages++;
            return rows.slice(0, -1);
          },
        };
      },
      mmp: {
        provider: 'adjust',
        attribution: async (range) =>
          (await stack.deps.mmp!.attribution(range)).map((x) =>
            x.aggregated ? x : { ...x, creativeId: x.creative },
          ),
      },
    };
    // The day as first read by the faulty clients (nothing stored before).
    await db.deleteFrom('ad_metrics_daily').execute();
    await db.deleteFrom('mmp_attribution').execute();
    await ingest(deps);

    // Expected from the sandbox's own records: every Meta row with registrations, every Android row.
    const today = stack.sandbox.clock.today();
    const metaWithRegistrations = platformDeliveries(stack.sandbox, '2026-03-01', '2026-03-03')
      .filter(({ row }) => row.platform === 'meta' && MARKETS.includes(row.market))
      .filter(
        ({ row }) =>
          asReported(row.delivery, today, stack.sandbox.world.truth.reportingDelayDays)
            .registrations > 0,
      ).length;
    const androidRows = (await db.selectFrom('mmp_attribution').select('os').execute()).filter(
      (r) => r.os === 'android',
    ).length;
    assert.ok(metaWithRegistrations > 0 && lostPages > 0 && androidRows > 0);

    const a = await auditMetrics(stack.sandbox, db, audit);
    assert.equal(a.delivery.missing, lostPages, 'one lost TikTok row per report read');
    assert.equal(a.delivery.differing, metaWithRegistrations);
    // Each Android row is stored under a key Adjust never reported: missing under its own.
    assert.equal(a.attribution.missing, androidRows);
    assert.equal(a.attribution.differing, 0);

    await ingest();
    const repaired = await auditMetrics(stack.sandbox, db, audit);
    assert.equal(repaired.delivery.missing + repaired.delivery.differing, 0);
    assert.equal(repaired.attribution.missing + repaired.attribution.differing, 0);
  });

  it('honours the Adjust delay fault as the Adjust server does, as a floor', async () => {
    const { db } = stack.database;
    const faults = stack.sandbox.mmp.faults.adjust;
    try {
      // Nothing stored yet: what Adjust says while three days behind is all there is.
      await db.deleteFrom('mmp_attribution').execute();
      faults.delayDays = 3;
      await ingest(stack.deps, 'attribution');
      // Audited with the fault still on (a scenario whose fault is what the MMP reports that
      // day): the partial rows stored are what Adjust said.
      const on = await auditMetrics(stack.sandbox, db, audit);
      assert.equal(on.attribution.missing + on.attribution.differing, 0);
      faults.delayDays = 0;
      // With it off, Adjust now says more than was stored, and the next read stores it.
      const off = await auditMetrics(stack.sandbox, db, audit);
      assert.ok(off.attribution.differing > 0);
      await ingest(stack.deps, 'attribution');
      const repaired = await auditMetrics(stack.sandbox, db, audit);
      assert.equal(repaired.attribution.missing + repaired.attribution.differing, 0);

      // Behind again, over days stored in full: adloop keeps the fuller rows. Told the MMP is
      // behind, the audit takes its answer as a floor; compared exactly, the rows differ.
      faults.delayDays = 3;
      await ingest(stack.deps, 'attribution');
      const floor = await auditMetrics(stack.sandbox, db, { ...audit, mmpBehind: true });
      assert.equal(floor.attribution.missing + floor.attribution.differing, 0);
      const exact = await auditMetrics(stack.sandbox, db, audit);
      assert.ok(exact.attribution.differing > 0, 'more stored than the late Adjust says');
      faults.delayDays = 0;
      const caughtUp = await auditMetrics(stack.sandbox, db, audit);
      assert.equal(caughtUp.attribution.missing + caughtUp.attribution.differing, 0);
    } finally {
      faults.delayDays = 0;
    }
  });
});
