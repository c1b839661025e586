// Meta Marketing API client over the official facebook-nodejs-business-sdk. adloop talks to Meta
// only through this interface, so activities can be tested against the sandbox and the SDK's
// quirks stay here:
// - the base URL is a static getter on FacebookAdsApi; we pass ours per call instead;
// - the crash reporter is off (it installs a process-wide uncaughtException handler);
// - SDK errors carry the request URL with the access token; we never let them escape;
// - the SDK's requests (axios) have no timeout: every request here gets one (requestTimeoutMs).
import type { ReviewState } from '../../core/types.ts';
import bizSdk from 'facebook-nodejs-business-sdk';
import type { DeliveryCounts } from '../../core/types.ts';
import { redact } from '../../core/redact.ts';
import { PlatformError, REQUEST_TRIES, withRequestRetry } from '../errors.ts';
import { noteRequest } from '../request-log.ts';
import { fromMetaAmount, toMetaAmount } from './currency.ts';
import { UsageGovernor, type UsageGovernorOptions } from './usage-governor.ts';
import { pause, requestSignal } from '../../core/cancellation.ts';

const { FacebookAdsApi, FacebookAdsApiBatch, AdAccount, AdSet, AdReportRun, AdVideo } = bizSdk;

/** Most calls one batch request may hold (Meta's limit). */
export const META_MAX_BATCH = 50;
/** Default of MetaAdsConfig.requestTimeoutMs. */
export const DEFAULT_META_REQUEST_TIMEOUT_MS = 60_000;

export interface MetaAdsConfig {
  /** Graph API base URL without version, e.g. https://graph.facebook.com or the sandbox. */
  graphUrl: string;
  accessToken: string;
  adAccountId: string;
  pageId: string;
  /** Ranges longer than this many days are read as async report runs. Default 7. */
  asyncInsightsAfterDays?: number;
  /** First wait between report-run status polls, doubling up to 10 s. Default 1000 ms. */
  reportPollMs?: number;
  /** Longest an async report may take before the read fails (and is retried). Default 10 min. */
  reportTimeoutMs?: number;
  /** Pacing by X-Business-Use-Case-Usage (see usage-governor.ts); null turns it off. */
  governor?: UsageGovernorOptions | null;
  /**
   * Longest one request may wait for its answer before it fails as a transient PlatformError
   * ("request timed out after N ms"); each page, batch, poll and video chunk is one request.
   * Default 60000 (DEFAULT_META_REQUEST_TIMEOUT_MS).
   */
  requestTimeoutMs?: number;
  /** Tries of one request that may be sent again (see withRequestRetry). Default 4. */
  requestTries?: number;
  /** First wait between reads of videos' processing status, doubling up to 10 s. Default 1000 ms. */
  videoPollMs?: number;
  /**
   * Longest waitForVideos waits for videos to process before it gives each one still processing
   * up as timed out. Meta: processing "may take several seconds, or even minutes for large
   * videos" (https://developers.facebook.com/docs/marketing-api/advideo/). Default 300000 (5 min).
   */
  videoTimeoutMs?: number;
}

/** Default of MetaAdsConfig.videoTimeoutMs. */
export const DEFAULT_META_VIDEO_TIMEOUT_MS = 300_000;

/** What the platform's review said of an ad. */

export interface MetaAdRow {
  id: string;
  name: string;
  status: string;
  effectiveStatus: string;
  adsetId: string;
  review: ReviewState;
  /** Why the review rejected it (policy: reason; ...), when it did. */
  reviewReason: string | null;
  /** Its ad creative (field expansion of `creative{id,name}`), when Graph said. */
  creativeId: string | null;
  creativeName: string | null;
}

/** One call of a batch: its object's id, or why it failed. */
export type BatchResult =
  { id: string; error?: undefined } | { id?: undefined; error: PlatformError };

/** An ad set (Meta) or ad group (TikTok) to create; the same for both platforms. */
export interface AdSetSpec {
  name: string;
  campaignId: string;
  country: string;
  dailyBudget: number;
  /** Deliver only to this OS; all when absent. */
  os?: 'ios' | 'android';
  /** What the platform optimises for. Default installs. */
  objective?: 'installs' | 'registrations';
}

/**
 * An app-install ad set on Meta: one store (an app-install ad set promotes one app listing, and its
 * targeting.user_os must match it), a budget in ISO minor units of the account's currency (the
 * client converts it to Meta's units once it has read that currency).
 */
export interface MetaAdSetSpec extends Omit<AdSetSpec, 'os' | 'dailyBudget'> {
  os: 'ios' | 'android';
  /** Daily budget in ISO minor units of the ad account's currency (core/money.ts). */
  dailyBudgetMinor: number;
  /** The app promoted (promoted_object): its Facebook application id and store listing. */
  app: { applicationId: string; storeUrl: string };
}

/** An app install creative: the store link with an install call to action, and the deep link. */
export interface MetaCreativeSpec {
  name: string;
  imageHash: string;
  /** The app's store listing (must be the ad set's promoted_object.object_store_url). */
  storeUrl: string;
  /** Where the app opens (call_to_action.value.app_link), e.g. myapp://artist/123. */
  appLink: string;
  message: string;
  headline: string;
}

/** One phase of an ad video's processing (VideoStatus{Uploading,Processing,Publishing}Phase.json). */
export interface MetaVideoPhase {
  status: string;
  /** VideoStatusError.json: code and message, when the phase failed. */
  errors: Array<{ code: number; message: string }>;
}

/** An ad video's processing state, as its `status` field reports it (VideoStatus.json). */
export interface MetaVideoState {
  videoId: string;
  title: string | null;
  /** video_status: processing, ready, error or expired. */
  videoStatus: string;
  uploadingPhase: MetaVideoPhase | null;
  processingPhase: MetaVideoPhase | null;
  publishingPhase: MetaVideoPhase | null;
}

/** One of a video's thumbnails (VideoThumbnail.json: uri, is_preferred, width, height). */
export interface MetaVideoThumbnail {
  uri: string;
  isPreferred: boolean;
  width: number | null;
  height: number | null;
}

/** A video of a video creative and its thumbnail: an image of the account's library, or a URL. */
export interface MetaCreativeVideo {
  videoId: string;
  /** Hash of an uploaded image (preferred: adloop's own still of the video's ratio). */
  thumbnailHash?: string;
  /** Else a URL, e.g. the preferred thumbnail Meta picked (videoThumbnails). */
  thumbnailUrl?: string;
}

/**
 * An app install video creative whose placements each get their own cut (placement asset
 * customisation): feeds show `feed` (4:5, or 1:1 without one), stories and reels `vertical` (9:16).
 */
