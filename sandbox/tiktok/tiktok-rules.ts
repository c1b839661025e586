// The limits and enums the sandbox enforces, each with where TikTok documents it. Sources:
//   [page X]  TikTok's API reference page X, as scraped in github.com/ckr2436/Tiktok-OPS under
//             docs/tiktok_api/pages/API Reference/ (e.g. "Ad Groups/Create_an_ad_group__b8cab04e.json")
//   [sdk X]   tiktok-business-api-sdk-official (node_modules), docs/X
//   [spec X]  github.com/tiktok/tiktok-business-api-sdk, yml_files/X
import { MiB } from '../platform-server/index.ts';

/** [page Ads/Create_ads__66f9a37f.json] creatives: "Max size: 20 ... a maximum of 20 ads in a single request". */
export const MAX_CREATIVES_PER_CREATE = 20;
/** [page Ads/Update_the_statuses_of_ads__020ea26b.json] ad_ids: "Allowed quantity: 1-20". */
export const MAX_AD_IDS_PER_STATUS_UPDATE = 20;
/** [page Ad Groups/Update_the_statuses_of_ad_groups__8dae30bc.json] adgroup_ids: "Size range: 1-20". */
export const MAX_ADGROUP_IDS_PER_STATUS_UPDATE = 20;
/**
 * Campaign status updates: the reference page (Campaign/Update_the_operation_statuses_of_campaigns
 * __42d3d02a.json) gives campaign_ids no size; the sandbox applies the ad group limit of 20.
 */
export const MAX_CAMPAIGN_IDS_PER_STATUS_UPDATE = 20;
/** [page Ad Review/Get_review_info_of_ads__09f8ebd5.json] ad_ids: "Quantity: 1-100". */
export const MAX_REVIEW_IDS = 100;
/** [page Video/Get_info_about_videos__05b7d592.json] video_ids: "Max size: 60". */
export const MAX_VIDEO_INFO_IDS = 60;
/**
 * [page Campaign/Get_campaigns, Ad Groups/Get_ad_groups, Ads/Get_ads, Reporting/Run_a_synchronous
 * _report] page_size: "Default value: 10. Value range: 1-1,000".
 */
export const PAGE_SIZE = { fallback: 10, max: 1000 } as const;
/**
 * [page Reporting/Run_a_synchronous_report__9644f3cd.json] start_date/end_date: "the maximum time
 * range ... is 365 days"; "includes stat_time_day ... 30 days".
 */
export const MAX_REPORT_DAYS = 365;
export const MAX_DAILY_REPORT_DAYS = 30;
/** [page Campaign/Create_a_campaign; Ad Groups/Create_an_ad_group] names: "Length limit: 512". */
export const MAX_NAME = 512;
/** [page Ads/Create_ads] ad_text: "Length limit ... 100 characters". */
export const MAX_AD_TEXT = 100;
/**
 * [page Campaign/Create_a_campaign, Ad Groups/Create_an_ad_group] request_id: "a string
 * representation of a 64-bit integer number"; "idempotency ... within 10 seconds".
 */
export const REQUEST_ID = /^\d{1,19}$/;
export const REQUEST_ID_WINDOW_MS = 10_000;
/** [page Images/Upload_an_image__ec779a70.json] image_file: "File size: within 50 MB". */
export const MAX_IMAGE_BYTES = 50 * 1024 * 1024;
/** [page Images/Upload_an_image] "total pixel count ... should not exceed 3,686,400 pixels". */
export const MAX_IMAGE_PIXELS = 3_686_400;
/** [page Images/Upload_an_image] file_name: "Length limit: 1-100 characters". */
export const MAX_FILE_NAME = 100;
/** Bound of one request body other than an upload: no JSON request of this API is near 1 MB. */
export const MAX_JSON_BODY = MiB;
/** Bound of a file/image/ad/upload body: one image of at most 50 MB (MAX_IMAGE_BYTES) and its form. */
export const MAX_IMAGE_UPLOAD_BODY = 64 * MiB;
/**
 * Bound of a file/video/ad/upload body: one video of at most 500 MB ("File Size within 500MB",
 * https://ads.tiktok.com/help/article/video-ads-specifications, as render/platform-specs.ts cites
 * it, read either way, 10^6 or 2^20) and its form.
 */
export const MAX_VIDEO_UPLOAD_BODY = 512 * MiB;

/** The body limit of a request to `endpoint` (`file/image/ad/upload`...). */
export function maxBodyBytes(endpoint: string | undefined): number {
  return endpoint === 'file/image/ad/upload'
    ? MAX_IMAGE_UPLOAD_BODY
    : endpoint === 'file/video/ad/upload'
      ? MAX_VIDEO_UPLOAD_BODY
      : MAX_JSON_BODY;
}

