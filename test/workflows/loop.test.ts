// The daily loop on a real Temporal dev server with the real activities over the sandbox:
// three markets end to end, a second day that learns from the first, a third day on which the
// platform's reporting is down and each market falls back to its previous ranking, and a day Meta
// is down altogether, whose deploy is skipped.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { dailyLoopWorkflowId, marketLoopWorkflowId, parseAdName } from '../../core/ids.ts';
import { POLICY } from '../../core/search-attributes.ts';
import type { DailyLoopResult } from '../../core/types.ts';
import { getRanking } from '../../db/rankings.repository.ts';
import { getRun, listStageEvents } from '../../db/runs.repository.ts';
import { dailyLoop } from '../../workflows/index.ts';
import { startLoopWorkers, testEnvironment } from '../helpers/temporal.ts';
import { allocationOn } from '../../db/budgets.repository.ts';
import { sandboxAds, startTestStack, type TestStack } from '../helpers/stack.ts';

const MARKETS = ['SE', 'DE', 'EG'];

describe('daily loop on a real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let stack: TestStack;
  // Rendering runs on its own queue and worker, as in production.
  let workers: Awaited<ReturnType<typeof startLoopWorkers>>;
  const results: Record<string, DailyLoopResult> = {};

  async function runDay(date: string) {
    stack.sandbox.clock.set(date);
    results[date] = await env.client.workflow.execute(dailyLoop, {
      workflowId: dailyLoopWorkflowId(date),
      taskQueue: workers.taskQueue,
      args: [{ date, markets: MARKETS, renderTaskQueue: workers.renderTaskQueue }],
    });
    return results[date];
  }

  before(async () => {
    env = await testEnvironment();
    // Budgets follow results: the day's allocation runs before the markets.
    stack = await startTestStack({ date: '2026-03-01', allocate: true });
    workers = await startLoopWorkers(env, stack.deps, 'loop');
  });
  after(async () => {
    await workers?.stop();
    await stack?.close();
    await env?.teardown();
  });

  it('runs every stage for every market, rendering on the render queue, and leaves live ads', async () => {
    const r = await runDay('2026-03-01');
    assert.deepEqual(
      r.markets.map((m) => [m.market, m.status]),
      MARKETS.map((m) => [m, 'completed']),
    );
    // One allocation for the day, over every market the accounts run on Meta and TikTok, that
    // each market's deploy applied.
    for (const m of r.markets) assert.ok(m.deploy!.budgets?.enabled, JSON.stringify(m.deploy));
    const day1 = await allocationOn(stack.database.db, '2026-03-01');
    assert.equal(day1.length, 2 * 4);
    for (const m of r.markets) {
      assert.equal(m.fallbackUsed, false);
      // Three ads on each of Meta and TikTok.
      assert.equal(m.deploy!.created, 6);
      assert.equal(m.deploy!.adIds.length, 6);
      assert.equal(m.deploy!.platforms?.tiktok?.adIds.length, 3);
      assert.ok(m.learn!.impressions > 0);
    }
    const ads = sandboxAds(stack.sandbox);
    for (const market of MARKETS) {
      assert.equal(
        ads.filter((a) => parseAdName(a.name)?.market === market && a.status === 'ACTIVE').length,
        3,
      );
    }
    const db = stack.database.db;
    const run1 = await db
      .selectFrom('run_creatives')
      .selectAll()
      .where('date', '=', '2026-03-01')
      .execute();
    assert.equal(run1.length, 9);
    assert.ok(run1.every((r) => r.deployable));
    const assets = await db
      .selectFrom('creative_assets')
      .selectAll()
      .where(
        'creative_hash',
        'in',
        run1.map((r) => r.creative_hash),
      )
      .execute();
    assert.equal(assets.length, 9 * 2, 'statics in 1:1 and 9:16');
    for (const a of assets) assert.ok(fs.existsSync(new URL(a.uri)), a.uri);
    for (const market of MARKETS) {
      const run = await getRun(stack.database.db, marketLoopWorkflowId(market, '2026-03-01'));
      assert.equal(run!.status, 'completed');
      const events = await listStageEvents(stack.database.db, run!.id);
      assert.deepEqual(
        [...new Set(events.filter((e) => e.event === 'completed').map((e) => e.stage))],
        ['ingest', 'rank', 'render', 'deploy', 'learn'],
      );
    }
  });

  it('ranks the next day on what it learned, without duplicating ads', async () => {
    const r = await runDay('2026-03-02');
    assert.ok(r.markets.every((m) => m.status === 'completed' && !m.fallbackUsed));
    // The second day's budgets moved on the first day's delivery, and deploy applied them.
    const budgets = r.markets[0]!.deploy!.budgets;
    assert.ok(budgets?.enabled && budgets.changed > 0, JSON.stringify(budgets));
    assert.ok(r.markets.some((m) => (m.deploy!.budgetChanges ?? 0) > 0));
    const ranking = await getRanking(stack.database.db, 'SE', '2026-03-02');
    const shares = new Set(ranking!.items.map((i) => i.reasons.registrationShare));
    assert.ok(shares.size > 1, 'registration share differs between artists once there is delivery');
    const names = sandboxAds(stack.sandbox).map((a) => a.name);
    assert.equal(new Set(names).size, names.length, 'no ad name appears twice');
  });

  it('falls back to the previous ranking when platform metrics cannot be ingested', async () => {
    stack.sandbox.meta.faults.insightsDown = true;
    try {
      const r = await runDay('2026-03-03');
      for (const m of r.markets) {
        assert.equal(m.status, 'completed');
        assert.equal(m.fallbackUsed, true);
        assert.equal(m.ranking.source, 'fallback-previous');
        assert.equal(m.learn, null, 'learning is skipped while reporting is down');
      }
      const today = await getRanking(stack.database.db, 'SE', '2026-03-03');
      const before = await getRanking(stack.database.db, 'SE', '2026-03-02');
      assert.equal(today!.basedOn, '2026-03-02');
      assert.deepEqual(today!.items, before!.items);
      const run = await getRun(stack.database.db, marketLoopWorkflowId('SE', '2026-03-03'));
      assert.equal(run!.fallback_used, true);
      const failedIngests = (await listStageEvents(stack.database.db, run!.id)).filter(
        (e) => e.stage === 'ingest' && e.event === 'failed',
      );
      assert.equal(failedIngests.length, 4, 'the metrics ingest was retried before falling back');
      assert.ok(run!.degraded_reasons.some((r) => r.startsWith('platform metrics unavailable')));
      assert.ok(run!.degraded_reasons.some((r) => r.startsWith('learn skipped')));
      assert.ok(r.markets.every((m) => (m.degraded ?? []).length >= 2));
      // The degraded day wrote no learning snapshot; the last good one is still what ranking reads.
      const snapshots = await stack.database.db
        .selectFrom('creative_performance')
        .select('as_of')
        .distinct()
        .where('market', '=', 'SE')
        .orderBy('as_of')
        .execute();
      assert.deepEqual(
        snapshots.map((x) => x.as_of),
        ['2026-03-01', '2026-03-02'],
      );
      const kept = await stack.database.db
        .selectFrom('creative_performance')
        .selectAll()
        .where('market', '=', 'SE')
        .where('as_of', '=', '2026-03-02')
        .execute();
      assert.ok(
        kept.length > 0 && kept.every((k) => k.relative_cpr !== null || k.registrations === 0),
      );
    } finally {
      stack.sandbox.meta.faults.insightsDown = false;
    }
  });

  it('makes runs filterable by Market and Stage in visibility', async () => {
    // This test's runs (other tests run the same market-days on the shared server).
    const query = `Market = "SE" AND Stage = "done" AND WorkflowId STARTS_WITH "market/SE/2026-03-0" AND TaskQueue = "${workers.taskQueue}"`;
    let ids: string[] = [];
    for (let i = 0; i < 50 && ids.length < 3; i++) {
      ids = [];
      for await (const w of env.client.workflow.list({ query })) ids.push(w.workflowId);
      if (ids.length < 3) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(ids.sort(), [
      'market/SE/2026-03-01',
      'market/SE/2026-03-02',
      'market/SE/2026-03-03',
    ]);
  });

  it('marks each run with its policy arm and whether it was degraded', async () => {
    const list = async (query: string, want: number) => {
      let ids: string[] = [];
      for (let i = 0; i < 50 && ids.length < want; i++) {
        ids = [];
        for await (const w of env.client.workflow.list({ query })) ids.push(w.workflowId);
        if (ids.length < want) await new Promise((r) => setTimeout(r, 200));
      }
      return ids.sort();
    };
    const se = `Market = "SE" AND WorkflowId STARTS_WITH "market/SE/2026-03-0" AND TaskQueue = "${workers.taskQueue}"`;
    assert.deepEqual(await list(`${se} AND Degraded = true`, 1), ['market/SE/2026-03-03']);
    assert.deepEqual(await list(`${se} AND Degraded = false`, 2), [
      'market/SE/2026-03-01',
      'market/SE/2026-03-02',
    ]);
    // Policy is the arm the ranking actually ran (heuristic until a model is trained).
    for (const date of ['2026-03-01', '2026-03-02', '2026-03-03']) {
      const d = await env.client.workflow.getHandle(marketLoopWorkflowId('SE', date)).describe();
      const ranking = await getRanking(stack.database.db, 'SE', date);
      assert.equal(d.typedSearchAttributes.get(POLICY), ranking!.policy, date);
    }
  });

  it('keeps secrets out of workflow histories', async () => {
    for (const id of [
      dailyLoopWorkflowId('2026-03-01'),
      marketLoopWorkflowId('SE', '2026-03-01'),
    ]) {
      const history = await env.client.workflow.getHandle(id).fetchHistory();
      const text = JSON.stringify(history);
      assert.ok(
        !text.includes(stack.sandbox.credentials.accessToken),
        `${id} history holds no token`,
      );
    }
  });

  it('skips the deploy to a platform down all day, still deploys to the other, and the market completes', async () => {
    const day = '2026-03-10';
    const adsBefore = sandboxAds(stack.sandbox);
    stack.sandbox.meta.faults.downDates = [day];
    try {
      const r = await runDay(day);
      for (const m of r.markets) {
        assert.equal(m.status, 'completed', m.market);
        assert.equal(m.fallbackUsed, true, 'ranked from the previous ranking');
        // TikTok is up: it gets today's ads, deployed on its own once the deploy to both failed.
        assert.equal(m.deploy?.platforms?.meta, undefined, 'nothing deployed to Meta');
        assert.equal(m.deploy?.platforms?.tiktok?.adIds.length, 3, 'TikTok deployed');
        assert.ok(
          m.degraded!.some((d) =>
            /^deploy to meta failed: .*its ads already live keep running$/.test(d),
          ),
          m.degraded!.join('; '),
        );
      }
      const run = await getRun(stack.database.db, marketLoopWorkflowId('SE', day));
      assert.equal(run!.status, 'completed');
      // Yesterday's Meta ads are as they were: nothing was paused, archived or made.
      assert.deepEqual(sandboxAds(stack.sandbox), adsBefore);
    } finally {
      stack.sandbox.meta.faults.downDates = [];
    }
  });
});
