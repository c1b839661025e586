// A wire-faithful local TikTok Business API (v1.3 subset): the requests and responses of
// tiktok-business-api-sdk-official work against it unchanged except for the base path.
//   GET  /open_api/v1.3/identity/get/, app/list/  (what `adloop check` reads)
//   GET  /open_api/v1.3/advertiser/info/           POST /open_api/v1.3/file/image/ad/upload/
//   POST /open_api/v1.3/file/video/ad/upload/      GET  /open_api/v1.3/file/video/ad/info/
//   POST /open_api/v1.3/campaign/create/           GET  /open_api/v1.3/campaign/get/
//   POST /open_api/v1.3/adgroup/create/            GET  /open_api/v1.3/adgroup/get/
//   POST /open_api/v1.3/adgroup/update/            (an ad group's daily budget)
//   POST /open_api/v1.3/ad/create/                 GET  /open_api/v1.3/ad/get/
//   POST /open_api/v1.3/{campaign,adgroup,ad}/status/update/
//   GET  /open_api/v1.3/ad/review_info/            GET  /open_api/v1.3/report/integrated/get/
// This file is the wire: routing, body limits (413), auth, quotas, faults and TikTok's envelope
// {code, message, request_id, data}, HTTP 200 even for errors (code != 0). The advertiser's
// objects are in tiktok-objects.ts, delivery and reports in tiktok-reporting.ts, and every
// validation rule cites its source in tiktok-rules.ts.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AttributedDelivery, DeliveryLog, DeliveryModel, SandboxClock } from '../contracts.ts';
import {
  clientWaiting,
  holdLateWrite,
  holdWithoutAnswer,
  parseMaybeJson,
  sandboxHttpServer,
} from '../http.ts';
import { parseMultipart, type FormPart } from '../media.ts';
import { BodyTooLarge, CallQuotas, faultDraw, readBody } from '../platform-server/index.ts';
import type { Simulator } from '../simulator.ts';
import type { PlatformFaults, ReviewPolicy, World } from '../world.ts';
import { TikTokError, tiktokErrors } from './tiktok-errors.ts';
import { TikTokAccount } from './tiktok-objects.ts';
import * as P from './tiktok-params.ts';
import type { Params } from './tiktok-params.ts';
import { TikTokReporting } from './tiktok-reporting.ts';
import { maxBodyBytes } from './tiktok-rules.ts';
import { TikTokStore } from './tiktok-store.ts';

export { MAX_ADS_PER_ADGROUP, MIN_ADGROUP_DAILY_BUDGET } from './tiktok-objects.ts';

export interface TikTokFaults extends PlatformFaults {
  /** Every call fails as during an outage (HTTP 503, code 50002): transient. */
  down: boolean;
  /** Only report/integrated/get fails (code 50000): the reporting backend is down. */
  reportDown: boolean;
  /** The access token was revoked: every call is refused with 40105 (a person must rotate it). */
  tokenRevoked: boolean;
}

/** TikTok's per-app quotas. Calls over them are answered with code 40100. */
export interface TikTokRateLimits {
  perSecond: number;
  perMinute: number;
  /** /ad/create has its own, lower per-second quota. */
  adCreatePerSecond: number;
}

export const DEFAULT_TIKTOK_LIMITS: Readonly<TikTokRateLimits> = {
  perSecond: 10,
  perMinute: 600,
  adCreatePerSecond: 5,
};

export interface TikTokRequestEvent {
  method: string;
  path: string;
  /** HTTP status (200 for nearly everything, as TikTok); 0 when no response was sent. */
  status: number;
  /** The envelope's code: 0 on success (and when no response was sent). */
  code: number;
  /** The write was carried out but its response never sent (faults.lostResponseRate). */
  lost?: boolean;
  /** The request was held unanswered and not carried out (faults.timeoutRate). */
  timedOut?: boolean;
  /**
   * The write was held and carried out late (faults.lateWriteRate); `status` is 0 when the client
   * had given up by then and so never heard of it.
   */
  late?: boolean;
  /** The answer was sent truncated (faults.malformedRate). */
  malformed?: boolean;
}

