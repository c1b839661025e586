// Records the workflow histories the replay test checks (test/histories/*-<version>.json). Run it
// when a workflow changes on purpose, after making the change replay-safe (patched()): bump
// VERSION, keep the older files (they prove old runs still replay), and commit both.
//   npm run record-histories
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import fs from 'node:fs';
import path from 'node:path';
import { dailyLoopWorkflowId, marketLoopWorkflowId } from '../core/ids.ts';
import { dailyLoop } from '../workflows/index.ts';
import { approveDeploy, getMarketStatus } from '../workflows/messages.ts';
import { startTestStack } from '../test/helpers/stack.ts';
import {
  createRenderTestWorker,
  createTestWorker,
  testEnvironment,
  uniqueTaskQueue,
} from '../test/helpers/temporal.ts';

const OUT = path.resolve(import.meta.dirname, '../test/histories');
/**
 * v2: the market loop ingests MMP attribution (patch `ingest-attribution`).
 * v3: the daily loop trains the ranking model after its markets (patch `train-ranking-model`).
 * v4: the market loop renders each creative on the render task queue (patch `render-queue`).
 * v5: the market loop plans its deploy first and, where the market requires it, waits for an
 *     approval signal (patch `deploy-plan`); EG's recorded run is approved.
 * v6: the market loop sets the Policy and Degraded search attributes
 *     (patch `search-attributes-policy-degraded`).
 */
const VERSION = 'v6';
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
    await run('2026-01-05');
    await approving;
    stack.sandbox.clock.set('2026-01-06');
    stack.sandbox.meta.faults.insightsDown = true; // the fallback path
    await run('2026-01-06');
  });
  const save = async (file: string, workflowId: string) => {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    fs.writeFileSync(path.join(OUT, file), historyToJSON(history) + '\n');
    console.log(`wrote test/histories/${file} (${history.events?.length ?? 0} events)`);
  };
  fs.mkdirSync(OUT, { recursive: true });
  await save(`daily-loop-${VERSION}.json`, dailyLoopWorkflowId('2026-01-05'));
  await save(`market-loop-${VERSION}.json`, marketLoopWorkflowId('EG', '2026-01-05'));
  await save(`market-loop-fallback-${VERSION}.json`, marketLoopWorkflowId('SE', '2026-01-06'));
} finally {
  renderWorker.shutdown();
  await rendering;
  await stack.close();
  await env.teardown();
}
process.exit(0);
