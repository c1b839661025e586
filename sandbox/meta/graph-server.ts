// A wire-faithful local Graph API (Marketing API v24 subset): the requests and responses of
// facebook-nodejs-business-sdk work against it unchanged except for the base URL.
//   GET      /v24.0/act_<id>                       the account (currency, time zone, status)
//   GET/POST /v24.0/act_<id>/{campaigns,adsets,adcreatives,ads,adimages,advideos}
//   GET/POST /v24.0/act_<id>/insights, /v24.0/<ad|adset|campaign>/insights
//   GET/POST /v24.0/<object id>, GET /v24.0/<adset|campaign id>/ads, report runs
//   GET      /v24.0/<video id>/thumbnails
//   POST     /v24.0/ with batch=[…] (at most 50 calls)
// It hosts every ad account of the world (world.metaAccounts); objects belong to their account.
// This file is the wire: authentication, faults, usage headers, batches and routing. What each
// call does is in graph-objects.ts (account objects) and graph-reporting.ts (insights); what is
// valid comes from Meta's specs (graph-spec.ts) and documentation (graph-rules.ts). Errors are
// Graph error objects. New ads go through the hidden ad review (../review.ts).
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AttributedDelivery, DeliveryLog, SandboxClock } from '../contracts.ts';
import { clientWaiting, holdLateWrite, holdWithoutAnswer, parseMaybeJson } from '../http.ts';
import { parseMultipart } from '../media.ts';
import {
  BodyTooLarge,
  FaultDraws,
  UsageWindow,
  bearerToken,
  readBody,
} from '../platform-server/index.ts';
import type { Simulator } from '../simulator.ts';
import type { PlatformFaults, VideoProcessing, World } from '../world.ts';
import { GraphError, graphErrors } from './graph-errors.ts';
import { maxBodyBytes } from './graph-rules.ts';
import {
  DEFAULT_VIDEO_CHUNK,
  GraphObjects,
  MAX_ADS_PER_ADSET,
  NODE_OF,
  type HostedAccount,
  type Params,
} from './graph-objects.ts';
import { GraphReporting } from './graph-reporting.ts';
import type { GraphObject, GraphStore, ObjectType } from './graph-store.ts';

export { DEFAULT_VIDEO_CHUNK, MAX_ADS_PER_ADSET };

export interface MetaFaults extends PlatformFaults {
  /** Every Graph call fails with a transient error (code 2, HTTP 503). */
  down: boolean;
  /** Only insights calls fail that way: the reporting backend is down. */
  insightsDown: boolean;
  /** The access token has expired: every call is refused with 190 (a person must rotate it). */
  tokenExpired: boolean;
}

/**
 * Most calls one batch request may hold
 * (https://developers.facebook.com/docs/graph-api/batch-requests: "up to 50 calls").
 */
export const MAX_BATCH = 50;

const EDGE_TYPES: Record<string, ObjectType> = {
  campaigns: 'campaign',
  adsets: 'adset',
  adcreatives: 'adcreative',
  ads: 'ad',
  adimages: 'adimage',
  advideos: 'advideo',
};

async function readParams(req: IncomingMessage, pathname: string): Promise<Params> {
  const raw = await readBody(req, maxBodyBytes(pathname));
  const type = req.headers['content-type'] ?? '';
  if (type.includes('multipart/form-data')) {
    // Files stay Buffers; text fields become strings.
    const parts = parseMultipart(raw, type);
    if (!parts) throw graphErrors.invalidParam('malformed multipart/form-data body');
    return Object.fromEntries(
      parts.map((p) => [p.name, p.filename !== null ? p.data : p.data.toString('utf8')]),
    );
  }
  const text = raw.toString('utf8');
  if (!text) return {};
  if (type.includes('application/json')) {
    const body = JSON.parse(text) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw graphErrors.invalidParam('request body must be a JSON object');
    return body as Params;
  }
  return Object.fromEntries(new URLSearchParams(text));
}

