// Domain types shared by workflows, activities and scripts. Pure types only: workflows import this.

/** ISO date `YYYY-MM-DD`, the business day a loop runs for. */
export type IsoDate = string;

/** Upper-case ISO 3166-1 alpha-2 market code, e.g. `SE`. */
export type MarketCode = string;

export const STAGES = ['ingest', 'rank', 'render', 'deploy', 'learn'] as const;
export type Stage = (typeof STAGES)[number];

/** Every ad platform deploy can write to (DEPLOY_PLATFORMS chooses among them). */
export const DEPLOY_PLATFORMS = ['meta', 'tiktok', 'google'] as const;
export type DeployPlatform = (typeof DEPLOY_PLATFORMS)[number];

/** Task queue of the render workers unless the loop is started with another. */
export const DEFAULT_RENDER_TASK_QUEUE = 'adloop-render';

/** Aspect ratios every template provides a variant for. */
export const ASPECT_RATIOS = ['1:1', '4:5', '9:16', '16:9'] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

/** A static image (PNG or JPEG) or a motion video (MP4 H.264). */
export const CREATIVE_KINDS = ['static', 'motion'] as const;
export type CreativeKind = (typeof CREATIVE_KINDS)[number];

/** How a market's candidates are ranked: the learned model, or the seed heuristic. */
export type RankingPolicy = 'ml' | 'heuristic';

/** The heuristic's three factors' weights, summing to 1. */
export interface HeuristicWeights {
  popularity: number;
  registrationShare: number;
  diversity: number;
}

export interface MarketLoopInput {
  market: MarketCode;
  date: IsoDate;
  /** Task queue the render stage runs on. Default DEFAULT_RENDER_TASK_QUEUE. */
  renderTaskQueue?: string;
  /**
   * Rank again although the day has a computed ranking stored. Without it a run of a day that was
   * ranked already (a rerun, a retried or restarted run) reuses that ranking, so it recovers the
   * day rather than reshuffling it.
   */
  rerank?: boolean;
}

export interface DailyLoopInput {
  date: IsoDate;
  /** Task queue the render stage runs on. Default DEFAULT_RENDER_TASK_QUEUE. */
  renderTaskQueue?: string;
  /** Markets to run; defaults to every market in the catalog. */
  markets?: MarketCode[];
}

export interface RankedItem {
  rank: number;
  artistId: string;
  templateId: string;
  score: number;
  /** Score components, kept so a person can see why an item ranks where it does. */
  reasons: Record<string, number>;
  /** 'exploit' (best predicted) or 'explore' (Thompson sampling); absent means exploit. */
  selection?: 'exploit' | 'explore';
  /** Probability the policy chose this item given those above it; absent means 1. */
  propensity?: number;
}

export type RankingSource = 'computed' | 'fallback-previous' | 'fallback-catalog-only';

export interface RankingResult {
  market: MarketCode;
  date: IsoDate;
  policy: string;
  source: RankingSource;
  /** When the ranking was copied from an earlier day, that day. */
  basedOn: IsoDate | null;
  /** The model that scored it; absent for the heuristic. */
  modelVersion?: string | null;
  items: RankedItem[];
}

export interface RankStageResult {
  ranking: RankingResult;
  /** The top of the ranking that gets rendered and deployed today. */
  selected: RankedItem[];
  /** True when the day's stored ranking was reused rather than ranked again. */
  reused?: boolean;
}

export interface RenderedCreative {
  hash: string;
  artistId: string;
  templateId: string;
  /** Local path (or URI) of the asset deploy uploads. */
  path: string;
  /** Its key in the creative store (absent in runs from before the store existed). */
  assetKey?: string;
  format?: string;
  /** The ad's text fields: primary text and headline. */
  adText?: { message: string; headline: string };
  /**
   * The asset each deploy slot gets (QA passed on its platform): one per platform, Google's video
   * (`google-video`, a YouTube video beside the `google` image) and Meta's two video cuts
   * (`meta-video-vertical` for stories and reels, `meta-video-feed` for feeds); absent for runs
   * from before TikTok deploy, which deploy `assetKey` to Meta.
   */
  platformAssets?: Partial<Record<DeploySlot, DeployAsset>>;
}