export interface MetaVideoCreativeSpec {
  name: string;
  vertical: MetaCreativeVideo;
  feed: MetaCreativeVideo;
  /** The app's store listing (must be the ad set's promoted_object.object_store_url). */
  storeUrl: string;
  /** Where the app opens, e.g. myapp://artist/123. */
  appLink: string;
  message: string;
  headline: string;
}

/**
 * Where each cut of a video creative plays, as customization_spec positions (Placement Targeting,
 * https://developers.facebook.com/docs/marketing-api/audiences/reference/placement-targeting/):
 * the feed cut in every feed-like position (Facebook feed, profile feed, video feeds, marketplace
 * and search; Instagram stream, explore, profile feed and search), the vertical cut full screen
 * (Facebook and Instagram stories, Facebook and Instagram reels).
 */
export const META_VIDEO_PLACEMENTS = {
  feed: {
    facebook_positions: ['feed', 'profile_feed', 'video_feeds', 'marketplace', 'search'],
    instagram_positions: ['stream', 'explore', 'explore_home', 'profile_feed', 'ig_search'],
  },
  vertical: {
    facebook_positions: ['story', 'facebook_reels'],
    instagram_positions: ['story', 'reels', 'profile_reels'],
  },
} as const;

/** The adlabels naming each cut in a video creative's asset feed. */
export const META_VIDEO_LABELS = { feed: 'adloop_feed', vertical: 'adloop_vertical' } as const;

/** What Meta says of the ad account (read once per client). */
export interface MetaAccountInfo {
  accountId: string;
  currency: string;
  timeZone: string;
  /** account_status: 1 ACTIVE, 2 DISABLED, 3 UNSETTLED, ... (AdAccount reference). */
  status: number;
}

/** One ad's day; `spendMicros` is in micros of `currency`, the ad account's currency. */
export interface MetaInsightRow extends DeliveryCounts {
  adId: string;
  adName: string;
  date: string;
  currency: string;
}

export interface MetaAds {
  /** The ad account's currency and time zone (its reports' days are calendar days there). */
  describeAccount(): Promise<MetaAccountInfo>;
  uploadImage(bytes: Buffer, name: string): Promise<{ hash: string }>;
  /**
   * Resumable (chunked) video upload, titled `name` from its start phase on (so findVideos finds
   * it even when a later answer was lost); resolves once the platform has the whole file. The
   * video then processes: see waitForVideos.
   */
  uploadVideo(bytes: Buffer, name: string): Promise<{ videoId: string }>;
  /** An ad video's processing state (GET /<video>?fields=status). */
  videoStatus(videoId: string): Promise<MetaVideoState>;
  /** The account's videos titled `title` (GET act_<id>/advideos?title=), with their state. */
  findVideos(title: string): Promise<MetaVideoState[]>;
  /**
   * Waits for videos to process, reading their status with backoff (videoPollMs) for at most
   * videoTimeoutMs: each video's ready state, or why it cannot be used, naming the video and the
   * phase that failed (invalid: processing failed, the video expired) or that did not end in time
   * (transient). `onWait` is told how many still process after each round of reads.
   */
  waitForVideos(
    videoIds: string[],
    o?: { onWait?: (pending: number) => void },
  ): Promise<Map<string, MetaVideoState | PlatformError>>;
  /** The thumbnails Meta made of a processed video (GET /<video>/thumbnails), preferred first. */
  videoThumbnails(videoId: string): Promise<MetaVideoThumbnail[]>;
  /** Params of a placement-customised video creative for createMany. */
  videoCreativeParams(p: MetaVideoCreativeSpec): Record<string, unknown>;
  /** Points an ad at another creative (POST /<ad> creative); Meta reviews the ad again. */
  setAdCreative(adId: string, creativeId: string): Promise<void>;
  /** The first object of that exact name that is not deleted, or null. */
  findByName(
    kind: 'campaigns' | 'adsets' | 'adcreatives' | 'ads',
    name: string,
  ): Promise<{ id: string; status?: string } | null>;
  /**
   * Every campaign or ad set of that exact name that is not deleted (Meta allows duplicate names,
   * so a create that landed after its look-up leaves two), with an ad set's campaign.
   */
  findAllByName(
    kind: 'campaigns' | 'adsets',
    name: string,
  ): Promise<Array<{ id: string; status?: string; campaignId?: string }>>;
  /** An OUTCOME_APP_PROMOTION campaign, created PAUSED. */
  createCampaign(p: { name: string }): Promise<string>;
  /** An app-install ad set, created PAUSED. */
  createAdSet(p: MetaAdSetSpec): Promise<string>;
  /**
   * Sets an ad set's daily budget, in ISO minor units of the account's currency (converted like
   * createAdSet's), from now on. Sending it again sets the same budget.
   */
  setAdSetBudget(adsetId: string, dailyBudgetMinor: number): Promise<void>;
  /** An ad set's daily budget in ISO minor units of the account's currency. */
  adSetBudgetMinor(adsetId: string): Promise<number>;
  createCreative(p: MetaCreativeSpec): Promise<string>;
  createAd(p: { name: string; adsetId: string; creativeId: string }): Promise<string>;
  setAdStatus(adId: string, status: 'ACTIVE' | 'PAUSED' | 'ARCHIVED'): Promise<void>;
  /** An ad set's or campaign's status and the status it effectively has. */
  readStatus(id: string): Promise<{ status: string; effectiveStatus: string }>;
  /**
   * What the client's own token is (debug_token): valid, when it expires (null: never), its
   * permissions. For `adloop check`.
   */
  debugToken(): Promise<{ valid: boolean; expiresAt: string | null; scopes: string[] }>;
  /** A page the token can read (the page ads run as), for `adloop check`. */
  page(pageId: string): Promise<{ id: string; name: string }>;
  /** The promoted app and the store URLs it is registered with, for `adloop check`. */
  application(appId: string): Promise<{ id: string; storeUrls: string[] }>;
  /** The app events the app has logged (app_event_types), for `adloop check`. */
  appEvents(appId: string): Promise<string[]>;
  /** Every ad of an ad set (archived ones included), with its review outcome. */
  listAds(adsetId: string): Promise<MetaAdRow[]>;
  /** Objects of the account whose name contains `text`, all pages (with an ad set's campaign). */
  listByName(
    kind: 'campaigns' | 'adsets' | 'adcreatives' | 'ads',
    text: string,
  ): Promise<Array<{ id: string; name: string; status?: string; campaignId?: string }>>;
  /**
   * Creates ad creatives or ads in batch requests of at most 50 calls (fewer when the account's
   * usage leaves less room). Results are in the order of `items`; a failed call does not stop the
   * others. A batch whose answer is lost throws: the caller looks up what was created.
   */
  createMany(
    edge: 'adcreatives' | 'ads',
    items: Array<Record<string, unknown>>,
  ): Promise<BatchResult[]>;
  /** Sets the status of many ads in batch requests, like createMany. */
  setStatuses(
    ids: string[],
    status: 'ACTIVE' | 'PAUSED' | 'ARCHIVED' | 'DELETED',
  ): Promise<BatchResult[]>;
  /** Params of an ad creative for createMany (what createCreative sends). */
  creativeParams(p: MetaCreativeSpec): Record<string, unknown>;
  /** Params of an ad for createMany (what createAd sends): created PAUSED. */
  adParams(p: { name: string; adsetId: string; creativeId: string }): Record<string, unknown>;
  /** Time spent waiting on the account's usage so far, in ms. */
  readonly throttleWaitMs: number;
  /** Daily per-ad delivery over [since, until]; of one ad set when `adsetId` is given. */
  insights(range: { since: string; until: string; adsetId?: string }): Promise<MetaInsightRow[]>;
}