export interface GraphRequestEvent {
  method: string;
  path: string;
  /** HTTP status; 0 when no response was sent (lost after the write, or timed out). */
  status: number;
  /** The Graph error's code when the call was refused (17: rate limited; 1: unknown, transient). */
  code?: number;
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

/** Emits `request` (GraphRequestEvent) after each response is written. */
export class MetaGraphSandbox
  extends EventEmitter<{ request: [GraphRequestEvent] }>
  implements DeliveryLog
{
  readonly platform = 'meta' as const;
  readonly faults: MetaFaults;
  /** The hidden ad review new ads go through; change it at run time (world.review's copy). */
  readonly review: World['review'];
  /**
   * How uploaded videos process (world.meta.videoProcessing's copy): change it at run time, e.g.
   * `videoProcessing.failShare = 1` to make every new upload fail processing.
   */
  readonly videoProcessing: VideoProcessing;
  /** Rolling window of the usage-based throttle. Default one hour, as Meta's. */
  usageWindowMs = 3_600_000;
  /** Calls refused because the account's usage was over its limit (code 80004). */
  throttledCalls = 0;
  /** Every request seen, for tests and the sandbox's own log. */
  readonly requests: GraphRequestEvent[] = [];
  /** The ad accounts the token may use, by id without `act_`. */
  readonly accounts: ReadonlyMap<string, HostedAccount>;
  readonly objects: GraphObjects;
  readonly reporting: GraphReporting;
  private callNumber = 0;
  /** Write requests drawn for the lateWriteRate fault so far. */
  private lateDraws = 0;
  private readonly draws: FaultDraws;
  private readonly usageByAccount = new Map<string, UsageWindow>();

  constructor(
    private readonly world: World,
    simulator: Simulator,
    readonly store: GraphStore,
    private readonly clock: SandboxClock,
    private baseUrl = '',
  ) {
    super();
    this.faults = {
      down: false,
      insightsDown: false,
      tokenExpired: false,
      ...structuredClone(world.faults.meta),
    };
    this.review = structuredClone(world.review);
    this.videoProcessing = structuredClone(world.meta.videoProcessing);
    this.accounts = new Map(
      world.metaAccounts.map((a) => [
        a.id.slice('act_'.length),
        { ...a, id: a.id.slice(4), status: 1 },
      ]),
    );
    this.draws = new FaultDraws(world.seed, 'meta');
    this.objects = new GraphObjects(
      world,
      store,
      clock,
      this.review,
      () => this.baseUrl,
      this.videoProcessing,
    );
    this.reporting = new GraphReporting(world, simulator, store, clock, () => this.baseUrl);
    this.reporting.insightsDown = () => this.faults.insightsDown;
  }

  /** Chunk size the server asks resumable video uploads for. */
  get videoChunkBytes() {
    return this.objects.videoChunkBytes;
  }
  set videoChunkBytes(n: number) {
    this.objects.videoChunkBytes = n;
  }

  setBaseUrl(url: string) {
    this.baseUrl = url;
  }

  /**
   * Sets an ad account's account_status as Meta would after a billing or policy problem (2
   * DISABLED, 3 UNSETTLED...): what `adloop check` must notice. Tests and operators' drills only.
   */
  setAccountStatus(adAccountId: string, status: number): void {
    const account = this.accounts.get(adAccountId.replace(/^act_/, ''));
    if (!account) throw new Error(`the sandbox hosts no ad account ${adAccountId}`);
    account.status = status;
  }

  /** DeliveryLog: what every hosted account delivered on `date`, for the MMP servers. */
  deliveriesOn(date: string): AttributedDelivery[] {
    return [...this.accounts.values()].flatMap((a) => this.reporting.deliveriesOn(a, date));
  }

  /** Node http handler. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    void this.serve(req, res);
  };

  private async serve(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=UTF-8',
      'x-fb-request-id': randomBytes(8).toString('hex'),
      'x-fb-trace-id': randomBytes(8).toString('base64url'),
    };
    if (this.draws.timesOut(this.faults.timeoutRate)) {
      // Held before anything is read or done, so the call is never carried out; the client sees
      // no answer (its own timeout, or the connection dropping after hangMs).
      await holdWithoutAnswer(req, res, this.faults.hangMs);
      const event: GraphRequestEvent = { method, path: url.pathname, status: 0, timedOut: true };
      this.requests.push(event);
      this.emit('request', event);
      return;
    }
    let status = 200;
    let body: unknown;
    let malformed = false;
    let errorCode: number | undefined;
    const late =
      method === 'POST' &&
      this.faults.lateWriteRate > 0 &&
      this.draws.draw('late', ++this.lateDraws) < this.faults.lateWriteRate;
    try {
      const params: Params = Object.fromEntries(url.searchParams);
      if (method === 'POST') Object.assign(params, await readParams(req, url.pathname));
      // Received in full, then held: the client may give up before it is carried out.
      if (late) await holdLateWrite(this.faults.lateWriteMs);
      for (const k of Object.keys(params)) params[k] = parseMaybeJson(params[k]);
      const m = /^\/(v\d+\.\d+)(?:\/(.*?))?\/?$/.exec(url.pathname);
      if (!m) throw graphErrors.unknownPath(url.pathname.slice(1));
      this.authenticate(req, params);
      if (this.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
      if (!m[2] && method === 'POST' && params.batch !== undefined) {
        body = this.batch(params.batch, url, headers);
      } else {
        body = this.call(method, (m[2] ?? '').split('/'), params, url, headers);
      }
      malformed =
        Array.isArray((body as { data?: unknown })?.data) &&
        this.draws.draw('malformed', this.callNumber) < this.faults.malformedRate;
    } catch (err) {
      const e =
        err instanceof GraphError
          ? err
          : err instanceof BodyTooLarge
            ? graphErrors.bodyTooLarge(err)
            : graphErrors.invalidParam((err as Error).message);
      status = e.status;
      errorCode = e.code;
      body = e.toBody();
      headers['www-authenticate'] = 'OAuth "Facebook Platform" "invalid_request"';
    }
    if (
      status === 200 &&
      method === 'POST' &&
      this.faults.lostResponseRate > 0 &&
      this.draws.draw('lost', this.callNumber) < this.faults.lostResponseRate
    ) {
      // The write is done; its answer is lost in transit: the connection drops without a response.
      const lost: GraphRequestEvent = { method, path: url.pathname, status: 0, lost: true };
      this.requests.push(lost);
      req.socket.destroy();
      this.emit('request', lost);
      return;
    }
    if (late && !clientWaiting(res)) {
      // Carried out after the client gave up: nobody hears of it.
      const unheard: GraphRequestEvent = { method, path: url.pathname, status: 0, late: true };
      this.requests.push(unheard);
      this.emit('request', unheard);
      return;
    }
    const event: GraphRequestEvent = {
      method,
      path: url.pathname,
      status,
      ...(errorCode !== undefined ? { code: errorCode } : {}),
      ...(late ? { late: true } : {}),
      ...(malformed ? { malformed: true } : {}),
    };
    this.requests.push(event);
    const text = JSON.stringify(body);
    // A malformed page: the connection was cut mid-body, as a flaky proxy would.
    res
      .writeHead(status, headers)
      .end(malformed ? text.slice(0, Math.floor(text.length / 2)) : text);
    this.emit('request', event);
  }

  private authenticate(req: IncomingMessage, params: Params) {
    const token = (params.access_token as string | undefined) ?? bearerToken(req);
    if (!token) throw graphErrors.missingToken();
    if (token !== this.world.meta.accessToken) throw graphErrors.badToken();
    if (this.faults.tokenExpired) throw graphErrors.expiredToken(this.clock.today());
    delete params.access_token;
  }

  /**
   * One Graph call (alone or inside a batch): the outage, fault rates and the account's usage
   * throttle apply to each, like on the real API.
   */
  private call(
    method: string,
    segments: string[],
    params: Params,
    url: URL,
    headers: Record<string, string>,
  ): unknown {
    this.callNumber++;
    if (this.faults.down || this.faults.downDates.includes(this.clock.today()))
      throw graphErrors.unavailable();
    const account = this.accountOf(segments[0]);
    if (account) {
      const usage = this.usage(account);
      headers['x-business-use-case-usage'] = usage.header;
      if (usage.exceeded) {
        this.throttledCalls++;
        throw graphErrors.accountThrottled(usage.minutesToRegain);
      }
    }
    const r = this.draws.draw('rate', this.callNumber);
    if (r < this.faults.errorRate) throw graphErrors.unknown();
    if (r < this.faults.errorRate + this.faults.throttleRate) throw graphErrors.userThrottled();
    return this.route(method, segments, params, url);
  }

  /** The hosted account a path's first segment is, or owns (its usage counts). */
  private accountOf(head: string | undefined): HostedAccount | undefined {
    if (!head) return undefined;
    if (head.startsWith('act_')) return this.accounts.get(head.slice(4));
    const owner = this.store.get(head)?.owner;
    return owner ? this.accounts.get(owner) : undefined;
  }

  /**
   * A batch request: up to 50 calls, each answered with its own code, headers and body. Source:
   * https://developers.facebook.com/docs/graph-api/batch-requests
   */
  private batch(raw: unknown, url: URL, outer: Record<string, string>): unknown {
    if (!Array.isArray(raw)) throw graphErrors.invalidParam('Param batch must be a JSON array');
    if (raw.length === 0) throw graphErrors.invalidParam('Param batch must not be empty');
    if (raw.length > MAX_BATCH)
      throw graphErrors.invalidParam(
        `Too many requests in batch message. Maximum batch size is ${MAX_BATCH}`,
      );
    return raw.map((item: { method?: string; relative_url?: string; body?: string }, i) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=UTF-8' };
      try {
        if (typeof item?.relative_url !== 'string')
          throw graphErrors.invalidParam(`batch[${i}].relative_url is required`);
        const method = (item.method ?? 'GET').toUpperCase();
        const rel = new URL(item.relative_url.replace(/^\/+/, ''), `${url.origin}/`);
        const parts = rel.pathname.slice(1).split('/');
        if (/^v\d+\.\d+$/.test(parts[0] ?? '')) parts.shift();
        const params: Params = Object.fromEntries(rel.searchParams);
        if (typeof item.body === 'string')
          Object.assign(params, Object.fromEntries(new URLSearchParams(item.body)));
        for (const k of Object.keys(params)) params[k] = parseMaybeJson(params[k]);
        delete params.access_token;
        const body = this.call(method, parts, params, rel, headers);
        return {
          code: 200,
          headers: Object.entries(headers).map(([name, value]) => ({ name, value })),
          body: JSON.stringify(body),
        };
      } catch (err) {
        const e =
          err instanceof GraphError ? err : graphErrors.invalidParam((err as Error).message);
        return {
          code: e.status,
          headers: Object.entries(headers).map(([name, value]) => ({ name, value })),
          body: JSON.stringify(e.toBody()),
        };
      } finally {
        if (headers['x-business-use-case-usage'])
          outer['x-business-use-case-usage'] = headers['x-business-use-case-usage'];
      }
    });
  }

