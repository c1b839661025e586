// The hidden ground truth and the platforms' delivery. Nothing outside sandbox/ may read this:
// adloop only ever sees what the wire-format servers report. Only the oracle policy (sandbox/
// policies) reads the truth directly, as the yardstick.
import { daysBetween } from '../core/dates.ts';
import { hashString, keyed, normal } from '../core/random.ts';
import type {
  BudgetChange,
  Delivery,
  DeliveryModel,
  Funnel,
  Os,
  PlatformName,
  SimAd,
} from './contracts.ts';
import type { World } from './world.ts';
import { customisedPlacementFit } from './placement-fit.ts';

export type { Delivery, SimAd } from './contracts.ts';

const OSES: Os[] = ['ios', 'android'];

/** How well an aspect ratio fits each platform's placements (feed vs full screen). */
const PLACEMENT_FIT: Record<PlatformName, Record<string, number>> = {
  meta: { '1:1': 1, '4:5': 1.05, '9:16': 0.97, '16:9': 0.85 },
  tiktok: { '9:16': 1, '1:1': 0.72, '4:5': 0.78, '16:9': 0.6 },
  // Google's App campaign inventory (YouTube, Play, Discover, AdMob) takes every shape: square
  // and portrait images and vertical video fit best, landscape a little less.
  google: { '1:1': 1, '4:5': 0.97, '1.91:1': 0.95, '16:9': 0.95, '9:16': 1 },
};

export class Simulator implements DeliveryModel {
  // The truth is a pure function of the seed; these caches only save re-hashing it.
  private readonly appealCache = new Map<string, number>();
  private readonly afterClickCache = new Map<string, number>();
  private readonly fitCache = new Map<string, number>();
  private readonly tasteDirections = new Map<string, number[]>();
  private readonly genres = new Map<string, string>();

  constructor(private readonly world: World) {}

  /**
   * Hidden appeal of an artist in a market, in [0, 1]: partly popularity, partly the market's taste
   * (similar artists appeal alike), partly the artist's own.
   */
  appeal(artistId: string, market: string): number {
    const key = `${artistId}\u0000${market}`;
    let v = this.appealCache.get(key);
    if (v === undefined) {
      const pop = this.world.catalog.popularity(artistId, market);
      const { popularityWeight, tasteWeight: t, appealCorrelation: c } = this.world.truth;
      // The artist's own appeal: its market's draw, with a share `c` it has in every market.
      let own = keyed(this.world.seed, 'appeal', artistId, market)();
      if (c > 0) own = (1 - c) * own + c * keyed(this.world.seed, 'appeal-everywhere', artistId)();
      // A negative weight: appeal falls as popularity rises.
      const w = Math.abs(popularityWeight);
      const p = popularityWeight >= 0 ? pop : 1 - pop;
      v = w * p + (1 - w) * (t * this.taste(artistId, market) + (1 - t) * own);
      this.appealCache.set(key, v);
    }
    return v;
  }

  /**
   * Hidden appeal after the click (install to registration and subscription), in [0, 1]: the
   * click appeal, or with `funnelSplit` partly the artist's own after-click appeal.
   */
  afterClickAppeal(artistId: string, market: string): number {
    const f = this.world.truth.funnelSplit;
    const appeal = this.appeal(artistId, market);
    if (f === 0) return appeal;
    const key = `${artistId}\u0000${market}`;
    let v = this.afterClickCache.get(key);
    if (v === undefined) {
      v = (1 - f) * appeal + f * keyed(this.world.seed, 'after-click', artistId, market)();
      this.afterClickCache.set(key, v);
    }
    return v;
  }

  /**
   * How well an artist matches a market's taste, in [0, 1]: the market has a hidden direction in
   * the catalog's similarity space, and an artist's match is its embedding's alignment with it.
   * Catalogs without embeddings get a taste per genre instead.
   */
  taste(artistId: string, market: string): number {
    const embedding = this.world.catalog.embedding(artistId);
    if (!embedding) {
      const genre = this.genreOf(artistId);
      return keyed(this.world.seed, 'genre-taste', genre, market)();
    }
    let dir = this.tasteDirections.get(market);
    if (!dir) {
      const r = keyed(this.world.seed, 'taste', market);
      dir = embedding.map(() => normal(r));
      this.tasteDirections.set(market, dir);
    }
    let dot = 0;
    let ne = 0;
    let nd = 0;
    embedding.forEach((x, i) => {
      dot += x * dir[i]!;
      ne += x * x;
      nd += dir[i]! ** 2;
    });
    const cos = ne > 0 && nd > 0 ? dot / Math.sqrt(ne * nd) : 0;
    // Random directions in a few dimensions have |cos| around 0.35: spread that over [0, 1].
    return 0.5 + 0.5 * Math.tanh(2.5 * cos);
  }

