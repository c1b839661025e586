// TikTok Business API client over the official tiktok-business-api-sdk-official. adloop talks to
// TikTok only through this interface, so activities can be tested against the sandbox and the
// SDK's quirks stay here:
// - the SDK is callback-only: every call is wrapped in a promise;
// - each client has its own ApiClient whose basePath is the configured base URL (the SDK's
//   default instance is process-wide, so two clients would otherwise interfere);
// - TikTok answers HTTP 200 with `code != 0` on errors; the SDK turns that into an Error whose
//   message is a formatted string, so we classify from the envelope instead;
// - TikTok sends no rate-limit headers: calls are paced by client-side token buckets;
// - errors never carry the access token (it travels in the Access-Token header; we still scrub it);
// - money: the advertiser's currency comes from advertiser/info (never configured); budgets and
//   spend are major-unit decimals on the wire, converted with core/money.ts (JPY has no minor unit);
// - creates carry a request_id derived from the object's name, so a create sent again after a lost
//   answer is carried out once (TikTok: "a string representation of a 64-bit integer number",
//   Campaign/Create_a_campaign and Ad Groups/Create_an_ad_group reference pages);
// - everything is created DISABLE (paused); deploy switches it on once it is complete.
import type { DeliveryCounts } from '../../core/types.ts';
import { createHash } from 'node:crypto';
import { addDays } from '../../core/dates.ts';
import { fromMinorUnits, minorDigits, minorToMicros, toMinorUnits } from '../../core/money.ts';
import * as tiktok from 'tiktok-business-api-sdk-official';
import type {
  TikTokCallback,
  TikTokEnvelope,
  TikTokHttpResponse,
} from 'tiktok-business-api-sdk-official';
import { redact } from '../../core/redact.ts';
import { PlatformError, withRequestRetry } from '../errors.ts';
import type { ReviewState } from '../../core/types.ts';
import { noteRequest } from '../request-log.ts';
import { countryOfLocationId, locationIdOf } from './locations.ts';
import { TokenBucket, type RateLimit } from './token-bucket.ts';

export interface TikTokAdsConfig {
  /** Base URL without /open_api, e.g. https://business-api.tiktok.com or the sandbox's. */
  baseUrl: string;
  accessToken: string;
  advertiserId: string;
  /**
   * Pacing of all calls. Default 5/s with bursts of 3, under TikTok's usual 10 calls/s quota;
   * null turns pacing off (only to provoke throttling in tests).
   */
  rateLimit?: RateLimit | null;
  /** Extra pacing of /ad/create (TikTok allows about 5/s). Default 2/s with bursts of 2. */
  adCreateRateLimit?: RateLimit | null;
  /** Rows per page when listing. Default 100. */
  pageSize?: number;
  /**
   * Longest one request may take before it fails as a transient PlatformError ("request timed
   * out after N ms"). Default 60000 (DEFAULT_TIKTOK_TIMEOUT_MS).
   */
  timeoutMs?: number;
  /** Tries of one request that may be sent again (see withRequestRetry). Default 4. */
  requestTries?: number;
}

/** Default of TikTokAdsConfig.timeoutMs (the SDK's own default too). */
export const DEFAULT_TIKTOK_TIMEOUT_MS = 60_000;

export const DEFAULT_TIKTOK_RATE: RateLimit = { perSecond: 5, burst: 3 };
export const DEFAULT_TIKTOK_AD_CREATE_RATE: RateLimit = { perSecond: 2, burst: 2 };

export type TikTokAdStatus = 'ENABLE' | 'DISABLE' | 'DELETE';

export interface TikTokAdRow {
  id: string;
  name: string;
  /** operation_status: ENABLE or DISABLE. */
  status: string;
  /** secondary_status, e.g. AD_STATUS_DELIVERY_OK or AD_STATUS_ADGROUP_DISABLE. */
  effectiveStatus: string;
  adGroupId: string;
  /** From secondary_status: AD_STATUS_AUDIT is pending, AD_STATUS_NOT_APPROVE rejected. */
  review: ReviewState;
}

