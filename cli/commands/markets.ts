// `adloop pause|resume|rerun|status <market>`: per-market control through the same signals,
// updates and queries the Temporal UI uses (ops/market-control.ts).
import os from 'node:os';
import { localDate, parseIsoDate } from '../../core/dates.ts';
import { marketLoopWorkflowId, parseMarketCode } from '../../core/ids.ts';
import type { MarketStatus } from '../../core/types.ts';
import {
  formatMarketStatus,
  marketStatus,
  pauseMarketRuns,
  rerunMarket,
  resumeMarketRuns,
  type ControlOutcome,
} from '../../ops/market-control.ts';
import { marketsToSchedule, scheduledMarkets } from '../../ops/schedules.ts';
import { formatResult, watchMarkets } from '../daily-loop-client.ts';
import { connectCli } from '../temporal-client.ts';

const operator = (by?: string) => by ?? process.env.USER ?? os.userInfo().username;

/** A run's state as the update answered it (before the workflow acts on the change). */
function describeRun(s: MarketStatus): string {
  const run = `${marketLoopWorkflowId(s.market, s.date)}`;
  if (!s.paused)
    return s.holding
      ? `${run}: was held before its next platform write; continues now`
      : `${run}: running at ${s.stage}`;
  return s.holding
    ? `${run}: HELD before its next platform write`
    : `${run}: at ${s.stage}; holds before its next platform write (a deploy under way stops between requests)`;
}

function report(market: string, verb: 'paused' | 'resumed', out: ControlOutcome) {
  console.log(
    out.schedule === 'none'
      ? `${market}: no schedule, so nothing starts future runs on its own (adloop schedule create)`
      : out.schedule === 'changed'
        ? `${market}: schedule ${verb}`
        : `${market}: schedule ${verb === 'paused' ? 'was paused already' : 'was not paused'}`,
  );
  if (out.runs.length === 0 && out.missed.length === 0)
    console.log(`${market}: no run in progress`);
  for (const r of out.runs) console.log(describeRun(r));
  for (const m of out.missed) console.log(`${market}: not changed: ${m}`);
}

export async function pauseCommand(market: string, o: { by?: string; reason?: string }) {
  const code = parseMarketCode(market);
  const cli = await connectCli();
  try {
    const out = await pauseMarketRuns(
      cli.client,
      code,
      { by: operator(o.by), ...(o.reason ? { reason: o.reason } : {}) },
      { taskQueue: cli.config.TEMPORAL_TASK_QUEUE },
    );
    report(code, 'paused', out);
  } finally {
    await cli.close();
  }
}

export async function resumeCommand(market: string, o: { by?: string }) {
  const code = parseMarketCode(market);
  const cli = await connectCli();
  try {
    report(
      code,
      'resumed',
      await resumeMarketRuns(
        cli.client,
        code,
        { by: operator(o.by) },
        { taskQueue: cli.config.TEMPORAL_TASK_QUEUE },
      ),
    );
  } finally {
    await cli.close();
  }
}

export async function rerunCommand(
  market: string,
  o: { date?: string; wait?: boolean; rerank?: boolean },
) {
  const code = parseMarketCode(market);
  const cli = await connectCli();
  try {
    // Default: today in the market's time zone, the day its schedule runs now.
    const date = o.date
      ? parseIsoDate(o.date, '--date')
      : localDate(new Date(), marketsToSchedule(cli.config, code)[0]!.timeZone);
    const handle = await rerunMarket(cli.client, {
      market: code,
      date,
      taskQueue: cli.config.TEMPORAL_TASK_QUEUE,
      renderTaskQueue: cli.config.RENDER_TASK_QUEUE,
      rerank: o.rerank ?? false,
    });
    console.log(
      `▸ ${marketLoopWorkflowId(code, date)}: rerun started (run ${handle.firstExecutionRunId}); ` +
        (o.rerank
          ? 'ranking the day again (--rerank)'
          : "reusing the day's ranking if it was ranked from its metrics (--rerank ranks again)"),
    );
    if (o.wait === false) return;
    const result = handle.result();
    await watchMarkets(cli.client, date, [code], result, (s) =>
      console.log(
        `  [${s.market}] ${s.stage}${s.fallbackUsed ? ' (fallback: previous ranking)' : ''}`,
      ),
    );
    const r = await result;
    console.log(
      r.ranking.reused
        ? `  ranking: reused the ${r.ranking.items} items ranked for ${date} before; nothing reshuffled`
        : `  ranking: ranked ${date} ${o.rerank ? 'again, as asked' : 'anew (none was stored from its metrics)'} (${r.ranking.source})`,
    );
    for (const line of formatResult({ date, markets: [r] })) console.log(line);
    if (r.status !== 'completed') process.exitCode = 1;
  } finally {
    await cli.close();
  }
}

export async function statusCommand(markets: string[], o: { json?: boolean; recent?: string }) {
  const cli = await connectCli();
  try {
    let codes = markets.map((m) => parseMarketCode(m));
    if (codes.length === 0) {
      // Every scheduled market; without schedules, every market in the catalog.
      codes = await scheduledMarkets(cli.client);
      if (codes.length === 0) {
        codes = /^https?:/.test(cli.config.CATALOG_PATH)
          ? []
          : marketsToSchedule(cli.config).map((m) => m.code);
        if (codes.length === 0)
          throw new Error(
            'no schedules and no catalog file to list markets from: adloop status SE DE',
          );
      }
    }
    const recent = o.recent ? Number(o.recent) : 7;
    if (!Number.isInteger(recent) || recent < 1)
      throw new Error(`--recent must be a whole number ≥ 1, got "${o.recent}"`);
    const reports = [];
    for (const code of codes)
      reports.push(
        await marketStatus(cli.client, code, { recent, taskQueue: cli.config.TEMPORAL_TASK_QUEUE }),
      );
    if (o.json) console.log(JSON.stringify(reports));
    else for (const r of reports) console.log(formatMarketStatus(r).join('\n'));
  } finally {
    await cli.close();
  }
}
