// Google Ads API errors as the platform sends them: a GoogleAdsFailure
// (google/ads/googleads/v24/errors/errors.proto) holding one GoogleAdsError per problem, each with
// its ErrorCode (one enum of one category, e.g. {campaign_error: DUPLICATE_CAMPAIGN_NAME}), a
// message, the value that triggered it and the field path it is about. Over gRPC it travels as
// bytes in the trailing metadata key below with a status code; over REST as JSON in
// error.details; in a partial failure inside a google.rpc.Status. Every code is checked against
// the protos when the error is made.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { API_VERSION, encodeMessage, isErrorCode } from './google-protos.ts';

/** Trailing metadata key of a failed call's GoogleAdsFailure (google-ads-node reads it). */
export const FAILURE_METADATA_KEY = `google.ads.googleads.${API_VERSION}.errors.googleadsfailure-bin`;
/** type_url of a GoogleAdsFailure packed in google.protobuf.Any (partial failures, REST details). */
export const FAILURE_TYPE_URL = `type.googleapis.com/google.ads.googleads.${API_VERSION}.errors.GoogleAdsFailure`;

export interface PathElement {
  field_name: string;
  index?: number;
}

export interface AdsErrorSpec {
  /** ErrorCode field, e.g. `campaign_error`. */
  category: string;
  /** Its enum value, e.g. `DUPLICATE_CAMPAIGN_NAME`. */
  code: string;
  message: string;
  /** The value that triggered the error, when one. */
  trigger?: string;
  /** Path of the field the error is about, from the operation (or request) down. */
  path?: PathElement[];
  /** QuotaError details: the bucket's name and how long to wait. */
  quota?: { scope: 'ACCOUNT' | 'DEVELOPER'; rateName: string; retryDelaySeconds?: number };
}

/** A refused request or operation: one or more GoogleAdsErrors and the gRPC status to send. */
export class GoogleAdsFault extends Error {
  constructor(
    readonly errors: AdsErrorSpec[],
    readonly grpcCode: GrpcStatus = GrpcStatus.INVALID_ARGUMENT,
  ) {
    super(errors.map((e) => `${e.category}.${e.code}: ${e.message}`).join('; '));
    for (const e of errors)
      if (!isErrorCode(e.category, e.code))
        throw new Error(`sandbox bug: ${e.category}.${e.code} is not in the v24 protos`);
  }

  /** The same errors with `prefix` put before each path (e.g. operations[3]). */
  within(prefix: PathElement[]): GoogleAdsFault {
    return new GoogleAdsFault(
      this.errors.map((e) => ({ ...e, path: [...prefix, ...(e.path ?? [])] })),
      this.grpcCode,
    );
  }
}

/** A value as text for messages and triggers: strings as they are, anything else as JSON. */
export function text(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined');
}

/** One error; `path` given as 'create.name' or elements. */
export function adsError(
  category: string,
  code: string,
  message: string,
  o: { trigger?: unknown; path?: string | PathElement[]; grpcCode?: GrpcStatus } = {},
): GoogleAdsFault {
  const path =
    typeof o.path === 'string'
      ? o.path.split('.').map((field_name) => ({ field_name }))
      : (o.path ?? undefined);
  return new GoogleAdsFault(
    [
      {
        category,
        code,
        message,
        ...(o.trigger !== undefined ? { trigger: text(o.trigger) } : {}),
        ...(path ? { path } : {}),
      },
    ],
    o.grpcCode,
  );
}

/** The GoogleAdsFailure of errors, in its plain (snake_case) proto form. */
export function failureMessage(errors: AdsErrorSpec[], requestId: string) {
  return {
    errors: errors.map((e) => ({
      error_code: { [e.category]: e.code },
      message: e.message,
      ...(e.trigger !== undefined ? { trigger: { string_value: e.trigger } } : {}),
      ...(e.path && e.path.length > 0 ? { location: { field_path_elements: e.path } } : {}),
      ...(e.quota
        ? {
            details: {
              quota_error_details: {
                rate_scope: e.quota.scope,
                rate_name: e.quota.rateName,
                ...(e.quota.retryDelaySeconds !== undefined
                  ? { retry_delay: { seconds: String(e.quota.retryDelaySeconds) } }
                  : {}),
              },
            },
          }
        : {}),
    })),
    request_id: requestId,
  };
}

export function failureBytes(errors: AdsErrorSpec[], requestId: string): Buffer {
  return encodeMessage('errors.GoogleAdsFailure', failureMessage(errors, requestId));
}

/** HTTP status, google.rpc.Code name and message of each gRPC status the sandbox sends. */
export const STATUS_TEXT: Partial<Record<GrpcStatus, [number, string, string]>> = {
  [GrpcStatus.INVALID_ARGUMENT]: [400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  [GrpcStatus.UNAUTHENTICATED]: [
    401,
    'UNAUTHENTICATED',
    'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
  ],
  [GrpcStatus.PERMISSION_DENIED]: [403, 'PERMISSION_DENIED', 'The caller does not have permission'],
  [GrpcStatus.NOT_FOUND]: [404, 'NOT_FOUND', 'Requested entity was not found.'],
  [GrpcStatus.RESOURCE_EXHAUSTED]: [
    429,
    'RESOURCE_EXHAUSTED',
    'Resource has been exhausted (e.g. check quota).',
  ],
  [GrpcStatus.INTERNAL]: [500, 'INTERNAL', 'Internal error encountered.'],
  [GrpcStatus.UNAVAILABLE]: [503, 'UNAVAILABLE', 'The service is currently unavailable.'],
};

export function statusText(code: GrpcStatus): [number, string, string] {
  return STATUS_TEXT[code] ?? [500, 'INTERNAL', 'Internal error encountered.'];
}

/** The REST (JSON) error body of a fault: google.rpc.Status with the failure in its details. */
export function restErrorBody(fault: GoogleAdsFault, requestId: string) {
  const [code, status, message] = statusText(fault.grpcCode);
  return {
    error: {
      code,
      message,
      status,
      details: [
        {
          '@type': FAILURE_TYPE_URL,
          ...(camelKeys(failureMessage(fault.errors, requestId)) as Record<string, unknown>),
        },
      ],
    },
  };
}

const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A proto message's plain form with JSON (lowerCamelCase) field names, as REST answers. */
export function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [camel(k), camelKeys(v)]),
  );
}

// The errors the sandbox sends outside the rules of one resource.
export const errors = {
  internal: (why = 'An internal error has occurred.') =>
    adsError('internal_error', 'TRANSIENT_ERROR', why, { grpcCode: GrpcStatus.INTERNAL }),
  unavailable: () =>
    adsError(
      'internal_error',
      'TRANSIENT_ERROR',
      'The service is temporarily unavailable. Please retry.',
      { grpcCode: GrpcStatus.UNAVAILABLE },
    ),
  /**
   * Short-term rate limit (https://developers.google.com/google-ads/api/docs/best-practices/quotas
   * "Rate limits": RESOURCE_TEMPORARILY_EXHAUSTED, retry after the delay given).
   */
  temporarilyExhausted: (retryDelaySeconds: number) =>
    new GoogleAdsFault(
      [
        {
          category: 'quota_error',
          code: 'RESOURCE_TEMPORARILY_EXHAUSTED',
          message: 'Too many requests. Retry in 30 seconds.'.replace(
            '30',
            String(retryDelaySeconds),
          ),
          quota: { scope: 'ACCOUNT', rateName: 'Requests per account', retryDelaySeconds },
        },
      ],
      GrpcStatus.RESOURCE_EXHAUSTED,
    ),
};
