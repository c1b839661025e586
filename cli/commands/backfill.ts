// `adloop backfill --from YYYY-MM-DD --to YYYY-MM-DD [--markets SE,DE] [--sources delivery,attribution]
// [--json]`: the recovery after a fault longer than the ingest's lookback (the MMP down five days
// when three are re-read). Starts the `metricsBackfill` workflow (`backfill/<from>/<to>`) on the
// loop worker, which re-reads exactly that range through the daily ingest's own code, prints each
// market's progress on stderr, and then what changed: rows added, changed (old -> new) and found
// as stored, per source and market, and the learn snapshots recomputed.
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import proto from '@temporalio/proto';
import {
  backfillRangeProblems,
  parseBackfillMarkets,
  parseBackfillSources,
} from '../../activities/ingest/backfill-range.ts';
import { addDays, todayUtc } from '../../core/dates.ts';
import { backfillMarketWorkflowId, backfillWorkflowId } from '../../core/ids.ts';
import {
  BACKFILL_SOURCES,
  type BackfillInput,
  type BackfillMarketProgress,
  type BackfillResult,
  type BackfillValue,
  type DateWindow,
  type IsoDate,
} from '../../core/types.ts';
import { getBackfillMarketProgress, getBackfillStatus } from '../../workflows/backfill.ts';
import type { metricsBackfill } from '../../workflows/index.ts';
import { connectCli } from '../temporal-client.ts';

/** `adloop backfill` options, named as commander gives them. */
export interface BackfillOptions {
  /** First day, YYYY-MM-DD. Required. */
  from: string;
  /** Last day, YYYY-MM-DD, before today. Required. */
  to: string;
  /** `SE,DE`. Default: every market an account of the accounts file runs. */
  markets?: string;
  /** `delivery`, `attribution` or both. Default both (attribution when an MMP is configured). */
  sources?: string;
  /** Print the result as one JSON object instead of a table. Default off. */
  json?: boolean;
}

/**
 * The request the options make, checked as the worker will check it (dates, order, a day not over
 * yet, older than a source keeps, unknown sources), so a bad one fails before anything starts.
 * Which markets exist only the worker knows (its accounts file): it names unknown ones.
 */
export function backfillRequest(o: BackfillOptions, today: IsoDate): BackfillInput {
  const sources = o.sources === undefined ? undefined : parseBackfillSources(o.sources);
  const markets = o.markets === undefined ? undefined : parseBackfillMarkets(o.markets);
  const problems = backfillRangeProblems(o, sources ?? BACKFILL_SOURCES, today);
  if (problems.length > 0) throw new Error(problems.join('; '));
  return {
    from: o.from,
    to: o.to,
    ...(markets ? { markets } : {}),
    ...(sources ? { sources } : {}),
  };
}

const show = (v: BackfillValue) => (typeof v === 'string' ? v : JSON.stringify(v));

const span = (d: DateWindow) => (d.since === d.until ? d.since : `${d.since}..${d.until}`);

/** Ascending days as runs of consecutive ones: `2026-03-02..2026-03-08, 2026-03-10`. */
function runsOf(dates: readonly IsoDate[]): string {
  const runs: DateWindow[] = [];
  for (const date of dates) {
    const last = runs.at(-1);
    if (last && addDays(last.until, 1) === date) last.until = date;
    else runs.push({ since: date, until: date });
  }
  return runs.map(span).join(', ');
}

/** The result as an operator reads it: a table per source and market, examples, learn, failures. */
export function formatBackfillResult(r: BackfillResult): string[] {
  const lines = [
    `Backfill ${r.from}..${r.to}: ${r.markets.join(', ')}; ${r.sources.join(' and ')}`,
  ];
  const rows = [
    ['source', 'market', 'read', 'added', 'changed', 'unchanged'],
    ...r.tallies.map((t) => [
      t.source,
      t.market,
      ...[t.read, t.added, t.changed, t.unchanged].map(String),
    ]),
    [
      'total',
      '',
      ...[r.totals.read, r.totals.added, r.totals.changed, r.totals.unchanged].map(String),
    ],
  ];
  const width = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows)
    lines.push(
      '  ' +
        row
          .map((cell, i) => (i < 2 ? cell.padEnd(width[i]!) : cell.padStart(width[i]!)))
          .join('  '),
    );
  const examples = r.tallies.flatMap((t) => t.examples.map((e) => ({ t, e })));
  if (examples.length > 0) {
    lines.push('Changed rows, e.g. (old → new):');
    for (const { t, e } of examples)
      lines.push(
        `  ${t.source} ${t.market} ${e.date} ${e.row}: ` +
          Object.entries(e.changes)
            .map(([field, c]) => `${field} ${show(c.old)} → ${show(c.new)}`)
            .join(', '),
      );
  }
  for (const t of r.tallies)
    if (t.changedDays.length > 0)
      lines.push(`Changed days ${t.source} ${t.market}: ${t.changedDays.map(span).join(', ')}`);
  for (const l of r.learn) {
    if (l.recomputed.length > 0)
      lines.push(
        `Learn ${l.market}: recomputed ${l.recomputed.length} snapshot${l.recomputed.length === 1 ? '' : 's'} over the changed days (${runsOf(l.recomputed)})`,
      );
    for (const f of l.failed)
      lines.push(`Learn ${l.market}: snapshot ${f.date} NOT recomputed: ${f.error}`);
  }
  if (r.learn.every((l) => l.recomputed.length === 0 && l.failed.length === 0))
    lines.push('Learn: no stored snapshot covers a changed day; nothing to recompute');
  for (const t of r.tallies)
    for (const n of t.notes) lines.push(`Note ${t.source} ${t.market}: ${n}`);
  for (const n of r.notes) lines.push(`Note: ${n}`);
  for (const f of r.failed)
    lines.push(
      `FAILED ${f.market}: ${f.error} (run the same range again: it re-reads idempotently)`,
    );
  return lines;
}