/**
 * Where a rendered asset goes: a platform's ad, Google's video beside its image, or one of the two
 * cuts of a Meta video ad (the still in `meta` stays its fallback).
 */
export type DeploySlot =
  'meta' | 'tiktok' | 'google' | 'google-video' | 'meta-video-vertical' | 'meta-video-feed';
export const DEPLOY_SLOTS: readonly DeploySlot[] = [
  'meta',
  'tiktok',
  'google',
  'google-video',
  'meta-video-vertical',
  'meta-video-feed',
];

/** One rendered file a platform receives. */
export interface DeployAsset {
  key: string;
  format: string;
  kind: 'static' | 'motion';
  ratio: string;
}

export interface DeployResult {
  created: number;
  /** Ads kept as they were (and resumed ones). */
  reused: number;
  paused: number;
  /** Live adloop ads after the deploy, all platforms. */
  adIds: string[];
  resumed?: number;
  archived?: number;
  /** Platform writes made (each audited). */
  writes?: number;
  /**
   * Twins deleted (campaigns and ad sets before switching on; ads, ad sets and campaigns again once
   * writes sent without an answer had time to land) and statuses set again then
   * (activities/deploy/deploy.ts, removeObjectTwins and reconcile); absent when none.
   */
  reconciled?: number;
  /** Creatives the platforms' review rejected today; their slots went to the next ranked. */
  rejected?: Array<{ platform: string; hash: string; reason: string }>;
  /** The day's budget allocation the ad sets were set to (absent without one). */
  budgets?: BudgetPlanResult;
  /** Ad sets whose daily budget this deploy changed. */
  budgetChanges?: number;
  /**
   * Per platform: live ad ids, and where the platform tells ads in motion from stills (Meta), how
   * many of the live ads are each.
   */
  platforms?: Record<
    string,
    { adIds: string[]; adSets: string[]; videoAds?: number; stillAds?: number }
  >;
  /**
   * Creatives that run as their still where a video ad was meant (Meta: a video that failed or
   * did not finish processing, a video creative refused, a video ad the review disapproved), each
   * once per platform, with why; absent when none.
   */
  fallbacks?: Array<{ platform: string; hash: string; reason: string }>;
}

/** Delivery and conversions of an ad or creative over some days. Money in micros. */
export interface DeliveryCounts {
  impressions: number;
  clicks: number;
  spendMicros: number;
  installs: number;
  registrations: number;
  subscriptions: number;
}

export interface LearnResult {
  creatives: number;
  impressions: number;
  clicks: number;
  registrations: number;
  /** Spend over the window, in micros of the reporting currency. */
  spendMicros: number;
  reportingCurrency: string;
  /** What the evidence cannot tell, said where it applies (Google's own asset combinations). */
  caveats?: string[];
}

export interface IngestCatalogResult {
  artists: number;
  /** Rows of the source that were skipped as invalid. */
  rejected: number;
  /** The first of them: line and reason. */
  errors: Array<{ line: number; reason: string }>;
}

export interface IngestMetricsResult {
  rows: number;
  /** The first day read: the lookback, or further back after days that could not be read. */
  since?: IsoDate;
}

export interface MarketLoopResult {
  market: MarketCode;
  date: IsoDate;
  /** `skipped`: the market was paused when the run started, so nothing ran. */
  status: 'completed' | 'failed' | 'skipped';
  fallbackUsed: boolean;
  ranking: { source: RankingSource; items: number; reused?: boolean };
  deploy: DeployResult | null;
  learn: LearnResult | null;
  /** Why the run is degraded (empty when nothing was): e.g. the MMP down past its retries. */
  degraded?: string[];
  error?: string;
}

