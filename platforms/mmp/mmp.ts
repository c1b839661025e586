// The one interface adloop reads attribution through, whichever mobile measurement partner (MMP)
// the app uses (the types; `createMmp(config)` in index.ts picks the client). Switching between
// Adjust and Branch is a config change.
//
// Rows are the MMP's truth, not the ad platform's: fewer than delivered (loss), partial for recent
// days (delay), and iOS only as campaign-level aggregated postbacks (SKAdNetwork) that arrive days
// late and noisy. Such rows have `aggregated: true` and null ad group and creative: never spread
// them onto creatives; compare creatives on Android rows and campaigns on both.
export type MmpProvider = 'adjust' | 'branch';

export interface AttributionRow {
  /** The day the installs and events happened (YYYY-MM-DD). */
  date: string;
  /** The ad platform, when the MMP's network name is one adloop knows. */
  platform: 'meta' | 'tiktok' | null;
  /** The MMP's own name of the network (partner), e.g. `Facebook`. */
  network: string;
  campaignId: string;
  campaign: string;
  /** Null on aggregated (iOS) rows. */
  adGroupId: string | null;
  adGroup: string | null;
  /** The ad (creative) id and name; null on aggregated (iOS) rows. */
  creativeId: string | null;
  creative: string | null;
  os: 'ios' | 'android';
  installs: number;
  registrations: number;
  subscriptions: number;
  /** True for SKAdNetwork-like campaign-level postbacks. */
  aggregated: boolean;
}

export interface Mmp {
  provider: MmpProvider;
  /** Attributed rows for every day of [since, until] (inclusive, YYYY-MM-DD). */
  attribution(range: { since: string; until: string }): Promise<AttributionRow[]>;
}
