// Bulk, idempotent writes of daily ad metrics. On PostgreSQL rows are streamed with COPY into a
// transaction-local staging table and merged with one INSERT ... ON CONFLICT, which writes
// hundreds of thousands of rows per second on 2 cores; PGlite (single session, no COPY FROM STDIN
// through Kysely) takes multi-row upserts. Either way a batch lands whole or not at all, and
// writing the same rows again changes nothing.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DatabaseHandle } from './database.ts';
import { SPEND_NEVER_SHRINKS, upsertAdMetrics } from './delivery.repository.ts';
import type { AdMetricsDailyTable } from './delivery.table.ts';

export interface DeliveryWriter {
  /** Upserts rows keyed by (platform, ad_id, date); returns how many distinct keys were written. */
  upsertAdMetrics(rows: readonly AdMetricsDailyTable[]): Promise<number>;
}

const COLUMNS = [
  'platform',
  'ad_id',
  'date',
  'market',
  'creative_hash',
  'impressions',
  'clicks',
  'spend_micros',
  'currency',
  'installs',
  'registrations',
  'subscriptions',
] as const satisfies ReadonlyArray<keyof AdMetricsDailyTable>;

/** The values of a delivery row an upsert (or a re-read) can change: its key is platform, ad, day. */
export const DELIVERY_VALUE_COLUMNS = COLUMNS.filter(
  (c) => c !== 'platform' && c !== 'ad_id' && c !== 'date',
);
const UPDATED = DELIVERY_VALUE_COLUMNS;

/** Later rows for the same key win, as a later report of the same day would. */
function lastPerKey(rows: readonly AdMetricsDailyTable[]): AdMetricsDailyTable[] {
  const byKey = new Map<string, AdMetricsDailyTable>();
  for (const r of rows) byKey.set(`${r.platform}\u0000${r.ad_id}\u0000${r.date}`, r);
  return byKey.size === rows.length ? [...rows] : [...byKey.values()];
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** A text value in COPY text format: \N for null, backslash escapes. */
function text(v: string | null): string {
  if (v === null) return '\\N';
  return NEEDS_ESCAPE.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : v;
}

/** A whole number in COPY text format; anything else is refused before it reaches the server. */
function int(v: number): string {
  if (!Number.isSafeInteger(v)) throw new Error(`metric value ${String(v)} is not a whole number`);
  return String(v);
}

function* copyText(rows: readonly AdMetricsDailyTable[]): Generator<string> {
  let chunk = '';
  for (const r of rows) {
    // One template per row, in COLUMNS order: this is the hot loop of a million-row ingest.
    chunk += `${text(r.platform)}\t${text(r.ad_id)}\t${text(r.date)}\t${text(r.market)}\t${text(r.creative_hash)}\t${int(r.impressions)}\t${int(r.clicks)}\t${int(r.spend_micros)}\t${text(r.currency)}\t${int(r.installs)}\t${int(r.registrations)}\t${int(r.subscriptions)}\n`;
    if (chunk.length > 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

async function copyUpsert(pool: pg.Pool, rows: readonly AdMetricsDailyTable[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(
      'create temp table ad_metrics_stage (like ad_metrics_daily including defaults) on commit drop',
    );
    await pipeline(
      Readable.from(copyText(rows)),
      client.query(copyFrom(`copy ad_metrics_stage (${COLUMNS.join(', ')}) from stdin`)),
    );
    await client.query(
      `insert into ad_metrics_daily (${COLUMNS.join(', ')})
       select ${COLUMNS.join(', ')} from ad_metrics_stage
       on conflict (platform, ad_id, date) do update set
       ${UPDATED.map((c) => `${c} = excluded.${c}`).join(', ')}
       where ${SPEND_NEVER_SHRINKS}`,
    );
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export function createDeliveryWriter(handle: DatabaseHandle): DeliveryWriter {
  return {
    async upsertAdMetrics(input) {
      const rows = lastPerKey(input);
      if (rows.length === 0) return 0;
      if (handle.pool) await copyUpsert(handle.pool, rows);
      else await upsertAdMetrics(handle.db, rows);
      return rows.length;
    },
  };
}
