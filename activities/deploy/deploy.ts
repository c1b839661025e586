// Deploy stage: make each market's ad sets run today's top-ranked creatives, on every configured
// platform, within the platforms' limits and review.
//   planDeployment   reads the platforms and computes the plan (create / keep / resume / pause /
//                    archive per ad) without writing; what a dry run prints and an approver sees.
//   deployCreatives  applies it. A creative the platform's review rejects is recorded with the
//                    reason and its slot goes to the next ranked candidate, in the same run.
// Every write is keyed by a deterministic name and looked up before it is made, so a retried
// activity (even after a write whose answer was lost) never creates a second object; every write
// is audited (platform_writes).
import { FAILURE } from '../../core/failures.ts';
import { ApplicationFailure } from '@temporalio/common';
import { addDays } from '../../core/dates.ts';
import { count } from '../counters.ts';
import { adSetName, type AdSetSegment } from '../../core/ids.ts';
import { runMarkets } from '../../core/accounts.ts';
import { deepLink } from '../../core/tracking.ts';
import type { DeployResult, MarketLoopInput, RenderedCreative } from '../../core/types.ts';
import { getArtists } from '../../db/catalog.repository.ts';
import { listPlatformObjects, savePlatformObject } from '../../db/creatives.repository.ts';
import { latestAllocation } from '../../db/budgets.repository.ts';
import { ensureAllocation, type BudgetSettings } from './allocation.ts';
import {
  dailyCreativeDelivery,
  laterAppliedPlan,
  listPlatformWrites,
  listRejections,
  recordRejection,
  saveDeployPlan,
  setDeployPlanStatus,
} from '../../db/deploy.repository.ts';
import type { Config } from '../../core/config.ts';
import { marketPlatforms, marketSegments, type StageDeps, type PlatformSettings } from '../deps.ts';
import { withStage } from '../stage.ts';
import { WriteAudit } from './audit.ts';
import { fatiguedCreatives } from '../../decisions/deploy/fatigue.ts';
import { metaTarget } from './meta-target.ts';
import {
  countActions,
  formatPlan,
  planAdSet,
  planFingerprint,
  type AdSetPlan,
  type CurrentAd,
  type DeployPlatform,
  type PlanCounts,
} from '../../decisions/deploy/plan.ts';
import { splitTwins } from '../../decisions/deploy/twins.ts';
import { pause } from '../../core/cancellation.ts';
import { spendCapProblems, type BudgetLine } from './spend.ts';
import type { AdSetRef, AllocatedBudget, DeployTarget, NewAd } from './target.ts';
import { tiktokTarget } from './tiktok-target.ts';
import { googleTarget } from './google-target.ts';

/** Settings deploy reads: slots, stores, objective, mode, approval and fatigue. */
export type DeploySettings = Pick<
  Config,
  | 'ADS_PER_MARKET'
  | 'ADS_PER_ARTIST'
  | 'DEPLOY_APPROVAL_MARKETS'
  | 'DEPLOY_APPROVAL_TIMEOUT'
  | 'DEPLOY_FATIGUE_DROP'
  | 'DEPLOY_MODE'
  | 'DEPLOY_OBJECTIVE'
  | 'DEPLOY_OS'
  | 'REPORTING_CURRENCY'
  | 'META_REQUEST_TIMEOUT_MS'
  | 'TIKTOK_REQUEST_TIMEOUT_MS'
  | 'GOOGLE_REQUEST_TIMEOUT_MS'
> &
  BudgetSettings &
  PlatformSettings;

export interface DeployInput extends MarketLoopInput {
  /** Today's deployable creatives in rank order (spares after the first ADS_PER_MARKET). */
  creatives: RenderedCreative[];
  /**
   * The fingerprint of the plan an operator approved: deploy writes nothing if today's plan is no
   * longer that one (ERR_PLAN_CHANGED). Replacing creatives the review rejects is part of it.
   */
  approvedPlan?: string;
  /**
   * Only these of the market's platforms (each deployed alone after a deploy to all of them
   * failed: one platform down must not keep the others from today's ads). Default: all.
   */
  platforms?: DeployPlatform[];
}

