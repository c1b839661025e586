// `npm run bench:loop -- --json`: a full day of the daily loop of a sandbox world (default `scale`:
// 50 generated markets, 100,000 artists) on this machine, and how much of its wall time is
// orchestration rather than work.
//
// A full day is day N of a deployment that has been running, not a cold first day. The --days - 1
// warm-up days before the measured --date run the same production loop with the same config (that
// is how history is made), so on day N every stage does what it does every day:
//   - ingest reads the catalog, and platform metrics and Adjust attribution over their lookback
//     (METRICS_LOOKBACK_DAYS and ATTRIBUTION_LOOKBACK_DAYS, 3 days by default: warm-up days
//     deployed the ads those days delivered on);
//   - rank scores with the champion XGBoost model (RANKING_POLICY ml, the default) that the
//     warm-up days' training activity trained and promoted;
//   - render makes static and motion creatives in all four ratios (the defaults), for the creatives
//     it has not rendered before: creatives are content-addressed, so one a warm-up day rendered is
//     a cache hit, as in any running deployment. Warm-up days render with the same config, so the
//     cache holds what production would hold, no more (day N is not made cheap) and no less (day N
//     does not re-render yesterday's creatives in motion). `renders` says what day N rendered;
//   - deploy rotates next to yesterday's live ads; learn reads the results; the day ends with the
//     training activity (a challenger trained, promoted or not).
// Why 4 days by default: a creative-day (an ad's delivery on a day) is a training row only when its
// market had delivery with conversions before it, so day 1 trains nothing. Learn stores the day's
// own Meta delivery, so day 2's training has day 2's rows (6 per market with the defaults: 3 ads in
// an iOS and an Android ad set) and gives the first model once there are ml/training.ts's
// MIN_TRAINING_ROWS (60): 10 markets or more. Days 3 and 4 rank with a model, and day 4's 3-day
// metrics and attribution lookback holds days 1-3. With fewer markets a model needs more days;
// `full_day` says whether day N had everything.
// What it costs: the day is mostly rendering the day's new creatives (most of a market's 4 are new
// each day), each in static and motion in four ratios. On this project's 2-core machine the scale
// world's 50 markets took 947 s for day N (market gap share 0.15% mean, 0.54% max) and 56 minutes
// for the whole run (4270cc7); --markets 20 took 389 s and 24 minutes. `--markets n` runs the
// first n.
//
// It starts everything itself, isolated and throwaway:
//   - a Temporal dev server in memory (no persistence), headless, on a free port;
//   - the sandbox for the world, in memory on free ports, on a thread of its own: in a real
//     deployment the ad platforms and the catalog source are remote, so their simulation must not
//     share the JavaScript thread of the worker being measured. Its clock is set to each day
//     before that day's loop starts;
//   - PGlite in a temporary directory (DATABASE_URL, when set, is used instead: give it an empty
//     database, as the sandbox's platforms start empty);
//   - a loop worker and a render worker in this process (as `npm start` runs them), configured by
//     loadConfig from its defaults as `npm start` configures them, with only what isolation needs
//     overridden: CATALOG_PATH = the sandbox's JSONL catalog URL with {market}, the sandbox's
//     endpoints and credentials, a temporary CREATIVES_DIR, no metrics endpoint. Render kinds,
//     ratios, ranking policy, lookbacks and ads per market are the defaults. The loop worker runs
//     at most --activity-slots activities at once (default 4; the SDK's default is 100): with one
//     database session, more only wait inside their activities for it, against the stages'
//     2-minute start-to-close timeouts, and hold a 100,000-row catalog each in memory.
// Everything is stopped and removed on exit, on failure and on Ctrl-C.
//
// Every figure of day N comes from the Temporal histories of its `loop/<date>` workflow and each of
// its `market/<code>/<date>` children (event times of ActivityTaskScheduled, ActivityTaskStarted
// and the activity's close: Completed, Failed, TimedOut or Canceled; and the activities' results),
// not from timers here:
//   markets                 markets run;
//   seconds                 day N's wall time: from its daily loop's start event to its close;
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
//                           activities (and before the first, after the last); mean and worst
//                           (the target: under 0.05);
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
//   failed_markets          markets whose loop failed on day N (the script then exits 1);
//   world, artists          the sandbox world and its catalog size;
//   date, day               the measured business date (day N; both, `date` for older readers);
//   database                pglite or postgres;
//   render                  the render config day N ran with: kinds, then ratios;
//   activity_slots, cpus    the loop worker's activity slots; this machine's CPUs.
// Evidence that day N was a full day (from the activities' results in its histories):
//   full_day                true when every market ranked with the model, ingest read platform
//                           metrics and attribution, render ran with motion in all four ratios,
//                           and training ran; not_full_because lists what was missing otherwise;
//   ranker                  markets per policy used (`ml`, `heuristic`; a market configured ml
//                           without a model ranks heuristic), the model versions that ranked
//                           (`models`), and markets on a fallback ranking (`fallback`: metrics not
//                           ingested);
//   renders                 the kinds and ratios the render jobs asked for; renderCreative
//                           executions (`creatives`; `failed` of them), of which `new` rendered at
//                           least one asset (the others were all cache hits: rendered on an
//                           earlier day, or the same day for another market in the same language);
//                           assets rendered and served from the content-addressed cache
//                           (assets_rendered, assets_cached), by kind (with the seconds the renders
//                           took) and by ratio;
//   rows_ingested           catalog artists, platform metric rows and attribution rows read, over
//                           all markets (metrics and attribution re-read their lookback days), and
//                           the markets whose metrics and attribution ingest read any row;
//   deploy                  markets that deployed; ads created, kept and paused, over all markets;
//   learn                   markets that learned and the creatives they learned from;
//   training                the training activity's result: trained, promoted, model version,
//                           why, its training rows and (with enough days) held-out rows;
// and of the run:
//   warmup_days             days run before day N;
//   warmup_seconds          their daily loops' wall times, summed;
//   warmup                  per warm-up day: date, seconds, market_gap_share_mean, failed markets,
//                           ranker, renders (new creatives, assets rendered and cached), metric
//                           rows, training;
//   run_seconds             the whole run, setup and warm-up included (measured here).
// Progress (the day, markets closed of all, stages of the running ones, assets in the creative
// store, elapsed time) goes to stderr, with a summary line per day when it closes; with --json,
// stdout holds exactly one JSON object.
// Warm-up markets that fail are reported and the run goes on (day N is then not full for them);
// the script exits 1 when any market failed on any day.
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';
import { Command } from 'commander';
import { wholeNumber } from './args.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IngestAttributionResult } from '../activities/ingest/attribution.ts';
import type { CreativeJob, CreativeJobResult } from '../activities/render/creative-jobs.ts';
import { loadConfig } from '../core/config.ts';
import { addDays, parseIsoDate } from '../core/dates.ts';
import { STAGE } from '../core/search-attributes.ts';
import {
  ASPECT_RATIOS,
  CREATIVE_KINDS,
  type DailyLoopResult,
  type IngestCatalogResult,
  type IngestMetricsResult,
  type RankStageResult,
} from '../core/types.ts';
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
/** Warm-up days plus the measured day: the fewest that give day N everything (see above). */
const DEFAULT_DAYS = 4;

