// A wire-faithful local Google Ads API v24 (the App campaign subset) and the OAuth token endpoint
// and YouTube uploads beside it. Two transports, as google-ads-api uses them:
//   REST (HTTP/1.1 JSON) on one port: POST /token (OAuth refresh), POST
//     /v24/customers/{id}/googleAds:searchStream and :search (queries), and YouTube's paths
//     (youtube-server.ts).
//   gRPC (plaintext) on another: CampaignBudgetService, CampaignService, CampaignCriterionService,
//     AdGroupService, AdGroupAdService, AdService, AssetService (their Mutate* methods),
//     GoogleAdsService.Search / SearchStream / Mutate and CustomerService.ListAccessibleCustomers.
// This file is the wire: authentication, access levels and quotas, faults, request ids and the
// error shapes (google-errors.ts). Objects are in google-objects.ts, rows and delivery in
// google-reporting.ts, queries in gaql.ts, every rule's source in google-rules.ts.
import { createHmac, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { AttributedDelivery, DeliveryLog, DeliveryModel, SandboxClock } from '../contracts.ts';
import { clientWaiting, holdLateWrite, holdWithoutAnswer } from '../http.ts';
import {
  bearerToken,
  BodyTooLarge,
  CallQuotas,
  faultDraw,
  readBody,
} from '../platform-server/index.ts';
import type { PlatformFaults, ReviewPolicy, World } from '../world.ts';
import { checkGaql, evaluateGaql, GaqlError } from './gaql.ts';
import {
  adsError,
  camelKeys,
  errors as E,
  type PathElement,
  text,
  FAILURE_METADATA_KEY,
  FAILURE_TYPE_URL,
  failureBytes,
  GoogleAdsFault,
  restErrorBody,
  statusText,
} from './google-errors.ts';
import { GOOGLE_SCHEMA } from './google-fields.ts';
import { GoogleAdsAccount, type MutableType, type Operation } from './google-objects.ts';
import { API_VERSION, serviceDefinition } from './google-protos.ts';
import { GoogleReporting } from './google-reporting.ts';
import { DAILY_OPERATIONS } from './google-rules.ts';
import { GoogleStore, type UndoLog } from './google-store.ts';
import { YouTubeError, YouTubeSandbox, youtubeError } from './youtube-server.ts';

export interface GoogleFaults extends PlatformFaults {
  /** Every call fails as during an outage (gRPC UNAVAILABLE, REST 503): transient. */
  down: boolean;
  /** The refresh token was revoked: token refreshes get invalid_grant, Ads calls OAUTH_TOKEN_REVOKED. */
  tokenRevoked: boolean;
}

/** One request the sandbox saw (REST or gRPC), for tests and chaos runs. */
export interface GoogleRequestEvent {
  transport: 'rest' | 'grpc';
  /** HTTP method and path, or the gRPC `Service/Method`. */
  method: string;
  path: string;
  /** HTTP status, or the gRPC status code; 0 when no answer was sent. */
  status: number;
  /** `category.CODE` of the first GoogleAdsError, when one. */
  error?: string;
  requestId: string;
  /** Operations counted against the developer token's daily limit. */
  operations: number;
  lost?: boolean;
  timedOut?: boolean;
  late?: boolean;
  malformed?: boolean;
  /** Which injected fault answered it (error, throttle, down), when one. */
  fault?: 'error' | 'throttle' | 'down';
}

/** OAuth access tokens live an hour ([doc oauth] expires_in 3599). */
const TOKEN_LIFETIME_S = 3599;
/** [doc oauth] the scopes App campaign tools ask for. */
const SCOPES =
  'https://www.googleapis.com/auth/adwords https://www.googleapis.com/auth/youtube.upload';
/** Search answers pages of 10,000 rows ([doc reporting/paging] "fixed page size of 10,000"). */
const SEARCH_PAGE = 10_000;
/** Bound of a REST query body: a query is a few KB. */
const MAX_QUERY_BODY = 1024 * 1024;

interface Caller {
  authorization: string | undefined;
  developerToken: string | undefined;
  loginCustomerId: string | undefined;
}

const SERVICES: Array<[string, string, MutableType, string]> = [
  ['CampaignBudgetService', 'MutateCampaignBudgets', 'campaign_budget', 'campaign_budget'],
  ['CampaignService', 'MutateCampaigns', 'campaign', 'campaign'],
  [
    'CampaignCriterionService',
    'MutateCampaignCriteria',
    'campaign_criterion',
    'campaign_criterion',
  ],
  ['AdGroupService', 'MutateAdGroups', 'ad_group', 'ad_group'],
  ['AdGroupAdService', 'MutateAdGroupAds', 'ad_group_ad', 'ad_group_ad'],
  ['AdService', 'MutateAds', 'ad', 'ad'],
  ['AssetService', 'MutateAssets', 'asset', 'asset'],
];

function requestId(): string {
  return randomBytes(11).toString('base64url');
}

export class GoogleAdsSandbox
  extends EventEmitter<{ request: [GoogleRequestEvent] }>
  implements DeliveryLog
{
  readonly platform = 'google' as const;
  readonly faults: GoogleFaults;
  readonly review: ReviewPolicy;
  readonly requests: GoogleRequestEvent[] = [];
  readonly account: GoogleAdsAccount;
  readonly reporting: GoogleReporting;
  readonly youtube: YouTubeSandbox;
  /** Operations counted per sandbox date (the developer token's daily limit). */
  readonly operationsByDay = new Map<string, number>();
  private readonly quotas: CallQuotas;
  private callNumber = 0;
  private requestNumber = 0;
  private baseUrl = '';

  constructor(
    private readonly world: World,
    simulator: DeliveryModel,
    readonly store: GoogleStore,
    private readonly clock: SandboxClock,
    now: () => number = () => performance.now(),
  ) {
    super();
    this.faults = { down: false, tokenRevoked: false, ...structuredClone(world.faults.google) };
    this.review = structuredClone(world.review);
    this.quotas = new CallQuotas(now);
    this.youtube = new YouTubeSandbox(
      store,
      `UC${world.google.customerId}`,
      clock,
      () => this.baseUrl,
      () => world.google.youtubeDailyQuota,
    );
    this.account = new GoogleAdsAccount(world, store, clock, this.review, this.youtube);
    this.reporting = new GoogleReporting(world, simulator, this.account, this.youtube, clock);
  }

  setBaseUrl(url: string) {
    this.baseUrl = url;
  }

  deliveriesOn(date: string): AttributedDelivery[] {
    return this.reporting.deliveriesOn(date);
  }

  private log(e: GoogleRequestEvent) {
    this.requests.push(e);
    this.emit('request', e);
  }

  private draw(what: string, n = this.callNumber): number {
    return faultDraw(this.world.seed, 'google', what, n);
  }

  // OAuth -----------------------------------------------------------------------------------------

  private tokenSignature(expiresAt: number) {
    const g = this.world.google.oauth;
    return createHmac('sha256', `${this.world.seed}/${g.clientSecret}/${g.refreshToken}`)
      .update(String(expiresAt))
      .digest('base64url');
  }

  /** A new access token (stateless: it carries its expiry, signed, so a restart keeps it valid). */
  issueAccessToken(now = Date.now()): string {
    const expiresAt = Math.floor(now / 1000) + TOKEN_LIFETIME_S;
    return `ya29.${expiresAt}.${this.tokenSignature(expiresAt)}`;
  }

  /** 'ok', or why the token is refused (an AuthenticationError code). */
  private checkAccessToken(token: string | null): string {
    if (!token) return 'OAUTH_TOKEN_HEADER_INVALID';
    const m = /^ya29\.(\d+)\.([\w-]+)$/.exec(token);
    if (!m || m[2] !== this.tokenSignature(Number(m[1]))) return 'OAUTH_TOKEN_INVALID';
    if (this.faults.tokenRevoked) return 'OAUTH_TOKEN_REVOKED';
    if (Number(m[1]) * 1000 <= Date.now()) return 'OAUTH_TOKEN_EXPIRED';
    return 'ok';
  }

  /** POST /token: the OAuth 2.0 refresh grant ([doc oauth/overview], RFC 6749 section 6). */
  private async token(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req, 64 * 1024);
    const form = new URLSearchParams(raw.toString('utf8'));
    const answer = (status: number, body: unknown) =>
      res
        .writeHead(status, {
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-store',
        })
        .end(JSON.stringify(body));
    const g = this.world.google.oauth;
    if (form.get('grant_type') !== 'refresh_token')
      return answer(400, {
        error: 'unsupported_grant_type',
        error_description: `Invalid grant_type: ${form.get('grant_type') ?? ''}`,
      });
    // Google answers an unknown client 401 invalid_client, a bad refresh token 400 invalid_grant.
    if (form.get('client_id') !== g.clientId || form.get('client_secret') !== g.clientSecret)
      return answer(401, {
        error: 'invalid_client',
        error_description: 'The OAuth client was not found.',
      });
    if (form.get('refresh_token') !== g.refreshToken || this.faults.tokenRevoked)
      return answer(400, {
        error: 'invalid_grant',
        error_description: 'Token has been expired or revoked.',
      });
    return answer(200, {
      access_token: this.issueAccessToken(),
      expires_in: TOKEN_LIFETIME_S,
      scope: SCOPES,
      token_type: 'Bearer',
    });
  }

  // Access ----------------------------------------------------------------------------------------

  /**
   * Who may call, on which customer ([doc concepts/call-structure] headers; [doc api-policy/
   * access-levels]); throws the GoogleAdsFault Google answers. Returns the customer's test flag.
   */
  private authorize(c: Caller, customerId: string | null) {
    const auth = this.checkAccessToken(/^Bearer\s+(.+)$/i.exec(c.authorization ?? '')?.[1] ?? null);
    if (auth !== 'ok')
      throw adsError(
        'authentication_error',
        auth,
        auth === 'OAUTH_TOKEN_EXPIRED'
          ? 'Authentication failed: the OAuth access token has expired.'
          : 'Authentication failed: the OAuth access token is missing or invalid.',
        { grpcCode: grpc.status.UNAUTHENTICATED },
      );
    if (!c.developerToken)
      throw adsError(
        'request_error',
        'DEVELOPER_TOKEN_PARAMETER_MISSING',
        'The developer-token header is required.',
      );
    if (c.developerToken !== this.world.google.developerToken)
      throw adsError(
        'authentication_error',
        'DEVELOPER_TOKEN_INVALID',
        'The developer token is not valid.',
        { grpcCode: grpc.status.UNAUTHENTICATED },
      );
    if (customerId === null) return;
    const g = this.world.google;
    if (!/^\d{10}$/.test(customerId))
      throw adsError(
        'request_error',
        'INVALID_CUSTOMER_ID',
        `Invalid customer id '${customerId}'.`,
      );
    if (c.loginCustomerId !== undefined && !/^\d{10}$/.test(c.loginCustomerId))
      throw adsError(
        'header_error',
        'INVALID_LOGIN_CUSTOMER_ID',
        'The login-customer-id header is not a valid customer id.',
      );
    const login = c.loginCustomerId ?? customerId;
    const reachable = customerId === g.customerId || customerId === g.managerId;
    // With a manager in the world, the OAuth user reaches the client through it only.
    const through = g.managerId ? login === g.managerId : login === g.customerId;
    if (!reachable || !through)
      throw adsError(
        'authorization_error',
        'USER_PERMISSION_DENIED',
        "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header. See https://developers.google.com/google-ads/api/docs/concepts/call-structure#cid",
        { grpcCode: grpc.status.PERMISSION_DENIED },
      );
    if (g.accessLevel === 'TEST_ACCOUNT' && !g.testAccount)
      throw adsError(
        'authorization_error',
        'DEVELOPER_TOKEN_NOT_APPROVED',
        'The developer token is only approved for use with test accounts. To access non-test accounts, apply for Basic or Standard access.',
        { grpcCode: grpc.status.PERMISSION_DENIED },
      );
  }

  /** Counts `n` operations against the token's daily limit (refused whole when over it). */
  private countOperations(n: number) {
    const g = this.world.google;
    const limit =
      g.dailyOperationLimit ?? DAILY_OPERATIONS[g.testAccount ? 'TEST_ACCOUNT' : g.accessLevel]!;
    const day = this.clock.today();
    const used = this.operationsByDay.get(day) ?? 0;
    if (used + n > limit) {
      const level = g.accessLevel.toLowerCase().replace('_', ' ');
      const secondsLeft = 86_400 - Math.floor((Date.now() / 1000) % 86_400);
      throw new GoogleAdsFault(
        [
          {
            category: 'quota_error',
            code: 'RESOURCE_EXHAUSTED',
            message: `Too many requests. Retry in ${secondsLeft} seconds.`,
            quota: {
              scope: 'DEVELOPER',
              rateName: `Number of operations for ${level} access`,
              retryDelaySeconds: secondsLeft,
            },
          },
        ],
        grpc.status.RESOURCE_EXHAUSTED,
      );
    }
    this.operationsByDay.set(day, used + n);
  }

  /** Injected faults and the short-term rate limit; returns the fault's name when one struck. */
  private injectFaults(): void {
    this.callNumber++;
    if (this.faults.down || this.faults.downDates.includes(this.clock.today()))
      throw Object.assign(E.unavailable(), { fault: 'down' });
    const r = this.draw('rate');
    if (r < this.faults.errorRate) throw Object.assign(E.internal(), { fault: 'error' });
    if (r < this.faults.errorRate + this.faults.throttleRate)
      throw Object.assign(E.temporarilyExhausted(1 + Math.floor(this.draw('retry') * 30)), {
        fault: 'throttle',
      });
    if (
      !this.quotas.admit([{ key: 'hour', limit: this.faults.hourlyCallLimit, windowMs: 3_600_000 }])
    )
      throw E.temporarilyExhausted(60);
  }

  /**
   * One call through the pipeline every transport shares: the timeout and late-write faults, auth,
   * faults and quotas, the work, and the lost-answer fault. `answer` sends the result or fault.
   */
  private async pipeline(o: {
    transport: 'rest' | 'grpc';
    method: string;
    path: string;
    write: boolean;
    caller: Caller;
    customerId: string | null;
    operations: number;
    cancelled: () => boolean;
    hold: () => Promise<void>;
    work: () => unknown;
    answer: (result: { ok: unknown } | { fault: GoogleAdsFault }, id: string) => number;
    drop: () => void;
  }) {
    const id = requestId();
    const base = {
      transport: o.transport,
      method: o.method,
      path: o.path,
      requestId: id,
      operations: 0,
    };
    this.requestNumber++;
    if (this.draw('timeout', this.requestNumber) < this.faults.timeoutRate) {
      await o.hold();
      this.log({ ...base, status: 0, timedOut: true });
      return;
    }
    const late =
      o.write &&
      this.faults.lateWriteRate > 0 &&
      this.draw('late', this.requestNumber) < this.faults.lateWriteRate;
    if (late) await holdLateWrite(this.faults.lateWriteMs);
    let result: { ok: unknown } | { fault: GoogleAdsFault };
    let counted = 0;
    let fault: GoogleRequestEvent['fault'];
    try {
      this.authorize(o.caller, o.customerId);
      this.injectFaults();
      if (this.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
      this.countOperations(o.operations);
      counted = o.operations;
      result = { ok: await o.work() };
    } catch (err) {
      fault = (err as { fault?: GoogleRequestEvent['fault'] }).fault;
      result = {
        fault:
          err instanceof GoogleAdsFault
            ? err
            : E.internal(`Internal error: ${(err as Error).message}`),
      };
    }
    const event = { ...base, operations: counted, ...(fault ? { fault } : {}) };
    if (
      'ok' in result &&
      o.write &&
      this.faults.lostResponseRate > 0 &&
      this.draw('lost') < this.faults.lostResponseRate
    ) {
      // The write is done; its answer is lost in transit.
      o.drop();
      this.log({ ...event, status: 0, lost: true });
      return;
    }
    if (late && o.cancelled()) {
      this.log({ ...event, status: 0, late: true });
      return;
    }
    const status = o.answer(result, id);
    const error = 'fault' in result ? result.fault.errors[0] : undefined;
    this.log({
      ...event,
      status,
      ...(error ? { error: `${error.category}.${error.code}` } : {}),
      ...(late ? { late } : {}),
    });
  }

  // Queries ---------------------------------------------------------------------------------------

  /** Runs a query for a customer: the result rows (proto form) and the field mask. */
  query(
    customerId: string,
    text: unknown,
  ): { rows: Array<Record<string, unknown>>; fieldMask: string[] } {
    if (typeof text !== 'string' || text.trim() === '')
      throw adsError('query_error', 'EXPECTED_SELECT', 'The query is empty.', { path: 'query' });
    try {
      const q = checkGaql(text, GOOGLE_SCHEMA, this.clock.today());
      if (customerId !== this.world.google.customerId) {
        // The manager account holds no campaigns, and reports no metrics.
        if (q.hasMetrics)
          throw new GaqlError(
            'REQUESTED_METRICS_FOR_MANAGER',
            'Metrics cannot be requested for a manager account.',
          );
        return { rows: [], fieldMask: q.select };
      }
      return {
        rows: evaluateGaql(q, this.reporting.rows(q), this.clock.today()),
        fieldMask: q.select,
      };
    } catch (err) {
      if (err instanceof GaqlError)
        throw adsError('query_error', err.code, err.message, {
          path: 'query',
          ...(err.trigger !== undefined ? { trigger: err.trigger } : {}),
        });
      throw err;
    }
  }

  // REST ------------------------------------------------------------------------------------------

  /** Node http handler for the REST port (token, queries, YouTube). */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    void this.serveRest(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        res.writeHead(500, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: { code: 500, message: (err as Error).message, status: 'INTERNAL' },
          }),
        );
    });
  };

  private async serveRest(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (url.pathname === '/token' && req.method === 'POST') return this.token(req, res);
    if (url.pathname.startsWith('/upload/youtube/') || url.pathname.startsWith('/youtube/')) {
      // A resumable session's URL is its own credential (its upload_id); everything else needs
      // the OAuth bearer.
      const session = url.searchParams.has('upload_id') && req.method === 'PUT';
      const auth = session ? 'ok' : this.checkAccessToken(bearerToken(req));
      if (auth !== 'ok') {
        req.resume();
        return youtubeError(
          res,
          new YouTubeError(
            401,
            'authError',
            'Request had invalid authentication credentials.',
            'global',
          ),
        );
      }
      await this.youtube.serve(req, res, url);
      return;
    }
    const m = new RegExp(`^/${API_VERSION}/customers/(\\d+)/googleAds:(searchStream|search)$`).exec(
      url.pathname,
    );
    const stream = m?.[2] === 'searchStream';
    const send = (status: number, body: unknown, id: string, malformed = false) => {
      const text = JSON.stringify(body);
      res
        .writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'request-id': id })
        .end(malformed ? text.slice(0, 40) : text);
    };
    if (!m || req.method !== 'POST') {
      req.resume();
      return send(
        404,
        {
          error: {
            code: 404,
            message: `The requested URL ${url.pathname} was not found on this server.`,
            status: 'NOT_FOUND',
          },
        },
        requestId(),
      );
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_QUERY_BODY);
    } catch (err) {
      if (err instanceof BodyTooLarge)
        return send(
          413,
          { error: { code: 413, message: 'Request body too large.', status: 'INVALID_ARGUMENT' } },
          requestId(),
        );
      throw err;
    }
    let body: Record<string, unknown> = {};
    try {
      body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      return send(
        400,
        {
          error: {
            code: 400,
            message: 'Invalid JSON payload received.',
            status: 'INVALID_ARGUMENT',
          },
        },
        requestId(),
      );
    }
    const header = (k: string) => (typeof req.headers[k] === 'string' ? req.headers[k] : undefined);
    let malformed = false;
    await this.pipeline({
      transport: 'rest',
      method: 'POST',
      path: url.pathname,
      write: false,
      caller: {
        authorization: header('authorization'),
        developerToken: header('developer-token'),
        loginCustomerId: header('login-customer-id'),
      },
      customerId: m[1]!,
      operations: 1,
      cancelled: () => !clientWaiting(res),
      hold: () => holdWithoutAnswer(req, res, this.faults.hangMs),
      drop: () => req.socket.destroy(),
      work: () => {
        if (body.pageSize !== undefined)
          throw adsError(
            'request_error',
            'PAGE_SIZE_NOT_SUPPORTED',
            'page_size is not supported: pages are 10,000 rows.',
            { path: 'page_size' },
          );
        const r = this.query(m[1]!, body.query);
        return r;
      },
      answer: (result, id) => {
        if ('fault' in result) {
          const [status] = statusText(result.fault.grpcCode);
          const err = restErrorBody(result.fault, id);
          send(status, stream ? [err] : err, id);
          return status;
        }
        const r = result.ok as { rows: Array<Record<string, unknown>>; fieldMask: string[] };
        const fieldMask = r.fieldMask
          .map((f) =>
            f
              .split('.')
              .map((p) => p.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()))
              .join('.'),
          )
          .join(',');
        malformed = this.draw('malformed') < this.faults.malformedRate;
        if (stream) {
          const pages = [];
          for (let i = 0; i === 0 || i < r.rows.length; i += SEARCH_PAGE)
            pages.push({
              results: camelKeys(r.rows.slice(i, i + SEARCH_PAGE)),
              fieldMask,
              requestId: id,
            });
          send(200, pages, id, malformed);
        } else {
          const start = Number(
            Buffer.from(
              typeof body.pageToken === 'string' ? body.pageToken : '',
              'base64url',
            ).toString() || 0,
          );
          const slice = r.rows.slice(start, start + SEARCH_PAGE);
          const next =
            start + SEARCH_PAGE < r.rows.length
              ? Buffer.from(String(start + SEARCH_PAGE)).toString('base64url')
              : undefined;
          send(
            200,
            {
              results: camelKeys(slice),
              fieldMask,
              ...(next ? { nextPageToken: next } : {}),
              ...(body.returnTotalResultsCount ? { totalResultsCount: String(r.rows.length) } : {}),
            },
            id,
            malformed,
          );
        }
        return 200;
      },
    });
    if (malformed) {
      const last = this.requests.at(-1);
      if (last) last.malformed = true;
    }
  }

  // gRPC ------------------------------------------------------------------------------------------

  private caller(md: grpc.Metadata): Caller {
    const one = (k: string) => {
      const v = md.get(k)[0];
      return typeof v === 'string' ? v : undefined;
    };
    return {
      authorization: one('authorization'),
      developerToken: one('developer-token'),
      loginCustomerId: one('login-customer-id'),
    };
  }

  private grpcError(fault: GoogleAdsFault, id: string): Partial<grpc.StatusObject> {
    const md = new grpc.Metadata();
    md.set(FAILURE_METADATA_KEY, failureBytes(fault.errors, id));
    md.set('request-id', id);
    return {
      code: fault.grpcCode,
      details: fault.errors.map((e) => e.message).join(' '),
      metadata: md,
    };
  }

  /** A unary gRPC handler over the shared pipeline. */
  private unary<Req extends Record<string, unknown>>(
    name: string,
    write: boolean,
    operations: (req: Req) => number,
    work: (req: Req) => unknown,
  ): grpc.handleUnaryCall<Req, unknown> {
    return (call, callback) => {
      let done = false;
      const finish = (err: Partial<grpc.StatusObject> | null, value?: unknown) => {
        if (done) return;
        done = true;
        if (err) callback(err);
        else callback(null, value);
      };
      void this.pipeline({
        transport: 'grpc',
        method: name,
        path: name,
        write,
        caller: this.caller(call.metadata),
        customerId: typeof call.request.customer_id === 'string' ? call.request.customer_id : null,
        operations: operations(call.request),
        cancelled: () => call.cancelled,
        // No answer until the client gives up or hangMs passes; then the call ends unanswered.
        hold: () =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => {
              finish({ code: grpc.status.UNAVAILABLE, details: 'Connection dropped' });
              resolve();
            }, this.faults.hangMs);
            t.unref();
            call.on('cancelled', () => {
              clearTimeout(t);
              resolve();
            });
          }),
        // A lost answer: the transport fails after the write (no GoogleAdsFailure, no request id).
        drop: () => finish({ code: grpc.status.UNAVAILABLE, details: 'Connection dropped' }),
        work: () => work(call.request),
        answer: (result, id) => {
          const md = new grpc.Metadata();
          md.set('request-id', id);
          call.sendMetadata(md);
          if ('fault' in result) {
            finish(this.grpcError(result.fault, id));
            return result.fault.grpcCode;
          }
          finish(null, result.ok);
          return grpc.status.OK;
        },
      });
    };
  }

  private mutateOptions(req: Record<string, unknown>) {
    return {
      partialFailure: req.partial_failure === true,
      validateOnly: req.validate_only === true,
      mutableResource: req.response_content_type === 'MUTABLE_RESOURCE',
    };
  }

  private partialFailure(fault: GoogleAdsFault | null, id: string) {
    if (!fault) return undefined;
    return {
      code: grpc.status.INVALID_ARGUMENT,
      message: `Multiple errors in 'details'. First error: ${fault.errors[0]?.message ?? ''}`,
      details: [{ type_url: FAILURE_TYPE_URL, value: failureBytes(fault.errors, id) }],
    };
  }

  private customerCheck(req: Record<string, unknown>) {
    if (req.customer_id === this.world.google.managerId)
      throw adsError(
        'request_error',
        'CANNOT_BE_EXECUTED_BY_MANAGER_ACCOUNT',
        'This operation cannot be executed by a manager account.',
      );
  }

  /** The grpc.Server with every service the sandbox implements. */
  grpcServer(): grpc.Server {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    for (const [service, method, type, result] of SERVICES) {
      server.addService(serviceDefinition(service), {
        [method]: this.unary<Record<string, unknown>>(
          `${service}/${method}`,
          true,
          (req) => (Array.isArray(req.operations) ? req.operations.length : 0),
          async (req) => {
            this.customerCheck(req);
            const out = await this.account.mutate(
              type,
              (req.operations as Operation[] | undefined) ?? [],
              this.mutateOptions(req),
            );
            return {
              results: out.results.map((r) =>
                r
                  ? {
                      resource_name: r.resource_name,
                      ...(r.resource ? { [result]: r.resource } : {}),
                    }
                  : {},
              ),
              ...(out.failure
                ? { partial_failure_error: this.partialFailure(out.failure, requestId()) }
                : {}),
            };
          },
        ),
      });
    }
    server.addService(serviceDefinition('CustomerService'), {
      ListAccessibleCustomers: this.unary(
        'CustomerService/ListAccessibleCustomers',
        false,
        () => 1,
        () => {
          const g = this.world.google;
          return { resource_names: [g.managerId ?? g.customerId].map((id) => `customers/${id}`) };
        },
      ),
    });
    server.addService(serviceDefinition('GoogleAdsService'), {
      Search: this.unary<Record<string, unknown>>(
        'GoogleAdsService/Search',
        false,
        () => 1,
        (req) => {
          if (req.page_size !== undefined && req.page_size !== 0)
            throw adsError(
              'request_error',
              'PAGE_SIZE_NOT_SUPPORTED',
              'page_size is not supported: pages are 10,000 rows.',
              { path: 'page_size' },
            );
          const r = this.query(String(req.customer_id), req.query);
          const start = Number(
            Buffer.from(
              typeof req.page_token === 'string' ? req.page_token : '',
              'base64url',
            ).toString() || 0,
          );
          const next =
            start + SEARCH_PAGE < r.rows.length
              ? Buffer.from(String(start + SEARCH_PAGE)).toString('base64url')
              : '';
          return {
            results: r.rows.slice(start, start + SEARCH_PAGE),
            next_page_token: next,
            field_mask: { paths: r.fieldMask },
            ...(req.return_total_results_count
              ? { total_results_count: String(r.rows.length) }
              : {}),
          };
        },
      ),
      SearchStream: (call: grpc.ServerWritableStream<Record<string, unknown>, unknown>) =>
        this.searchStream(call),
      Mutate: this.unary<Record<string, unknown>>(
        'GoogleAdsService/Mutate',
        true,
        (req) => (Array.isArray(req.mutate_operations) ? req.mutate_operations.length : 0),
        (req) => this.mutateMany(req),
      ),
    });
    return server;
  }

  /** GoogleAdsService.SearchStream: the rows in batches of 10,000, each with the request id. */
  private searchStream(call: grpc.ServerWritableStream<Record<string, unknown>, unknown>) {
    let ended = false;
    const end = (err: Partial<grpc.StatusObject> | null) => {
      if (ended) return;
      ended = true;
      if (err) call.emit('error', err);
      else call.end();
    };
    void this.pipeline({
      transport: 'grpc',
      method: 'GoogleAdsService/SearchStream',
      path: 'GoogleAdsService/SearchStream',
      write: false,
      caller: this.caller(call.metadata),
      customerId: typeof call.request.customer_id === 'string' ? call.request.customer_id : null,
      operations: 1,
      cancelled: () => call.cancelled,
      hold: () =>
        new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            end({ code: grpc.status.UNAVAILABLE, details: 'Connection dropped' });
            resolve();
          }, this.faults.hangMs);
          t.unref();
          call.on('cancelled', () => {
            clearTimeout(t);
            resolve();
          });
        }),
      drop: () => end({ code: grpc.status.UNAVAILABLE, details: 'Connection dropped' }),
      work: () => this.query(String(call.request.customer_id), call.request.query),
      answer: (result, id) => {
        const md = new grpc.Metadata();
        md.set('request-id', id);
        call.sendMetadata(md);
        if ('fault' in result) {
          end(this.grpcError(result.fault, id));
          return result.fault.grpcCode;
        }
        const r = result.ok as { rows: Array<Record<string, unknown>>; fieldMask: string[] };
        for (let i = 0; i === 0 || i < r.rows.length; i += SEARCH_PAGE)
          call.write({
            results: r.rows.slice(i, i + SEARCH_PAGE),
            field_mask: { paths: r.fieldMask },
            request_id: id,
          });
        end(null);
        return grpc.status.OK;
      },
    });
  }

  /**
   * GoogleAdsService.Mutate: operations of several resources in one request, run in order, each
   * seeing the ones before it ([proto services/google_ads_service.proto] rpc Mutate: "essentially
   * a wrapper around a series of mutate methods" adding atomic transactions and temp resource
   * names). Without partial_failure the request is atomic: when any operation fails, the writes of
   * the ones before it are taken back (GoogleStore.rollback) and every error is answered; with it,
   * each operation lands or fails on its own. validate_only takes everything back.
   *
   * Temp resource names (same proto, "Temp Resource Names"; [doc mutating/best-practices
   * "Temporary resource names"]): a create whose resource_name has a negative id gets a real id, and
   * later operations naming it refer to the created resource. A temp name is valid only after its
   * create and only within this request; each negative number once per request, across resource
   * types (NewResourceCreationError.DUPLICATE_TEMP_IDS); naming one whose create failed is
   * NewResourceCreationError.TEMP_ID_RESOURCE_HAD_ERRORS; naming one not created yet is
   * MutateError.RESOURCE_NOT_FOUND. The single-resource services take no temp names (the rpc's own
   * list of what it offers "over calling those methods directly"): there a negative id is
   * RequestError.RESOURCE_NAME_MALFORMED, as any other name that is not a resource's.
   */
  private async mutateMany(req: Record<string, unknown>) {
    this.customerCheck(req);
    const ops = (req.mutate_operations as Array<Record<string, unknown>> | undefined) ?? [];
    if (ops.length === 0)
      throw adsError('request_error', 'OPERATION_REQUIRED', 'At least one operation is required.', {
        path: 'mutate_operations',
      });
    const kinds: Record<string, [MutableType, string, string]> = {
      campaign_budget_operation: ['campaign_budget', 'campaign_budget_result', 'campaignBudgets'],
      campaign_operation: ['campaign', 'campaign_result', 'campaigns'],
      campaign_criterion_operation: [
        'campaign_criterion',
        'campaign_criterion_result',
        'campaignCriteria',
      ],
      ad_group_operation: ['ad_group', 'ad_group_result', 'adGroups'],
      ad_group_ad_operation: ['ad_group_ad', 'ad_group_ad_result', 'adGroupAds'],
      ad_operation: ['ad', 'ad_result', 'ads'],
      asset_operation: ['asset', 'asset_result', 'assets'],
    };
    const o = this.mutateOptions(req);
    const parts = ops.map((op, i) => {
      const key = Object.keys(op ?? {}).find((k) => kinds[k] && op[k] !== undefined);
      if (!key)
        throw adsError(
          'mutate_error',
          'MUTATE_NOT_ALLOWED',
          'The sandbox does not serve this operation type.',
          { path: [{ field_name: 'mutate_operations', index: i }] },
        );
      return { i, key, op: op[key] as Operation };
    });
    const at = (i: number, key: string, path: PathElement[] = []): PathElement[] => [
      { field_name: 'mutate_operations', index: i },
      { field_name: key },
      ...path,
    ];
    // A fault of account.mutate is located at operations[0]: at mutate_operations[i].<key> here.
    const locate = (f: GoogleAdsFault, i: number, key: string) =>
      new GoogleAdsFault(
        f.errors.map((e) => ({ ...e, path: at(i, key, (e.path ?? []).slice(1)) })),
        f.grpcCode,
      );
    const cid = this.world.google.customerId;
    /** Temp names created so far: the temp name -> the real one. */
    const created = new Map<string, string>();
    /** Temp names whose create failed, and every negative number a create used. */
    const failedTemps = new Set<string>();
    const usedTempIds = new Set<string>();
    const undo: UndoLog = [];
    const imageHashes = new Set<string>();
    const failures: GoogleAdsFault[] = [];
    const responses: Array<Record<string, unknown>> = [];
    try {
      for (const p of parts) {
        const [type, result, collection] = kinds[p.key]!;
        let temp: string | null = null;
        let op: Operation;
        try {
          temp = this.tempCreateName(p.op, collection, cid, usedTempIds);
          op = resolveTempNames(p.op, created, failedTemps) as Operation;
        } catch (err) {
          if (!(err instanceof GoogleAdsFault)) throw err;
          if (temp) failedTemps.add(temp);
          failures.push(
            new GoogleAdsFault(
              err.errors.map((e) => ({ ...e, path: at(p.i, p.key, e.path) })),
              err.grpcCode,
            ),
          );
          responses.push({});
          continue;
        }
        if (op.create && temp) delete op.create.resource_name;
        const out = await this.account.mutate(type, [op], {
          ...o,
          validateOnly: false,
          partialFailure: true,
          undo,
          imageHashes,
        });
        const r = out.results[0];
        if (out.failure || !r) {
          if (out.failure) failures.push(locate(out.failure, p.i, p.key));
          if (temp) failedTemps.add(temp);
          responses.push({});
          continue;
        }
        if (temp) created.set(temp, r.resource_name);
        responses.push({
          [result]: {
            resource_name: r.resource_name,
            ...(r.resource ? { [type]: r.resource } : {}),
          },
        });
      }
    } catch (err) {
      this.store.rollback(undo);
      throw err;
    }
    if (failures.length > 0 && !o.partialFailure) {
      this.store.rollback(undo);
      throw new GoogleAdsFault(
        failures.flatMap((f) => f.errors),
        failures[0]!.grpcCode,
      );
    }
    if (o.validateOnly) {
      this.store.rollback(undo);
      return {
        mutate_operation_responses: responses.map(() => ({})),
        ...(failures.length > 0
          ? {
              partial_failure_error: this.partialFailure(
                new GoogleAdsFault(failures.flatMap((f) => f.errors)),
                requestId(),
              ),
            }
          : {}),
      };
    }
    const failure =
      failures.length > 0 ? new GoogleAdsFault(failures.flatMap((f) => f.errors)) : null;
    return {
      mutate_operation_responses: responses,
      ...(failure ? { partial_failure_error: this.partialFailure(failure, requestId()) } : {}),
    };
  }

  /**
   * The temp resource name a create gives itself, or null when it gives none; throws when the
   * name is not a temp name of this customer and collection or its number was used before.
   */
  private tempCreateName(
    op: Operation,
    collection: string,
    cid: string,
    used: Set<string>,
  ): string | null {
    const name = op.create?.resource_name;
    if (name === undefined || name === null || name === '') return null;
    const m =
      typeof name === 'string' ? /^customers\/(\d+)\/([A-Za-z]+)\/(-?\d+)$/.exec(name) : null;
    if (!m || m[1] !== cid || m[2] !== collection)
      throw adsError(
        'request_error',
        'RESOURCE_NAME_MALFORMED',
        `Malformed resource name: ${text(name)}.`,
        { path: 'create.resource_name', trigger: name },
      );
    // NewResourceCreationError.CANNOT_SET_ID_FOR_CREATE: "Do not set the id field while creating
    // new resources."
    if (!m[3]!.startsWith('-') || /^-0+$/.test(m[3]!))
      throw adsError(
        'new_resource_creation_error',
        'CANNOT_SET_ID_FOR_CREATE',
        'A create may name itself only with a temp (negative) id.',
        { path: 'create.resource_name', trigger: name },
      );
    const id = String(BigInt(m[3]!));
    if (used.has(id))
      throw adsError(
        'new_resource_creation_error',
        'DUPLICATE_TEMP_IDS',
        `Temp id ${id} is used by an earlier create of this request.`,
        { path: 'create.resource_name', trigger: name },
      );
    used.add(id);
    return name as string;
  }
}

