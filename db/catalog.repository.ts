// All SQL touching markets, artists and their popularity.
import { sql } from 'kysely';
import { createHash } from 'node:crypto';
import { CatalogError, type CatalogItem } from '../core/catalog.ts';
import type { Db } from './database.ts';
import type { Artist, Market, NewArtist, NewMarket } from './catalog.table.ts';

export interface PopularityRow {
  artistId: string;
  market: string;
  popularity: number;
}

/**
 * Rows per statement of a bulk write. Rows travel as one array per column (`unnest`), so the
 * parameter count stays fixed however large the catalog (the wire protocol allows 65,535
 * parameters: a 100,000-artist import as one multi-row VALUES broke it); the bound keeps each
 * statement's parameters, and the memory to serialise them, modest.
 */
const BULK_ROWS = 10_000;

function* chunks<T>(rows: readonly T[], size = BULK_ROWS): Generator<readonly T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

/** Ids of `wanted` that `table` lacks (artists.id or markets.code), a query per BULK_ROWS ids. */
async function missingIds(
  trx: Db,
  table: 'artists' | 'markets',
  wanted: readonly string[],
): Promise<string[]> {
  if (wanted.length === 0) return [];
  const found = new Set<string>();
  for (const ids of chunks(wanted)) {
    const rows =
      table === 'artists'
        ? await trx.selectFrom('artists').select('id as key').where('id', 'in', ids).execute()
        : await trx.selectFrom('markets').select('code as key').where('code', 'in', ids).execute();
    for (const r of rows) found.add(r.key);
  }
  return wanted.filter((id) => !found.has(id));
}

/**
 * What an import says of an artist, as a digest: writing the same again would change nothing (the
 * embedding too: a source without one keeps the stored one, and says so again the next time).
 */
function artistDigest(a: NewArtist): string {
  return createHash('sha256')
    .update(JSON.stringify([a.name, a.genre, a.image_path, a.embedding ?? null]))
    .digest('base64url');
}

/** The ids among `digests` that are not stored with that digest: new or changed artists. */
async function changedArtists(trx: Db, digests: ReadonlyMap<string, string>): Promise<Set<string>> {
  const changed = new Set<string>();
  for (const ids of chunks([...digests.keys()], 50_000)) {
    const { rows } = await sql<{ id: string }>`
      select x.id
      from unnest(${ids}::text[], ${ids.map((id) => digests.get(id)!)}::text[]) as x(id, digest)
      left join artists a on a.id = x.id
      where a.source_digest is distinct from x.digest
    `.execute(trx);
    for (const r of rows) changed.add(r.id);
  }
  return changed;
}