  /** Business use case usage of the ad account, in percent of its hourly allowance. */
  private usage(account: HostedAccount) {
    let window = this.usageByAccount.get(account.id);
    if (!window) {
      window = new UsageWindow(() => this.usageWindowMs);
      this.usageByAccount.set(account.id, window);
    }
    const u = window.record(this.faults.hourlyCallLimit);
    return {
      exceeded: u.exceeded,
      minutesToRegain: u.minutesToRegain,
      header: JSON.stringify({
        [account.id]: [
          {
            type: 'ads_management',
            call_count: u.percent,
            total_cputime: Math.round(u.percent / 2),
            total_time: Math.round(u.percent / 2),
            estimated_time_to_regain_access: u.minutesToRegain,
          },
        ],
      }),
    };
  }

  private route(method: string, seg: string[], params: Params, url: URL): unknown {
    const [head, edge, ...rest] = seg;
    if (rest.length > 0 || !head) throw graphErrors.unknownPath(seg.join('/'));
    const fail = (): never => {
      throw method === 'POST'
        ? graphErrors.unsupportedPost(seg.join('/'))
        : graphErrors.unknownPath(seg.join('/'));
    };
    // What `adloop check` reads: the token itself, the page ads run as, the promoted app.
    if (head === 'debug_token' && !edge && method === 'GET') return this.objects.debugToken(params);
    if (head === this.world.meta.pageId && !edge && method === 'GET')
      return this.objects.readPage(params);
    if (head === this.world.meta.applicationId && !edge && method === 'GET')
      return this.objects.readApplication(params);
    if (head === this.world.meta.applicationId && edge === 'app_event_types' && method === 'GET')
      return this.objects.appEventTypes(params);
    if (head.startsWith('act_')) {
      // An account the token cannot see answers as one that does not exist.
      const account = this.accounts.get(head.slice(4)) ?? fail();
      const { objects, reporting } = this;
      if (!edge) return method === 'GET' ? objects.readAccount(account, params) : fail();
      if (edge === 'insights') {
        if (method === 'GET')
          return reporting.insights(account, 'AdAccount', params, url, () => true);
        if (method === 'POST')
          return reporting.startReportRun(
            account,
            'AdAccount',
            params,
            () => true,
            `act_${account.id}`,
          );
        return fail();
      }
      if (edge === 'advideos' && method === 'POST') return objects.uploadVideo(account, params);
      const type = EDGE_TYPES[edge] ?? fail();
      if (method === 'POST') return objects.create(account, type, params);
      if (method === 'GET')
        return objects.list(
          account,
          NODE_OF[type],
          ['AdAccount', `GET ${edge}`],
          this.store.list(type, account.id),
          params,
          url,
        );
      return fail();
    }
    const obj = this.store.get(head);
    const account = obj ? this.accounts.get(obj.owner) : undefined;
    if (!obj || !account) return fail();
    return this.routeObject(method, account, obj, edge, params, url, fail);
  }

