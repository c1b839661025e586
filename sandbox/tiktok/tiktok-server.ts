// A wire-faithful local TikTok Business API (v1.3 subset): the requests and responses of
// tiktok-business-api-sdk-official work against it unchanged except for the base path.
//   POST /open_api/v1.3/file/image/ad/upload/   multipart image_file + image_signature (MD5)
//   POST /open_api/v1.3/file/video/ad/upload/   multipart video_file + video_signature (MD5)
//   POST /open_api/v1.3/campaign/create/        GET /open_api/v1.3/campaign/get/
//   POST /open_api/v1.3/adgroup/create/         GET /open_api/v1.3/adgroup/get/
//   POST /open_api/v1.3/ad/create/              GET /open_api/v1.3/ad/get/
//   POST /open_api/v1.3/ad/status/update/       GET /open_api/v1.3/report/integrated/get/
//   POST /open_api/v1.3/adgroup/status/update/  POST /open_api/v1.3/campaign/status/update/
//   GET  /open_api/v1.3/ad/review_info/
// New ads go through the hidden ad review (../review.ts): AD_STATUS_AUDIT, then delivering or
// AD_STATUS_NOT_APPROVE with the reasons in ad/review_info.
// Every answer is the envelope {code, message, request_id, data}, with HTTP 200 even for errors
// (code != 0). The Access-Token header is checked, `advertiser_id` must be the world's advertiser,
// and calls over the per-second or per-minute quota get code 40100, as TikTok does.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addDays, dateRange } from '../../core/dates.ts';
import { countryOfLocationId } from '../../platforms/tiktok/locations.ts';
import type {
  AttributedDelivery,
  Delivery,
  DeliveryLog,
  DeliveryModel,
  SandboxClock,
  SimAd,
} from '../contracts.ts';
import { contentFromLink } from '../deep-link.ts';
import { holdWithoutAnswer, parseMaybeJson, readRaw } from '../http.ts';
import { keyed } from '../../core/random.ts';
import type { Simulator } from '../simulator.ts';
import type { Os } from '../contracts.ts';
import { reviewAd, reviewState } from '../review.ts';
import type { PlatformFaults, ReviewPolicy, World } from '../world.ts';
import { addDelivery, asReported, emptyTally } from '../reporting.ts';
import { aspectRatio, imageInfo, isMp4, mp4Size, parseMultipart, type FormPart } from '../media.ts';
import { TikTokError, tiktokErrors } from './tiktok-errors.ts';
import { TikTokStore, type TikTokObject } from './tiktok-store.ts';

export interface TikTokFaults extends PlatformFaults {
  /** Every call fails as during an outage (HTTP 503, code 50002): transient. */
  down: boolean;
  /** Only report/integrated/get fails (code 50000): the reporting backend is down. */
  reportDown: boolean;
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
}

type Params = Record<string, unknown>;
type Files = Map<string, FormPart>;
interface Call {
  params: Params;
  files: Files;
}

/** TikTok caps an ad group at 50 ads that are not deleted. */
export const MAX_ADS_PER_ADGROUP = 50;
/** TikTok's minimum daily budget of an ad group (USD 20; the sandbox applies it in any currency). */
export const MIN_ADGROUP_DAILY_BUDGET = 20;
/** Longest date range of a report broken down by stat_time_day. */
const MAX_DAILY_REPORT_DAYS = 30;

const OBJECTIVES = new Set([
  'APP_PROMOTION',
  'TRAFFIC',
  'REACH',
  'VIDEO_VIEWS',
  'ENGAGEMENT',
  'LEAD_GENERATION',
  'WEB_CONVERSIONS',
  'PRODUCT_SALES',
]);
const CAMPAIGN_BUDGET_MODES = new Set([
  'BUDGET_MODE_INFINITE',
  'BUDGET_MODE_DAY',
  'BUDGET_MODE_TOTAL',
  'BUDGET_MODE_DYNAMIC_DAILY_BUDGET',
]);
/** The sandbox delivers day by day, so ad groups must have a daily budget. */
const ADGROUP_BUDGET_MODES = new Set(['BUDGET_MODE_DAY', 'BUDGET_MODE_DYNAMIC_DAILY_BUDGET']);
const PLACEMENT_TYPES = new Set(['PLACEMENT_TYPE_AUTOMATIC', 'PLACEMENT_TYPE_NORMAL']);
const SCHEDULE_TYPES = new Set(['SCHEDULE_FROM_NOW', 'SCHEDULE_START_END']);
const OPTIMIZATION_GOALS = new Set([
  'CLICK',
  'INSTALL',
  'IN_APP_EVENT',
  'VALUE',
  'REACH',
  'CONVERT',
  'SHOW',
  'TRAFFIC_LANDING_PAGE_VIEW',
]);
const BILLING_EVENTS = new Set(['CPC', 'CPM', 'OCPM', 'CPV']);
const OPERATION_STATUSES = new Set(['ENABLE', 'DISABLE']);
const AD_STATUS_UPDATES = new Set(['ENABLE', 'DISABLE', 'DELETE']);
/** Most ids one status update or review query may name. */
const MAX_IDS_PER_CALL = 100;
/** operating_systems values of an ad group, and the simulator's OS segment each reaches. */
const OPERATING_SYSTEMS: Record<string, Os> = { IOS: 'ios', ANDROID: 'android' };
const AD_FORMATS = new Set(['SINGLE_IMAGE', 'SINGLE_VIDEO']);
const IMAGE_FORMATS = new Set(['jpeg', 'png']);
const DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Report metrics the sandbox computes, by TikTok's names. The simulator's funnel maps to them so:
 *   installs      → app_install, real_time_app_install (and `conversion` when the ad group
 *                   optimises for INSTALL, the default)
 *   registrations → registration, total_registration (the app event "Registration"; the
 *                   simulator counts each user once, so unique and total agree)
 *   subscriptions → subscribe, total_subscribe (the app event "Subscribe")
 * `conversion` counts the ad group's optimisation event: registrations for IN_APP_EVENT with
 * optimization_event ACTIVE_REGISTER, subscriptions for SUBSCRIBE / ACTIVE_PAY, installs otherwise.
 * Money is in the account currency, as a decimal string; ctr and *_rate are percentages.
 */
