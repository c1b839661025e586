import type { Selectable } from 'kysely';

/** Daily delivery of one ad as the platform reports it. Money in micros of the account currency. */
export interface AdMetricsDailyTable {
  platform: string;
  ad_id: string;
  date: string;
  market: string;
  creative_hash: string | null;
  impressions: number;
  clicks: number;
  spend_micros: number;
  installs: number;
  registrations: number;
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
  ctr: number | null;
  cpr_micros: number | null;
}

export type AdMetricsDaily = Selectable<AdMetricsDailyTable>;
export type CreativePerformance = Selectable<CreativePerformanceTable>;
