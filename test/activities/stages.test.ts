// Stage activities on real parts (sandbox Graph API, PGlite, sharp), run in Temporal's mock
// activity context.
import { FAILURE } from '../../core/failures.ts';
import { MockActivityEnvironment } from '@temporalio/testing';
import { renderAll, typedRun } from '../helpers/activity.ts';
import assert from 'node:assert/strict';
import { addDays } from '../../core/dates.ts';
import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { createActivities, type Activities } from '../../activities/index.ts';
import { adSetName, metaAdName } from '../../core/ids.ts';
import type { RenderedCreative } from '../../core/types.ts';
import { findPlatformObject } from '../../db/creatives.repository.ts';
import { getRun, listStageEvents } from '../../db/runs.repository.ts';
import { sandboxAds, startTestStack, type TestStack } from '../helpers/stack.ts';

const RUN = 'market/SE/2026-03-01';
const input = { market: 'SE', date: '2026-03-01' };

describe('stage activities', () => {
  let stack: TestStack;
  let acts: Activities;
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: RUN, runId: 'r1' } });
  let creatives: RenderedCreative[];
  // MockActivityEnvironment.run does not infer the result type; this keeps the tests typed.
  const run = typedRun(env);

  before(async () => {
    stack = await startTestStack();
    acts = createActivities(stack.deps);
    await run(acts.startMarketRun, input);
  });
  after(async () => stack?.close());

  it('ingests the catalog and ranks on popularity before any delivery', async () => {
    assert.ok((await run(acts.ingestCatalog, input)).artists > 10);
    assert.deepEqual(await run(acts.ingestPlatformMetrics, input), {
      rows: 0,
      since: addDays(input.date, -3), // the lookback: nothing read before
    });
    const { ranking, selected } = await run(acts.rankMarket, {
      ...input,
      metricsAvailable: true,
    });
    assert.equal(ranking.source, 'computed');
    assert.equal(selected.length, 3);
    assert.equal(ranking.items.length, 9);
    assert.deepEqual(
      ranking.items.map((i) => i.rank),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.equal(
      new Set(selected.map((s) => s.artistId)).size,
      3,
      'diversity: three different artists',
    );
  });

  it('renders every configured ratio per item, records its assets and QA, and never renders twice', async () => {
    const { selected } = await run(acts.rankMarket, { ...input, metricsAvailable: true });
    creatives = await renderAll(run, acts, { ...input, items: selected });
    assert.equal(creatives.length, 3);
    const db = stack.database.db;
    const stored = await db.selectFrom('creatives').selectAll().execute();
    assert.ok(
      stored.every((c) => c.asset_uri === pathToFileURL(c.path).href && c.qa_passed === true),
      'asset URIs point at the files, and QA passed',
    );
    const assets = await db.selectFrom('creative_assets').selectAll().orderBy('ratio').execute();
    assert.equal(assets.length, 3 * 2, 'the stack renders statics in 1:1 and 9:16');
    for (const a of assets) {
      const meta = await sharp(fileURLToPath(a.uri)).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.deepEqual(
        [meta.width, meta.height],
        a.ratio === '1:1' ? [1080, 1080] : [1080, 1920],
        `${a.ratio} size`,
      );
      assert.deepEqual(a.qa_findings, []);
    }
    for (const c of creatives) {
      // Deploy uploads the feed (1:1) still, straight from the store.
      assert.match(c.assetKey ?? '', /^[0-9a-f]{24}\/1x1-static\.jpg$/);
      assert.ok(c.adText && c.adText.message.length > 0 && c.adText.headline.length > 0);
    }
    const run1 = await db.selectFrom('run_creatives').selectAll().orderBy('position').execute();
    assert.deepEqual(
      run1.map((r) => [r.creative_hash, r.deployable]),
      creatives.map((c) => [c.hash, true]),
    );
    const mtimes = assets.map((a) => fs.statSync(fileURLToPath(a.uri)).mtimeMs);
    const again = await renderAll(run, acts, { ...input, items: selected });
    assert.deepEqual(again, creatives);
    const templates = await db.selectFrom('templates').selectAll().execute();
    assert.deepEqual(
      templates.map((t) => t.id).sort(),
      [...new Set(creatives.map((c) => c.templateId))].sort(),
      'each template version used is recorded',
    );
    assert.deepEqual(
      assets.map((a) => fs.statSync(fileURLToPath(a.uri)).mtimeMs),
      mtimes,
      'cache hit: files untouched',
    );
  });

  it('deploys once on both platforms: a repeated deploy reuses every ad', async () => {
    const first = await run(acts.deployCreatives, { ...input, creatives });
    assert.deepEqual([first.created, first.reused, first.paused, first.adIds.length], [6, 0, 0, 6]);
    const second = await run(acts.deployCreatives, { ...input, creatives });
    assert.deepEqual([second.created, second.reused, second.adIds], [0, 6, first.adIds]);
    assert.equal(sandboxAds(stack.sandbox).length, 3);
  });

  it('learns CTR and CPR per creative from the platform', async () => {
    const learned = await run(acts.learnFromResults, input);
    assert.equal(learned.creatives, 3);
    const stored = Number(
      (
        await stack.database.db
          .selectFrom('creative_performance')
          .select((eb) => eb.fn.sum<number>('spend_micros').as('s'))
          .executeTakeFirstOrThrow()
      ).s,
    );
    assert.ok(stored > 0);
    // SE runs on the demo world's EUR account: stored in EUR, summed as is.
    assert.equal(learned.reportingCurrency, 'EUR');
    assert.equal(learned.spendMicros, stored, 'the SE account spends EUR, the reporting currency');
    // Reported in another currency, the same spend is converted (0.92 EUR per USD).
    const inUsd = await run(
      createActivities({
        ...stack.deps,
        config: { ...stack.deps.config, REPORTING_CURRENCY: 'USD' },
      }).learnFromResults,
      input,
    );
    assert.equal(inUsd.reportingCurrency, 'USD');
    assert.ok(
      Math.abs(inUsd.spendMicros - stored / 0.92) <= 3,
      `EUR ${stored} is USD ${stored / 0.92}, not ${inUsd.spendMicros}`,
    );
    assert.ok(learned.impressions > 0 && learned.clicks > 0 && learned.registrations > 0);
    const perf = await stack.database.db.selectFrom('creative_performance').selectAll().execute();
    for (const p of perf) {
      assert.ok(Math.abs(p.ctr! - p.clicks / p.impressions) < 1e-12);
      assert.ok(Math.abs(p.cpr_micros! - p.spend_micros / p.registrations) < 1e-6);
    }
    assert.ok(
      await findPlatformObject(stack.database.db, {
        platform: 'meta',
        kind: 'adset',
        name: adSetName('SE', { os: 'android', objective: 'installs' }),
      }),
      'the ad set deploy made is on record, named by its store and objective',
    );
  });

  it('records every stage attempt in the audit log', async () => {
    const events = await listStageEvents(stack.database.db, RUN);
    const stages = new Set(events.map((e) => e.stage));
    assert.deepEqual([...stages].sort(), ['deploy', 'ingest', 'learn', 'rank', 'render']);
    assert.ok(events.every((e) => e.event === 'started' || e.event === 'completed'));
    assert.equal((await getRun(stack.database.db, RUN))!.status, 'running');
  });

  it('turns a rejected token into a non-retryable failure', async () => {
    const bad = await startTestStack({ accessToken: 'revoked-token' });
    try {
      const badActs = createActivities(bad.deps);
      await run(badActs.startMarketRun, input);
      await run(badActs.ingestCatalog, input);
      const { selected } = await run(badActs.rankMarket, { ...input, metricsAvailable: true });
      const rendered = await renderAll(run, badActs, { ...input, items: selected });
      await assert.rejects(
        env.run(badActs.deployCreatives, { ...input, creatives: rendered }),
        (e: Error & { type?: string; nonRetryable?: boolean }) => {
          assert.equal(e.type, FAILURE.platformAuth);
          assert.equal(e.nonRetryable, true);
          assert.doesNotMatch(e.message, /revoked-token/);
          return true;
        },
      );
      const failed = (await listStageEvents(bad.database.db, RUN)).filter(
        (e) => e.event === 'failed',
      );
      assert.equal(failed.length, 1);
      assert.equal(failed[0]!.stage, 'deploy');
    } finally {
      await bad.close();
    }
  });
});