/** One progress line for a market's state. */
function progressLine(p: BackfillMarketProgress): string {
  const where = p.window
    ? ` ${p.window.since}..${p.window.until} (window ${Math.min(p.windowsDone + 1, p.windows)}/${p.windows})`
    : '';
  if (p.stage === 'learn')
    return `  [${p.market}] learn: ${p.learnDone}/${p.learnTotal} snapshots recomputed`;
  if (p.stage === 'delivery' || p.stage === 'attribution')
    return `  [${p.market}] ${p.stage}${where}`;
  return `  [${p.market}] ${p.stage}`;
}

/** Prints each market's progress on stderr as it changes, until `until` settles. */
async function watch(
  client: Client,
  workflowId: string,
  until: Promise<unknown>,
  print: (line: string) => void,
  intervalMs = 500,
): Promise<void> {
  let settled = false;
  void until.then(
    () => (settled = true),
    () => (settled = true),
  );
  let planned = false;
  const last = new Map<string, string>();
  const poll = async () => {
    const status = await client.workflow
      .getHandle(workflowId)
      .query(getBackfillStatus)
      .catch(() => null);
    if (!status?.plan) return;
    if (!planned) {
      planned = true;
      const p = status.plan;
      print(
        `▸ ${p.markets.join(', ')}: ${p.sources.join(' and ')}, ${p.windows.length} window${p.windows.length === 1 ? '' : 's'} of up to 30 days`,
      );
    }
    await Promise.all(
      status.plan.markets.map(async (market) => {
        const p = await client.workflow
          .getHandle(backfillMarketWorkflowId(workflowId, market))
          .query(getBackfillMarketProgress)
          .catch(() => null); // not started yet, or between workers: next tick
        if (!p) return;
        const line = progressLine(p);
        if (last.get(market) !== line) {
          last.set(market, line);
          print(line);
        }
      }),
    );
  };
  while (!settled) {
    await poll();
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  await poll(); // how each market ended
}

/** The innermost message of a failed workflow: the activity's own words. */
function innermost(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

export async function backfillCommand(o: BackfillOptions): Promise<void> {
  const input = backfillRequest(o, todayUtc());
  const cli = await connectCli();
  const print = (line: string) => console.error(line);
  try {
    const { client, config } = cli;
    const workflowId = backfillWorkflowId(input.from, input.to);
    let running = false;
    try {
      running = (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    // A running backfill of the range is attached to (USE_EXISTING: never two reading the same
    // days at once); a finished one is run again (ALLOW_DUPLICATE: a rerun re-reads the range).
    const handle: WorkflowHandle<typeof metricsBackfill> = await client.workflow.start<
      typeof metricsBackfill
    >('metricsBackfill', {
      workflowId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    print(
      running
        ? `▸ ${workflowId}: attached to the backfill already running (its markets and sources are the ones it was started with)`
        : `▸ ${workflowId}: started on ${config.TEMPORAL_TASK_QUEUE}; Ctrl-C stops watching, not the backfill`,
    );
    const queue = await client.workflowService.describeTaskQueue({
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: { name: config.TEMPORAL_TASK_QUEUE },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    if ((queue.pollers ?? []).length === 0)
      print(
        `  no loop worker polls ${config.TEMPORAL_TASK_QUEUE} yet: the backfill starts when one does (npm start, npm run worker)`,
      );
    const result = handle.result();
    await watch(client, workflowId, result, print);
    let r: BackfillResult;
    try {
      r = await result;
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      // The activity's own words (a bad range, an unknown market), not Temporal's wrappers.
      console.error(`adloop: ${workflowId} failed: ${innermost(err)}`);
      process.exitCode = 1;
      return;
    }
    if (o.json) console.log(JSON.stringify(r, null, 2));
    else for (const line of formatBackfillResult(r)) console.log(line);
    if (r.failed.length > 0) process.exitCode = 1;
  } finally {
    await cli.close();
  }
}
