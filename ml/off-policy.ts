// Off-policy evaluation: what a challenger model would have earned on days another policy ranked,
// estimated from what ran on those days and the probability the ranking gave each of them (the
// propensities the rank stage logs). Production's training activity and the policy benchmark both
// evaluate a challenger here before deciding on promotion.
//
// The value of a policy is the mean, over market-days, of its slate's average conversions per
// unit of spend: V = mean_u (1/K_u) Σ_j P(j on u's slate) × ρ_j, with ρ_j a creative's expected
// conversions per spend that day and K_u the slate's size. From what ran (item i with spend s_i,
// conversions c_i, reward r_i = c_i / s_i, logged propensity μ_i) and the challenger's inclusion
// probability π_i, with w_i = π_i / μ_i:
//
//   IPS    (1/K) Σ_i w_i r_i                          unbiased where the logging policy could have
//                                                     picked everything the challenger picks
//   SNIPS  Σ_u Σ_i w_i r_i / Σ_u Σ_i w_i              self-normalised: lower variance, small bias
//   DR     (1/K) [Σ_j π_j q_j + Σ_i w_i (r_i − q_i)]  the challenger's own predictions q, corrected
//                                                     by what ran; holds up where IPS has no support
//
// q is the challenger's prediction calibrated on what ran: a spend-weighted least-squares line
// through every creative that ran on the evaluated days (see calibration()).
//
// (Dudík, Langford & Li, "Doubly Robust Policy Evaluation and Learning", ICML 2011; Swaminathan &
// Joachims, "The Self-Normalized Estimator for Counterfactual Learning", NeurIPS 2015.) Intervals
// are 95% normal intervals over market-days (the delta method for SNIPS). A deterministic choice
// (an exploit pick, the heuristic) has propensity 1: the challenger's other picks then have no
// support on that day, which is why DR is the estimate promotion reads.
import { pairKey } from '../core/ids.ts';
import type { CreativeDay, Objective } from './features.ts';
import type { RankModel } from './rank-model.ts';
import { policyView, type ModelRankInput, type PolicyView } from './ranker.ts';
import type { SelectOptions } from './select.ts';

/** One creative that ran on a logged market-day. */
export interface LoggedItem {
  artistId: string;
  templateId: string;
  /** Probability the logging policy gave this creative's place on the slate (1: deterministic). */
  propensity: number;
  spend: number;
  conversions: number;
}

/** A market-day another policy ranked, and the challenger's view of the same day. */
export interface LoggedUnit {
  market: string;
  date: string;
  logged: readonly LoggedItem[];
  target: PolicyView;
}

export interface Interval {
  value: number;
  low: number;
  high: number;
}

export interface OffPolicyEstimates {
  /** Market-days evaluated. */
  units: number;
  /** What the logging policy earned (on-policy, from what ran). */
  logged: Interval;
  ips: Interval;
  snips: Interval;
  dr: Interval;
}

const Z95 = 1.959964;

function meanInterval(xs: readonly number[]): Interval {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const variance = n > 1 ? xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  const half = Z95 * Math.sqrt(variance / n);
  return { value: mean, low: mean - half, high: mean + half };
}

/** Ratio of means a/b with a delta-method interval. */
function ratioInterval(a: readonly number[], b: readonly number[]): Interval {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  if (mb <= 0) return { value: NaN, low: NaN, high: NaN };
  const ratio = ma / mb;
  const residuals = a.map((x, i) => (x - ratio * b[i]!) / mb);
  const spread = meanInterval(residuals);
  const half = spread.high - spread.value;
  return { value: ratio, low: ratio - half, high: ratio + half };
}

/** Importance weight past which DR keeps the prediction instead of correcting it (SWITCH). */
const MAX_WEIGHT = 10;

/** Most a calibration line may stretch the challenger's predictions. */
const MAX_SLOPE = 2;

/**
 * The challenger's predictions calibrated on what ran: the spend-weighted least-squares line
 * r ≈ a + b·q over every creative that ran (b in [0, MAX_SLOPE]). It goes through the weighted
 * means, so over what ran it predicts as many conversions as happened, and it shrinks the spread
 * of a model more confident than its record: a model's ordering is what it learned, its level and
 * scale (relative to each market's baseline, smoothed towards it) the least reliable part.
 */
function calibration(units: readonly LoggedUnit[]): (q: number) => number {
  const points: Array<[q: number, r: number, spend: number]> = [];
  for (const u of units) {
    for (const i of u.logged) {
      const q = u.target.expectedRate(i.artistId, i.templateId);
      if (i.spend > 0 && Number.isFinite(q)) points.push([q, i.conversions / i.spend, i.spend]);
    }
  }
  const w = points.reduce((n, p) => n + p[2], 0);
  if (w <= 0) return (q) => q;
  const qMean = points.reduce((n, [q, , s]) => n + s * q, 0) / w;
  const rMean = points.reduce((n, [, r, s]) => n + s * r, 0) / w;
  let sqq = 0;
  let sqr = 0;
  for (const [q, r, s] of points) {
    sqq += s * (q - qMean) ** 2;
    sqr += s * (q - qMean) * (r - rMean);
  }
  // Without spread in the predictions, only their level can be matched.
  if (sqq <= 1e-12 * w * qMean * qMean) return (q) => (qMean > 0 ? (q * rMean) / qMean : q);
  const b = Math.min(MAX_SLOPE, Math.max(0, sqr / sqq));
  return (q) => Math.max(0, rMean + b * (q - qMean));
}

