// Per-market control over a Temporal client: pause, resume, rerun and status. The same messages
// the Temporal UI sends (workflows/messages.ts); the pause itself is kept on the market's
// schedule (ops/schedules.ts) so that it also stops future runs.
import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { marketLoopWorkflowId, parseMarketCode } from '../core/ids.ts';
import { MARKET, STAGE } from '../core/search-attributes.ts';
import type {
  IsoDate,
  MarketCode,
  MarketLoopResult,
  MarketPause,
  MarketStatus,
} from '../core/types.ts';
import { getMarketStatus, setMarketPaused } from '../workflows/messages.ts';
import type { marketLoop } from '../workflows/index.ts';
import {
  describeMarketSchedule,
  marketScheduleId,
  parsePauseNote,
  pauseNote,
  type ScheduleRow,
} from './schedules.ts';

/**
 * Which runs are this deployment's: those on its loop task queue (several adloop deployments,
 * say staging and production, may share a namespace), or every one when no queue is given.
 */
export interface Scope {
  taskQueue?: string;
}

function marketQuery(market: MarketCode, scope: Scope, condition: string): string {
  // Only a real market code goes into the query; queue names are ours.
  const code = parseMarketCode(market);
  const queue = scope.taskQueue ? ` AND TaskQueue = '${scope.taskQueue.replace(/'/g, '')}'` : '';
  return `WorkflowType = 'marketLoop' AND Market = '${code}'${queue} AND ${condition}`;
}

/** Market loops of `market` that are running now (several only while days overlap). */
export async function runningMarketLoops(
  client: Client,
  market: MarketCode,
  scope: Scope = {},
): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({
    query: marketQuery(market, scope, `ExecutionStatus = 'Running'`),
  }))
    ids.push(w.workflowId);
  return ids.sort();
}

export interface ControlOutcome {
  /** What happened to the market's schedule: paused/resumed, unchanged, or none exists. */
  schedule: 'changed' | 'unchanged' | 'none';
  /** Each running loop's status after it took the change in. */
  runs: MarketStatus[];
  /** Runs that did not take it (they finished meanwhile, or refused), and why. */
  missed: string[];
}

async function setPaused(
  client: Client,
  market: MarketCode,
  change: { paused: boolean; by: string; reason?: string },
  o: Scope & { now?: Date },
): Promise<ControlOutcome> {
  const now = o.now ?? new Date();
  const row = await describeMarketSchedule(client, market);
  let schedule: ControlOutcome['schedule'] = 'none';
  if (row) {
    const handle = client.schedule.getHandle(marketScheduleId(market));
    if (change.paused && !row.paused) {
      const pause: MarketPause = {
        by: change.by,
        since: now.toISOString(),
        ...(change.reason ? { reason: change.reason } : {}),
      };
      await handle.pause(pauseNote(pause));
      schedule = 'changed';
    } else if (!change.paused && row.paused) {
      await handle.unpause(`resumed by ${change.by} at ${now.toISOString()}`);
      schedule = 'changed';
    } else schedule = 'unchanged';
  }
  const ids = await runningMarketLoops(client, market, o);
  const answers = await Promise.allSettled(
    ids.map((id) =>
      client.workflow
        .getHandle<typeof marketLoop>(id)
        .executeUpdate(setMarketPaused, { args: [change] }),
    ),
  );
  const runs: MarketStatus[] = [];
  const missed: string[] = [];
  answers.forEach((a, i) => {
    if (a.status === 'fulfilled') runs.push(a.value);
    // A run that finished between the listing and the update has nothing left to hold.
    else
      missed.push(`${ids[i]}: ${a.reason instanceof Error ? a.reason.message : String(a.reason)}`);
  });
  return { schedule, runs, missed };
}

/** Pauses a market: its schedule starts no more runs and running ones hold before writing. */
export const pauseMarketRuns = (
  client: Client,
  market: MarketCode,
  who: { by: string; reason?: string },
  o: Scope & { now?: Date } = {},
) => setPaused(client, market, { paused: true, ...who }, o);

/** Resumes a market: its schedule runs again and held runs continue. */
export const resumeMarketRuns = (
  client: Client,
  market: MarketCode,
  who: { by: string },
  o: Scope & { now?: Date } = {},
) => setPaused(client, market, { paused: false, ...who }, o);

/**
 * Runs the market's loop for `date` again, as a new run of `market/<code>/<date>`. Every stage is
 * idempotent (ads are found by name, metrics replaced), and the day's ranking is reused unless
 * `rerank`, so a rerun recovers what the day missed and writes only that. Refused while that day
 * is still running or the market is paused.
 */