/** A resource name with a temp (negative) id in it: `customers/1/campaigns/-1`, `.../-2~-3`. */
const isTempName = (v: string) =>
  /^customers\/\d+\/[A-Za-z]+\/[-\d~]+$/.test(v) &&
  v
    .split('/')[3]!
    .split('~')
    .some((id) => id.startsWith('-'));

/**
 * The operation with every temp resource name an earlier create defined replaced by the created
 * resource's name; a copy (the request is not changed). Throws, located at the field, for a temp
 * name whose create failed or that no earlier create defined.
 */
export function resolveTempNames(
  value: unknown,
  created: ReadonlyMap<string, string>,
  failed: ReadonlySet<string>,
  path: PathElement[] = [],
): unknown {
  if (typeof value === 'string') {
    // A create's own resource_name defines its temp name (tempCreateName); it refers to nothing.
    const ownName = path.length === 2 && path[0]!.field_name === 'create';
    if (!isTempName(value) || (ownName && path[1]!.field_name === 'resource_name')) return value;
    const real = created.get(value);
    if (real) return real;
    if (failed.has(value))
      throw adsError(
        'new_resource_creation_error',
        'TEMP_ID_RESOURCE_HAD_ERRORS',
        `The create of ${value} failed, so this operation is not done.`,
        { path, trigger: value },
      );
    throw adsError(
      'mutate_error',
      'RESOURCE_NOT_FOUND',
      `Resource was not found: ${value} (a temp name is valid only after its create, in the same request).`,
      { path, trigger: value },
    );
  }
  if (Array.isArray(value))
    return value.map((v, index) =>
      resolveTempNames(v, created, failed, [...path.slice(0, -1), { ...path.at(-1)!, index }]),
    );
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [
      k,
      resolveTempNames(v, created, failed, [...path, { field_name: k }]),
    ]),
  );
}

export interface GoogleSandboxOptions {
  world: World;
  simulator: DeliveryModel & { idSeed: number };
  clock: SandboxClock;
  /** Where to persist the customer's and channel's state; null or absent keeps it in memory. */
  statePath?: string | null;
}

export function createGoogleSandbox(options: GoogleSandboxOptions): GoogleAdsSandbox {
  const store = new GoogleStore(options.simulator.idSeed, options.statePath ?? null);
  return new GoogleAdsSandbox(options.world, options.simulator, store, options.clock);
}

/** Binds the gRPC server (plaintext) on host:port (0 picks one); resolves the bound port. */
export function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
}