/**
 * Upserts markets, artists and one day's popularity in a single transaction (all or nothing).
 * Artists the catalog describes as it did last time are not written again, so re-importing an
 * unchanged catalog (every market of a day shares its artists) costs a digest per artist.
 */
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
    // Only artists that are new, or that the catalog now describes differently, are written.
    const digests = new Map(input.artists.map((a) => [a.id, artistDigest(a)]));
    const changed = await changedArtists(trx, digests);
    for (const rows of chunks(input.artists.filter((a) => changed.has(a.id)))) {
      await sql`
        insert into artists (id, name, genre, image_path, embedding, source_digest)
        select x.id, x.name, x.genre, x.image_path, x.embedding::jsonb, x.source_digest
        from unnest(
          ${rows.map((a) => a.id)}::text[],
          ${rows.map((a) => a.name)}::text[],
          ${rows.map((a) => a.genre)}::text[],
          ${rows.map((a) => a.image_path)}::text[],
          ${rows.map((a) => a.embedding ?? null)}::text[],
          ${rows.map((a) => digests.get(a.id)!)}::text[]
        ) as x(id, name, genre, image_path, embedding, source_digest)
        on conflict (id) do update set
          name = excluded.name,
          genre = excluded.genre,
          image_path = excluded.image_path,
          -- A source without embeddings does not erase the ones another source gave.
          embedding = coalesce(excluded.embedding, artists.embedding),
          source_digest = excluded.source_digest
      `.execute(trx);
    }
    for (const items of chunks(input.items ?? [], 1000)) {
      await trx
        .insertInto('catalog_items')
        .values(
          items.map((c) => ({
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
    // Popularity must name known artists and markets (the table has no per-row foreign keys: see
    // the 2026-11-29 migration). Those written above are known; the rest are looked up at once.
    const written = {
      artists: new Set(input.artists.map((a) => a.id)),
      markets: new Set(input.markets.map((m) => m.code)),
    };
    const others = (key: 'artists' | 'markets', ids: Iterable<string>) =>
      [...new Set(ids)].filter((id) => !written[key].has(id));
    const unknownArtists = await missingIds(
      trx,
      'artists',
      others(
        'artists',
        input.popularity.map((p) => p.artistId),
      ),
    );
    const unknownMarkets = await missingIds(
      trx,
      'markets',
      others(
        'markets',
        input.popularity.map((p) => p.market),
      ),
    );
    if (unknownArtists.length > 0 || unknownMarkets.length > 0) {
      const list = (what: string, ids: string[]) =>
        ids.length > 0
          ? [
              `${what} ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ` (+${ids.length - 5} more)` : ''}`,
            ]
          : [];
      throw new CatalogError(
        `popularity rows name unknown ${[...list('artists', unknownArtists), ...list('markets', unknownMarkets)].join(' and ')}: nothing of this import was written`,
      );
    }
    for (const rows of chunks(input.popularity)) {
      await sql`
        insert into artist_popularity (artist_id, market, date, popularity)
        select x.artist_id, x.market, ${input.date}::date, x.popularity
        from unnest(
          ${rows.map((p) => p.artistId)}::text[],
          ${rows.map((p) => p.market)}::text[],
          ${rows.map((p) => p.popularity)}::float8[]
        ) as x(artist_id, market, popularity)
        on conflict (artist_id, market, date) do update set popularity = excluded.popularity
      `.execute(trx);
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

/** An artist's popularity in a market, with what ranking compares artists by. */
export interface ArtistPopularity {
  id: string;
  genre: string;
  popularity: number;
}

/**
 * Each artist's latest popularity in `market` on or before `date`, in artist id order; with
 * `embeddings`, each artist's embedding too (null when the catalog gave none).
 *
 * A market can have 100,000 artists. They come back as one JSON value built by the database, not
 * as 100,000 result rows: PGlite decodes result rows in JavaScript, several times slower than one
 * JSON.parse of the same data.
 */
export async function popularityAsOf(
  db: Db,
  market: string,
  date: string,
): Promise<ArtistPopularity[]>;
export async function popularityAsOf(
  db: Db,
  market: string,
  date: string,
  o: { embeddings: true },
): Promise<Array<ArtistPopularity & { embedding: number[] | null }>>;
export async function popularityAsOf(
  db: Db,
  market: string,
  date: string,
  o: { embeddings?: boolean } = {},
): Promise<Array<ArtistPopularity & { embedding?: number[] | null }>> {
  const { rows } = await sql<{ artists: Array<ArtistPopularity & { embedding?: number[] }> }>`
    select coalesce(
      json_agg(
        json_build_object(
          'id', a.id,
          'genre', a.genre,
          ${o.embeddings ? sql`'embedding', a.embedding,` : sql``}
          'popularity', latest.popularity
        )
        order by latest.artist_id
      ),
      '[]'
    ) as artists
    from (
      select distinct on (artist_id) artist_id, popularity
      from artist_popularity
      where market = ${market} and date <= ${date}
      order by artist_id, date desc
    ) as latest
    join artists a on a.id = latest.artist_id
  `.execute(db);
  return rows[0]?.artists ?? [];
}
