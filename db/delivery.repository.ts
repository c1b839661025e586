// All SQL touching daily ad metrics and learned creative performance.
import { sql } from 'kysely';
import type { DeliveryCounts } from '../core/types.ts';
import type { Db } from './database.ts';
import type { AdMetricsDailyTable } from './delivery.table.ts';
import type { CreativePerformanceTable } from './performance.table.ts';

/**
 * A day's spend only grows while its report is being completed, so a re-read with less spend is a
 * partial read (a day reported early, a cut page): it never overwrites complete data. Both write
 * paths (this upsert and the COPY merge in delivery-writer.ts) use it.
 */
export const SPEND_NEVER_SHRINKS = 'excluded.spend_micros >= ad_metrics_daily.spend_micros';

/** Idempotent: a day ingested twice leaves one row per (platform, ad, date) with the latest values. */
export async function upsertAdMetrics(db: Db, rows: AdMetricsDailyTable[]): Promise<number> {
  if (rows.length === 0) return 0;
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 1000) {
      await trx
        .insertInto('ad_metrics_daily')
        .values(rows.slice(i, i + 1000))
        .onConflict((oc) =>
          oc
            .columns(['platform', 'ad_id', 'date'])
            .doUpdateSet((eb) => ({
              market: eb.ref('excluded.market'),
              creative_hash: eb.ref('excluded.creative_hash'),
              impressions: eb.ref('excluded.impressions'),
              clicks: eb.ref('excluded.clicks'),
              spend_micros: eb.ref('excluded.spend_micros'),
              installs: eb.ref('excluded.installs'),
              registrations: eb.ref('excluded.registrations'),
              currency: eb.ref('excluded.currency'),
              subscriptions: eb.ref('excluded.subscriptions'),
            }))
            .where(sql.raw<boolean>(SPEND_NEVER_SHRINKS)),
        )
        .execute();
    }
  });
  return rows.length;
}

/** The key of a delivery row: one ad's day on one platform. */
export type AdMetricsKey = Pick<AdMetricsDailyTable, 'platform' | 'ad_id' | 'date'>;

export const adMetricsKey = (r: AdMetricsKey) => `${r.platform}\u0000${r.ad_id}\u0000${r.date}`;

/** The stored rows of these keys (those that exist), by adMetricsKey. */
export async function storedAdMetrics(
  db: Db,
  keys: readonly AdMetricsKey[],
): Promise<Map<string, AdMetricsDailyTable>> {
  const out = new Map<string, AdMetricsDailyTable>();
  if (keys.length === 0) return out;
  const wanted = new Set(keys.map(adMetricsKey));
  const dates = keys.map((k) => k.date).sort();
  const platforms = [...new Set(keys.map((k) => k.platform))];
  const ads = [...new Set(keys.map((k) => k.ad_id))];
  // Along the key (platform, ad, date range), then exactly: one query per thousand ads.
  for (let i = 0; i < ads.length; i += 1000) {
    const rows = await db
      .selectFrom('ad_metrics_daily')
      .selectAll()
      .where('platform', 'in', platforms)
      .where('ad_id', 'in', ads.slice(i, i + 1000))
      .where('date', '>=', dates[0]!)
      .where('date', '<=', dates.at(-1)!)
      .execute();
    for (const r of rows) if (wanted.has(adMetricsKey(r))) out.set(adMetricsKey(r), r);
  }
  return out;
}

export interface CreativeTotals extends DeliveryCounts {
  creativeHash: string;
  /** The ads that showed the creative (one per platform ad). */
  adIds: string[];
  /** Currency of `spendMicros`: the ad account's. */
  currency: string;
}

/** Sums each creative's delivery in `market` over [from, to]. */
export async function creativeTotals(
  db: Db,
  market: string,
  from: string,
  to: string,
): Promise<CreativeTotals[]> {
  const rows = await db
    .selectFrom('ad_metrics_daily')
    .select((eb) => [
      'creative_hash',
      eb.fn.sum<number>('impressions').as('impressions'),
      eb.fn.sum<number>('clicks').as('clicks'),
      eb.fn.sum<number>('spend_micros').as('spend_micros'),
      eb.fn.sum<number>('registrations').as('registrations'),
      eb.fn.sum<number>('installs').as('installs'),
      eb.fn.sum<number>('subscriptions').as('subscriptions'),
      sql<string[]>`array_agg(distinct ad_id)`.as('ad_ids'),
      eb.fn.max('currency').as('currency'),
    ])
    .where('market', '=', market)
    .where('date', '>=', from)
    .where('date', '<=', to)
    .where('creative_hash', 'is not', null)
    .groupBy('creative_hash')
    .execute();
  return rows.map((r) => ({
    creativeHash: r.creative_hash!,
    impressions: Number(r.impressions),
    clicks: Number(r.clicks),
    spendMicros: Number(r.spend_micros),
    registrations: Number(r.registrations),
    installs: Number(r.installs),
    subscriptions: Number(r.subscriptions),
    adIds: r.ad_ids,
    currency: r.currency,
  }));
}