describe('metrics ingest lookback', () => {
  it('re-reads recent days, so late data updates the stored day and a re-read changes nothing', async () => {
    const stack = await startTestStack({ date: '2026-03-01' });
    try {
      const acts = createActivities(stack.deps);
      const env = new MockActivityEnvironment({
        workflowExecution: { workflowId: RUN, runId: 'r1' },
      });
      const run = typedRun(env);
      await run(acts.startMarketRun, input);
      await run(acts.ingestCatalog, input);
      const { selected } = await run(acts.rankMarket, { ...input, metricsAvailable: true });
      const creatives = await renderAll(run, acts, { ...input, items: selected });
      await run(acts.deployCreatives, { ...input, creatives });
      // The platform finalises a day only a day later.
      stack.sandbox.world.truth.reportingDelayDays = 1;
      const day = async () =>
        (
          await stack.database.db
            .selectFrom('ad_metrics_daily')
            .select((eb) => eb.fn.sum<number>('impressions').as('n'))
            .where('date', '=', '2026-03-01')
            .executeTakeFirstOrThrow()
        ).n;
      stack.sandbox.clock.set('2026-03-01');
      await run(acts.ingestPlatformMetrics, { market: 'SE', date: '2026-03-02' }); // reads 03-01 early: partial
      const partial = Number(await day());
      stack.sandbox.clock.set('2026-03-03');
      await run(acts.ingestPlatformMetrics, { market: 'SE', date: '2026-03-03' }); // 03-01 is in the lookback
      const final = Number(await day());
      assert.ok(partial > 0 && final > partial, `${partial} -> ${final}`);
      const account = await stack.database.db
        .selectFrom('ad_accounts')
        .selectAll()
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [account.platform, account.account_id, account.currency, account.time_zone],
        // demo.json runs SE on act_1000000001, an EUR account in Stockholm time.
        ['meta', 'act_1000000001', 'EUR', 'Europe/Stockholm'],
        'report days are read as the account’s calendar days, and its zone is on record',
      );
      await run(acts.ingestPlatformMetrics, { market: 'SE', date: '2026-03-03' });
      assert.equal(Number(await day()), final);
    } finally {
      await stack.close();
    }
  });
});

