// The spend-response model of one budget unit (a market's ad sets on one platform): how many
// results (registrations or subscriptions) a day's spend buys, with diminishing returns, learned
// from its delivery, with how sure we are. Pure.
//
// Results of a day are Poisson around θ · g_K(s), where s is the day's spend and
//   g_K(s) = K · (1 − e^(−s/K))
// rises like s at first (θ results per unit of spend) and flattens towards θ·K as the audience
// saturates: K is the spend at which returns have fallen to 1/e of the first unit's. K is unknown,
// so the model keeps a posterior over a grid of K (from far below the unit's spend to a straight
// line); for each K, θ has a conjugate Gamma posterior. The prior on θ is the pooled rate of every
// unit (a new unit is assumed average until it shows otherwise), weak enough that a few days of its
// own delivery outweigh it. Older days weigh less (half-life), as creatives fatigue and rotate.

/** One day of one unit: spend in minor units of the allocation's currency, and its results. */
export interface SpendDay {
  date: string;
  spendMinor: number;
  results: number;
}

export interface ResponseOptions {
  /** Days after which a day counts half as much. Default 7. */
  halfLifeDays: number;
  /**
   * Strength of the pooled prior on θ, in results: how many results of its own a unit needs to
   * count as much as the pool. Default 3.
   */
  priorResults: number;
}

export const DEFAULT_RESPONSE: ResponseOptions = { halfLifeDays: 7, priorResults: 3 };

/** Saturation scales tried, as multiples of the unit's typical spend; Infinity is a straight line. */
const K_MULTIPLES = [0.25, 0.5, 1, 2, 4, 8, 16, Infinity] as const;

/** One saturation scale's share of the posterior, with θ's Gamma posterior under it. */
interface Component {
  k: number;
  weight: number;
  /** Gamma shape and rate of θ (results per minor unit of spend at zero spend). */
  shape: number;
  rate: number;
}

export interface ResponseModel {
  /** Expected results at `spendMinor` a day. */
  expected(spendMinor: number): number;
  /** Expected extra results of one more minor unit at `spendMinor`. */
  marginal(spendMinor: number): number;
  /**
   * The marginal an optimist would bet on: the mean's plus `z` standard deviations of θ's
   * posterior. Where the unit has few results of its own, this is well above the mean, and
   * allocation explores it; with many, it converges on the mean.
   */
  optimisticMarginal(spendMinor: number, z: number): number;
  /** Relative uncertainty of the unit's rate: the posterior's coefficient of variation. */
  uncertainty: number;
  /** Results the unit itself contributed (decayed): how much the model has seen. */
  evidence: number;
  /** The saturation scale the posterior favours, in minor units (Infinity: no saturation seen). */
  likelyScale: number;
}

const g = (s: number, k: number) => (k === Infinity ? s : k * (1 - Math.exp(-s / k)));
const gPrime = (s: number, k: number) => (k === Infinity ? 1 : Math.exp(-s / k));

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7). */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502225708, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = c[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The pooled rate of results per minor unit over every unit's days: the prior's mean. */
export function pooledRate(days: ReadonlyArray<SpendDay>): number | null {
  let spend = 0;
  let results = 0;
  for (const d of days) {
    spend += Math.max(0, d.spendMinor);
    results += Math.max(0, d.results);
  }
  return spend > 0 && results > 0 ? results / spend : null;
}

/**
 * Fits one unit's response from its days. `priorRate` is the pooled results per minor unit (see
 * pooledRate); `today` anchors the decay; `typicalSpend` sets the grid of scales when the unit has
 * no spend of its own yet (e.g. the budget it is about to get).
 */
export function fitResponse(
  days: ReadonlyArray<SpendDay>,
  o: { priorRate: number; today: string; typicalSpend: number },
  options: Partial<ResponseOptions> = {},
): ResponseModel {
  const { halfLifeDays, priorResults } = { ...DEFAULT_RESPONSE, ...options };
  const spent = days.filter((d) => d.spendMinor > 0);
  const weightOf = (date: string) =>
    0.5 ** (Math.max(0, Date.parse(o.today) - Date.parse(date)) / 86_400_000 / halfLifeDays);
  const typical =
    spent.length > 0
      ? spent.reduce((s, d) => s + d.spendMinor, 0) / spent.length
      : Math.max(1, o.typicalSpend);
  // Gamma(a0, b0) with mean priorRate, worth `priorResults` results.
  const a0 = priorResults;
  const b0 = priorResults / Math.max(o.priorRate, 1e-12);
  let evidence = 0;
  const components: Component[] = K_MULTIPLES.map((m) => {
    const k = m * typical;
    let r = 0;
    let gs = 0;
    let logLik = 0;
    for (const d of spent) {
      const w = weightOf(d.date);
      const gi = g(d.spendMinor, k);
      const ri = Math.max(0, d.results);
      r += w * ri;
      gs += w * gi;
      if (ri > 0) logLik += w * ri * Math.log(gi);
    }
    evidence = r;
    // Poisson-Gamma marginal likelihood of the days under this K (terms equal for every K dropped).
    logLik += a0 * Math.log(b0) - lnGamma(a0) + lnGamma(a0 + r) - (a0 + r) * Math.log(b0 + gs);
    return { k, weight: logLik, shape: a0 + r, rate: b0 + gs };
  });
  // Normalise log weights (a uniform prior over the grid).
  const top = Math.max(...components.map((c) => c.weight));
  let total = 0;
  for (const c of components) total += c.weight = Math.exp(c.weight - top);
  for (const c of components) c.weight /= total;

  const mean = (c: Component) => c.shape / c.rate;
  const expected = (s: number) =>
    components.reduce((sum, c) => sum + c.weight * mean(c) * g(s, c.k), 0);
  const marginal = (s: number) =>
    components.reduce((sum, c) => sum + c.weight * mean(c) * gPrime(s, c.k), 0);
  // θ's coefficient of variation under the posterior's mixture: 1/√shape for each component.
  const uncertainty = components.reduce((sum, c) => sum + c.weight / Math.sqrt(c.shape), 0);
  const likely = components.reduce((best, c) => (c.weight > best.weight ? c : best));
  return {
    expected,
    marginal,
    optimisticMarginal: (s, z) =>
      components.reduce(
        (sum, c) => sum + c.weight * mean(c) * (1 + z / Math.sqrt(c.shape)) * gPrime(s, c.k),
        0,
      ),
    uncertainty,
    evidence,
    likelyScale: likely.k,
  };
}