export async function rerunMarket(
  client: Client,
  o: {
    market: MarketCode;
    date: IsoDate;
    taskQueue: string;
    renderTaskQueue: string;
    /** Rank the day again instead of reusing its stored ranking. */
    rerank?: boolean;
  },
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof marketLoop>> {
  const schedule = await describeMarketSchedule(client, o.market);
  // Two runs of one market, of any days, would each put their own ads live on the same ad sets.
  const running = await runningMarketLoops(client, o.market, { taskQueue: o.taskQueue });
  if (running.length > 0)
    throw new Error(
      `${running.join(', ')} is running now: rerun when it has finished (see \`adloop status ${o.market}\`)`,
    );
  if (schedule?.paused) {
    const p = parsePauseNote(schedule.note);
    throw new Error(`${o.market} is paused (by ${p.by} since ${p.since}): resume it first`);
  }
  const workflowId = marketLoopWorkflowId(o.market, o.date);
  try {
    return await client.workflow.start<typeof marketLoop>('marketLoop', {
      workflowId,
      taskQueue: o.taskQueue,
      args: [
        {
          market: o.market,
          date: o.date,
          renderTaskQueue: o.renderTaskQueue,
          ...(o.rerank && { rerank: true }),
        },
      ],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      // Two runs of one market-day would race on the same ad sets.
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: MARKET, value: o.market },
        { key: STAGE, value: 'starting' },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      throw new Error(`${workflowId} is running now: see \`adloop status ${o.market}\``, {
        cause: err,
      });
    throw err;
  }
}

export interface RecentRun {
  workflowId: string;
  date: IsoDate;
  closedAt: Date | null;
  status: MarketLoopResult['status'] | 'failed' | 'terminated' | 'cancelled' | 'timed-out';
  fallbackUsed: boolean;
  degraded: string[];
  error?: string;
}

export interface MarketStatusReport {
  market: MarketCode;
  schedule: ScheduleRow | null;
  pause: MarketPause | null;
  running: Array<{ workflowId: string; status: MarketStatus }>;
  /** The newest completed (not skipped) run. */
  lastSuccess: RecentRun | null;
  /** The newest closed runs, newest first. */
  recent: RecentRun[];
  /** How many of `recent` fell back to a previous ranking. */
  fallbacks: number;
}

const closedStatus: Record<string, RecentRun['status']> = {
  FAILED: 'failed',
  TERMINATED: 'terminated',
  CANCELLED: 'cancelled',
  TIMED_OUT: 'timed-out',
};

/** Everything an operator asks first about a market: where it is, when it last worked, how. */
export async function marketStatus(
  client: Client,
  market: MarketCode,
  o: Scope & { recent?: number } = {},
): Promise<MarketStatusReport> {
  const schedule = await describeMarketSchedule(client, market);
  const running = await Promise.all(
    (await runningMarketLoops(client, market, o)).map(async (workflowId) => ({
      workflowId,
      status: await client.workflow.getHandle(workflowId).query(getMarketStatus),
    })),
  );
  const recent: RecentRun[] = [];
  const limit = o.recent ?? 7;
  for await (const w of client.workflow.list({
    query: marketQuery(market, o, `ExecutionStatus != 'Running'`),
  })) {
    if (recent.length >= limit) break;
    const date = w.workflowId.split('/').at(-1) ?? '';
    const base = { workflowId: w.workflowId, date, closedAt: w.closeTime ?? null };
    if (w.status.name === 'COMPLETED') {
      try {
        const r = await client.workflow
          .getHandle<typeof marketLoop>(w.workflowId, w.runId)
          .result();
        recent.push({
          ...base,
          status: r.status,
          fallbackUsed: r.fallbackUsed,
          degraded: r.degraded ?? [],
        });
      } catch (err) {
        // Say so and go on: a result sealed with a key this client does not hold, for one.
        recent.push({
          ...base,
          status: 'completed',
          fallbackUsed: false,
          degraded: [],
          error: `result unreadable: ${(err as Error).message}`,
        });
      }
    } else {
      recent.push({
        ...base,
        status: closedStatus[w.status.name] ?? 'failed',
        fallbackUsed: false,
        degraded: [],
      });
    }
  }
  return {
    market,
    schedule,
    pause: schedule?.paused ? parsePauseNote(schedule.note) : null,
    running,
    // The latest business day that completed (a backfill closes older days after newer ones).
    lastSuccess:
      recent
        .filter((r) => r.status === 'completed')
        .sort((a, b) => b.date.localeCompare(a.date))[0] ?? null,
    recent,
    fallbacks: recent.filter((r) => r.fallbackUsed).length,
  };
}

/** The status report as lines for a terminal. */
export function formatMarketStatus(s: MarketStatusReport): string[] {
  const lines = [`${s.market}`];
  if (!s.schedule) lines.push('  schedule:     none (runs only when started by hand)');
  else
    lines.push(
      `  schedule:     ${s.schedule.at} ${s.schedule.timeZone}, ` +
        (s.pause
          ? `PAUSED by ${s.pause.by} since ${s.pause.since}${s.pause.reason ? ` (${s.pause.reason})` : ''}`
          : `next ${s.schedule.nextRuns[0]?.toISOString() ?? '—'}`),
    );
  if (s.running.length === 0) lines.push('  running:      nothing');
  for (const r of s.running) {
    const st = r.status;
    lines.push(
      `  running:      ${r.workflowId} ` +
        (st.paused
          ? (st.holding
              ? 'HELD before its next platform write'
              : `at ${st.stage}, holds before its next platform write`) +
            ` (paused by ${st.paused.by} since ${st.paused.since}${st.paused.reason ? `: ${st.paused.reason}` : ''})`
          : `at ${st.stage}`) +
        (st.fallbackUsed ? ', on the previous ranking (fallback)' : ''),
    );
    for (const d of st.degraded ?? []) lines.push(`                degraded: ${d}`);
  }
  const ls = s.lastSuccess;
  lines.push(
    ls
      ? `  last success: ${ls.date} (${ls.workflowId}, finished ${ls.closedAt?.toISOString() ?? '?'})` +
          (ls.degraded.length ? `, degraded: ${ls.degraded.length}` : ', not degraded')
      : '  last success: none yet',
  );
  lines.push(
    `  fallbacks:    ${s.fallbacks} of the last ${s.recent.length} runs used the previous ranking`,
  );
  for (const r of s.recent) {
    lines.push(
      `  ${r.date}  ${r.status.padEnd(10)}${r.fallbackUsed ? ' fallback' : ''}` +
        (r.degraded.length ? `  degraded: ${r.degraded.join('; ')}` : '') +
        (r.error ? `  (${r.error})` : ''),
    );
  }
  return lines;
}
