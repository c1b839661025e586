// All SQL touching MMP attribution. Rows are keyed by (source, date, campaign, ad group, creative,
// OS) with NULLS NOT DISTINCT, so an iOS postback (campaign level) is one row that re-ingesting
// replaces, never a second one.
import { sql } from 'kysely';
import type { Db } from './database.ts';
import type { MmpAttributionTable } from './delivery.table.ts';

export type NewAttribution = Omit<MmpAttributionTable, 'ingested_at'>;

export async function upsertAttribution(db: Db, rows: readonly NewAttribution[]): Promise<number> {
  if (rows.length === 0) return 0;
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 1000) {
      await trx
        .insertInto('mmp_attribution')
        .values(rows.slice(i, i + 1000).map((r) => ({ ...r, ingested_at: new Date() })))
        .onConflict((oc) =>
          oc.constraint('mmp_attribution_key').doUpdateSet((eb) => ({
            platform: eb.ref('excluded.platform'),
            network: eb.ref('excluded.network'),
            campaign: eb.ref('excluded.campaign'),
            creative: eb.ref('excluded.creative'),
            aggregated: eb.ref('excluded.aggregated'),
            installs: eb.ref('excluded.installs'),
            registrations: eb.ref('excluded.registrations'),
            subscriptions: eb.ref('excluded.subscriptions'),
            ingested_at: sql<Date>`now()`,
          })),
        )
        .execute();
    }
  });
  return rows.length;
}

/** The key of an attribution row (the table's unique key, nulls equal). */
export type AttributionKey = Pick<
  NewAttribution,
  'source' | 'date' | 'campaign_id' | 'ad_group_id' | 'creative_id' | 'os'
>;

export const attributionKey = (r: AttributionKey) =>
  [r.source, r.date, r.campaign_id, r.ad_group_id ?? '', r.creative_id ?? '', r.os].join('\u0000');

/** The stored rows of these keys (those that exist), by attributionKey. */
export async function storedAttribution(
  db: Db,
  keys: readonly AttributionKey[],
): Promise<Map<string, NewAttribution>> {
  const out = new Map<string, NewAttribution>();
  if (keys.length === 0) return out;
  const wanted = new Set(keys.map(attributionKey));
  const dates = keys.map((k) => k.date).sort();
  const sources = [...new Set(keys.map((k) => k.source))];
  const campaigns = [...new Set(keys.map((k) => k.campaign_id))];
  for (let i = 0; i < campaigns.length; i += 1000) {
    const rows = await db
      .selectFrom('mmp_attribution')
      .selectAll()
      .where('source', 'in', sources)
      .where('campaign_id', 'in', campaigns.slice(i, i + 1000))
      .where('date', '>=', dates[0]!)
      .where('date', '<=', dates.at(-1)!)
      .execute();
    // ingested_at changes on every upsert: not part of what a row says.
    for (const r of rows.map(({ ingested_at: _, ...rest }) => rest))
      if (wanted.has(attributionKey(r))) out.set(attributionKey(r), r);
  }
  return out;
}

export interface AttributionTotals {
  installs: number;
  registrations: number;
  subscriptions: number;
}

/** The campaigns named (non-empty), over [from, to], from one source. */
export interface AttributionScope {
  source: string;
  campaigns: string[];
  from: string;
  to: string;
}

const scoped = (db: Db, q: AttributionScope) =>
  db
    .selectFrom('mmp_attribution')
    .where('source', '=', q.source)
    .where('campaign', 'in', q.campaigns)
    .where('date', '>=', q.from)
    .where('date', '<=', q.to);

/** Totals per OS for the campaigns named, over [from, to], from one source. */
export async function attributionTotals(
  db: Db,
  q: AttributionScope,
): Promise<Record<'ios' | 'android', AttributionTotals>> {
  const out = {
    ios: { installs: 0, registrations: 0, subscriptions: 0 },
    android: { installs: 0, registrations: 0, subscriptions: 0 },
  };
  if (q.campaigns.length === 0) return out;
  const rows = await scoped(db, q)
    .select((eb) => [
      'os',
      eb.fn.sum<number>('installs').as('installs'),
      eb.fn.sum<number>('registrations').as('registrations'),
      eb.fn.sum<number>('subscriptions').as('subscriptions'),
    ])
    .groupBy('os')
    .execute();
  for (const r of rows) {
    out[r.os] = {
      installs: Number(r.installs),
      registrations: Number(r.registrations),
      subscriptions: Number(r.subscriptions),
    };
  }
  return out;
}

/**
 * Each day's attributed total (installs + registrations + subscriptions, every OS) over the
 * campaigns named, over [from, to], from one source; days without rows are absent.
 */
export async function attributionTotalsByDay(
  db: Db,
  q: AttributionScope,
): Promise<Map<string, number>> {
  if (q.campaigns.length === 0) return new Map();
  const rows = await scoped(db, q)
    .select((eb) => [
      sql<string>`date::text`.as('day'),
      eb.fn.sum<number>(sql`installs + registrations + subscriptions`).as('total'),
    ])
    .groupBy('date')
    .execute();
  return new Map(rows.map((r) => [r.day, Number(r.total)]));
}

/** Android registrations the MMP attributed to each ad (creative id) over [from, to]. */
export async function mmpRegistrationsByAd(
  db: Db,
  q: { from: string; to: string; adIds: string[] },
): Promise<Map<string, number>> {
  if (q.adIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('mmp_attribution')
    .select((eb) => ['creative_id', eb.fn.sum<number>('registrations').as('registrations')])
    .where('aggregated', '=', false)
    .where('creative_id', 'in', q.adIds)
    .where('date', '>=', q.from)
    .where('date', '<=', q.to)
    .groupBy('creative_id')
    .execute();
  return new Map(rows.map((r) => [r.creative_id!, Number(r.registrations)]));
}
