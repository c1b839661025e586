// Entrypoint of the loop worker (task queue `adloop-loop` by default): `npm run worker`.
// Configuration comes from the environment (see .env.example).
import { loadConfig } from '../core/config.ts';
import { startLoopWorker } from './loop-worker.ts';
import { installRuntime } from './runtime.ts';

try {
  const config = loadConfig();
  const { metricsUrl } = installRuntime(config);
  const loop = await startLoopWorker(config);
  console.log(
    `adloop worker: task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}, database ${loop.database.where}, metrics ${metricsUrl ?? 'off'}`,
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void loop.shutdown());
  }
  await loop.done;
  process.exit(0);
} catch (err) {
  console.error(`adloop worker failed: ${err instanceof Error ? err.message : String(err)}`);
  // A worker whose creation failed can keep the process alive: exit explicitly.
  process.exit(1);
}
