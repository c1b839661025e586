// `npm run bench:loop -- --json`: the whole daily loop of a sandbox world (default `scale`: 50
// generated markets, 100,000 artists) on this machine, and how much of its wall time is
// orchestration rather than work. It starts everything itself, isolated and throwaway:
//   - a Temporal dev server in memory (no persistence), headless, on a free port;
//   - the sandbox for the world, in memory on free ports, simulating a fixed date, on a thread of
//     its own: in a real deployment the ad platforms and the catalog source are remote, so their
//     simulation must not share the JavaScript thread of the worker being measured;
//   - PGlite in a temporary directory (DATABASE_URL, when set, is used instead: give it an empty
//     database, as the sandbox's platforms start empty);
//   - a loop worker and a render worker in this process, configured by loadConfig as `npm start`
//     configures them, with these overrides: CATALOG_PATH = the sandbox's JSONL catalog URL with
//     {market}, statics only in 1:1 and 9:16, a temporary CREATIVES_DIR, no metrics endpoint. The
//     loop worker runs at most --activity-slots activities at once (default 4; the SDK's default is
//     100): with one database session, more only wait inside their activities for it, against the
//     stages' 2-minute start-to-close timeouts, and hold a 100,000-row catalog each in memory.
// Everything is stopped and removed on exit, on failure and on Ctrl-C.
//
// Every figure comes from the Temporal histories of the `loop/<date>` workflow and each of its
// `market/<code>/<date>` children (the event times of ActivityTaskScheduled, ActivityTaskStarted
// and the activity's close: Completed, Failed, TimedOut or Canceled), not from timers here:
//   markets                 markets run;
//   seconds                 wall time of the loop: from the daily loop's start event to its close;
//   activities              activity executions (each counted once, however many attempts);
//   activity_attempts       attempts: each execution's last attempt number, summed;
//   activity_seconds        the union over all workflows of the activities' execution intervals
//                           (Started to closed: a worker was running activity code);
//   overhead_seconds        seconds - activity_seconds: time in which no activity ran anywhere;
//   overhead_share          overhead_seconds / seconds (the requirement: under 0.1);
//   queued_seconds          time in which some activity was scheduled and none was running;
//   market_gap_share_mean   for each market loop, the share of its own span (its start to its
//   market_gap_share_max    close) during which none of its own activities was scheduled or
//                           running: the time the market waited on workflow tasks between two
//                           activities (and before the first, after the last); mean and worst;
//   market_gap_seconds_mean that gap in seconds, averaged over the markets;
//   market_idle_share_mean  the same share with only running activities counted as busy, so it
//                           includes waiting for a free worker slot (contention, not orchestration);
//   market_seconds_mean/max spans of the market loops;
//   loop_gap_seconds        time of the daily loop in which neither a market loop nor one of its own
//                           activities (training) was open: starting and collecting the children;
//   by_activity             per activity type: executions, attempts, summed and longest execution
//                           seconds, and summed time from scheduled to started (which also holds
//                           the earlier attempts and retry back-off of a retried activity: the
//                           history keeps only the last attempt's start);
//   retried                 each activity that took more than one attempt, and the failure before;
//   setup_seconds           starting the stack (dev server, sandbox, workers, workflow bundle),
//                           measured here, not part of `seconds`;
//   failed_markets          markets whose loop failed (the script then exits 1 and says why).
// Progress (markets closed of all, stages of the running ones, elapsed time) goes to stderr; with
// --json, stdout holds exactly one JSON object.
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';
import { Command } from 'commander';
import { wholeNumber } from './args.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../core/config.ts';
import { parseIsoDate } from '../core/dates.ts';
import { STAGE } from '../core/search-attributes.ts';
import type { DailyLoopResult } from '../core/types.ts';
import { startLoopWorker } from '../workers/loop-worker.ts';
import { startRenderWorker } from '../workers/render-worker.ts';
import { installRuntime } from '../workers/runtime.ts';
import { startDailyLoop } from '../cli/daily-loop-client.ts';
import { freePort } from '../scripts/lib/ports.ts';
import { writeSandboxAccounts } from '../sandbox/environment.ts';
import { startSandboxThread } from '../scripts/lib/sandbox-thread.ts';
import { ensureSearchAttributes } from '../scripts/lib/register-search-attributes.ts';
import { ensureTemporalCli, startDevServer } from '../scripts/lib/temporal-cli.ts';
import { temporalConnectionOptions } from '../core/temporal-connection.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
/** A fixed business day, so runs compare: the sandbox simulates it whatever the wall clock says. */
const DEFAULT_DATE = '2026-11-28';

