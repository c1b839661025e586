// What `adloop report` shows, as plain JSON: delivery per day, market and ranking arm, each
// market's latest ranked list with its reasons, and the live creatives. It is assembled in
// reports/collect.ts and may travel as a Temporal payload (when a running worker owns the
// embedded database), so it holds no image bytes and no secrets, and stays well under 1 MB.
import type { IsoDate, MarketCode } from '../core/types.ts';
import type { Objective } from '../core/types.ts';
import type { ChallengerEvidence } from './arms.ts';

/** What a report is asked for. */
export interface ReportInput {
  from: IsoDate;
  to: IsoDate;
  /** Only these markets; default every market with data. */
  markets?: MarketCode[];
  /** Currency money is reported in; default the reader's REPORTING_CURRENCY. */
  currency?: string;
  /** What the arms are compared on; default the reader's RANKING_OBJECTIVE. */
  objective?: Objective;
}

/** Delivery totals and the rates derived from them. */
export interface Delivery {
  /** In the report's currency. */
  spend: number;
  impressions: number;
  clicks: number;
  registrations: number;
  subscriptions: number;
  /** Clicks per impression; null without impressions. */
  ctr: number | null;
  /** Spend per registration; null without registrations. */
  cpr: number | null;
  /** Spend per subscription; null without subscriptions. */
  cps: number | null;
}

/** One market's delivery on one day (all platforms), under the arm whose ranking chose its ads. */
export interface ReportDay extends Delivery {
  date: IsoDate;
  market: MarketCode;
  /** The policy of the market's latest ranking on or before the day; null before its first. */
  arm: string | null;
}

/** One arm's delivery on one day, over the markets it ran in. */
export interface ReportArmDay extends Delivery {
  date: IsoDate;
  arm: string;
  markets: MarketCode[];
}

export interface ReportRankedItem {
  rank: number;
  artistId: string;
  /** The catalog's name; the id when the artist is no longer in the catalog. */
  artistName: string;
  templateId: string;
  score: number;
  selection: 'exploit' | 'explore';
  propensity: number;
  /** Feature contributions to the score (ML) or its components (heuristic), by name. */
  reasons: Record<string, number>;
}

export interface ReportRanking {
  market: MarketCode;
  date: IsoDate;
  policy: string;
  /** computed, fallback-previous or fallback-catalog-only. */
  source: string;
  basedOn: IsoDate | null;
  modelVersion: string | null;
  /** Items in the ranking; `items` holds at most the report's limit of them. */
  itemCount: number;
  items: ReportRankedItem[];
}

/** One live ad on a platform and the creative it shows. */
export interface ReportLiveAd {
  platform: string;
  market: MarketCode;
  adId: string;
  adName: string;
  creativeHash: string;
  artistId: string | null;
  artistName: string | null;
  templateId: string | null;
  language: string | null;
  /** Creative-store key of a still of the creative (1:1 preferred); null when none is recorded. */
  stillKey: string | null;
  stillRatio: string | null;
  /** approved, pending or rejected, as the platform's review last said; null when unknown. */
  reviewStatus: string | null;
  reviewReason: string | null;
  /** When adloop last saw the ad's state (ISO timestamp). */
  updatedAt: string;
}

/** One market's budget on one platform for one day, as the allocator set it (decisions/budget). */
export interface ReportBudget {
  date: IsoDate;
  market: MarketCode;
  platform: string;
  /** Daily budget of the market's ad sets on the platform, in the report's currency. */
  budget: number;
  /** The day before's, or null when the unit was new. */
  previous: number | null;
  /** Results the allocator expected at that budget (its model's mean). */
  expectedResults: number;
  /** What the next result was expected to cost there, in the report's currency; null if unknown. */
  marginalCost: number | null;
  /** Relative uncertainty of the unit's rate. */
  uncertainty: number;
  exploring: boolean;
  /** What bounded it: change-up, market-max, platform-min…; null when nothing did. */
  bound: string | null;
  /** Why, in one sentence. */
  reason: string;
}

export interface ReportData {
  version: 1;
  from: IsoDate;
  to: IsoDate;
  /** ISO timestamp of when the data was read. */
  generatedAt: string;
  currency: string;
  objective: Objective;
  /** Markets with delivery, a ranking or a live ad, sorted. */
  markets: MarketCode[];
  /** By date, then market. */
  days: ReportDay[];
  /** By date, then arm. */
  armDays: ReportArmDay[];
  /** Models trained on data up to a day in the range, evaluated off-policy; oldest first. */
  challengers: ChallengerEvidence[];
  /** Each market's latest ranking dated within the range, by market. */
  rankings: ReportRanking[];
  /** Ads live now (status active), by market, platform and name. */
  liveAds: ReportLiveAd[];
  /** Budget allocations in the range, by date, market and platform (absent in older exports). */
  budgets?: ReportBudget[];
}

/** Adds two deliveries' counts (rates are recomputed by `withRates`). */
export function addDelivery<T extends Delivery>(into: T, d: Delivery): T {
  into.spend += d.spend;
  into.impressions += d.impressions;
  into.clicks += d.clicks;
  into.registrations += d.registrations;
  into.subscriptions += d.subscriptions;
  return withRates(into);
}

/** Sets ctr, cpr and cps from the counts. */
export function withRates<T extends Delivery>(d: T): T {
  d.ctr = d.impressions > 0 ? d.clicks / d.impressions : null;
  d.cpr = d.registrations > 0 ? d.spend / d.registrations : null;
  d.cps = d.subscriptions > 0 ? d.spend / d.subscriptions : null;
  return d;
}

export const emptyDelivery = (): Delivery => ({
  spend: 0,
  impressions: 0,
  clicks: 0,
  registrations: 0,
  subscriptions: 0,
  ctr: null,
  cpr: null,
  cps: null,
});

/** Cost per conversion of the objective: CPR for registrations, cost per subscription else. */
export const costPerConversion = (d: Delivery, objective: Objective): number | null =>
  objective === 'subscriptions' ? d.cps : d.cpr;

/** Conversions of the objective. */
export const conversions = (d: Delivery, objective: Objective): number =>
  objective === 'subscriptions' ? d.subscriptions : d.registrations;

/** Sum of every day's delivery (the report's totals). */
export function totalDelivery(days: readonly Delivery[]): Delivery {
  return days.reduce((t, d) => addDelivery(t, d), emptyDelivery());
}
