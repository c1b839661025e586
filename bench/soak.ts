// `npm run soak -- --json`: four weeks of the daily loop on one production-like stack (the chaos
// stack: Temporal dev server in SQLite, PostgreSQL, the sandbox platforms, the loop worker as its
// own process), with faults of the chaos matrix (bench/chaos/faults.ts) drawn from a seed and
// sprinkled over the days, and the worker restarted now and then. It checks what only time shows:
// nothing duplicated or lost day after day, the worker's memory flat after the first week, and
// workflow histories bounded. One JSON object on stdout; progress on stderr; exit status 1 when a
// promise broke. See docs/reliability.md, "The soak".
//   npm run -s soak -- --json          (-s: npm prints no banner, so stdout is the JSON alone)
//   npm run -s soak -- --days 3 --markets 2 --seed 7 --keep
import { Command } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addDays, parseIsoDate } from '../core/dates.ts';
import { parseMarketCode } from '../core/ids.ts';
import { loadWorld } from '../sandbox/world.ts';
import { startTempPostgres, type TempPostgres } from '../scripts/lib/postgres.ts';
import { ensureTemporalCli } from '../scripts/lib/temporal-cli.ts';
import { wholeNumber } from './args.ts';
import { FAULTS } from './chaos/faults.ts';
import { startChaosStack, type ChaosStack } from './chaos/stack.ts';
import { soakDays, type FailedDay, type SoakDayOutcome } from './soak/day.ts';
import { rssGrowth, type RssSample } from './soak/growth.ts';
import { historySizes, historyTrends, type HistorySize } from './soak/histories.ts';
import { planSoak } from './soak/plan.ts';
import { trackWorkers } from './soak/workers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
/** The memory window starts here: growth is measured from this day's sample to the last day's. */
const MEMORY_FROM_DAY = 7;
/** The promise: the worker's memory grows less than this over the memory window. */
const MAX_RSS_GROWTH = 0.1;
/** Temporal's default history warning limits (the server fails a run at 51,200 events / 50 MB). */
const HISTORY_WARN_EVENTS = 10_240;
const HISTORY_WARN_BYTES = 10 * 1024 * 1024;

const opts = new Command()
  .name('npm run soak --')
  .description(
    'Run the daily loop for weeks under seeded faults; check nothing is duplicated or lost, memory stays flat and histories stay bounded.',
  )
  .option('--world <file>', 'sandbox world', path.join(ROOT, 'sandbox/worlds/bench.json'))
  .option(
    '--markets <n|codes>',
    "how many of the world's markets (its first n), or a comma-separated list of them",
    '10',
  )
  .option('--days <n>', 'simulated days', wholeNumber('--days'), 28)
  .option('--seed <n>', 'seed of the fault and restart schedule', wholeNumber('--seed', 0), 1)
  .option('--date <YYYY-MM-DD>', 'the first simulated day', '2026-06-01')
  .option('--day-timeout <seconds>', 'longest one day may take', wholeNumber('--day-timeout'), 900)
  .option(
    '--settle <seconds>',
    "idle time after a day's loop before the worker's memory is sampled",
    wholeNumber('--settle', 0),
    5,
  )
  .option('--keep', 'keep the soak’s folder (worker logs, Temporal history) and print where')
  .option('--json', 'print only the JSON result on stdout')
  // A wrong argument exits 2 like any other setup error: 1 means a promise broke.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .parse()
  .opts<{
    world: string;
    markets: string;
    days: number;
    seed: number;
    date: string;
    dayTimeout: number;
    settle: number;
    keep?: boolean;
    json?: boolean;
  }>();

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The markets asked for: the world's first n, or the codes given (each in the world, once). */
function chooseMarkets(arg: string, world: ReturnType<typeof loadWorld>): string[] {
  const all = world.catalog.markets.map((m) => m.code);
  if (/^\d+$/.test(arg.trim())) {
    const n = Number(arg);
    if (n < 1) throw new Error('--markets must be at least 1');
    if (n > all.length)
      throw new Error(
        `--markets ${n}: the world "${world.name}" has only ${all.length} markets (${all.join(', ')}); use a world with more (sandbox/worlds/scale.json has 50)`,
      );
    return all.slice(0, n);
  }
  const codes = arg.split(',').map((m) => parseMarketCode(m.trim(), '--markets'));
  const unknown = codes.filter((m) => !all.includes(m));
  if (unknown.length > 0)
    throw new Error(
      `--markets: ${unknown.join(', ')} not in the world "${world.name}" (it has ${all.join(', ')})`,
    );
  const twice = codes.filter((m, i) => codes.indexOf(m) !== i);
  if (twice.length > 0) throw new Error(`--markets: ${twice.join(', ')} given twice`);
  return codes;
}

