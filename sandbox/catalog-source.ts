// A world's catalog, read from a catalog file or generated from a seed. Generated catalogs compute
// every artist and popularity on demand, so a 100,000-artist, 50-market world costs no memory
// until something asks for it.
import path from 'node:path';
import type { Catalog, CatalogMarket } from '../core/catalog.ts';
import { hashString, keyed } from '../core/random.ts';
import { COUNTRY_BY_CODE } from '../core/countries.ts';

export interface WorldArtist {
  id: string;
  name: string;
  genre: string;
  /** Absolute image path. */
  image: string;
}

export interface WorldCatalog {
  markets: CatalogMarket[];
  artistCount: number;
  /** The i-th artist, 0 <= i < artistCount. */
  artistAt(i: number): WorldArtist;
  /** Popularity in [0, 1] of an artist in a market; 0 when unknown there. */
  popularity(artistId: string, market: string): number;
  /** Popularity change per day in the market (trend), e.g. 0.01 = rising. */
  trend(artistId: string, market: string): number;
  /** The artist's place in the similarity space (similar artists lie close); null if unknown. */
  embedding(artistId: string): number[] | null;
}

/** Dimensions of a generated catalog's artist embeddings. */
export const EMBEDDING_DIMS = 8;

export function fileCatalog(catalog: Catalog): WorldCatalog {
  const byId = new Map(catalog.artists.map((a) => [a.id, a]));
  return {
    markets: catalog.markets,
    artistCount: catalog.artists.length,
    artistAt: (i) => {
      const a = catalog.artists[i]!;
      return { id: a.id, name: a.name, genre: a.genre, image: a.image };
    },
    popularity: (id, market) => byId.get(id)?.popularity[market] ?? 0,
    trend: (id, market) => byId.get(id)?.trend?.[market] ?? 0,
    embedding: (id) => byId.get(id)?.embedding ?? null,
  };
}

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ra',
  'ne',
  'so',
  'vi',
  'ta',
  'lu',
  'ze',
  'no',
  'ri',
  'sa',
  'be',
  'do',
  'ya',
];

function name(seed: number, i: number): string {
  const r = keyed(seed, 'artist-name', i);
  const word = (n: number) => {
    let w = '';
    for (let k = 0; k < n; k++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)];
    return w[0]!.toUpperCase() + w.slice(1);
  };
  return `${word(2)} ${word(2 + Math.floor(r() * 2))}`;
}

/**
 * Popularity follows a long tail (a few artists are popular everywhere, most are niche), varies by
 * market, and drifts by a small per-market trend.
 */
export function generatedCatalogSource(
  seed: number,
  artistCount: number,
  genres: number,
  marketCodes: string[],
  worldDir: string,
): WorldCatalog {
  const markets: CatalogMarket[] = marketCodes.map((code) => {
    const c = COUNTRY_BY_CODE.get(code)!;
    return {
      code: c.code,
      name: c.name,
      language: c.language,
      currency: c.currency,
      timeZone: c.timeZone,
      rightToLeft: c.rightToLeft,
    };
  });
  const width = Math.max(6, String(artistCount).length);
  // Generated artists reuse the demo catalog's images: they are placeholders, not likenesses.
  const images = path.resolve(worldDir, '../../catalog/demo/images');
  const index = (id: string) => Number.parseInt(id.slice(1), 10);
  return {
    markets,
    artistCount,
    artistAt: (i) => ({
      id: `g${String(i).padStart(width, '0')}`,
      name: name(seed, i),
      genre: `genre-${hashString(`${seed}/genre/${i}`) % genres}`,
      image: path.join(images, `a${String((i % 24) + 1).padStart(2, '0')}.jpg`),
    }),
    popularity: (id, market) => {
      const i = index(id);
      if (!Number.isInteger(i) || i < 0 || i >= artistCount) return 0;
      const base = keyed(seed, 'pop', i)() ** 3;
      const local = keyed(seed, 'pop-market', i, market)();
      return Math.min(1, base * (0.4 + 1.2 * local));
    },
    trend: (id, market) => (keyed(seed, 'trend', index(id), market)() - 0.5) * 0.02,
    // Genre centroid plus a personal offset: artists of a genre cluster, with overlap between genres.
    embedding: (id) => {
      const i = index(id);
      if (!Number.isInteger(i) || i < 0 || i >= artistCount) return null;
      const genre = hashString(`${seed}/genre/${i}`) % genres;
      const centroid = keyed(seed, 'genre-centroid', genre);
      const own = keyed(seed, 'embedding', i);
      return Array.from(
        { length: EMBEDDING_DIMS },
        () => 2 * centroid() - 1 + 0.35 * (2 * own() - 1),
      );
    },
  };
}
