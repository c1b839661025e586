// The fault matrix: what `npm run chaos` breaks, one scenario each. A fault is switched on for the
// whole faulted day (`inject` / `clear`: the platforms and the MMP misbehave), or strikes once in
// the middle of that day's run (`strike`: a process dies or restarts at a chosen moment).
import proto from '@temporalio/proto';
import { marketLoopWorkflowId } from '../../core/ids.ts';
import type { Stage } from '../../core/types.ts';
import type { TempPostgres } from '../../scripts/lib/postgres.ts';
import type { ChaosStack } from './stack.ts';

export interface FaultContext {
  stack: ChaosStack;
  postgres: TempPostgres;
  /** The faulted day. */
  day: string;
  markets: string[];
  log: (line: string) => void;
}

export interface Fault {
  name: string;
  /** One line: what breaks. */
  what: string;
  /** Switches the fault on before the day's loop starts. */
  inject?(ctx: FaultContext): void;
  /**
   * Waits for its moment during the day's run and strikes once; resolves with what it did, or
   * null if the moment never came before `over` was aborted (the fault was not exercised).
   */
  strike?(ctx: FaultContext, over: AbortSignal): Promise<string | null>;
  /** Switches the fault off after the day. */
  clear?(ctx: FaultContext): void;
  /**
   * The faulted day may skip its deploy (a platform down all day). Under any other fault a
   * skipped deploy means the retries gave up too soon, and the scenario fails.
   */
  deploySkipAllowed?: boolean;
  /**
   * The fault changes what a source reports, not whether it answers (an MMP running late): the
   * faulted day is audited against the source as it answered that day, fault still on.
   */
  changesReports?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The activities that do each stage's work. */
const STAGE_ACTIVITIES = {
  ingest: ['ingestCatalog', 'ingestPlatformMetrics', 'ingestAttribution'],
  rank: ['rankMarket'],
  render: ['renderCreative'],
  deploy: ['deployCreatives'],
  learn: ['learnFromResults'],
} as const satisfies Partial<Record<Stage, readonly string[]>>;
type WorkStage = keyof typeof STAGE_ACTIVITIES;

/**
 * Resolves once one of the day's market runs has an activity of `stage` running (started on a
 * worker, per Temporal's own record of the run), naming it; null once `over` is aborted. Polls
 * through outages of Temporal itself.
 */
async function activityRunning(
  ctx: FaultContext,
  stage: WorkStage,
  over: AbortSignal,
): Promise<string | null> {
  const types: readonly string[] = STAGE_ACTIVITIES[stage];
  const runs = ctx.markets.map((m) => marketLoopWorkflowId(m, ctx.day));
  // Every run asked at once, and asked again soon: a rank stage can last well under 100 ms, and
  // asking the runs one after another with a pause between rounds could miss it.
  const startedIn = async (run: string): Promise<string | null> => {
    try {
      const d = await ctx.stack.client.workflow.getHandle(run).describe();
      const running = (d.raw.pendingActivities ?? []).find(
        (a) =>
          types.includes(a.activityType?.name ?? '') &&
          a.state ===
            proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
      );
      return running ? `${run}'s ${running.activityType!.name}` : null;
    } catch {
      return null; // not started yet, or Temporal is away for a moment: look again
    }
  };
  while (!over.aborted) {
    const found = (await Promise.all(runs.map(startedIn))).find((r) => r !== null);
    if (found) return found;
    await sleep(10);
  }
  return null;
}

/** Resolves when the sandbox has accepted a write (a POST answered 200) on either platform. */
function nextAcceptedWrite(ctx: FaultContext, over: AbortSignal, withinMs: number): Promise<void> {
  const { meta, tiktok } = ctx.stack.sandbox;
  return new Promise((resolve) => {
    const done = () => {
      meta.off('request', onRequest);
      tiktok.off('request', onRequest);
      clearTimeout(timer);
      resolve();
    };
    const onRequest = (e: { method: string; status: number }) => {
      if (e.method === 'POST' && e.status === 200) done();
    };
    meta.on('request', onRequest);
    tiktok.on('request', onRequest);
    const timer = setTimeout(done, withinMs);
    over.addEventListener('abort', done, { once: true });
  });
}

/** SIGKILLs the worker once a market has entered `stage`, then starts a fresh one. */
function killWorkerIn(stage: WorkStage): Fault {
  return {
    name: `worker-killed-in-${stage}`,
    what: `the loop worker is SIGKILLed while a market is in its ${stage} stage, and a new one starts`,
    async strike(ctx, over) {
      const running = await activityRunning(ctx, stage, over);
      if (!running) return null;
      // In deploy, die right after the platform accepted a write the worker has not recorded.
      if (stage === 'deploy') await nextAcceptedWrite(ctx, over, 3000);
      await ctx.stack.killWorker();
      ctx.log(`    SIGKILLed the worker while ${running} was running`);
      await sleep(1000);
      ctx.stack.startWorker();
      return `SIGKILL while ${running} was running; a new worker took over`;
    },
  };
}

type RateFault = 'errorRate' | 'throttleRate' | 'timeoutRate' | 'malformedRate';

/** A share of Meta's and TikTok's calls misbehaving all day (a sandbox fault rate). */
function platformRate(name: string, what: string, field: RateFault, rate: number): Fault {
  const set = (stack: ChaosStack, value: number) => {
    stack.sandbox.meta.faults[field] = value;
    stack.sandbox.tiktok.faults[field] = value;
  };
  return {
    name,
    what,
    inject: ({ stack }) => set(stack, rate),
    clear: ({ stack }) => set(stack, 0),
  };
}

export const FAULTS: readonly Fault[] = [
  platformRate(
    'platform-5xx',
    '30% of Meta and TikTok calls answer with a transient 5xx',
    'errorRate',
    0.3,
  ),
  platformRate(
    'throttling',
    '30% of calls are rate limited (HTTP 429 / Meta code 17 / TikTok 40100)',
    'throttleRate',
    0.3,
  ),
  {
    ...platformRate(
      'timeouts',
      '20% of Meta and TikTok calls hang without an answer until the client times out',
      'timeoutRate',
      0.2,
    ),
    inject: ({ stack }) => {
      for (const f of [stack.sandbox.meta.faults, stack.sandbox.tiktok.faults]) {
        f.timeoutRate = 0.2;
        f.hangMs = 20_000;
      }
    },
  },
  platformRate(
    'malformed-responses',
    '30% of list and report pages come back truncated (malformed JSON)',
    'malformedRate',
    0.3,
  ),
  {
    name: 'meta-down-all-day',
    what: 'every Meta call fails for the whole day',
    deploySkipAllowed: true,
    inject: ({ stack, day }) => {
      stack.sandbox.meta.faults.downDates = [day];
    },
    clear: ({ stack }) => {
      stack.sandbox.meta.faults.downDates = [];
    },
  },
  {
    name: 'tiktok-down-all-day',
    what: 'every TikTok call fails for the whole day',
    deploySkipAllowed: true,
    inject: ({ stack, day }) => {
      stack.sandbox.tiktok.faults.downDates = [day];
    },
    clear: ({ stack }) => {
      stack.sandbox.tiktok.faults.downDates = [];
    },
  },
  {
    name: 'mmp-down',
    what: 'the MMP (Adjust) answers 503 all day',
    inject: ({ stack }) => {
      stack.sandbox.mmp.faults.adjust.down = true;
    },
    clear: ({ stack }) => {
      stack.sandbox.mmp.faults.adjust.down = false;
    },
  },
  {
    name: 'mmp-late',
    what: "the MMP's pipeline is 3 days behind: recent days come back partial or empty",
    changesReports: true,
    inject: ({ stack }) => {
      stack.sandbox.mmp.faults.adjust.delayDays = 3;
    },
    clear: ({ stack }) => {
      stack.sandbox.mmp.faults.adjust.delayDays = 0;
    },
  },
  ...(['ingest', 'rank', 'render', 'deploy', 'learn'] as const).map(killWorkerIn),
  {
    name: 'temporal-restarted',
    what: 'the Temporal dev server is SIGKILLed mid-run and started again 3 s later',
    async strike(ctx, over) {
      const running = await activityRunning(ctx, 'render', over);
      if (!running) return null;
      await ctx.stack.restartTemporal(3000);
      ctx.log(`    restarted Temporal while ${running} was running`);
      return `Temporal killed and restarted while ${running} was running`;
    },
  },
  {
    name: 'database-restarted',
    what: 'PostgreSQL is stopped (immediate: connections dropped) mid-run and started 3 s later',
    async strike(ctx, over) {
      const running = await activityRunning(ctx, 'rank', over);
      if (!running) return null;
      await ctx.postgres.restart({ downMs: 3000 });
      ctx.log(`    restarted PostgreSQL while ${running} was running`);
      return `PostgreSQL crashed and restarted while ${running} was running`;
    },
  },
];
