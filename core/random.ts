// Small deterministic randomness: the sandbox and the demo data must give the same numbers for
// the same seed on every machine, so nothing here touches Math.random.

/** 32-bit FNV-1a hash of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a fast seeded PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A PRNG keyed by any number of parts, e.g. `keyed(seed, 'ad', adId, date)`. */
export function keyed(...parts: Array<string | number>): () => number {
  return prng(hashString(parts.join('\u0000')));
}

/** Standard normal sample from a uniform source (Box-Muller). */
export function normal(rand: () => number): number {
  const u = Math.max(rand(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Points of the normal quantile table behind `tabledNormal`. */
const QUANTILE_POINTS = 4096;
let quantiles: Float64Array | null = null;

/**
 * A standard normal sample by table lookup: one of QUANTILE_POINTS equally likely quantiles (the
 * midpoints), so about seven times cheaper than Box-Muller, with tails cut at ±TABLED_NORMAL_MAX.
 * For Monte Carlo counts (ml/select.ts inclusion), not for simulation.
 */
export function tabledNormal(rand: () => number): number {
  if (!quantiles) {
    quantiles = new Float64Array(QUANTILE_POINTS);
    for (let i = 0; i < QUANTILE_POINTS; i++) {
      const p = (i + 0.5) / QUANTILE_POINTS;
      let lo = -10;
      let hi = 10;
      for (let k = 0; k < 60; k++) {
        const mid = (lo + hi) / 2;
        if (normalCdf(mid) < p) lo = mid;
        else hi = mid;
      }
      quantiles[i] = (lo + hi) / 2;
    }
  }
  return quantiles[Math.floor(rand() * QUANTILE_POINTS)]!;
}

/** A bound on what `tabledNormal` returns: its largest quantile, at 1 − 1 / 8192, is 3.6683. */
export const TABLED_NORMAL_MAX = 3.67;

/** Standard normal CDF, through erfc (fractional error below 1.2e-7). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function erfc(x: number): number {
  // Numerical Recipes' erfcc: Chebyshev fit, fractional error below 1.2e-7 everywhere.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