const INSTALL = 'mobile_app_install';
const REGISTRATION = 'app_custom_event.fb_mobile_complete_registration';
/** The app's Subscribe standard event, as app events report it. */
const SUBSCRIPTION = 'app_custom_event.Subscribe';
const THROTTLE_CODES = new Set([4, 17, 32, 613, 80000, 80003, 80004, 80014]);
const AUTH_CODES = new Set([102, 104, 190, 200, 10]);

type ApiCall = (
  method: string,
  path: string | string[],
  params?: object,
  files?: object,
  multipart?: boolean,
  urlOverride?: string,
) => Promise<unknown>;

type Headers = Record<string, unknown> | null | undefined;

/**
 * Wraps one SDK api instance's `call`, through which every request of the SDK goes:
 * - points it at `graphUrl`: the SDK reads its base URL from a static getter; instead of
 *   redefining that process-wide, every call passes the base as the SDK's own `urlOverride`, so
 *   two clients (say, two sandboxes in one test) never interfere;
 * - paces it by the account's usage (a batch counts as all of its calls) and feeds the governor
 *   every X-Business-Use-Case-Usage header, of answers and errors alike;
 * - reports each answer's x-fb-request-id to the current request log (for the audit);
 * - fails it after `timeoutMs` without an answer (the SDK has no timeout of its own).
 */
function instrument(
  api: object,
  graphUrl: string,
  governor: UsageGovernor | null,
  timeoutMs: number,
  tries: number = REQUEST_TRIES,
) {
  const base = graphUrl.replace(/\/+$/, '');
  (api as { setShowHeader(flag: boolean): unknown }).setShowHeader(true);
  const target = api as { call: ApiCall };
  const original = target.call.bind(api);
  const observe = (headers: Headers, calls: number) => {
    // Every request ends its reservation, answered or not: one that timed out or lost its
    // connection has no headers, and leaving its calls reserved would shrink the room for good
    // (a long-lived worker then waits minutes before every call).
    if (!headers) {
      governor?.observe(undefined, calls);
      return;
    }
    governor?.observe(headers['x-business-use-case-usage'], calls);
    noteRequest(headers['x-fb-request-id'] as string | undefined);
  };
  const once: ApiCall = async (method, path, params, files, multipart, urlOverride) => {
    // A batch's calls were reserved by runBatch, which sized it to what usage allows.
    const batch = (params as { batch?: unknown } | undefined)?.batch;
    const calls = Array.isArray(batch) ? batch.length : 1;
    if (!Array.isArray(batch)) await governor?.reserve(1);
    const sentAt = governor?.stamp();
    try {
      const res = await withTimeout(
        original(method, path, params, files, multipart, urlOverride || base),
        timeoutMs,
        method === 'GET' ? 0 : timeoutMs,
      );
      if (res && typeof res === 'object' && 'headers' in res) {
        observe((res as { headers: Headers }).headers, calls);
        delete (res as { headers?: unknown }).headers;
      }
      governor?.succeeded();
      return res;
    } catch (err) {
      observe((err as SdkError).headers, calls);
      const e = toPlatformError(err);
      if (e.kind === 'throttled') governor?.throttled(e.retryAfterMs, sentAt);
      throw err;
    }
  };
  // GETs and repeatable POSTs may be sent again after a transient failure; a throttled request of
  // any kind was not carried out (withRequestRetry). A throttled one also waits for the
  // governor's pause (the next `once` reserves after it).
  target.call = (method, path, params, files, multipart, urlOverride) =>
    withRequestRetry(() => once(method, path, params, files, multipart, urlOverride), {
      idempotent: method === 'GET' || REPEATABLE_EDGES.has(edgeOf(path)),
      toError: toPlatformError,
      tries,
    });
}

/**
 * Edges whose POST leaves one result however often it is sent, so a lost answer is simply sent
 * again: adimages is content-addressed (the same bytes answer with the same hash: AdImage's
 * `hash`), so uploading twice leaves one image.
 */
const REPEATABLE_EDGES = new Set(['adimages']);

/** The edge a Graph API path ends in (`adimages` of `['act_1', 'adimages']`). */
function edgeOf(path: string | string[]): string {
  const last = Array.isArray(path) ? (path.at(-1) ?? '') : path;
  return last.replace(/\/+$/, '').split('/').at(-1) ?? '';
}

/** A request that got no answer in `ms`: transient, and like a lost answer it has no status. */
function timedOut(ms: number): PlatformError {
  return new PlatformError('meta', 'transient', `request timed out after ${ms} ms`);
}

/**
 * `request`'s outcome, or a timedOut error once `ms` have passed without one. The SDK gives no
 * handle to abort its request, so it is left to end on its own.
 *
 * A write that timed out may still be carried out, even after deploy has looked its objects up
 * by name to create what is missing (createMissing in activities/deploy/target.ts): a late write
 * would then make a duplicate. So a write gets `graceMs` more to settle, and its real outcome
 * (the new object's id, or its error) is used when it comes; only a write silent for both is
 * given up on, and the audit records it as lost. A read's late outcome is simply ignored.
 */
