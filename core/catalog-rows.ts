// Catalog imports as rows, from CSV or JSONL files or an HTTP source: one row per artist and
// market (`artist_id, name, genre, image, market, popularity, trend, embedding`). Rows are validated one by
// one: a bad row is reported with its line number and reason while the good rows import; a file
// that cannot be read as a whole (no header, broken quoting, unknown format) is refused whole.
import { parse } from 'csv-parse/sync';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  CatalogError,
  ENTITY_ID,
  ENTITY_ID_RULE,
  readCatalogFile,
  resolveImage,
  type CatalogItem,
  type CatalogMarket,
} from './catalog.ts';
import { COUNTRY_BY_CODE } from './countries.ts';
import { redact, redactUrl } from './redact.ts';

export interface CatalogRow {
  /** Line of the source the row came from (1-based; CSV counts the header as line 1). */
  line: number;
  artistId: string;
  name: string;
  genre: string;
  /** Absolute path of a local image, or null (creatives then use a generated background). */
  image: string | null;
  market: string;
  popularity: number;
  trend: number | null;
  /** The artist's place in the catalog's similarity space, or null when the source has none. */
  embedding: number[] | null;
}

export interface RowError {
  line: number;
  reason: string;
}

export interface CatalogRows {
  source: string;
  /** Market metadata, when the source carries it (catalog JSON files do). */
  markets?: CatalogMarket[];
  /** Tracks, playlists and podcasts, when the source carries them (catalog JSON files do). */
  items?: CatalogItem[];
  rows: CatalogRow[];
  errors: RowError[];
}

const REQUIRED = ['artist_id', 'name', 'genre', 'market', 'popularity'] as const;
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

const rowSchema = z.object({
  artist_id: z.string({ error: 'is required' }).regex(ENTITY_ID, ENTITY_ID_RULE),
  name: z.string({ error: 'is required' }).trim().min(1, 'is required').max(200),
  genre: z.string({ error: 'is required' }).trim().min(1, 'is required'),
  image: z.string().optional(),
  market: z
    .string({ error: 'is required' })
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as SE')
    .refine((c) => COUNTRY_BY_CODE.has(c), 'is not a known country (core/countries.ts)'),
  popularity: z.coerce.number().min(0).max(1),
  trend: z.coerce.number().min(-1).max(1).optional(),
  // A JSON array, or in CSV one cell of numbers separated by spaces or semicolons.
  embedding: z
    .union([
      z.array(z.number()),
      // Each token must be a plain decimal number (no hex); a trailing separator is fine.
      z.string().transform((s) =>
        s
          .trim()
          .split(/[\s;]+/)
          .filter((t) => t !== '')
          .map((t) => (DECIMAL.test(t) ? Number(t) : NaN)),
      ),
    ])
    .pipe(
      z
        .array(z.number({ error: 'must hold only finite numbers' }))
        .min(2, 'must have at least 2 dimensions')
        .max(1024, 'must have at most 1024 dimensions'),
    )
    .optional(),
});

export type RowData = z.infer<typeof rowSchema>;

const given = (v: unknown) => v !== undefined && v !== '' && v !== null;
const isTrimmed = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= max && v.trim() === v;
const inRange = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && v >= min && v <= max;

/**
 * The row as `rowSchema` would parse it, for rows that are plainly valid (already the right types,
 * nothing to trim or coerce), else null. A catalog of 100,000 artists per market is almost all such
 * rows, and this is several times faster than the schema; anything else goes through the schema,
 * so errors and coercions are exactly the schema's (test/core/fuzz.test.ts checks they agree).
 */
export function plainRow(raw: Record<string, unknown>): RowData | null {
  const { artist_id, name, genre, image, market, popularity, trend, embedding } = raw;
  if (typeof artist_id !== 'string' || !ENTITY_ID.test(artist_id)) return null;
  if (!isTrimmed(name, 200) || !isTrimmed(genre, Infinity)) return null;
  if (given(image) && typeof image !== 'string') return null;
  if (typeof market !== 'string' || !/^[A-Z]{2}$/.test(market) || !COUNTRY_BY_CODE.has(market))
    return null;
  if (!inRange(popularity, 0, 1)) return null;
  if (given(trend) && !inRange(trend, -1, 1)) return null;
  if (given(embedding)) {
    if (!Array.isArray(embedding) || embedding.length < 2 || embedding.length > 1024) return null;
    for (const x of embedding as unknown[]) if (!Number.isFinite(x)) return null;
  }
  return {
    artist_id,
    name,
    genre,
    ...(given(image) ? { image: image as string } : {}),
    market,
    popularity,
    ...(given(trend) ? { trend: trend as number } : {}),
    ...(given(embedding) ? { embedding: [...(embedding as number[])] } : {}),
  };
}

