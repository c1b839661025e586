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
 * Currencies held to Meta's full minimum daily budgets: "An ad set or campaign with a budget in one
 * of the following currencies (USD, AUD, CAD, SGD, JPY, NZD, TWD, EUR, CHF, SEK, HKD, GBP, ILS,
 * NOK, KRW, DKK) is required to meet the following minimums"; any other currency meets half of
 * each. Source: Meta's "About minimum budgets", https://www.facebook.com/business/help/203183363050448.
 */
const FULL_MINIMUM_CURRENCIES = new Set([
  'USD',
  'AUD',
  'CAD',
  'SGD',
  'JPY',
  'NZD',
  'TWD',
  'EUR',
  'CHF',
  'SEK',
  'HKD',
  'GBP',
  'ILS',
  'NOK',
  'KRW',
  'DKK',
]);

/**
 * The minimum daily budget (in USD, of a full-minimum currency) by the billing event an ad set is
 * charged for (AdSet billing_event), from the same page: "If it gets charged for impressions, its
 * daily budget must be at least $1 a day"; "for clicks, Likes, video views or post engagement ...
 * at least $5 a day"; "for low-frequency events such as offer claims or app installs, its budget
 * must be at least $40 a day". A billing event the page does not name takes the impressions one.
 */
const MIN_DAILY_USD: Readonly<Record<string, number>> = {
  IMPRESSIONS: 1,
  CLICKS: 5,
  LINK_CLICKS: 5,
  PAGE_LIKES: 5,
  POST_ENGAGEMENT: 5,
  THRUPLAY: 5,
  APP_INSTALLS: 40,
  OFFER_CLAIMS: 40,
};

/**
 * An ad set's smallest daily budget in Meta's units of `currency` (as daily_budget is sent: see
 * currencyOffset). The Marketing API answers an account's own minimums as AdAccount GET
 * minimum_budgets (MinimumBudget.json: min_daily_budget_imp, min_daily_budget_high_freq,
 * min_daily_budget_low_freq). Meta states them in USD, to convert into the account's currency;
 * the sandbox has no exchange rates and takes the amount in the account's own currency (1.00 EUR,
 * 1 JPY), as its TikTok server does with TikTok's minimum.
 */
export function minDailyBudget(currency: string, billingEvent: string): number {
  const usd = MIN_DAILY_USD[billingEvent] ?? MIN_DAILY_USD.IMPRESSIONS!;
  const major = FULL_MINIMUM_CURRENCIES.has(currency) ? usd : usd / 2;
  return Math.ceil(major * currencyOffset(currency));
}

/**
 * Refuses a daily budget (Meta's units) under the ad set's minimum as Graph does: "Budget Is Too
 * Low", "The budget for this ad set must be at least ₹40.00. Please edit your budget in your ad set
 * to enable delivery of your ads." (Graph's answer quoted in
 * https://github.com/facebook/facebook-php-business-sdk/issues/338; no public source gives its
 * subcode).
 */
export function checkDailyBudget(budget: number, currency: string, billingEvent: string) {
  const min = minDailyBudget(currency, billingEvent);
  if (budget >= min) return;
  const offset = currencyOffset(currency);
  throw graphErrors.invalidWithUserMsg(
    'Budget Is Too Low',
    `The budget for this ad set must be at least ${(min / offset).toFixed(offset === 100 ? 2 : 0)} ${currency}. Please edit your budget in your ad set to enable delivery of your ads.`,
  );
}

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

// ---- Video ads and placement asset customisation ----------------------------------------------

/**
 * An ad video's `status.video_status`. VideoStatus.json types it as a plain string; the values
 * are those Graph answers with, as clients that poll it report them (processing, ready, error,
 * expired: https://github.com/pipeboard-co/meta-ads-mcp/pull/132). Only a ready video may be used
 * in an ad (checkVideoUsable).
 */
export type VideoStatusValue = 'ready' | 'processing' | 'expired' | 'error';

/** What the creative rules need to know of an ad video of the account. */
export interface VideoLookup {
  status: VideoStatusValue;
  /** Its native size (AdVideo `format`), once its bytes are in. */
  width?: number;
  height?: number;
}

/**
 * Ad formats an asset feed may name, exactly one per feed: "ad_formats: SINGLE_IMAGE,
 * CAROUSEL_IMAGE, SINGLE_VIDEO, and AUTOMATIC_FORMAT ... one ad_format is allowed per asset feed"
 * (Asset Feed Spec Options,
 * https://developers.facebook.com/docs/marketing-api/ad-creative/asset-feed-spec/options/).
 */
