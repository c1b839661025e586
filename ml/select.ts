// Turning model scores into a market's slate: exploit the best predictions, spend a share of the
// slots exploring by Thompson sampling over the model's uncertainty, and keep the slate diverse by
// maximal marginal relevance over artist similarity. Every pick carries the probability with which
// this rule would have chosen it, so other policies can be evaluated off-policy from the logs.
import { TABLED_NORMAL_MAX, normal, normalCdf, tabledNormal } from '../core/random.ts';

/** Candidates as parallel arrays (a market can have a million): index i is one candidate. */
export interface ScoredCandidates {
  /** Predicted value on a common relative scale (1 = the market's baseline). */
  score: Float32Array;
  /** Standard deviation of `score` from what the model does not know yet. */
  sigma: Float32Array;
  /** Similarity of candidates i and j in 0..1 (1 = the same). */
  similarity(i: number, j: number): number;
  /** The group candidate i belongs to (its artist): a slate holds at most `perGroup` of one. */
  group?(i: number): number;
}

export interface SelectOptions {
  /** Items to return (the slate plus reserves, best first). */
  limit: number;
  /** Of the first `slots` items, the share chosen by exploration. Default 1/3. */
  explorationShare?: number;
  /** Ads deployed per market: exploration applies to these; the rest are ranked reserves. */
  slots: number;
  /** Weight of diversity against score, 0..1. Default 0.15. */
  diversity?: number;
  /** Uniform [0, 1) source; seeded by the caller so a rerun picks the same slate. */
  random: () => number;
  /** Candidates kept for selection (by optimistic score) out of all scored. Default 400. */
  pool?: number;
  /**
   * Most picks of one group (artist) among the first `slots` (ADS_PER_ARTIST); the reserves
   * behind them are not limited. Default unlimited.
   */
  perGroup?: number;
  /**
   * When given, filled with each pool index's probability of being on the slate (exploit picks 1,
   * each exploration contender its chance of winning the draw, summed over exploration steps and
   * capped at 1): the policy's inclusion probabilities, for off-policy evaluation (ml/off-policy.ts).
   * A contender's chance is its share of INCLUSION_DRAWS Thompson draws (standard error at most
   * 0.008); a contender that never wins counts as 0. With one exploration slot, the default for
   * three slots, that is the whole rule; with more, a later step's chances are taken given the
   * earlier steps' actual draws. Ranking for deploy leaves it out.
   */
  inclusion?: Map<number, number>;
}

export interface Selection {
  /** Index into the scored candidates. */
  index: number;
  mode: 'exploit' | 'explore';
  /** Probability that the rule picks this item given the picks before it. */
  probability: number;
  /** The diversity term: 1 minus the greatest similarity to an earlier pick. */
  diversity: number;
}

/** Draws per exploration step behind `SelectOptions.inclusion`. */
export const INCLUSION_DRAWS = 1000;

/** Indices of the `k` largest values (ties to the lower index), best first; NaN never counts. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const n = values.length;
  if (k <= 0 || n === 0) return [];
  // The k-th largest value by quickselect over a copy, O(n); then one pass collects everything
  // above it and as many ties as fit, lowest index first, and only those are sorted.
  const copy = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(values[i])) copy[m++] = values[i]!;
  if (m === 0) return [];
  const want = Math.min(k, m);
  const threshold = kthLargest(copy.subarray(0, m), want);
  const above: number[] = [];
  const ties: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v > threshold) above.push(i);
    else if (v === threshold && ties.length < want) ties.push(i);
  }
  const out = above.concat(ties.slice(0, want - above.length));
  return out.sort((i, j) => values[j]! - values[i]! || i - j);
}

/** The k-th largest (1-based) of `a`, which it reorders (Hoare's quickselect, median of three). */
function kthLargest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x > y ? (y > z ? y : x > z ? z : x) : x > z ? x : y > z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  return a[target]!;
}

/** 8-point Gauss-Legendre nodes and weights on [-1, 1]. */
const GL_X = [
  -0.9602898564975363, -0.7966664774136267, -0.525532409916329, -0.1834346424956498,
  0.1834346424956498, 0.525532409916329, 0.7966664774136267, 0.9602898564975363,
];
const GL_W = [
  0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.362683783378362, 0.362683783378362,
  0.3137066458778873, 0.2223810344533745, 0.1012285362903763,
];
/** The draws' standard normal z is integrated over [-Z_MAX, Z_MAX]; beyond it lies below 1e-11. */
const Z_MAX = 7;
/** Longest piece integrated by one Gauss-Legendre rule, in standard deviations of z. */
const PIECE = 0.75;
/** A rival whose spread is below this share of the item's is a steep ramp: a break between pieces. */
const STEEP = 0.25;