async function withTimeout<T>(request: Promise<T>, ms: number, graceMs = 0): Promise<T> {
  const within = async (limit: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut(ms)), limit);
    });
    try {
      return await Promise.race([request, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    return await within(ms);
  } catch (err) {
    if (graceMs <= 0 || !(err instanceof PlatformError) || err.message !== timedOut(ms).message)
      throw err;
    return within(graceMs);
  }
}

/** URL-encodes a batch call's params: the SDK's batch joins `key=value` without encoding. */
function batchParams(params: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [
      k,
      encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v)),
    ]),
  );
}

/** A batch item's error as a PlatformError (its headers come as [{name, value}]). */
function batchError(res: { body?: unknown; status?: unknown; headers?: unknown }): PlatformError {
  const body = res.body as { error?: SdkError['response'] } | undefined;
  const headers = Array.isArray(res.headers)
    ? Object.fromEntries(
        (res.headers as Array<{ name: string; value: string }>).map((h) => [
          h.name.toLowerCase(),
          h.value,
        ]),
      )
    : null;
  return toPlatformError({
    status: typeof res.status === 'number' ? res.status : null,
    response: body?.error ?? null,
    headers,
    message: 'batch call failed',
  });
}

interface SdkError {
  name?: string;
  message?: string;
  status?: number | null;
  response?: { code?: number; message?: string; is_transient?: boolean } | null;
  headers?: Record<string, unknown> | null;
}

/**
 * Minutes until the ad account regains access, from X-Business-Use-Case-Usage
 * (`{"<account>": [{"estimated_time_to_regain_access": m, ...}]}`); null when absent.
 */
export function regainAccessMs(headers: Record<string, unknown> | null | undefined): number | null {
  const raw = headers?.['x-business-use-case-usage'];
  if (typeof raw !== 'string') return null;
  try {
    const usage = JSON.parse(raw) as Record<
      string,
      Array<{ estimated_time_to_regain_access?: number }>
    >;
    const minutes = Math.max(
      0,
      ...Object.values(usage)
        .flat()
        .map((u) => u.estimated_time_to_regain_access ?? 0),
    );
    return minutes > 0 ? minutes * 60_000 : null;
  } catch {
    return null;
  }
}

/** Maps an SDK/axios failure to a PlatformError without the URL (it holds the token). */
export function toPlatformError(err: unknown): PlatformError {
  if (err instanceof PlatformError) return err;
  const e = err as SdkError;
  const status = typeof e.status === 'number' ? e.status : null;
  const code = typeof e.response?.code === 'number' ? e.response.code : null;
  const message = redact(e.response?.message ?? e.message ?? String(err));
  let kind: PlatformError['kind'];
  if (code !== null && AUTH_CODES.has(code)) kind = 'auth';
  else if (code !== null && THROTTLE_CODES.has(code)) kind = 'throttled';
  else if (status === 429) kind = 'throttled';
  else if (status === null || status >= 500 || e.response?.is_transient) kind = 'transient';
  else if (code === 100 || (status >= 400 && status < 500)) kind = 'invalid';
  else kind = 'transient';
  const retryAfterMs = kind === 'throttled' ? regainAccessMs(e.headers) : null;
  return new PlatformError('meta', kind, message, code, status, retryAfterMs);
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toPlatformError(err);
  }
}

type SdkCursor = Array<{ _data: Record<string, unknown> }> & {
  hasNext(): boolean;
  next(): Promise<SdkCursor>;
};

async function collect(first: Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  let cursor = (await first) as SdkCursor;
  const out = cursor.map((o) => o._data);
  while (cursor.hasNext()) {
    cursor = await cursor.next();
    out.push(...cursor.map((o) => o._data));
  }
  return out;
}

const num = (v: unknown) => (v === undefined || v === null ? 0 : Number(v));

/** A scalar Graph value as text; anything else as empty. */
const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** A video's state from its Graph fields (id, title, status: VideoStatus.json). */
function videoState(r: Record<string, unknown>): MetaVideoState {
  const status = (r.status ?? {}) as Record<string, unknown>;
  const phase = (v: unknown): MetaVideoPhase | null => {
    if (typeof v !== 'object' || v === null) return null;
    const p = v as { status?: unknown; errors?: unknown };
    const errors = Array.isArray(p.errors)
      ? (p.errors as Array<{ code?: unknown; message?: unknown }>).map((e) => ({
          code: Number(e.code ?? 0),
          message: text(e.message),
        }))
      : [];
    return { status: text(p.status), errors };
  };
  return {
    videoId: text(r.id),
    title: typeof r.title === 'string' ? r.title : null,
    videoStatus: text(status.video_status),
    uploadingPhase: phase(status.uploading_phase),
    processingPhase: phase(status.processing_phase),
    publishingPhase: phase(status.publishing_phase),
  };
}

const PHASES = [
  ['uploading_phase', 'uploadingPhase'],
  ['processing_phase', 'processingPhase'],
  ['publishing_phase', 'publishingPhase'],
] as const;

/**
 * Whether a video's upload was finished: its whole file received (uploading_phase complete) and
 * its processing begun or ended. A resumable upload whose finish phase never landed has the first
 * without the second, and never processes.
 */
export function uploadFinished(s: MetaVideoState): boolean {
  return (
    s.uploadingPhase?.status === 'complete' &&
    s.processingPhase !== null &&
    s.processingPhase.status !== 'not_started'
  );
}

/** How a video names itself in errors: its id and, when it has one, its title. */
const videoName = (s: MetaVideoState | null, id: string) =>
  s?.title ? `video ${id} ("${s.title}")` : `video ${id}`;

/**
 * Why a video cannot be used, when it cannot: a phase that failed (its errors), or a video_status
 * of error or expired. Not retryable: the same file processes the same way again.
 */
export function videoProblem(s: MetaVideoState): PlatformError | null {
  const failed = PHASES.find(([, key]) => s[key]?.status === 'error');
  if (!failed && s.videoStatus !== 'error' && s.videoStatus !== 'expired') return null;
  const errors = failed
    ? s[failed[1]]!.errors.map((e) => `${e.message} (code ${e.code})`).join('; ')
    : '';
  const where = failed ? `failed in ${failed[0]}` : `is ${s.videoStatus}`;
  return new PlatformError(
    'meta',
    'invalid',
    `${videoName(s, s.videoId)} ${where}${errors ? `: ${errors}` : ''} (video_status ${s.videoStatus})`,
  );
}

/** A video still processing when the wait ended: transient, naming the phase it is in. */
function stillProcessing(id: string, s: MetaVideoState | null, timeoutMs: number): PlatformError {
  const phases = s
    ? PHASES.flatMap(([name, key]) => (s[key] ? [`${name} ${s[key].status}`] : [])).join(', ')
    : 'status never read';
  return new PlatformError(
    'meta',
    'transient',
    `${videoName(s, id)} still processing after ${Math.round(timeoutMs / 1000)} s (${phases})`,
  );
}

