// The resources the sandbox answers queries about, with the fields it knows of each: the subset of
// the v24 resources (google/ads/googleads/v24/resources/*.proto, and the field reference at
// https://developers.google.com/google-ads/api/fields/v24/overview) adloop reads. A field outside
// this table is refused (UNRECOGNIZED_FIELD), as Google refuses a misspelt one.
import type { FieldDef, GaqlSchema } from './gaql.ts';

const s: FieldDef = { type: 'string' };
const i: FieldDef = { type: 'int64' };
const d: FieldDef = { type: 'double' };
const b: FieldDef = { type: 'bool' };
const list: FieldDef = { type: 'list' };
const e = (...values: string[]): FieldDef => ({
  type: 'enum',
  values: ['UNSPECIFIED', 'UNKNOWN', ...values],
});

const STATUS = e('ENABLED', 'PAUSED', 'REMOVED');
const APPROVAL = e('DISAPPROVED', 'APPROVED_LIMITED', 'APPROVED', 'AREA_OF_INTEREST_ONLY');
const REVIEW = e('REVIEW_IN_PROGRESS', 'REVIEWED', 'UNDER_APPEAL', 'ELIGIBLE_MAY_SERVE');

/** Metrics per asset, ad group and campaign (metrics.proto). */
const METRICS = [
  'metrics.impressions',
  'metrics.clicks',
  'metrics.cost_micros',
  'metrics.conversions',
  'metrics.all_conversions',
];
/**
 * Conversion segments: "segments.conversion_action ... cannot be selected with metrics such as
 * impressions, clicks or cost" (https://developers.google.com/google-ads/api/docs/conversions/
 * reporting#segmenting_by_conversion_action); only conversion metrics split by them.
 */
const CONVERSION_SEGMENTS = [
  'segments.conversion_action',
  'segments.conversion_action_name',
  'segments.conversion_action_category',
];

