// Rules of the Marketing API that its specs (graph-spec.ts) do not carry: they are found only in
// Meta's documentation, cited next to each. Pure functions over params and the world.
import { addDays, isCalendarDate } from '../../core/dates.ts';
import { MiB } from '../platform-server/index.ts';
import { graphErrors } from './graph-errors.ts';
import { scalarParam } from './graph-spec.ts';

/** Largest JSON, form or batch body the sandbox reads: no Marketing API call is near it. */
export const MAX_BODY_BYTES = 8 * MiB;
/**
 * Largest body of POST act_<id>/adimages: Meta takes images of up to 30 MB (the Meta Ads Guide, as
 * render/platform-specs.ts cites it), which the `bytes` field carries base64-encoded: 40 MB.
 */
export const MAX_IMAGE_UPLOAD_BYTES = 64 * MiB;
/**
 * Largest body of POST act_<id>/advideos: "Non-Resumable upload supports video uploads that are up
 * to 1GB" in one request's `source` (https://developers.facebook.com/docs/graph-api/video-uploads),
 * read as 2^30 bytes, plus room for the form around it. A resumable upload sends chunks of the
 * size the server names (4 MB), far below it.
 */
export const MAX_VIDEO_UPLOAD_BYTES = 1024 * MiB + MiB;

/** The body limit of a request to `pathname`: uploads have their own, every other call the default. */
export function maxBodyBytes(pathname: string): number {
  const edge = /^\/v\d+\.\d+\/act_[^/]+\/(adimages|advideos)\/?$/.exec(pathname)?.[1];
  return edge === 'adimages'
    ? MAX_IMAGE_UPLOAD_BYTES
    : edge === 'advideos'
      ? MAX_VIDEO_UPLOAD_BYTES
      : MAX_BODY_BYTES;
}

/**
 * Currencies Meta bills without a minor unit: amounts (daily_budget, spend caps) are sent in whole
 * units, "offset 1"; every other currency has offset 100. From the table of
 * https://developers.facebook.com/docs/marketing-api/currencies. Kept apart from the client's copy
 * on purpose: the sandbox checks the client, it does not share its assumptions.
 */
export const OFFSET_ONE = new Set([
  'CLP',
  'COP',
  'CRC',
  'HUF',
  'IDR',
  'ISK',
  'JPY',
  'KRW',
  'PYG',
  'TWD',
  'VND',
]);

/** Meta's offset of a currency: 1 or 100 (https://developers.facebook.com/docs/marketing-api/currencies). */
export const currencyOffset = (currency: string) => (OFFSET_ONE.has(currency) ? 1 : 100);

/**
 * Optimisation goals an OUTCOME_APP_PROMOTION campaign's ad sets may use: installs, app events
 * (OFFSITE_CONVERSIONS with promoted_object.custom_event_type), value, installs and events, link
 * clicks. Source: the objective / optimization_goal table of
 * https://developers.facebook.com/docs/marketing-api/reference/ad-campaign-group/ (ODAX).
 */
export const APP_PROMOTION_GOALS = new Set([
  'APP_INSTALLS',
  'APP_INSTALLS_AND_OFFSITE_CONVERSIONS',
  'OFFSITE_CONVERSIONS',
  'VALUE',
  'LINK_CLICKS',
]);

/**
 * Billing events each of those goals may be billed by: impressions always, app installs only
 * when optimising for installs. Source:
 * https://developers.facebook.com/docs/marketing-api/bidding/overview/billing-events/
 */
export function checkBilling(goal: string, billing: string) {
  const ok = billing === 'IMPRESSIONS' || (goal === 'APP_INSTALLS' && billing === 'APP_INSTALLS');
  if (!ok)
    throw graphErrors.invalidWithUserMsg(
      'Invalid Billing Event',
      `The billing event ${billing} is not available for optimization goal ${goal}.`,
    );
}