/** An SDK api instance for `graphUrl` (crash reporter off), for SDK features beyond MetaAds. */
export function createGraphApi(
  config: Pick<MetaAdsConfig, 'graphUrl' | 'accessToken' | 'requestTimeoutMs' | 'requestTries'>,
  governor: UsageGovernor | null = null,
) {
  // Third argument false: no crash reporter (see header).
  const api = new FacebookAdsApi(config.accessToken, 'en_US', false);
  instrument(
    api,
    config.graphUrl,
    governor,
    config.requestTimeoutMs ?? DEFAULT_META_REQUEST_TIMEOUT_MS,
    config.requestTries,
  );
  return api;
}

/** Reads an ad's review outcome from effective_status and ad_review_feedback. */
function reviewOf(row: Record<string, unknown>): { review: ReviewState; reason: string | null } {
  const effective = typeof row.effective_status === 'string' ? row.effective_status : '';
  if (effective === 'PENDING_REVIEW' || effective === 'IN_PROCESS')
    return { review: 'pending', reason: null };
  if (effective !== 'DISAPPROVED') return { review: 'approved', reason: null };
  const feedback = row.ad_review_feedback as { global?: Record<string, string> } | undefined;
  const reasons = Object.entries(feedback?.global ?? {}).map(([policy, text]) =>
    text ? `${policy}: ${text}` : policy,
  );
  return { review: 'rejected', reason: reasons.join('; ') || 'disapproved (no reason given)' };
}

/**
 * Posts one multipart request to the account's advideos edge. The SDK's own VideoUploader cannot
 * be used: in facebook-nodejs-business-sdk 24.0.1 its multipart path deletes the request body
 * (http.js drops `options.data` when files are present), so every chunk would arrive empty. The
 * token goes in the body, never the URL, so no error or log line can carry it.
 */
async function postVideoPhase(config: MetaAdsConfig, fields: Record<string, string | Blob>) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string') form.append(k, v);
    else form.append(k, v, 'chunk.mp4');
  }
  form.append('access_token', config.accessToken);
  const base = config.graphUrl.replace(/\/+$/, '');
  const timeoutMs = config.requestTimeoutMs ?? DEFAULT_META_REQUEST_TIMEOUT_MS;
  const signal = requestSignal(timeoutMs);
  let res: Response;
  let body: Record<string, unknown> | null;
  try {
    res = await fetch(`${base}/${FacebookAdsApi.VERSION}/${config.adAccountId}/advideos`, {
      method: 'POST',
      body: form,
      signal,
    });
    body = (await res.json().catch((err: unknown) => {
      if (signal.aborted) throw err;
      return null;
    })) as Record<string, unknown> | null;
  } catch (err) {
    if (signal.aborted) throw timedOut(timeoutMs);
    throw new PlatformError(
      'meta',
      'transient',
      `video upload request failed: ${(err as Error).message}`,
    );
  }
  const error = body?.error as SdkError['response'] | undefined;
  if (!res.ok || error || !body) {
    throw toPlatformError({
      status: res.status,
      response: error ?? null,
      message: `HTTP ${res.status}`,
    });
  }
  return body;
}

