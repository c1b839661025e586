// A wire-faithful local Graph API (Marketing API v24 subset): the requests and responses of
// facebook-nodejs-business-sdk work against it unchanged except for the base URL.
//   GET/POST /v24.0/act_<id>/{campaigns,adsets,adcreatives,ads,adimages}
//   GET      /v24.0/act_<id>/insights, /v24.0/<ad|adset|campaign>/insights
//   GET/POST /v24.0/<object id>, GET /v24.0/<adset|campaign id>/ads
// Errors are Graph error objects; access tokens are checked; list edges page with absolute
// `paging.next` URLs; every call on the account or an object it owns counts towards its
// `X-Business-Use-Case-Usage` and reports it. New ads go through the hidden ad review
// (../review.ts): PENDING_REVIEW, then ACTIVE or DISAPPROVED with `ad_review_feedback`.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { addDays, dateRange } from '../../core/dates.ts';
import type {
  AttributedDelivery,
  Delivery,
  DeliveryLog,
  SandboxClock,
  SimAd,
} from '../contracts.ts';
import { keyed } from '../../core/random.ts';
import type { Os } from '../contracts.ts';
import { reviewAd, reviewState } from '../review.ts';
import type { Simulator } from '../simulator.ts';
import type { PlatformFaults, ReviewPolicy, World } from '../world.ts';
import { contentFromLink } from '../deep-link.ts';
import { holdWithoutAnswer, parseMaybeJson, readRaw } from '../http.ts';
import { aspectRatio, mp4Size, parseMultipart } from '../media.ts';
import { addDelivery, asReported, emptyTally, type Tally } from '../reporting.ts';
import { GraphError, graphErrors } from './graph-errors.ts';
import { GraphStore, type GraphObject, type ObjectType } from './graph-store.ts';

export interface MetaFaults extends PlatformFaults {
  /** Every Graph call fails with a transient error (code 2, HTTP 503). */
  down: boolean;
  /** Only insights calls fail that way: the reporting backend is down. */
  insightsDown: boolean;
}

/** Most calls one batch request may hold. */
export const MAX_BATCH = 50;
/** Meta caps an ad set at 50 ads that are not archived or deleted. */
export const MAX_ADS_PER_ADSET = 50;
/** Ad statuses that do not count towards MAX_ADS_PER_ADSET. */
const RETIRED = new Set(['ARCHIVED', 'DELETED']);

type Params = Record<string, unknown>;

const OBJECTIVES = new Set([
  'OUTCOME_APP_PROMOTION',
  'OUTCOME_AWARENESS',
  'OUTCOME_ENGAGEMENT',
  'OUTCOME_LEADS',
  'OUTCOME_SALES',
  'OUTCOME_TRAFFIC',
]);
const STATUSES = new Set(['ACTIVE', 'PAUSED', 'ARCHIVED', 'DELETED']);
/** Bytes a resumable video upload transfers per chunk (Meta chooses; clients follow its offsets). */
export const DEFAULT_VIDEO_CHUNK = 4 * 1024 * 1024;

const EDGE_TYPES: Record<string, ObjectType> = {
  campaigns: 'campaign',
  adsets: 'adset',
  adcreatives: 'adcreative',
  ads: 'ad',
  adimages: 'adimage',
};
const ACTION_INSTALL = 'mobile_app_install';
const ACTION_REGISTRATION = 'app_custom_event.fb_mobile_complete_registration';
const ACTION_SUBSCRIPTION = 'app_custom_event.Subscribe';

/** Insights `actions`: one entry per action type that happened; absent when none did. */
function actionList(counts: Array<[string, number]>) {
  const list = counts
    .filter(([, n]) => n > 0)
    .map(([action_type, n]) => ({ action_type, value: String(n) }));
  return list.length > 0 ? list : undefined;
}

/**
 * The OS segments an ad set's `targeting.user_os` reaches: ["iOS"], ["Android"] (versions such as
 * "iOS_ver_14.0_and_above" count as the OS); absent means both.
 */
function targetedOses(userOs: unknown): Os[] | undefined {
  if (userOs === undefined || userOs === null) return undefined;
  if (!Array.isArray(userOs) || userOs.length === 0)
    throw graphErrors.invalidParam('Param targeting.user_os must be a non-empty array');
  const oses = new Set<Os>();
  for (const v of userOs) {
    const s = String(v).toLowerCase();
    if (s === 'ios' || s.startsWith('ios_')) oses.add('ios');
    else if (s === 'android' || s.startsWith('android_')) oses.add('android');
    else
      throw graphErrors.invalidParam(
        `Param targeting.user_os: ${String(v)} is not a valid OS; use iOS or Android`,
      );
  }
  return [...oses];
}

async function readBody(req: IncomingMessage): Promise<Params> {
  const raw = await readRaw(req);
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
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw graphErrors.invalidParam('request body must be a JSON object');
    }
    return body as Params;
  }
  return Object.fromEntries(new URLSearchParams(text));
}

export interface GraphRequestEvent {
  method: string;
  path: string;
  /** HTTP status; 0 when no response was sent (lost after the write, or timed out). */
  status: number;
  /** The write was carried out but its response never sent (faults.lostResponseRate). */
  lost?: boolean;
  /** The request was held unanswered and not carried out (faults.timeoutRate). */
  timedOut?: boolean;
}

