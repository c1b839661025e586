// Meta Marketing API client over the official facebook-nodejs-business-sdk. adloop talks to Meta
// only through this interface, so activities can be tested against the sandbox and the SDK's
// quirks stay here:
// - the base URL is a static getter on FacebookAdsApi; we pass ours per call instead;
// - the crash reporter is off (it installs a process-wide uncaughtException handler);
// - SDK errors carry the request URL with the access token; we never let them escape.
import bizSdk from 'facebook-nodejs-business-sdk';
import type { DeliveryCounts } from '../../core/types.ts';
import { PlatformError, redact } from '../errors.ts';

const { FacebookAdsApi, AdAccount, AdSet, Ad, AdReportRun } = bizSdk;

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
}

export interface MetaAdRow {
  id: string;
  name: string;
  status: string;
  effectiveStatus: string;
  adsetId: string;
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
  describeAccount(): Promise<{ accountId: string; currency: string; timeZone: string }>;
  uploadImage(bytes: Buffer, name: string): Promise<{ hash: string }>;
  /** Resumable (chunked) video upload; resolves once the platform has the whole file. */
  uploadVideo(bytes: Buffer, name: string): Promise<{ videoId: string }>;
  findByName(
    kind: 'campaigns' | 'adsets' | 'adcreatives' | 'ads',
    name: string,
  ): Promise<{ id: string; status?: string } | null>;
  createCampaign(p: { name: string }): Promise<string>;
  createAdSet(p: {
    name: string;
    campaignId: string;
    country: string;
    dailyBudget: number;
  }): Promise<string>;
  createCreative(p: {
    name: string;
    imageHash: string;
    link: string;
    message: string;
    headline: string;
  }): Promise<string>;
  createAd(p: { name: string; adsetId: string; creativeId: string }): Promise<string>;
  setAdStatus(adId: string, status: 'ACTIVE' | 'PAUSED'): Promise<void>;
  listAds(adsetId: string): Promise<MetaAdRow[]>;
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

/**
 * Points one SDK api instance at `graphUrl`. The SDK reads its base URL from a static getter;
 * instead of redefining that process-wide, every call of this instance passes the base as the
 * SDK's own `urlOverride`, so two clients (say, two sandboxes in one test) never interfere.
 */
function useGraphUrl(api: object, graphUrl: string) {
  const base = graphUrl.replace(/\/+$/, '');
  const target = api as { call: ApiCall };
  const original = target.call.bind(api);
  target.call = (method, path, params, files, multipart, urlOverride) =>
    original(method, path, params, files, multipart, urlOverride || base);
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

/** An SDK api instance for `graphUrl` (crash reporter off), for SDK features beyond MetaAds. */
export function createGraphApi(config: Pick<MetaAdsConfig, 'graphUrl' | 'accessToken'>) {
  // Third argument false: no crash reporter (see header).
  const api = new FacebookAdsApi(config.accessToken, 'en_US', false);
  useGraphUrl(api, config.graphUrl);
  return api;
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
  let res: Response;
  try {
    res = await fetch(`${base}/${FacebookAdsApi.VERSION}/${config.adAccountId}/advideos`, {
      method: 'POST',
      body: form,
    });
  } catch (err) {
    throw new PlatformError(
      'meta',
      'transient',
      `video upload request failed: ${(err as Error).message}`,
    );
  }
  const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
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
  const api = createGraphApi(config);

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
      await new Promise((r) => setTimeout(r, wait));
    }
    return collect(run.getInsights(fields, { limit: 500 }) as Promise<unknown>);
  }
  const account = new AdAccount(config.adAccountId, {}, undefined, api);

