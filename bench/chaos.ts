// `npm run chaos -- --json`: the fault matrix. For each fault (bench/chaos/faults.ts) it runs the
// daily loop for the markets on a fresh, production-like stack (Temporal dev server, PostgreSQL,
// the sandbox platforms, the loop worker as its own process): a clean day, the fault's day (or
// days), the operator's recovery where the fault calls for one, and a clean day. It checks against
// the sandbox's own records that every market's day completed, that no ad, campaign, ad set or
// creative was made twice, that no metric row was lost, and that the fault struck. One JSON
// object: a summary and a line per fault. Exit status 1 when any fault broke a promise.
//   npm run chaos -- --json
//   npm run chaos -- --faults platform-5xx,worker-killed-in-deploy --keep
//   npm run chaos -- --list
import { Command } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseIsoDate } from '../core/dates.ts';
import { parseMarketCode } from '../core/ids.ts';
import { loadWorld } from '../sandbox/world.ts';
import { FAULTS } from './chaos/faults.ts';
import { runScenario, type FaultReport } from './chaos/scenario.ts';
import { startTempPostgres, type TempPostgres } from '../scripts/lib/postgres.ts';
import { ensureTemporalCli } from '../scripts/lib/temporal-cli.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const opts = new Command()
  .name('npm run chaos --')
  .description('Run the daily loop under each fault and check nothing is duplicated or lost.')
  .option('--faults <names>', 'comma-separated faults to run (default: all; see --list)')
  .option('--world <file>', 'sandbox world', path.join(ROOT, 'sandbox/worlds/bench.json'))
  .option('--markets <codes>', 'markets (at least 5 for the full matrix)', 'US,GB,DE,BR,EG')
  .option('--date <YYYY-MM-DD>', 'the first of the three simulated days', '2026-06-01')
  .option('--day-timeout <seconds>', 'longest one day may take', '900')
  .option('--keep', 'keep each scenario’s folder (logs, Temporal history) and print where')
  .option('--list', 'list the faults and exit')
  .option('--json', 'print only the JSON result on stdout')
  .parse()
  .opts<{
    faults?: string;
    world: string;
    markets: string;
    date: string;
    dayTimeout: string;
    keep?: boolean;
    list?: boolean;
    json?: boolean;
  }>();

if (opts.list) {
  for (const f of FAULTS) console.log(`${f.name.padEnd(28)} ${f.what}`);
  process.exit(0);
}

const log = (line: string) => process.stderr.write(`${line}\n`);
let postgres: TempPostgres | null = null;
let root: string | null = null;
let exitCode: number;
try {
  const date = parseIsoDate(opts.date, '--date');
  const worldFile = path.resolve(opts.world);
  const world = loadWorld(worldFile);
  const markets = opts.markets.split(',').map((m) => parseMarketCode(m.trim(), '--markets'));
  const unknown = markets.filter((m) => !world.catalog.markets.some((c) => c.code === m));
  if (unknown.length > 0)
    throw new Error(
      `--markets: ${unknown.join(', ')} not in the world "${world.name}" (it has ${world.catalog.markets.map((m) => m.code).join(', ')})`,
    );
  const wanted = opts.faults?.split(',').map((f) => f.trim()) ?? FAULTS.map((f) => f.name);
  const missing = wanted.filter((w) => !FAULTS.some((f) => f.name === w));
  if (missing.length > 0)
    throw new Error(`--faults: no fault named ${missing.join(', ')} (see npm run chaos -- --list)`);
  const dayTimeoutMs = Number(opts.dayTimeout) * 1000;
  if (!Number.isFinite(dayTimeoutMs) || dayTimeoutMs <= 0)
    throw new Error(`--day-timeout must be a number of seconds, not "${opts.dayTimeout}"`);

  const cli = await ensureTemporalCli(log);
  log('chaos: starting PostgreSQL…');
  postgres = await startTempPostgres();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-chaos-'));
  const started = performance.now();
  const reports: FaultReport[] = [];
  for (const [i, fault] of FAULTS.filter((f) => wanted.includes(f.name)).entries()) {
    log(`[${i + 1}/${wanted.length}] ${fault.name}: ${fault.what}`);
    const dir = path.join(root, fault.name);
    let report: FaultReport;
    try {
      report = await runScenario(fault, {
        dir,
        world: worldFile,
        markets,
        date,
        postgres,
        cli,
        dayTimeoutMs,
        log,
      });
    } catch (err) {
      report = {
        fault: fault.name,
        days: 0,
        completed: false,
        duplicate_ads: 0,
        twins_removed: 0,
        lost_metric_rows: 0,
        fallback_used: false,
        seconds: 0,
        injected: null,
        degraded: 0,
        failures: [`the scenario itself failed: ${(err as Error).message}`],
        rows_checked: { delivery: 0, attribution: 0 },
      };
    }
    reports.push(report);
    log(
      `  => ${report.completed ? 'completed' : 'NOT COMPLETED'}, ${report.duplicate_ads} duplicate ads, ${report.lost_metric_rows} lost rows, fallback ${report.fallback_used ? 'used' : 'not used'}, ${report.seconds} s` +
        (report.failures.length ? `\n     ${report.failures.join('\n     ')}` : ''),
    );
    if (opts.keep) log(`     kept: ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }

  const passed = reports.every(
    (r) => r.completed && r.duplicate_ads === 0 && r.lost_metric_rows === 0,
  );
  const result = {
    summary: {
      world: world.name,
      markets,
      faults: reports.length,
      completed: reports.filter((r) => r.completed).length,
      duplicate_ads: reports.reduce((n, r) => n + r.duplicate_ads, 0),
      lost_metric_rows: reports.reduce((n, r) => n + r.lost_metric_rows, 0),
      fallback_used: reports.filter((r) => r.fallback_used).map((r) => r.fault),
      passed,
      seconds: Math.round((performance.now() - started) / 1000),
    },
    faults: reports,
  };
  if (opts.json) console.log(JSON.stringify(result));
  else console.log(JSON.stringify(result, null, 2));
  exitCode = passed ? 0 : 1;
} catch (err) {
  console.error(`chaos: ${(err as Error).message}`);
  exitCode = 2;
} finally {
  postgres?.stop();
  if (root && !opts.keep) fs.rmSync(root, { recursive: true, force: true });
}
process.exit(exitCode);