export function createMetaAds(config: MetaAdsConfig): MetaAds {
  const governor = config.governor === null ? null : new UsageGovernor(config.governor ?? {});
  const api = createGraphApi(config, governor);

  /**
   * Runs calls as batch requests of at most 50 (fewer when usage leaves less room), each answered
   * in order. Items without an answer (the SDK hands those back for a retry) count as transient.
   */
  async function runBatch(
    calls: Array<{ method: 'POST'; path: string[]; params: Record<string, unknown> }>,
  ): Promise<BatchResult[]> {
    const out: BatchResult[] = [];
    for (let i = 0; i < calls.length;) {
      const size = governor
        ? await governor.reserve(Math.min(META_MAX_BATCH, calls.length - i))
        : Math.min(META_MAX_BATCH, calls.length - i);
      const chunk = calls.slice(i, i + size);
      const results: BatchResult[] = chunk.map(() => ({
        error: new PlatformError('meta', 'transient', 'batch call got no answer'),
      }));
      const batch = new FacebookAdsApiBatch(api);
      const sentAt = governor?.stamp();
      chunk.forEach((c, j) =>
        batch.add(
          c.method,
          c.path,
          batchParams(c.params),
          undefined,
          (res: { body?: { id?: string | number } }) => {
            // Creates answer their new id; updates answer {success: true} for the path's object.
            results[j] = { id: String(res.body?.id ?? c.path[0]) };
          },
          (res: { body?: unknown; status?: unknown; headers?: unknown }) => {
            const error = batchError(res);
            if (error.kind === 'throttled') governor?.throttled(error.retryAfterMs, sentAt);
            results[j] = { error };
          },
        ),
      );
      try {
        await call(() => batch.execute() as Promise<unknown>);
      } catch (err) {
        // A lost or failed batch fails only its own calls; the caller looks up what it did.
        if (!(err instanceof PlatformError) || !err.retryable) throw err;
        results.fill({ error: err });
      }
      out.push(...results);
      i += size;
    }
    return out;
  }

  /**
   * Large insight ranges run as async report jobs, as Meta advises: start the job, poll its
   * status with backoff until `Job Completed`, then page through its rows.
   */
  async function asyncReport(
    source: { getInsightsAsync(fields: string[], params: object): Promise<unknown> },
    fields: string[],
    params: Record<string, unknown>,
  ) {
    const started = (await source.getInsightsAsync([], {
      ...params,
      fields: fields.join(','),
    })) as {
      _data: { report_run_id?: string; id?: string };
    };
    const id = started._data.report_run_id ?? started._data.id;
    if (!id)
      throw new PlatformError('meta', 'transient', 'async insights returned no report_run_id');
    // The SDK's AdReportRun constructor ignores its arguments except data.report_run_id (24.0.1),
    // so the api instance is attached by hand.
    const run = new AdReportRun(id, { report_run_id: id });
    (run as unknown as { _api: unknown })._api = api;
    const deadline = Date.now() + (config.reportTimeoutMs ?? 600_000);
    for (let wait = config.reportPollMs ?? 1000; ; wait = Math.min(wait * 2, 10_000)) {
      const status = (await run.get(['async_status', 'async_percent_completion'])) as unknown as {
        _data: { async_status?: string };
      };
      const state = status._data.async_status;
      if (state === 'Job Completed') break;
      if (state === 'Job Failed' || state === 'Job Skipped') {
        throw new PlatformError(
          'meta',
          'transient',
          `async insights report ${state.toLowerCase()}`,
        );
      }
      if (Date.now() > deadline)
        throw new PlatformError('meta', 'transient', 'async insights report timed out');
      await pause(wait);
    }
    return collect(run.getInsights(fields, { limit: 500 }) as Promise<unknown>);
  }
  const account = new AdAccount(config.adAccountId, {}, undefined, api);

  /** Objects of an edge of the account filtered on their name, all pages. */
  function byName(
    kind: 'campaigns' | 'adsets' | 'adcreatives' | 'ads',
    operator: 'EQUAL' | 'CONTAIN',
    value: string,
  ): Promise<Array<{ id: string; name: string; status?: string; campaignId?: string }>> {
    return call(async () => {
      const fields = [
        'id',
        'name',
        ...(kind === 'adcreatives' ? [] : ['status']),
        ...(kind === 'adsets' ? ['campaign_id'] : []),
      ];
      const params = { filtering: [{ field: 'name', operator, value }], limit: 200 };
      const edge = {
        campaigns: () => account.getCampaigns(fields, params),
        adsets: () => account.getAdSets(fields, params),
        adcreatives: () => account.getAdCreatives(fields, params),
        ads: () => account.getAds(fields, params),
      }[kind];
      return (await collect(edge() as Promise<unknown>)).map((r) => ({
        id: String(r.id),
        name: typeof r.name === 'string' ? r.name : '',
        ...(typeof r.status === 'string' ? { status: r.status } : {}),
        ...(typeof r.campaign_id === 'string' || typeof r.campaign_id === 'number'
          ? { campaignId: String(r.campaign_id) }
          : {}),
      }));
    });
  }

  /** Objects of exactly that name that are not deleted (Graph's EQUAL filter, then checked). */
  async function named(kind: 'campaigns' | 'adsets' | 'adcreatives' | 'ads', name: string) {
    return (await byName(kind, 'EQUAL', name)).filter(
      (r) => r.name === name && r.status !== 'DELETED',
    );
  }

  /**
   * An app install ad links to the promoted store listing with an install call to action, and
   * opens the app at `appLink` when it is installed (Meta: "The ad creative must link to the
   * specified object_store_url",
   * https://developers.facebook.com/docs/marketing-api/reference/ad-promoted-object/).
   */
  function creativeParams(p: MetaCreativeSpec): Record<string, unknown> {
    return {
      name: p.name,
      object_story_spec: {
        page_id: config.pageId,
        link_data: {
          image_hash: p.imageHash,
          link: p.storeUrl,
          message: p.message,
          name: p.headline,
          call_to_action: {
            type: 'INSTALL_MOBILE_APP',
            value: { link: p.storeUrl, app_link: p.appLink },
          },
        },
      },
    };
  }

  /**
   * A video app install creative with placement asset customisation
   * (https://developers.facebook.com/docs/marketing-api/dynamic-creative/placement-asset-customization):
   * the page story names only the page, and the assets are an asset feed (AdAssetFeedSpec.json)
   * of one format, SINGLE_VIDEO, holding both cuts, each labelled (adlabels), and two rules
   * (asset_customization_rules: "every asset_feed_spec needs to have more than one customization
   * rule"), each a customization_spec of platforms and positions and the video_label it shows
   * there. Each video carries its thumbnail (AdAssetFeedSpecVideo.json thumbnail_hash or
   * thumbnail_url: Meta refuses a video without one, subcode 1443226). The store link and the
   * deep link are the feed's link URL (AdAssetFeedSpecLinkURL.json website_url, deeplink_url) and
   * its install call to action (call_to_action_types, AdAssetFeedSpec_call_to_action_types),
   * as the still creative's link_data carries them.
   */
  function videoCreativeParams(p: MetaVideoCreativeSpec): Record<string, unknown> {
    const video = (v: MetaCreativeVideo, label: string) => ({
      video_id: v.videoId,
      ...(v.thumbnailHash ? { thumbnail_hash: v.thumbnailHash } : {}),
      ...(!v.thumbnailHash && v.thumbnailUrl ? { thumbnail_url: v.thumbnailUrl } : {}),
      adlabels: [{ name: label }],
    });
    const rule = (cut: 'feed' | 'vertical', priority: number) => ({
      customization_spec: {
        publisher_platforms: ['facebook', 'instagram'],
        facebook_positions: [...META_VIDEO_PLACEMENTS[cut].facebook_positions],
        instagram_positions: [...META_VIDEO_PLACEMENTS[cut].instagram_positions],
      },
      video_label: { name: META_VIDEO_LABELS[cut] },
      priority,
    });
    return {
      name: p.name,
      object_story_spec: { page_id: config.pageId },
      asset_feed_spec: {
        ad_formats: ['SINGLE_VIDEO'],
        videos: [
          video(p.feed, META_VIDEO_LABELS.feed),
          video(p.vertical, META_VIDEO_LABELS.vertical),
        ],
        bodies: [{ text: p.message }],
        titles: [{ text: p.headline }],
        link_urls: [{ website_url: p.storeUrl, deeplink_url: p.appLink }],
        call_to_action_types: ['INSTALL_MOBILE_APP'],
        asset_customization_rules: [rule('feed', 1), rule('vertical', 2)],
      },
    };
  }

  /** A video's state (GET /<video>?fields=id,title,status). */
  async function readVideo(videoId: string): Promise<MetaVideoState> {
    const r = await api.call<Record<string, unknown>>('GET', [videoId], {
      fields: 'id,title,status',
    });
    return videoState({ ...r, id: r.id ?? videoId });
  }

  function adParams(p: { name: string; adsetId: string; creativeId: string }) {
    return {
      name: p.name,
      adset_id: p.adsetId,
      creative: { creative_id: p.creativeId },
      // Nothing spends before deploy switches the ad set on (DeployTarget.activateAdSet).
      status: 'PAUSED',
    };
  }

  let accountInfo: Promise<MetaAccountInfo> | null = null;
  /** The account's currency, time zone and status, read once per client. */
  function describeAccount(): Promise<MetaAccountInfo> {
    accountInfo ??= call(async () => {
      const a = (await account.read([
        'currency',
        'timezone_name',
        'account_status',
      ])) as unknown as {
        _data: { currency?: string; timezone_name?: string; account_status?: number };
      };
      const { currency, timezone_name: timeZone, account_status: status } = a._data;
      if (!currency || !timeZone)
        throw new PlatformError('meta', 'transient', 'ad account without currency or time zone');
      return { accountId: config.adAccountId, currency, timeZone, status: Number(status ?? 0) };
    }).catch((err: unknown) => {
      accountInfo = null; // a failed read is tried again next time
      throw err;
    });
    return accountInfo;
  }

  return {
    // POST adimages is repeatable (REPEATABLE_EDGES): the request layer sends a lost one again.
    uploadImage: (bytes, name) =>
      call(async () => {
        // POST adimages takes `bytes` (and copy_from) only (AdAccount.json); the image is known
        // by its hash, so `name` only labels the upload here.
        void name;
        const res = (await account.createAdImage([], {
          bytes: bytes.toString('base64'),
        })) as unknown as {
          _data: { images?: Record<string, { hash: string }> };
        };
        const image = Object.values(res._data.images ?? {})[0];
        if (!image?.hash)
          throw new PlatformError('meta', 'transient', 'image upload returned no hash');
        return { hash: image.hash };
      }),

    describeAccount,

    uploadVideo: (bytes, name) =>
      call(async () => {
        const start = await postVideoPhase(config, {
          upload_phase: 'start',
          file_size: String(bytes.length),
          title: name,
        });
        const session = String(start.upload_session_id);
        const videoId = String(start.video_id);
        let from = Number(start.start_offset);
        let to = Number(start.end_offset);
        // The server names each next chunk; a resent chunk is acknowledged, never appended twice,
        // so a chunk whose answer was lost is simply sent again.
        while (from < to) {
          const chunk = { from, to };
          const next = await withRequestRetry(
            () =>
              postVideoPhase(config, {
                upload_phase: 'transfer',
                upload_session_id: session,
                start_offset: String(chunk.from),
                video_file_chunk: new Blob([bytes.subarray(chunk.from, chunk.to)]),
              }),
            { idempotent: true, toError: toPlatformError, tries: config.requestTries },
          );
          from = Number(next.start_offset);
          to = Number(next.end_offset);
        }
        try {
          await postVideoPhase(config, {
            upload_phase: 'finish',
            upload_session_id: session,
            title: name,
          });
        } catch (err) {
          // A finish whose answer was lost may have landed: the video says so (it processes).
          // Only then is the upload done.
          if (!(err instanceof PlatformError) || err.kind !== 'transient') throw err;
          const state = await readVideo(videoId).catch(() => null);
          if (!state || !uploadFinished(state)) throw err;
        }
        return { videoId };
      }),

    videoStatus: (videoId) => call(() => readVideo(videoId)),

    findVideos: (title) =>
      call(async () => {
        const rows = await collect(
          account.getAdVideos(['id', 'title', 'status'], { title, limit: 100 }) as Promise<unknown>,
        );
        return rows.filter((r) => r.title === title).map((r) => videoState(r));
      }),

    waitForVideos: (videoIds, o = {}) =>
      call(async () => {
        const out = new Map<string, MetaVideoState | PlatformError>();
        const pending = new Map<string, MetaVideoState | null>(videoIds.map((id) => [id, null]));
        const timeoutMs = config.videoTimeoutMs ?? DEFAULT_META_VIDEO_TIMEOUT_MS;
        const deadline = Date.now() + timeoutMs;
        for (let wait = config.videoPollMs ?? 1000; ; wait = Math.min(wait * 2, 10_000)) {
          for (const id of [...pending.keys()]) {
            const state = await readVideo(id);
            const problem = videoProblem(state);
            if (state.videoStatus === 'ready' || problem) {
              out.set(id, problem ?? state);
              pending.delete(id);
            } else pending.set(id, state);
          }
          o.onWait?.(pending.size);
          if (pending.size === 0) break;
          if (Date.now() + wait > deadline) {
            for (const [id, state] of pending) out.set(id, stillProcessing(id, state, timeoutMs));
            break;
          }
          await pause(wait);
        }
        return out;
      }),

    videoThumbnails: (videoId) =>
      call(async () => {
        const rows = await collect(
          new AdVideo(videoId, {}, undefined, api).getThumbnails(
            ['uri', 'is_preferred', 'width', 'height'],
            { limit: 100 },
          ) as Promise<unknown>,
        );
        const thumbs = rows.flatMap((r) =>
          typeof r.uri === 'string'
            ? [
                {
                  uri: r.uri,
                  isPreferred: r.is_preferred === true,
                  width: typeof r.width === 'number' ? r.width : null,
                  height: typeof r.height === 'number' ? r.height : null,
                },
              ]
            : [],
        );
        // The preferred one first (VideoThumbnail.is_preferred), else in Graph's order.
        return [...thumbs.filter((t) => t.isPreferred), ...thumbs.filter((t) => !t.isPreferred)];
      }),

    videoCreativeParams,

    setAdCreative: async (adId, creativeId) => {
      const [r] = await runBatch([
        { method: 'POST', path: [adId], params: { creative: { creative_id: creativeId } } },
      ]);
      if (r?.error) throw r.error;
    },

    findByName: async (kind, name) => {
      const [match] = await named(kind, name);
      return match ? { id: match.id, status: match.status } : null;
    },

    findAllByName: async (kind, name) =>
      (await named(kind, name)).map((r) => ({
        id: r.id,
        ...(r.status ? { status: r.status } : {}),
        ...(r.campaignId ? { campaignId: r.campaignId } : {}),
      })),

    createCampaign: ({ name }) =>
      call(async () => {
        const c = await account.createCampaign([], {
          name,
          objective: 'OUTCOME_APP_PROMOTION',
          // Required on every new campaign; a music app declares none.
          special_ad_categories: [],
          status: 'PAUSED',
        });
        return String(c.id);
      }),

    createAdSet: ({ name, campaignId, country, dailyBudgetMinor, os, objective, app }) =>
      call(async () => {
        const { currency } = await describeAccount();
        const s = await account.createAdSet([], {
          name,
          campaign_id: campaignId,
          daily_budget: toMetaAmount(dailyBudgetMinor, currency),
          billing_event: 'IMPRESSIONS',
          // Registrations: Meta optimises for the app's CompleteRegistration event.
          optimization_goal: objective === 'registrations' ? 'OFFSITE_CONVERSIONS' : 'APP_INSTALLS',
          promoted_object: {
            application_id: app.applicationId,
            object_store_url: app.storeUrl,
            ...(objective === 'registrations'
              ? { custom_event_type: 'COMPLETE_REGISTRATION' }
              : {}),
          },
          targeting: {
            geo_locations: { countries: [country] },
            user_os: [os === 'ios' ? 'iOS' : 'Android'],
          },
          status: 'PAUSED',
        });
        return String(s.id);
      }),

    setAdSetBudget: (adsetId, dailyBudgetMinor) =>
      call(async () => {
        const { currency } = await describeAccount();
        // POST /<ad set> with daily_budget (AdSet.json POST): the SDK's update sends the ad set's
        // id along, which Graph takes as the node's own.
        await new AdSet(adsetId, {}, undefined, api).update([], {
          daily_budget: toMetaAmount(dailyBudgetMinor, currency),
        });
      }),

    adSetBudgetMinor: (adsetId) =>
      call(async () => {
        const { currency } = await describeAccount();
        const s = (await new AdSet(adsetId, {}, undefined, api).get([
          'daily_budget',
        ])) as unknown as { _data: { daily_budget?: string | number } };
        const amount = s._data.daily_budget;
        // Graph leaves a field without a value out: an ad set on a lifetime budget has none.
        if (amount === undefined || amount === null || amount === '')
          throw new PlatformError('meta', 'invalid', `ad set ${adsetId} has no daily budget`);
        return fromMetaAmount(Number(amount), currency);
      }),

    creativeParams,
    adParams,

    createCreative: (p) =>
      call(async () => String((await account.createAdCreative([], creativeParams(p))).id)),

    createAd: (p) => call(async () => String((await account.createAd([], adParams(p))).id)),

    setAdStatus: async (adId, status) => {
      const [r] = await runBatch([{ method: 'POST', path: [adId], params: { status } }]);
      if (r?.error) throw r.error;
    },

    debugToken: () =>
      call(async () => {
        const r = await api.call<{
          data?: { is_valid?: boolean; expires_at?: number; scopes?: string[] };
        }>('GET', ['debug_token'], { input_token: config.accessToken });
        const expires = r.data?.expires_at ?? 0;
        return {
          valid: r.data?.is_valid === true,
          // expires_at 0 means the token never expires (system user tokens).
          expiresAt: expires > 0 ? new Date(expires * 1000).toISOString() : null,
          scopes: r.data?.scopes ?? [],
        };
      }),

    page: (pageId) =>
      call(async () => {
        const r = await api.call<{ id?: string; name?: string }>('GET', [pageId], {
          fields: 'name',
        });
        return { id: String(r.id ?? pageId), name: String(r.name ?? '') };
      }),

    application: (appId) =>
      call(async () => {
        const r = await api.call<{ id?: string; object_store_urls?: Record<string, unknown> }>(
          'GET',
          [appId],
          { fields: 'name,object_store_urls' },
        );
        const urls = Object.values(r.object_store_urls ?? {}).filter(
          (u): u is string => typeof u === 'string' && u !== '',
        );
        return { id: String(r.id ?? appId), storeUrls: urls };
      }),

    appEvents: (appId) =>
      call(async () => {
        const r = await api.call<{ data?: Array<{ event_name?: string }> }>(
          'GET',
          [appId, 'app_event_types'],
          {},
        );
        return (r.data ?? []).flatMap((e) => (e.event_name ? [e.event_name] : []));
      }),

    readStatus: (id) =>
      call(async () => {
        const r = await api.call<{ status?: string; effective_status?: string }>('GET', [id], {
          fields: 'status,effective_status',
        });
        return { status: String(r.status), effectiveStatus: String(r.effective_status) };
      }),

    setStatuses: (ids, status) =>
      runBatch(ids.map((id) => ({ method: 'POST', path: [id], params: { status } }))),

    createMany: (edge, items) =>
      runBatch(
        items.map((params) => ({ method: 'POST', path: [config.adAccountId, edge], params })),
      ),

    get throttleWaitMs() {
      return governor?.waitedMs ?? 0;
    },

    listByName: async (kind, text) =>
      (await byName(kind, 'CONTAIN', text)).filter((r) => r.name.includes(text)),

    listAds: (adsetId) =>
      call(async () => {
        const rows = await collect(
          new AdSet(adsetId, {}, undefined, api).getAds(
            [
              'id',
              'name',
              'status',
              'effective_status',
              'adset_id',
              'ad_review_feedback',
              'creative{id,name}',
            ],
            // Archived ads are listed too: they still count for the ad's history.
            {
              limit: 200,
              effective_status: [
                'ACTIVE',
                'PAUSED',
                'ARCHIVED',
                'PENDING_REVIEW',
                'DISAPPROVED',
                'ADSET_PAUSED',
                'CAMPAIGN_PAUSED',
                'IN_PROCESS',
                'WITH_ISSUES',
                'PREAPPROVED',
                'PENDING_BILLING_INFO',
              ],
            },
          ) as Promise<unknown>,
        );
        return rows.map((r) => {
          const { review, reason } = reviewOf(r);
          const creative = r.creative as { id?: unknown; name?: unknown } | undefined;
          return {
            id: String(r.id),
            name: String(r.name),
            status: String(r.status),
            effectiveStatus: String(r.effective_status),
            adsetId: String(r.adset_id),
            review,
            reviewReason: reason,
            creativeId: creative?.id === undefined ? null : text(creative.id),
            creativeName: typeof creative?.name === 'string' ? creative.name : null,
          };
        });
      }),

    insights: ({ since, until, adsetId }) =>
      call(async () => {
        const source = adsetId ? new AdSet(adsetId, {}, undefined, api) : account;
        const fields = [
          'ad_id',
          'ad_name',
          'impressions',
          'clicks',
          'spend',
          'account_currency',
          'actions',
        ];
        const params = { level: 'ad', time_range: { since, until }, time_increment: 1, limit: 500 };
        const days = (Date.parse(until) - Date.parse(since)) / 86_400_000 + 1;
        const rows =
          days > (config.asyncInsightsAfterDays ?? 7)
            ? await asyncReport(source, fields, params)
            : await collect(source.getInsights(fields, params) as Promise<unknown>);
        return rows.map((r) => {
          const actions =
            (r.actions as Array<{ action_type: string; value: string }> | undefined) ?? [];
          const action = (t: string) => num(actions.find((a) => a.action_type === t)?.value);
          return {
            adId: String(r.ad_id),
            adName: typeof r.ad_name === 'string' ? r.ad_name : '',
            date: String(r.date_start),
            impressions: num(r.impressions),
            clicks: num(r.clicks),
            // Spend arrives as a decimal string in major units; store integer micros.
            spendMicros: Math.round(num(r.spend) * 1_000_000),
            currency: typeof r.account_currency === 'string' ? r.account_currency : 'USD',
            installs: action(INSTALL),
            registrations: action(REGISTRATION),
            subscriptions: action(SUBSCRIPTION),
          };
        });
      }),
  };
}
