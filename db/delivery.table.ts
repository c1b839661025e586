// What the platforms and the MMP report: daily delivery per ad, attribution, and the accounts'
// currencies and time zones (written by ingest).
import type { ColumnType, Selectable } from 'kysely';

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

export type AdMetricsDaily = Selectable<AdMetricsDailyTable>;
