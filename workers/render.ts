// Entrypoint of a render worker (task queue `adloop-render` by default): `npm run worker:render`.
// Configuration comes from the environment (see .env.example); it needs no database or tokens.
import { loadConfigPart } from '../core/config.ts';
import { RENDER_WORKER_KEYS, startRenderWorker } from './render-worker.ts';
import { installRuntime } from './runtime.ts';

try {
  const config = loadConfigPart([...RENDER_WORKER_KEYS, 'METRICS_ADDRESS', 'ADLOOP_LOG_LEVEL']);
  const { metricsUrl } = installRuntime(config);
  const render = await startRenderWorker(config);
  console.log(
    `adloop render worker: task queue ${config.RENDER_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}, ${render.concurrency} at once, store ${config.CREATIVE_STORE}, metrics ${metricsUrl ?? 'off'}`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void render.shutdown());
  }
  await render.done;
  process.exit(0);
} catch (err) {
  console.error(`adloop render worker failed: ${err instanceof Error ? err.message : String(err)}`);
  // A worker whose creation failed can keep the process alive: exit explicitly.
  process.exit(1);
}