export interface DeployPlanResult {
  /** The plan as a diff, one line per ad. */
  lines: string[];
  counts: PlanCounts;
  /** Whether the market's deploy waits for an operator's approval before it writes. */
  requiresApproval: boolean;
  approvalTimeoutMs: number;
  /** DEPLOY_MODE=dry-run, or the plan is superseded: nothing is written. */
  dryRun: boolean;
  /**
   * A later day whose plan is already live in the market (this run is a backfill or rerun of an
   * older day): the plan is computed and kept, but not applied.
   */
  supersededBy?: string;
  /** What an approval approves (planFingerprint). */
  fingerprint: string;
}

/** Days of delivery read to judge fatigue. */
const FATIGUE_LOOKBACK_DAYS = 14;
/** Rounds of create -> read review -> replace rejected, per deploy. */
const REVIEW_ROUNDS = 3;
interface SegmentPlan {
  target: DeployTarget;
  segment: AdSetSegment;
  plan: AdSetPlan;
}

/** Refused for good: a person must fix the configuration (nothing was written). */
const misconfigured = (message: string) =>
  ApplicationFailure.create({ type: FAILURE.deployConfig, message, nonRetryable: true });

/**
 * How long a write sent without an answer may still land, from the client's request timeout: it
 * is assumed to land, if at all, within twice the timeout after the client gave up. One landing
 * later than that can make a twin; deploy deletes twin ads (decisions/deploy/twins.ts), while a
 * twin campaign or ad set stays, paused and empty.
 */
const settle = (requestTimeoutMs: number) => 2 * requestTimeoutMs;

/**
 * The market's deploy targets: every configured platform whose accounts run the market (or only
 * `only` of them).
 */
function targets(
  deps: StageDeps<DeploySettings>,
  audit: WriteAudit,
  market: string,
  budgets: MarketBudgets,
  only?: readonly DeployPlatform[],
): DeployTarget[] {
  const { db, renderer, config } = deps;
  const { accounts, meta, tiktok, google, deployTo } = marketPlatforms(deps, market);
  return deployTo
    .flatMap((p) => (!only || only.includes(p) ? [p] : []))
    .map((p) => {
      const common = {
        db,
        audit,
        store: renderer.store,
        accounts,
        allocated: budgets.get(p) ?? null,
      };
      if (p === 'meta') {
        if (!meta)
          throw misconfigured(
            `DEPLOY_PLATFORMS names meta, but no Meta ad account in ACCOUNTS_PATH runs ${market}`,
          );
        return metaTarget({ ...common, meta, settleMs: settle(config.META_REQUEST_TIMEOUT_MS) });
      }
      if (p === 'google') {
        if (!google)
          throw misconfigured(
            deps.google
              ? `DEPLOY_PLATFORMS names google, but no Google Ads customer in ACCOUNTS_PATH runs ${market}`
              : 'DEPLOY_PLATFORMS names google, but Google Ads is not configured (GOOGLE_ADS_DEVELOPER_TOKEN)',
          );
        return googleTarget({
          ...common,
          google,
          youtube: deps.youtube ?? null,
          settleMs: settle(config.GOOGLE_REQUEST_TIMEOUT_MS),
        });
      }
      if (!tiktok)
        throw misconfigured(
          deps.tiktok
            ? `DEPLOY_PLATFORMS names tiktok, but no TikTok advertiser in ACCOUNTS_PATH runs ${market}`
            : 'DEPLOY_PLATFORMS names tiktok, but TikTok is not configured (TIKTOK_ACCESS_TOKEN)',
        );
      return tiktokTarget({
        ...common,
        tiktok,
        settleMs: settle(config.TIKTOK_REQUEST_TIMEOUT_MS),
      });
    });
}

/** The market's ad set segments: one per store it promotes (activities/deps.ts). */
const segments = (deps: StageDeps<DeploySettings>, market: string): AdSetSegment[] =>
  marketSegments(deps, market);

/** Each platform's allocated budget per ad set in the market on `date`, by platform. */
type MarketBudgets = ReadonlyMap<string, AllocatedBudget>;

/**
 * The market's budgets from the allocation in force on `date` (the day's, else the last one made):
 * none without a `dailyBudget` in the accounts file, when every ad set keeps its fixed budget.
 */
async function marketBudgets(
  deps: StageDeps<DeploySettings>,
  market: string,
  date: string,
): Promise<MarketBudgets> {
  if (!deps.accounts.dailyBudget) return new Map();
  // The day's first market to plan makes the day's allocation; the others read it.
  await ensureAllocation(deps, date);
  const rows = await latestAllocation(deps.db, { date, market });
  return new Map(
    rows.map((r) => [
      r.platform,
      {
        perAdSetMicros: Math.floor(r.budget_micros / Math.max(1, r.ad_sets)),
        currency: r.currency,
        fx: deps.fx,
        reason: r.reason,
      },
    ]),
  );
}