/**
 * Most creatives one ad/create call carries (Ads/Create_ads: "Max size: 20"), most ids one status
 * update takes (Ads/Update_the_statuses_of_ads: "1-20"; Ad Groups/...: "1-20"), and most ads one
 * ad/review_info call asks about (Ad Review/Get_review_info_of_ads: "1-100").
 */
export const TIKTOK_MAX_ADS_PER_CREATE = 20;
export const TIKTOK_MAX_IDS_PER_UPDATE = 20;
export const TIKTOK_MAX_REVIEW_IDS = 100;

/** Who an ad is posted as (ad/create identity_type, identity_id). */
export interface TikTokIdentity {
  type: string;
  id: string;
}

export type TikTokAdCreative = {
  name: string;
  /** The https link the simulator and reports read the content from (utm parameters). */
  landingPageUrl?: string;
  text: string;
  identity: TikTokIdentity;
  /** Opens the app at the artist when installed (ad deeplink). */
  deepLink?: string;
  /** The MMP's click tracking link (ad click_tracking_url). */
  trackingUrl?: string;
  /** Enumeration - Call-to-Action; default INSTALL_NOW (an app install ad). */
  callToAction?: string;
} & TikTokCreative;

/** An app-install ad group: one market, one store's app (operating_systems holds one value). */
export interface TikTokAdGroupSpec {
  name: string;
  campaignId: string;
  country: string;
  /** Daily budget in minor units of the advertiser's currency (see advertiser()). */
  dailyBudget: number;
  os: 'ios' | 'android';
  /** The app's id in the advertiser's app management for that OS. */
  appId: string;
  /** What TikTok optimises for. Default installs. */
  objective?: 'installs' | 'registrations';
}

/** The advertiser as advertiser/info describes it. */
export interface TikTokAdvertiser {
  /** ISO 4217 code: budgets and spend are in it. */
  currency: string;
  /** IANA time zone of the account: report dates are its days. */
  timeZone: string;
  /** e.g. STATUS_ENABLE. */
  status: string;
}

export interface TikTokAdGroup {
  id: string;
  name: string;
  campaignId: string;
  /** ISO alpha-2 market of the first targeted location (null if not a known country). */
  country: string | null;
  /** Daily budget in minor units of the account currency (cents). */
  dailyBudget: number;
  status: string;
}

/** One ad's day; `spendMicros` is in micros of `currency`, the advertiser's currency. */
export interface TikTokInsightRow extends DeliveryCounts {
  adId: string;
  currency: string;
  adName: string;
  adGroupId: string;
  date: string;
}

export type TikTokCreative =
  | { imageId: string; videoId?: undefined; coverImageId?: undefined }
  /** A video ad needs a cover image of the video's aspect ratio (ad/create image_ids). */
  | { videoId: string; coverImageId: string; imageId?: undefined };

export interface TikTokAds {
  uploadImage(
    bytes: Buffer,
    name: string,
  ): Promise<{ imageId: string; width: number; height: number }>;
  uploadVideo(
    bytes: Buffer,
    name: string,
  ): Promise<{ videoId: string; width: number | null; height: number | null }>;
  findByName(
    kind: 'campaign' | 'adgroup' | 'ad',
    name: string,
  ): Promise<{ id: string; status: string } | null>;
  /** currency, time zone and status from advertiser/info, asked once per client. */
  advertiser(): Promise<TikTokAdvertiser>;
  /** The advertiser's identities (identity/get), for `adloop check`. */
  identities(): Promise<Array<{ type: string; id: string }>>;
  /** The apps of the advertiser's app management (app/list), for `adloop check`. */
  apps(): Promise<Array<{ id: string; platform: string }>>;
  /** An app-install campaign, created DISABLE. */
  createCampaign(p: { name: string }): Promise<string>;
  /** An app-install ad group, created DISABLE; the budget in minor units of the currency. */
  createAdGroup(p: TikTokAdGroupSpec): Promise<string>;
  setCampaignStatus(campaignIds: string[], status: 'ENABLE' | 'DISABLE'): Promise<void>;
  /** Several ads in one ad group, in calls of at most 20; ids in the order of `creatives`. */
  createAds(adGroupId: string, creatives: TikTokAdCreative[]): Promise<string[]>;
  /** Sets the status of many ads, in calls of at most 20 ids. */
  setAdStatuses(adIds: string[], status: TikTokAdStatus): Promise<void>;
  setAdGroupStatus(adGroupIds: string[], status: 'ENABLE' | 'DISABLE'): Promise<void>;
  /**
   * Sets an ad group's daily budget, in minor units of the advertiser's currency, from now on
   * (adgroup/update `budget`). Sending it again sets the same budget.
   */
  updateAdGroupBudget(adGroupId: string, dailyBudgetMinor: number): Promise<void>;
  /** Why TikTok's review rejected ads: ad id -> reasons (ads not rejected are absent). */
  rejectReasons(adIds: string[]): Promise<Map<string, string>>;
  getAdGroup(adGroupId: string): Promise<TikTokAdGroup | null>;
  createAd(p: { adGroupId: string } & TikTokAdCreative): Promise<string>;
  setAdStatus(adId: string, status: TikTokAdStatus): Promise<void>;
  /** Every ad of an ad group that is not deleted, all pages. */
  listAds(adGroupId: string): Promise<TikTokAdRow[]>;
  /** Daily per-ad delivery over [since, until]; of one ad group when `adGroupId` is given. */
  insights(range: {
    since: string;
    until: string;
    adGroupId?: string;
  }): Promise<TikTokInsightRow[]>;
}