export const AD_FORMATS = ['SINGLE_IMAGE', 'CAROUSEL_IMAGE', 'SINGLE_VIDEO', 'AUTOMATIC_FORMAT'];

/**
 * Publisher platforms a customization_spec names: "publisher_platforms: Required. Possible
 * placements for your ad. Options are: facebook, instagram, messenger, audience_network, and
 * threads" (Placement Asset Customization,
 * https://developers.facebook.com/docs/marketing-api/dynamic-creative/placement-asset-customization).
 */
export const PUBLISHER_PLATFORMS = [
  'facebook',
  'instagram',
  'messenger',
  'audience_network',
  'threads',
] as const;

/**
 * The positions of each platform, as placement targeting spells them (Placement Targeting,
 * https://developers.facebook.com/docs/marketing-api/audiences/reference/placement-targeting/;
 * the Placement Asset Customization page lists the same values for customization_spec). The same
 * positions in upper case are the AdCampaignPlacementGet_effective_*_positions enums of
 * enum_types.json (FB_REELS is facebook_reels, RHC right_hand_column).
 */
export const POSITIONS: Record<string, { platform: string; values: readonly string[] }> = {
  facebook_positions: {
    platform: 'facebook',
    values: [
      'feed',
      'right_hand_column',
      'marketplace',
      'video_feeds',
      'story',
      'search',
      'instream_video',
      'facebook_reels',
      'facebook_reels_overlay',
      'profile_feed',
      'notification',
    ],
  },
  instagram_positions: {
    platform: 'instagram',
    values: [
      'stream',
      'story',
      'explore',
      'explore_home',
      'reels',
      'profile_feed',
      'ig_search',
      'profile_reels',
    ],
  },
  messenger_positions: {
    platform: 'messenger',
    values: ['messenger_home', 'sponsored_messages', 'story'],
  },
  audience_network_positions: {
    platform: 'audience_network',
    values: ['classic', 'rewarded_video', 'instream_video'],
  },
  threads_positions: { platform: 'threads', values: ['threads_stream'] },
};

/**
 * Most rules one asset feed holds: "You can add up to 50 customization rules" (Segment Asset
 * Customization, https://developers.facebook.com/docs/marketing-api/dynamic-creative/segment-asset-customization).
 */
export const MAX_CUSTOMIZATION_RULES = 50;

/** Where a position shows an ad: in a feed, full screen in stories, or full screen in reels. */
export type PlacementGroup = 'feed' | 'story' | 'reels';

/**
 * The group of a platform position. Stories and reels play full screen (9:16); every other
 * position shows the ad in a feed or a list. The sandbox's simulator judges a creative's fit per
 * group (sandbox/simulator.ts).
 */
export function placementGroup(position: string): PlacementGroup {
  if (position === 'story') return 'story';
  if (/reels/.test(position)) return 'reels';
  return 'feed';
}

/** The aspect ratio a video's size is closest to, of those adloop renders. */
export function ratioOf(width: number, height: number): string {
  const candidates: Array<[string, number]> = [
    ['9:16', 9 / 16],
    ['4:5', 4 / 5],
    ['1:1', 1],
    ['16:9', 16 / 9],
  ];
  const r = width / height;
  return candidates.reduce((best, c) =>
    Math.abs(Math.log(c[1] / r)) < Math.abs(Math.log(best[1] / r)) ? c : best,
  )[0];
}

/** One rule of a checked asset feed: where it applies and which labels it shows there. */
export interface CheckedRule {
  publisherPlatforms: string[];
  positions: Record<string, string[]>;
  labels: Partial<Record<AssetKind, string>>;
  priority: number | null;
}

type AssetKind = 'video' | 'image' | 'body' | 'title' | 'link_url';

/** An asset feed as the sandbox keeps it, once every rule below holds. */
export interface CheckedAssetFeed {
  format: string;
  videos: Array<{ videoId: string; labels: string[]; thumbnail: string }>;
  rules: CheckedRule[];
}

/** A list param of objects, or Graph's error naming it. */
function objects(value: unknown, where: string): Array<Record<string, unknown>> {
  if (!Array.isArray(value)) throw graphErrors.invalidParam(`Param ${where} must be an array.`);
  return value.map((v, i) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw graphErrors.invalidParam(`Param ${where}[${i}] must be a JSON object.`);
    return v as Record<string, unknown>;
  });
}

/** The label names of an asset's `adlabels` ({name} objects, AdAssetFeedSpecAssetLabel). */
function labelNames(asset: Record<string, unknown>, where: string): string[] {
  if (asset.adlabels === undefined) return [];
  return objects(asset.adlabels, `${where}[adlabels]`).map((l, i) => {
    const name = scalarParam(l, 'name', `${where}[adlabels][${i}][name]`);
    if (!name) throw graphErrors.missingParam(`${where}[adlabels][${i}][name]`);
    return name;
  });
}