/** The four estimates over `units`; null when no unit has a creative with spend. */
export function offPolicyEstimates(units: readonly LoggedUnit[]): OffPolicyEstimates | null {
  const logged: number[] = [];
  const ips: number[] = [];
  const weighted: number[] = [];
  const weights: number[] = [];
  const dr: number[] = [];
  const calibrated = calibration(units);
  for (const u of units) {
    const ran = u.logged.filter((i) => i.spend > 0 && i.propensity > 0);
    if (ran.length === 0) continue;
    const k = ran.length;
    const chance = new Map(u.target.inclusion.map((t) => [pairKey(t.artistId, t.templateId), t]));
    const rewards = ran.map((i) => i.conversions / i.spend);
    const mean = rewards.reduce((s, r) => s + r, 0) / k;
    // The challenger's calibrated prediction, or what ran on average where it has none.
    const q = (artistId: string, templateId: string) => {
      const v = u.target.expectedRate(artistId, templateId);
      return Number.isFinite(v) ? calibrated(v) : mean;
    };
    let a = 0;
    let w = 0;
    let correction = 0;
    ran.forEach((i, n) => {
      const wi = (chance.get(pairKey(i.artistId, i.templateId))?.probability ?? 0) / i.propensity;
      a += wi * rewards[n]!;
      w += wi;
      // SWITCH: past MAX_WEIGHT, one noisy day would swamp the estimate; the prediction stands.
      if (wi <= MAX_WEIGHT) correction += wi * (rewards[n]! - q(i.artistId, i.templateId));
    });
    const direct = u.target.inclusion.reduce(
      (s, t) => s + t.probability * q(t.artistId, t.templateId),
      0,
    );
    logged.push(mean);
    ips.push(a / k);
    weighted.push(a / k);
    weights.push(w / k);
    dr.push((direct + correction) / k);
  }
  if (logged.length === 0) return null;
  return {
    units: logged.length,
    logged: meanInterval(logged),
    ips: meanInterval(ips),
    snips: ratioInterval(weighted, weights),
    dr: meanInterval(dr),
  };
}

/**
 * Whether off-policy evidence stands against promoting a challenger: its doubly robust estimate
 * is confidently (the whole 95% interval) below what the logged policy earned on the same days.
 */
export function confidentlyWorse(e: OffPolicyEstimates | null): boolean {
  return e !== null && Number.isFinite(e.dr.high) && e.dr.high < e.logged.value;
}

/**
 * What ran on each market-day from `from` on, from its creative-days: one item per creative (its
 * platforms' spend and conversions summed), with the propensity the day's ranking logged for it
 * (1 when the ranking does not hold it, e.g. a creative kept from an earlier slate).
 */
export function loggedItemsByDay(
  rows: readonly CreativeDay[],
  from: string,
  objective: Objective,
  propensity: (market: string, date: string, pair: string) => number | undefined,
): Array<{ market: string; date: string; logged: LoggedItem[] }> {
  const days = new Map<string, { market: string; date: string; items: Map<string, LoggedItem> }>();
  for (const r of rows) {
    if (r.date < from) continue;
    const dayKey = `${r.market}\u0000${r.date}`;
    const day = days.get(dayKey) ?? {
      market: r.market,
      date: r.date,
      items: new Map<string, LoggedItem>(),
    };
    days.set(dayKey, day);
    const pair = pairKey(r.artistId, r.templateId);
    const item = day.items.get(pair) ?? {
      artistId: r.artistId,
      templateId: r.templateId,
      propensity: propensity(r.market, r.date, pair) ?? 1,
      spend: 0,
      conversions: 0,
    };
    item.spend += r.spend;
    item.conversions += objective === 'subscriptions' ? r.subscriptions : r.registrations;
    day.items.set(pair, item);
  }
  return [...days.values()].map((d) => ({
    market: d.market,
    date: d.date,
    logged: [...d.items.values()],
  }));
}

/** A market-day as the logging policy ranked it: the ranking's inputs and what then ran. */
export interface LoggedDay extends Omit<ModelRankInput, 'model' | 'select'> {
  market: string;
  date: string;
  logged: readonly LoggedItem[];
}

/**
 * Ranks each logged day again with `model` (the rank stage's selection options for that day, as
 * `select` gives them) and estimates what it would have earned there.
 */
export function evaluateModel(
  model: RankModel,
  days: readonly LoggedDay[],
  select: (day: LoggedDay) => SelectOptions,
): { estimates: OffPolicyEstimates | null; units: LoggedUnit[] } {
  const units = days.map((day): LoggedUnit => ({
    market: day.market,
    date: day.date,
    logged: day.logged,
    target: policyView({ ...day, model, select: select(day) }),
  }));
  return { estimates: offPolicyEstimates(units), units };
}
