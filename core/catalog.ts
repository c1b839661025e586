// The catalog file format: markets and artists with per-market popularity and an image each.
// Validation errors name the file and the exact field (e.g. `artists[3].popularity.SE`).
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { issueLines, readJsonFile } from './validation.ts';

const marketSchema = z.object({
  code: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as SE'),
  name: z.string().min(1),
  /** The market's main language: its creatives' copy. */
  language: z.string().regex(/^[a-z]{2,3}$/, 'must be an ISO 639 language code such as sv'),
  /** Every language the market advertises in, main one first. Default: just `language`. */
  languages: z
    .array(z.string().regex(/^[a-z]{2,3}$/, 'must be an ISO 639 language code'))
    .min(1)
    .optional(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as SEK'),
  timeZone: z.string().min(1),
  rightToLeft: z.boolean().default(false),
});

/** Ids of artists and other catalog entities, in every catalog format. */
export const ENTITY_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const ENTITY_ID_RULE = 'must be 1-64 letters, digits, _ or -';

const artistSchema = z.object({
  id: z.string().regex(ENTITY_ID, ENTITY_ID_RULE),
  name: z.string().min(1).max(200),
  genre: z.string().min(1),
  /** Image path relative to the catalog file. */
  image: z.string().min(1),
  /** Popularity in [0, 1] per market code. */
  popularity: z.record(z.string(), z.number().min(0).max(1)),
  /** Popularity change per day per market code (e.g. 0.01: rising). Optional. */
  trend: z.record(z.string(), z.number().min(-1).max(1)).optional(),
  /** A vector placing the artist among the others (similar artists lie close). Optional. */
  embedding: z.array(z.number()).min(2).max(1024).optional(),
});

/** Room for the rest of a catalog: tracks, playlists and podcasts, each tied to artists. */
const contentSchema = z.object({
  id: z.string().regex(ENTITY_ID, ENTITY_ID_RULE),
  title: z.string().min(1).max(300),
  artistIds: z.array(z.string()).default([]),
});

const catalogSchema = z
  .object({
    markets: z.array(marketSchema).min(1),
    artists: z.array(artistSchema).min(1),
    tracks: z.array(contentSchema).default([]),
    playlists: z.array(contentSchema).default([]),
    podcasts: z.array(contentSchema).default([]),
  })
  .superRefine((c, ctx) => {
    const artistIds = new Set(c.artists.map((a) => a.id));
    for (const kind of ['tracks', 'playlists', 'podcasts'] as const) {
      c[kind].forEach((item, i) =>
        item.artistIds.forEach((id, j) => {
          if (!artistIds.has(id))
            ctx.addIssue({
              code: 'custom',
              path: [kind, i, 'artistIds', j],
              message: `unknown artist ${id}`,
            });
        }),
      );
    }
    const codes = new Set<string>();
    c.markets.forEach((m, i) => {
      if (codes.has(m.code))
        ctx.addIssue({
          code: 'custom',
          path: ['markets', i, 'code'],
          message: `duplicate market ${m.code}`,
        });
      codes.add(m.code);
    });
    const ids = new Set<string>();
    c.artists.forEach((a, i) => {
      if (ids.has(a.id))
        ctx.addIssue({
          code: 'custom',
          path: ['artists', i, 'id'],
          message: `duplicate artist ${a.id}`,
        });
      ids.add(a.id);
      const dims = c.artists[0]?.embedding?.length;
      if (a.embedding && a.embedding.length !== dims)
        ctx.addIssue({
          code: 'custom',
          path: ['artists', i, 'embedding'],
          message: `has ${a.embedding.length} dimensions; the first artist's has ${dims ?? 'none'}`,
        });
      for (const m of [...Object.keys(a.popularity), ...Object.keys(a.trend ?? {})]) {
        if (!codes.has(m))
          ctx.addIssue({
            code: 'custom',
            path: ['artists', i, m in a.popularity ? 'popularity' : 'trend', m],
            message: `unknown market ${m}`,
          });
      }
    });
  });

export type CatalogMarket = z.infer<typeof marketSchema>;
export type CatalogArtist = z.infer<typeof artistSchema>;
export type CatalogContent = z.infer<typeof contentSchema>;
/** A track, playlist or podcast, tagged with its kind. */
export interface CatalogItem extends CatalogContent {
  kind: 'track' | 'playlist' | 'podcast';
}
export interface Catalog {
  markets: CatalogMarket[];
  /** Artists with `image` resolved to an absolute path. */
  artists: CatalogArtist[];
  tracks: CatalogContent[];
  playlists: CatalogContent[];
  podcasts: CatalogContent[];
}

export class CatalogError extends Error {
  override name = 'CatalogError';
}

/**
 * A catalog's image path resolved against the catalog's folder, or why it is refused. The image
 * must be a file inside that folder, also once symlinks are followed: a catalog comes from outside
 * (a data team, a URL), and its image is read and rendered into a public ad, so `../../etc/passwd`
 * or `/home/me/.ssh/id_ed25519` must not be. Where a path leads outside is refused before it is
 * looked at, so the errors do not tell what exists elsewhere on the disk.
 */
export function resolveImage(
  baseDir: string,
  image: string,
): { path: string } | { reason: string } {
  const outside = { reason: `outside the catalog's folder: ${image}` };
  const dir = path.resolve(baseDir);
  const resolved = path.resolve(dir, image);
  if (!isInside(dir, resolved)) return outside;
  if (!fs.existsSync(resolved)) return { reason: `file not found: ${resolved}` };
  if (!isInside(fs.realpathSync(dir), fs.realpathSync(resolved))) return outside;
  if (!fs.statSync(resolved).isFile()) return { reason: `not a file: ${resolved}` };
  return { path: resolved };
}

/** Whether `file` lies strictly inside the folder `dir` (both absolute). */
function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/**
 * Parses and validates a catalog; image paths are resolved against `baseDir` and must be files
 * inside it (see resolveImage).
 */
export function parseCatalog(raw: unknown, baseDir: string, source = 'catalog'): Catalog {
  const parsed = catalogSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = issueLines(parsed.error);
    throw new CatalogError(`${source} is invalid:\n${lines.join('\n')}`);
  }
  const refused: string[] = [];
  const artists = parsed.data.artists.map((a, i) => {
    const image = resolveImage(baseDir, a.image);
    if ('reason' in image) {
      refused.push(`  artists[${i}].image: ${image.reason} (artist ${a.id})`);
      return { ...a, image: a.image };
    }
    return { ...a, image: image.path };
  });
  if (refused.length > 0) throw new CatalogError(`${source} is invalid:\n${refused.join('\n')}`);
  const { markets, tracks, playlists, podcasts } = parsed.data;
  return {
    markets: markets.map((m) => ({ ...m, languages: m.languages ?? [m.language] })),
    artists,
    tracks,
    playlists,
    podcasts,
  };
}

export function readCatalogFile(file: string): Catalog {
  return parseCatalog(readJsonFile(file, 'catalog', CatalogError), path.dirname(file), file);
}