/** Emits `request` (GraphRequestEvent) after each response is written. */
export class MetaGraphSandbox
  extends EventEmitter<{ request: [GraphRequestEvent] }>
  implements DeliveryLog
{
  readonly platform = 'meta' as const;
  readonly faults: MetaFaults;
  /** The hidden ad review new ads go through; change it at run time (world.review's copy). */
  readonly review: ReviewPolicy;
  /** Rolling window of the usage-based throttle. Default one hour, as Meta's. */
  usageWindowMs = 3_600_000;
  /** Calls refused because the account's usage was over its limit (code 80004). */
  throttledCalls = 0;
  private callNumber = 0;
  /** HTTP requests seen (a batch is one), for the timeout fault's draw. */
  private requestNumber = 0;
  /** Chunk size the server asks resumable video uploads for. */
  videoChunkBytes = DEFAULT_VIDEO_CHUNK;
  /** Resumable video uploads in progress, by upload session id. */
  private readonly uploads = new Map<
    string,
    { videoId: string; size: number; received: Buffer[]; offset: number }
  >();
  /** Every request seen, for tests and the sandbox's own log. */
  readonly requests: GraphRequestEvent[] = [];
  private readonly callTimes: number[] = [];
  private readonly accountId: string;

  constructor(
    private readonly world: World,
    private readonly simulator: Simulator,
    readonly store: GraphStore,
    private readonly clock: SandboxClock,
    private baseUrl = '',
  ) {
    super();
    this.accountId = world.meta.adAccountId.slice('act_'.length);
    this.faults = { down: false, insightsDown: false, ...structuredClone(world.faults.meta) };
    this.review = structuredClone(world.review);
  }

  setBaseUrl(url: string) {
    this.baseUrl = url;
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
    if (this.timesOut()) {
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
    try {
      const params: Params = Object.fromEntries(url.searchParams);
      if (method === 'POST') Object.assign(params, await readBody(req));
      for (const k of Object.keys(params)) params[k] = parseMaybeJson(params[k]);
      const m = /^\/(v\d+\.\d+)(?:\/(.*?))?\/?$/.exec(url.pathname);
      if (!m) throw graphErrors.unknownPath(url.pathname.slice(1));
      this.authenticate(req, params);
      if (this.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
      if (!m[2] && method === 'POST' && params.batch !== undefined) {
        body = this.batch(params.batch, url, headers);
      } else {
        const segments = (m[2] ?? '').split('/');
        body = this.call(method, m[1]!, segments, params, url, headers);
      }
      malformed =
        Array.isArray((body as { data?: unknown })?.data) &&
        this.draw('malformed') < this.faults.malformedRate;
    } catch (err) {
      const e = err instanceof GraphError ? err : graphErrors.invalidParam((err as Error).message);
      status = e.status;
      body = e.toBody();
      headers['www-authenticate'] = 'OAuth "Facebook Platform" "invalid_request"';
    }
    if (
      status === 200 &&
      method === 'POST' &&
      this.faults.lostResponseRate > 0 &&
      this.draw('lost') < this.faults.lostResponseRate
    ) {
      // The write is done; its answer is lost in transit: the connection drops without a response.
      const lost: GraphRequestEvent = { method, path: url.pathname, status: 0, lost: true };
      this.requests.push(lost);
      req.socket.destroy();
      this.emit('request', lost);
      return;
    }
    const event = { method, path: url.pathname, status };
    this.requests.push(event);
    const text = JSON.stringify(body);
    // A malformed page: the connection was cut mid-body, as a flaky proxy would.
    res
      .writeHead(status, headers)
      .end(malformed ? text.slice(0, Math.floor(text.length / 2)) : text);
    this.emit('request', event);
  }

  private authenticate(req: IncomingMessage, params: Params) {
    const bearer = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = (params.access_token as string | undefined) ?? bearer;
    if (!token) throw graphErrors.missingToken();
    if (token !== this.world.meta.accessToken) throw graphErrors.badToken();
    delete params.access_token;
  }

  /** A deterministic draw for fault injection: the n-th call of a world always draws the same. */
  private draw(what: string): number {
    return keyed(this.world.seed, 'meta-fault', what, this.callNumber)();
  }

  /** Whether this HTTP request draws the timeout fault: one draw per request, a batch included. */
  private timesOut(): boolean {
    this.requestNumber++;
    return (
      this.faults.timeoutRate > 0 &&
      keyed(this.world.seed, 'meta-fault', 'timeout', this.requestNumber)() <
        this.faults.timeoutRate
    );
  }

  /**
   * One Graph call (alone or inside a batch): the outage, fault rates and the account's usage
   * throttle apply to each, like on the real API.
   */
  private call(
    method: string,
    version: string,
    segments: string[],
    params: Params,
    url: URL,
    headers: Record<string, string>,
  ): unknown {
    this.callNumber++;
    if (this.faults.down || this.faults.downDates.includes(this.clock.today())) {
      throw graphErrors.unavailable();
    }
    if (this.ownedByAccount(segments[0])) {
      const usage = this.usage();
      headers['x-business-use-case-usage'] = usage.header;
      if (usage.exceeded) {
        this.throttledCalls++;
        throw graphErrors.accountThrottled(usage.minutesToRegain);
      }
    }
    const r = this.draw('rate');
    if (r < this.faults.errorRate) throw graphErrors.unknown();
    if (r < this.faults.errorRate + this.faults.throttleRate) throw graphErrors.userThrottled();
    return this.route(method, version, segments, params, url);
  }

  /** Whether a path's first segment is the ad account or an object it owns (its usage counts). */
  private ownedByAccount(head: string | undefined): boolean {
    if (!head) return false;
    if (head === `act_${this.accountId}`) return true;
    return this.store.get(head)?.owner === this.accountId;
  }

  /** A batch request: up to 50 calls, each answered with its own code, headers and body. */
  private batch(raw: unknown, url: URL, outer: Record<string, string>): unknown {
    if (!Array.isArray(raw)) throw graphErrors.invalidParam('Param batch must be a JSON array');
    if (raw.length === 0) throw graphErrors.invalidParam('Param batch must not be empty');
    if (raw.length > MAX_BATCH) {
      throw graphErrors.invalidParam(
        `Too many requests in batch message. Maximum batch size is ${MAX_BATCH}`,
      );
    }
    return raw.map((item: { method?: string; relative_url?: string; body?: string }, i) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=UTF-8' };
      try {
        if (typeof item?.relative_url !== 'string')
          throw graphErrors.invalidParam(`batch[${i}].relative_url is required`);
        const method = (item.method ?? 'GET').toUpperCase();
        const rel = new URL(item.relative_url.replace(/^\/+/, ''), `${url.origin}/`);
        const parts = rel.pathname.slice(1).split('/');
        const version = /^v\d+\.\d+$/.test(parts[0] ?? '') ? parts.shift()! : 'v24.0';
        const params: Params = Object.fromEntries(rel.searchParams);
        if (typeof item.body === 'string')
          Object.assign(params, Object.fromEntries(new URLSearchParams(item.body)));
        for (const k of Object.keys(params)) params[k] = parseMaybeJson(params[k]);
        delete params.access_token;
        const body = this.call(method, version, parts, params, rel, headers);
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
  private usage(): { header: string; exceeded: boolean; minutesToRegain: number } {
    const now = Date.now();
    this.callTimes.push(now);
    while (this.callTimes.length > 0 && this.callTimes[0]! <= now - this.usageWindowMs)
      this.callTimes.shift();
    const limit = this.faults.hourlyCallLimit;
    const exceeded = this.callTimes.length > limit;
    const pct = Math.min(100, Math.round((this.callTimes.length / limit) * 100));
    // Access returns when enough of the window's calls have aged out to get back under the limit.
    const oldest = this.callTimes[this.callTimes.length - limit - 1] ?? now;
    const minutesToRegain = exceeded
      ? Math.max(1, Math.ceil((oldest + this.usageWindowMs - now) / 60_000))
      : 0;
    if (exceeded) this.callTimes.pop(); // a refused call does not count
    return {
      exceeded,
      minutesToRegain,
      header: JSON.stringify({
        [this.accountId]: [
          {
            type: 'ads_management',
            call_count: pct,
            total_cputime: Math.round(pct / 2),
            total_time: Math.round(pct / 2),
            estimated_time_to_regain_access: minutesToRegain,
          },
        ],
      }),
    };
  }

  private route(method: string, version: string, seg: string[], params: Params, url: URL): unknown {
    const [head, edge, ...rest] = seg;
    if (rest.length > 0 || !head) throw graphErrors.unknownPath(seg.join('/'));
    if (head.startsWith('act_')) {
      if (head !== `act_${this.accountId}`) throw graphErrors.unknownPath(head);
      if (!edge) {
        if (method !== 'GET') return this.fail(head);
        const all: Record<string, unknown> = {
          account_id: this.accountId,
          currency: this.world.meta.currency,
          timezone_name: this.world.meta.timeZone,
          name: `${this.world.name} sandbox account`,
          account_status: 1,
        };
        const names =
          typeof params.fields === 'string' && params.fields
            ? params.fields.split(',')
            : ['account_id'];
        return Object.fromEntries([
          ['id', head],
          ...names.filter((n) => n in all).map((n) => [n, all[n]]),
        ]);
      }
      if (edge === 'insights' && method === 'GET') return this.insights(params, url, () => true);
      if (edge === 'insights' && method === 'POST') return this.startReportRun(params, () => true);
      if (edge === 'advideos' && method === 'POST') return this.uploadVideo(params);
      if (edge === 'advideos' && method === 'GET') {
        return this.page(this.store.list('advideo', this.accountId), params, url);
      }
      const type = EDGE_TYPES[edge];
      if (!type) throw graphErrors.unknownPath(`${head}/${edge}`);
      if (method === 'POST') return this.create(type, params);
      if (method === 'GET')
        return this.page(
          this.store.list(type, this.accountId).filter((o) => type !== 'adimage' || o),
          params,
          url,
        );
      throw graphErrors.unknownPath(seg.join('/'));
    }
    const obj = this.store.get(head);
    if (!obj || obj.owner !== this.accountId) {
      throw method === 'POST' ? graphErrors.unsupportedPost(head) : graphErrors.unknownPath(head);
    }
    if (obj.type === 'adreportrun' && method === 'GET' && !edge)
      return this.reportRunStatus(obj, params);
    if (obj.type === 'adreportrun' && method === 'GET' && edge === 'insights') {
      if (Number(obj.fields.polls) < 2)
        throw graphErrors.invalidParam('The report is not ready yet');
      return this.paginate(obj.fields.rows as unknown[], params, url);
    }
    if (!edge) {
      if (method === 'GET') return this.select(obj, params.fields);
      if (method === 'POST') return this.updateObject(obj, params);
    }
    if (method === 'GET' && edge === 'ads' && (obj.type === 'adset' || obj.type === 'campaign')) {
      const key = obj.type === 'adset' ? 'adset_id' : 'campaign_id';
      return this.page(
        this.store.list('ad', this.accountId, (a) => a.fields[key] === obj.id),
        params,
        url,
      );
    }
    if (
      method === 'GET' &&
      edge === 'insights' &&
      obj.type !== 'adcreative' &&
      obj.type !== 'adimage'
    ) {
      const key = obj.type === 'ad' ? 'id' : `${obj.type}_id`;
      return this.insights(params, url, (ad) => ad.fields[key] === obj.id);
    }
    if (
      method === 'POST' &&
      edge === 'insights' &&
      (obj.type === 'ad' || obj.type === 'adset' || obj.type === 'campaign')
    ) {
      const key = obj.type === 'ad' ? 'id' : `${obj.type}_id`;
      return this.startReportRun(params, (ad) => ad.fields[key] === obj.id);
    }
    void version;
    throw graphErrors.unknownPath(seg.join('/'));
  }

  private fail(p: string): never {
    throw graphErrors.unsupportedPost(p);
  }

  private requireString(params: Params, name: string): string {
    const v = params[name];
    if (v === undefined || v === null || v === '') throw graphErrors.missingParam(name);
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw graphErrors.invalidParam(`Param ${name} must be a string`);
    }
    return String(v);
  }

  /** A scalar parameter as a string, `fallback` when absent; objects are a parameter error. */
  private scalar(params: Params, name: string, fallback: string): string {
    const v = params[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw graphErrors.invalidParam(`Param ${name} must be a scalar`);
    }
    return String(v);
  }

  private status(params: Params, fallback: string): string {
    const s = this.scalar(params, 'status', fallback);
    if (!STATUSES.has(s))
      throw graphErrors.invalidParam(`Param status must be one of {${[...STATUSES].join(', ')}}`);
    return s;
  }

  private create(type: ObjectType, p: Params): unknown {
    const now = new Date().toISOString();
    const today = this.clock.today();
    const base = { account_id: this.accountId, created_time: now, updated_time: now };
    switch (type) {
      case 'adimage': {
        const bytes = this.requireString(p, 'bytes');
        const buf = Buffer.from(bytes, 'base64');
        if (buf.length === 0)
          throw graphErrors.invalidParam('Param bytes must be base64 image data');
        const hash = GraphStore.imageHash(buf);
        const name = typeof p.name === 'string' ? p.name : 'bytes';
        const existing = this.store.get(`${this.accountId}:${hash}`);
        if (!existing) {
          this.store.create(
            'adimage',
            this.accountId,
            { ...base, hash, name, url: `${this.baseUrl}/images/${hash}.png`, status: 'ACTIVE' },
            today,
          );
        }
        return { images: { [name]: { hash, url: `${this.baseUrl}/images/${hash}.png` } } };
      }
      case 'campaign': {
        const name = this.requireString(p, 'name');
        const objective = this.requireString(p, 'objective');
        if (!OBJECTIVES.has(objective))
          throw graphErrors.invalidParam(
            `Param objective must be one of {${[...OBJECTIVES].join(', ')}}`,
          );
        if (!Array.isArray(p.special_ad_categories))
          throw graphErrors.missingParam('special_ad_categories');
        const o = this.store.create(
          'campaign',
          this.accountId,
          {
            ...base,
            name,
            objective,
            special_ad_categories: p.special_ad_categories,
            status: this.status(p, 'ACTIVE'),
          },
          today,
        );
        return { id: o.id };
      }
      case 'adset': {
        const name = this.requireString(p, 'name');
        const campaignId = this.requireString(p, 'campaign_id');
        const campaign = this.store.get(campaignId);
        if (campaign?.type !== 'campaign')
          throw graphErrors.invalidParam(`Param campaign_id must be a valid campaign id`);
        const budget = Number(this.requireString(p, 'daily_budget'));
        if (!Number.isInteger(budget) || budget <= 0)
          throw graphErrors.invalidParam(
            'Param daily_budget must be a positive integer in minor units',
          );
        const billing = this.requireString(p, 'billing_event');
        const goal = this.requireString(p, 'optimization_goal');
        const targeting = p.targeting as { geo_locations?: { countries?: string[] } } | undefined;
        const countries = targeting?.geo_locations?.countries;
        if (!Array.isArray(countries) || countries.length === 0)
          throw graphErrors.invalidParam('Param targeting must include geo_locations.countries');
        targetedOses((targeting as { user_os?: unknown }).user_os);
        const o = this.store.create(
          'adset',
          this.accountId,
          {
            ...base,
            name,
            campaign_id: campaignId,
            daily_budget: String(budget),
            billing_event: billing,
            optimization_goal: goal,
            targeting,
            promoted_object: p.promoted_object,
            status: this.status(p, 'ACTIVE'),
          },
          today,
        );
        return { id: o.id };
      }
      case 'adcreative': {
        const name = typeof p.name === 'string' ? p.name : `Creative ${new Date().toISOString()}`;
        const spec = p.object_story_spec as
          { page_id?: string; link_data?: { image_hash?: string; link?: string } } | undefined;
        if (!spec) throw graphErrors.missingParam('object_story_spec');
        if (String(spec.page_id) !== this.world.meta.pageId)
          throw graphErrors.invalidParam(
            'object_story_spec.page_id must be a page the account may advertise for',
          );
        const hash = spec.link_data?.image_hash;
        if (!hash || !this.store.get(`${this.accountId}:${hash}`))
          throw graphErrors.invalidParam(
            'Image with hash ' + String(hash) + ' not found in the ad account',
          );
        if (!spec.link_data?.link)
          throw graphErrors.missingParam('object_story_spec.link_data.link');
        const o = this.store.create(
          'adcreative',
          this.accountId,
          { ...base, name, object_story_spec: spec, image_hash: hash, status: 'ACTIVE' },
          today,
        );
        return { id: o.id };
      }
      case 'ad': {
        const name = this.requireString(p, 'name');
        const adsetId = this.requireString(p, 'adset_id');
        const adset = this.store.get(adsetId);
        if (adset?.type !== 'adset')
          throw graphErrors.invalidParam('Param adset_id must be a valid ad set id');
        const creativeId = (p.creative as { creative_id?: string } | undefined)?.creative_id;
        if (!creativeId) throw graphErrors.missingParam('creative');
        const creative = this.store.get(String(creativeId));
        if (creative?.type !== 'adcreative')
          throw graphErrors.invalidParam('Param creative must reference an existing creative');
        const status = this.status(p, 'ACTIVE');
        if (!RETIRED.has(status)) this.checkAdSetRoom(adsetId);
        const o = this.store.create(
          'ad',
          this.accountId,
          {
            ...base,
            name,
            adset_id: adsetId,
            campaign_id: adset.fields.campaign_id,
            creative: { id: String(creativeId) },
            status,
          },
          today,
        );
        const spec = creative.fields.object_story_spec as {
          link_data?: { image_hash?: string; message?: string; name?: string };
        };
        this.store.setReview(
          o,
          reviewAd(this.world.seed, 'meta', this.review, {
            media: String(spec.link_data?.image_hash ?? ''),
            texts: [spec.link_data?.message, spec.link_data?.name],
          }),
        );
        return { id: o.id };
      }
    }
  }

  /** Throws Meta's limit error when an ad set already holds its maximum of live ads. */
  private checkAdSetRoom(adsetId: string) {
    const live = this.store.list(
      'ad',
      this.accountId,
      (a) => a.fields.adset_id === adsetId && !RETIRED.has(String(a.fields.status)),
    ).length;
    if (live >= MAX_ADS_PER_ADSET) throw graphErrors.adSetFull(MAX_ADS_PER_ADSET);
  }

  /**
   * Ad video upload, both ways the Graph API offers: one request with the file in `source`, or a
   * resumable session (upload_phase start -> transfer chunks at the offsets the server names ->
   * finish). A video is `ready` once complete; until then its status is `processing`.
   */
  private uploadVideo(p: Params): unknown {
    const now = new Date().toISOString();
    const today = this.clock.today();
    const base = { account_id: this.accountId, created_time: now, updated_time: now };
    const describe = (bytes: Buffer) => {
      const size = mp4Size(bytes);
      if (!size)
        throw graphErrors.invalidParam(
          "The video file you selected is in a format that we don't support.",
        );
      return {
        width: size.width,
        height: size.height,
        aspect_ratio: aspectRatio(size.width, size.height),
      };
    };
    const phase = typeof p.upload_phase === 'string' ? p.upload_phase : null;
    if (phase === null) {
      if (!Buffer.isBuffer(p.source)) throw graphErrors.missingParam('source');
      const video = this.store.create(
        'advideo',
        this.accountId,
        {
          ...base,
          ...describe(p.source),
          title: typeof p.title === 'string' ? p.title : '',
          length_bytes: p.source.length,
          status: { video_status: 'ready' },
        },
        today,
      );
      return { id: video.id };
    }
    if (phase === 'start') {
      const size = Number(this.requireString(p, 'file_size'));
      if (!Number.isInteger(size) || size <= 0)
        throw graphErrors.invalidParam('Param file_size must be a positive integer');
      const video = this.store.create(
        'advideo',
        this.accountId,
        { ...base, length_bytes: size, status: { video_status: 'processing' } },
        today,
      );
      const session = `${video.id}${String(this.callNumber).padStart(6, '0')}`;
      this.uploads.set(session, { videoId: video.id, size, received: [], offset: 0 });
      return {
        video_id: video.id,
        upload_session_id: session,
        start_offset: '0',
        end_offset: String(Math.min(size, this.videoChunkBytes)),
      };
    }
    const session = this.uploads.get(this.requireString(p, 'upload_session_id'));
    if (!session)
      throw graphErrors.invalidParam('Param upload_session_id is not a valid upload session');
    if (phase === 'transfer') {
      const start = Number(this.requireString(p, 'start_offset'));
      const chunk = p.video_file_chunk;
      if (!Buffer.isBuffer(chunk)) throw graphErrors.missingParam('video_file_chunk');
      // A chunk resent after a lost response is acknowledged again, not appended twice.
      if (start + chunk.length <= session.offset) {
        return {
          start_offset: String(session.offset),
          end_offset: String(Math.min(session.size, session.offset + this.videoChunkBytes)),
        };
      }
      if (start !== session.offset)
        throw graphErrors.invalidParam(`Param start_offset must be ${session.offset}`);
      if (start + chunk.length > session.size)
        throw graphErrors.invalidParam('The chunk goes past file_size');
      session.received.push(chunk);
      session.offset += chunk.length;
      return {
        start_offset: String(session.offset),
        end_offset: String(Math.min(session.size, session.offset + this.videoChunkBytes)),
      };
    }
    if (phase === 'finish') {
      if (session.offset !== session.size)
        throw graphErrors.invalidParam(
          `Upload incomplete: ${session.offset} of ${session.size} bytes received`,
        );
      const video = this.store.get(session.videoId)!;
      const bytes = Buffer.concat(session.received);
      this.store.update(
        video,
        {
          ...describe(bytes),
          title: typeof p.title === 'string' ? p.title : '',
          status: { video_status: 'ready' },
        },
        today,
      );
      this.uploads.delete(this.requireString(p, 'upload_session_id'));
      return { success: true };
    }
    throw graphErrors.invalidParam('Param upload_phase must be one of {start, transfer, finish}');
  }

  private updateObject(obj: GraphObject, p: Params): unknown {
    const changes: Record<string, unknown> = {};
    if (p.status !== undefined) changes.status = this.status(p, 'ACTIVE');
    if (
      obj.type === 'ad' &&
      typeof changes.status === 'string' &&
      !RETIRED.has(changes.status) &&
      RETIRED.has(String(obj.fields.status))
    ) {
      // Bringing an archived ad back counts towards its ad set's limit again.
      this.checkAdSetRoom(String(obj.fields.adset_id));
    }
    if (typeof p.name === 'string') changes.name = p.name;
    if (p.daily_budget !== undefined && obj.type === 'adset')
      changes.daily_budget = this.scalar(p, 'daily_budget', '');
    this.store.update(obj, changes, this.clock.today());
    return { success: true };
  }

  private derived(obj: GraphObject): Record<string, unknown> {
    if (obj.type !== 'ad' && obj.type !== 'adset' && obj.type !== 'campaign') return obj.fields;
    const own = String(obj.fields.status);
    let effective = own;
    const review = obj.type === 'ad' ? reviewState(obj.review) : 'APPROVED';
    if (RETIRED.has(own)) {
      // Archived and deleted ads say so, whatever their review found.
    } else if (review === 'REJECTED') {
      effective = 'DISAPPROVED';
    } else if (review === 'IN_REVIEW') {
      effective = 'PENDING_REVIEW';
    } else if (own === 'ACTIVE' && obj.type !== 'campaign') {
      const campaign = this.store.get(String(obj.fields.campaign_id));
      const adset = obj.type === 'ad' ? this.store.get(String(obj.fields.adset_id)) : undefined;
      if (campaign && campaign.fields.status !== 'ACTIVE') effective = 'CAMPAIGN_PAUSED';
      else if (adset && adset.fields.status !== 'ACTIVE') effective = 'ADSET_PAUSED';
    }
    const rejection = review === 'REJECTED' ? obj.review?.rejection : null;
    return {
      ...obj.fields,
      configured_status: own,
      effective_status: effective,
      // As Meta reports a disapproval: {"global": {"<policy>": "<why>"}}.
      ...(rejection
        ? { ad_review_feedback: { global: { [rejection.policy]: rejection.reason } } }
        : {}),
    };
  }

  private select(obj: GraphObject, fieldsParam: unknown): Record<string, unknown> {
    const all = this.derived(obj);
    const names =
      typeof fieldsParam === 'string' && fieldsParam
        ? fieldsParam.split(',').map((f) => f.replace(/\{.*$/, '').trim())
        : ['name'];
    const out: Record<string, unknown> = { id: obj.id };
    for (const n of names) if (n in all) out[n] = all[n];
    if (obj.type === 'adimage') out.hash = all.hash;
    return out;
  }

  private matches(obj: GraphObject, params: Params): boolean {
    const fields = this.derived(obj);
    const filtering = params.filtering;
    if (filtering !== undefined) {
      if (!Array.isArray(filtering))
        throw graphErrors.invalidParam('Param filtering must be an array');
      for (const f of filtering as Array<{ field?: string; operator?: string; value?: unknown }>) {
        if (!f.field || !f.operator)
          throw graphErrors.invalidParam('Each filter needs field and operator');
        // `adset.id` style filters name the parent's field; plain names the object's own.
        const field = f.field.replace(/^(adset|campaign)\.id$/, '$1_id').replace(/^ad\./, '');
        const v = fields[field];
        const want = f.value;
        const ok =
          f.operator === 'EQUAL'
            ? String(v) === String(want)
            : f.operator === 'NOT_EQUAL'
              ? String(v) !== String(want)
              : f.operator === 'IN'
                ? Array.isArray(want) && want.map(String).includes(String(v))
                : f.operator === 'NOT_IN'
                  ? Array.isArray(want) && !want.map(String).includes(String(v))
                  : f.operator === 'CONTAIN'
                    ? String(v).includes(String(want))
                    : (() => {
                        throw graphErrors.invalidParam(
                          `Filter operator ${f.operator} is not supported`,
                        );
                      })();
        if (!ok) return false;
      }
    }
    const eff = params.effective_status;
    if (Array.isArray(eff) && !eff.map(String).includes(String(fields.effective_status)))
      return false;
    return true;
  }

  private page(objects: GraphObject[], params: Params, url: URL): unknown {
    const rows = objects
      .filter((o) => this.matches(o, params))
      .map((o) => this.select(o, params.fields));
    return this.paginate(rows, params, url);
  }

  private paginate(rows: unknown[], params: Params, url: URL) {
    const limit = Math.min(Math.max(Number(params.limit ?? 25) || 25, 1), 500);
    const after =
      typeof params.after === 'string'
        ? Number(Buffer.from(params.after, 'base64url').toString())
        : 0;
    if (!Number.isInteger(after) || after < 0)
      throw graphErrors.invalidParam('Param after is not a valid cursor');
    const data = rows.slice(after, after + limit);
    const cursor = (n: number) => Buffer.from(String(n)).toString('base64url');
    const paging: Record<string, unknown> = {
      cursors: { before: cursor(after), after: cursor(after + data.length) },
    };
    if (after + limit < rows.length) {
      const next = new URL(url.pathname, this.baseUrl);
      for (const [k, v] of url.searchParams) next.searchParams.set(k, v);
      next.searchParams.set('limit', String(limit));
      next.searchParams.set('after', cursor(after + limit));
      paging.next = next.toString();
    }
    return { data, paging };
  }

  private simAd(ad: GraphObject): SimAd {
    const adset = this.store.get(String(ad.fields.adset_id));
    const countries = (
      adset?.fields.targeting as { geo_locations?: { countries?: string[] } } | undefined
    )?.geo_locations?.countries;
    const creative = this.store.get(String((ad.fields.creative as { id?: string }).id));
    const spec = creative?.fields.object_story_spec as
      { link_data?: { link?: string } } | undefined;
    return {
      id: ad.id,
      platform: 'meta',
      market: countries?.[0] ?? '',
      // adloop's images are square; a creative's aspect ratio is not in the Graph object.
      aspectRatio: '1:1',
      createdDate: ad.statusLog?.[0]?.date ?? this.clock.today(),
      ...contentFromLink(spec?.link_data?.link),
    };
  }

  /** Every ad's delivery on `date`: each active ad set splits its budget over its active ads. */
  private deliveries(
    date: string,
  ): Array<{ ad: GraphObject; adsetId: string; delivery: Delivery }> {
    const adsets = new Map(this.store.list('adset', this.accountId).map((x) => [x.id, x]));
    const byAdSet = new Map<string, GraphObject[]>();
    for (const ad of this.store.list('ad', this.accountId)) {
      const adset = adsets.get(String(ad.fields.adset_id));
      if (this.store.statusOn(ad, date) !== 'ACTIVE' || adset?.fields.status !== 'ACTIVE') continue;
      // Ads in review or disapproved deliver nothing.
      if (reviewState(ad.review) !== 'APPROVED') continue;
      byAdSet.set(adset.id, [...(byAdSet.get(adset.id) ?? []), ad]);
    }
    const out: Array<{ ad: GraphObject; adsetId: string; delivery: Delivery }> = [];
    for (const [adsetId, live] of byAdSet) {
      const adset = adsets.get(adsetId)!;
      const budget = Number(adset.fields.daily_budget);
      const deliveries = this.simulator.deliverAdSet(
        budget,
        live.map((a) => this.simAd(a)),
        date,
        adsetId,
        targetedOses((adset.fields.targeting as { user_os?: unknown } | undefined)?.user_os),
      );
      deliveries.forEach((delivery, i) => out.push({ ad: live[i]!, adsetId, delivery }));
    }
    return out;
  }

  /** DeliveryLog: what this platform delivered on `date`, for the MMP servers. */
  deliveriesOn(date: string): AttributedDelivery[] {
    return this.deliveries(date).map(({ ad, adsetId, delivery }) => {
      const campaign = this.store.get(String(ad.fields.campaign_id));
      const adset = this.store.get(adsetId);
      return {
        platform: 'meta',
        market: this.simAd(ad).market,
        campaignId: String(ad.fields.campaign_id),
        campaignName: typeof campaign?.fields.name === 'string' ? campaign.fields.name : '',
        adGroupId: adsetId,
        adGroupName: typeof adset?.fields.name === 'string' ? adset.fields.name : '',
        adId: ad.id,
        adName: String(ad.fields.name),
        delivery,
      };
    });
  }

  private insights(params: Params, url: URL, include: (ad: GraphObject) => boolean): unknown {
    return this.paginate(this.insightRows(params, include), params, url);
  }

  /**
   * An async insights job (POST …/insights): the report is computed now and served from the
   * report run once the job reports `Job Completed`, which takes one status poll, as a short real
   * job would.
   */
  private startReportRun(params: Params, include: (ad: GraphObject) => boolean): unknown {
    const rows = this.insightRows(params, include);
    const now = new Date().toISOString();
    const run = this.store.create(
      'adreportrun',
      this.accountId,
      { account_id: this.accountId, time_ref: now, polls: 0, rows, fields: params.fields },
      this.clock.today(),
    );
    return { report_run_id: run.id };
  }

  private reportRunStatus(run: GraphObject, params: Params): unknown {
    const polls = Number(run.fields.polls) + 1;
    this.store.update(run, { polls }, this.clock.today());
    const done = polls > 1;
    const all = {
      id: run.id,
      account_id: this.accountId,
      async_status: done ? 'Job Completed' : 'Job Running',
      async_percent_completion: done ? 100 : 50,
      time_ref: run.fields.time_ref,
    };
    const names =
      typeof params.fields === 'string' && params.fields
        ? params.fields.split(',')
        : ['async_status', 'async_percent_completion'];
    return Object.fromEntries([
      ['id', run.id],
      ...names.filter((n) => n in all).map((n) => [n, all[n as keyof typeof all]]),
    ]);
  }

  private insightRows(
    params: Params,
    include: (ad: GraphObject) => boolean,
  ): Array<Record<string, unknown>> {
    if (this.faults.insightsDown) throw graphErrors.unavailable();
    const level = this.scalar(params, 'level', 'ad');
    if (!['ad', 'adset', 'campaign', 'account'].includes(level))
      throw graphErrors.invalidParam('Param level must be one of {ad, adset, campaign, account}');
    const today = this.clock.today();
    let since: string;
    let until: string;
    if (params.time_range !== undefined) {
      const tr = params.time_range as { since?: string; until?: string };
      if (typeof tr !== 'object' || !tr.since || !tr.until)
        throw graphErrors.invalidParam(
          'Param time_range must be {"since":"YYYY-MM-DD","until":"YYYY-MM-DD"}',
        );
      ({ since, until } = tr as { since: string; until: string });
      if (!/^\d{4}-\d{2}-\d{2}$/.test(since) || !/^\d{4}-\d{2}-\d{2}$/.test(until) || since > until)
        throw graphErrors.invalidParam('Param time_range is not a valid range');
    } else {
      since = until = addDays(today, -1); // date_preset=yesterday is the default here
    }
    const daily = this.scalar(params, 'time_increment', 'all_days') === '1';
    const fields =
      typeof params.fields === 'string' && params.fields
        ? params.fields.split(',')
        : ['impressions', 'spend'];
    const groups = new Map<
      string,
      Tally & { key: Record<string, string>; start: string; stop: string }
    >();
    const wanted = new Set(this.store.list('ad', this.accountId, include).map((a) => a.id));
    for (const date of dateRange(since, until > today ? today : until)) {
      for (const { ad, adsetId, delivery } of this.deliveries(date)) {
        if (!wanted.has(ad.id)) continue;
        const d = asReported(delivery, today, this.world.truth.reportingDelayDays);
        const key: Record<string, string> = { account_id: this.accountId };
        if (level !== 'account') key.campaign_id = String(ad.fields.campaign_id);
        if (level === 'adset' || level === 'ad') key.adset_id = adsetId;
        if (level === 'ad') Object.assign(key, { ad_id: ad.id, ad_name: String(ad.fields.name) });
        const start = daily ? date : since;
        const stop = daily ? date : until;
        const id = `${start}|${key.campaign_id ?? ''}|${key.adset_id ?? ''}|${key.ad_id ?? ''}`;
        const g = groups.get(id) ?? { key, start, stop, ...emptyTally() };
        addDelivery(g, d);
        groups.set(id, g);
      }
    }
    const rows = [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, g]) => {
        const all: Record<string, unknown> = {
          ...g.key,
          account_currency: this.world.meta.currency,
          impressions: String(g.imp),
          clicks: String(g.clk),
          spend: (g.spend / 100).toFixed(2),
          ctr: g.imp > 0 ? String((g.clk / g.imp) * 100) : '0',
          cpc: g.clk > 0 ? (g.spend / 100 / g.clk).toFixed(6) : undefined,
          // Like the real API, `actions` is absent when nothing happened.
          actions: actionList([
            [ACTION_INSTALL, g.inst],
            [ACTION_REGISTRATION, g.reg],
            [ACTION_SUBSCRIPTION, g.sub],
          ]),
        };
        const row: Record<string, unknown> = {};
        for (const f of fields) if (all[f] !== undefined) row[f] = all[f];
        if (level === 'ad' && fields.includes('ad_id')) row.ad_id = all.ad_id;
        row.date_start = g.start;
        row.date_stop = g.stop;
        return row;
      });
    return rows;
  }
}