const opts = new Command()
  .name('npm run bench:loop --')
  .description(
    'Run warm-up days of the daily loop of a sandbox world, then measure a full day: its wall time and orchestration overhead.',
  )
  .option('--world <file>', 'sandbox world', path.join(ROOT, 'sandbox/worlds/scale.json'))
  .option(
    '--markets <n>',
    'run only the first n markets of the world (default all)',
    wholeNumber('--markets'),
  )
  .option(
    '--date <YYYY-MM-DD>',
    'the measured business day (the sandbox simulates it)',
    DEFAULT_DATE,
  )
  .option(
    '--days <n>',
    'days run: warm-up days, then the measured day --date',
    wholeNumber('--days'),
    DEFAULT_DAYS,
  )
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
    days: number;
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
type Payload = temporal.api.common.v1.IPayload;

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
  /** The activity's first argument, as scheduled. */
  input: Payload | null;
  /** Its result, when it completed. */
  result: Payload | null;
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
  const scheduled = new Map<string, { type: string; at: number; input: Payload | null }>();
  const started = new Map<string, { at: number; attempt: number; lastFailure: string | null }>();
  const activities: ActivityRun[] = [];
  const childStart = new Map<string, { workflowId: string; runId: string; started: number }>();
  const children: WorkflowTimeline['children'] = [];
  const key = (id: unknown) => String(id);
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      scheduled.set(key(e.eventId), {
        type: a.activityType?.name ?? '?',
        at: at(e),
        input: a.input?.payloads?.[0] ?? null,
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
          input: s.input,
          result: e.activityTaskCompletedEventAttributes?.result?.payloads?.[0] ?? null,
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
      input: s.input,
      result: null,
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
// What the day did, from its activities' arguments and results (the bench's stack encrypts no
// payload: it sets no PAYLOAD_KEY).

function decoded<T>(p: Payload | null): T | null {
  return p ? defaultPayloadConverter.fromPayload<T>(p) : null;
}

/** The decoded results of a workflow's completed activities of one type. */
function resultsOf<T>(w: WorkflowTimeline, type: string): T[] {
  return w.activities
    .filter((r) => r.type === type && r.result)
    .map((r) => decoded<T>(r.result)!)
    .filter((v) => v !== null);
}

type Tally = { rendered: number; cached: number };

function dayEvidence(
  loop: WorkflowTimeline,
  markets: WorkflowTimeline[],
  outcome: DailyLoopResult,
) {
  // Ranker: the policy each market's ranking was computed with (a market whose policy is ml
  // ranks with the heuristic while there is no model: that is recorded as its policy).
  const ranker = { ml: 0, heuristic: 0, fallback: 0, models: [] as string[] };
  const models = new Set<string>();
  for (const m of markets) {
    const rank = resultsOf<RankStageResult>(m, 'rankMarket').at(-1);
    if (!rank) continue;
    if (rank.ranking.policy === 'ml') ranker.ml += 1;
    else ranker.heuristic += 1;
    if (rank.ranking.source !== 'computed') ranker.fallback += 1;
    if (rank.ranking.modelVersion) models.add(rank.ranking.modelVersion);
  }
  ranker.models = [...models].sort();

  // Renders: per asset, rendered now or served from the content-addressed store (renderMs 0).
  const byKind: Record<string, Tally & { seconds: number }> = {};
  const byRatio: Record<string, Tally> = {};
  const kinds = new Set<string>();
  const ratios = new Set<string>();
  let creatives = 0;
  let failed = 0;
  let fresh = 0;
  const runs = markets.flatMap((m) => m.activities.filter((r) => r.type === 'renderCreative'));
  for (const r of runs) {
    creatives += 1;
    const job = decoded<CreativeJob>(r.input);
    for (const k of job?.spec.kinds ?? []) kinds.add(k);
    for (const q of job?.spec.ratios ?? []) ratios.add(q);
    const out = decoded<CreativeJobResult>(r.result);
    if (!out) {
      failed += 1;
      continue;
    }
    if (out.rendered > 0) fresh += 1;
    for (const { asset, renderMs } of out.assets) {
      const k = (byKind[asset.kind] ??= { rendered: 0, cached: 0, seconds: 0 });
      const q = (byRatio[asset.ratio] ??= { rendered: 0, cached: 0 });
      const field = renderMs > 0 ? 'rendered' : 'cached';
      k[field] += 1;
      q[field] += 1;
      k.seconds += renderMs / 1000;
    }
  }
  for (const k of Object.values(byKind)) k.seconds = round(k.seconds);
  const sum = (t: Record<string, Tally>, f: keyof Tally) =>
    Object.values(t).reduce((s, x) => s + x[f], 0);
  const renders = {
    kinds: CREATIVE_KINDS.filter((k) => kinds.has(k)),
    ratios: ASPECT_RATIOS.filter((q) => ratios.has(q)),
    creatives,
    failed,
    new: fresh,
    assets_rendered: sum(byRatio, 'rendered'),
    assets_cached: sum(byRatio, 'cached'),
    by_kind: byKind,
    by_ratio: byRatio,
  };

  const total = <T>(type: string, f: (r: T) => number) =>
    markets.reduce((s, m) => s + resultsOf<T>(m, type).reduce((t, r) => t + f(r), 0), 0);
  const rowsIngested = {
    catalog_artists: total<IngestCatalogResult>('ingestCatalog', (r) => r.artists),
    metric_rows: total<IngestMetricsResult>('ingestPlatformMetrics', (r) => r.rows),
    attribution_rows: total<IngestAttributionResult>('ingestAttribution', (r) => r.rows),
    // Markets whose ingest read something (metrics and attribution need ads live before today).
    markets_with_metrics: markets.filter((m) =>
      resultsOf<IngestMetricsResult>(m, 'ingestPlatformMetrics').some((r) => r.rows > 0),
    ).length,
    markets_with_attribution: markets.filter((m) =>
      resultsOf<IngestAttributionResult>(m, 'ingestAttribution').some((r) => r.rows > 0),
    ).length,
  };

  const ran = outcome.markets.filter((m) => m.status === 'completed');
  const deploy = {
    markets: ran.filter((m) => m.deploy).length,
    created: ran.reduce((s, m) => s + (m.deploy?.created ?? 0), 0),
    reused: ran.reduce((s, m) => s + (m.deploy?.reused ?? 0), 0),
    paused: ran.reduce((s, m) => s + (m.deploy?.paused ?? 0), 0),
  };
  const learn = {
    markets: ran.filter((m) => m.learn).length,
    creatives: ran.reduce((s, m) => s + (m.learn?.creatives ?? 0), 0),
  };
  const t = outcome.training;
  const training = !t
    ? null
    : 'error' in t
      ? { trained: false, promoted: false, version: null, reason: t.error, rows: 0 }
      : {
          trained: t.trained,
          promoted: t.promoted,
          version: t.version,
          reason: t.reason,
          rows: t.metrics.trainRows ?? 0,
          ...(t.metrics.heldOutRows ? { held_out_rows: t.metrics.heldOutRows } : {}),
        };
  // Whether training ran in this day's loop (its activity is in the loop's own history).
  const trainingRan = loop.activities.some((r) => r.type === 'trainRankingModel' && r.result);
  return { ranker, renders, rowsIngested, deploy, learn, training, trainingRan };
}

/** What day N lacked of a full day (empty when it had everything). */
function notFull(e: ReturnType<typeof dayEvidence>, marketCount: number): string[] {
  const why: string[] = [];
  if (e.ranker.ml < marketCount)
    why.push(
      `${marketCount - e.ranker.ml} of ${marketCount} markets ranked without the model (none trained yet: more --days or markets; or see the runs' fallbacks)`,
    );
  if (e.rowsIngested.markets_with_metrics < marketCount)
    why.push(
      `${marketCount - e.rowsIngested.markets_with_metrics} markets ingested no platform metrics`,
    );
  if (e.rowsIngested.markets_with_attribution < marketCount)
    why.push(
      `${marketCount - e.rowsIngested.markets_with_attribution} markets ingested no attribution`,
    );
  if (e.renders.kinds.length < CREATIVE_KINDS.length)
    why.push(`rendered ${e.renders.kinds.join(',') || 'nothing'} only`);
  if (e.renders.ratios.length < ASPECT_RATIOS.length)
    why.push(`rendered in ${e.renders.ratios.join(',') || 'no ratio'} only`);
  if (!e.trainingRan) why.push('the training activity did not complete');
  return why;
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
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`${signal}: stopping…`);
    void stopAll().then(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  const date = parseIsoDate(opts.date, '--date');
  // Warm-up days, then the measured day `date`.
  const days = Array.from({ length: opts.days }, (_, i) => addDays(date, i - (opts.days - 1)));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-bench-loop-'));
  stack.push({
    name: 'temporary directory',
    stop: () => fs.promises.rm(work, { recursive: true, force: true }),
  });
  // Also when the process dies some other way: the creatives of a scale run are gigabytes.
  process.once('exit', () => fs.rmSync(work, { recursive: true, force: true }));

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

  // 2. The sandbox for the world: in memory, on free ports, simulating the first day, on its own
  // thread (the platforms and the catalog source are remote services in a real deployment).
  const sandbox = await startSandboxThread({ world: path.resolve(opts.world), date: days[0]! });
  stack.push({ name: 'sandbox', stop: () => sandbox.close() });
  const worldMarkets = sandbox.world.markets;
  const markets = worldMarkets.slice(0, opts.markets ?? worldMarkets.length);
  log(
    `sandbox world "${sandbox.world.name}": ${sandbox.world.artistCount} artists, ${worldMarkets.length} markets (running ${markets.length}); days ${days[0]} to ${date}, the last measured`,
  );
  /** Moves the sandbox's business date (its control endpoint, on the Graph port). */
  const setSandboxDate = async (day: string) => {
    const res = await fetch(`${sandbox.metaUrl}/__sandbox/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ date: day }),
    });
    const body = await res.text();
    if (!res.ok) throw new Error(`the sandbox refused the date ${day}: ${res.status} ${body}`);
  };

  // 3. Config as npm start builds it, from a clean environment plus the overrides isolation needs
  // (above): only DATABASE_URL is taken from this process's environment.
  const env: NodeJS.ProcessEnv = {
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    TEMPORAL_ADDRESS: devServer.address,
    PGLITE_DIR: path.join(work, 'pglite'),
    CREATIVES_DIR: path.join(work, 'creatives'),
    CATALOG_PATH: `${sandbox.metaUrl}/__sandbox/catalog.jsonl?market={market}`,
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
  const renderConfig = `${config.RENDER_KINDS.join(',')} ${config.RENDER_RATIOS.join(',')}`;
  log(
    `workers up: loop (database ${worker.database.kind === 'pglite' ? 'PGlite, temporary' : worker.database.where}), render (${render.concurrency} at once, ${config.RENDER_KINDS.join(',')} in ${config.RENDER_RATIOS.join(',')})`,
  );

  const connection = await Connection.connect(temporalConnectionOptions(config));
  stack.push({
    name: 'client',
    // Interrupted, the day's result is still being awaited: a call the client retries on a
    // closed channel throws from a timer, uncaught. The process exit closes it instead.
    stop: () => (interrupted ? Promise.resolve() : connection.close()),
  });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
  const setupSeconds = (performance.now() - t0) / 1000;

  /**
   * Assets in the creative store so far, all days (each asset has its QA record beside it): render
   * progress read from the disk, without asking the workers being measured.
   */
  const storedAssets = async () => {
    let all = 0;
    let motion = 0;
    const dirs = await fs.promises
      .readdir(config.CREATIVES_DIR, { withFileTypes: true })
      .catch(() => []);
    for (const d of dirs) {
      if (!d.isDirectory()) continue;
      for (const f of await fs.promises.readdir(path.join(config.CREATIVES_DIR, d.name))) {
        if (!/\.qa-.+\.json$/.test(f)) continue;
        all += 1;
        if (f.includes('-motion')) motion += 1;
      }
    }
    return `${all} assets in the store (${motion} motion)`;
  };

  /** Runs one day's loop to its end, watched through visibility, and reads its histories. */
  const runDay = async (day: string, label: string) => {
    // 5. The loop, watched through visibility (not queries: those would be workflow tasks on the
    // very worker being measured).
    const { handle } = await startDailyLoop(client, {
      date: day,
      markets,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      renderTaskQueue: config.RENDER_TASK_QUEUE,
    });
    log(`${label}: loop ${handle.workflowId} started for ${markets.length} markets`);
    let done = false;
    const result = handle.result().finally(() => (done = true));
    const progress = (async () => {
      let last = '';
      let lastAt = 0;
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
            if (!w.workflowId.endsWith(`/${day}`)) continue;
            if (w.status.name === 'RUNNING') {
              const stage = w.typedSearchAttributes.get(STAGE) ?? 'starting';
              stages.set(stage, (stages.get(stage) ?? 0) + 1);
            } else {
              closed += 1;
              if (w.status.name !== 'COMPLETED') failed += 1;
            }
          }
          const line =
            `${label}: ${closed}/${markets.length} markets done${failed ? ` (${failed} failed)` : ''}` +
            (stages.size
              ? `; running: ${[...stages].map(([s, n]) => `${s} ${n}`).join(', ')}`
              : '');
          // A line when the markets move on, else one a minute (with the render progress).
          if (line !== last || performance.now() - lastAt > 60_000) {
            log(`${line}; ${await storedAssets()}`);
            lastAt = performance.now();
          }
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
    // 6. The figures, from the histories.
    const loop = timeline(handle.workflowId, (await handle.fetchHistory()).events ?? []);
    const marketTimelines = await Promise.all(
      loop.children.map(async (c) =>
        timeline(
          c.workflowId,
          (await client.workflow.getHandle(c.workflowId, c.runId).fetchHistory()).events ?? [],
        ),
      ),
    );
    return { outcome, loop, markets: marketTimelines };
  };

  const warmup = [];
  const failedOn: Array<{ date: string; market: string; error: string }> = [];
  let measured: Awaited<ReturnType<typeof runDay>> | null = null;
  for (const [i, day] of days.entries()) {
    const isLast = i === days.length - 1;
    const label = `day ${i + 1}/${days.length} ${day}${isLast ? ' (measured)' : ' (warm-up)'}`;
    if (i > 0) await setSandboxDate(day);
    const run = await runDay(day, label);
    const m = measure(run.loop, run.markets);
    const e = dayEvidence(run.loop, run.markets, run.outcome);
    const failed = run.outcome.markets.filter((x) => x.status === 'failed');
    for (const f of failed)
      failedOn.push({ date: day, market: f.market, error: f.error ?? 'no reason given' });
    const tr = e.training;
    log(
      `${label} closed in ${m.seconds} s (market gap share mean ${m.market_gap_share_mean}, max ${m.market_gap_share_max})` +
        `${failed.length ? `, ${failed.length} markets FAILED` : ''}; ranker ml ${e.ranker.ml}, heuristic ${e.ranker.heuristic}` +
        `; renders: ${e.renders.new} of ${e.renders.creatives} creatives new, ${e.renders.assets_rendered} assets rendered, ${e.renders.assets_cached} cached` +
        `; ${e.rowsIngested.metric_rows} metric rows, ${e.rowsIngested.attribution_rows} attribution rows` +
        `; training: ${tr ? `${tr.trained ? `trained v${tr.version}${tr.promoted ? ', promoted' : ', not promoted'}` : 'not trained'} (${tr.reason})` : 'none'}`,
    );
    if (isLast) measured = run;
    else
      warmup.push({
        date: day,
        seconds: m.seconds,
        market_gap_share_mean: m.market_gap_share_mean,
        failed_markets: failed.map((x) => x.market),
        ranker: { ml: e.ranker.ml, heuristic: e.ranker.heuristic },
        renders: {
          new: e.renders.new,
          assets_rendered: e.renders.assets_rendered,
          assets_cached: e.renders.assets_cached,
        },
        metric_rows: e.rowsIngested.metric_rows,
        training: tr,
      });
  }
  const day = measured!;
  const evidence = dayEvidence(day.loop, day.markets, day.outcome);
  const why = notFull(evidence, markets.length);
  const failedMarkets = day.outcome.markets.filter((m) => m.status === 'failed');
  const output = {
    markets: markets.length,
    ...measure(day.loop, day.markets),
    setup_seconds: round(setupSeconds),
    failed_markets: failedMarkets.map((m) => m.market),
    world: sandbox.world.name,
    artists: sandbox.world.artistCount,
    date,
    database: worker.database.kind,
    render: renderConfig,
    activity_slots: opts.activitySlots,
    cpus: os.availableParallelism(),
    day: date,
    full_day: why.length === 0,
    not_full_because: why,
    ranker: evidence.ranker,
    renders: evidence.renders,
    rows_ingested: evidence.rowsIngested,
    deploy: evidence.deploy,
    learn: evidence.learn,
    training: evidence.training,
    warmup_days: warmup.length,
    warmup_seconds: round(warmup.reduce((s, w) => s + w.seconds, 0)),
    warmup,
    run_seconds: round((performance.now() - t0) / 1000),
  };
  console.log(opts.json ? JSON.stringify(output) : JSON.stringify(output, null, 2));
  for (const w of why) log(`day ${date} was not a full day: ${w}`);
  for (const f of failedOn) log(`${f.date}: market ${f.market} FAILED: ${f.error}`);
  if (failedOn.length > 0) exitCode = 1;
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