const COUNT_METRICS = [
  'spend',
  'impressions',
  'clicks',
  'ctr',
  'cpc',
  'cpm',
  'conversion',
  'cost_per_conversion',
  'conversion_rate',
  'app_install',
  'real_time_app_install',
  'cost_per_app_install',
  'registration',
  'total_registration',
  'cost_per_registration',
  'subscribe',
  'total_subscribe',
  'cost_per_subscribe',
] as const;
/** Attribute metrics: names of the objects a row belongs to, valid at and below their level. */
const ATTRIBUTE_METRICS: Record<string, DataLevel[]> = {
  ad_name: ['AUCTION_AD'],
  adgroup_id: ['AUCTION_AD'],
  adgroup_name: ['AUCTION_AD', 'AUCTION_ADGROUP'],
  campaign_id: ['AUCTION_AD', 'AUCTION_ADGROUP'],
  campaign_name: ['AUCTION_AD', 'AUCTION_ADGROUP', 'AUCTION_CAMPAIGN'],
  currency: ['AUCTION_AD', 'AUCTION_ADGROUP', 'AUCTION_CAMPAIGN', 'AUCTION_ADVERTISER'],
};
type DataLevel = 'AUCTION_AD' | 'AUCTION_ADGROUP' | 'AUCTION_CAMPAIGN' | 'AUCTION_ADVERTISER';
const LEVEL_ID: Record<DataLevel, string> = {
  AUCTION_AD: 'ad_id',
  AUCTION_ADGROUP: 'adgroup_id',
  AUCTION_CAMPAIGN: 'campaign_id',
  AUCTION_ADVERTISER: 'advertiser_id',
};

interface Route {
  method: 'GET' | 'POST';
  handler: (call: Call) => unknown;
}

/** TikTok renders times as `YYYY-MM-DD HH:MM:SS` (UTC); the date is the sandbox's. */
function timestamp(date: string): string {
  return `${date} ${new Date().toISOString().slice(11, 19)}`;
}

function requestId(): string {
  const t = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  return `${t}${randomBytes(9).toString('hex').toUpperCase()}`;
}

const money = (minor: number) => (minor / 100).toFixed(2);
const ratio = (num: number, den: number, scale = 1) =>
  den > 0 ? ((num / den) * scale).toFixed(2) : '0.00';