/** What the market's ad sets commit to spend per day, per platform, in each account's currency. */
async function budgetLines(
  deps: StageDeps<DeploySettings>,
  market: string,
  date: string,
): Promise<BudgetLine[]> {
  const adSets = segments(deps, market).length;
  const lines: BudgetLine[] = [];
  const budgets = await marketBudgets(deps, market, date);
  for (const t of targets(deps, new WriteAudit(deps.db, { market, date: '' }), market, budgets)) {
    const { minor, currency } = await t.dailyBudget(market);
    lines.push({ market, platform: t.platform, adSets, dailyMinor: minor, currency });
  }
  return lines;
}

/**
 * Throws ERR_SPEND_CAP when the market's budgets, or every market's together, break a daily cap
 * of the accounts file: before any write, so nothing is half-made.
 */
async function checkSpendCaps(
  deps: StageDeps<DeploySettings>,
  market: string,
  date: string,
): Promise<void> {
  const file = deps.accounts;
  const { accounts } = marketPlatforms(deps, market);
  if (accounts.spendCap === null && !file.spendCap) return;
  const mine = await budgetLines(deps, market, date);
  const all: BudgetLine[] = [];
  if (file.spendCap)
    for (const m of runMarkets(file))
      all.push(...(m === market ? mine : await budgetLines(deps, m, date)));
  const problems = spendCapProblems(
    { market, lines: mine, all },
    {
      market: accounts.spendCap,
      global: file.spendCap ?? null,
      reportingCurrency: deps.config.REPORTING_CURRENCY,
    },
    deps.fx,
  );
  if (problems.length > 0)
    throw ApplicationFailure.create({
      type: FAILURE.spendCap,
      message: `${problems.join('; ')}: nothing was written. Lower the budgets or raise the cap in ACCOUNTS_PATH`,
      nonRetryable: true,
    });
}

/** Ids of the ads adloop recorded in the market (the twin it keeps: decisions/deploy/twins.ts). */
async function recordedAds(db: StageDeps<DeploySettings>['db'], platform: string, market: string) {
  return new Set(
    (await listPlatformObjects(db, { platform, kind: 'ad', market })).map((o) => o.external_id),
  );
}

/** Reads each platform's ad sets and computes their plans; writes nothing to any platform. */
async function planAll(
  deps: StageDeps<DeploySettings>,
  { market, date, creatives, platforms }: DeployInput,
  audit: WriteAudit,
): Promise<SegmentPlan[]> {
  const { db, config } = deps;
  const artists = new Map(
    (await getArtists(db, [...new Set(creatives.map((c) => c.artistId))])).map((a) => [
      a.id,
      a.name,
    ]),
  );
  const out: SegmentPlan[] = [];
  const budgets = await marketBudgets(deps, market, date);
  for (const target of targets(deps, audit, market, budgets, platforms)) {
    const platform = target.platform;
    const recorded = await recordedAds(db, platform, market);
    const rejected = new Map(
      (await listRejections(db, { platform, market })).map((r) => [r.creative_hash, r.reason]),
    );
    const fatigued = fatiguedCreatives(
      await dailyCreativeDelivery(db, {
        market,
        platform,
        from: addDays(date, -FATIGUE_LOOKBACK_DAYS),
        to: addDays(date, -1),
      }),
      { drop: config.DEPLOY_FATIGUE_DROP },
    );
    const candidates = [];
    for (const [i, c] of creatives.entries()) {
      // Runs from before per-platform assets had a Meta asset only.
      const eligible = c.platformAssets ? Boolean(c.platformAssets[platform]) : platform === 'meta';
      // What creating its ad would make besides (Meta's video ad), for the dry-run diff.
      const media = eligible && target.mediaPlan ? await target.mediaPlan(market, c) : null;
      candidates.push({
        hash: c.hash,
        rank: i + 1,
        label: `${artists.get(c.artistId) ?? c.artistId} × ${c.templateId}`,
        artistId: c.artistId,
        eligible,
        ...(media ? { media } : {}),
      });
    }
    for (const segment of segments(deps, market)) {
      const known = await target.findAdSets(market, segment);
      const current = known.at(-1) ?? null;
      // Older ad groups of the segment that still run (a rollover cut short): stop them too.
      const stale = known
        .slice(0, -1)
        .filter((a) => a.status !== 'DISABLE' && a.status !== 'PAUSED')
        .map((a) => ({ id: a.id, name: a.name }));
      const generation = current?.generation ?? 1;
      const plan = planAdSet({
        platform,
        date,
        slots: config.ADS_PER_MARKET,
        perArtist: config.ADS_PER_ARTIST,
        capacity: target.capacity,
        canArchive: target.canArchive,
        liveCap: target.liveCap ?? false,
        adSet: current ?? { name: adSetName(market, segment), id: null, generation: 1 },
        nextAdSetName: adSetName(market, segment, generation + 1),
        candidates,
        // One of each name: twins (a write that landed late) are removed when deploy applies.
        ads: current ? splitTwins(await target.listAds(current), recorded).ads : [],
        rejected,
        fatigued,
      });
      for (const a of stale)
        if (!plan.disableAdSets.some((d) => d.id === a.id)) plan.disableAdSets.push(a);
      // Today's allocated budget: set on an existing ad set whose budget differs, given to a new one.
      const allocated = budgets.get(platform);
      if (allocated) {
        const { minor, currency } = await target.dailyBudget(market);
        const existing = plan.adSet.id && current ? current : null;
        const fromMinor = existing ? await target.readBudget(existing) : null;
        if (fromMinor === null || fromMinor !== minor)
          plan.budget = { fromMinor, toMinor: minor, currency, reason: allocated.reason };
      }
      out.push({ target, segment, plan });
    }
  }
  return out;
}