/** [page Campaign/Create_a_campaign] objective_type: see "Objectives". */
export const OBJECTIVES = new Set([
  'APP_PROMOTION',
  'TRAFFIC',
  'REACH',
  'VIDEO_VIEWS',
  'ENGAGEMENT',
  'LEAD_GENERATION',
  'WEB_CONVERSIONS',
  'PRODUCT_SALES',
]);
/** [page Campaign/Create_a_campaign] app_promotion_type: "Required when objective_type is APP_PROMOTION". */
export const APP_PROMOTION_TYPES = new Set([
  'APP_INSTALL',
  'APP_RETARGETING',
  'APP_PREREGISTRATION',
]);
/** [page Campaign/Create_a_campaign] budget_mode enum values. */
export const CAMPAIGN_BUDGET_MODES = new Set([
  'BUDGET_MODE_INFINITE',
  'BUDGET_MODE_DAY',
  'BUDGET_MODE_TOTAL',
  'BUDGET_MODE_DYNAMIC_DAILY_BUDGET',
]);
/**
 * [page Ad Groups/Create_an_ad_group] budget_mode (BUDGET_MODE_TOTAL needs SCHEDULE_START_END).
 * The sandbox delivers day by day, so it takes only the daily modes.
 */
export const ADGROUP_BUDGET_MODES = new Set([
  'BUDGET_MODE_DAY',
  'BUDGET_MODE_DYNAMIC_DAILY_BUDGET',
]);
/**
 * [page Ad Groups/Update_an_ad_group__ea6618b0.json] adgroup/update: adgroup_id and advertiser_id
 * are required, every other field optional. The sandbox changes `budget` only (what adloop
 * changes; [sdk AdgroupUpdateBody.md] lists the rest) and refuses the others rather than ignore
 * them. Of `budget` the page says "It cannot be updated when Campaign Budget Optimization
 * (budget_optimize_on) is on" (enforced) and "The new budget should be at least 105% of the
 * current spend", which never binds here: the sandbox has no time of day, a change made on a day
 * counts for the whole day (its delivery is decided by the budget at the day's end), so no spend
 * of the day precedes it. TikTok's other budget endpoint, adgroup/budget/update ([page Ad
 * Groups/Update_the_budgets_of_ad_groups__c95e6784.json]), changes a daily budget only as
 * `scheduled_budget`, "from 00:00 a.m. the following day", and is not in the SDK: the sandbox
 * does not serve it.
 */
export const ADGROUP_UPDATE_FIELDS = new Set(['advertiser_id', 'adgroup_id', 'budget']);
/** [page Ad Groups/Create_an_ad_group] placement_type, default PLACEMENT_TYPE_NORMAL. */
export const PLACEMENT_TYPES = new Set(['PLACEMENT_TYPE_AUTOMATIC', 'PLACEMENT_TYPE_NORMAL']);
/** [page Ad Groups/Create_an_ad_group] placements currently supported. */
export const PLACEMENTS = new Set([
  'PLACEMENT_TIKTOK',
  'PLACEMENT_PANGLE',
  'PLACEMENT_GLOBAL_APP_BUNDLE',
]);
/** [page Ad Groups/Create_an_ad_group] schedule_type. */
export const SCHEDULE_TYPES = new Set(['SCHEDULE_FROM_NOW', 'SCHEDULE_START_END']);
/** [page Ad Groups/Create_an_ad_group] schedule_start_time: "cannot be later than 2028-01-01 00:00:00". */
export const LATEST_START = '2028-01-01 00:00:00';
/** [page Ad Groups/Create_an_ad_group] pacing: PACING_MODE_SMOOTH or PACING_MODE_FAST, required without CBO. */
export const PACING_MODES = new Set(['PACING_MODE_SMOOTH', 'PACING_MODE_FAST']);
/**
 * [page Ad Groups/Create_an_ad_group] optimization_goal, each with "the corresponding
 * billing_event" (Enumeration - Optimization Goal / Billing Event).
 */
