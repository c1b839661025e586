// The deploy plan: what should change in one ad set so that its live ads are the top-ranked
// creatives the platform will take, within its limits. Pure: the same ranking and platform state
// always give the same plan, which is what a dry run prints and what an approver approves.
//
// Rules, in order:
//   1. A creative is wanted when it is among the first `slots` candidates that passed QA for the
//      platform, were never rejected by its review in this market, and have not fatigued, and
//      its artist does not already have `perArtist` wanted ads in the ad set (a slate of
//      different artists, not one artist's appeal bet on several times).
//   2. A wanted creative's existing ad is kept (or resumed when paused); otherwise an ad is created.
//      Rejected and archived ads are never reused.
//   3. Every other adloop ad that is active is paused: it fell out of the ranking, fatigued, or was
//      rejected. Nothing is ever deleted.
//   4. Platforms cap the ads an ad set holds (50 on both). Meta does not count archived ads, so the
//      oldest paused ads are archived to make room. TikTok counts every ad that is not deleted, so
//      a full ad group is rolled over: a new ad group of the segment takes the wanted ads and the
//      old one is disabled, keeping its ads and their history.
import { createHash } from 'node:crypto';
import { adName } from '../../core/ids.ts';
import { fromMinorUnits } from '../../core/money.ts';
import type { DeployPlatform, ReviewState } from '../../core/types.ts';

export { DEPLOY_PLATFORMS, type DeployPlatform } from '../../core/types.ts';

export interface PlanCandidate {
  hash: string;
  /** 1-based position in today's ranking. */
  rank: number;
  /** Human label, e.g. "Artist × template". */
  label: string;
  /** The creative's artist: an ad set holds at most `perArtist` of one artist's creatives. */
  artistId: string;
  /** Whether QA let it go to this platform. */
  eligible: boolean;
  /**
   * What creating its ad would make besides the ad, when the platform says (Meta: the video
   * uploads and the video creative, with the still as fallback); shown in the dry-run diff.
   */
  media?: string;
}

export interface CurrentAd {
  id: string;
  name: string;
  creativeHash: string;
  /** The day it was created (from its name), null for legacy names. */
  createdDate: string | null;
  status: 'active' | 'paused' | 'archived';
  review: ReviewState;
  reviewReason: string | null;
  /** Whether it plays a video or shows a still, where the platform tells them apart (Meta). */
  media?: 'video' | 'still';
}

export type PauseReason = 'dropped' | 'fatigued' | 'rejected';

export type AdAction =
  | {
      action: 'create';
      hash: string;
      name: string;
      rank: number;
      label: string;
      /** PlanCandidate.media: what else the create makes. */
      media?: string;
    }
  | {
      action: 'keep' | 'resume';
      adId: string;
      hash: string;
      name: string;
      rank: number;
      label: string;
    }
  | {
      action: 'pause';
      adId: string;
      hash: string;
      name: string;
      reason: PauseReason;
      detail: string;
    }
  | { action: 'archive'; adId: string; hash: string; name: string };

export interface AdSetPlan {
  platform: DeployPlatform;
  /** The ad set (ad group) the actions apply to; its id is null when it does not exist yet. */
  adSet: { name: string; id: string | null; generation: number };
  actions: AdAction[];
  /** Older ad groups of the segment to disable (TikTok rollover). */
  disableAdSets: Array<{ id: string; name: string }>;
  /** Candidates passed over, with why. */
  skipped: Array<{ hash: string; rank: number; label: string; reason: string }>;
  /** Ads the platform's review rejected that adloop had not recorded yet. */
  newlyRejected: Array<{ adId: string; hash: string; reason: string }>;
  /**
   * The ad set's daily budget from today's allocation (activities/budget), when it changes it or
   * the ad set is new; absent without an allocation.
   */
  budget?: BudgetChange;
}

/** A daily budget change of one ad set, in minor units of its account's currency. */
export interface BudgetChange {
  /** Its budget now; null for an ad set deploy creates. */
  fromMinor: number | null;
  toMinor: number;
  currency: string;
  /** The allocator's reason for the market's budget on the platform. */
  reason: string;
}

export interface PlanInput {
  platform: DeployPlatform;
  date: string;
  /** Live ads wanted in the ad set. */
  slots: number;
  /** Most live ads of one artist in the ad set (ADS_PER_ARTIST). Default 1. */
  perArtist?: number;
  /** Most ads the ad set may hold (not counting archived ones where the platform allows). */
  capacity: number;
  /** The cap counts live ads only (Google); paused ones hold no place. */
  liveCap?: boolean;
  /** Whether the platform can archive ads (Meta) or must roll over to a new ad set (TikTok). */
  canArchive: boolean;
  adSet: { name: string; id: string | null; generation: number };
  /** Name of the next ad set of the segment, for a rollover. */
  nextAdSetName: string;
  /** Today's candidates in rank order. */
  candidates: PlanCandidate[];
  /** Every adloop ad of the ad set. */
  ads: CurrentAd[];
  /** Creatives the platform already rejected in this market: hash -> reason. */
  rejected: ReadonlyMap<string, string>;
  /** Creatives that fatigued: hash -> why. */
  fatigued: ReadonlyMap<string, string>;
}