/**
 * Checks an asset feed (asset_feed_spec) against the rules Meta documents for it; the fields and
 * their types are checked against the specs by `checkStruct` (AdAssetFeedSpec*.json,
 * AdAssetCustomizationRuleCustomizationSpec.json) through `struct`. `video` and `image` look up
 * the account's videos and images.
 */
export function checkAssetFeed(
  feed: Record<string, unknown>,
  o: {
    struct: (where: string, node: string, value: unknown) => Record<string, unknown>;
    video: (id: string) => VideoLookup | undefined;
    image: (hash: string) => boolean;
  },
): CheckedAssetFeed {
  const at = (path: string) => `asset_feed_spec[${path}]`;
  // ad_formats: "Required", one per feed (Asset Feed Spec Options, above).
  if (feed.ad_formats === undefined) throw graphErrors.missingParam(at('ad_formats'));
  const formats = Array.isArray(feed.ad_formats) ? feed.ad_formats.map(String) : [];
  if (formats.length !== 1 || !AD_FORMATS.includes(formats[0]!))
    throw graphErrors.invalidParam(
      `Param ${at('ad_formats')} must hold exactly one of {${AD_FORMATS.join(', ')}}`,
    );
  const format = formats[0]!;

  const labelsOf: Record<AssetKind, Set<string>> = {
    video: new Set(),
    image: new Set(),
    body: new Set(),
    title: new Set(),
    link_url: new Set(),
  };
  // videos: "Required for SINGLE_VIDEO format ... The video_ids provided in this array should
  // belong to the ad account" (Asset Feed Spec Options, above).
  const videos: CheckedAssetFeed['videos'] = [];
  const videoList = feed.videos === undefined ? [] : objects(feed.videos, at('videos'));
  if (format === 'SINGLE_VIDEO' && videoList.length === 0)
    throw graphErrors.missingParam(at('videos'));
  videoList.forEach((raw, i) => {
    const where = at(`videos][${i}`);
    const v = o.struct(where, 'AdAssetFeedSpecVideo', raw);
    const id = scalarParam(v, 'video_id', `${where}[video_id]`);
    if (!id) throw graphErrors.missingParam(`${where}[video_id]`);
    checkVideoUsable(o.video(id), id, `${where}[video_id]`);
    const hash = scalarParam(v, 'thumbnail_hash', `${where}[thumbnail_hash]`);
    const url = scalarParam(v, 'thumbnail_url', `${where}[thumbnail_url]`);
    if (!hash && !url) throw graphErrors.videoThumbnailMissing(`${where} has no thumbnail`);
    if (hash && !o.image(hash))
      throw graphErrors.invalidParam(`Image with hash ${hash} not found in the ad account`);
    const labels = labelNames(v, where);
    for (const l of labels) labelsOf.video.add(l);
    videos.push({ videoId: id, labels, thumbnail: hash ?? url! });
  });
  // images: "Required for SINGLE_IMAGE and CAROUSEL_IMAGE format ... Either url or hash is
  // required", hashes of the account's image library (Asset Feed Spec Options, above).
  const imageList = feed.images === undefined ? [] : objects(feed.images, at('images'));
  if ((format === 'SINGLE_IMAGE' || format === 'CAROUSEL_IMAGE') && imageList.length === 0)
    throw graphErrors.missingParam(at('images'));
  imageList.forEach((raw, i) => {
    const where = at(`images][${i}`);
    const img = o.struct(where, 'AdAssetFeedSpecImage', raw);
    const hash = scalarParam(img, 'hash', `${where}[hash]`);
    if (!hash && !scalarParam(img, 'url', `${where}[url]`))
      throw graphErrors.missingParam(`${where}[hash]`);
    if (hash && !o.image(hash))
      throw graphErrors.invalidParam(`Image with hash ${hash} not found in the ad account`);
    for (const l of labelNames(img, where)) labelsOf.image.add(l);
  });
  // link_urls: "Required. Array of link URLs" (Asset Feed Spec Options, above).
  if (feed.link_urls === undefined) throw graphErrors.missingParam(at('link_urls'));
  const links = objects(feed.link_urls, at('link_urls'));
  if (links.length === 0) throw graphErrors.missingParam(at('link_urls'));
  links.forEach((raw, i) => {
    const where = at(`link_urls][${i}`);
    for (const l of labelNames(o.struct(where, 'AdAssetFeedSpecLinkURL', raw), where))
      labelsOf.link_url.add(l);
  });
  for (const [key, node, kind] of [
    ['bodies', 'AdAssetFeedSpecBody', 'body'],
    ['titles', 'AdAssetFeedSpecTitle', 'title'],
  ] as const) {
    if (feed[key] === undefined) continue;
    objects(feed[key], at(key)).forEach((raw, i) => {
      const where = at(`${key}][${i}`);
      for (const l of labelNames(o.struct(where, node, raw), where)) labelsOf[kind].add(l);
    });
  }
  // call_to_action_types: "You can provide multiple values, up to five" (Asset Feed Spec
  // Options, above); the values themselves are AdAssetFeedSpec_call_to_action_types (checkStruct).
  if (Array.isArray(feed.call_to_action_types) && feed.call_to_action_types.length > 5)
    throw graphErrors.invalidParam(`Param ${at('call_to_action_types')} holds at most 5 values`);

  const rules: CheckedRule[] = [];
  if (feed.asset_customization_rules !== undefined) {
    const list = objects(feed.asset_customization_rules, at('asset_customization_rules'));
    // "All ads using asset_feed_spec must contain at least two target customization rules"
    // (Asset Customization Rules,
    // https://developers.facebook.com/docs/marketing-api/ad-creative/asset-feed-spec/asset-customization-rules;
    // the Placement Asset Customization page: "more than one customization rule").
    if (list.length < 2)
      throw graphErrors.invalidWithUserMsg(
        'Too Few Customization Rules',
        `An asset feed with asset_customization_rules needs at least two rules; this one has ${list.length}.`,
      );
    if (list.length > MAX_CUSTOMIZATION_RULES)
      throw graphErrors.invalidParam(
        `Param ${at('asset_customization_rules')} holds at most ${MAX_CUSTOMIZATION_RULES} rules`,
      );
    list.forEach((raw, i) => rules.push(checkRule(raw, i, format, labelsOf, o.struct)));
  }
  return { format, videos, rules };
}