  private routeObject(
    method: string,
    account: HostedAccount,
    obj: GraphObject,
    edge: string | undefined,
    params: Params,
    url: URL,
    fail: () => never,
  ): unknown {
    const { objects, reporting } = this;
    if (obj.type === 'adreportrun') {
      if (method === 'GET' && !edge) return reporting.reportRunStatus(account, obj, params);
      if (method === 'GET' && edge === 'insights') return reporting.reportRunRows(obj, params, url);
      return fail();
    }
    if (!edge) {
      if (method === 'GET') return objects.read(account, obj, params);
      if (method === 'POST') return objects.update(account, obj, params);
      return fail();
    }
    if (obj.type === 'advideo' && edge === 'thumbnails' && method === 'GET')
      return objects.thumbnails(account, obj, params, url);
    const delivering = obj.type === 'ad' || obj.type === 'adset' || obj.type === 'campaign';
    const node = { ad: 'Ad', adset: 'AdSet', campaign: 'Campaign' }[obj.type as 'ad'];
    if (edge === 'ads' && method === 'GET' && (obj.type === 'adset' || obj.type === 'campaign')) {
      const key = obj.type === 'adset' ? 'adset_id' : 'campaign_id';
      return objects.list(
        account,
        'Ad',
        [node, 'GET ads'],
        this.store.list('ad', account.id, (a) => a.fields[key] === obj.id),
        params,
        url,
      );
    }
    if (edge === 'insights' && delivering) {
      const key = obj.type === 'ad' ? 'id' : `${obj.type}_id`;
      const include = (ad: GraphObject) => ad.fields[key] === obj.id;
      if (method === 'GET') return reporting.insights(account, node, params, url, include);
      if (method === 'POST')
        return reporting.startReportRun(account, node, params, include, obj.id);
    }
    return fail();
  }
}