export function planAdSet(input: PlanInput): AdSetPlan {
  const newlyRejected: AdSetPlan['newlyRejected'] = [];
  const rejected = new Map(input.rejected);
  for (const ad of input.ads)
    if (ad.review === 'rejected' && !rejected.has(ad.creativeHash)) {
      const reason = ad.reviewReason ?? 'rejected by review';
      rejected.set(ad.creativeHash, reason);
      newlyRejected.push({ adId: ad.id, hash: ad.creativeHash, reason });
    }

  const wanted: PlanCandidate[] = [];
  const skipped: AdSetPlan['skipped'] = [];
  const perArtist = input.perArtist ?? 1;
  const ofArtist = (artistId: string) => wanted.filter((w) => w.artistId === artistId).length;
  for (const c of input.candidates) {
    if (wanted.length >= input.slots) break;
    const reason = !c.eligible
      ? `QA kept it from ${input.platform}`
      : rejected.has(c.hash)
        ? `rejected by review: ${rejected.get(c.hash)}`
        : input.fatigued.has(c.hash)
          ? `fatigued: ${input.fatigued.get(c.hash)}`
          : ofArtist(c.artistId) >= perArtist
            ? `its artist already has ${perArtist} ad${perArtist === 1 ? '' : 's'} in this ad set (ADS_PER_ARTIST)`
            : null;
    if (reason) skipped.push({ hash: c.hash, rank: c.rank, label: c.label, reason });
    else if (!wanted.some((w) => w.hash === c.hash)) wanted.push(c);
  }

  // The ad each wanted creative can use: not archived, not rejected; active before paused.
  const usable = new Map<string, CurrentAd>();
  for (const ad of input.ads) {
    if (ad.status === 'archived' || ad.review === 'rejected') continue;
    const seen = usable.get(ad.creativeHash);
    if (!seen || (seen.status !== 'active' && ad.status === 'active'))
      usable.set(ad.creativeHash, ad);
  }

  const creates = wanted.filter((c) => !usable.has(c.hash));
  // Where only live ads count (Google), what is held after the plan is what it wants live.
  const held = input.liveCap
    ? wanted.length - creates.length
    : input.ads.filter((a) => a.status !== 'archived').length;
  if (!input.canArchive && held + creates.length > input.capacity)
    return rollover(input, wanted, skipped, newlyRejected);

  const actions: AdAction[] = [];
  const using = new Set<string>();
  for (const c of wanted) {
    const ad = usable.get(c.hash);
    if (ad) {
      using.add(ad.id);
      const action = ad.status === 'active' ? 'keep' : 'resume';
      actions.push({
        action,
        adId: ad.id,
        hash: c.hash,
        name: ad.name,
        rank: c.rank,
        label: c.label,
      });
    } else {
      actions.push({
        action: 'create',
        hash: c.hash,
        name: adName(input.adSet.name, input.date, c.hash),
        rank: c.rank,
        label: c.label,
        ...(c.media ? { media: c.media } : {}),
      });
    }
  }
  const pausing = new Set<string>();
  for (const ad of input.ads) {
    if (using.has(ad.id) || ad.status !== 'active') continue;
    const why: { reason: PauseReason; detail: string } = rejected.has(ad.creativeHash)
      ? { reason: 'rejected', detail: rejected.get(ad.creativeHash)! }
      : input.fatigued.has(ad.creativeHash)
        ? { reason: 'fatigued', detail: input.fatigued.get(ad.creativeHash)! }
        : { reason: 'dropped', detail: 'no longer among the top ranked' };
    pausing.add(ad.id);
    actions.push({ action: 'pause', adId: ad.id, hash: ad.creativeHash, name: ad.name, ...why });
  }

  // Meta: archive the oldest ads that will not run to stay within the cap.
  let over = held + creates.length - input.capacity;
  if (over > 0 && input.liveCap)
    throw new Error(`${input.slots} live ads exceed ${input.platform}'s cap of ${input.capacity}`);
  if (over > 0) {
    const idle = input.ads
      .filter((a) => a.status !== 'archived' && !using.has(a.id))
      .sort(
        (a, b) =>
          (a.createdDate ?? '').localeCompare(b.createdDate ?? '') || a.name.localeCompare(b.name),
      );
    for (const ad of idle) {
      if (over <= 0) break;
      actions.push({ action: 'archive', adId: ad.id, hash: ad.creativeHash, name: ad.name });
      over--;
    }
    if (over > 0)
      throw new Error(
        `ad set ${input.adSet.name} cannot hold ${input.slots} live ads within ${input.platform}'s cap of ${input.capacity}`,
      );
  }
  return {
    platform: input.platform,
    adSet: input.adSet,
    actions,
    disableAdSets: [],
    skipped,
    newlyRejected,
  };
}