const THROTTLE_CODES = new Set([40100]);
/** No permission on the advertiser; access token expired, empty, incorrect; user not found. */
const AUTH_CODES = new Set([40001, 40102, 40104, 40105, 40106, 40107]);
/** Days per report request: TikTok caps daily breakdowns at 30 days. */
const REPORT_CHUNK_DAYS = 30;

interface SdkError {
  message?: string;
  status?: number;
  code?: string;
  timeout?: number;
  response?: TikTokHttpResponse;
}

function envelopeOf(value: unknown): TikTokEnvelope | null {
  return typeof value === 'object' && value !== null && 'code' in value
    ? (value as TikTokEnvelope)
    : null;
}

/**
 * Maps an SDK failure to a PlatformError. `envelope` is TikTok's answer when there was one;
 * without it the request failed in transport (network, timeout, non-JSON 5xx).
 */
export function toPlatformError(
  err: unknown,
  envelope: TikTokEnvelope | null,
  httpStatus: number | null,
  secret: string,
): PlatformError {
  if (err instanceof PlatformError) return err;
  const e = (err ?? {}) as SdkError;
  const code = typeof envelope?.code === 'number' ? envelope.code : null;
  // superagent's own timeout error says "Timeout of N ms exceeded"; say it as Meta's client does.
  const message =
    !envelope && typeof e.timeout === 'number'
      ? `request timed out after ${e.timeout} ms`
      : redact(envelope?.message ?? e.message ?? String(err), [secret]);
  let kind: PlatformError['kind'];
  if (code !== null && AUTH_CODES.has(code)) kind = 'auth';
  else if (code !== null && THROTTLE_CODES.has(code)) kind = 'throttled';
  else if (httpStatus === 429) kind = 'throttled';
  else if (httpStatus !== null && httpStatus >= 500) kind = 'transient';
  else if (code !== null && code >= 50000) kind = 'transient';
  else if (code !== null && code >= 40000) kind = 'invalid';
  else if (httpStatus !== null && httpStatus >= 400) kind = 'invalid';
  // No envelope and no HTTP error: the network failed, the call timed out or the answer was not
  // TikTok's JSON. Retrying may help.
  else kind = 'transient';
  return new PlatformError('tiktok', kind, message, code, httpStatus);
}

interface Page<T> {
  list?: T[];
  page_info?: { page?: number; total_page?: number };
}

const num = (v: unknown) => (v === undefined || v === null || v === '-' ? 0 : Number(v));

/** TikTok's `YYYY-MM-DD HH:MM:SS` (UTC). */
function wireTime(d = new Date()): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * The request_id of a create: a 64-bit integer as a string, derived from what is created, so the
 * same create sent again (a retry after a lost answer) carries the same id and is done once.
 */
export function tiktokRequestId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  // 60 bits: always below 2^63, as TikTok's signed 64-bit integer needs.
  return String(BigInt(`0x${hex.slice(0, 15)}`));
}

