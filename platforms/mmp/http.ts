// What the Adjust and Branch clients share: one HTTP call with errors classified as PlatformError
// (never with a URL, token or secret in the message), and the row helpers behind `Mmp`.
import { PlatformError, redact, type PlatformErrorKind } from '../errors.ts';
import type { AttributionRow, MmpProvider } from './mmp.ts';

export const DEFAULT_TIMEOUT_MS = 60_000;

/** Removes the given secrets, and anything that looks like a credential, from a text. */
export function scrub(text: string, secrets: string[]): string {
  let out = redact(text);
  for (const s of secrets) if (s) out = out.split(s).join('[redacted]');
  return out;
}

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
 * Sends one request and returns its parsed JSON body (null for 204 No Content). Network failures
 * and timeouts are transient; HTTP errors are classified by status.
 */
export async function requestJson(
  provider: MmpProvider,
  url: string,
  init: RequestInit,
  secrets: string[],
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<unknown> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message);
    throw new PlatformError(provider, 'transient', `request failed: ${scrub(why, secrets)}`);
  }
  if (!res.ok) {
    throw new PlatformError(
      provider,
      kindOf(res.status),
      scrub(messageOf(text), secrets),
      null,
      res.status,
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