/** What the day's model training did (see activities/learn/train.ts). */
export interface ModelTrainingResult {
  trained: boolean;
  /** Why it was or was not promoted, or why nothing was trained. */
  reason: string;
  version: number | null;
  promoted: boolean;
  metrics: Record<string, number>;
}

export interface DailyLoopResult {
  date: IsoDate;
  markets: MarketLoopResult[];
  /** The day's ranking-model training; absent in runs recorded before it existed. */
  training?: ModelTrainingResult | { error: string };
}

/** What the day's budget allocation came to (activities/budget); no amounts per unit. */
export type BudgetPlanResult =
  | { enabled: false; date: IsoDate; reason: string }
  | {
      enabled: true;
      date: IsoDate;
      /** The day's allocation existed already (a rerun): returned unchanged. */
      reused: boolean;
      currency: string;
      /** Allocated in total, in major units of `currency`. */
      total: string;
      units: number;
      /** Units whose budget moved from the day before. */
      changed: number;
      /** Units given more because the model is unsure of them. */
      exploring: number;
    };

export interface MarketStatus {
  market: MarketCode;
  date: IsoDate;
  stage: Stage | 'starting' | 'awaiting-approval' | 'paused' | 'done' | 'failed' | 'skipped';
  fallbackUsed: boolean;
  /** Today's deploy plan once computed: its diff, and the approval it waits for, if any. */
  deployPlan?: { lines: string[]; awaitingApprovalUntil?: string; decision?: DeployDecision };
  /** Set while an operator has the market paused: the run holds before its next platform write. */
  paused?: MarketPause | null;
  /** True while the run is actually holding (paused and at a platform write). */
  holding?: boolean;
  /** Why the run is degraded so far (fallbacks, unavailable sources, rejected creatives). */
  degraded?: string[];
  /** Creatives rendered (or failed) so far of today's total, once rendering has begun. */
  render?: { done: number; total: number };
}

/** Who paused a market, why and when (ISO time). */
export interface MarketPause {
  by: string;
  reason?: string;
  since: string;
}

/** What a market's Temporal Schedule starts: the market loop for the local date of each run. */
export interface ScheduledMarketLoopInput {
  market: MarketCode;
  /** IANA time zone whose calendar date is the run's business date. */
  timeZone: string;
  renderTaskQueue?: string;
}

/** What the training schedule starts: the day's ranking-model training. */
export interface ScheduledTrainingInput {
  /** IANA time zone whose calendar date is the training's date; default UTC. */
  timeZone?: string;
}

/** A scheduled market run: the market loop's result, or why it did not start a new one. */
export type ScheduledMarketLoopResult =
  | { date: IsoDate; started: true; result: MarketLoopResult }
  | { date: IsoDate; started: false; reason: string };

/** An operator's answer to a deploy waiting for approval. */
export interface DeployDecision {
  approved: boolean;
  by: string;
  note?: string;
}

/** Where a platform's review of an ad stands. */
export type ReviewState = 'approved' | 'pending' | 'rejected';

/** What a ranking optimises: registrations (the default) or premium subscriptions. */
export type Objective = 'registrations' | 'subscriptions';

/** One market-day's delivery under one ranking arm (reports/arms.ts compares the arms). */
export interface ArmDay {
  arm: string;
  market: string;
  date: string;
  /** In the reporting currency. */
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
}

/** What `adloop backfill` re-reads: the ad platforms' delivery, the MMP's attribution. */
export const BACKFILL_SOURCES = ['delivery', 'attribution'] as const;
export type BackfillSource = (typeof BACKFILL_SOURCES)[number];

/** An operator's backfill: re-read [from, to] of the sources for the markets, and say what changed. */
export interface BackfillInput {
  from: IsoDate;
  to: IsoDate;
  /** Default: every market an account of the accounts file runs. */
  markets?: MarketCode[];
  /** Default: both (attribution only when an MMP is configured). */
  sources?: BackfillSource[];
}

