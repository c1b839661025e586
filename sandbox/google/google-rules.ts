// The limits and enums the Google sandbox enforces, each with where Google documents it. Sources:
//   [proto X]  google-ads-node 24.1.0, build/protos/google/ads/googleads/v24/X (the API's own
//              definitions, comments included)
//   [doc X]    developers.google.com/google-ads/api/docs/X
//   [help N]   support.google.com/google-ads/answer/N
import type { GoogleAdsFault } from './google-errors.ts';
import { adsError } from './google-errors.ts';

/**
 * [doc best-practices/quotas] "Mutate requests: 10,000 operations per request"; over it
 * RequestError.TOO_MANY_MUTATE_OPERATIONS ([proto errors/request_error.proto] "Received too many
 * entries in request").
 */
export const MAX_OPERATIONS_PER_REQUEST = 10_000;

/**
 * [doc api-policy/access-levels] operations per day by access level: Test Account "15,000
 * operations per day (test accounts only)", Explorer "2,880 operations per day (production
 * accounts)", Basic "15,000 operations per day", Standard "Unlimited". "Operations" count
 * "get requests and mutate operations" ([doc best-practices/quotas]: each search / stream request
 * counts one, each mutate operation one).
 */
export const DAILY_OPERATIONS: Record<string, number> = {
  TEST_ACCOUNT: 15_000,
  EXPLORER: 2_880,
  BASIC: 15_000,
  STANDARD: Number.POSITIVE_INFINITY,
};

/**
 * [proto resources/campaign_budget.proto] amount_micros: "The amount of the budget, in the local
 * currency for the account. Amount is specified in micros, where one million is equivalent to one
 * currency unit." [proto errors/campaign_budget_error.proto] NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT:
 * "Money amount is not a multiple of the minimum currency unit": the unit is the currency's
 * smallest (a cent, 10,000 micros; a yen, 1,000,000).
 */
export function minimumUnitMicros(minorDigits: number): number {
  return 10 ** (6 - minorDigits);
}

/** [doc campaigns/app-campaigns] "App campaigns ... use advertising_channel_type MULTI_CHANNEL". */
export const APP_CHANNEL = 'MULTI_CHANNEL';
/** [proto enums/advertising_channel_sub_type.proto] the App campaign sub types. */
export const APP_SUB_TYPES = new Set(['APP_CAMPAIGN', 'APP_CAMPAIGN_FOR_ENGAGEMENT']);
/** [proto enums/app_campaign_app_store.proto] */
export const APP_STORES = new Set(['APPLE_APP_STORE', 'GOOGLE_APP_STORE']);
/** [proto enums/app_campaign_bidding_strategy_goal_type.proto] */
export const BIDDING_GOALS = new Set([
  'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
  'OPTIMIZE_IN_APP_CONVERSIONS_TARGET_INSTALL_COST',
  'OPTIMIZE_IN_APP_CONVERSIONS_TARGET_CONVERSION_COST',
  'OPTIMIZE_RETURN_ON_ADVERTISING_SPEND',
  'OPTIMIZE_PRE_REGISTRATION_CONVERSION_VOLUME',
  'OPTIMIZE_INSTALLS_WITHOUT_TARGET_INSTALL_COST',
  'OPTIMIZE_IN_APP_CONVERSIONS_WITHOUT_TARGET_CPA',
  'OPTIMIZE_TOTAL_VALUE_WITHOUT_TARGET_ROAS',
]);
/**
 * [doc campaigns/app-campaigns "Bidding"] the goals with a target CPA (install or in-app action
 * cost) need the campaign's target_cpa bidding strategy; the WITHOUT_* goals use maximize
 * conversions instead.
 */
export const GOALS_WITH_TARGET_CPA = new Set([
  'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
  'OPTIMIZE_IN_APP_CONVERSIONS_TARGET_INSTALL_COST',
  'OPTIMIZE_IN_APP_CONVERSIONS_TARGET_CONVERSION_COST',
]);
/** The goals that optimise for installs (the others for the selected in-app conversions). */
export const INSTALL_GOALS = new Set([
  'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
  'OPTIMIZE_INSTALLS_WITHOUT_TARGET_INSTALL_COST',
]);
/**
 * [doc campaigns/app-campaigns] "App campaigns ... cannot use a shared budget":
 * CampaignError.CAMPAIGN_CANNOT_USE_SHARED_BUDGET ([proto errors/campaign_error.proto]).
 */
export const APP_BUDGET_MUST_NOT_BE_SHARED = true;
/** [proto enums/campaign_status.proto] on create: "ENABLED" or "PAUSED"; REMOVED only by remove. */
export const CREATE_STATUSES = new Set(['ENABLED', 'PAUSED']);
/** [proto resources/campaign.proto] name: "...must be less than 255 UTF-8 full-width characters". */
export const MAX_CAMPAIGN_NAME = 255;
/** [proto resources/ad_group.proto] name: "...must be less than 255 UTF-8 full-width characters". */
export const MAX_AD_GROUP_NAME = 255;

