// What learn concluded about each creative (written by learn, read by rank and the report).
import type { Selectable } from 'kysely';

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

export type CreativePerformance = Selectable<CreativePerformanceTable>;