describe('report days in the account’s time zone', () => {
  it('does not read a day the account’s own time zone has not finished yet', async () => {
    const stack = await startTestStack({ date: '2026-03-01' });
    try {
      // BR runs on act_1000000002, in America/Sao_Paulo (UTC-3).
      let now = new Date('2026-03-01T12:00:00Z');
      const acts = createActivities({ ...stack.deps, clock: () => now });
      const br = { market: 'BR', date: '2026-03-01' };
      const env = new MockActivityEnvironment({
        workflowExecution: { workflowId: 'market/BR/2026-03-01', runId: 'r1' },
      });
      const run = typedRun(env);
      await run(acts.startMarketRun, br);
      await run(acts.ingestCatalog, br);
      const { selected } = await run(acts.rankMarket, { ...br, metricsAvailable: true });
      const creatives = await renderAll(run, acts, { ...br, items: selected });
      await run(acts.deployCreatives, { ...br, creatives });
      stack.sandbox.clock.set('2026-03-03');
      const lastDay = async (platform: string) =>
        (
          await stack.database.db
            .selectFrom('ad_metrics_daily')
            .select((eb) => eb.fn.max<string>('date').as('last'))
            .where('market', '=', 'BR')
            .where('platform', '=', platform)
            .executeTakeFirstOrThrow()
        ).last;
      // The market's 06:00 run of 03-03 is 02:00 UTC: still 23:00 on 03-02 in São Paulo, so the
      // account's 03-02 is not over and only 03-01 is read; TikTok's advertiser runs on UTC.
      now = new Date('2026-03-03T02:00:00Z');
      await run(acts.ingestPlatformMetrics, { market: 'BR', date: '2026-03-03' });
      assert.equal(await lastDay('meta'), '2026-03-01');
      assert.equal(await lastDay('tiktok'), '2026-03-02');
      // Later that day São Paulo's 03-02 is over too.
      now = new Date('2026-03-03T12:00:00Z');
      await run(acts.ingestPlatformMetrics, { market: 'BR', date: '2026-03-03' });
      assert.equal(await lastDay('meta'), '2026-03-02');
    } finally {
      await stack.close();
    }
  });
});