interface Call {
  params: Params;
  files: Map<string, FormPart>;
}

interface Route {
  method: 'GET' | 'POST';
  handler: (call: Call) => unknown;
}

function requestId(): string {
  const t = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  return `${t}${randomBytes(9).toString('hex').toUpperCase()}`;
}

/** Emits `request` (TikTokRequestEvent) after each response is written. */
export class TikTokSandbox
  extends EventEmitter<{ request: [TikTokRequestEvent] }>
  implements DeliveryLog
{
  readonly platform = 'tiktok' as const;
  readonly faults: TikTokFaults;
  /** The hidden ad review new ads go through; change it at run time (world.review's copy). */
  readonly review: ReviewPolicy;
  /** Quotas; change them at run time to provoke code 40100. */
  readonly limits: TikTokRateLimits;
  /** Every request seen, for tests and the sandbox's own log. */
  readonly requests: TikTokRequestEvent[] = [];
  /** Calls refused for going over a per-second or per-minute quota (code 40100). */
  throttledCalls = 0;
  readonly account: TikTokAccount;
  readonly reporting: TikTokReporting;
  private callNumber = 0;
  /** HTTP requests seen, for the timeout fault's draw. */
  private requestNumber = 0;
  private readonly quotas: CallQuotas;
  private readonly routes: Record<string, Route>;

  constructor(
    private readonly world: World,
    simulator: DeliveryModel,
    readonly store: TikTokStore,
    private readonly clock: SandboxClock,
    limits: Partial<TikTokRateLimits> = {},
    private baseUrl = '',
    now: () => number = () => performance.now(),
  ) {
    super();
    this.limits = { ...DEFAULT_TIKTOK_LIMITS, ...limits };
    this.faults = {
      down: false,
      reportDown: false,
      tokenRevoked: false,
      ...structuredClone(world.faults.tiktok),
    };
    this.review = structuredClone(world.review);
    this.quotas = new CallQuotas(now);
    this.account = new TikTokAccount(world, store, clock, this.review, () => this.baseUrl, now);
    this.reporting = new TikTokReporting(world, simulator, store, clock);
    const a = this.account;
    this.routes = {
      'file/image/ad/upload': { method: 'POST', handler: (c) => a.uploadImage(c.params, c.files) },
      'file/video/ad/upload': { method: 'POST', handler: (c) => a.uploadVideo(c.params, c.files) },
      'file/video/ad/info': { method: 'GET', handler: (c) => a.videoInfo(c.params) },
      'campaign/create': { method: 'POST', handler: (c) => a.createCampaign(c.params) },
      'campaign/get': { method: 'GET', handler: (c) => a.getCampaigns(c.params) },
      'adgroup/create': { method: 'POST', handler: (c) => a.createAdGroup(c.params) },
      'adgroup/get': { method: 'GET', handler: (c) => a.getAdGroups(c.params) },
      'adgroup/update': { method: 'POST', handler: (c) => a.updateAdGroup(c.params) },
      'ad/create': { method: 'POST', handler: (c) => a.createAds(c.params) },
      'ad/get': { method: 'GET', handler: (c) => a.getAds(c.params) },
      'ad/review_info': { method: 'GET', handler: (c) => a.reviewInfo(c.params) },
      'ad/status/update': { method: 'POST', handler: (c) => a.updateStatus('ad', c.params) },
      'adgroup/status/update': {
        method: 'POST',
        handler: (c) => a.updateStatus('adgroup', c.params),
      },
      'campaign/status/update': {
        method: 'POST',
        handler: (c) => a.updateStatus('campaign', c.params),
      },
      'report/integrated/get': {
        method: 'GET',
        handler: (c) => {
          if (this.faults.reportDown) throw tiktokErrors.systemError();
          return this.reporting.report(c.params);
        },
      },
      'advertiser/info': {
        method: 'GET',
        handler: (c) => a.advertiserInfo(this.advertisers(c.params), c.params),
      },
      'identity/get': { method: 'GET', handler: (c) => a.identities(c.params) },
      'app/list': { method: 'GET', handler: () => a.apps() },
    };
  }

  setBaseUrl(url: string) {
    this.baseUrl = url;
  }

  /** DeliveryLog: what this platform delivered on `date`, for the MMP servers. */
  deliveriesOn(date: string): AttributedDelivery[] {
    return this.reporting.deliveriesOn(date);
  }

  /** Node http handler. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    void this.serve(req, res);
  };

  private log(event: TikTokRequestEvent) {
    this.requests.push(event);
    this.emit('request', event);
  }

  private async serve(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    const id = requestId();
    this.requestNumber++;
    if (this.draw('timeout', this.requestNumber) < this.faults.timeoutRate) {
      // Held before anything is checked or done, so the call is never carried out; the client
      // sees no answer (its own timeout, or the connection dropping after hangMs).
      await holdWithoutAnswer(req, res, this.faults.hangMs);
      this.log({ method, path: url.pathname, status: 0, code: 0, timedOut: true });
      return;
    }
    let status = 200;
    let body: { code: number; message: string; request_id: string; data: unknown };
    let malformed = false;
    const late =
      method === 'POST' &&
      this.faults.lateWriteRate > 0 &&
      this.draw('late', this.requestNumber) < this.faults.lateWriteRate;
    try {
      const type = req.headers['content-type'] ?? '';
      const endpoint = /^\/open_api\/v1\.3\/(.+?)\/?$/.exec(url.pathname)?.[1];
      // Read the whole body first (bounded: uploads by their own limits), so an early error never
      // leaves an upload half-sent.
      const raw = await readBody(req, maxBodyBytes(endpoint)).catch((err: unknown) => {
        if (err instanceof BodyTooLarge) throw tiktokErrors.bodyTooLarge(err);
        throw err;
      });
      const route = endpoint ? this.routes[endpoint] : undefined;
      if (!endpoint || !route) throw tiktokErrors.unknownPath(url.pathname);
      // Received in full, then held: the client may give up before it is carried out.
      if (late) await holdLateWrite(this.faults.lateWriteMs);
      if (route.method !== method) throw tiktokErrors.wrongMethod(method);
      this.authenticate(req);
      this.throttle(endpoint);
      this.injectFaults();
      if (this.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
      const call = this.parse(type, url, raw);
      if (endpoint !== 'advertiser/info') this.checkAdvertiser(call.params);
      const data = await route.handler(call);
      body = { code: 0, message: 'OK', request_id: id, data };
      malformed = this.draw('malformed') < this.faults.malformedRate;
    } catch (err) {
      const e =
        err instanceof TikTokError
          ? err
          : new TikTokError(50000, `System error: ${(err as Error).message}`);
      status = e.status;
      body = { code: e.code, message: e.message, request_id: id, data: {} };
    }
    if (
      body.code === 0 &&
      method === 'POST' &&
      this.faults.lostResponseRate > 0 &&
      this.draw('lost') < this.faults.lostResponseRate
    ) {
      // The write is done; its answer is lost in transit: the connection drops without a response.
      req.socket.destroy();
      this.log({ method, path: url.pathname, status: 0, code: 0, lost: true });
      return;
    }
    if (late && !clientWaiting(res)) {
      // Carried out after the client gave up: nobody hears of it.
      this.log({ method, path: url.pathname, status: 0, code: body.code, late: true });
      return;
    }
    res
      .writeHead(status, { 'content-type': 'application/json', 'x-tt-logid': id })
      // A malformed page: the body cut mid-way, as a flaky proxy would.
      .end(malformed ? JSON.stringify(body).slice(0, 40) : JSON.stringify(body));
    this.log({
      method,
      path: url.pathname,
      status,
      code: body.code,
      ...(late ? { late } : {}),
      ...(malformed ? { malformed } : {}),
    });
  }

  /** A deterministic draw: the n-th call of a world always draws the same. */
  private draw(what: string, n = this.callNumber): number {
    return faultDraw(this.world.seed, 'tiktok', what, n);
  }

  /** The world's (or a test's) injected faults: outage days, error and rate-limit rates. */
  private injectFaults() {
    this.callNumber++;
    if (this.faults.down || this.faults.downDates.includes(this.clock.today())) {
      throw tiktokErrors.unavailable();
    }
    const r = this.draw('rate');
    if (r < this.faults.errorRate) throw tiktokErrors.unavailable();
    if (r < this.faults.errorRate + this.faults.throttleRate) throw tiktokErrors.tooManyRequests();
  }

  private authenticate(req: IncomingMessage) {
    const token = req.headers['access-token'];
    if (typeof token !== 'string' || token === '') throw tiktokErrors.missingToken();
    if (token !== this.world.tiktok.accessToken || this.faults.tokenRevoked)
      throw tiktokErrors.badToken();
  }

  /** Sliding-window quotas over the calls let through; refused calls do not count. */
  private throttle(endpoint: string) {
    const windows = [
      { key: 'second', limit: this.limits.perSecond, windowMs: 1000 },
      { key: 'minute', limit: this.limits.perMinute, windowMs: 60_000 },
      ...(endpoint === 'ad/create'
        ? [{ key: 'ad/create', limit: this.limits.adCreatePerSecond, windowMs: 1000 }]
        : []),
    ];
    if (!this.quotas.admit(windows)) {
      this.throttledCalls++;
      throw tiktokErrors.tooManyRequests();
    }
  }

  private parse(type: string, url: URL, raw: Buffer): Call {
    const params: Params = {};
    const files = new Map<string, FormPart>();
    for (const [k, v] of url.searchParams) {
      // A list sent as repeated keys (the SDK's 'multi' collection format) is kept whole.
      const prev = params[k];
      params[k] =
        prev === undefined
          ? parseMaybeJson(v)
          : Array.isArray(prev)
            ? [...(prev as unknown[]), v]
            : [prev, v];
    }
    if (raw.length > 0 && type.includes('multipart/form-data')) {
      const parts = parseMultipart(raw, type);
      if (!parts) throw tiktokErrors.invalidField('body', 'Malformed multipart/form-data body.');
      for (const p of parts) {
        if (p.filename !== null) files.set(p.name, p);
        else params[p.name] = p.data.toString('utf8');
      }
    } else if (raw.length > 0) {
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw tiktokErrors.invalidField('body', 'Request body is not valid JSON.');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw tiktokErrors.invalidField('body', 'Request body must be a JSON object.');
      Object.assign(params, body);
    }
    return { params, files };
  }

  /** `advertiser_id` must be a string id of the world's advertiser (ids are strings). */
  private checkAdvertiser(params: Params) {
    const id = P.id(params, 'advertiser_id');
    if (id !== this.world.tiktok.advertiserId) throw tiktokErrors.noPermission(id);
  }

  /** advertiser/info's advertiser_ids: each must be one the token may read. */
  private advertisers(params: Params): string[] {
    const ids = P.strings(params, 'advertiser_ids', { required: true, max: 100, ids: true })!;
    for (const id of ids)
      if (id !== this.world.tiktok.advertiserId) throw tiktokErrors.noPermission(id);
    return ids;
  }
}

export interface TikTokSandboxOptions {
  world: World;
  simulator: Simulator;
  clock: SandboxClock;
  /** Where to persist the advertiser's state; null or absent keeps it in memory. */
  statePath?: string | null;
  /** Quotas; TikTok-like defaults (DEFAULT_TIKTOK_LIMITS) when absent. */
  limits?: Partial<TikTokRateLimits>;
  /** Base URL the server is reachable at, for media URLs; settable later with setBaseUrl. */
  baseUrl?: string;
}

export function createTikTokSandbox(options: TikTokSandboxOptions): TikTokSandbox {
  const store = new TikTokStore(options.simulator.idSeed, options.statePath ?? null);
  return new TikTokSandbox(
    options.world,
    options.simulator,
    store,
    options.clock,
    options.limits,
    options.baseUrl ?? '',
  );
}

/**
 * Serves a TikTok sandbox on its own port (0 picks a free one), for tests and tools that do not go
 * through sandbox/index.ts. `url` is the base path to give the SDK.
 */
export async function listenTikTokSandbox(
  tiktok: TikTokSandbox,
  o: { port?: number; host?: string } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const host = o.host ?? '127.0.0.1';
  const server = sandboxHttpServer(tiktok.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  tiktok.setBaseUrl(url);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