export const BILLING_EVENT_OF_GOAL: Readonly<Record<string, readonly string[]>> = {
  CLICK: ['CPC'],
  INSTALL: ['OCPM'],
  IN_APP_EVENT: ['OCPM'],
  VALUE: ['OCPM'],
  REACH: ['CPM'],
  CONVERT: ['OCPM'],
  SHOW: ['CPM'],
  TRAFFIC_LANDING_PAGE_VIEW: ['OCPM'],
};
/** [page Ad Groups/Create_an_ad_group] optimization_event: required for IN_APP_EVENT or VALUE. */
export const GOALS_WITH_EVENT = new Set(['IN_APP_EVENT', 'VALUE']);
/**
 * The in-app events the world's app reports to TikTok through its MMP, by TikTok's app event
 * names (Appendix, "Conversion events": ACTIVE = activation, ACTIVE_REGISTER = registration,
 * ACTIVE_PAY = purchase, SUBSCRIBE = subscription). An app ad group can only optimise for an
 * event its app sends (app/optimization_event lists them), so any other is refused.
 */
export const APP_OPTIMIZATION_EVENTS = new Set([
  'ACTIVE',
  'ACTIVE_REGISTER',
  'ACTIVE_PAY',
  'SUBSCRIBE',
]);
/** Enumeration - Bidding Strategy (bid_type). */
export const BID_TYPES = new Set(['BID_TYPE_NO_BID', 'BID_TYPE_CUSTOM', 'BID_TYPE_MAX_CONVERSION']);
/**
 * [page Ad Groups/Create_an_ad_group] operating_systems: "Only one value is allowed. Enum values:
 * ANDROID, IOS. ... required ... objective_type is APP_PROMOTION".
 */
export const OPERATING_SYSTEMS = new Set(['IOS', 'ANDROID']);
/** Enumeration - Promotion Type: the app promotion values, by the OS they promote. */
export const APP_PROMOTION_TYPE_OF_OS: Readonly<Record<string, string>> = {
  IOS: 'APP_IOS',
  ANDROID: 'APP_ANDROID',
};
/** [page Campaign/Create_a_campaign] operation_status on create: ENABLE (default) or DISABLE. */
export const CREATE_STATUSES = new Set(['ENABLE', 'DISABLE']);
/** [page Ads/Update_the_statuses_of_ads] operation_status: DELETE, DISABLE, ENABLE. */
export const STATUS_UPDATES = new Set(['ENABLE', 'DISABLE', 'DELETE']);
/** [page Ads/Create_ads] identity_type enum. */
export const IDENTITY_TYPES = new Set(['CUSTOMIZED_USER', 'AUTH_CODE', 'TT_USER', 'BC_AUTH_TT']);
/** [page Ads/Create_ads] ad_format: the single-media formats the sandbox serves. */
export const AD_FORMATS = new Set(['SINGLE_IMAGE', 'SINGLE_VIDEO']);
/** [page Ads/Create_ads] deeplink_type. */
export const DEEPLINK_TYPES = new Set(['NORMAL', 'DEFERRED_DEEPLINK']);
/** Enumeration - Call-to-Action (call_to_action): the values the sandbox knows. */
export const CALLS_TO_ACTION = new Set([
  'LEARN_MORE',
  'DOWNLOAD_NOW',
  'INSTALL_NOW',
  'PLAY_GAME',
  'SIGN_UP',
  'SUBSCRIBE',
  'LISTEN_NOW',
  'WATCH_NOW',
  'SHOP_NOW',
  'ORDER_NOW',
  'BOOK_NOW',
  'CONTACT_US',
  'APPLY_NOW',
  'READ_MORE',
  'VIEW_NOW',
  'EXPERIENCE_NOW',
  'INTERESTED',
]);
/** [page Images/Upload_an_image] upload_type. */
export const IMAGE_UPLOAD_TYPES = new Set(['UPLOAD_BY_FILE', 'UPLOAD_BY_URL', 'UPLOAD_BY_FILE_ID']);
/** [sdk FileApi.md adVideoUpload] upload_type values (file, URL, file id, video id). */
export const VIDEO_UPLOAD_TYPES = new Set([
  'UPLOAD_BY_FILE',
  'UPLOAD_BY_URL',
  'UPLOAD_BY_FILE_ID',
  'UPLOAD_BY_VIDEO_ID',
]);
/** [page Images/Upload_an_image] "Recommended settings": JPG, JPEG, PNG. */
export const IMAGE_FORMATS = new Set(['jpeg', 'png']);
/** [page Ad Groups/Get_ad_groups] primary_status (Enumeration - Primary Status), default STATUS_NOT_DELETE. */
export const PRIMARY_STATUSES = new Set([
  'STATUS_ALL',
  'STATUS_NOT_DELETE',
  'STATUS_DELETE',
  'STATUS_DELIVERY_OK',
  'STATUS_DISABLE',
  'STATUS_NOT_DELIVERY',
]);