describe('TikTok metrics ingest', () => {
  it('reads the market’s TikTok ad group by adloop’s naming and stores its ads’ days', async () => {
    const stack = await startTestStack({ date: '2026-03-01' });
    try {
      const tiktok = stack.tiktokOf('SE');
      const campaignId = await tiktok.createCampaign({ name: 'adloop/SE' });
      // Named as deploy names the Android store's ad group; the database has no record of it.
      const adGroupId = await tiktok.createAdGroup({
        name: adSetName('SE', { os: 'android', objective: 'installs' }),
        campaignId,
        country: 'SE',
        dailyBudget: 50_000,
        os: 'android',
        appId: stack.sandbox.world.tiktok.appIds.android,
      });
      const png = await sharp({
        create: { width: 1080, height: 1920, channels: 3, background: '#203040' },
      })
        .png()
        .toBuffer();
      const { imageId } = await tiktok.uploadImage(png, 'tall.png');
      const hash = 'abcdef0123456789abcdef01';
      const adId = await tiktok.createAd({
        name: metaAdName('SE', hash),
        adGroupId,
        imageId,
        identity: { type: 'CUSTOMIZED_USER', id: stack.sandbox.world.tiktok.identityId },
        landingPageUrl: 'https://listen.adloop.example/artist/a01?utm_content=a01.spotlight',
        text: 'Listen',
      });
      // adloop creates everything paused; deploy switches it on at the end.
      await tiktok.setAdStatuses([adId], 'ENABLE');
      await tiktok.setAdGroupStatus([adGroupId], 'ENABLE');
      await tiktok.setCampaignStatus([campaignId], 'ENABLE');
      stack.sandbox.clock.set('2026-03-03');
      const env = new MockActivityEnvironment({
        workflowExecution: { workflowId: RUN, runId: 'r' },
      });
      const run = typedRun(env);
      await run(createActivities(stack.deps).startMarketRun, input);
      const r = await run(createActivities(stack.deps).ingestPlatformMetrics, {
        market: 'SE',
        date: '2026-03-03',
      });
      const rows = await stack.database.db
        .selectFrom('ad_metrics_daily')
        .selectAll()
        .where('platform', '=', 'tiktok')
        .orderBy('date')
        .execute();
      assert.equal(r.rows, rows.length);
      assert.deepEqual(
        rows.map((x) => x.date),
        ['2026-03-01', '2026-03-02'],
      );
      assert.ok(
        rows.every(
          (x) =>
            x.creative_hash === hash &&
            x.currency === 'USD' &&
            x.impressions > 0 &&
            x.market === 'SE',
        ),
      );
    } finally {
      await stack.close();
    }
  });
});
