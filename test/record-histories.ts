// Records the workflow histories the replay test checks (test/histories/*-<version>.json). Run it
// when a workflow changes on purpose, after making the change replay-safe (patched()): bump
// VERSION, keep the older files (they prove old runs still replay), and commit both. Files are
// removed only at a versioned cut-over (docs/reliability.md), with the reason below.
//   npm run record-histories
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import fs from 'node:fs';
import path from 'node:path';
import { dailyLoopWorkflowId, marketLoopWorkflowId } from '../core/ids.ts';
import { dailyLoop } from '../workflows/index.ts';
import {
  approveDeploy,
  getMarketStatus,
  pauseMarket,
  resumeMarket,
} from '../workflows/messages.ts';
import { runRecordedBackfill } from './helpers/outage.ts';
import { startTestStack } from './helpers/stack.ts';
import {
  createRenderTestWorker,
  createTestWorker,
  testEnvironment,
  uniqueTaskQueue,
} from './helpers/temporal.ts';

const OUT = path.resolve(import.meta.dirname, 'histories');
/**
 * v2: the market loop ingests MMP attribution (patch `ingest-attribution`).
 * v3: the daily loop trains the ranking model after its markets (patch `train-ranking-model`).
 * v4: the market loop renders each creative on the render task queue (patch `render-queue`).
 * v5: the market loop plans its deploy first and, where the market requires it, waits for an
 *     approval signal (patch `deploy-plan`); EG's recorded run is approved.
 * v6: the market loop sets the Policy and Degraded search attributes
 *     (patch `search-attributes-policy-degraded`).
 * v7: the market loop reads the market's pause at start and takes pause / resume (patch
 *     `market-control`); SE's first day is paused at once and resumed once it holds
 *     (market-loop-paused), and a schedule's run is recorded (scheduled-market-loop).
 * v8: recorded after a pause that stops an approved deploy started to ask for approval again
 *     (same commands on these paths); every workflow type now has a history: the training
 *     schedule's run (scheduled-training) and a report (report-data) too.
 * v9: a deploy that fails for good no longer fails the market: it is skipped, degraded, and learn
 *     still runs (patch `deploy-failure-degrades`); the fallback day has Meta down all day, so
 *     market-loop-fallback records both. Stage activities heartbeat (options only).
 * v10: a token a platform refuses degrades the market instead of failing it (patch
 *     `auth-failure-degrades`): on a third day TikTok has revoked the token, so ingest cannot read
 *     its metrics and deploy fails on it; SE's run is recorded (market-loop-token-refused). Markets
 *     run on the accounts file (two Meta ad accounts), ad sets per store, created paused.
 * v11: cut-over. The patches of v2..v7 are retired with deprecatePatch() (their new branch is
 *     the only one, the one-activity `renderCreatives` is gone) and the market loop is split into
 *     market-control.ts, render-stage.ts and deploy-stage.ts with the same commands. v1..v6
 *     were removed: they were recorded before `market-control` (and the earlier patches), so they
 *     took branches that no longer exist; a run of that code lasted one day and none can still be
 *     open. v7..v10 replay unchanged.
 * v12: one platform down no longer skips the other's deploy (patch `deploy-each-platform-alone`):
 *     on the fallback day Meta is down all day and TikTok is deployed alone; a database that stays
 *     down through deploy's retries is waited for (patch `deploy-waits-for-database`, on no
 *     recorded path). Retryable platform failures carry their platform in their details. New
 *     workflows, recorded after the loop on a stack of their own: the metrics backfill
 *     (`metricsBackfill` and its market's `backfillMarket`) after an MMP outage longer than the
 *     lookback (test/helpers/outage.ts).
 */