const density = (z: number) => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

/**
 * Probability that item k has the largest of independent draws base[i] + spread[i] × N(0, 1):
 * E_z[ Π_{j≠k} P(draw_j < base_k + spread_k·z) ] over item k's own z. A rival without spread is a
 * step in z: the integral starts where k passes the highest of them. A rival with a much smaller
 * spread than k's is a steep ramp: its midpoint becomes a break between pieces, and each piece is
 * integrated by an 8-point Gauss-Legendre rule. Rivals that beat k with probability below 1e-12
 * are left out of the product.
 */
export function winProbability(k: number, base: Float64Array, spread: Float64Array): number {
  const bk = base[k]!;
  const sk = spread[k]!;
  const smooth: number[] = [];
  let from = -Z_MAX;
  const breaks: number[] = [];
  for (let j = 0; j < base.length; j++) {
    if (j === k) continue;
    const sj = spread[j]!;
    if (sj === 0) {
      if (sk === 0) {
        if (base[j]! >= bk) return 0;
      } else from = Math.max(from, (base[j]! - bk) / sk);
      continue;
    }
    if (normalCdf((base[j]! - bk) / Math.hypot(sj, sk)) < 1e-12) continue;
    smooth.push(j);
    if (sj < STEEP * sk) breaks.push((base[j]! - bk) / sk);
  }
  // Rivals by where they stop mattering (Φ = 1 to double precision past base + 8.3 spread), so the
  // product can stop at the first rival the value is already safely above.
  const ceiling = (j: number) => base[j]! + 8.3 * spread[j]!;
  smooth.sort((x, y) => ceiling(y) - ceiling(x));
  const product = (v: number) => {
    let p = 1;
    for (let r = 0; r < smooth.length && p > 1e-18; r++) {
      const j = smooth[r]!;
      if (v > ceiling(j)) break;
      p *= normalCdf((v - base[j]!) / spread[j]!);
    }
    return p;
  };
  if (sk === 0) return product(bk);
  if (from >= Z_MAX) return 0;
  const edges = [from, ...breaks.filter((z) => z > from && z < Z_MAX).sort((x, y) => x - y), Z_MAX];
  let total = 0;
  for (let e = 0; e + 1 < edges.length; e++) {
    const pieces = Math.max(1, Math.ceil((edges[e + 1]! - edges[e]!) / PIECE));
    const h = (edges[e + 1]! - edges[e]!) / pieces;
    for (let q = 0; q < pieces; q++) {
      const mid = edges[e]! + (q + 0.5) * h;
      for (let g = 0; g < 8; g++) {
        const z = mid + 0.5 * h * GL_X[g]!;
        total += 0.5 * h * GL_W[g]! * density(z) * product(bk + sk * z);
      }
    }
  }
  return Math.min(1, Math.max(0, total));
}

/**
 * Greedy slate: each step takes the best marginal value, score scaled to the pool's best, minus
 * `diversity` times the greatest similarity to what is already picked. Exploration steps use one
 * Thompson draw (score + sigma × N(0, 1)) instead of the score; the probability of what it drew is
 * computed exactly (see winProbability), not estimated by repeating the draw.
 */