  private genreOf(artistId: string): string {
    let g = this.genres.get(artistId);
    if (g === undefined) {
      g = '';
      for (let i = 0; i < this.world.catalog.artistCount; i++) {
        const a = this.world.catalog.artistAt(i);
        this.genres.set(a.id, a.genre);
        if (a.id === artistId) g = a.genre;
      }
    }
    return g;
  }

  /** Hidden fit of a template in a market for one OS segment, around 1. */
  templateFit(templateId: string, market: string, os: Os): number {
    const key = `${templateId}\u0000${market}\u0000${os}`;
    let v = this.fitCache.get(key);
    if (v === undefined) {
      const { templateSpread, segmentSpread } = this.world.truth;
      const m = keyed(this.world.seed, 'template-fit', templateId, market)();
      const s = keyed(this.world.seed, 'template-segment', templateId, market, os)();
      v = (1 + templateSpread * (2 * m - 1)) * (1 + segmentSpread * (2 * s - 1));
      this.fitCache.set(key, v);
    }
    return v;
  }

  /** Fatigue and novelty: a new creative gets a lift that fades; every day live wears it down. */
  ageFactor(daysLive: number): number {
    const { fatigueRate, noveltyBoost } = this.world.truth;
    const d = Math.max(0, daysLive);
    return Math.exp(-fatigueRate * d) * (1 + noveltyBoost * Math.exp(-d / 2));
  }

  /** True rates of an ad for one OS segment on a date. */
  trueRates(ad: SimAd, os: Os, date: string) {
    const econ = this.world.markets[ad.market];
    if (!econ) return { ctr: 0, installRate: 0, registrationRate: 0, subscriptionRate: 0 };
    const appeal = ad.artistId ? this.appeal(ad.artistId, ad.market) : 0.5;
    const after = ad.artistId ? this.afterClickAppeal(ad.artistId, ad.market) : 0.5;
    const fit = ad.templateId ? this.templateFit(ad.templateId, ad.market, os) : 1;
    // A video ad plays in motion (truth.motionLift); with placement asset customisation each
    // placement group shows the ratio it was given, so each sees its best fit.
    const placement =
      (customisedPlacementFit(ad) ?? PLACEMENT_FIT[ad.platform][ad.aspectRatio ?? ''] ?? 0.9) *
      (ad.motion ? this.world.truth.motionLift : 1);
    const age = this.ageFactor(daysBetween(ad.createdDate, date));
    const lift = os === 'ios' ? this.world.truth.iosSubscriptionLift : 1;
    return {
      ctr: Math.min(0.5, econ.baseCtr * (0.4 + 1.2 * appeal) * fit * placement * age),
      // iOS users install a little less readily from an ad but subscribe more often.
      installRate: Math.min(1, econ.installRate * (os === 'ios' ? 0.85 : 1.1)),
      registrationRate: Math.min(1, econ.registrationRate * (0.5 + after)),
      subscriptionRate: Math.min(1, econ.subscriptionRate * (0.6 + 0.8 * after) * lift),
    };
  }

  /** Expected registrations per unit of spend of an ad (the oracle's yardstick). */
  expectedRegistrationsPerSpend(ad: SimAd, date: string): number {
    const econ = this.world.markets[ad.market];
    if (!econ) return 0;
    let total = 0;
    for (const os of OSES) {
      const share = os === 'ios' ? econ.iosShare : 1 - econ.iosShare;
      const r = this.trueRates(ad, os, date);
      total += share * r.ctr * r.installRate * r.registrationRate;
    }
    return (total * 1000) / econ.cpm;
  }

  /**
   * Share of its results an ad set keeps on `date` given its budget history (dated changes, in
   * order): 1 - penalty while it relearns after a change larger than the learning threshold, else
   * 1. A new ad set's first budget is not a change.
   */
  learningFactor(history: ReadonlyArray<BudgetChange> | undefined, date: string): number {
    const { threshold, days, penalty } = this.world.truth.learningPhase;
    if (!history || days === 0 || penalty === 0) return 1;
    let prev: BudgetChange | undefined;
    let lastReset: string | null = null;
    for (const h of history) {
      if (h.date > date) break;
      if (
        prev &&
        prev.budgetMinor > 0 &&
        Math.abs(h.budgetMinor / prev.budgetMinor - 1) > threshold
      )
        lastReset = h.date;
      prev = h;
    }
    return lastReset !== null && daysBetween(lastReset, date) < days ? 1 - penalty : 1;
  }

  deliverAdSet(
    budgetMinor: number,
    ads: SimAd[],
    date: string,
    adSetId: string,
    oses: readonly Os[] = OSES,
    history?: ReadonlyArray<BudgetChange>,
  ): Delivery[] {
    return this.deliver(budgetMinor, ads, date, adSetId, oses, history, false);
  }

