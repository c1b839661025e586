// The Temporal side of tests: a real dev server (shared one from `npm test`, or one spawned here
// from the CLI binary), and a worker over the real workflows with injected activities.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  Runtime,
  DefaultLogger,
  Worker,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { createActivities, type ActivityDeps } from '../../activities/index.ts';
import { createRenderWorkerActivities } from '../../activities/render/render.ts';
import { ALL_SEARCH_ATTRIBUTES } from '../../core/search-attributes.ts';
import { ensureTemporalCli } from '../../scripts/lib/temporal-cli.ts';
import { WORKFLOWS_PATH } from '../../workers/loop-worker.ts';

let runtimeInstalled = false;
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

export async function testEnvironment(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (address) return TestWorkflowEnvironment.createFromExistingServer({ address });
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await ensureTemporalCli() },
      ip: '127.0.0.1',
      ui: false,
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | null = null;
/** The workflow bundle, built once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  quietRuntime();
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

export const uniqueTaskQueue = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

export async function createTestWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  deps: ActivityDeps,
  options: Partial<WorkerOptions> = {},
) {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(deps),
    ...options,
  });
}

/** A render worker as `npm run worker:render` builds it: only renderCreative, on its own queue. */
export async function createRenderTestWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  renderer: ActivityDeps['renderer'],
  options: Partial<WorkerOptions> = {},
) {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: createRenderWorkerActivities({ renderer }),
    ...options,
  });
}

/**
 * A loop worker and a render worker on fresh queues, running until `stop()`: what the workflow
 * tests start the loop on.
 */
export async function startLoopWorkers(
  env: TestWorkflowEnvironment,
  deps: ActivityDeps,
  name: string,
  options: Partial<WorkerOptions> = {},
) {
  const taskQueue = uniqueTaskQueue(`${name}-loop`);
  const renderTaskQueue = uniqueTaskQueue(`${name}-render`);
  const worker = await createTestWorker(env, taskQueue, deps, options);
  const renderWorker = await createRenderTestWorker(env, renderTaskQueue, deps.renderer, options);
  const running = Promise.all([worker.run(), renderWorker.run()]);
  return {
    taskQueue,
    renderTaskQueue,
    async stop() {
      worker.shutdown();
      renderWorker.shutdown();
      await running;
    },
  };
}