export const GOOGLE_SCHEMA: GaqlSchema = {
  resources: {
    customer: {
      fields: {
        'customer.id': i,
        'customer.descriptive_name': s,
        'customer.currency_code': s,
        'customer.time_zone': s,
        'customer.test_account': b,
        'customer.manager': b,
        'customer.status': e('ENABLED', 'CANCELED', 'SUSPENDED', 'CLOSED'),
        'customer.resource_name': s,
      },
    },
    campaign_budget: {
      fields: {
        'campaign_budget.id': i,
        'campaign_budget.name': s,
        'campaign_budget.amount_micros': i,
        'campaign_budget.status': e('ENABLED', 'REMOVED'),
        'campaign_budget.resource_name': s,
        'campaign_budget.explicitly_shared': b,
        'campaign_budget.delivery_method': e('STANDARD', 'ACCELERATED'),
      },
    },
    campaign: {
      related: ['campaign_budget', 'customer'],
      fields: {
        'campaign.id': i,
        'campaign.name': s,
        'campaign.status': STATUS,
        'campaign.resource_name': s,
        'campaign.advertising_channel_type': e(
          'SEARCH',
          'DISPLAY',
          'SHOPPING',
          'HOTEL',
          'VIDEO',
          'MULTI_CHANNEL',
          'LOCAL',
          'SMART',
          'PERFORMANCE_MAX',
          'LOCAL_SERVICES',
          'TRAVEL',
          'DEMAND_GEN',
        ),
        'campaign.advertising_channel_sub_type': e(
          'APP_CAMPAIGN',
          'APP_CAMPAIGN_FOR_ENGAGEMENT',
          'APP_CAMPAIGN_FOR_PRE_REGISTRATION',
        ),
        'campaign.campaign_budget': s,
        'campaign.app_campaign_setting.app_id': s,
        'campaign.app_campaign_setting.app_store': e('APPLE_APP_STORE', 'GOOGLE_APP_STORE'),
        'campaign.app_campaign_setting.bidding_strategy_goal_type': e(
          'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
          'OPTIMIZE_IN_APP_CONVERSIONS_TARGET_INSTALL_COST',
          'OPTIMIZE_IN_APP_CONVERSIONS_TARGET_CONVERSION_COST',
          'OPTIMIZE_RETURN_ON_ADVERTISING_SPEND',
          'OPTIMIZE_PRE_REGISTRATION_CONVERSION_VOLUME',
          'OPTIMIZE_INSTALLS_WITHOUT_TARGET_INSTALL_COST',
          'OPTIMIZE_IN_APP_CONVERSIONS_WITHOUT_TARGET_CPA',
          'OPTIMIZE_TOTAL_VALUE_WITHOUT_TARGET_ROAS',
        ),
        'campaign.target_cpa.target_cpa_micros': i,
        'campaign.selective_optimization.conversion_actions': list,
        'campaign.serving_status': e('SERVING', 'NONE', 'ENDED', 'PENDING', 'SUSPENDED'),
      },
      metrics: METRICS.slice(0, 4),
      segments: ['segments.date'],
    },
    campaign_criterion: {
      related: ['campaign'],
      fields: {
        'campaign_criterion.resource_name': s,
        'campaign_criterion.campaign': s,
        'campaign_criterion.criterion_id': i,
        'campaign_criterion.type': e('LOCATION', 'LANGUAGE'),
        'campaign_criterion.location.geo_target_constant': s,
        'campaign_criterion.language.language_constant': s,
        'campaign_criterion.negative': b,
      },
    },
    ad_group: {
      related: ['campaign'],
      fields: {
        'ad_group.id': i,
        'ad_group.name': s,
        'ad_group.status': STATUS,
        'ad_group.campaign': s,
        'ad_group.resource_name': s,
        'ad_group.type': e('DISPLAY_STANDARD', 'SEARCH_STANDARD', 'VIDEO_RESPONSIVE'),
      },
      metrics: METRICS.slice(0, 4),
      segments: ['segments.date'],
    },
    ad_group_ad: {
      related: ['ad_group', 'campaign'],
      fields: {
        'ad_group_ad.resource_name': s,
        'ad_group_ad.status': STATUS,
        'ad_group_ad.ad.id': i,
        'ad_group_ad.ad.resource_name': s,
        'ad_group_ad.ad.name': s,
        'ad_group_ad.ad.type': e('APP_AD', 'APP_ENGAGEMENT_AD', 'APP_PRE_REGISTRATION_AD'),
        'ad_group_ad.ad.final_urls': list,
        'ad_group_ad.ad.app_ad.headlines': list,
        'ad_group_ad.ad.app_ad.descriptions': list,
        'ad_group_ad.ad.app_ad.images': list,
        'ad_group_ad.ad.app_ad.youtube_videos': list,
        'ad_group_ad.ad_group': s,
        'ad_group_ad.policy_summary.approval_status': APPROVAL,
        'ad_group_ad.policy_summary.review_status': REVIEW,
      },
    },
    asset: {
      fields: {
        'asset.id': i,
        'asset.name': s,
        'asset.type': e('YOUTUBE_VIDEO', 'IMAGE', 'TEXT'),
        'asset.resource_name': s,
        'asset.image_asset.full_size.width_pixels': i,
        'asset.image_asset.full_size.height_pixels': i,
        'asset.image_asset.file_size': i,
        'asset.image_asset.mime_type': e('IMAGE_JPEG', 'IMAGE_GIF', 'IMAGE_PNG'),
        'asset.youtube_video_asset.youtube_video_id': s,
        'asset.youtube_video_asset.youtube_video_title': s,
      },
    },
    conversion_action: {
      fields: {
        'conversion_action.id': i,
        'conversion_action.name': s,
        'conversion_action.type': { type: 'string' },
        'conversion_action.status': e('ENABLED', 'REMOVED', 'HIDDEN'),
        'conversion_action.category': e(
          'DEFAULT',
          'DOWNLOAD',
          'SIGNUP',
          'PURCHASE',
          'SUBSCRIBE_PAID',
        ),
        'conversion_action.resource_name': s,
      },
    },
    ad_group_ad_asset_view: {
      related: ['ad_group_ad', 'ad_group', 'campaign', 'asset'],
      fields: {
        'ad_group_ad_asset_view.resource_name': s,
        'ad_group_ad_asset_view.ad_group_ad': s,
        'ad_group_ad_asset_view.asset': s,
        'ad_group_ad_asset_view.field_type': e(
          'HEADLINE',
          'DESCRIPTION',
          'MARKETING_IMAGE',
          'YOUTUBE_VIDEO',
        ),
        'ad_group_ad_asset_view.enabled': b,
        'ad_group_ad_asset_view.performance_label': e(
          'PENDING',
          'LEARNING',
          'LOW',
          'GOOD',
          'BEST',
          'NOT_APPLICABLE',
        ),
        'ad_group_ad_asset_view.policy_summary.approval_status': APPROVAL,
        'ad_group_ad_asset_view.policy_summary.policy_topic_entries': list,
        'ad_group_ad_asset_view.policy_summary.review_status': REVIEW,
      },
      metrics: METRICS,
      segments: ['segments.date', 'segments.ad_network_type', ...CONVERSION_SEGMENTS],
    },
    ad_group_ad_asset_combination_view: {
      related: ['ad_group_ad', 'ad_group', 'campaign'],
      fields: {
        'ad_group_ad_asset_combination_view.resource_name': s,
        'ad_group_ad_asset_combination_view.served_assets': list,
        'ad_group_ad_asset_combination_view.enabled': b,
      },
      metrics: ['metrics.impressions'],
      segments: ['segments.date'],
    },
  },
  metrics: {
    'metrics.impressions': i,
    'metrics.clicks': i,
    'metrics.cost_micros': i,
    'metrics.conversions': d,
    'metrics.all_conversions': d,
  },
  segments: {
    'segments.date': { type: 'date' },
    'segments.ad_network_type': e(
      'SEARCH',
      'SEARCH_PARTNERS',
      'CONTENT',
      'YOUTUBE',
      'GOOGLE_TV',
      'MIXED',
    ),
    'segments.conversion_action': s,
    'segments.conversion_action_name': s,
    'segments.conversion_action_category': e(
      'DEFAULT',
      'DOWNLOAD',
      'SIGNUP',
      'PURCHASE',
      'SUBSCRIBE_PAID',
    ),
  },
  segmentMetricConflicts: [
    {
      segments: CONVERSION_SEGMENTS,
      metrics: ['metrics.impressions', 'metrics.clicks', 'metrics.cost_micros'],
    },
  ],
};