/** Consecutive days read in one activity. */
export interface DateWindow {
  since: IsoDate;
  until: IsoDate;
}

/** A backfill as the worker accepted it: markets resolved, the range cut into windows. */
export interface BackfillPlan {
  from: IsoDate;
  to: IsoDate;
  markets: MarketCode[];
  sources: BackfillSource[];
  /** [from, to] in consecutive windows, oldest first: each source of each market reads one at a time. */
  windows: DateWindow[];
  /** What will not be read, and why (no MMP configured...). */
  notes: string[];
}

/** A stored value as a backfill shows it. */
export type BackfillValue = string | number | boolean | null;

/** One stored row a re-read changed: which, and each changed field's old and new value. */
export interface BackfillExample {
  date: IsoDate;
  /** The row's key in words, e.g. `meta ad 120000001`. */
  row: string;
  changes: Record<string, { old: BackfillValue; new: BackfillValue }>;
}

/** What re-reading one source of one market did to the stored rows. */
export interface BackfillTally {
  source: BackfillSource;
  market: MarketCode;
  /** Rows the source returned, each stored through the daily ingest's own path. */
  read: number;
  /** Rows that were not stored before. */
  added: number;
  /** Rows stored before whose values the re-read changed. */
  changed: number;
  /** Rows re-read and found as stored (a re-read with less spend than stored keeps the stored row). */
  unchanged: number;
  /** The first few changed rows, old -> new. */
  examples: BackfillExample[];
  /** Days of the window with an added or changed row, ascending. */
  changedDates: IsoDate[];
  /** What was not read, and why (a day an account has not finished, no campaign yet...). */
  notes: string[];
}

/** A source of a market over the whole range: the windows' tallies summed, changed days as runs. */
export type BackfillSourceResult = Omit<BackfillTally, 'changedDates'> & {
  /** Runs of consecutive days with an added or changed row, ascending. */
  changedDays: DateWindow[];
};

/** One market's part of a backfill (the child workflow `backfill/<from>/<to>/<market>`). */
export interface BackfillMarketInput {
  market: MarketCode;
  from: IsoDate;
  to: IsoDate;
  sources: BackfillSource[];
  windows: DateWindow[];
}

/** The learn snapshots (creative_performance as of a day) a backfill recomputed. */
export interface BackfillLearn {
  /** Days whose snapshot covered a changed day and was computed again from the new rows. */
  recomputed: IsoDate[];
  /** Snapshots that could not be recomputed, and why (still stale: rerun the backfill). */
  failed: Array<{ date: IsoDate; error: string }>;
}

export interface BackfillMarketResult {
  market: MarketCode;
  /** One per source read, summed over the windows. */
  tallies: BackfillSourceResult[];
  learn: BackfillLearn;
}

/** Where one market's backfill is: what `adloop backfill` prints as progress. */
export interface BackfillMarketProgress {
  market: MarketCode;
  stage: 'starting' | BackfillSource | 'learn' | 'done' | 'failed';
  /** The window being read. */
  window: DateWindow | null;
  windowsDone: number;
  windows: number;
  learnDone: number;
  learnTotal: number;
}

/** Where a backfill is: its plan once accepted, and the markets finished so far. */
export interface BackfillStatus {
  plan: BackfillPlan | null;
  done: MarketCode[];
  failed: MarketCode[];
}

export interface BackfillTotals {
  read: number;
  added: number;
  changed: number;
  unchanged: number;
}

export interface BackfillResult {
  from: IsoDate;
  to: IsoDate;
  markets: MarketCode[];
  sources: BackfillSource[];
  /** Per source and market. */
  tallies: BackfillSourceResult[];
  totals: BackfillTotals;
  /** Per market, the learn snapshots recomputed over the changed days. */
  learn: Array<{ market: MarketCode } & BackfillLearn>;
  /** Markets whose backfill failed, and why (rerun the same range: it re-reads idempotently). */
  failed: Array<{ market: MarketCode; error: string }>;
  notes: string[];
}
