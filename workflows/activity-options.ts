// The activity proxies the market loop calls through, each with the timeouts and retry policy of
// its kind of work (bookkeeping, bounded ingest, compute, planning, a pausable deploy,
// learning). Changing one changes what new runs schedule, not old histories.
import {
  ActivityCancellationType,
  proxyActivities,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';

const base: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  // Stage activities heartbeat every few seconds (withStage): a worker killed mid-stage is
  // noticed within this, not after the whole start-to-close timeout, and the stage is retried.
  heartbeatTimeout: '30 seconds',
};

export const bookkeeping = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds' });

export const ingest = proxyActivities<Activities>({
  ...base,
  // Bounded: when the platform stays down, fall back to the previous ranking within ~15 s
  // instead of holding the whole market's day.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 4 },
});

export const compute = proxyActivities<Activities>({ ...base });

export const longRunningOptions: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  // A dead worker is noticed within this, and the stage resumes on another worker.
  heartbeatTimeout: '15 seconds',
  // Platform writes back off up to a minute; they are idempotent, so retrying is safe.
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
  },
};

// Planning only reads the platforms (each read already retried by the client): when it still
// fails after a few attempts, the platform is down and deploy is skipped for the day sooner.
export const planning = proxyActivities<Activities>({
  ...longRunningOptions,
  retry: { ...longRunningOptions.retry, maximumInterval: '20 seconds', maximumAttempts: 5 },
});

// Deploy as a pause can stop it: the workflow waits until the activity has really stopped (it
// checks before every platform request), so a resumed deploy never writes next to the old one.
export const pausableDeploy = proxyActivities<Activities>({
  ...longRunningOptions,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

export const learning = proxyActivities<Activities>({
  ...base,
  // Bounded: learning late is better than holding the run; tomorrow's ingest catches up.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 4 },
});
