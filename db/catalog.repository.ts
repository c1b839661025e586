// All SQL touching markets, artists and their popularity.
import type { CatalogItem } from '../core/catalog.ts';
import type { Db } from './database.ts';
import type { Artist, Market, NewArtist, NewMarket } from './catalog.table.ts';

export interface PopularityRow {
  artistId: string;
  market: string;
  popularity: number;
}

/** Upserts markets, artists and one day's popularity in a single transaction (all or nothing). */
export async function upsertCatalog(
  db: Db,
  input: {
    date: string;
    markets: NewMarket[];
    artists: NewArtist[];
    popularity: PopularityRow[];
    /** Tracks, playlists and podcasts (artist ids as listed; catalog validation checked them). */
    items?: CatalogItem[];
  },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (input.markets.length > 0) {
      await trx
        .insertInto('markets')
        .values(input.markets)
        .onConflict((oc) =>
          oc.column('code').doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            language: eb.ref('excluded.language'),
            currency: eb.ref('excluded.currency'),
            time_zone: eb.ref('excluded.time_zone'),
            right_to_left: eb.ref('excluded.right_to_left'),
          })),
        )
        .execute();
    }
    if (input.artists.length > 0) {
      await trx
        .insertInto('artists')
        .values(input.artists)
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            genre: eb.ref('excluded.genre'),
            image_path: eb.ref('excluded.image_path'),
            // A source without embeddings does not erase the ones another source gave.
            embedding: eb.fn.coalesce('excluded.embedding', 'artists.embedding'),
          })),
        )
        .execute();
    }
    for (let i = 0; i < (input.items?.length ?? 0); i += 1000) {
      await trx
        .insertInto('catalog_items')
        .values(
          input.items!.slice(i, i + 1000).map((c) => ({
            kind: c.kind,
            id: c.id,
            title: c.title,
            artist_ids: JSON.stringify(c.artistIds),
          })),
        )
        .onConflict((oc) =>
          oc.columns(['kind', 'id']).doUpdateSet((eb) => ({
            title: eb.ref('excluded.title'),
            artist_ids: eb.ref('excluded.artist_ids'),
          })),
        )
        .execute();
    }
    for (let i = 0; i < input.popularity.length; i += 1000) {
      const chunk = input.popularity.slice(i, i + 1000);
      await trx
        .insertInto('artist_popularity')
        .values(
          chunk.map((p) => ({
            artist_id: p.artistId,
            market: p.market,
            date: input.date,
            popularity: p.popularity,
          })),
        )
        .onConflict((oc) =>
          oc
            .columns(['artist_id', 'market', 'date'])
            .doUpdateSet((eb) => ({ popularity: eb.ref('excluded.popularity') })),
        )
        .execute();
    }
  });
}

export async function getMarket(db: Db, code: string): Promise<Market | undefined> {
  return db.selectFrom('markets').selectAll().where('code', '=', code).executeTakeFirst();
}

export async function listMarkets(db: Db): Promise<Market[]> {
  return db.selectFrom('markets').selectAll().orderBy('code').execute();
}

export async function getArtists(db: Db, ids: string[]): Promise<Artist[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('artists').selectAll().where('id', 'in', ids).execute();
}

/** Each artist's latest popularity in `market` on or before `date`. */
export async function popularityAsOf(
  db: Db,
  market: string,
  date: string,
): Promise<Array<Artist & { popularity: number }>> {
  return db
    .selectFrom('artist_popularity as p')
    .innerJoin('artists as a', 'a.id', 'p.artist_id')
    .distinctOn('p.artist_id')
    .select(['a.id', 'a.name', 'a.genre', 'a.image_path', 'a.embedding', 'p.popularity'])
    .where('p.market', '=', market)
    .where('p.date', '<=', date)
    .orderBy('p.artist_id')
    .orderBy('p.date', 'desc')
    .execute();
}
