// SQL behind reports (`adloop report`, the arms report): plain rows, read-only. The assembly into
// report data (arms per market-day, currency conversion, the still shown per ad) is in
// reports/collect.ts.
import type { Db } from './database.ts';

type Markets = readonly string[] | null | undefined;

/**
 * Delivery summed per market, day and account currency over [from, to], oldest day first; of
 * some markets only when `markets` is given.
 */
export function deliveryByMarketDay(db: Db, o: { from: string; to: string; markets?: Markets }) {
  let q = db
    .selectFrom('ad_metrics_daily')
    .select((eb) => [
      'market',
      'date',
      'currency',
      eb.fn.sum<number>('spend_micros').as('spend_micros'),
      eb.fn.sum<number>('impressions').as('impressions'),
      eb.fn.sum<number>('clicks').as('clicks'),
      eb.fn.sum<number>('registrations').as('registrations'),
      eb.fn.sum<number>('subscriptions').as('subscriptions'),
    ])
    .where('date', '>=', o.from)
    .where('date', '<=', o.to)
    .groupBy(['market', 'date', 'currency'])
    .orderBy('date')
    .orderBy('market');
  if (o.markets?.length) q = q.where('market', 'in', [...o.markets]);
  return q.execute();
}

/**
 * Every ranking's head (no items) dated on or before `to`, by market then date: rankings before a
 * range matter too, since a range's first days ran on the ranking made before them.
 */
export function rankingHeads(db: Db, o: { to: string; markets?: Markets }) {
  let q = db
    .selectFrom('rankings')
    .select(['market', 'date', 'policy', 'source', 'based_on', 'model_version'])
    .where('date', '<=', o.to)
    .orderBy('market')
    .orderBy('date');
  if (o.markets?.length) q = q.where('market', 'in', [...o.markets]);
  return q.execute();
}

/**
 * The ads live now (deploy stores each ad's status as read back from the platform, normalised to
 * active / paused / archived) with their creative and artist, by market, platform and name.
 */
export function liveAds(db: Db, o: { markets?: Markets }) {
  let q = db
    .selectFrom('platform_objects as po')
    .leftJoin('creatives as c', 'c.hash', 'po.creative_hash')
    .leftJoin('artists as a', 'a.id', 'c.artist_id')
    .select([
      'po.platform',
      'po.market',
      'po.external_id',
      'po.name',
      'po.creative_hash',
      'po.review_status',
      'po.review_reason',
      'po.updated_at',
      'c.artist_id',
      'c.template_id',
      'c.language',
      'a.name as artist_name',
    ])
    .where('po.kind', '=', 'ad')
    .where('po.status', '=', 'active')
    .where('po.creative_hash', 'is not', null)
    .orderBy('po.market')
    .orderBy('po.platform')
    .orderBy('po.name');
  if (o.markets?.length) q = q.where('po.market', 'in', [...o.markets]);
  return q.execute();
}

/**
 * The first `limit` items of each given ranking (with the artist's name), and how many items each
 * ranking has in all.
 */
export async function rankingItems(
  db: Db,
  rankings: ReadonlyArray<{ market: string; date: string }>,
  limit: number,
) {
  if (rankings.length === 0) return { items: [], counts: [] };
  const [items, counts] = await Promise.all([
    db
      .selectFrom('ranking_items as i')
      .leftJoin('artists as a', 'a.id', 'i.artist_id')
      .select([
        'i.market',
        'i.date',
        'i.rank',
        'i.artist_id',
        'i.template_id',
        'i.score',
        'i.selection',
        'i.propensity',
        'i.reasons',
        'a.name as artist_name',
      ])
      .where((eb) =>
        eb.and([
          eb.or(
            rankings.map((l) => eb.and([eb('i.market', '=', l.market), eb('i.date', '=', l.date)])),
          ),
          eb('i.rank', '<=', limit),
        ]),
      )
      .orderBy('i.market')
      .orderBy('i.rank')
      .execute(),
    db
      .selectFrom('ranking_items as i')
      .select((eb) => ['i.market', 'i.date', eb.fn.countAll<number>().as('n')])
      .where((eb) =>
        eb.or(
          rankings.map((l) => eb.and([eb('i.market', '=', l.market), eb('i.date', '=', l.date)])),
        ),
      )
      .groupBy(['i.market', 'i.date'])
      .execute(),
  ]);
  return { items, counts };
}

/** The static assets (every ratio) of the given creatives. */
export function staticAssets(db: Db, hashes: readonly string[]) {
  if (hashes.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('creative_assets')
    .select(['creative_hash', 'ratio', 'storage_key'])
    .where('creative_hash', 'in', [...hashes])
    .where('kind', '=', 'static')
    .execute();
}

/** Models trained on data up to a day in [from, to], with their registry metrics, oldest first. */
export async function modelsTrainedIn(db: Db, o: { from: string; to: string }) {
  return db
    .selectFrom('models')
    .select(['name', 'version', 'training_to', 'status', 'metrics'])
    .where('training_to', '>=', o.from)
    .where('training_to', '<=', o.to)
    .orderBy('training_to')
    .orderBy('name')
    .orderBy('version')
    .execute();
}