/** Emits `request` (TikTokRequestEvent) after each response is written. */
export class TikTokSandbox
  extends EventEmitter<{ request: [TikTokRequestEvent] }>
  implements DeliveryLog
{
  readonly platform = 'tiktok' as const;
  readonly faults: TikTokFaults;
  /** The hidden ad review new ads go through; change it at run time (world.review's copy). */
  readonly review: ReviewPolicy;
  private callNumber = 0;
  /** HTTP requests seen, for the timeout fault's draw. */
  private requestNumber = 0;
  /** Quotas; change them at run time to provoke code 40100. */
  readonly limits: TikTokRateLimits;
  /** Every request seen, for tests and the sandbox's own log. */
  readonly requests: TikTokRequestEvent[] = [];
  /** Calls refused for going over a per-second or per-minute quota (code 40100). */
  throttledCalls = 0;
  /** Times (ms) of the calls let through in the last minute, and of the ad/create ones. */
  private readonly callTimes: number[] = [];
  private readonly adCreateTimes: number[] = [];
  private readonly advertiserId: string;
  private readonly routes: Record<string, Route>;

  constructor(
    private readonly world: World,
    private readonly simulator: DeliveryModel,
    readonly store: TikTokStore,
    private readonly clock: SandboxClock,
    limits: Partial<TikTokRateLimits> = {},
    private baseUrl = '',
    private readonly now: () => number = () => performance.now(),
  ) {
    super();
    this.advertiserId = world.tiktok.advertiserId;
    this.limits = { ...DEFAULT_TIKTOK_LIMITS, ...limits };
    this.faults = { down: false, reportDown: false, ...structuredClone(world.faults.tiktok) };
    this.review = structuredClone(world.review);
    this.routes = {
      'file/image/ad/upload': { method: 'POST', handler: (c) => this.uploadImage(c) },
      'file/video/ad/upload': { method: 'POST', handler: (c) => this.uploadVideo(c) },
      'campaign/create': { method: 'POST', handler: (c) => this.createCampaign(c.params) },
      'campaign/get': { method: 'GET', handler: (c) => this.getCampaigns(c.params) },
      'adgroup/create': { method: 'POST', handler: (c) => this.createAdGroup(c.params) },
      'adgroup/get': { method: 'GET', handler: (c) => this.getAdGroups(c.params) },
      'ad/create': { method: 'POST', handler: (c) => this.createAds(c.params) },
      'ad/get': { method: 'GET', handler: (c) => this.getAds(c.params) },
      'ad/status/update': { method: 'POST', handler: (c) => this.updateAdStatus(c.params) },
      'ad/review_info': { method: 'GET', handler: (c) => this.reviewInfo(c.params) },
      'adgroup/status/update': {
        method: 'POST',
        handler: (c) => this.updateStatus('adgroup', c.params),
      },
      'campaign/status/update': {
        method: 'POST',
        handler: (c) => this.updateStatus('campaign', c.params),
      },
      'report/integrated/get': { method: 'GET', handler: (c) => this.report(c.params) },
    };
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
    const id = requestId();
    if (this.timesOut()) {
      // Held before anything is checked or done, so the call is never carried out; the client
      // sees no answer (its own timeout, or the connection dropping after hangMs).
      await holdWithoutAnswer(req, res, this.faults.hangMs);
      const event: TikTokRequestEvent = {
        method,
        path: url.pathname,
        status: 0,
        code: 0,
        timedOut: true,
      };
      this.requests.push(event);
      this.emit('request', event);
      return;
    }
    let status = 200;
    let body: { code: number; message: string; request_id: string; data: unknown };
    let malformed = false;
    try {
      // Read the whole body first, so an early error never leaves an upload half-sent.
      const raw = await readRaw(req);
      const endpoint = /^\/open_api\/v1\.3\/(.+?)\/?$/.exec(url.pathname)?.[1];
      const route = endpoint ? this.routes[endpoint] : undefined;
      if (!endpoint || !route) throw tiktokErrors.unknownPath(url.pathname);
      if (route.method !== method) throw tiktokErrors.wrongMethod(method);
      this.authenticate(req);
      this.throttle(endpoint);
      this.injectFaults();
      if (this.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
      const call = this.parse(req, url, raw);
      this.checkAdvertiser(call.params);
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
      const lost: TikTokRequestEvent = {
        method,
        path: url.pathname,
        status: 0,
        code: 0,
        lost: true,
      };
      this.requests.push(lost);
      req.socket.destroy();
      this.emit('request', lost);
      return;
    }
    const event = { method, path: url.pathname, status, code: body.code };
    this.requests.push(event);
    res
      .writeHead(status, { 'content-type': 'application/json', 'x-tt-logid': id })
      // A malformed page: the body cut mid-way, as a flaky proxy would.
      .end(malformed ? JSON.stringify(body).slice(0, 40) : JSON.stringify(body));
    this.emit('request', event);
  }

  /** A deterministic draw: the n-th call of a world always draws the same. */
  private draw(what: string): number {
    return keyed(this.world.seed, 'tiktok-fault', what, this.callNumber)();
  }

  /** Whether this HTTP request draws the timeout fault. */
  private timesOut(): boolean {
    this.requestNumber++;
    return (
      this.faults.timeoutRate > 0 &&
      keyed(this.world.seed, 'tiktok-fault', 'timeout', this.requestNumber)() <
        this.faults.timeoutRate
    );
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
    if (token !== this.world.tiktok.accessToken) throw tiktokErrors.badToken();
  }

  /** Sliding-window quotas over the calls let through; refused calls do not count. */
  private throttle(endpoint: string) {
    const now = this.now();
    while (this.callTimes.length > 0 && this.callTimes[0]! <= now - 60_000) this.callTimes.shift();
    while (this.adCreateTimes.length > 0 && this.adCreateTimes[0]! <= now - 1000)
      this.adCreateTimes.shift();
    const lastSecond = this.callTimes.filter((t) => t > now - 1000).length;
    if (lastSecond >= this.limits.perSecond || this.callTimes.length >= this.limits.perMinute)
      this.refuse();
    if (endpoint === 'ad/create') {
      if (this.adCreateTimes.length >= this.limits.adCreatePerSecond) this.refuse();
      this.adCreateTimes.push(now);
    }
    this.callTimes.push(now);
  }

  /** A call over a quota: counted, then answered with code 40100. */
  private refuse(): never {
    this.throttledCalls++;
    throw tiktokErrors.tooManyRequests();
  }

  private parse(req: IncomingMessage, url: URL, raw: Buffer): Call {
    const params: Params = {};
    const files: Files = new Map();
    for (const [k, v] of url.searchParams) params[k] = parseMaybeJson(v);
    const type = req.headers['content-type'] ?? '';
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

  private checkAdvertiser(params: Params) {
    const id = this.string(params, 'advertiser_id');
    if (id !== this.advertiserId) throw tiktokErrors.noPermission(id);
  }

  // ---- parameter helpers: each error names the field, as TikTok's do ----

  private string(p: Params, name: string, fallback?: string): string {
    const v = p[name];
    if (v === undefined || v === null || v === '') {
      if (fallback !== undefined) return fallback;
      throw tiktokErrors.missingField(name);
    }
    if (typeof v !== 'string' && typeof v !== 'number')
      throw tiktokErrors.invalidField(name, 'Not a valid string.');
    return String(v);
  }

  private oneOf(p: Params, name: string, allowed: Set<string>, fallback?: string): string {
    const v = this.string(p, name, fallback);
    if (!allowed.has(v))
      throw tiktokErrors.invalidField(name, `Must be one of: ${[...allowed].join(', ')}.`);
    return v;
  }

  private number(p: Params, name: string): number {
    const v = p[name];
    if (v === undefined || v === null || v === '') throw tiktokErrors.missingField(name);
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw tiktokErrors.invalidField(name, 'Not a valid number.');
    return n;
  }

  private int(p: Params, name: string, fallback: number, min: number, max: number): number {
    const v = p[name];
    if (v === undefined || v === null || v === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw tiktokErrors.invalidField(name, `Must be an integer between ${min} and ${max}.`);
    return n;
  }

  /** A list of ids or names; TikTok accepts JSON arrays (query values are JSON text). */
  private strings(p: Params, name: string, required = false): string[] | undefined {
    const v = parseMaybeJson(p[name]);
    if (v === undefined || v === null) {
      if (required) throw tiktokErrors.missingField(name);
      return undefined;
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' || typeof x === 'number'))
      throw tiktokErrors.invalidField(name, 'Not a valid list of strings.');
    if (required && v.length === 0)
      throw tiktokErrors.invalidField(name, 'Shorter than minimum length 1.');
    return v.map(String);
  }

  private object(p: Params, name: string): Params {
    const v = parseMaybeJson(p[name]);
    if (v === undefined || v === null || v === '') return {};
    if (typeof v !== 'object' || Array.isArray(v))
      throw tiktokErrors.invalidField(name, 'Not a valid JSON object.');
    return v as Params;
  }

  // ---- uploads ----

  private async uploadImage({ params, files }: Call): Promise<unknown> {
    const uploadType = this.oneOf(
      params,
      'upload_type',
      new Set(['UPLOAD_BY_FILE', 'UPLOAD_BY_URL', 'UPLOAD_BY_FILE_ID']),
      'UPLOAD_BY_FILE',
    );
    if (uploadType !== 'UPLOAD_BY_FILE')
      throw tiktokErrors.invalidField(
        'upload_type',
        'The sandbox cannot fetch files from elsewhere; upload with UPLOAD_BY_FILE.',
      );
    const file = files.get('image_file');
    if (!file) throw tiktokErrors.missingField('image_file');
    const md5 = TikTokStore.md5(file.data);
    if (this.string(params, 'image_signature').toLowerCase() !== md5)
      throw tiktokErrors.invalidField('image_signature', 'Does not match the MD5 of image_file.');
    const info = await imageInfo(file.data);
    if (!info || !IMAGE_FORMATS.has(info.format))
      throw tiktokErrors.invalidField('image_file', 'Unsupported image format; use JPG or PNG.');
    // TikTok deduplicates materials by content: the same bytes give the same image.
    const id = `ad-site-i18n-sg/${md5}`;
    const existing = this.store.get(id, 'image');
    if (existing) return existing.fields;
    const today = this.clock.today();
    const now = timestamp(today);
    return this.store.create(
      'image',
      this.advertiserId,
      {
        image_id: id,
        material_id: materialId(md5),
        file_name: this.string(params, 'file_name', file.filename ?? `${md5}.${info.format}`),
        width: info.width,
        height: info.height,
        format: info.format,
        size: file.data.length,
        signature: md5,
        image_url: `${this.baseUrl}/sandbox-media/images/${md5}.${info.format}`,
        displayable: true,
        is_carousel_usable: true,
        create_time: now,
        modify_time: now,
      },
      today,
      id,
    ).fields;
  }

  private uploadVideo({ params, files }: Call): unknown {
    const uploadType = this.oneOf(
      params,
      'upload_type',
      new Set(['UPLOAD_BY_FILE', 'UPLOAD_BY_URL', 'UPLOAD_BY_FILE_ID', 'UPLOAD_BY_VIDEO_ID']),
      'UPLOAD_BY_FILE',
    );
    if (uploadType !== 'UPLOAD_BY_FILE')
      throw tiktokErrors.invalidField(
        'upload_type',
        'The sandbox cannot fetch files from elsewhere; upload with UPLOAD_BY_FILE.',
      );
    const file = files.get('video_file');
    if (!file) throw tiktokErrors.missingField('video_file');
    const md5 = TikTokStore.md5(file.data);
    if (this.string(params, 'video_signature').toLowerCase() !== md5)
      throw tiktokErrors.invalidField('video_signature', 'Does not match the MD5 of video_file.');
    if (!isMp4(file.data))
      throw tiktokErrors.invalidField('video_file', 'Unsupported video format; use MP4 or MOV.');
    const id = `v10033g50000${md5.slice(0, 20)}`;
    const existing = this.store.get(id, 'video');
    // The video upload answers with a list of the uploaded videos.
    if (existing) return [existing.fields];
    const size = mp4Size(file.data);
    const today = this.clock.today();
    const now = timestamp(today);
    const video = this.store.create(
      'video',
      this.advertiserId,
      {
        video_id: id,
        material_id: materialId(md5),
        file_name: this.string(params, 'file_name', file.filename ?? `${md5}.mp4`),
        width: size?.width ?? null,
        height: size?.height ?? null,
        format: 'mp4',
        size: file.data.length,
        signature: md5,
        video_cover_url: `${this.baseUrl}/sandbox-media/covers/${md5}.jpg`,
        preview_url: `${this.baseUrl}/sandbox-media/videos/${md5}.mp4`,
        displayable: true,
        create_time: now,
        modify_time: now,
      },
      today,
      id,
    );
    return [video.fields];
  }

  // ---- campaigns and ad groups ----

  private createCampaign(p: Params): unknown {
    const name = this.string(p, 'campaign_name');
    if (name.length > 512) throw tiktokErrors.invalidField('campaign_name', 'Longer than 512.');
    const objective = this.oneOf(p, 'objective_type', OBJECTIVES);
    const budgetMode = this.oneOf(p, 'budget_mode', CAMPAIGN_BUDGET_MODES, 'BUDGET_MODE_INFINITE');
    const budget = budgetMode === 'BUDGET_MODE_INFINITE' ? 0 : this.number(p, 'budget');
    if (budgetMode !== 'BUDGET_MODE_INFINITE' && budget <= 0)
      throw tiktokErrors.invalidField('budget', 'Must be greater than 0.');
    const today = this.clock.today();
    const now = timestamp(today);
    const c = this.store.create(
      'campaign',
      this.advertiserId,
      {
        advertiser_id: this.advertiserId,
        campaign_name: name,
        objective_type: objective,
        app_promotion_type:
          objective === 'APP_PROMOTION'
            ? this.oneOf(p, 'app_promotion_type', new Set(['APP_INSTALL', 'APP_RETARGETING']))
            : undefined,
        budget_mode: budgetMode,
        budget,
        operation_status: this.oneOf(p, 'operation_status', OPERATION_STATUSES, 'ENABLE'),
        create_time: now,
        modify_time: now,
      },
      today,
    );
    this.store.update(c, { campaign_id: c.id }, today);
    return this.campaignView(c);
  }

  private campaignView(c: TikTokObject): Record<string, unknown> {
    const deleted = c.fields.operation_status === 'DELETE';
    return {
      ...c.fields,
      secondary_status: deleted
        ? 'CAMPAIGN_STATUS_DELETE'
        : c.fields.operation_status === 'ENABLE'
          ? 'CAMPAIGN_STATUS_ENABLE'
          : 'CAMPAIGN_STATUS_DISABLE',
    };
  }

  private getCampaigns(p: Params): unknown {
    const f = this.object(p, 'filtering');
    const ids = this.strings(f, 'campaign_ids');
    const name = f.campaign_name === undefined ? undefined : this.string(f, 'campaign_name');
    const rows = this.store
      .list(
        'campaign',
        this.advertiserId,
        (c) =>
          (!ids || ids.includes(c.id)) &&
          // TikTok's name filters are fuzzy: they match any name containing the text.
          (name === undefined || String(c.fields.campaign_name).includes(name)),
      )
      .map((c) => this.campaignView(c));
    return this.page(rows, p);
  }

  private createAdGroup(p: Params): unknown {
    const campaignId = this.string(p, 'campaign_id');
    const campaign = this.store.get(campaignId, 'campaign');
    if (!campaign || campaign.owner !== this.advertiserId)
      throw tiktokErrors.invalidField('campaign_id', `Campaign ${campaignId} does not exist.`);
    const name = this.string(p, 'adgroup_name');
    const placementType = this.oneOf(p, 'placement_type', PLACEMENT_TYPES);
    const locationIds = this.strings(p, 'location_ids', true)!;
    for (const id of locationIds)
      if (!countryOfLocationId(id))
        throw tiktokErrors.invalidField(
          'location_ids',
          `${id} is not a country location id the sandbox knows.`,
        );
    const budgetMode = this.oneOf(p, 'budget_mode', ADGROUP_BUDGET_MODES);
    const budget = this.number(p, 'budget');
    if (budget < MIN_ADGROUP_DAILY_BUDGET)
      throw tiktokErrors.invalidField(
        'budget',
        `The daily budget must be at least ${MIN_ADGROUP_DAILY_BUDGET} ${this.world.tiktok.currency}.`,
      );
    const scheduleType = this.oneOf(p, 'schedule_type', SCHEDULE_TYPES);
    const start = this.string(p, 'schedule_start_time');
    if (!DATE_TIME.test(start))
      throw tiktokErrors.invalidField('schedule_start_time', 'Must be YYYY-MM-DD HH:MM:SS.');
    let end: string | undefined;
    if (scheduleType === 'SCHEDULE_START_END') {
      end = this.string(p, 'schedule_end_time');
      if (!DATE_TIME.test(end) || end <= start)
        throw tiktokErrors.invalidField(
          'schedule_end_time',
          'Must be YYYY-MM-DD HH:MM:SS after schedule_start_time.',
        );
    }
    const goal = this.oneOf(p, 'optimization_goal', OPTIMIZATION_GOALS);
    const event = goal === 'IN_APP_EVENT' ? this.string(p, 'optimization_event') : undefined;
    const operatingSystems = this.strings(p, 'operating_systems');
    for (const os of operatingSystems ?? [])
      if (!(os in OPERATING_SYSTEMS))
        throw tiktokErrors.invalidField('operating_systems', `${os} is not one of: IOS, ANDROID.`);
    const today = this.clock.today();
    const now = timestamp(today);
    const g = this.store.create(
      'adgroup',
      this.advertiserId,
      {
        advertiser_id: this.advertiserId,
        campaign_id: campaignId,
        campaign_name: campaign.fields.campaign_name,
        adgroup_name: name,
        placement_type: placementType,
        placements: this.strings(p, 'placements') ?? ['PLACEMENT_TIKTOK'],
        location_ids: locationIds,
        // TikTok answers [] for "all operating systems".
        operating_systems: operatingSystems ?? [],
        budget_mode: budgetMode,
        budget,
        schedule_type: scheduleType,
        schedule_start_time: start,
        schedule_end_time: end,
        optimization_goal: goal,
        optimization_event: event,
        billing_event: this.oneOf(p, 'billing_event', BILLING_EVENTS),
        bid_type: this.string(p, 'bid_type', 'BID_TYPE_NO_BID'),
        promotion_type:
          p.promotion_type === undefined ? undefined : this.string(p, 'promotion_type'),
        app_id: p.app_id === undefined ? undefined : this.string(p, 'app_id'),
        operation_status: this.oneOf(p, 'operation_status', OPERATION_STATUSES, 'ENABLE'),
        create_time: now,
        modify_time: now,
      },
      today,
    );
    this.store.update(g, { adgroup_id: g.id }, today);
    return this.adGroupView(g);
  }

  private adGroupView(g: TikTokObject): Record<string, unknown> {
    const campaign = this.store.get(String(g.fields.campaign_id), 'campaign');
    const own = String(g.fields.operation_status);
    const secondary =
      own === 'DELETE'
        ? 'ADGROUP_STATUS_DELETE'
        : campaign?.fields.operation_status === 'DELETE'
          ? 'ADGROUP_STATUS_CAMPAIGN_DELETE'
          : campaign?.fields.operation_status !== 'ENABLE'
            ? 'ADGROUP_STATUS_CAMPAIGN_DISABLE'
            : own === 'ENABLE'
              ? 'ADGROUP_STATUS_DELIVERY_OK'
              : 'ADGROUP_STATUS_DISABLE';
    return { ...g.fields, secondary_status: secondary };
  }

  private getAdGroups(p: Params): unknown {
    const f = this.object(p, 'filtering');
    const ids = this.strings(f, 'adgroup_ids');
    const campaignIds = this.strings(f, 'campaign_ids');
    const name = f.adgroup_name === undefined ? undefined : this.string(f, 'adgroup_name');
    const rows = this.store
      .list(
        'adgroup',
        this.advertiserId,
        (g) =>
          (!ids || ids.includes(g.id)) &&
          (!campaignIds || campaignIds.includes(String(g.fields.campaign_id))) &&
          (name === undefined || String(g.fields.adgroup_name).includes(name)),
      )
      .map((g) => this.adGroupView(g));
    return this.page(rows, p);
  }

  // ---- ads ----

  private createAds(p: Params): unknown {
    const adGroupId = this.string(p, 'adgroup_id');
    const group = this.store.get(adGroupId, 'adgroup');
    if (!group || group.owner !== this.advertiserId)
      throw tiktokErrors.invalidField('adgroup_id', `Ad group ${adGroupId} does not exist.`);
    const creatives = parseMaybeJson(p.creatives);
    if (creatives === undefined || creatives === null) throw tiktokErrors.missingField('creatives');
    if (!Array.isArray(creatives) || creatives.length === 0)
      throw tiktokErrors.invalidField('creatives', 'Must be a non-empty list of creatives.');
    const live = this.store.list(
      'ad',
      this.advertiserId,
      (a) => a.fields.adgroup_id === adGroupId && a.fields.operation_status !== 'DELETE',
    ).length;
    if (live + creatives.length > MAX_ADS_PER_ADGROUP)
      throw tiktokErrors.invalidField(
        'creatives',
        `An ad group can hold at most ${MAX_ADS_PER_ADGROUP} ads; it has ${live}.`,
      );
    // Validate every creative before creating any, so a bad one creates nothing.
    const specs = creatives.map((c: unknown, i) => this.creative(c, `creatives[${i}]`));
    const today = this.clock.today();
    const now = timestamp(today);
    const ads = specs.map((spec) => {
      const ad = this.store.create(
        'ad',
        this.advertiserId,
        {
          advertiser_id: this.advertiserId,
          campaign_id: group.fields.campaign_id,
          campaign_name: group.fields.campaign_name,
          adgroup_id: adGroupId,
          adgroup_name: group.fields.adgroup_name,
          ...spec,
          operation_status: 'ENABLE',
          create_time: now,
          modify_time: now,
        },
        today,
      );
      this.store.update(ad, { ad_id: ad.id }, today);
      const media =
        typeof spec.video_id === 'string' ? spec.video_id : (spec.image_ids as string[]).join(',');
      this.store.setReview(
        ad,
        reviewAd(this.world.seed, 'tiktok', this.review, {
          media,
          texts: [spec.ad_text as string],
        }),
      );
      return ad;
    });
    return { ad_ids: ads.map((a) => a.id), creatives: ads.map((a) => this.adView(a)) };
  }

  private creative(c: unknown, at: string): Record<string, unknown> {
    if (typeof c !== 'object' || c === null || Array.isArray(c))
      throw tiktokErrors.invalidField(at, 'Not a valid creative object.');
    const p = c as Params;
    const field = (name: string) => `${at}.${name}`;
    const req = (name: string) => {
      const v = p[name];
      if (v === undefined || v === null || v === '') throw tiktokErrors.missingField(field(name));
      if (typeof v !== 'string')
        throw tiktokErrors.invalidField(field(name), 'Not a valid string.');
      return v;
    };
    const adName = req('ad_name');
    if (adName.length > 512) throw tiktokErrors.invalidField(field('ad_name'), 'Longer than 512.');
    const adText = req('ad_text');
    if (adText.length > 100)
      throw tiktokErrors.invalidField(field('ad_text'), 'Longer than 100 characters.');
    const landing = req('landing_page_url');
    if (!URL.canParse(landing))
      throw tiktokErrors.invalidField(field('landing_page_url'), 'Not a valid URL.');
    const videoId = typeof p.video_id === 'string' && p.video_id ? p.video_id : undefined;
    const imageIds = p.image_ids;
    if (imageIds !== undefined && (!Array.isArray(imageIds) || !imageIds.every(isString)))
      throw tiktokErrors.invalidField(field('image_ids'), 'Not a valid list of strings.');
    const images = imageIds ?? [];
    const format =
      p.ad_format === undefined
        ? videoId
          ? 'SINGLE_VIDEO'
          : 'SINGLE_IMAGE'
        : this.oneOf(p, 'ad_format', AD_FORMATS);
    if (format === 'SINGLE_VIDEO' && !videoId) throw tiktokErrors.missingField(field('video_id'));
    if (format === 'SINGLE_IMAGE' && images.length === 0)
      throw tiktokErrors.missingField(field('image_ids'));
    if (videoId && !this.store.get(videoId, 'video'))
      throw tiktokErrors.invalidField(field('video_id'), `Video ${videoId} does not exist.`);
    for (const id of images)
      if (!this.store.get(id, 'image'))
        throw tiktokErrors.invalidField(field('image_ids'), `Image ${id} does not exist.`);
    return {
      ad_name: adName,
      ad_format: format,
      ad_text: adText,
      landing_page_url: landing,
      deeplink: typeof p.deeplink === 'string' ? p.deeplink : undefined,
      call_to_action: typeof p.call_to_action === 'string' ? p.call_to_action : undefined,
      display_name: typeof p.display_name === 'string' ? p.display_name : undefined,
      identity_type: typeof p.identity_type === 'string' ? p.identity_type : undefined,
      identity_id: typeof p.identity_id === 'string' ? p.identity_id : undefined,
      image_ids: images,
      video_id: videoId ?? null,
    };
  }

  /**
   * An ad as ad/get returns it, with `secondary_status` following its ad group and campaign, and
   * its review (AD_STATUS_AUDIT, AD_STATUS_NOT_APPROVE) when it would otherwise deliver.
   */
  private adView(ad: TikTokObject): Record<string, unknown> {
    const group = this.store.get(String(ad.fields.adgroup_id), 'adgroup');
    const campaign = this.store.get(String(ad.fields.campaign_id), 'campaign');
    const own = String(ad.fields.operation_status);
    const review = reviewState(ad.review);
    const secondary =
      own === 'DELETE'
        ? 'AD_STATUS_DELETE'
        : campaign?.fields.operation_status === 'DELETE'
          ? 'AD_STATUS_CAMPAIGN_DELETE'
          : group?.fields.operation_status === 'DELETE'
            ? 'AD_STATUS_ADGROUP_DELETE'
            : campaign?.fields.operation_status !== 'ENABLE'
              ? 'AD_STATUS_CAMPAIGN_DISABLE'
              : group?.fields.operation_status !== 'ENABLE'
                ? 'AD_STATUS_ADGROUP_DISABLE'
                : own !== 'ENABLE'
                  ? 'AD_STATUS_DISABLE'
                  : review === 'IN_REVIEW'
                    ? 'AD_STATUS_AUDIT'
                    : review === 'REJECTED'
                      ? 'AD_STATUS_NOT_APPROVE'
                      : 'AD_STATUS_DELIVERY_OK';
    return { ...ad.fields, secondary_status: secondary };
  }

  /** ad/review_info: where each ad's review stands, with the reasons of a rejection. */
  private reviewInfo(p: Params): unknown {
    const ids = this.strings(p, 'ad_ids', true)!;
    if (ids.length > MAX_IDS_PER_CALL)
      throw tiktokErrors.invalidField('ad_ids', `Longer than maximum ${MAX_IDS_PER_CALL}.`);
    const map: Record<string, unknown> = {};
    for (const id of ids) {
      const ad = this.store.get(id, 'ad');
      if (!ad || ad.owner !== this.advertiserId)
        throw tiktokErrors.invalidField('ad_ids', `Ad ${id} does not exist.`);
      const state = reviewState(ad.review);
      const rejection = state === 'REJECTED' ? ad.review?.rejection : null;
      map[id] = {
        ad_id: id,
        review_status: state,
        reject_info: rejection
          ? [{ reasons: [rejection.reason], suggestion: rejection.suggestion }]
          : [],
      };
    }
    return { ad_review_map: map };
  }

  /** adgroup/status/update and campaign/status/update: ENABLE, DISABLE or DELETE up to 100. */
  private updateStatus(type: 'adgroup' | 'campaign', p: Params): unknown {
    const field = `${type}_ids`;
    const noun = type === 'adgroup' ? 'Ad group' : 'Campaign';
    const ids = this.strings(p, field, true)!;
    if (ids.length > MAX_IDS_PER_CALL)
      throw tiktokErrors.invalidField(field, `Longer than maximum ${MAX_IDS_PER_CALL}.`);
    const status = this.oneOf(p, 'operation_status', AD_STATUS_UPDATES);
    // Check every id before changing any, so a bad one changes nothing.
    const objects = ids.map((id) => {
      const o = this.store.get(id, type);
      if (!o || o.owner !== this.advertiserId)
        throw tiktokErrors.invalidField(field, `${noun} ${id} does not exist.`);
      if (o.fields.operation_status === 'DELETE')
        throw tiktokErrors.invalidField(field, `${noun} ${id} is deleted and cannot be changed.`);
      return o;
    });
    const today = this.clock.today();
    for (const o of objects)
      this.store.update(o, { operation_status: status, modify_time: timestamp(today) }, today);
    return { [field]: ids, status };
  }

  private updateAdStatus(p: Params): unknown {
    const ids = this.strings(p, 'ad_ids', true)!;
    if (ids.length > 100) throw tiktokErrors.invalidField('ad_ids', 'Longer than maximum 100.');
    const status = this.oneOf(p, 'operation_status', AD_STATUS_UPDATES);
    const ads = ids.map((id) => {
      const ad = this.store.get(id, 'ad');
      if (!ad || ad.owner !== this.advertiserId)
        throw tiktokErrors.invalidField('ad_ids', `Ad ${id} does not exist.`);
      if (ad.fields.operation_status === 'DELETE')
        throw tiktokErrors.invalidField('ad_ids', `Ad ${id} is deleted and cannot be changed.`);
      return ad;
    });
    const today = this.clock.today();
    for (const ad of ads)
      this.store.update(ad, { operation_status: status, modify_time: timestamp(today) }, today);
    return { ad_ids: ids, status };
  }

  private getAds(p: Params): unknown {
    const f = this.object(p, 'filtering');
    const ids = this.strings(f, 'ad_ids');
    const groupIds = this.strings(f, 'adgroup_ids');
    const campaignIds = this.strings(f, 'campaign_ids');
    const name = f.ad_name === undefined ? undefined : this.string(f, 'ad_name');
    const primary = this.oneOf(
      f,
      'primary_status',
      new Set([
        'STATUS_ALL',
        'STATUS_NOT_DELETE',
        'STATUS_DELETE',
        'STATUS_DELIVERY_OK',
        'STATUS_DISABLE',
        'STATUS_NOT_DELIVERY',
      ]),
      'STATUS_NOT_DELETE',
    );
    const rows = this.store
      .list(
        'ad',
        this.advertiserId,
        (a) =>
          (!ids || ids.includes(a.id)) &&
          (!groupIds || groupIds.includes(String(a.fields.adgroup_id))) &&
          (!campaignIds || campaignIds.includes(String(a.fields.campaign_id))) &&
          (name === undefined || String(a.fields.ad_name).includes(name)),
      )
      .map((a) => this.adView(a))
      .filter((a) => {
        const s = String(a.secondary_status);
        switch (primary) {
          case 'STATUS_ALL':
            return true;
          case 'STATUS_DELETE':
            return s === 'AD_STATUS_DELETE';
          case 'STATUS_DELIVERY_OK':
            return s === 'AD_STATUS_DELIVERY_OK';
          case 'STATUS_DISABLE':
            return s === 'AD_STATUS_DISABLE';
          case 'STATUS_NOT_DELIVERY':
            return s !== 'AD_STATUS_DELIVERY_OK' && s !== 'AD_STATUS_DELETE';
          default:
            return s !== 'AD_STATUS_DELETE';
        }
      });
    return this.page(rows, p);
  }

  /** page / page_size paging with TikTok's page_info; `fields` picks the returned fields. */
  private page(rows: Array<Record<string, unknown>>, p: Params) {
    const page = this.int(p, 'page', 1, 1, 1_000_000);
    const pageSize = this.int(p, 'page_size', 10, 1, 1000);
    const fields = this.strings(p, 'fields');
    const slice = rows.slice((page - 1) * pageSize, page * pageSize);
    const list = fields
      ? slice.map((r) => Object.fromEntries(fields.filter((f) => f in r).map((f) => [f, r[f]])))
      : slice;
    return {
      list,
      page_info: {
        page,
        page_size: pageSize,
        total_number: rows.length,
        total_page: Math.ceil(rows.length / pageSize),
      },
    };
  }

  // ---- delivery ----

  private simAd(ad: TikTokObject): SimAd {
    const group = this.store.get(String(ad.fields.adgroup_id), 'adgroup');
    // An ad group targets one market in adloop; with several countries the first one counts.
    const location = (group?.fields.location_ids as string[] | undefined)?.[0];
    const imageId = (ad.fields.image_ids as string[] | undefined)?.[0];
    const media =
      typeof ad.fields.video_id === 'string'
        ? this.store.get(ad.fields.video_id, 'video')
        : imageId
          ? this.store.get(imageId, 'image')
          : undefined;
    return {
      id: ad.id,
      platform: 'tiktok',
      market: (location && countryOfLocationId(location)) ?? '',
      aspectRatio: aspectRatio(Number(media?.fields.width), Number(media?.fields.height)),
      createdDate: ad.statusLog?.[0]?.date ?? this.clock.today(),
      ...contentFromLink(ad.fields.landing_page_url ?? ad.fields.deeplink),
    };
  }

  /** Every ad's delivery on `date`: each enabled ad group splits its budget over its enabled ads. */
  private deliveries(date: string): Array<{ ad: TikTokObject; delivery: Delivery }> {
    if (date > this.clock.today()) return [];
    const out: Array<{ ad: TikTokObject; delivery: Delivery }> = [];
    for (const group of this.store.list('adgroup', this.advertiserId)) {
      const campaign = this.store.get(String(group.fields.campaign_id), 'campaign');
      if (this.store.statusOn(group, date) !== 'ENABLE') continue;
      if (!campaign || this.store.statusOn(campaign, date) !== 'ENABLE') continue;
      const live = this.store.list(
        'ad',
        this.advertiserId,
        (a) =>
          a.fields.adgroup_id === group.id &&
          this.store.statusOn(a, date) === 'ENABLE' &&
          // Ads in review or not approved deliver nothing.
          reviewState(a.review) === 'APPROVED',
      );
      if (live.length === 0) continue;
      // Budgets are in the account currency's major units on the wire; the simulator spends cents.
      const budgetMinor = Math.round(Number(group.fields.budget) * 100);
      const systems = (group.fields.operating_systems as string[] | undefined) ?? [];
      const deliveries = this.simulator.deliverAdSet(
        budgetMinor,
        live.map((a) => this.simAd(a)),
        date,
        group.id,
        systems.length > 0 ? systems.map((os) => OPERATING_SYSTEMS[os]!) : undefined,
      );
      deliveries.forEach((delivery, i) => out.push({ ad: live[i]!, delivery }));
    }
    return out;
  }

  /** DeliveryLog: what this platform delivered on `date`, for the MMP servers. */
  deliveriesOn(date: string): AttributedDelivery[] {
    return this.deliveries(date).map(({ ad, delivery }) => ({
      platform: 'tiktok',
      market: this.simAd(ad).market,
      campaignId: String(ad.fields.campaign_id),
      campaignName: typeof ad.fields.campaign_name === 'string' ? ad.fields.campaign_name : '',
      adGroupId: String(ad.fields.adgroup_id),
      adGroupName: typeof ad.fields.adgroup_name === 'string' ? ad.fields.adgroup_name : '',
      adId: ad.id,
      adName: String(ad.fields.ad_name),
      delivery,
    }));
  }

  // ---- reporting ----

  private report(p: Params): unknown {
    if (this.faults.reportDown) throw tiktokErrors.systemError();
    this.oneOf(p, 'report_type', new Set(['BASIC']));
    const level = this.oneOf(p, 'data_level', new Set(Object.keys(LEVEL_ID))) as DataLevel;
    const idDim = LEVEL_ID[level];
    const dims = this.strings(p, 'dimensions', true)!;
    for (const d of dims)
      if (d !== idDim && d !== 'stat_time_day' && d !== 'country_code')
        throw tiktokErrors.invalidField(
          'dimensions',
          `${d} is not a valid dimension for data_level ${level}; use ${idDim}, stat_time_day, country_code.`,
        );
    const daily = dims.includes('stat_time_day');
    const metrics = this.strings(p, 'metrics') ?? ['spend', 'impressions', 'clicks'];
    for (const m of metrics) {
      const attr = ATTRIBUTE_METRICS[m];
      if (attr ? !attr.includes(level) : !(COUNT_METRICS as readonly string[]).includes(m))
        throw tiktokErrors.invalidField('metrics', `${m} is not a valid metric for ${level}.`);
    }
    const today = this.clock.today();
    let since: string;
    let until: string;
    if (String(p.query_lifetime) === 'true') {
      const firsts = this.store
        .list('ad', this.advertiserId)
        .map((a) => a.statusLog?.[0]?.date ?? today);
      since = firsts.length ? firsts.reduce((a, b) => (a < b ? a : b)) : today;
      until = today;
    } else {
      since = this.string(p, 'start_date');
      until = this.string(p, 'end_date');
      for (const [name, v] of [
        ['start_date', since],
        ['end_date', until],
      ] as const)
        if (!DATE.test(v) || Number.isNaN(Date.parse(v)))
          throw tiktokErrors.invalidField(name, 'Must be a date as YYYY-MM-DD.');
      if (until < since)
        throw tiktokErrors.invalidField('end_date', 'Must not be earlier than start_date.');
      if (daily && addDays(since, MAX_DAILY_REPORT_DAYS - 1) < until)
        throw tiktokErrors.invalidField(
          'end_date',
          `The time span can be at most ${MAX_DAILY_REPORT_DAYS} days with stat_time_day.`,
        );
    }
    const keep = this.reportFilter(p);
    interface Group {
      dims: Record<string, string>;
      ad: TikTokObject;
      spend: number;
      imp: number;
      clk: number;
      inst: number;
      reg: number;
      sub: number;
      conv: number;
    }
    const groups = new Map<string, Group>();
    for (const date of dateRange(since, until < today ? until : today)) {
      for (const { ad, delivery } of this.deliveries(date)) {
        if (!keep(ad)) continue;
        const d = asReported(delivery, today, this.world.truth.reportingDelayDays);
        const values: Record<string, string> = {
          ad_id: ad.id,
          adgroup_id: String(ad.fields.adgroup_id),
          campaign_id: String(ad.fields.campaign_id),
          advertiser_id: this.advertiserId,
          stat_time_day: `${date} 00:00:00`,
          country_code: this.simAd(ad).market,
        };
        const key = dims.map((k) => values[k]).join('|');
        const g = groups.get(key) ?? {
          dims: Object.fromEntries(dims.map((k) => [k, values[k]!])),
          ad,
          ...emptyTally(),
          conv: 0,
        };
        addDelivery(g, d);
        g.conv += this.conversions(ad, d);
        groups.set(key, g);
      }
    }
    const metricValues = (g: Omit<Group, 'dims' | 'ad'>, ad: TikTokObject | null) => {
      const all: Record<string, string> = {
        spend: money(g.spend),
        impressions: String(g.imp),
        clicks: String(g.clk),
        ctr: ratio(g.clk, g.imp, 100),
        cpc: ratio(g.spend / 100, g.clk),
        cpm: ratio(g.spend / 100, g.imp, 1000),
        conversion: String(g.conv),
        cost_per_conversion: ratio(g.spend / 100, g.conv),
        conversion_rate: ratio(g.conv, g.clk, 100),
        app_install: String(g.inst),
        real_time_app_install: String(g.inst),
        cost_per_app_install: ratio(g.spend / 100, g.inst),
        registration: String(g.reg),
        total_registration: String(g.reg),
        cost_per_registration: ratio(g.spend / 100, g.reg),
        subscribe: String(g.sub),
        total_subscribe: String(g.sub),
        cost_per_subscribe: ratio(g.spend / 100, g.sub),
        currency: this.world.tiktok.currency,
      };
      if (ad) {
        all.ad_name = String(ad.fields.ad_name);
        all.adgroup_id = String(ad.fields.adgroup_id);
        all.adgroup_name = String(ad.fields.adgroup_name);
        all.campaign_id = String(ad.fields.campaign_id);
        all.campaign_name = String(ad.fields.campaign_name);
      }
      return Object.fromEntries(metrics.map((m) => [m, all[m] ?? '-']));
    };
    // Stable order: by day, then by the objects' creation order.
    const sorted = [...groups.values()].sort(
      (a, b) =>
        (a.dims.stat_time_day ?? '').localeCompare(b.dims.stat_time_day ?? '') ||
        a.ad.seq - b.ad.seq,
    );
    const rows = sorted.map((g) => ({
      dimensions: g.dims,
      metrics: metricValues(g, level === 'AUCTION_ADVERTISER' ? null : g.ad),
    }));
    const paged = this.page(rows, { page: p.page, page_size: p.page_size });
    if (String(p.enable_total_metrics) !== 'true') return paged;
    const total = sorted.reduce(
      (t, g) => ({
        spend: t.spend + g.spend,
        imp: t.imp + g.imp,
        clk: t.clk + g.clk,
        inst: t.inst + g.inst,
        reg: t.reg + g.reg,
        sub: t.sub + g.sub,
        conv: t.conv + g.conv,
      }),
      { spend: 0, imp: 0, clk: 0, inst: 0, reg: 0, sub: 0, conv: 0 },
    );
    const totals = metricValues(total, null);
    for (const m of Object.keys(ATTRIBUTE_METRICS)) delete totals[m];
    return { ...paged, total_metrics: totals };
  }

  /** The optimisation event count of one delivery (see the metric mapping above). */
  private conversions(ad: TikTokObject, d: Delivery): number {
    const group = this.store.get(String(ad.fields.adgroup_id), 'adgroup');
    if (group?.fields.optimization_goal !== 'IN_APP_EVENT') return d.installs;
    const event = String(group.fields.optimization_event);
    if (event === 'ACTIVE_REGISTER') return d.registrations;
    if (event === 'SUBSCRIBE' || event === 'ACTIVE_PAY') return d.subscriptions;
    return d.installs;
  }

  /** `filtering` of a report: [{field_name, filter_type: IN, filter_value: '["id",…]'}]. */
  private reportFilter(p: Params): (ad: TikTokObject) => boolean {
    const raw = parseMaybeJson(p.filtering);
    if (raw === undefined || raw === null || raw === '') return () => true;
    if (!Array.isArray(raw))
      throw tiktokErrors.invalidField('filtering', 'Must be a list of filters.');
    const fieldOf: Record<string, string> = {
      ad_ids: 'ad_id',
      adgroup_ids: 'adgroup_id',
      campaign_ids: 'campaign_id',
    };
    const tests = raw.map((f: unknown, i) => {
      const filter = (typeof f === 'object' && f !== null ? f : {}) as Params;
      const at = `filtering[${i}]`;
      const name = this.oneOf(filter, 'field_name', new Set(Object.keys(fieldOf)));
      this.oneOf(filter, 'filter_type', new Set(['IN']));
      const values = this.strings({ v: filter.filter_value }, 'v');
      if (!values) throw tiktokErrors.missingField(`${at}.filter_value`);
      const key = fieldOf[name]!;
      return (ad: TikTokObject) =>
        values.includes(key === 'ad_id' ? ad.id : String(ad.fields[key]));
    });
    return (ad) => tests.every((t) => t(ad));
  }
}

/** Material ids are decimal strings; derive one from the file's MD5 so re-uploads agree. */
function materialId(md5: string): string {
  return String(BigInt(`0x${md5.slice(0, 15)}`));
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
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
  const server = http.createServer(tiktok.handle);
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
