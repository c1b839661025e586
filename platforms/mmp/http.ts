// What the Adjust and Branch clients share: one HTTP call with errors classified as PlatformError
// (never with a URL, token or secret in the message), and the row helpers behind `Mmp`.
import { redact } from '../../core/redact.ts';
import { PlatformError, REQUEST_TRIES, type PlatformErrorKind } from '../errors.ts';
import type { AttributionRow, MmpProvider } from './mmp.ts';
import { pause, requestSignal } from '../../core/cancellation.ts';

export const DEFAULT_TIMEOUT_MS = 60_000;

function kindOf(status: number): PlatformErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'transient';
  return 'invalid';
}

/** The readable message of an MMP error body: Adjust's `detail`, Branch's `error.message`. */
function messageOf(text: string): string {
  try {
    const body = JSON.parse(text) as {
      detail?: unknown;
      error?: { message?: unknown } | string;
      errors?: Array<{ message?: unknown }>;
    };
    if (typeof body.detail === 'string') return body.detail;
    if (typeof body.error === 'string') return body.error;
    if (typeof body.error?.message === 'string') return body.error.message;
    if (typeof body.errors?.[0]?.message === 'string') return body.errors[0].message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 300) || 'no error body';
}

/**
 * Longest wait for a 429's hint that the client sits out itself before trying again. A longer one
 * (Branch's hourly limit) goes up as a throttled PlatformError carrying `retryAfterMs`, so the
 * activity is retried then instead of holding a worker slot.
 */
export const MAX_THROTTLE_WAIT_MS = 60_000;

/**
 * How long a 429 asks the caller to wait, in ms: the Retry-After header (seconds), or Branch's
 * "Limit is exceeded for org-…, retry after N seconds" (help.branch.io/developers-hub/reference/
 * query-api, which sends no header); null when the answer says nothing.
 */
export function retryAfterMsOf(headers: Headers, text: string): number | null {
  const header = Number(headers.get('retry-after'));
  if (headers.has('retry-after') && Number.isFinite(header) && header >= 0) return header * 1000;
  const said = /retry after (\d+(?:\.\d+)?) seconds?/i.exec(text);
  return said ? Number(said[1]) * 1000 : null;
}

/**
 * Sends one request and returns its parsed JSON body (null for 204 No Content). Network failures
 * and timeouts are transient; HTTP errors are classified by status. A 429 is sent again after the
 * time it names (up to MAX_THROTTLE_WAIT_MS, REQUEST_TRIES in all): the MMP refused it without
 * carrying it out, so that is safe for any request.
 */
export async function requestJson(
  provider: MmpProvider,
  url: string,
  init: RequestInit,
  secrets: string[],
  timeoutMs = DEFAULT_TIMEOUT_MS,
  sleep: (ms: number) => Promise<void> = (ms) => pause(ms),
): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await requestOnce(provider, url, init, secrets, timeoutMs);
    } catch (err) {
      const e = err as PlatformError;
      if (e.kind !== 'throttled' || attempt >= REQUEST_TRIES) throw err;
      // Without a hint: 1 s, 2 s, 4 s. With one: that long, plus up to 10% so callers spread out.
      const waitMs = (e.retryAfterMs ?? 1000 * 2 ** (attempt - 1)) * (1 + Math.random() / 10);
      if (waitMs > MAX_THROTTLE_WAIT_MS) throw err;
      await sleep(waitMs);
    }
  }
}

async function requestOnce(
  provider: MmpProvider,
  url: string,
  init: RequestInit,
  secrets: string[],
  timeoutMs: number,
): Promise<unknown> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { ...init, signal: requestSignal(timeoutMs) });
    text = await res.text();
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message);
    throw new PlatformError(provider, 'transient', `request failed: ${redact(why, secrets)}`);
  }
  if (!res.ok) {
    throw new PlatformError(
      provider,
      kindOf(res.status),
      redact(messageOf(text), secrets),
      null,
      res.status,
      res.status === 429 ? retryAfterMsOf(res.headers, text) : null,
    );
  }
  if (res.status === 204 || text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PlatformError(provider, 'transient', 'response is not JSON', null, res.status);
  }
}

/** Rejects anything but a real calendar range before a request is made. */
export function checkRange(provider: MmpProvider, range: { since: string; until: string }) {
  const ok = (d: string) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) return false;
    const t = new Date(`${d}T00:00:00Z`);
    return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === d;
  };
  if (!ok(range.since) || !ok(range.until) || range.since > range.until) {
    throw new PlatformError(provider, 'invalid', 'range must be since <= until, both YYYY-MM-DD');
  }
}

/** Maps an MMP's network (partner) name to the ad platform adloop runs there. */
export function platformOf(network: string): AttributionRow['platform'] {
  if (/facebook|instagram|\bmeta\b/i.test(network)) return 'meta';
  if (/tiktok/i.test(network)) return 'tiktok';
  return null;
}

/** Stable order for rows: by date, platform, campaign, OS, ad group, creative. */
export function sortRows(rows: AttributionRow[]): AttributionRow[] {
  const key = (r: AttributionRow) =>
    [
      r.date,
      r.platform ?? r.network,
      r.campaignId,
      r.os,
      r.adGroupId ?? '',
      r.creativeId ?? '',
    ].join('\u0000');
  return rows.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** A string field of a response row, or a transient error: the MMP sent something unexpected. */
export function field(provider: MmpProvider, row: Record<string, unknown>, name: string): string {
  const v = row[name];
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new PlatformError(provider, 'transient', `response row has no ${name}`);
  return String(v);
}

/** A numeric field of a response row (Adjust sends strings, Branch numbers); 0 when absent. */
export function count(row: Record<string, unknown>, name: string): number {
  const v = Number(row[name] ?? 0);
  return Number.isFinite(v) ? Math.round(v) : 0;
}

/**
 * At most `max` calls of `run` at once; the rest wait in order. Adjust refuses more than 50
 * simultaneous report requests (dev.adjust.com/en/api/rs-api/reports, 429) and asks clients to
 * limit concurrency (dev.adjust.com/en/api/rs-api/rate-limits), while a worker may run every
 * market's ingest at the same time.
 */
export class InFlightLimit {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((go) => this.waiting.push(go));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
