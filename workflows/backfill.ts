// `adloop backfill`: re-read a date range of the platforms' delivery and the MMP's attribution,
// store it the way the daily ingest does, say what changed, and recompute the learn snapshots the
// changed days feed. The recovery after a fault longer than the ingest's lookback.
//
//   backfill/<from>/<to>            metricsBackfill: checks the request on the worker (clock,
//                                   accounts, MMP), then one child per market, in parallel
//   backfill/<from>/<to>/<market>   backfillMarket: each window of the range, oldest first, each
//                                   source (one activity each, retried on its own), then learn
//                                   again for every stored snapshot over a changed day
//
// A market per child keeps each history short over the longest range (37 months: 38 windows and
// up to ~1,100 snapshots a market) and lets one market fail without the others. Everything it
// writes is an idempotent upsert: running the same range again re-reads it and changes nothing
// the platforms did not change.
import {
  ActivityFailure,
  ChildWorkflowFailure,
  defineQuery,
  executeChild,
  proxyActivities,
  setHandler,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { backfillMarketWorkflowId, backfillWorkflowId } from '../core/ids.ts';
import { MARKET } from '../core/search-attributes.ts';
import { addDays } from '../core/dates.ts';
import type {
  BackfillInput,
  BackfillLearn,
  BackfillMarketInput,
  BackfillMarketProgress,
  BackfillMarketResult,
  BackfillResult,
  BackfillSource,
  BackfillSourceResult,
  BackfillStatus,
  BackfillTally,
} from '../core/types.ts';
import { bookkeeping, learning } from './activity-options.ts';
import { message } from './failure-kinds.ts';

/** The backfill's plan once the worker accepted it, and the markets done so far. */
export const getBackfillStatus = defineQuery<BackfillStatus>('getBackfillStatus');

/** Where one market's backfill is: the window and source being read, learn's progress. */
export const getBackfillMarketProgress = defineQuery<BackfillMarketProgress>(
  'getBackfillMarketProgress',
);

const { planBackfill } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  // A bad request fails at once (non-retryable); anything else is a blip of the worker's database.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

const reads = proxyActivities<Activities>({
  // A month of a market: a Meta async report job per ad set (each may take minutes) and TikTok's
  // paged reports, paced by the clients' rate limits.
  startToCloseTimeout: '30 minutes',
  // Stage activities heartbeat every few seconds: a dead worker is noticed within this.
  heartbeatTimeout: '30 seconds',
  // Unlike the daily ingest nothing waits on a backfill, so an outage is waited out longer
  // (~7 minutes) before the market fails; a throttled platform says when to come back.
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 8,
  },
});

/** Examples kept per source and market (each window's activity returns up to as many). */
const EXAMPLES = 5;

/** Adds one window's tally to the source's result so far (windows come oldest first). */
function addTally(sum: BackfillSourceResult | undefined, t: BackfillTally): BackfillSourceResult {
  const { changedDates, ...counts } = t;
  const days = sum ? sum.changedDays.map((d) => ({ ...d })) : [];
  for (const date of changedDates) {
    const last = days.at(-1);
    if (last && addDays(last.until, 1) === date) last.until = date;
    else days.push({ since: date, until: date });
  }
  if (!sum) return { ...counts, examples: t.examples.slice(0, EXAMPLES), changedDays: days };
  return {
    ...sum,
    read: sum.read + t.read,
    added: sum.added + t.added,
    changed: sum.changed + t.changed,
    unchanged: sum.unchanged + t.unchanged,
    examples: [...sum.examples, ...t.examples].slice(0, EXAMPLES),
    changedDays: days,
    notes: [...sum.notes, ...t.notes.filter((n) => !sum.notes.includes(n))],
  };
}

