// `npm run bench:ingest -- --json`: write N daily metric rows (default 1,000,000: 10,000 ads over
// 100 days) into PostgreSQL through adloop's delivery writer, one transaction per batch as the
// daily ingest does, with as many batches in flight as there are cores (the loop ingests markets
// in parallel), and print {"rows", "seconds", "rows_per_second"}; then write them all again to
// check re-ingesting is idempotent. Uses DATABASE_URL or TEST_DATABASE_URL (a fresh database is
// created in it), else starts a throwaway PostgreSQL from this machine's binaries.
import { Command } from 'commander';
import { wholeNumber } from './args.ts';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { addDays } from '../core/dates.ts';
import { keyed } from '../core/random.ts';
import { openDatabase } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createDeliveryWriter } from '../db/delivery-writer.ts';
import type { AdMetricsDailyTable } from '../db/delivery.table.ts';
import { startTempPostgres, type TempPostgres } from '../scripts/lib/postgres.ts';

const opts = new Command()
  .name('npm run bench:ingest --')
  .option('--rows <n>', 'rows to write', wholeNumber('--rows', 1000), 1_000_000)
  .option('--ads <n>', 'ads per day (rows per transaction)', (v) => Number(v), 10_000)
  .option(
    '--concurrency <n>',
    'batches in flight (default: the CPU count)',
    (v) => Number(v),
    os.availableParallelism(),
  )
  .option('--json', 'print only the JSON result on stdout')
  .parse()
  .opts<{ rows: number; ads: number; concurrency: number; json?: boolean }>();

const log = (m: string) => process.stderr.write(m);
let temp: TempPostgres | null = null;
let exitCode = 0;
try {
  let admin = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (!admin) {
    log('bench:ingest: starting a throwaway PostgreSQL…\n');
    temp = await startTempPostgres({ durable: true });
    admin = temp.url;
  }
  const name = `adloop_bench_${randomBytes(4).toString('hex')}`;
  const adminClient = new pg.Client({ connectionString: admin });
  await adminClient.connect();
  await adminClient.query(`create database ${name}`);
  await adminClient.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const handle = await openDatabase({ url: url.toString() });
  try {
    await migrateToLatest(handle.db);
    const writer = createDeliveryWriter(handle);
    const days = Math.ceil(opts.rows / opts.ads);
    const dayRows = (d: number): AdMetricsDailyTable[] => {
      const n = Math.min(opts.ads, opts.rows - d * opts.ads);
      const date = addDays('2026-01-01', d);
      const r = keyed('bench-ingest', d);
      return Array.from({ length: n }, (_, i) => {
        const impressions = Math.floor(r() * 50_000);
        const clicks = Math.floor(impressions * 0.015 * r());
        const installs = Math.floor(clicks * 0.3 * r());
        return {
          platform: i % 3 === 0 ? 'tiktok' : 'meta',
          ad_id: `12020000${String(i).padStart(8, '0')}`,
          date,
          market: ['SE', 'DE', 'BR', 'EG', 'US'][i % 5]!,
          creative_hash: ((i * 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(3),
          impressions,
          clicks,
          spend_micros: Math.floor(impressions * 5_000 * r()),
          currency: 'USD',
          installs,
          registrations: Math.floor(installs * 0.4),
          subscriptions: Math.floor(installs * 0.03),
        };
      });
    };
    // Generated before the clock starts: the benchmark measures the write path, not the fixture.
    const batches = Array.from({ length: days }, (_, d) => dayRows(d));
    const pass = async (label: string) => {
      let rows = 0;
      let next = 0;
      const t = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - t) / 1e9;
      const lane = async () => {
        while (next < batches.length) {
          const written = await writer.upsertAdMetrics(batches[next++]!);
          rows += written; // after the await: `rows += await …` would lose the other lane's rows
          if (next % 10 === 0 || next === batches.length) {
            log(`\r${label}: ${rows.toLocaleString('en')} rows, ${seconds().toFixed(1)} s`);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, lane));
      log('\n');
      return { rows, seconds: seconds() };
    };
    const first = await pass('bench:ingest write');
    const again = await pass('bench:ingest re-ingest');
    const stored = await handle.db
      .selectFrom('ad_metrics_daily')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(stored.n) !== first.rows)
      throw new Error(`expected ${first.rows} stored rows after re-ingesting, found ${stored.n}`);
    const result = {
      rows: first.rows,
      seconds: Number(first.seconds.toFixed(3)),
      rows_per_second: Math.round(first.rows / first.seconds),
      reingest_rows_per_second: Math.round(again.rows / again.seconds),
      stored_rows_after_reingest: Number(stored.n),
      rows_per_transaction: opts.ads,
      concurrency: Math.max(1, opts.concurrency),
    };
    console.log(opts.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  } finally {
    await handle.close();
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`drop database if exists ${name}`);
    await c.end();
  }
} catch (err) {
  console.error(`bench:ingest failed: ${err instanceof Error ? err.message : String(err)}`);
  exitCode = 1;
} finally {
  temp?.stop();
}
process.exit(exitCode);