  /**
   * What an ad set is expected to deliver at `budgetMinor`, without the day's noise and with
   * fractional counts: the hidden truth an oracle allocator plans with. The platform's split of
   * the budget over the ads is the day's own (it is the platform's choice, not noise).
   */
  expectedAdSet(
    budgetMinor: number,
    ads: SimAd[],
    date: string,
    adSetId: string,
    oses: readonly Os[] = OSES,
    history?: ReadonlyArray<BudgetChange>,
  ): Delivery[] {
    return this.deliver(budgetMinor, ads, date, adSetId, oses, history, true);
  }

  private deliver(
    budgetMinor: number,
    ads: SimAd[],
    date: string,
    adSetId: string,
    oses: readonly Os[],
    history: ReadonlyArray<BudgetChange> | undefined,
    expected: boolean,
  ): Delivery[] {
    if (ads.length === 0 || budgetMinor <= 0) return [];
    const { noise, learningNoise, sampling } = this.world.truth;
    const targeted = OSES.filter((os) => oses.includes(os));
    const everyOs = targeted.length === OSES.length;
    const learn = keyed(this.world.seed, 'learning', adSetId, date, ads.length);
    // Relearning after a large budget change converts fewer of the clicks it buys.
    const relearning = this.learningFactor(history, date);
    const quality = ads.map(
      (ad) =>
        targeted.reduce((s, os) => s + this.trueRates(ad, os, date).ctr, 0) /
        Math.max(1, targeted.length),
    );
    // The platform's estimate of each ad is noisy; it bets its budget on what looks best.
    const weights = quality.map((q) => (q * Math.exp(learningNoise * normal(learn))) ** 2);
    const total = weights.reduce((s, w) => s + w, 0) || 1;
    return ads.map((ad, i) => {
      const econ = this.world.markets[ad.market];
      const r = keyed(this.world.seed, 'delivery', ad.platform, ad.id, date);
      const jitter = () => (expected ? 1 : Math.exp(noise * normal(r) - (noise * noise) / 2));
      // Of n tries each succeeding with probability p: the expected count, or a drawn one.
      const count = (n: number, p: number) =>
        expected
          ? n * Math.min(1, p)
          : sampling === 'binomial'
            ? binomial(n, Math.min(1, p), r)
            : Math.min(n, Math.round(n * p));
      const spendMinor = Math.round((budgetMinor * weights[i]!) / total);
      const empty: Funnel = { installs: 0, registrations: 0, subscriptions: 0 };
      const out: Delivery = {
        adId: ad.id,
        date,
        impressions: 0,
        clicks: 0,
        spendMinor: 0,
        installs: 0,
        registrations: 0,
        subscriptions: 0,
        byOs: { ios: { ...empty }, android: { ...empty } },
      };
      if (!econ || spendMinor <= 0) return out;
      // OS targeting narrows the audience to the targeted segments' share of the market.
      const natural = (os: Os) => (os === 'ios' ? econ.iosShare : 1 - econ.iosShare);
      const reach = everyOs ? 1 : targeted.reduce((s, os) => s + natural(os), 0);
      if (reach <= 0) return out;
      const audience = econ.audienceSize * reach;
      // Spend buys impressions at the market's CPM, with diminishing reach near the audience size:
      // the more an ad set spends on its audience, the more each further result costs.
      const bought = (spendMinor / 100 / econ.cpm) * 1000;
      const reached = audience * (1 - Math.exp(-bought / audience));
      out.impressions = expected ? reached : Math.floor(reached);
      out.spendMinor = spendMinor;
      for (const os of targeted) {
        const share = everyOs ? natural(os) : natural(os) / reach;
        const rates = this.trueRates(ad, os, date);
        const imps = expected ? out.impressions * share : Math.round(out.impressions * share);
        const clicks = count(imps, rates.ctr * jitter());
        const installs = count(clicks, rates.installRate * relearning * jitter());
        const registrations = count(installs, rates.registrationRate * jitter());
        const subscriptions = count(registrations, rates.subscriptionRate * jitter());
        out.clicks += clicks;
        out.byOs[os] = { installs, registrations, subscriptions };
        out.installs += installs;
        out.registrations += registrations;
        out.subscriptions += subscriptions;
      }
      return out;
    });
  }

  /** A stable, opaque id seed for this world, e.g. for object ids. */
  get idSeed(): number {
    return hashString(`${this.world.name}/${this.world.seed}`);
  }
}

/**
 * A binomial draw of `n` tries at probability `p`: exact by inversion for small expected counts,
 * the normal approximation (rounded, clamped to 0..n) where it is accurate.
 */
export function binomial(n: number, p: number, rand: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  // Counted from the rarer side, so the inversion below starts from a term that does not vanish.
  if (p > 0.5) return n - binomial(n, 1 - p, rand);
  const mean = n * p;
  if (mean > 30)
    return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(rand))));
  // Inversion: walk the distribution's terms from k = 0.
  const q = 1 - p;
  let term = q ** n;
  let cumulative = term;
  const u = rand();
  let k = 0;
  while (cumulative < u && k < n) {
    term *= ((n - k) / (k + 1)) * (p / q);
    k += 1;
    cumulative += term;
  }
  return k;
}
