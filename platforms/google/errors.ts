// Google Ads API failures as PlatformErrors. The API answers a failed request with a
// GoogleAdsFailure: a list of errors, each with one error code (a category such as QuotaError and
// an enum value such as RESOURCE_EXHAUSTED), a message, the location of the operation and field it
// concerns, and a request id. google-ads-api hands it over in two shapes:
// - gRPC (mutates): decoded from the trailing metadata key
//   `google.ads.googleads.v24.errors.googleadsfailure-bin`, enum values as numbers;
// - REST (queries): built from the JSON error's details, enum values as names.
// Both are read here into the same entries. A partial-failure mutate answers with the same
// failure, each error located at its operation's index.
import { errors as adsErrors } from 'google-ads-api';
import { redact } from '../../core/redact.ts';
import { PlatformError, type PlatformErrorKind } from '../errors.ts';

/** One error of a GoogleAdsFailure, read. */
export interface GoogleAdsErrorEntry {
  /** The error code's category, e.g. QuotaError, ImageError. */
  category: string;
  /** The enum value, e.g. RESOURCE_EXHAUSTED. */
  code: string;
  message: string;
  /** Index of the operation it concerns (`operations[i]`, `mutate_operations[i]`), or null. */
  operation: number | null;
  /** The field path, e.g. `operations[1].create.image_asset.data`, or empty. */
  field: string;
  /** How long the API asks to wait (QuotaError details), in ms, or null. */
  retryDelayMs: number | null;
}

export interface GoogleAdsFailureLike {
  errors?: unknown[] | null;
  request_id?: string | null;
}

const enumsOfErrors = adsErrors as unknown as Record<
  string,
  Record<string, Record<string, number>> | undefined
>;

/** `quota_error` -> `QuotaError`. */
const pascal = (snake: string) =>
  snake
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

/** The name of an error code's enum value, whether it arrived as a number (gRPC) or a name. */
function codeName(category: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const values = enumsOfErrors[`${category}Enum`]?.[category];
  if (values && typeof value === 'number') {
    const name = Object.keys(values).find((k) => values[k] === value);
    if (name) return name;
  }
  return String(value);
}

/** A protobuf Duration as ms: `{seconds: "30", nanos}` (gRPC) or `"30s"` (REST JSON). */
function durationMs(d: unknown): number | null {
  if (typeof d === 'string') {
    const m = /^(\d+(?:\.\d+)?)s$/.exec(d);
    return m ? Math.round(Number(m[1]) * 1000) : null;
  }
  if (typeof d === 'object' && d !== null) {
    const { seconds, nanos } = d as { seconds?: unknown; nanos?: unknown };
    const ms = Number(seconds ?? 0) * 1000 + Number(nanos ?? 0) / 1e6;
    return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : null;
  }
  return null;
}

interface RawError {
  error_code?: Record<string, unknown> | null;
  message?: string | null;
  location?: {
    field_path_elements?: Array<{ field_name?: string | null; index?: number | null }> | null;
  } | null;
  details?: { quota_error_details?: { retry_delay?: unknown } | null } | null;
}

/** The entries of a GoogleAdsFailure (either shape). */
export function failureEntries(failure: GoogleAdsFailureLike): GoogleAdsErrorEntry[] {
  return (failure.errors ?? []).map((raw) => {
    const e = (raw ?? {}) as RawError;
    // error_code is a oneof: the one set key names the category.
    const set = Object.entries(e.error_code ?? {}).find(
      ([, v]) => v !== null && v !== undefined && v !== 0 && v !== 'UNSPECIFIED',
    );
    const category = set ? pascal(set[0]) : 'UnknownError';
    const code = set ? codeName(category, set[1]) : 'UNKNOWN';
    const path = e.location?.field_path_elements ?? [];
    const first = path[0];
    const operation =
      first &&
      /^(mutate_)?operations$/.test(first.field_name ?? '') &&
      first.index !== null &&
      first.index !== undefined
        ? Number(first.index)
        : null;
    const field = path
      .map(
        (p) =>
          `${p.field_name ?? ''}${p.index !== null && p.index !== undefined ? `[${p.index}]` : ''}`,
      )
      .join('.');
    return {
      category,
      code,
      message: e.message ?? '',
      operation,
      field,
      retryDelayMs: durationMs(e.details?.quota_error_details?.retry_delay),
    };
  });
}

const THROTTLE_CODES = new Set([
  'RESOURCE_EXHAUSTED',
  'RESOURCE_TEMPORARILY_EXHAUSTED',
  'EXCESSIVE_SHORT_TERM_QUERY_RESOURCE_CONSUMPTION',
  'EXCESSIVE_LONG_TERM_QUERY_RESOURCE_CONSUMPTION',
]);

/** How adloop must react to one Google Ads error code. */
export function kindOfError(category: string, code: string): PlatformErrorKind {
  if (category === 'AuthenticationError' || category === 'AuthorizationError') return 'auth';
  if (category === 'QuotaError') {
    // A developer token whose access does not allow the API (not approved) needs a human.
    if (code === 'ACCESS_PROHIBITED') return 'auth';
    return THROTTLE_CODES.has(code) ? 'throttled' : 'invalid';
  }
  // "Retry the request" (Google Ads API, Common errors: INTERNAL_ERROR, TRANSIENT_ERROR,
  // CONCURRENT_MODIFICATION).
  if (category === 'InternalError') return 'transient';
  if (category === 'DatabaseError' && code === 'CONCURRENT_MODIFICATION') return 'transient';
  return 'invalid';
}