/** One market: every window of every source, then learn again where the changes reach. */
export async function backfillMarket(input: BackfillMarketInput): Promise<BackfillMarketResult> {
  const { market } = input;
  const progress: BackfillMarketProgress = {
    market,
    stage: 'starting',
    window: null,
    windowsDone: 0,
    windows: input.windows.length,
    learnDone: 0,
    learnTotal: 0,
  };
  setHandler(getBackfillMarketProgress, () => progress);
  // The audit log (runs, stage_events) records every attempt under this workflow's id.
  await bookkeeping.startMarketRun({ market, date: input.to });
  try {
    const tallies = new Map<BackfillSource, BackfillSourceResult>();
    for (const window of input.windows) {
      progress.window = window;
      for (const source of input.sources) {
        progress.stage = source;
        const read = source === 'delivery' ? reads.backfillDelivery : reads.backfillAttribution;
        tallies.set(source, addTally(tallies.get(source), await read({ market, ...window })));
      }
      progress.windowsDone += 1;
    }
    progress.window = null;
    const changedDays = [...tallies.values()].flatMap((t) => t.changedDays);
    const stale = await bookkeeping.staleLearnSnapshots({ market, changedDays });
    progress.learnTotal = stale.length;
    progress.stage = 'learn';
    const learn: BackfillLearn = { recomputed: [], failed: [] };
    // Oldest first, through learn's own activity: each snapshot from the rows now stored.
    for (const date of stale) {
      try {
        await learning.learnFromResults({ market, date });
        learn.recomputed.push(date);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        // The rows are stored; this snapshot stays stale until the backfill is run again.
        learn.failed.push({ date, error: message(err) });
      }
      progress.learnDone += 1;
    }
    const degraded = learn.failed.map((f) => `learn snapshot ${f.date} not recomputed: ${f.error}`);
    await bookkeeping.finishMarketRun({ status: 'completed', fallbackUsed: false, degraded });
    progress.stage = 'done';
    return {
      market,
      tallies: input.sources.flatMap((s) => tallies.get(s) ?? []),
      learn,
    };
  } catch (err) {
    progress.stage = 'failed';
    await bookkeeping.finishMarketRun({
      status: 'failed',
      fallbackUsed: false,
      error: `backfill: ${message(err)}`,
    });
    throw err;
  }
}

/** What a failed child says, from the activity's own error when there is one. */
function childFailure(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(err);
}

export async function metricsBackfill(input: BackfillInput): Promise<BackfillResult> {
  const status: BackfillStatus = { plan: null, done: [], failed: [] };
  setHandler(getBackfillStatus, () => status);
  const plan = await planBackfill(input);
  status.plan = plan;
  // Named by the range, as the CLI names the backfill: `backfill/<from>/<to>/<market>`.
  const backfillId = backfillWorkflowId(plan.from, plan.to);
  const results = await Promise.all(
    plan.markets.map(async (market) => {
      try {
        const r = await executeChild(backfillMarket, {
          workflowId: backfillMarketWorkflowId(backfillId, market),
          args: [
            { market, from: plan.from, to: plan.to, sources: plan.sources, windows: plan.windows },
          ],
          // A rerun of the range reruns its markets: every read is an idempotent upsert.
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          typedSearchAttributes: [{ key: MARKET, value: market }],
        });
        status.done.push(market);
        return r;
      } catch (err) {
        if (!(err instanceof ChildWorkflowFailure)) throw err;
        status.failed.push(market);
        return { market, error: childFailure(err) };
      }
    }),
  );
  const done = results.filter((r): r is BackfillMarketResult => 'tallies' in r);
  const tallies = done.flatMap((r) => r.tallies);
  const sum = (k: 'read' | 'added' | 'changed' | 'unchanged') =>
    tallies.reduce((s, t) => s + t[k], 0);
  return {
    from: plan.from,
    to: plan.to,
    markets: plan.markets,
    sources: plan.sources,
    tallies,
    totals: {
      read: sum('read'),
      added: sum('added'),
      changed: sum('changed'),
      unchanged: sum('unchanged'),
    },
    learn: done.map((r) => ({ market: r.market, ...r.learn })),
    failed: results.flatMap((r) => ('error' in r ? [{ market: r.market, error: r.error }] : [])),
    notes: plan.notes,
  };
}