let postgres: TempPostgres | null = null;
let stack: ChaosStack | null = null;
let root: string | null = null;
let exitCode: number;
try {
  const date0 = parseIsoDate(opts.date, '--date');
  const worldFile = path.resolve(opts.world);
  if (!fs.existsSync(worldFile)) throw new Error(`--world: no file ${worldFile}`);
  const world = loadWorld(worldFile);
  const markets = chooseMarkets(opts.markets, world);
  const plan = planSoak({
    days: opts.days,
    seed: opts.seed,
    faults: FAULTS,
    memoryFrom: MEMORY_FROM_DAY,
  });

  const cli = await ensureTemporalCli(log);
  log('soak: starting PostgreSQL…');
  postgres = await startTempPostgres();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-soak-'));
  const started = performance.now();
  stack = await startChaosStack({
    dir: root,
    world: worldFile,
    markets,
    date: date0,
    postgres,
    cli,
  });
  const workers = trackWorkers(stack);
  workers.day = 1;
  workers.reason = 'the first worker';
  workers.stack.startWorker();
  workers.reason = null;
  log(
    `soak: ${opts.days} days × ${markets.length} markets (${markets.join(', ')}) of "${world.name}", seed ${opts.seed}, ${FAULTS.length} faults in the matrix`,
  );

  const days = soakDays({
    workers,
    postgres,
    markets,
    dayTimeoutMs: opts.dayTimeout * 1000,
    log,
  });
  const outcomes: SoakDayOutcome[] = [];
  const failedDays: FailedDay[] = [];
  const problems: string[] = [];
  const samples: Array<RssSample & { selfMb: number; peakMb: number | null; processes: number }> =
    [];
  for (const day of plan) {
    const date = addDays(date0, day.day - 1);
    const faults = day.faults.map((name) => FAULTS.find((f) => f.name === name)!);
    let outcome: SoakDayOutcome;
    try {
      outcome = await days.run(day, date, faults);
    } catch (err) {
      // The day's checks themselves failed (the audit could not read the sandbox, say).
      problems.push(`${date}: the soak's day failed: ${(err as Error).message}`);
      log(`day ${day.day}/${opts.days} ${date}: the soak's day failed: ${(err as Error).message}`);
      continue;
    }
    outcomes.push(outcome);
    failedDays.push(...outcome.failed);
    problems.push(...outcome.problems);
    // Memory at the same moment each day: `--settle` seconds after the day's loop closed (the
    // audit runs meanwhile, in this process; the worker only polls).
    const wait = outcome.loopEndedAt + opts.settle * 1000 - performance.now();
    if (wait > 0) await sleep(wait);
    const sample = workers.sample();
    if (sample)
      samples.push({
        day: day.day,
        worker: sample.lifetime.worker,
        rssMb: sample.rss.rssMb,
        selfMb: sample.rss.selfMb,
        peakMb: sample.rss.peakMb,
        processes: sample.rss.processes,
      });
    const done = outcome.result?.markets.filter((m) => m.status === 'completed').length ?? 0;
    log(
      `day ${day.day}/${opts.days} ${date}` +
        ` [${outcome.on.join(', ') || 'no fault'}${day.restart ? ', restart before' : ''}]` +
        `: ${done}/${markets.length} completed, ${outcome.duplicates} duplicates, ${outcome.lost} lost rows` +
        (outcome.excused.length ? ` (excused: ${outcome.excused.join(', ')})` : '') +
        (outcome.reaudited ? ` (re-audited from ${outcome.reaudited}'s lookback)` : '') +
        `, rss ${sample ? `${sample.rss.rssMb} MB (peak ${sample.rss.peakMb ?? '?'}, worker ${sample.lifetime.worker})` : 'no worker'}` +
        `, ${outcome.seconds} s, ${outcome.requests.meta} Meta + ${outcome.requests.tiktok} TikTok requests` +
        (outcome.missed.length ? `\n  never struck: ${outcome.missed.join(', ')}` : '') +
        [
          ...outcome.failed.map((f) => `${f.market}: ${f.reason}`),
          ...outcome.problems,
          ...outcome.lostExamples,
        ]
          .map((l) => `\n  ${l}`)
          .join(''),
    );
  }

  // Histories of everything that ran, and whether any workflow outlived its day.
  const sizes: HistorySize[] = await historySizes(stack.client);
  const byBytes = [...sizes].sort((a, b) => b.bytes - a.bytes)[0];
  const byEvents = [...sizes].sort((a, b) => b.events - a.events)[0];
  const running = sizes.filter((s) => s.status === 'RUNNING');
  for (const r of running)
    problems.push(
      `${r.workflow} (${r.type}) is still running after the last day: a day's run that never finished, or a workflow that lives across days (which needs continue-as-new)`,
    );
  if (byEvents && byEvents.events > HISTORY_WARN_EVENTS)
    problems.push(
      `${byEvents.workflow} has ${byEvents.events} history events (Temporal warns at ${HISTORY_WARN_EVENTS})`,
    );
  if (byBytes && byBytes.bytes > HISTORY_WARN_BYTES)
    problems.push(
      `${byBytes.workflow}'s history is ${byBytes.bytes} bytes (Temporal warns at 10 MB)`,
    );

  problems.push(...stack.crashes, ...workers.problems);
  const last = outcomes[outcomes.length - 1];
  if (days.pendingReaudit)
    problems.push(
      `the audits excused since ${days.pendingReaudit} were never re-checked: no later day read every source`,
    );

  const growth =
    opts.days > MEMORY_FROM_DAY ? rssGrowth(samples, MEMORY_FROM_DAY, opts.days) : null;
  // The same line over the window's second half only: when it is flat and the whole window's is
  // not, the growth was the worker settling in (it may have started late in the first week), not
  // a leak.
  const lateFrom = Math.ceil((MEMORY_FROM_DAY + opts.days) / 2);
  const lateGrowth = opts.days > lateFrom ? rssGrowth(samples, lateFrom, opts.days) : null;
  const windowSamples = samples.filter((s) => s.day >= MEMORY_FROM_DAY);
  const oneWorker = new Set(windowSamples.map((s) => s.worker)).size === 1;
  if (opts.days > MEMORY_FROM_DAY) {
    if (!growth) problems.push('the worker’s memory could not be measured over the window');
    else if (growth.growth >= MAX_RSS_GROWTH)
      problems.push(
        `the worker's memory grew ${round(growth.growth * 100)}% from day ${MEMORY_FROM_DAY} to day ${opts.days} (at most ${MAX_RSS_GROWTH * 100}%)`,
      );
    if (!oneWorker)
      problems.push(
        `the memory window (days ${MEMORY_FROM_DAY}–${opts.days}) saw ${new Set(windowSamples.map((s) => s.worker)).size} worker processes; growth was pooled within each`,
      );
  }

  const duplicates = last?.duplicates ?? 0;
  const lostRows = outcomes.reduce((n, o) => n + o.lost, 0);
  const faultsApplied = Object.fromEntries(FAULTS.map((f) => [f.name, 0]));
  const faultsMissed: Record<string, number> = {};
  for (const o of outcomes) {
    for (const f of o.applied) faultsApplied[f] = (faultsApplied[f] ?? 0) + 1;
    for (const f of o.missed) faultsMissed[f] = (faultsMissed[f] ?? 0) + 1;
  }
  const rssOf = (day: number) => samples.find((s) => s.day === day);
  const outcomeOf = (day: number) => outcomes.find((o) => o.day === day);
  const passed =
    duplicates === 0 &&
    lostRows === 0 &&
    failedDays.length === 0 &&
    problems.length === 0 &&
    outcomes.length === plan.length;
  const result = {
    days: opts.days,
    markets,
    seed: opts.seed,
    world: world.name,
    faults_applied: faultsApplied,
    faults_missed: faultsMissed,
    worker_restarts: workers.lifetimes.length - 1,
    worker_lifetimes: workers.lifetimes.map((l) => ({
      worker: l.worker,
      from_day: l.fromDay,
      last_sampled_day: l.lastSampledDay,
      reason: l.reason,
    })),
    duplicates,
    removed_twins: last?.removedTwins ?? 0,
    lost_rows: lostRows,
    lost_rows_reaudit: outcomes.reduce((n, o) => n + o.reauditLost, 0),
    rows_checked: {
      delivery: outcomes.reduce((n, o) => n + o.rowsChecked.delivery, 0),
      attribution: outcomes.reduce((n, o) => n + o.rowsChecked.attribution, 0),
    },
    rss_mb: plan.map((d) => rssOf(d.day)?.rssMb ?? null),
    rss_peak_mb: plan.map((d) => rssOf(d.day)?.peakMb ?? null),
    rss_self_mb: plan.map((d) => rssOf(d.day)?.selfMb ?? null),
    rss_processes: Math.max(0, ...samples.map((s) => s.processes)),
    rss_worker: plan.map((d) => rssOf(d.day)?.worker ?? null),
    rss_growth_after_day7: growth ? round(growth.growth, 4) : null,
    rss_growth: growth
      ? {
          method: `Theil–Sen slope over the daily samples of days ${MEMORY_FROM_DAY}..${opts.days}, pairs within one worker process only, × ${opts.days - MEMORY_FROM_DAY} days / the line's value on day ${MEMORY_FROM_DAY}`,
          slope_mb_per_day: round(growth.slopeMbPerDay, 2),
          baseline_mb: round(growth.baselineMb),
          endpoints: growth.endpoints === null ? null : round(growth.endpoints, 4),
          samples: growth.samples,
          workers: growth.workers,
          second_half: lateGrowth
            ? {
                from_day: lateFrom,
                slope_mb_per_day: round(lateGrowth.slopeMbPerDay, 2),
              }
            : null,
        }
      : null,
    largest_history: byBytes
      ? {
          workflow: byBytes.workflow,
          type: byBytes.type,
          events: byBytes.events,
          bytes: byBytes.bytes,
        }
      : null,
    most_history_events:
      byEvents && byEvents !== byBytes
        ? {
            workflow: byEvents.workflow,
            type: byEvents.type,
            events: byEvents.events,
            bytes: byEvents.bytes,
          }
        : undefined,
    histories: {
      workflows: sizes.length,
      running_at_end: running.map((r) => r.workflow),
      trends: historyTrends(sizes),
    },
    failed_days: failedDays,
    problems,
    seconds_per_day: plan.map((d) => outcomeOf(d.day)?.seconds ?? null),
    platform_requests_per_day: {
      meta: plan.map((d) => outcomeOf(d.day)?.requests.meta ?? null),
      tiktok: plan.map((d) => outcomeOf(d.day)?.requests.tiktok ?? null),
    },
    passed,
    seconds: Math.round((performance.now() - started) / 1000),
  };
  if (opts.keep) log(`soak: kept ${root}`);
  if (opts.json) console.log(JSON.stringify(result));
  else console.log(JSON.stringify(result, null, 2));
  if (rssOf(MEMORY_FROM_DAY) === undefined && opts.days > MEMORY_FROM_DAY)
    log(`soak: no memory sample on day ${MEMORY_FROM_DAY}`);
  exitCode = passed ? 0 : 1;
} catch (err) {
  console.error(`soak: ${(err as Error).message}`);
  exitCode = 2;
} finally {
  try {
    await stack?.close();
  } catch {
    // best effort: the database server still stops
  }
  postgres?.stop();
  if (root && !opts.keep) fs.rmSync(root, { recursive: true, force: true });
}
process.exit(exitCode);