/** TikTok: a new ad group of the segment gets every wanted creative; the full one is disabled. */
function rollover(
  input: PlanInput,
  wanted: PlanCandidate[],
  skipped: AdSetPlan['skipped'],
  newlyRejected: AdSetPlan['newlyRejected'],
): AdSetPlan {
  if (wanted.length > input.capacity)
    throw new Error(`${input.slots} live ads exceed ${input.platform}'s cap of ${input.capacity}`);
  const next = { name: input.nextAdSetName, id: null, generation: input.adSet.generation + 1 };
  return {
    platform: input.platform,
    adSet: next,
    actions: wanted.map((c) => ({
      action: 'create' as const,
      hash: c.hash,
      name: adName(next.name, input.date, c.hash),
      rank: c.rank,
      label: c.label,
      ...(c.media ? { media: c.media } : {}),
    })),
    disableAdSets: input.adSet.id ? [{ id: input.adSet.id, name: input.adSet.name }] : [],
    skipped,
    newlyRejected,
  };
}

export interface PlanCounts {
  create: number;
  keep: number;
  resume: number;
  pause: number;
  archive: number;
  /** Existing ad sets whose daily budget changes. */
  budget: number;
}

export function countActions(plans: AdSetPlan[]): PlanCounts {
  const counts: PlanCounts = { create: 0, keep: 0, resume: 0, pause: 0, archive: 0, budget: 0 };
  for (const p of plans) {
    for (const a of p.actions) counts[a.action]++;
    if (p.budget && p.budget.fromMinor !== null && p.budget.fromMinor !== p.budget.toMinor)
      counts.budget++;
  }
  return counts;
}

const SYMBOL: Record<AdAction['action'], string> = {
  create: '+',
  keep: '=',
  resume: '↑',
  pause: '-',
  archive: '~',
};

/** The plan as a diff a person reads: one line per ad, grouped by ad set. */
export function formatPlan(market: string, date: string, plans: AdSetPlan[]): string[] {
  const lines: string[] = [];
  const c = countActions(plans);
  lines.push(
    `deploy plan ${market} ${date}: ${c.create} create, ${c.keep} keep, ${c.resume} resume, ${c.pause} pause, ${c.archive} archive${c.budget ? `, ${c.budget} budget` : ''}`,
  );
  for (const p of plans) {
    const where = p.adSet.id ? p.adSet.name : `${p.adSet.name} (new)`;
    lines.push(`  ${p.platform} ${where}`);
    for (const d of p.disableAdSets) lines.push(`    ! disable ad group ${d.name} (full)`);
    if (p.budget) lines.push(`    $ budget  ${budgetText(p.budget)}`);
    for (const a of p.actions) {
      const short = a.hash.slice(0, 12);
      const tail =
        a.action === 'pause'
          ? `${a.reason}: ${a.detail}`
          : a.action === 'archive'
            ? 'makes room under the ad cap'
            : a.action === 'create' && a.media
              ? `#${a.rank} ${a.label} · ${a.media}`
              : `#${a.rank} ${a.label}`;
      lines.push(`    ${SYMBOL[a.action]} ${a.action.padEnd(7)} ${short}  ${tail}`);
    }
    for (const s of p.skipped)
      lines.push(`    · skip    ${s.hash.slice(0, 12)}  #${s.rank} ${s.label}: ${s.reason}`);
  }
  return lines;
}

/**
 * What a plan does, as a short hash: the same creates, keeps, resumes, pauses, archives and
 * disabled ad sets give the same fingerprint. An approval is of a fingerprint.
 */
/** `120.00 USD (was 100.00 USD): why`, in the account's currency. */
function budgetText(b: BudgetChange): string {
  const show = (minor: number) => `${fromMinorUnits(minor, b.currency)} ${b.currency}`;
  const was =
    b.fromMinor === null
      ? 'new ad set'
      : b.fromMinor === b.toMinor
        ? 'unchanged'
        : `was ${show(b.fromMinor)}`;
  return `${show(b.toMinor)} (${was}): ${b.reason}`;
}

export function planFingerprint(plans: AdSetPlan[]): string {
  const what = plans.map((p) => [
    p.platform,
    p.adSet.name,
    p.actions.map((a) => `${a.action}:${a.name}`).sort(),
    p.disableAdSets.map((d) => d.name).sort(),
    // Only with a budget, so fingerprints of plans without one are what they were.
    ...(p.budget ? [`budget:${p.budget.toMinor}`] : []),
  ]);
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16);
}