/** The store an app store URL belongs to, or null (App Store or Google Play). */
export function storeOf(url: string): 'ios' | 'android' | null {
  if (/^https:\/\/(apps|itunes)\.apple\.com\/(?:[a-z]{2}\/)?app\/(?:[^/]+\/)?id\d+/.test(url))
    return 'ios';
  if (/^https:\/\/play\.google\.com\/store\/apps\/details\?id=[\w.]+/.test(url)) return 'android';
  return null;
}

export interface AppWorld {
  applicationId: string;
  storeUrls: { ios: string; android: string };
}

/**
 * An app promotion ad set's promoted_object: application_id of an app the token may promote and
 * object_store_url of that app in one store; app events also name custom_event_type. Source:
 * https://developers.facebook.com/docs/marketing-api/reference/ad-promoted-object/ ("If you use
 * object_store_url, you must include application_id", "object_store_url MUST be associated with
 * that app", "Mobile device targeting for the ad set must match supported platforms for your
 * specified app").
 */
export function checkAppPromotion(
  p: { promoted_object?: unknown; optimization_goal: string; userOs: Array<'ios' | 'android'> },
  app: AppWorld,
): 'ios' | 'android' {
  const po = p.promoted_object as Record<string, unknown> | undefined;
  const applicationId = po && scalarParam(po, 'application_id', 'promoted_object[application_id]');
  const url = po && scalarParam(po, 'object_store_url', 'promoted_object[object_store_url]');
  if (!applicationId || !url) throw graphErrors.promotedObjectMissing();
  if (applicationId !== app.applicationId)
    throw graphErrors.invalidWithUserMsg(
      'No Permission to Promote App',
      `You don't have permission to advertise application ${applicationId}.`,
    );
  const store = storeOf(url);
  if (!store || app.storeUrls[store] !== url)
    throw graphErrors.invalidWithUserMsg(
      'Invalid Store URL',
      `The object_store_url ${url} is not associated with application ${app.applicationId}.`,
    );
  if (!APP_PROMOTION_GOALS.has(p.optimization_goal))
    throw graphErrors.invalidWithUserMsg(
      'Invalid Optimization Goal',
      `Optimization goal ${p.optimization_goal} is not available for objective OUTCOME_APP_PROMOTION.`,
    );
  if (p.optimization_goal === 'OFFSITE_CONVERSIONS' && !po.custom_event_type)
    throw graphErrors.invalidWithUserMsg(
      'App Event Missing',
      'Optimizing for app events needs promoted_object.custom_event_type.',
    );
  if (p.userOs.length !== 1 || p.userOs[0] !== store)
    throw graphErrors.invalidWithUserMsg(
      'Mobile Device Targeting Mismatch',
      `targeting.user_os must be ${store === 'ios' ? 'iOS' : 'Android'} to match object_store_url.`,
    );
  return store;
}

/**
 * Call to action types that send a user to the app store (AdCreativeLinkDataCallToAction_type in
 * enum_types.json holds every type; an app install ad links to its store with one of these). Source:
 * https://developers.facebook.com/docs/marketing-api/guides/app-ads/ (mobile app install ads use
 * call_to_action {type: INSTALL_MOBILE_APP, value: {link: <store URL>, app_link: <deep link>}}).
 */
export const INSTALL_CALLS_TO_ACTION = new Set([
  'INSTALL_MOBILE_APP',
  'INSTALL_APP',
  'DOWNLOAD',
  'GET_APP',
  'PLAY_GAME',
  'LISTEN_NOW',
  'USE_APP',
  'USE_MOBILE_APP',
]);

/**
 * The creative of an ad in an app promotion ad set must link to the ad set's object_store_url, with
 * an install call to action whose value.link is that URL; value.app_link, when given, is a URI
 * (the deep link). Source: https://developers.facebook.com/docs/marketing-api/reference/ad-promoted-object/
 * ("The ad creative must link to the specified object_store_url").
 */