export function selectSlate(cands: ScoredCandidates, o: SelectOptions): Selection[] {
  const lambda = o.diversity ?? 0.15;
  const exploreSlots = Math.round(Math.min(o.slots, o.limit) * (o.explorationShare ?? 1 / 3));
  const optimistic = new Float32Array(cands.score.length);
  for (let i = 0; i < optimistic.length; i++) optimistic[i] = cands.score[i]! + 2 * cands.sigma[i]!;
  const pool = topK(optimistic, o.pool ?? 400);
  const best = pool.reduce((m, i) => Math.max(m, optimistic[i]!), 0) || 1;
  const maxSim = new Float64Array(pool.length); // to anything picked so far
  const taken = new Uint8Array(pool.length);
  const out: Selection[] = [];
  // Exploration slots come last in the slate so the exploit picks are the same with or without it.
  const exploitSlots = Math.min(o.slots, o.limit) - exploreSlots;

  // Maximal marginal relevance: value scaled to the pool's best, less the similarity to the picks.
  const marginal = (p: number, value: number) =>
    (1 - lambda) * (value / best) - lambda * maxSim[p]!;
  const argmax = (value: (p: number) => number) => {
    let bestP = -1;
    let bestV = -Infinity;
    for (let p = 0; p < pool.length; p++) {
      if (taken[p] || full(p)) continue;
      const v = marginal(p, value(p));
      if (v > bestV) {
        bestV = v;
        bestP = p;
      }
    }
    return bestP;
  };
  const meanOf = (p: number) => cands.score[pool[p]!]!;
  // Picks per group within the slate: a group at its limit sits out until the reserves.
  const slate = Math.min(o.slots, o.limit);
  const inSlate = new Map<number, number>();
  const full = (p: number) =>
    cands.group !== undefined &&
    o.perGroup !== undefined &&
    out.length < slate &&
    (inSlate.get(cands.group(pool[p]!)) ?? 0) >= o.perGroup;

  while (out.length < Math.min(o.limit, pool.length)) {
    const exploring = out.length >= exploitSlots && out.length < exploitSlots + exploreSlots;
    let p: number;
    let probability = 1;
    if (exploring) {
      // The draw is restricted to items within four standard deviations of the best lower bound
      // (the rest would win with probability below 1e-4); the logged probability is exact for
      // this restricted draw.
      const value = (q: number, z: number) => marginal(q, meanOf(q) + z * cands.sigma[pool[q]!]!);
      let floor = -Infinity;
      for (let q = 0; q < pool.length; q++)
        if (!taken[q] && !full(q)) floor = Math.max(floor, value(q, -4));
      const contenders: number[] = [];
      for (let q = 0; q < pool.length; q++) {
        if (!taken[q] && !full(q) && value(q, 4) >= floor) contenders.push(q);
      }
      // Each contender's value is base + spread × z.
      const base = Float64Array.from(contenders, (q) => value(q, 0));
      const spread = Float64Array.from(
        contenders,
        (q) => ((1 - lambda) * cands.sigma[pool[q]!]!) / best,
      );
      let pick = -1;
      let pickV = -Infinity;
      for (let k = 0; k < base.length; k++) {
        const v = base[k]! + spread[k]! * normal(o.random);
        if (v > pickV) {
          pickV = v;
          pick = k;
        }
      }
      p = pick < 0 ? -1 : contenders[pick]!;
      if (pick >= 0) probability = winProbability(pick, base, spread);
      if (o.inclusion && out.length < slate) {
        // Every contender's chance of winning this draw, as its share of INCLUSION_DRAWS draws.
        // Contenders by their highest possible draw: a draw stops at the first that cannot win.
        const wins = new Uint32Array(contenders.length);
        const top = (k: number) => base[k]! + TABLED_NORMAL_MAX * spread[k]!;
        const order = contenders.map((_, k) => k).sort((x, y) => top(y) - top(x));
        for (let d = 0; d < INCLUSION_DRAWS; d++) {
          let w = -1;
          let wv = -Infinity;
          for (const k of order) {
            if (top(k) <= wv) break;
            const v = base[k]! + spread[k]! * tabledNormal(o.random);
            if (v > wv) {
              wv = v;
              w = k;
            }
          }
          if (w >= 0) wins[w]!++;
        }
        wins.forEach((n, k) => {
          if (n === 0) return;
          const index = pool[contenders[k]!]!;
          o.inclusion!.set(
            index,
            Math.min(1, (o.inclusion!.get(index) ?? 0) + n / INCLUSION_DRAWS),
          );
        });
      }
    } else {
      p = argmax(meanOf);
      if (p >= 0 && o.inclusion && out.length < slate) o.inclusion.set(pool[p]!, 1);
    }
    if (p < 0) break;
    taken[p] = 1;
    if (cands.group) {
      const g = cands.group(pool[p]!);
      inSlate.set(g, (inSlate.get(g) ?? 0) + 1);
    }
    out.push({
      index: pool[p]!,
      mode: exploring ? 'explore' : 'exploit',
      probability,
      diversity: 1 - maxSim[p]!,
    });
    for (let q = 0; q < pool.length; q++) {
      if (!taken[q]) maxSim[q] = Math.max(maxSim[q]!, cands.similarity(pool[q]!, pool[p]!));
    }
  }
  return out;
}
