// The seams inside the sandbox: what the market simulator offers the platform servers (Meta,
// TikTok, Google), and what the platform servers offer the MMP servers (Adjust, Branch). Each server is
// written against these interfaces only, never against the simulator's hidden truth.

export type Os = 'ios' | 'android';
export type PlatformName = 'meta' | 'tiktok' | 'google';

/** What the simulator needs to know about one ad to deliver it. */
export interface SimAd {
  id: string;
  platform: PlatformName;
  market: string;
  /** Content the ad's deep link opens; null when it cannot be told (delivers as average). */
  artistId: string | null;
  templateId: string | null;
  /** `9:16`, `1:1`… when known; placement fit depends on it. */
  aspectRatio?: string | null;
  /** The ad plays a video (truth.motionLift applies). Default false: a still. */
  motion?: boolean;
  /**
   * With placement asset customisation, the aspect ratio each placement group shows (`feed`,
   * `story`, `reels`); a group not named shows `aspectRatio`. Absent: every placement shows
   * `aspectRatio`.
   */
  placementRatios?: Partial<Record<'feed' | 'story' | 'reels', string>>;
  /** Sandbox date the ad was created: fatigue grows with days live. */
  createdDate: string;
}

export interface Funnel {
  installs: number;
  registrations: number;
  subscriptions: number;
}

/** One ad's delivery on one day, as the simulator decides it (the platform's own truth). */
export interface Delivery extends Funnel {
  adId: string;
  date: string;
  impressions: number;
  clicks: number;
  /** Spend in the account currency's minor units (cents). */
  spendMinor: number;
  /** The conversions split by the device OS they happened on (sums to the totals). */
  byOs: Record<Os, Funnel>;
}

export interface DeliveryModel {
  /**
   * One day of one ad set / ad group: the platform splits the budget across its active ads by its
   * own noisy estimate of their quality. Deterministic for (world seed, ad set, date, ads).
   * `oses` restricts delivery to those OS segments (OS targeting); default both.
   */
  deliverAdSet(
    budgetMinor: number,
    ads: SimAd[],
    date: string,
    adSetId: string,
    oses?: readonly Os[],
    /** The ad set's daily budget by the date it was set, in order (learning-phase effects). */
    history?: ReadonlyArray<BudgetChange>,
  ): Delivery[];
}

/** An ad set's daily budget from `date` on, in the account currency's minor units. */
export interface BudgetChange {
  date: string;
  budgetMinor: number;
}

export interface SandboxClock {
  /** The sandbox's current business date (YYYY-MM-DD). */
  today(): string;
}

/** A delivery with the platform objects it belongs to, for attribution. */
export interface AttributedDelivery {
  platform: PlatformName;
  market: string;
  campaignId: string;
  campaignName: string;
  adGroupId: string;
  adGroupName: string;
  adId: string;
  adName: string;
  delivery: Delivery;
}

/** Implemented by each platform server: everything it delivered on a date. */
export interface DeliveryLog {
  platform: PlatformName;
  deliveriesOn(date: string): AttributedDelivery[];
}
