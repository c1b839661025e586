// All SQL touching rankings. A market has one ranking per date; saving again replaces it whole.
import type { RankedItem, RankingResult } from '../core/types.ts';
import type { Db } from './database.ts';
import { pairKey } from '../core/ids.ts';

export async function saveRanking(db: Db, r: RankingResult): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .deleteFrom('rankings')
      .where('market', '=', r.market)
      .where('date', '=', r.date)
      .execute();
    await trx
      .insertInto('rankings')
      .values({
        market: r.market,
        date: r.date,
        policy: r.policy,
        source: r.source,
        based_on: r.basedOn,
        model_version: r.modelVersion ?? null,
      })
      .execute();
    if (r.items.length > 0) {
      await trx
        .insertInto('ranking_items')
        .values(
          r.items.map((i) => ({
            market: r.market,
            date: r.date,
            rank: i.rank,
            artist_id: i.artistId,
            template_id: i.templateId,
            score: i.score,
            reasons: JSON.stringify(i.reasons),
            selection: i.selection ?? 'exploit',
            propensity: i.propensity ?? 1,
          })),
        )
        .execute();
    }
  });
}

async function load(db: Db, market: string, date: string): Promise<RankingResult | null> {
  const head = await db
    .selectFrom('rankings')
    .selectAll()
    .where('market', '=', market)
    .where('date', '=', date)
    .executeTakeFirst();
  if (!head) return null;
  const items = await db
    .selectFrom('ranking_items')
    .selectAll()
    .where('market', '=', market)
    .where('date', '=', date)
    .orderBy('rank')
    .execute();
  return {
    market,
    date,
    policy: head.policy,
    source: head.source as RankingResult['source'],
    basedOn: head.based_on,
    modelVersion: head.model_version,
    items: items.map((i): RankedItem => ({
      rank: i.rank,
      artistId: i.artist_id,
      templateId: i.template_id,
      score: i.score,
      reasons: i.reasons,
      selection: i.selection === 'explore' ? 'explore' : 'exploit',
      propensity: i.propensity,
    })),
  };
}

/** The ranking stored for a market and day, or null. */
export const getRanking = load;

/** The latest ranking of `market` strictly before `date`, or null when there is none. */
export async function previousRanking(
  db: Db,
  market: string,
  date: string,
): Promise<RankingResult | null> {
  const prev = await db
    .selectFrom('rankings')
    .select('date')
    .where('market', '=', market)
    .where('date', '<', date)
    .orderBy('date', 'desc')
    .limit(1)
    .executeTakeFirst();
  return prev ? load(db, market, prev.date) : null;
}

/**
 * The logged propensity of every ranked item of every market over [from, to], by market and date
 * then by pair key: the probability the ranking gave each creative (1 for a deterministic pick).
 */
export async function rankingPropensities(
  db: Db,
  from: string,
  to: string,
): Promise<Map<string, Map<string, number>>> {
  const rows = await db
    .selectFrom('ranking_items')
    .select(['market', 'date', 'artist_id', 'template_id', 'propensity'])
    .where('date', '>=', from)
    .where('date', '<=', to)
    .execute();
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const day = `${r.market}\u0000${r.date}`;
    const items = out.get(day) ?? new Map<string, number>();
    items.set(pairKey(r.artist_id, r.template_id), r.propensity);
    out.set(day, items);
  }
  return out;
}
