// Turning model scores into a market's slate: exploit the best predictions, spend a share of the
// slots exploring by Thompson sampling over the model's uncertainty, and keep the slate diverse by
// maximal marginal relevance over artist similarity. Every pick carries the probability with which
// this rule would have chosen it, so other policies can be evaluated off-policy from the logs.
import { normal } from '../core/random.ts';

/** Candidates as parallel arrays (a market can have a million): index i is one candidate. */
export interface ScoredCandidates {
  /** Predicted value on a common relative scale (1 = the market's baseline). */
  score: Float32Array;
  /** Standard deviation of `score` from what the model does not know yet. */
  sigma: Float32Array;
  /** Similarity of candidates i and j in 0..1 (1 = the same). */
  similarity(i: number, j: number): number;
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
  /** Thompson draws used to estimate each exploration pick's probability. Default 100. */
  propensityDraws?: number;
  /** Candidates kept for selection (by optimistic score) out of all scored. Default 400. */
  pool?: number;
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

/** Indices of the `k` largest values (ties to the lower index), best first, in O(n log k). */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const heap: number[] = []; // min-heap on value
  const less = (i: number, j: number) =>
    values[i]! < values[j]! || (values[i] === values[j] && i > j);
  const up = (n: number) => {
    while (n > 0) {
      const p = (n - 1) >> 1;
      if (!less(heap[n]!, heap[p]!)) break;
      [heap[n], heap[p]] = [heap[p]!, heap[n]!];
      n = p;
    }
  };
  const down = (n: number) => {
    for (;;) {
      const l = 2 * n + 1;
      const r = l + 1;
      let m = n;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === n) return;
      [heap[n], heap[m]] = [heap[m]!, heap[n]!];
      n = m;
    }
  };
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    if (heap.length < k) {
      heap.push(i);
      up(heap.length - 1);
    } else if (k > 0 && less(heap[0]!, i)) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((i, j) => (less(i, j) ? 1 : less(j, i) ? -1 : 0));
}

/**
 * Greedy slate: each step takes the best marginal value, score scaled to the pool's best, minus
 * `diversity` times the greatest similarity to what is already picked. Exploration steps use one
 * Thompson draw (score + sigma × N(0, 1)) instead of the score; their probability is estimated by
 * repeating the draw.
 */
export function selectSlate(cands: ScoredCandidates, o: SelectOptions): Selection[] {
  const lambda = o.diversity ?? 0.15;
  const exploreSlots = Math.round(Math.min(o.slots, o.limit) * (o.explorationShare ?? 1 / 3));
  const draws = o.propensityDraws ?? 100;
  const optimistic = new Float32Array(cands.score.length);
  for (let i = 0; i < optimistic.length; i++) optimistic[i] = cands.score[i]! + 2 * cands.sigma[i]!;
  const pool = topK(optimistic, o.pool ?? 400);
  const best = pool.reduce((m, i) => Math.max(m, optimistic[i]!), 0) || 1;
  const maxSim = new Float64Array(pool.length); // to anything picked so far
  const taken = new Uint8Array(pool.length);
  const out: Selection[] = [];
  // Exploration slots come last in the slate so the exploit picks are the same with or without it.
  const exploitSlots = Math.min(o.slots, o.limit) - exploreSlots;

  const argmax = (value: (p: number) => number) => {
    let bestP = -1;
    let bestV = -Infinity;
    for (let p = 0; p < pool.length; p++) {
      if (taken[p]) continue;
      const v = (1 - lambda) * (value(p) / best) - lambda * maxSim[p]!;
      if (v > bestV) {
        bestV = v;
        bestP = p;
      }
    }
    return bestP;
  };
  const meanOf = (p: number) => cands.score[pool[p]!]!;

  while (out.length < Math.min(o.limit, pool.length)) {
    const exploring = out.length >= exploitSlots && out.length < exploitSlots + exploreSlots;
    let p: number;
    let probability = 1;
    if (exploring) {
      // Only items within four standard deviations of the best lower bound can win a draw (the
      // rest would with probability below 1e-4): drawing for those alone keeps a 100-draw
      // propensity estimate cheap on a large pool.
      const value = (q: number, z: number) =>
        (1 - lambda) * ((meanOf(q) + z * cands.sigma[pool[q]!]!) / best) - lambda * maxSim[q]!;
      let floor = -Infinity;
      for (let q = 0; q < pool.length; q++) if (!taken[q]) floor = Math.max(floor, value(q, -4));
      const contenders: number[] = [];
      for (let q = 0; q < pool.length; q++)
        if (!taken[q] && value(q, 4) >= floor) contenders.push(q);
      const sample = () => {
        let bestQ = -1;
        let bestV = -Infinity;
        for (const q of contenders) {
          const v = value(q, normal(o.random));
          if (v > bestV) {
            bestV = v;
            bestQ = q;
          }
        }
        return bestQ;
      };
      p = sample();
      let wins = 0;
      for (let d = 0; d < draws; d++) if (sample() === p) wins++;
      // The observed pick counts as one draw, so no logged probability is ever zero.
      probability = (wins + 1) / (draws + 1);
    } else {
      p = argmax(meanOf);
    }
    if (p < 0) break;
    taken[p] = 1;
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