/** The row through `rowSchema`: its data, or why it is refused. */
export function schemaRow(raw: Record<string, unknown>): { data: RowData } | { reason: string } {
  // Empty CSV cells mean "not given".
  const cleaned = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== '' && v !== null));
  const r = rowSchema.safeParse(cleaned);
  if (r.success) return { data: r.data };
  return {
    reason: r.error.issues.map((i) => `${i.path.join('.') || 'row'} ${i.message}`).join('; '),
  };
}

function validate(
  raw: Record<string, unknown>,
  line: number,
  baseDir: string | null,
): CatalogRow | RowError {
  let d = plainRow(raw);
  if (!d) {
    const r = schemaRow(raw);
    if ('reason' in r) return { line, reason: r.reason };
    d = r.data;
  }
  let image: string | null = null;
  if (d.image) {
    if (/^https?:/.test(d.image) || baseDir === null) {
      return {
        line,
        reason: 'image must be a local file path (adloop never fetches images at run time)',
      };
    }
    const resolved = resolveImage(baseDir, d.image);
    if ('reason' in resolved) return { line, reason: `image ${resolved.reason}` };
    image = resolved.path;
  }
  return {
    line,
    artistId: d.artist_id,
    name: d.name,
    genre: d.genre,
    image,
    market: d.market,
    popularity: d.popularity,
    trend: d.trend ?? null,
    embedding: d.embedding ?? null,
  };
}

function split(results: Array<CatalogRow | RowError>, source: string): CatalogRows {
  const rows: CatalogRow[] = [];
  const errors: RowError[] = [];
  for (const r of results) ('artistId' in r ? rows : errors).push(r as never);
  // The same artist and market twice: the later line wins, as a re-import would.
  const seen = new Map<string, CatalogRow>();
  for (const row of rows) seen.set(`${row.artistId}/${row.market}`, row);
  // Embeddings are compared with each other, so they must all have the same dimensions.
  const kept: CatalogRow[] = [];
  let dims: number | null = null;
  for (const row of seen.values()) {
    if (row.embedding) {
      dims ??= row.embedding.length;
      if (row.embedding.length !== dims) {
        errors.push({
          line: row.line,
          reason: `embedding has ${row.embedding.length} dimensions; earlier rows have ${dims}`,
        });
        continue;
      }
    }
    kept.push(row);
  }
  errors.sort((a, b) => a.line - b.line);
  return { source, rows: kept, errors };
}

export function parseCsvRows(text: string, source: string, baseDir: string | null): CatalogRows {
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(text, {
      columns: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      bom: true,
    });
  } catch (err) {
    throw new CatalogError(`${source} cannot be read as CSV: ${(err as Error).message}`);
  }
  const header = records[0] ? Object.keys(records[0].record) : [];
  const missing = REQUIRED.filter((c) => records.length > 0 && !header.includes(c));
  if (missing.length > 0) {
    throw new CatalogError(`${source}: the header lacks column(s) ${missing.join(', ')} (line 1)`);
  }
  return split(
    records.map((r) => validate(r.record, r.info.lines, baseDir)),
    source,
  );
}