const VERSION = 'v12';
const env = await testEnvironment();
const stack = await startTestStack({
  date: '2026-01-05',
  deploy: { DEPLOY_APPROVAL_MARKETS: ['EG'], DEPLOY_APPROVAL_TIMEOUT: 120_000 },
});
const taskQueue = uniqueTaskQueue('record');
const renderTaskQueue = uniqueTaskQueue('record-render');
const worker = await createTestWorker(env, taskQueue, stack.deps);
const renderWorker = await createRenderTestWorker(env, renderTaskQueue, stack.deps.renderer);
const rendering = renderWorker.run();
try {
  await worker.runUntil(async () => {
    const run = (date: string) =>
      env.client.workflow.execute(dailyLoop, {
        workflowId: dailyLoopWorkflowId(date),
        taskQueue,
        args: [{ date, markets: ['SE', 'EG'], renderTaskQueue }],
      });
    // EG waits for approval: approve it as soon as it asks.
    const approving = (async () => {
      const handle = env.client.workflow.getHandle(marketLoopWorkflowId('EG', '2026-01-05'));
      for (;;) {
        const status = await handle.query(getMarketStatus).catch(() => null);
        if (status?.stage === 'awaiting-approval') {
          await handle.signal(approveDeploy, { by: 'record-histories', note: 'recorded run' });
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    // SE is paused as soon as it runs and resumed once it holds before its deploy.
    const pausing = (async () => {
      const handle = env.client.workflow.getHandle(marketLoopWorkflowId('SE', '2026-01-05'));
      let paused = false;
      for (;;) {
        const status = await handle.query(getMarketStatus).catch(() => null);
        if (status && !paused) {
          await handle.signal(pauseMarket, { by: 'record-histories', reason: 'recorded pause' });
          paused = true;
        }
        if (status?.holding) {
          await handle.signal(resumeMarket, { by: 'record-histories' });
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await run('2026-01-05');
    await approving;
    await pausing;
    stack.sandbox.clock.set('2026-01-06');
    // The fallback path: Meta is down all day, so ingest falls back to the previous ranking and
    // deploy, its retries exhausted, is skipped (yesterday's ads keep running).
    stack.sandbox.meta.faults.downDates = ['2026-01-06'];
    await run('2026-01-06');
    stack.sandbox.meta.faults.downDates = [];
    // A revoked TikTok token: the run says so and stays Degraded, yesterday's ads keep running.
    stack.sandbox.clock.set('2026-01-07');
    stack.sandbox.tiktok.faults.tokenRevoked = true;
    await run('2026-01-07');
    stack.sandbox.tiktok.faults.tokenRevoked = false;
    // What a market's schedule starts (here by hand: dated by its start time in the time zone).
    await env.client.workflow.execute('scheduledMarketLoop', {
      workflowId: 'scheduled/SE-recorded',
      taskQueue,
      args: [{ market: 'SE', timeZone: 'Europe/Stockholm', renderTaskQueue }],
    });
    await env.client.workflow.execute('scheduledTraining', {
      workflowId: 'scheduled/training-recorded',
      taskQueue,
      args: [{ timeZone: 'UTC' }],
    });
    await env.client.workflow.execute('reportData', {
      workflowId: 'report/recorded',
      taskQueue,
      args: [{ from: '2026-01-01', to: '2026-01-06', currency: 'EUR' }],
    });
  });
  const backfill = await runRecordedBackfill(env);
  const save = async (file: string, workflowId: string) => {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    fs.writeFileSync(path.join(OUT, file), historyToJSON(history) + '\n');
    console.log(`wrote test/histories/${file} (${history.events?.length ?? 0} events)`);
  };
  fs.mkdirSync(OUT, { recursive: true });
  await save(`daily-loop-${VERSION}.json`, dailyLoopWorkflowId('2026-01-05'));
  await save(`market-loop-${VERSION}.json`, marketLoopWorkflowId('EG', '2026-01-05'));
  await save(`market-loop-fallback-${VERSION}.json`, marketLoopWorkflowId('SE', '2026-01-06'));
  await save(`market-loop-paused-${VERSION}.json`, marketLoopWorkflowId('SE', '2026-01-05'));
  await save(`market-loop-token-refused-${VERSION}.json`, marketLoopWorkflowId('SE', '2026-01-07'));
  await save(`scheduled-market-loop-${VERSION}.json`, 'scheduled/SE-recorded');
  await save(`scheduled-training-${VERSION}.json`, 'scheduled/training-recorded');
  await save(`report-data-${VERSION}.json`, 'report/recorded');
  await save(`metrics-backfill-${VERSION}.json`, backfill.backfill);
  await save(`backfill-market-${VERSION}.json`, backfill.market);
} finally {
  renderWorker.shutdown();
  await rendering;
  await stack.close();
  await env.teardown();
}
process.exit(0);