export function checkAppCreative(linkData: Record<string, unknown> | undefined, storeUrl: string) {
  const cta = linkData?.call_to_action as
    { type?: string; value?: { link?: string; app_link?: string } } | undefined;
  if (linkData?.link !== storeUrl || cta?.value?.link !== storeUrl)
    throw graphErrors.invalidWithUserMsg(
      'Creative Must Link to App Store',
      `The creative must link to the promoted app's store URL ${storeUrl}.`,
    );
  if (!cta?.type || !INSTALL_CALLS_TO_ACTION.has(cta.type))
    throw graphErrors.invalidWithUserMsg(
      'Invalid Call to Action',
      `App install ads need an install call to action (e.g. INSTALL_MOBILE_APP), not ${String(cta?.type)}.`,
    );
  const appLink = cta.value?.app_link;
  if (appLink !== undefined && !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(String(appLink)))
    throw graphErrors.invalidWithUserMsg(
      'Invalid Deep Link',
      `call_to_action.value.app_link ${String(appLink)} is not a valid deep link.`,
    );
}

/** Months insights reach back (error 3018; https://developers.facebook.com/docs/marketing-api/insights/best-practices/). */
export const INSIGHTS_MONTHS_BACK = 37;

/**
 * A time_range {since, until} of real dates, since <= until, since no further back than 37
 * months before `today` (the account's today). Checked before any work, so an absurd range is
 * refused at once. Source: https://developers.facebook.com/docs/marketing-api/insights/parameters/
 * (time_range: {'since':YYYY-MM-DD,'until':YYYY-MM-DD}) and the 3018 limit above.
 */
export function checkTimeRange(raw: unknown, today: string): { since: string; until: string } {
  const tr = raw as { since?: unknown; until?: unknown } | null;
  if (typeof tr !== 'object' || tr === null || Array.isArray(tr))
    throw graphErrors.invalidParam('Param time_range must be a JSON object.');
  for (const k of Object.keys(tr))
    if (k !== 'since' && k !== 'until')
      throw graphErrors.invalidParam(`Param time_range[${k}] is not a valid field`);
  const { since, until } = tr;
  if (!isCalendarDate(since) || !isCalendarDate(until))
    throw graphErrors.invalidParam(
      "Param time_range must be {'since':YYYY-MM-DD,'until':YYYY-MM-DD} with valid dates",
    );
  if (since > until)
    throw graphErrors.invalidParam('Param time_range: since must not be after until');
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  const floor = new Date(Date.UTC(y, m - 1 - INSIGHTS_MONTHS_BACK, d)).toISOString().slice(0, 10);
  if (since < floor) throw graphErrors.rangeTooOld();
  return { since, until };
}

/** date_preset values adloop may send, as ranges ending on the account's yesterday or today. */
export function presetRange(preset: string, today: string): { since: string; until: string } {
  const yesterday = addDays(today, -1);
  const lastN = /^last_(\d+)d$/.exec(preset);
  if (preset === 'today') return { since: today, until: today };
  if (preset === 'yesterday') return { since: yesterday, until: yesterday };
  if (lastN) return { since: addDays(today, -Number(lastN[1])), until: yesterday };
  throw graphErrors.invalidParam(`date_preset ${preset} is not supported by this sandbox`);
}

/**
 * time_increment: 1-90 days, `monthly` or `all_days`. Source:
 * https://developers.facebook.com/docs/marketing-api/insights/parameters/
 */
export function checkTimeIncrement(v: unknown): 'all_days' | 'monthly' | number {
  if (v === undefined || v === 'all_days') return 'all_days';
  if (v === 'monthly') return 'monthly';
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 90)
    throw graphErrors.invalidParam(
      'Param time_increment must be an integer from 1 to 90, monthly or all_days',
    );
  return n;
}

/**
 * A Graph datetime as Graph writes it: ISO 8601 to the second with the offset of the ad account's
 * time zone and no colon, `2026-05-04T08:07:57+0200` (the format of every `datetime` field in
 * the Marketing API reference, e.g. https://developers.facebook.com/docs/marketing-api/reference/adgroup/).
 */
export function graphTime(iso: string, timeZone: string): string {
  const t = new Date(iso);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(t)
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  const offsetMin = Math.round((local - Math.floor(t.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${sign}${hhmm}`;
}

/** Today's date in a time zone (an account's reporting day). */
export function todayIn(timeZone: string, now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone }).format(now);
}