/** One asset customization rule (Placement Asset Customization, "Supported Properties"). */
function checkRule(
  raw: Record<string, unknown>,
  i: number,
  format: string,
  labelsOf: Record<AssetKind, Set<string>>,
  struct: (where: string, node: string, value: unknown) => Record<string, unknown>,
): CheckedRule {
  const where = `asset_feed_spec[asset_customization_rules][${i}]`;
  const rule = struct(where, 'AdAssetFeedSpecAssetCustomizationRule', raw);
  // customization_spec: "Required. Placements where you want to display the assets."
  if (rule.customization_spec === undefined)
    throw graphErrors.missingParam(`${where}[customization_spec]`);
  const spec = struct(
    `${where}[customization_spec]`,
    'AdAssetCustomizationRuleCustomizationSpec',
    rule.customization_spec,
  );
  const list = (key: string) =>
    spec[key] === undefined ? undefined : (spec[key] as unknown[]).map(String);
  // publisher_platforms: "Required ... Options are: facebook, instagram, messenger,
  // audience_network, and threads."
  const platforms = list('publisher_platforms');
  if (!platforms || platforms.length === 0)
    throw graphErrors.missingParam(`${where}[customization_spec][publisher_platforms]`);
  for (const p of platforms)
    if (!(PUBLISHER_PLATFORMS as readonly string[]).includes(p))
      throw graphErrors.invalidParam(
        `Param ${where}[customization_spec][publisher_platforms] must be one of {${PUBLISHER_PLATFORMS.join(', ')}}, not ${p}`,
      );
  const positions: Record<string, string[]> = {};
  for (const [key, { platform, values }] of Object.entries(POSITIONS)) {
    const chosen = list(key);
    const field = `${where}[customization_spec][${key}]`;
    if (chosen === undefined) {
      // facebook_positions: "Optional, but required if Facebook is selected in
      // publisher_platforms"; instagram_positions likewise for Instagram.
      if ((platform === 'facebook' || platform === 'instagram') && platforms.includes(platform))
        throw graphErrors.missingParam(field);
      continue;
    }
    if (!platforms.includes(platform))
      throw graphErrors.invalidParam(
        `Param ${field} needs ${platform} in ${where}[customization_spec][publisher_platforms]`,
      );
    for (const p of chosen)
      if (!values.includes(p))
        throw graphErrors.invalidParam(
          `Param ${field} must be one of {${values.join(', ')}}, not ${p}`,
        );
    positions[key] = chosen;
  }
  // video_label: "Required for SINGLE_VIDEO format"; image_label: "Required for SINGLE_IMAGE
  // format". Every label must name an asset of its kind (error 2446173, graph-errors.ts).
  const labels: CheckedRule['labels'] = {};
  for (const kind of ['video', 'image', 'body', 'title', 'link_url'] as const) {
    const key = `${kind}_label`;
    if (rule[key] === undefined) {
      if (
        (kind === 'video' && format === 'SINGLE_VIDEO') ||
        (kind === 'image' && format === 'SINGLE_IMAGE')
      )
        throw graphErrors.missingParam(`${where}[${key}]`);
      continue;
    }
    const label = struct(`${where}[${key}]`, 'AdAssetFeedSpecAssetLabel', rule[key]);
    const name = scalarParam(label, 'name', `${where}[${key}][name]`);
    if (!name) throw graphErrors.missingParam(`${where}[${key}][name]`);
    if (!labelsOf[kind].has(name)) throw graphErrors.ruleLabelUnknown(`${where}[${key}]`, name);
    labels[kind] = name;
  }
  const priority = scalarParam(rule, 'priority', `${where}[priority]`);
  return {
    publisherPlatforms: platforms,
    positions,
    labels,
    priority: priority === undefined ? null : Number(priority),
  };
}