/** A market's plan and its diff, as planDeployment computes it (for scripts: no activity needed). */
export async function planMarket(deps: StageDeps<DeploySettings>, input: DeployInput) {
  const plans = (await planAll(deps, input, new WriteAudit(deps.db, input))).map((p) => p.plan);
  return {
    plans,
    counts: countActions(plans),
    lines: formatPlan(input.market, input.date, plans),
    fingerprint: planFingerprint(plans),
  };
}

export function createDeployActivities(deps: StageDeps<DeploySettings>) {
  const { db, config } = deps;

  function adOf(input: DeployInput, hash: string, name: string, platform: string): NewAd {
    const c = input.creatives.find((x) => x.hash === hash)!;
    return {
      name,
      creative: c,
      link: deepLink({
        platform,
        market: input.market,
        artistId: c.artistId,
        templateId: c.templateId,
      }),
      message: c.adText?.message ?? c.artistId,
      headline: c.adText?.headline ?? c.artistId,
    };
  }

  /** Statuses this deploy set, by platform and ad id: what reconcile makes sure of. */
  type Status = 'active' | 'paused' | 'archived' | 'deleted';
  function statusKeeper() {
    const intended = new Map<string, Status>();
    return {
      intended,
      async set(target: DeployTarget, ads: Array<{ id: string; name: string }>, status: Status) {
        for (const a of ads) intended.set(`${target.platform}|${a.id}`, status);
        await target.setStatus(ads, status);
      },
    };
  }
  type Statuses = ReturnType<typeof statusKeeper>;

  /** Records an ad as the platform showed it, with `status`. */
  function recordAd(platform: string, market: string, ad: CurrentAd, status: string) {
    return savePlatformObject(db, {
      platform,
      kind: 'ad',
      name: ad.name,
      externalId: ad.id,
      market,
      creativeHash: ad.creativeHash,
      status,
      reviewStatus: ad.review,
      reviewReason: ad.reviewReason,
    });
  }

  /**
   * The ad set's adloop ads, one of each name: twins (a create that landed after its look-up) are
   * deleted before anything is switched on (decisions/deploy/twins.ts), and each kept ad recorded.
   */
  async function readAds(
    market: string,
    target: DeployTarget,
    adSet: AdSetRef,
    statuses: Statuses,
  ): Promise<CurrentAd[]> {
    const { ads, twins } = splitTwins(
      await target.listAds(adSet),
      await recordedAds(db, target.platform, market),
    );
    if (twins.length > 0) {
      await statuses.set(target, twins, 'deleted');
      count('adloop_ad_twins_deleted', twins.length, { platform: target.platform });
    }
    for (const ad of ads) await recordAd(target.platform, market, ad, ad.status);
    return ads;
  }

  /**
   * Deletes twins of the campaigns and ad sets the deploy touched, per platform: a create of one
   * that landed after its look-up (on this deploy or an earlier one). Returns how many.
   */
  async function removeObjectTwins(
    market: string,
    applied: Array<{ target: DeployTarget; adSet: AdSetRef }>,
  ): Promise<number> {
    let removed = 0;
    for (const target of new Set(applied.map((a) => a.target))) {
      const adSets = applied.filter((a) => a.target === target).map((a) => a.adSet);
      const n = await target.removeObjectTwins(market, adSets);
      if (n > 0) count('adloop_object_twins_deleted', n, { platform: target.platform });
      removed += n;
    }
    return removed;
  }

  /**
   * After writes that got no answer (they may land late): waits for them to settle, then reads
   * every ad set the deploy touched again, deletes twins a late create made (of ads, ad sets and
   * campaigns) and sets again each status a late write undid. Returns the number of fixes.
   */
  async function reconcile(
    market: string,
    applied: Array<{ target: DeployTarget; adSet: AdSetRef }>,
    statuses: Statuses,
    settleMs: number,
  ): Promise<number> {
    await pause(settleMs);
    let fixes = await removeObjectTwins(market, applied);
    for (const { target, adSet } of applied) {
      const before = statuses.intended.size;
      const ads = await readAds(market, target, adSet, statuses);
      fixes += statuses.intended.size - before;
      for (const want of ['active', 'paused', 'archived'] as const) {
        const off = ads.filter(
          (a) => statuses.intended.get(`${target.platform}|${a.id}`) === want && a.status !== want,
        );
        await statuses.set(target, off, want);
        fixes += off.length;
      }
    }
    return fixes;
  }

  /**
   * Applies one ad set's plan: pauses and archives first, then creates, then resumes. Returns the
   * creatives the platform refused to create (they are treated like review rejections).
   */
  async function apply(
    input: DeployInput,
    { target, segment, plan }: SegmentPlan,
    statuses: Statuses,
  ): Promise<{ adSet: AdSetRef; refused: Array<{ hash: string; reason: string }> }> {
    const adSet = plan.adSet.id
      ? { id: plan.adSet.id, name: plan.adSet.name, generation: plan.adSet.generation }
      : await target.ensureAdSet(input.market, segment, plan.adSet.generation);
    const of = (kind: 'resume' | 'pause' | 'archive') =>
      plan.actions.flatMap((a) => (a.action === kind ? [{ id: a.adId, name: a.name }] : []));
    // Today's budget on an ad set that exists (a new one was created with it).
    if (plan.budget && plan.adSet.id && plan.budget.fromMinor !== plan.budget.toMinor)
      await target.setBudget(input.market, adSet, plan.budget.toMinor);
    // Pause first: an ad set never holds more live ads than it should, even for a moment.
    await statuses.set(target, of('pause'), 'paused');
    await statuses.set(target, of('archive'), 'archived');
    const creates = plan.actions.flatMap((a) =>
      a.action === 'create' ? [adOf(input, a.hash, a.name, target.platform)] : [],
    );
    const created =
      creates.length > 0 ? await target.createAds(adSet, input.market, creates) : null;
    await statuses.set(target, of('resume'), 'active');
    if (target.completeAds) {
      const live = plan.actions.flatMap((a) =>
        a.action === 'keep' || a.action === 'resume'
          ? [adOf(input, a.hash, a.name, target.platform)]
          : [],
      );
      const made = creates.filter((c) => created?.ids.has(c.name));
      await target.completeAds(adSet, input.market, [...live, ...made]);
    }
    await target.disableAdSets(input.market, plan.disableAdSets);
    const refused = creates.flatMap((c) => {
      const why = created?.refused.get(c.name);
      return why ? [{ hash: c.creative.hash, reason: `refused at creation: ${why}` }] : [];
    });
    const platform = target.platform;
    count('adloop_ads_created', creates.length - refused.length, { platform });
    count('adloop_ads_paused', of('pause').length, { platform });
    return { adSet, refused };
  }

  /**
   * Ads, ad sets and campaigns are created paused: once review has had its rounds, switch on each
   * planned ad it did not reject, then its ad set and campaign. Returns what is live.
   */
  async function switchOn(
    market: string,
    applied: Array<{ target: DeployTarget; plan: AdSetPlan; adSet: AdSetRef }>,
    statuses: Statuses,
  ): Promise<
    Array<{
      platform: string;
      adSet: string;
      ids: string[];
      video: number;
      still: number;
      stillHashes: string[];
    }>
  > {
    const live = [];
    for (const { target, plan, adSet } of applied) {
      const wanted = new Set(
        plan.actions.flatMap((a) =>
          a.action === 'create' || a.action === 'keep' || a.action === 'resume' ? [a.name] : [],
        ),
      );
      const ads = (await readAds(market, target, adSet, statuses)).filter(
        (a) => wanted.has(a.name) && a.review !== 'rejected',
      );
      const paused = ads.filter((a) => a.status === 'paused');
      await statuses.set(target, paused, 'active');
      for (const ad of paused) await recordAd(target.platform, market, ad, 'active');
      if (ads.length > 0) await target.activateAdSet(market, adSet);
      live.push({
        platform: target.platform,
        adSet: adSet.name,
        ids: ads.map((a) => a.id),
        // Where the platform tells them apart (Meta): ads in motion and stills.
        video: ads.filter((a) => a.media === 'video').length,
        still: ads.filter((a) => a.media === 'still').length,
        stillHashes: ads.filter((a) => a.media === 'still').map((a) => a.creativeHash),
      });
    }
    return live;
  }

  return {
    /** The platforms the market deploys to (DEPLOY_PLATFORMS and its accounts); reads nothing. */
    deployPlatforms({ market }: { market: string }): Promise<DeployPlatform[]> {
      return Promise.resolve(marketPlatforms(deps, market).deployTo);
    },

    /** Computes today's plan without writing to any platform, stores it, and says what it needs. */
    async planDeployment(input: DeployInput): Promise<DeployPlanResult> {
      return withStage(
        db,
        'deploy',
        async () => {
          const { plans, counts, lines, fingerprint } = await planMarket(deps, input);
          const changes =
            counts.create + counts.pause + counts.resume + counts.archive + counts.budget;
          const supersededBy = await laterAppliedPlan(db, input);
          const dryRun = config.DEPLOY_MODE === 'dry-run' || supersededBy !== null;
          const approvalMarkets = config.DEPLOY_APPROVAL_MARKETS;
          const requiresApproval =
            !dryRun &&
            changes > 0 &&
            (approvalMarkets.includes('*') || approvalMarkets.includes(input.market));
          await saveDeployPlan(db, {
            market: input.market,
            date: input.date,
            plan: { counts, adSets: plans },
            status: dryRun ? 'dry-run' : requiresApproval ? 'awaiting-approval' : 'planned',
          });
          return {
            lines: supersededBy
              ? [...lines, `not applied: ${supersededBy}'s plan is live in ${input.market} already`]
              : lines,
            counts,
            requiresApproval,
            approvalTimeoutMs: config.DEPLOY_APPROVAL_TIMEOUT,
            dryRun,
            fingerprint,
            ...(supersededBy ? { supersededBy } : {}),
          };
        },
        (r) => ({ plan: r.counts, requiresApproval: r.requiresApproval, dryRun: r.dryRun }),
      );
    },

    async deployCreatives(input: DeployInput): Promise<DeployResult> {
      return withStage(
        db,
        'deploy',
        async (progress) => {
          const audit = new WriteAudit(db, input);
          const statuses = statusKeeper();
          progress(() => ({ writes: audit.count }));
          // The day's allocation (made here if this market is the day's first to deploy).
          const budgets = deps.accounts.dailyBudget
            ? await ensureAllocation(deps, input.date)
            : null;
          await checkSpendCaps(deps, input.market, input.date);
          const totals = {
            created: 0,
            reused: 0,
            resumed: 0,
            paused: 0,
            archived: 0,
            budgets: 0,
          };
          const rejected: NonNullable<DeployResult['rejected']> = [];
          let applied: Array<{ target: DeployTarget; plan: AdSetPlan; adSet: AdSetRef }> = [];
          /** Records a rejected (or refused) creative once per platform. */
          const reject = async (platform: string, hash: string, reason: string, adId = '') => {
            if (rejected.some((r) => r.platform === platform && r.hash === hash)) return;
            rejected.push({ platform, hash, reason });
            count('adloop_creatives_rejected', 1, { platform });
            await recordRejection(db, {
              platform,
              creativeHash: hash,
              market: input.market,
              adId,
              reason,
            });
          };
          let refusedLastRound = 0;
          for (let round = 1; round <= REVIEW_ROUNDS; round++) {
            const plans = await planAll(deps, input, audit);
            if (round === 1 && input.approvedPlan) {
              const now = planFingerprint(plans.map((p) => p.plan));
              if (now !== input.approvedPlan)
                throw ApplicationFailure.create({
                  type: FAILURE.planChanged,
                  message: `the plan changed since it was approved (approved ${input.approvedPlan}, now ${now}); nothing was written: rerun the market to plan and approve again`,
                  nonRetryable: true,
                });
            }
            const before = rejected.length;
            for (const { target, plan } of plans)
              for (const r of plan.newlyRejected)
                await reject(target.platform, r.hash, r.reason, r.adId);
            const newRejections = rejected.length - before + refusedLastRound;
            const counts = countActions(plans.map((p) => p.plan));
            // Later rounds only replace what review rejected; keeps are counted once.
            if (round === 1) totals.reused += counts.keep;
            if (round > 1 && newRejections === 0) break;
            totals.created += counts.create;
            totals.resumed += counts.resume;
            totals.paused += counts.pause;
            totals.archived += counts.archive;
            totals.budgets += counts.budget;
            applied = [];
            refusedLastRound = 0;
            for (const p of plans) {
              const { adSet, refused } = await apply(input, p, statuses);
              for (const r of refused) {
                refusedLastRound++;
                await reject(p.target.platform, r.hash, r.reason);
              }
              // Read back: review outcomes of what was just created, and today's live set.
              await readAds(input.market, p.target, adSet, statuses);
              applied.push({ target: p.target, plan: p.plan, adSet });
            }
            // Nothing new for review to reject, and nothing refused to replace: done.
            if (counts.create === 0 && refusedLastRound === 0) break;
          }
          // Before anything is switched on, so only adloop's own campaign and ad sets go live.
          const twinsRemoved = await removeObjectTwins(input.market, applied);
          const live = await switchOn(input.market, applied, statuses);
          // Writes sent without an answer may still land: once they have had time to, read back
          // and put right what they did.
          const settleMs = Math.max(0, ...applied.map((a) => a.target.settleMs));
          const reconciled =
            twinsRemoved +
            (audit.lost > 0 ? await reconcile(input.market, applied, statuses, settleMs) : 0);
          await setDeployPlanStatus(db, {
            market: input.market,
            date: input.date,
            status: 'applied',
          });
          const platforms: NonNullable<DeployResult['platforms']> = {};
          for (const l of live) {
            const p = (platforms[l.platform] ??= { adIds: [], adSets: [] });
            p.adIds.push(...l.ids);
            p.adSets.push(l.adSet);
            if (l.video + l.still > 0) {
              p.videoAds = (p.videoAds ?? 0) + l.video;
              p.stillAds = (p.stillAds ?? 0) + l.still;
            }
          }
          // Creatives that run as their still where a video ad was meant, as the audit has them
          // (each once per platform, whichever attempt of the day recorded it), of the ads live
          // now as stills.
          const fallbacks: NonNullable<DeployResult['fallbacks']> = [];
          const stills = new Set(
            live.flatMap((l) => l.stillHashes.map((h) => `${l.platform}|${h}`)),
          );
          for (const w of await listPlatformWrites(db, { market: input.market, date: input.date }))
            if (w.operation === 'fallback_to_still') {
              const hash = typeof w.detail.creative === 'string' ? w.detail.creative : '';
              if (!stills.has(`${w.platform}|${hash}`)) continue;
              if (!fallbacks.some((f) => f.platform === w.platform && f.hash === hash))
                fallbacks.push({
                  platform: w.platform,
                  hash,
                  reason: typeof w.detail.reason === 'string' ? w.detail.reason : '',
                });
            }
          return {
            created: totals.created,
            reused: totals.reused + totals.resumed,
            paused: totals.paused,
            resumed: totals.resumed,
            archived: totals.archived,
            adIds: live.flatMap((l) => l.ids).sort(),
            writes: audit.count,
            ...(reconciled > 0 ? { reconciled } : {}),
            ...(budgets?.enabled ? { budgets, budgetChanges: totals.budgets } : {}),
            rejected,
            platforms,
            ...(fallbacks.length > 0 ? { fallbacks } : {}),
          };
        },
        (r) => ({
          created: r.created,
          reused: r.reused,
          paused: r.paused,
          writes: r.writes,
          rejected: r.rejected?.length ?? 0,
        }),
      );
    },
  };
}