/** A decimal amount of `currency` from the wire as micros, exactly. */
function micros(amount: unknown, currency: string): number {
  if (amount === undefined || amount === null || amount === '-' || amount === '') return 0;
  const text =
    typeof amount === 'number' ? String(amount) : typeof amount === 'string' ? amount : '0';
  const negative = text.startsWith('-');
  const digits = minorDigits(currency);
  // Report decimals may carry more digits than the currency has (cost metrics): round to them.
  const rounded = Number(negative ? text.slice(1) : text).toFixed(digits);
  const minor = minorToMicros(toMinorUnits(rounded, currency), currency);
  return negative ? -minor : minor;
}

export function createTikTokAds(config: TikTokAdsConfig): TikTokAds {
  const client = new tiktok.ApiClient();
  client.basePath = config.baseUrl.replace(/\/+$/, '');
  // A write that timed out may still have been carried out: deploy looks its objects up by name
  // before creating them again (activities/deploy/target.ts), and audits the write as lost.
  client.timeout = config.timeoutMs ?? DEFAULT_TIKTOK_TIMEOUT_MS;
  const files = new tiktok.FileApi(client);
  const campaigns = new tiktok.CampaignCreationApi(client);
  const adGroups = new tiktok.AdgroupApi(client);
  const ads = new tiktok.AdApi(client);
  const reports = new tiktok.ReportingApi(client);
  const accounts = new tiktok.AccountManagementApi(client);
  const identityApi = new tiktok.IdentityApi(client);
  const appApi = new tiktok.APPManagementApi(client);
  const token = config.accessToken;
  const advertiserId = config.advertiserId;
  const pageSize = config.pageSize ?? 100;
  const pace =
    config.rateLimit === null ? null : new TokenBucket(config.rateLimit ?? DEFAULT_TIKTOK_RATE);
  const paceAdCreate =
    config.adCreateRateLimit === null
      ? null
      : new TokenBucket(config.adCreateRateLimit ?? DEFAULT_TIKTOK_AD_CREATE_RATE);

  /**
   * One SDK call as a promise of the envelope's `data`, tried again on the spot when throttled
   * (40100: not carried out) or, when `repeatable` (a read, a write that sets a state, an upload:
   * doing it twice leaves nothing twice that costs or shows), after a transient failure (see
   * withRequestRetry). A `write` (a create) goes up instead, to be looked up before it is redone.
   */
  function send<T>(
    invoke: (callback: TikTokCallback) => unknown,
    kind: 'repeatable' | 'write' = 'write',
  ): Promise<T> {
    return withRequestRetry(() => sendOnce<T>(invoke), {
      idempotent: kind === 'repeatable',
      toError: (err) => toPlatformError(err, null, null, token),
      ...(config.requestTries ? { tries: config.requestTries } : {}),
    });
  }

  async function sendOnce<T>(invoke: (callback: TikTokCallback) => unknown): Promise<T> {
    await pace?.take();
    return new Promise<T>((resolve, reject) => {
      try {
        invoke((error, data, response) => {
          if (!error) {
            noteRequest(data?.request_id);
            resolve(data?.data as T);
            return;
          }
          // On code != 0 the SDK passes the envelope as `data`; on an HTTP error only the body.
          const envelope = envelopeOf(data) ?? envelopeOf(response?.body);
          noteRequest(envelope?.request_id);
          const status =
            typeof response?.status === 'number'
              ? response.status
              : typeof (error as SdkError).status === 'number'
                ? (error as SdkError).status!
                : null;
          // A 200 whose envelope says code != 0 is not an HTTP error: keep the status out.
          reject(toPlatformError(error, envelope, status === 200 ? null : status, token));
        });
      } catch (err) {
        // The SDK throws synchronously when a required argument is missing.
        const message = err instanceof Error ? err.message : String(err);
        reject(new PlatformError('tiktok', 'invalid', redact(message, [token])));
      }
    });
  }

  /** Every row of a page/page_size listing. */
  async function allPages<T>(fetchPage: (page: number) => Promise<Page<T>>): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; ; page++) {
      const res = await fetchPage(page);
      out.push(...(res.list ?? []));
      if (page >= (res.page_info?.total_page ?? 0)) return out;
    }
  }

  const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

  let advertiserInfo: Promise<TikTokAdvertiser> | null = null;
  /** advertiser/info once per client (a failed ask is asked again next time). */
  function advertiser(): Promise<TikTokAdvertiser> {
    advertiserInfo ??= (async () => {
      const data = await send<{ list?: Array<Record<string, unknown>> }>(
        (cb) =>
          accounts.advertiserInfo(
            [advertiserId],
            token,
            { fields: ['advertiser_id', 'currency', 'timezone', 'status'] },
            cb,
          ),
        'repeatable',
      );
      const row = data?.list?.find((r) => String(r.advertiser_id) === advertiserId);
      if (!row || typeof row.currency !== 'string')
        throw new PlatformError(
          'tiktok',
          'invalid',
          `advertiser/info has no currency for ${advertiserId}`,
        );
      minorDigits(row.currency);
      return {
        currency: row.currency,
        timeZone: typeof row.timezone === 'string' ? row.timezone : 'UTC',
        status: typeof row.status === 'string' ? row.status : '',
      };
    })().catch((err: unknown) => {
      advertiserInfo = null;
      throw err;
    });
    return advertiserInfo;
  }

  async function createAds(adGroupId: string, list: TikTokAdCreative[]): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < list.length; i += TIKTOK_MAX_ADS_PER_CREATE) {
      const chunk = list.slice(i, i + TIKTOK_MAX_ADS_PER_CREATE);
      const creatives = chunk.map((p) => {
        // Ads/Create_ads: identity_type and identity_id, ad_format, ad_text and call_to_action are
        // required; a video ad's image_ids holds its cover (one image, the video's ratio).
        const creative: Record<string, unknown> = {
          ad_name: p.name,
          identity_type: p.identity.type,
          identity_id: p.identity.id,
          ad_text: p.text,
          call_to_action: p.callToAction ?? 'INSTALL_NOW',
          operation_status: 'DISABLE',
        };
        if (p.landingPageUrl) creative.landing_page_url = p.landingPageUrl;
        if (p.deepLink) {
          creative.deeplink = p.deepLink;
          creative.deeplink_type = 'NORMAL';
        }
        if (p.trackingUrl) creative.click_tracking_url = p.trackingUrl;
        if (p.videoId !== undefined) {
          creative.ad_format = 'SINGLE_VIDEO';
          creative.video_id = p.videoId;
          creative.image_ids = [p.coverImageId];
        } else {
          creative.ad_format = 'SINGLE_IMAGE';
          creative.image_ids = [p.imageId];
        }
        return creative;
      });
      await paceAdCreate?.take();
      const data = await send<{ ad_ids?: string[] }>((cb) =>
        ads.adCreate(
          token,
          { body: { advertiser_id: advertiserId, adgroup_id: adGroupId, creatives } },
          cb,
        ),
      );
      if (data?.ad_ids?.length !== chunk.length)
        throw new PlatformError('tiktok', 'transient', 'ad create returned no ad id for some ads');
      ids.push(...data.ad_ids.map(String));
    }
    return ids;
  }

  /** Sets the status of ads, ad groups or campaigns, at most 20 ids per call. */
  async function setStatuses(
    kind: 'ad' | 'adgroup' | 'campaign',
    ids: string[],
    status: TikTokAdStatus,
  ) {
    for (let i = 0; i < ids.length; i += TIKTOK_MAX_IDS_PER_UPDATE) {
      const body = {
        advertiser_id: advertiserId,
        [`${kind}_ids`]: ids.slice(i, i + TIKTOK_MAX_IDS_PER_UPDATE),
        operation_status: status,
      };
      await send(
        (cb) =>
          kind === 'ad'
            ? ads.adStatusUpdate(token, { body }, cb)
            : kind === 'adgroup'
              ? adGroups.adgroupStatusUpdate(token, { body }, cb)
              : campaigns.campaignStatusUpdate(token, { body }, cb),
        // Setting a status twice is harmless; deleting twice is refused, so it is not resent.
        status === 'DELETE' ? 'write' : 'repeatable',
      );
    }
  }

  return {
    advertiser,

    async identities() {
      const data = await send<{ identity_list?: Array<Record<string, unknown>> }>(
        (cb) => identityApi.identityGet(advertiserId, token, { page_size: 100 }, cb),
        'repeatable',
      );
      return (data?.identity_list ?? []).map((i) => ({
        type: String(i.identity_type),
        id: String(i.identity_id),
      }));
    },

    async apps() {
      const data = await send<{ apps?: Array<Record<string, unknown>> }>(
        (cb) => appApi.appList(advertiserId, token, {}, cb),
        'repeatable',
      );
      return (data?.apps ?? []).map((a) => ({
        id: String(a.app_id),
        platform: String(a.platform),
      }));
    },

    // Uploads are repeatable: an image's id is its content's (the same bytes answer with the same
    // image, whatever the file name), and a video uploaded twice is two library videos that no
    // ad uses: neither costs anything nor shows. So a lost answer is simply sent again.
    uploadImage: async (bytes, name) => {
      const data = await send<{ image_id?: string; width?: number; height?: number }>(
        (cb) =>
          files.adImageUpload(
            token,
            {
              advertiser_id: advertiserId,
              upload_type: 'UPLOAD_BY_FILE',
              image_file: bytes,
              image_signature: md5(bytes),
              file_name: name,
            },
            cb,
          ),
        'repeatable',
      );
      if (!data?.image_id)
        throw new PlatformError('tiktok', 'transient', 'image upload returned no image_id');
      return { imageId: data.image_id, width: num(data.width), height: num(data.height) };
    },

    uploadVideo: async (bytes, name) => {
      const data = await send<
        Array<{ video_id?: string; width?: number | null; height?: number | null }>
      >(
        (cb) =>
          files.adVideoUpload(
            token,
            {
              advertiser_id: advertiserId,
              upload_type: 'UPLOAD_BY_FILE',
              video_file: bytes,
              video_signature: md5(bytes),
              file_name: name,
            },
            cb,
          ),
        'repeatable',
      );
      const video = Array.isArray(data) ? data[0] : undefined;
      if (!video?.video_id)
        throw new PlatformError('tiktok', 'transient', 'video upload returned no video_id');
      return { videoId: video.video_id, width: video.width ?? null, height: video.height ?? null };
    },

    findByName: async (kind, name) => {
      // TikTok's name filters match names containing the text; keep only the exact name.
      const nameField = `${kind}_name`;
      const idField = `${kind}_id`;
      const fetchPage = (page: number) =>
        send<Page<Record<string, unknown>>>((cb) => {
          const opts = {
            filtering: { [nameField]: name },
            page,
            page_size: pageSize,
            fields: [idField, nameField, 'operation_status'],
          };
          if (kind === 'campaign') return campaigns.campaignGet(advertiserId, token, opts, cb);
          if (kind === 'adgroup') return adGroups.adgroupGet(advertiserId, token, opts, cb);
          return ads.adGet(advertiserId, token, opts, cb);
        }, 'repeatable');
      const rows = await allPages(fetchPage);
      const match = rows.find((r) => r[nameField] === name);
      return match ? { id: String(match[idField]), status: String(match.operation_status) } : null;
    },

    createCampaign: async ({ name }) => {
      const data = await send<{ campaign_id: string }>((cb) =>
        campaigns.campaignCreate(
          token,
          {
            body: {
              advertiser_id: advertiserId,
              campaign_name: name,
              objective_type: 'APP_PROMOTION',
              app_promotion_type: 'APP_INSTALL',
              // The ad groups hold the budgets (budget_mode is required; INFINITE = none here).
              budget_mode: 'BUDGET_MODE_INFINITE',
              operation_status: 'DISABLE',
              request_id: tiktokRequestId(advertiserId, 'campaign', name),
            },
          },
          cb,
        ),
      );
      return String(data.campaign_id);
    },

    createAdGroup: async ({ name, campaignId, country, dailyBudget, os, appId, objective }) => {
      const locationId = locationIdOf(country);
      if (!locationId)
        throw new PlatformError('tiktok', 'invalid', `no TikTok location id known for ${country}`);
      const { currency } = await advertiser();
      const data = await send<{ adgroup_id: string }>((cb) =>
        adGroups.adgroupCreate(
          token,
          {
            body: {
              advertiser_id: advertiserId,
              campaign_id: campaignId,
              adgroup_name: name,
              // Ad Groups/Create_an_ad_group: an app-install ad group promotes one store's app
              // (promotion_type, app_id, operating_systems with one value) and needs pacing.
              promotion_type: os === 'ios' ? 'APP_IOS' : 'APP_ANDROID',
              app_id: appId,
              operating_systems: [os === 'ios' ? 'IOS' : 'ANDROID'],
              placement_type: 'PLACEMENT_TYPE_NORMAL',
              placements: ['PLACEMENT_TIKTOK'],
              location_ids: [locationId],
              budget_mode: 'BUDGET_MODE_DAY',
              // Major units of the advertiser's currency (JPY and KRW have no minor unit).
              budget: Number(fromMinorUnits(dailyBudget, currency)),
              schedule_type: 'SCHEDULE_FROM_NOW',
              schedule_start_time: wireTime(),
              pacing: 'PACING_MODE_SMOOTH',
              // Registrations: TikTok optimises for the app's registration event.
              ...(objective === 'registrations'
                ? { optimization_goal: 'IN_APP_EVENT', optimization_event: 'ACTIVE_REGISTER' }
                : { optimization_goal: 'INSTALL' }),
              billing_event: 'OCPM',
              bid_type: 'BID_TYPE_NO_BID',
              operation_status: 'DISABLE',
              request_id: tiktokRequestId(advertiserId, 'adgroup', campaignId, name),
            },
          },
          cb,
        ),
      );
      return String(data.adgroup_id);
    },

    updateAdGroupBudget: async (adGroupId, dailyBudgetMinor) => {
      // TikTok checks the amount (its minimum); a fraction of a minor unit cannot be sent at all.
      if (!Number.isSafeInteger(dailyBudgetMinor))
        throw new PlatformError(
          'tiktok',
          'invalid',
          `ad group ${adGroupId}: a daily budget is a whole number of minor units, not ${dailyBudgetMinor}`,
        );
      const { currency } = await advertiser();
      // adgroup/update changes a daily budget at once (Ad Groups/Update_an_ad_group: `budget`);
      // adgroup/budget/update would change it only from the next day (`scheduled_budget`, "from
      // 00:00 a.m. the following day"), and the SDK has no method for it.
      await send(
        (cb) =>
          adGroups.adgroupUpdate(
            token,
            {
              body: {
                advertiser_id: advertiserId,
                adgroup_id: adGroupId,
                // Major units of the advertiser's currency, as createAdGroup sends it.
                budget: Number(fromMinorUnits(dailyBudgetMinor, currency)),
              },
            },
            cb,
          ),
        // Setting a budget twice leaves the same budget.
        'repeatable',
      );
    },

    getAdGroup: async (adGroupId) => {
      const { currency } = await advertiser();
      const res = await send<Page<Record<string, unknown>>>(
        (cb) =>
          adGroups.adgroupGet(
            advertiserId,
            token,
            { filtering: { adgroup_ids: [adGroupId] }, page: 1, page_size: 1 },
            cb,
          ),
        'repeatable',
      );
      const g = res.list?.[0];
      if (!g) return null;
      const location = (g.location_ids as string[] | undefined)?.[0];
      return {
        id: String(g.adgroup_id),
        name: String(g.adgroup_name),
        campaignId: String(g.campaign_id),
        country: location ? countryOfLocationId(location) : null,
        dailyBudget: toMinorUnits(Number(num(g.budget)).toFixed(minorDigits(currency)), currency),
        status: String(g.operation_status),
      };
    },

    createAd: async ({ adGroupId, ...creative }) => {
      const [id] = await createAds(adGroupId, [creative]);
      if (!id) throw new PlatformError('tiktok', 'transient', 'ad create returned no ad id');
      return id;
    },

    createAds,

    setAdStatus: (adId, status) => setStatuses('ad', [adId], status),

    setAdStatuses: (ids, status) => setStatuses('ad', ids, status),

    setAdGroupStatus: (ids, status) => setStatuses('adgroup', ids, status),

    setCampaignStatus: (ids, status) => setStatuses('campaign', ids, status),

    rejectReasons: async (adIds) => {
      const out = new Map<string, string>();
      for (let i = 0; i < adIds.length; i += TIKTOK_MAX_REVIEW_IDS) {
        // The SDK has no method for ad/review_info; its generic callApi still sends the request.
        const data = await send<{
          ad_review_map?: Record<
            string,
            {
              review_status?: string;
              reject_info?: Array<{ reasons?: string[]; suggestion?: string }>;
            }
          >;
        }>(
          (cb) =>
            client.callApi(
              '/open_api/v1.3/ad/review_info/',
              'GET',
              {},
              {
                advertiser_id: advertiserId,
                ad_ids: JSON.stringify(adIds.slice(i, i + TIKTOK_MAX_REVIEW_IDS)),
              },
              { 'Access-Token': token },
              {},
              null,
              [],
              [],
              ['application/json'],
              Object,
              cb,
            ),
          'repeatable',
        );
        for (const [id, info] of Object.entries(data?.ad_review_map ?? {})) {
          if (info.review_status !== 'REJECTED') continue;
          const reasons = (info.reject_info ?? []).flatMap((r) => r.reasons ?? []);
          out.set(id, reasons.join('; ') || 'not approved (no reason given)');
        }
      }
      return out;
    },

    listAds: async (adGroupId) => {
      const rows = await allPages((page) =>
        send<Page<Record<string, unknown>>>(
          (cb) =>
            ads.adGet(
              advertiserId,
              token,
              {
                filtering: { adgroup_ids: [adGroupId] },
                page,
                page_size: pageSize,
                fields: ['ad_id', 'ad_name', 'operation_status', 'secondary_status', 'adgroup_id'],
              },
              cb,
            ),
          'repeatable',
        ),
      );
      return rows.map((r) => {
        const secondary = String(r.secondary_status);
        return {
          id: String(r.ad_id),
          name: String(r.ad_name),
          status: String(r.operation_status),
          effectiveStatus: secondary,
          adGroupId: String(r.adgroup_id),
          review:
            secondary === 'AD_STATUS_AUDIT' || secondary === 'AD_STATUS_REAUDIT'
              ? ('pending' as const)
              : secondary === 'AD_STATUS_NOT_APPROVE'
                ? ('rejected' as const)
                : ('approved' as const),
        };
      });
    },

    insights: async ({ since, until, adGroupId }) => {
      const { currency } = await advertiser();
      const out: TikTokInsightRow[] = [];
      // A daily breakdown covers at most 30 days per request: walk the range in chunks.
      for (let start = since; start <= until; start = addDays(start, REPORT_CHUNK_DAYS)) {
        const last = addDays(start, REPORT_CHUNK_DAYS - 1);
        const end = last < until ? last : until;
        const rows = await allPages((page) =>
          send<Page<{ dimensions: Record<string, string>; metrics: Record<string, string> }>>(
            (cb) =>
              reports.reportIntegratedGet(
                'BASIC',
                token,
                {
                  advertiser_id: advertiserId,
                  data_level: 'AUCTION_AD',
                  dimensions: ['ad_id', 'stat_time_day'],
                  metrics: [
                    'ad_name',
                    'adgroup_id',
                    'spend',
                    'impressions',
                    'clicks',
                    'app_install',
                    'registration',
                    'subscribe',
                  ],
                  start_date: start,
                  end_date: end,
                  filtering: adGroupId
                    ? [
                        {
                          field_name: 'adgroup_ids',
                          filter_type: 'IN',
                          filter_value: JSON.stringify([adGroupId]),
                        },
                      ]
                    : undefined,
                  page,
                  page_size: 1000,
                },
                cb,
              ),
            'repeatable',
          ),
        );
        for (const { dimensions: d, metrics: m } of rows) {
          out.push({
            adId: String(d.ad_id),
            currency,
            adName: m.ad_name ?? '',
            adGroupId: m.adgroup_id ?? '',
            date: String(d.stat_time_day).slice(0, 10),
            impressions: num(m.impressions),
            clicks: num(m.clicks),
            // Spend arrives as a decimal string in major units of the advertiser's currency.
            spendMicros: micros(m.spend, currency),
            installs: num(m.app_install),
            registrations: num(m.registration),
            subscriptions: num(m.subscribe),
          });
        }
      }
      return out;
    },
  };
}
