// The Temporal runtime of a worker process: its log output and its Prometheus endpoint. Installed
// once per process, before any worker or connection, by each entrypoint. The endpoint serves the
// SDK's own metrics (task latencies, slots, polls...) and adloop's counters, which activities
// record through the same meter (see activities/counters.ts).
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Config } from '../core/config.ts';

const LEVELS: Record<Config['ADLOOP_LOG_LEVEL'], LogLevel> = {
  warn: 'WARN',
  info: 'INFO',
  debug: 'DEBUG',
};

export function installRuntime(config: Pick<Config, 'METRICS_ADDRESS' | 'ADLOOP_LOG_LEVEL'>): {
  metricsUrl: string | null;
} {
  const level = LEVELS[config.ADLOOP_LOG_LEVEL];
  const address = config.METRICS_ADDRESS === 'off' ? null : config.METRICS_ADDRESS;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      // A render worker runs activities only; that is the point, not a warning.
      if (entry.message.startsWith('No workflows registered')) return;
      console.error(`[${entry.level}] ${entry.message}`);
    }),
    ...(address ? { telemetryOptions: { metrics: { prometheus: { bindAddress: address } } } } : {}),
  });
  return { metricsUrl: address ? `http://${address}/metrics` : null };
}