  return {
    uploadImage: (bytes, name) =>
      call(async () => {
        const res = (await account.createAdImage([], {
          bytes: bytes.toString('base64'),
          name,
        })) as unknown as {
          _data: { images?: Record<string, { hash: string }> };
        };
        const image = Object.values(res._data.images ?? {})[0];
        if (!image?.hash)
          throw new PlatformError('meta', 'transient', 'image upload returned no hash');
        return { hash: image.hash };
      }),

    describeAccount: () =>
      call(async () => {
        const a = (await account.read(['currency', 'timezone_name'])) as unknown as {
          _data: { currency?: string; timezone_name?: string };
        };
        const { currency, timezone_name: timeZone } = a._data;
        if (!currency || !timeZone)
          throw new PlatformError('meta', 'transient', 'ad account without currency or time zone');
        return { accountId: config.adAccountId, currency, timeZone };
      }),

    uploadVideo: (bytes, name) =>
      call(async () => {
        const start = await postVideoPhase(config, {
          upload_phase: 'start',
          file_size: String(bytes.length),
        });
        const session = String(start.upload_session_id);
        let from = Number(start.start_offset);
        let to = Number(start.end_offset);
        // The server names each next chunk; a resent chunk is acknowledged, never appended twice.
        while (from < to) {
          const next = await postVideoPhase(config, {
            upload_phase: 'transfer',
            upload_session_id: session,
            start_offset: String(from),
            video_file_chunk: new Blob([bytes.subarray(from, to)]),
          });
          from = Number(next.start_offset);
          to = Number(next.end_offset);
        }
        await postVideoPhase(config, {
          upload_phase: 'finish',
          upload_session_id: session,
          title: name,
        });
        return { videoId: String(start.video_id) };
      }),

    findByName: (kind, name) =>
      call(async () => {
        const fields = ['id', 'name', ...(kind === 'adcreatives' ? [] : ['status'])];
        const params = {
          filtering: [{ field: 'name', operator: 'EQUAL', value: name }],
          limit: 50,
        };
        const edge = {
          campaigns: () => account.getCampaigns(fields, params),
          adsets: () => account.getAdSets(fields, params),
          adcreatives: () => account.getAdCreatives(fields, params),
          ads: () => account.getAds(fields, params),
        }[kind];
        const rows = await collect(edge() as Promise<unknown>);
        const match = rows.find((r) => r.name === name);
        return match ? { id: String(match.id), status: match.status as string | undefined } : null;
      }),

    createCampaign: ({ name }) =>
      call(async () => {
        const c = await account.createCampaign([], {
          name,
          objective: 'OUTCOME_APP_PROMOTION',
          special_ad_categories: [],
          status: 'ACTIVE',
        });
        return String(c.id);
      }),

    createAdSet: ({ name, campaignId, country, dailyBudget }) =>
      call(async () => {
        const s = await account.createAdSet([], {
          name,
          campaign_id: campaignId,
          daily_budget: dailyBudget,
          billing_event: 'IMPRESSIONS',
          optimization_goal: 'APP_INSTALLS',
          targeting: { geo_locations: { countries: [country] } },
          status: 'ACTIVE',
        });
        return String(s.id);
      }),

    createCreative: ({ name, imageHash, link, message, headline }) =>
      call(async () => {
        const c = await account.createAdCreative([], {
          name,
          object_story_spec: {
            page_id: config.pageId,
            link_data: { image_hash: imageHash, link, message, name: headline },
          },
        });
        return String(c.id);
      }),

    createAd: ({ name, adsetId, creativeId }) =>
      call(async () => {
        const ad = await account.createAd([], {
          name,
          adset_id: adsetId,
          creative: { creative_id: creativeId },
          status: 'ACTIVE',
        });
        return String(ad.id);
      }),

    setAdStatus: (adId, status) =>
      call(async () => {
        await new Ad(adId, {}, undefined, api).update([], { status });
      }),

    listAds: (adsetId) =>
      call(async () => {
        const rows = await collect(
          new AdSet(adsetId, {}, undefined, api).getAds(
            ['id', 'name', 'status', 'effective_status', 'adset_id'],
            { limit: 100 },
          ) as Promise<unknown>,
        );
        return rows.map((r) => ({
          id: String(r.id),
          name: String(r.name),
          status: String(r.status),
          effectiveStatus: String(r.effective_status),
          adsetId: String(r.adset_id),
        }));
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