const opts = new Command()
  .name('npm run bench:loop --')
  .description('Run the daily loop of a sandbox world and measure its orchestration overhead.')
  .option('--world <file>', 'sandbox world', path.join(ROOT, 'sandbox/worlds/scale.json'))
  .option(
    '--markets <n>',
    'run only the first n markets of the world (default all)',
    wholeNumber('--markets'),
  )
  .option('--date <YYYY-MM-DD>', 'business date the sandbox simulates', DEFAULT_DATE)
  .option(
    '--activity-slots <n>',
    'activities the loop worker runs at once',
    wholeNumber('--activity-slots'),
    4,
  )
  .option('--json', 'print only the JSON result on stdout')
  .parse()
  .opts<{
    world: string;
    markets?: number;
    date: string;
    activitySlots: number;
    json?: boolean;
  }>();

const t0 = performance.now();
const elapsed = () => {
  const s = Math.round((performance.now() - t0) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
};
const log = (msg: string) => process.stderr.write(`bench:loop [${elapsed()}] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// Intervals from histories.

type Interval = [number, number];
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Total length of the union of intervals, clipped to [from, to]. */
function unionLength(intervals: readonly Interval[], from = -Infinity, to = Infinity): number {
  const xs = intervals
    .map(([a, b]): Interval => [Math.max(a, from), Math.min(b, to)])
    .filter(([a, b]) => b > a)
    .sort((p, q) => p[0] - q[0]);
  let total = 0;
  let cur: Interval | null = null;
  for (const [a, b] of xs) {
    if (cur && a <= cur[1]) cur[1] = Math.max(cur[1], b);
    else {
      if (cur) total += cur[1] - cur[0];
      cur = [a, b];
    }
  }
  if (cur) total += cur[1] - cur[0];
  return total;
}

interface ActivityRun {
  type: string;
  scheduled: number;
  started: number;
  closed: number;
  attempts: number;
  /** The failure of the attempt before the last (or of the last, when it failed). */
  lastFailure: string | null;
}

interface WorkflowTimeline {
  workflowId: string;
  start: number;
  close: number;
  activities: ActivityRun[];
  children: Array<{ workflowId: string; runId: string; started: number; closed: number | null }>;
}

const at = (e: HistoryEvent) => tsToMs(e.eventTime);

function timeline(workflowId: string, events: readonly HistoryEvent[]): WorkflowTimeline {
  if (events.length === 0) throw new Error(`${workflowId} has an empty history`);
  const scheduled = new Map<string, { type: string; at: number }>();
  const started = new Map<string, { at: number; attempt: number; lastFailure: string | null }>();
  const activities: ActivityRun[] = [];
  const childStart = new Map<string, { workflowId: string; runId: string; started: number }>();
  const children: WorkflowTimeline['children'] = [];
  const key = (id: unknown) => String(id);
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) {
      scheduled.set(key(e.eventId), {
        type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?',
        at: at(e),
      });
    } else if (e.activityTaskStartedEventAttributes) {
      // The server writes this event when the attempt ends, stamped with the time it started.
      const a = e.activityTaskStartedEventAttributes;
      started.set(key(a.scheduledEventId), {
        at: at(e),
        attempt: a.attempt ?? 1,
        lastFailure: a.lastFailure?.message ?? null,
      });
    } else {
      const closed =
        e.activityTaskCompletedEventAttributes ??
        e.activityTaskFailedEventAttributes ??
        e.activityTaskTimedOutEventAttributes ??
        e.activityTaskCanceledEventAttributes;
      if (closed) {
        const id = key(closed.scheduledEventId);
        const s = scheduled.get(id);
        if (!s) continue;
        const st = started.get(id);
        activities.push({
          type: s.type,
          scheduled: s.at,
          // Cancelled before it started (or timed out waiting): it never ran.
          started: st?.at ?? at(e),
          closed: at(e),
          attempts: st?.attempt ?? 0,
          lastFailure: e.activityTaskCompletedEventAttributes
            ? (st?.lastFailure ?? null)
            : ((closed as { failure?: { message?: string | null } | null }).failure?.message ??
              null),
        });
        scheduled.delete(id);
      }
    }
    const cs = e.childWorkflowExecutionStartedEventAttributes;
    if (cs?.workflowExecution?.workflowId) {
      childStart.set(key(cs.initiatedEventId), {
        workflowId: cs.workflowExecution.workflowId,
        runId: cs.workflowExecution.runId ?? '',
        started: at(e),
      });
    }
    const cc =
      e.childWorkflowExecutionCompletedEventAttributes ??
      e.childWorkflowExecutionFailedEventAttributes ??
      e.childWorkflowExecutionCanceledEventAttributes ??
      e.childWorkflowExecutionTimedOutEventAttributes ??
      e.childWorkflowExecutionTerminatedEventAttributes;
    if (cc) {
      const c = childStart.get(key(cc.initiatedEventId));
      if (c) {
        children.push({ ...c, closed: at(e) });
        childStart.delete(key(cc.initiatedEventId));
      }
    }
  }
  const start = at(events[0]!);
  const close = at(events[events.length - 1]!);
  // Anything still open when the history ends (an abandoned activity, a child of a failed loop).
  for (const s of scheduled.values())
    activities.push({
      type: s.type,
      scheduled: s.at,
      started: close,
      closed: close,
      attempts: 0,
      lastFailure: null,
    });
  for (const c of childStart.values()) children.push({ ...c, closed: null });
  return { workflowId, start, close, activities, children };
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
const max = (xs: number[]) => xs.reduce((m, x) => Math.max(m, x), 0);

function measure(loop: WorkflowTimeline, markets: WorkflowTimeline[]) {
  const all = [loop, ...markets];
  const runs = all.flatMap((w) => w.activities);
  const from = loop.start;
  const to = loop.close;
  const wall = to - from;
  const executing = unionLength(
    runs.map((r) => [r.started, r.closed]),
    from,
    to,
  );
  const open = unionLength(
    runs.map((r) => [r.scheduled, r.closed]),
    from,
    to,
  );
  const perMarket = markets.map((m) => {
    const span = m.close - m.start;
    const open = unionLength(
      m.activities.map((r) => [r.scheduled, r.closed]),
      m.start,
      m.close,
    );
    const running = unionLength(
      m.activities.map((r) => [r.started, r.closed]),
      m.start,
      m.close,
    );
    return {
      span,
      gap: span - open,
      gapShare: span > 0 ? (span - open) / span : 0,
      idleShare: span > 0 ? (span - running) / span : 0,
    };
  });
  const loopBusy = unionLength(
    [
      ...loop.children.map((c): Interval => [c.started, c.closed ?? to]),
      ...loop.activities.map((r): Interval => [r.scheduled, r.closed]),
    ],
    from,
    to,
  );
  const byActivity: Record<
    string,
    {
      count: number;
      attempts: number;
      seconds: number;
      max_seconds: number;
      queued_seconds: number;
    }
  > = {};
  for (const r of runs) {
    const b = (byActivity[r.type] ??= {
      count: 0,
      attempts: 0,
      seconds: 0,
      max_seconds: 0,
      queued_seconds: 0,
    });
    b.count += 1;
    b.attempts += r.attempts;
    b.seconds += (r.closed - r.started) / 1000;
    b.max_seconds = Math.max(b.max_seconds, (r.closed - r.started) / 1000);
    b.queued_seconds += (r.started - r.scheduled) / 1000;
  }
  for (const b of Object.values(byActivity)) {
    b.seconds = round(b.seconds);
    b.max_seconds = round(b.max_seconds);
    b.queued_seconds = round(b.queued_seconds);
  }
  // Activities that needed more than one attempt, and why the one before the last failed.
  const retried = all.flatMap((w) =>
    w.activities
      .filter((r) => r.attempts > 1 || r.lastFailure)
      .map((r) => ({
        workflow: w.workflowId,
        activity: r.type,
        attempts: r.attempts,
        failure: r.lastFailure,
      })),
  );
  return {
    seconds: round(wall / 1000),
    activities: runs.length,
    activity_attempts: runs.reduce((s, r) => s + r.attempts, 0),
    activity_seconds: round(executing / 1000),
    overhead_seconds: round((wall - executing) / 1000),
    overhead_share: round(wall > 0 ? (wall - executing) / wall : 0, 4),
    queued_seconds: round((open - executing) / 1000),
    market_gap_share_mean: round(mean(perMarket.map((m) => m.gapShare)), 4),
    market_gap_share_max: round(max(perMarket.map((m) => m.gapShare)), 4),
    market_gap_seconds_mean: round(mean(perMarket.map((m) => m.gap)) / 1000),
    market_idle_share_mean: round(mean(perMarket.map((m) => m.idleShare)), 4),
    market_seconds_mean: round(mean(perMarket.map((m) => m.span)) / 1000),
    market_seconds_max: round(max(perMarket.map((m) => m.span)) / 1000),
    loop_gap_seconds: round((wall - loopBusy) / 1000),
    by_activity: byActivity,
    retried,
  };
}

// ---------------------------------------------------------------------------------------------
// The stack, stopped in reverse order on exit, failure or a signal.

const stack: Array<{ name: string; stop: () => Promise<void> }> = [];
let stopping: Promise<void> | null = null;
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (const part of stack.reverse()) {
      try {
        // A part that does not stop in time is left to the process exit (the dev server dies with
        // this process through setpriv's parent-death signal; the temp dir is removed last).
        await Promise.race([
          part.stop(),
          new Promise<void>((_, reject) =>
            setTimeout(() => reject(new Error('timed out after 30 s')), 30_000).unref(),
          ),
        ]);
      } catch (err) {
        process.stderr.write(
          `bench:loop: stopping ${part.name} failed: ${(err as Error).message}\n`,
        );
      }
    }
  })();
  return stopping;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping…`);
    void stopAll().then(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  const date = parseIsoDate(opts.date, '--date');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-bench-loop-'));
  stack.push({
    name: 'temporary directory',
    stop: () => fs.promises.rm(work, { recursive: true, force: true }),
  });

  // 1. Temporal: a dev server of its own, in memory, headless, on a free port.
  const cli = await ensureTemporalCli(log);
  const devServer = await startDevServer({
    cli,
    port: await freePort(),
    uiPort: null,
    dbFile: null,
    logFile: path.join(work, 'temporal.log'),
  });
  stack.push({ name: 'Temporal dev server', stop: () => devServer.stop() });
  log(`Temporal dev server on ${devServer.address} (in memory)`);

  // 2. The sandbox for the world: in memory, on free ports, simulating `date`, on its own thread
  // (the platforms and the catalog source are remote services in a real deployment).
  const sandbox = await startSandboxThread({ world: path.resolve(opts.world), date });
  stack.push({ name: 'sandbox', stop: () => sandbox.close() });
  const worldMarkets = sandbox.world.markets;
  const markets = worldMarkets.slice(0, opts.markets ?? worldMarkets.length);
  log(
    `sandbox world "${sandbox.world.name}": ${sandbox.world.artistCount} artists, ${worldMarkets.length} markets (running ${markets.length}), date ${date}`,
  );

  // 3. Config as npm start builds it, from a clean environment plus the overrides above: only
  // DATABASE_URL is taken from this process's environment.
  const env: NodeJS.ProcessEnv = {
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    TEMPORAL_ADDRESS: devServer.address,
    PGLITE_DIR: path.join(work, 'pglite'),
    CREATIVES_DIR: path.join(work, 'creatives'),
    CATALOG_PATH: `${sandbox.metaUrl}/__sandbox/catalog.jsonl?market={market}`,
    RENDER_KINDS: 'static',
    RENDER_RATIOS: '1:1,9:16',
    METRICS_ADDRESS: 'off',
    META_GRAPH_URL: sandbox.metaUrl,
    META_ACCESS_TOKEN: sandbox.credentials.accessToken,
    ACCOUNTS_PATH: writeSandboxAccounts(sandbox.accounts, work),
    TIKTOK_BASE_URL: sandbox.tiktokUrl,
    TIKTOK_ACCESS_TOKEN: sandbox.tiktokCredentials.accessToken,
    MMP_PROVIDER: 'adjust',
    ADJUST_BASE_URL: sandbox.adjustUrl,
    ADJUST_API_TOKEN: sandbox.adjust.apiToken,
    ADJUST_APP_TOKEN: sandbox.adjust.appToken,
  };
  const config = loadConfig(env, ROOT);
  installRuntime(config);

  // 4. The workers, in this process: the loop worker owns the database.
  const worker = await startLoopWorker(config, {
    maxConcurrentActivityTaskExecutions: opts.activitySlots,
  });
  stack.push({ name: 'loop worker', stop: () => worker.shutdown() });
  const render = await startRenderWorker(config);
  stack.push({ name: 'render worker', stop: () => render.shutdown() });
  log(
    `workers up: loop (database ${worker.database.kind === 'pglite' ? 'PGlite, temporary' : worker.database.where}), render (${render.concurrency} at once, ${config.RENDER_KINDS.join(',')} in ${config.RENDER_RATIOS.join(',')})`,
  );

  const connection = await Connection.connect(temporalConnectionOptions(config));
  stack.push({ name: 'client', stop: () => connection.close() });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
  const setupSeconds = (performance.now() - t0) / 1000;

  // 5. The loop, watched through visibility (not queries: those would be workflow tasks on the
  // very worker being measured).
  const { handle } = await startDailyLoop(client, {
    date,
    markets,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    renderTaskQueue: config.RENDER_TASK_QUEUE,
  });
  log(`loop ${handle.workflowId} started for ${markets.length} markets`);
  let done = false;
  const result = handle.result().finally(() => (done = true));
  const progress = (async () => {
    let last = '';
    while (!done) {
      await new Promise((r) => setTimeout(r, 5000));
      if (done) break;
      try {
        const stages = new Map<string, number>();
        let closed = 0;
        let failed = 0;
        for await (const w of client.workflow.list({
          query: `WorkflowType = 'marketLoop'`,
        })) {
          if (w.status.name === 'RUNNING') {
            const stage = w.typedSearchAttributes.get(STAGE) ?? 'starting';
            stages.set(stage, (stages.get(stage) ?? 0) + 1);
          } else {
            closed += 1;
            if (w.status.name !== 'COMPLETED') failed += 1;
          }
        }
        const line =
          `${closed}/${markets.length} markets done${failed ? ` (${failed} failed)` : ''}` +
          (stages.size ? `; running: ${[...stages].map(([s, n]) => `${s} ${n}`).join(', ')}` : '');
        if (line !== last) log(line);
        last = line;
      } catch {
        // visibility lags or the server is busy: try again next tick
      }
    }
  })();
  let outcome: DailyLoopResult;
  try {
    outcome = await result;
  } finally {
    await progress;
  }
  log(`loop closed; reading ${markets.length + 1} histories`);

  // 6. The figures, from the histories.
  const loopHistory = await handle.fetchHistory();
  const loop = timeline(handle.workflowId, loopHistory.events ?? []);
  const marketTimelines = await Promise.all(
    loop.children.map(async (c) =>
      timeline(
        c.workflowId,
        (await client.workflow.getHandle(c.workflowId, c.runId).fetchHistory()).events ?? [],
      ),
    ),
  );
  const failedMarkets = outcome.markets.filter((m) => m.status === 'failed');
  const output = {
    markets: markets.length,
    ...measure(loop, marketTimelines),
    setup_seconds: round(setupSeconds),
    failed_markets: failedMarkets.map((m) => m.market),
    world: sandbox.world.name,
    artists: sandbox.world.artistCount,
    date,
    database: worker.database.kind,
    render: `${config.RENDER_KINDS.join(',')} ${config.RENDER_RATIOS.join(',')}`,
    activity_slots: opts.activitySlots,
    cpus: os.availableParallelism(),
  };
  console.log(opts.json ? JSON.stringify(output) : JSON.stringify(output, null, 2));
  for (const m of failedMarkets) log(`market ${m.market} FAILED: ${m.error ?? 'no reason given'}`);
  if (failedMarkets.length > 0) exitCode = 1;
} catch (err) {
  process.stderr.write(
    `bench:loop failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  exitCode = 1;
} finally {
  await stopAll();
}
// A worker whose creation failed can keep the event loop alive: exit explicitly.
process.exit(exitCode);