export function parseJsonlRows(text: string, source: string, baseDir: string | null): CatalogRows {
  const results: Array<CatalogRow | RowError> = [];
  text.split(/\r?\n/).forEach((lineText, i) => {
    if (lineText.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(lineText);
    } catch (err) {
      results.push({ line: i + 1, reason: `not JSON: ${(err as Error).message}` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      results.push({ line: i + 1, reason: 'must be a JSON object' });
      return;
    }
    results.push(validate(value as Record<string, unknown>, i + 1, baseDir));
  });
  return split(results, source);
}

/** The rows of a catalog JSON file (see core/catalog.ts), so every format imports the same way. */
function jsonCatalogRows(file: string): CatalogRows {
  const catalog = readCatalogFile(file);
  const rows: CatalogRow[] = catalog.artists.flatMap((a, i) =>
    Object.entries(a.popularity).map(([market, popularity]) => ({
      line: i + 1,
      artistId: a.id,
      name: a.name,
      genre: a.genre,
      image: a.image,
      market,
      popularity,
      trend: a.trend?.[market] ?? null,
      embedding: a.embedding ?? null,
    })),
  );
  const items = (['track', 'playlist', 'podcast'] as const).flatMap((kind) =>
    catalog[`${kind}s`].map((c) => ({ kind, id: c.id, title: c.title, artistIds: c.artistIds })),
  );
  return { source: file, markets: catalog.markets, items, rows, errors: [] };
}

/**
 * Longest a catalog URL may take to answer and send its whole body, in ms. Default 60000, as the
 * platform requests (the ingest activity passes CATALOG_FETCH_TIMEOUT_MS); a source that never
 * answers must not hold the ingest activity until its own timeout.
 */
export const DEFAULT_CATALOG_FETCH_TIMEOUT_MS = 60_000;
/**
 * Largest body a catalog URL may send, in bytes: 256 MiB. A source that sends without end must not
 * fill the worker's memory.
 */
export const DEFAULT_CATALOG_MAX_BYTES = 256 * 1024 * 1024;

export interface LoadCatalogOptions {
  /** Timeout of a catalog URL's fetch, body included, in ms. Default DEFAULT_CATALOG_FETCH_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Largest body a catalog URL may send, in bytes. Default DEFAULT_CATALOG_MAX_BYTES. */
  maxBytes?: number;
}

/**
 * Reads catalog rows from a `.json` catalog, a `.csv` or `.jsonl` file, or an http(s) URL serving
 * CSV or JSONL (by content type, else by the URL's extension). A URL's errors name it redacted
 * (core/redact.ts): it may carry a token.
 */
export async function loadCatalogRows(
  location: string,
  options: LoadCatalogOptions = {},
): Promise<CatalogRows> {
  if (/^https?:\/\//.test(location)) {
    const { body, type } = await fetchCatalog(location, options);
    const source = redactUrl(location);
    const csv =
      type.includes('csv') ||
      (!type.includes('json') && new URL(location).pathname.endsWith('.csv'));
    return csv ? parseCsvRows(body, source, null) : parseJsonlRows(body, source, null);
  }
  const ext = path.extname(location).toLowerCase();
  if (ext === '.json') return jsonCatalogRows(location);
  let text: string;
  try {
    text = fs.readFileSync(location, 'utf8');
  } catch (err) {
    throw new CatalogError(`cannot read catalog ${location}: ${(err as Error).message}`);
  }
  if (ext === '.csv') return parseCsvRows(text, location, path.dirname(location));
  if (ext === '.jsonl' || ext === '.ndjson')
    return parseJsonlRows(text, location, path.dirname(location));
  throw new CatalogError(
    `catalog ${location}: unknown format ${ext || '(no extension)'}; use .json, .csv or .jsonl`,
  );
}

/** A catalog URL's body and content type, within the timeout and the size bound. */
async function fetchCatalog(
  location: string,
  options: LoadCatalogOptions,
): Promise<{ body: string; type: string }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CATALOG_FETCH_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_CATALOG_MAX_BYTES;
  // redact, not just redactUrl: a URL fetch cannot parse may still hold user info.
  const source = `catalog source ${redact(location)}`;
  const signal = AbortSignal.timeout(timeoutMs);
  // Timeouts and network failures are plain Errors (transient: the activity retries them). They
  // carry no `cause`, and fetch's own message is redacted: it may quote the whole URL.
  const failed = (err: unknown, waitingFor: string) => {
    if (signal.aborted)
      return new Error(
        `${source} timed out after ${timeoutMs} ms waiting for ${waitingFor} (CATALOG_FETCH_TIMEOUT_MS)`,
      );
    const e = err as Error & { cause?: Error };
    const detail = e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message;
    return new Error(`${source} is unreachable: ${redact(detail)}`);
  };
  let res: Response;
  try {
    res = await fetch(location, { signal });
  } catch (err) {
    throw failed(err, 'an answer');
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`${source} answered HTTP ${res.status}`);
  }
  // A catalog too big will not shrink on retry: a CatalogError, for a person to look at.
  const tooBig = () =>
    new CatalogError(`${source} sends more than ${sizeOf(maxBytes)}, the most a catalog may have`);
  if (Number(res.headers.get('content-length') ?? 0) > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooBig();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw tooBig();
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof CatalogError) throw err;
      throw failed(err, 'the whole body');
    }
  }
  return {
    // TextDecoder drops a leading byte order mark, as res.text() does.
    body: new TextDecoder().decode(Buffer.concat(chunks)),
    type: res.headers.get('content-type') ?? '',
  };
}

const MIB = 1024 * 1024;
const sizeOf = (bytes: number) => (bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`);