/**
 * A video a creative uses must be one of the account's and ready: "Due to video processing wait
 * till the video status is ready. It may take several seconds, or even minutes for large videos"
 * (Ad Video, https://developers.facebook.com/docs/marketing-api/advideo/). Meta documents no
 * error for a creative made too early, so the sandbox refuses it with a plain error 100 naming
 * the video; a video whose processing failed (video_status error) is refused alike.
 */
export function checkVideoUsable(video: VideoLookup | undefined, id: string, where: string) {
  if (!video) throw graphErrors.invalidParam(`Param ${where} must be a video of this ad account`);
  if (video.status === 'processing')
    throw graphErrors.invalidWithUserMsg(
      'Video Not Ready',
      `Video ${id} is still processing; use it in an ad once its status.video_status is ready.`,
    );
  if (video.status !== 'ready')
    throw graphErrors.invalidWithUserMsg(
      'Video Cannot Be Used',
      `Video ${id} is ${video.status} (its processing failed or it expired) and cannot be used in an ad.`,
    );
}

/**
 * An app install creative made of an asset feed links to the ad set's store listing the same way a
 * link ad does (checkAppCreative): its link URL is the object_store_url, its call to action types
 * include an install one, and its deep link (link_urls[].deeplink_url, "Deeplink url used for
 * your ad", https://developers.facebook.com/docs/marketing-api/reference/ad-asset-feed-spec-link-url/)
 * is a URI. Source of the rule: https://developers.facebook.com/docs/marketing-api/reference/ad-promoted-object/
 * ("The ad creative must link to the specified object_store_url").
 */
export function checkAppFeedCreative(feed: Record<string, unknown>, storeUrl: string) {
  const links = (feed.link_urls as Array<Record<string, unknown>> | undefined) ?? [];
  if (links.length === 0 || links.some((l) => l.website_url !== storeUrl))
    throw graphErrors.invalidWithUserMsg(
      'Creative Must Link to App Store',
      `The creative must link to the promoted app's store URL ${storeUrl} (asset_feed_spec[link_urls][][website_url]).`,
    );
  const types = Array.isArray(feed.call_to_action_types) ? feed.call_to_action_types : [];
  if (types.length === 0 || !types.every((t) => INSTALL_CALLS_TO_ACTION.has(String(t))))
    throw graphErrors.invalidWithUserMsg(
      'Invalid Call to Action',
      `App install ads need an install call to action (e.g. INSTALL_MOBILE_APP) in asset_feed_spec[call_to_action_types], not ${JSON.stringify(types)}.`,
    );
  for (const l of links)
    if (
      l.deeplink_url !== undefined &&
      (typeof l.deeplink_url !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(l.deeplink_url))
    )
      throw graphErrors.invalidWithUserMsg(
        'Invalid Deep Link',
        `asset_feed_spec[link_urls][][deeplink_url] ${JSON.stringify(l.deeplink_url)} is not a valid deep link.`,
      );
}

/**
 * An app install video creative (object_story_spec.video_data) links to the store through its
 * call to action, whose value.link is the object_store_url (video_data has no `link`; its
 * call_to_action is "An optional call to action", required here as for every app install ad),
 * with value.app_link the deep link. Sources as for checkAppCreative.
 */
export function checkAppVideoCreative(videoData: Record<string, unknown>, storeUrl: string) {
  const cta = videoData.call_to_action as
    { type?: string; value?: { link?: string; app_link?: string } } | undefined;
  checkAppCreative({ link: cta?.value?.link, call_to_action: cta }, storeUrl);
}