export async function replaceCreativePerformance(
  db: Db,
  market: string,
  asOf: string,
  rows: CreativePerformanceTable[],
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('creative_performance')
      .where('market', '=', market)
      .where('as_of', '=', asOf)
      .execute();
    if (rows.length > 0) await trx.insertInto('creative_performance').values(rows).execute();
  });
}

/** The days of `market` that have a learn snapshot, within [from, to], ascending. */
export async function performanceSnapshotDates(
  db: Db,
  market: string,
  from: string,
  to: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('creative_performance')
    .select('as_of')
    .distinct()
    .where('market', '=', market)
    .where('as_of', '>=', from)
    .where('as_of', '<=', to)
    .orderBy('as_of')
    .execute();
  return rows.map((r) => r.as_of);
}

/** The most recent performance snapshot for `market` strictly before `date` (no leakage). */
export async function latestPerformanceBefore(db: Db, market: string, date: string) {
  const latest = await db
    .selectFrom('creative_performance')
    .select((eb) => eb.fn.max('as_of').as('as_of'))
    .where('market', '=', market)
    .where('as_of', '<', date)
    .executeTakeFirst();
  if (!latest?.as_of) return [];
  return db
    .selectFrom('creative_performance')
    .selectAll()
    .where('market', '=', market)
    .where('as_of', '=', latest.as_of)
    .execute();
}

export async function upsertAdAccount(
  db: Db,
  a: { platform: string; accountId: string; currency: string; timeZone: string },
): Promise<void> {
  await db
    .insertInto('ad_accounts')
    .values({
      platform: a.platform,
      account_id: a.accountId,
      currency: a.currency,
      time_zone: a.timeZone,
    })
    .onConflict((oc) =>
      oc.columns(['platform', 'account_id']).doUpdateSet({
        currency: a.currency,
        time_zone: a.timeZone,
        updated_at: new Date(),
      }),
    )
    .execute();
}

/** One ad's delivery on one day with the creative's artist and template: a model training row. */
export interface CreativeDayRow {
  market: string;
  date: string;
  platform: string;
  adId: string;
  artistId: string;
  templateId: string;
  /** Days since the ad's first day of delivery. */
  daysLive: number;
  impressions: number;
  clicks: number;
  spendMicros: number;
  currency: string;
  registrations: number;
  subscriptions: number;
}

/** Every delivered day of adloop's own creatives between `from` and `to`, of one or all markets. */
export async function creativeDays(
  db: Db,
  from: string,
  to: string,
  market?: string,
): Promise<CreativeDayRow[]> {
  let q = db
    .with('first_day', (q) =>
      q
        .selectFrom('ad_metrics_daily')
        .select(['platform', 'ad_id', (eb) => eb.fn.min('date').as('first')])
        .groupBy(['platform', 'ad_id']),
    )
    .selectFrom('ad_metrics_daily as m')
    .innerJoin('creatives as c', 'c.hash', 'm.creative_hash')
    .innerJoin('first_day as f', (j) =>
      j.onRef('f.platform', '=', 'm.platform').onRef('f.ad_id', '=', 'm.ad_id'),
    )
    .select([
      'm.market',
      'm.date',
      'm.platform',
      'm.ad_id',
      'c.artist_id',
      'c.template_id',
      sql<number>`(m.date::date - f.first::date)`.as('days_live'),
      'm.impressions',
      'm.clicks',
      'm.spend_micros',
      'm.currency',
      'm.registrations',
      'm.subscriptions',
    ])
    .where('m.date', '>=', from)
    .where('m.date', '<=', to);
  if (market !== undefined) q = q.where('m.market', '=', market);
  const rows = await q
    .orderBy('m.market')
    .orderBy('m.date')
    .orderBy('m.platform')
    .orderBy('m.ad_id')
    .execute();
  return rows.map((r) => ({
    market: r.market,
    date: r.date,
    platform: r.platform,
    adId: r.ad_id,
    artistId: r.artist_id,
    templateId: r.template_id,
    daysLive: Number(r.days_live),
    impressions: Number(r.impressions),
    clicks: Number(r.clicks),
    spendMicros: Number(r.spend_micros),
    currency: r.currency,
    registrations: Number(r.registrations),
    subscriptions: Number(r.subscriptions),
  }));
}