/**
 * [help 9247199 "About App campaigns" / asset specs] and [proto common/ad_type_infos.proto
 * AppAdInfo]: an app ad takes up to 5 headlines of up to 30 characters, up to 5 descriptions of up
 * to 90, up to 20 images and up to 20 YouTube videos. Over a count: CollectionSizeError.TOO_MANY
 * ([proto errors/collection_size_error.proto] "Too many elements"; AdError has no TOO_MANY_* value
 * for app ads); an empty headline or description: AdError.EMPTY_FIELD; too long: AdError.TOO_LONG.
 */
export const APP_AD_LIMITS = {
  headlines: { max: 5, chars: 30 },
  descriptions: { max: 5, chars: 90 },
  images: { max: 20 },
  youtube_videos: { max: 20 },
} as const;
/**
 * [help 9247199] "one ad per ad group" for App campaigns: a second app ad in the group is refused
 * with ResourceCountLimitExceededError.AD_GROUP_AD_LIMIT ([proto
 * errors/resource_count_limit_exceeded_error.proto] "Indicates too many ads in an ad group").
 */
export const APP_ADS_PER_AD_GROUP = 1;
/** [proto resources/ad_group_ad.proto] ad: IMMUTABLE; ad content changes go through AdService. */
export const AD_GROUP_AD_UPDATABLE = new Set(['status']);
/** [proto services/ad_service.proto] AdService.MutateAds updates an ad's fields, e.g. app_ad. */
export const AD_UPDATABLE = new Set([
  'app_ad.headlines',
  'app_ad.descriptions',
  'app_ad.images',
  'app_ad.youtube_videos',
  'final_urls',
  'name',
]);

/**
 * App campaign image specs ([help 9247199 "Image" specs, and [doc assets/image-assets]): PNG,
 * JPEG or (non-animated) GIF, at most 5,120 KB, in one of the ratios 1:1, 1.91:1 or 4:5, each at
 * least its minimum size (1:1 200x200; 1.91:1 600x314; 4:5 320x400). Ratios are matched within
 * 1%. Off ratio: ImageError.ASPECT_RATIO_NOT_ALLOWED; too small: ImageError.IMAGE_TOO_SMALL; too
 * big: ImageError.FILE_TOO_LARGE; not an image: ImageError.INVALID_IMAGE; another format:
 * ImageError.FORMAT_NOT_ALLOWED ([proto errors/image_error.proto]).
 */
export const IMAGE_MAX_BYTES = 5_120 * 1024;
export const IMAGE_RATIOS: ReadonlyArray<{
  label: string;
  ratio: number;
  minW: number;
  minH: number;
}> = [
  { label: '1:1', ratio: 1, minW: 200, minH: 200 },
  { label: '1.91:1', ratio: 1.91, minW: 600, minH: 314 },
  { label: '4:5', ratio: 0.8, minW: 320, minH: 400 },
];
export const RATIO_TOLERANCE = 0.01;

/** The image's format by its first bytes (magic numbers): PNG, JPEG, GIF, or null. */
export function imageFormat(bytes: Buffer): 'IMAGE_PNG' | 'IMAGE_JPEG' | 'IMAGE_GIF' | null {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'IMAGE_PNG';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'IMAGE_JPEG';
  const head = bytes.subarray(0, 6).toString('latin1');
  if (head === 'GIF87a' || head === 'GIF89a') return 'IMAGE_GIF';
  return null;
}

/** The image spec a size meets (its ratio label), or the fault that refuses it. */
export function checkImageSize(width: number, height: number): string {
  const r = width / height;
  const spec = IMAGE_RATIOS.find((x) => Math.abs(r / x.ratio - 1) <= RATIO_TOLERANCE);
  if (!spec)
    throw adsError(
      'image_error',
      'ASPECT_RATIO_NOT_ALLOWED',
      `The aspect ratio of the image (${width}x${height}) is not allowed: use 1:1, 1.91:1 or 4:5.`,
      { path: 'create.image_asset.data' },
    );
  if (width < spec.minW || height < spec.minH)
    throw adsError(
      'image_error',
      'IMAGE_TOO_SMALL',
      `The image (${width}x${height}) is smaller than ${spec.minW}x${spec.minH}, the minimum for ${spec.label}.`,
      { path: 'create.image_asset.data' },
    );
  return spec.label;
}

/** A field that must be set: FieldError.REQUIRED ([proto errors/field_error.proto]). */
export function required(value: unknown, path: string): void {
  if (value === undefined || value === null || value === '')
    throw adsError('field_error', 'REQUIRED', 'The required field was not present.', { path });
}

export type { GoogleAdsFault };
