import type { ColumnType, Insertable, Selectable } from 'kysely';

export interface MarketsTable {
  code: string;
  name: string;
  language: string;
  currency: string;
  time_zone: string;
  right_to_left: boolean;
}

export interface ArtistsTable {
  id: string;
  name: string;
  genre: string;
  image_path: string;
  /** Place in the catalog's similarity space (JSON array of numbers); null when it has none. */
  embedding: ColumnType<number[] | null, string | null | undefined, string | null>;
  /**
   * Digest of what the catalog last said of the artist (upsertCatalog), so an import writes only
   * the artists that are new or changed; null for rows written before it existed.
   */
  source_digest: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Popularity (0..1) of an artist in a market as of a date; one row per ingest day. */
export interface ArtistPopularityTable {
  artist_id: string;
  market: string;
  date: string;
  popularity: number;
}

/** Tracks, playlists and podcasts, each tied to the artists it features. */
export interface CatalogItemsTable {
  kind: 'track' | 'playlist' | 'podcast';
  id: string;
  title: string;
  artist_ids: ColumnType<string[], string, string>;
}

export type Market = Selectable<MarketsTable>;
export type NewMarket = Insertable<MarketsTable>;
export type Artist = Selectable<ArtistsTable>;
export type NewArtist = Insertable<ArtistsTable>;