/** Most severe first: a request that is also wrong would fail again after waiting. */
const KIND_ORDER: PlatformErrorKind[] = ['auth', 'invalid', 'throttled', 'transient'];

const describe = (e: GoogleAdsErrorEntry) =>
  `${e.category}.${e.code}${e.message ? `: ${e.message}` : ''}${e.field ? ` (at ${e.field})` : ''}`;

/** A PlatformError of some entries of one failure. */
export function entriesError(
  entries: GoogleAdsErrorEntry[],
  requestId: string | null | undefined,
  secrets: readonly string[] = [],
): PlatformError {
  const kinds = entries.map((e) => kindOfError(e.category, e.code));
  const kind = KIND_ORDER.find((k) => kinds.includes(k)) ?? 'invalid';
  const delays = entries.map((e) => e.retryDelayMs).filter((d): d is number => d !== null);
  const text = entries.length ? entries.map(describe).join('; ') : 'unknown GoogleAdsFailure';
  return new PlatformError(
    'google',
    kind,
    redact(`${text}${requestId ? ` (request id ${requestId})` : ''}`, secrets),
    null,
    null,
    kind === 'throttled' && delays.length ? Math.max(...delays) : null,
  );
}

/** gRPC status codes (grpc/status.h) and how adloop reacts to them without a GoogleAdsFailure. */
const GRPC_KINDS: Record<number, [string, PlatformErrorKind]> = {
  1: ['CANCELLED', 'transient'],
  2: ['UNKNOWN', 'transient'],
  3: ['INVALID_ARGUMENT', 'invalid'],
  4: ['DEADLINE_EXCEEDED', 'transient'],
  5: ['NOT_FOUND', 'invalid'],
  7: ['PERMISSION_DENIED', 'auth'],
  8: ['RESOURCE_EXHAUSTED', 'throttled'],
  9: ['FAILED_PRECONDITION', 'invalid'],
  12: ['UNIMPLEMENTED', 'invalid'],
  13: ['INTERNAL', 'transient'],
  14: ['UNAVAILABLE', 'transient'],
  16: ['UNAUTHENTICATED', 'auth'],
};

/** Google's JSON error statuses (google.rpc.Code names), for REST errors without a failure. */
const STATUS_KINDS: Record<string, PlatformErrorKind> = {
  INVALID_ARGUMENT: 'invalid',
  UNAUTHENTICATED: 'auth',
  PERMISSION_DENIED: 'auth',
  RESOURCE_EXHAUSTED: 'throttled',
  UNAVAILABLE: 'transient',
  INTERNAL: 'transient',
  DEADLINE_EXCEEDED: 'transient',
};

function kindOfHttp(status: number): PlatformErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'throttled';
  if (status >= 500 || status === 408) return 'transient';
  return 'invalid';
}

interface LooseError {
  message?: string;
  code?: unknown;
  details?: unknown;
  status?: unknown;
  response?: { status?: number };
  cause?: { code?: unknown; status?: unknown; message?: unknown };
}

/**
 * Any failure of a google-ads-api call as a PlatformError: a GoogleAdsFailure by its error codes,
 * a gRPC error by its status, an HTTP error by its status; anything else (the network, a
 * truncated answer) is transient. `secrets` are taken out of the message.
 */
export function toGooglePlatformError(
  err: unknown,
  secrets: readonly string[] = [],
): PlatformError {
  if (err instanceof PlatformError) return err;
  if (err instanceof adsErrors.GoogleAdsFailure) {
    const f = err as GoogleAdsFailureLike;
    return entriesError(failureEntries(f), f.request_id, secrets);
  }
  const e = (err ?? {}) as LooseError;
  const text = (m: unknown) => redact(typeof m === 'string' && m ? m : String(err), secrets);
  // gRPC: a ServiceError has a numeric code and the server's text in details.
  if (typeof e.code === 'number' && GRPC_KINDS[e.code]) {
    const [name, kind] = GRPC_KINDS[e.code]!;
    return new PlatformError('google', kind, `${name}: ${text(e.details ?? e.message)}`);
  }
  // REST without a GoogleAdsFailure: google-ads-api keeps the JSON error as the cause.
  const status = typeof e.cause?.status === 'string' ? e.cause.status : null;
  if (status && STATUS_KINDS[status])
    return new PlatformError(
      'google',
      STATUS_KINDS[status],
      `${status}: ${text(e.cause?.message)}`,
    );
  const http = typeof e.response?.status === 'number' ? e.response.status : null;
  if (http !== null)
    return new PlatformError(
      'google',
      kindOfHttp(http),
      `HTTP ${http}: ${text(e.message)}`,
      null,
      http,
    );
  return new PlatformError('google', 'transient', text(e.message));
}

/**
 * The errors of a partial-failure mutate by operation index: each failed operation's errors as
 * one PlatformError. Errors that name no operation fail every operation.
 */
export function partialFailureErrors(
  failure: GoogleAdsFailureLike | null | undefined,
  operations: number,
  secrets: readonly string[] = [],
): Map<number, PlatformError> {
  const out = new Map<number, PlatformError>();
  if (!failure) return out;
  const entries = failureEntries(failure);
  for (let i = 0; i < operations; i++) {
    const mine = entries.filter((e) => e.operation === i || e.operation === null);
    if (mine.length) out.set(i, entriesError(mine, failure.request_id, secrets));
  }
  return out;
}
