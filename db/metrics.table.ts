import type { ColumnType, Generated, Selectable } from 'kysely';

/**
 * Daily delivery of one ad as the platform reports it. `date` is a calendar day in the ad
 * account's time zone (see ad_accounts); money is in micros of the account's currency.
 */
export interface AdMetricsDailyTable {
  platform: string;
  ad_id: string;
  date: string;
  market: string;
  creative_hash: string | null;
  impressions: number;
  clicks: number;
  spend_micros: number;
  /** ISO 4217 code of `spend_micros`: the ad account's currency. */
  currency: string;
  installs: number;
  registrations: number;
  subscriptions: number;
}

/** What an MMP attributed; iOS rows are campaign-level aggregated postbacks (no ad group/creative). */
export interface MmpAttributionTable {
  source: string;
  date: string;
  platform: string | null;
  network: string;
  campaign_id: string;
  campaign: string;
  ad_group_id: string | null;
  creative_id: string | null;
  creative: string | null;
  os: 'ios' | 'android';
  aggregated: boolean;
  installs: number;
  registrations: number;
  subscriptions: number;
  ingested_at: ColumnType<Date, Date | undefined, Date>;
}

export interface AdAccountsTable {
  platform: string;
  account_id: string;
  currency: string;
  /** IANA time zone the account's reports count days in. */
  time_zone: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ModelsTable {
  id: Generated<number>;
  name: string;
  version: number;
  params: ColumnType<Record<string, unknown>, string, string>;
  features: ColumnType<string[], string, string>;
  training_from: string;
  training_to: string;
  metrics: ColumnType<Record<string, number>, string, string>;
  status: 'candidate' | 'champion' | 'retired';
  /** The model itself (ml/rank-model.ts JSON); null for registry rows of external models. */
  artifact: ColumnType<string | null, string | null | undefined, string | null>;
  promoted_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface TemplatesTable {
  id: string;
  version: number;
  theme: string;
  aspect_ratio: string;
  source_hash: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** What `learn` concluded about a creative over its lookback window, as of a date. */
export interface CreativePerformanceTable {
  creative_hash: string;
  platform: string;
  as_of: string;
  market: string;
  artist_id: string;
  template_id: string;
  impressions: number;
  clicks: number;
  spend_micros: number;
  registrations: number;
  installs: number;
  subscriptions: number;
  /** Android registrations the MMP attributed to the creative. */
  mmp_registrations: number;
  ctr: number | null;
  cvr: number | null;
  cpr_micros: number | null;
  /** Cost per subscription. */
  cps_micros: number | null;
  registration_share: number | null;
  relative_registration_share: number | null;
  relative_cpr: number | null;
}

export type AdMetricsDaily = Selectable<AdMetricsDailyTable>;
export type CreativePerformance = Selectable<CreativePerformanceTable>;
