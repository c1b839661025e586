// The linear part of the rate model: a weighted ridge regression on a few features whose effect
// is known to be smooth (popularity, the artist's posterior, the market's taste, the template's
// rate, age). The boosted trees then learn only what the line misses. With a few dozen noisy rows
// the trees alone are step functions that tie most candidates; the line keeps ordering them
// sensibly, and with plenty of rows the trees take over. Coefficients keep the sign the feature's
// monotone constraint allows (the wrong-signed ones are dropped and the rest refitted).
import {
  FEATURE_COUNT,
  FEATURE_MONOTONE,
  FEATURE_NAMES,
  solveSymmetric,
  type FeatureName,
} from './features.ts';

export const LINEAR_FEATURES: readonly FeatureName[] = [
  'popularity',
  'trend',
  'artist_posterior',
  'taste_fit',
  'template_log_rel_rate',
  'pair_log_rel_rate',
  'genre_log_rel_rate',
  'days_live',
];

/** Ridge penalty on standardised columns, in rows (weights have mean 1): it fades as rows accumulate. */
const RIDGE = 10;

export interface LinearBase {
  features: string[];
  intercept: number;
  coef: number[];
}

const column = (f: string) => FEATURE_NAMES.indexOf(f as FeatureName);

/** A feature value as the line reads it: missing means the market's baseline, 0. */
const valueAt = (x: Float32Array, o: number) => {
  const v = x[o]!;
  return Number.isNaN(v) ? 0 : v;
};

export function fitLinearBase(
  features: Float32Array,
  rows: number,
  labels: Float32Array,
  weights: Float32Array,
): LinearBase {
  const none = { features: [], intercept: 0, coef: [] };
  const wsum = weights.reduce((s, w) => s + w, 0);
  if (rows === 0 || !(wsum > 0)) return none;
  // Columns are standardised (weighted mean 0, standard deviation 1) so one ridge penalty means
  // the same for popularity (0..1) as for days live (0..28); a constant column is left out.
  const stats = new Map<FeatureName, { mean: number; sd: number }>();
  for (const f of LINEAR_FEATURES) {
    const c = column(f);
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += weights[r]! * valueAt(features, r * FEATURE_COUNT + c);
    mean /= wsum;
    let v = 0;
    for (let r = 0; r < rows; r++) {
      v += weights[r]! * (valueAt(features, r * FEATURE_COUNT + c) - mean) ** 2;
    }
    const sd = Math.sqrt(v / wsum);
    if (sd > 1e-9) stats.set(f, { mean, sd });
  }
  let active = LINEAR_FEATURES.filter((f) => stats.has(f));
  for (;;) {
    const cols = active.map(column);
    const st = active.map((f) => stats.get(f)!);
    const p = cols.length + 1;
    const xtx = new Float64Array(p * p);
    const xty = new Float64Array(p);
    const x = new Float64Array(p);
    for (let r = 0; r < rows; r++) {
      const w = weights[r]!;
      x[0] = 1;
      for (let j = 0; j < cols.length; j++) {
        x[j + 1] = (valueAt(features, r * FEATURE_COUNT + cols[j]!) - st[j]!.mean) / st[j]!.sd;
      }
      for (let i = 0; i < p; i++) {
        xty[i] = xty[i]! + w * x[i]! * labels[r]!;
        for (let j = 0; j < p; j++) xtx[i * p + j] = xtx[i * p + j]! + w * x[i]! * x[j]!;
      }
    }
    for (let i = 1; i < p; i++) xtx[i * p + i] = xtx[i * p + i]! + RIDGE;
    const beta = solveSymmetric(xtx, xty, p);
    if (!beta) return none;
    // Back to the features' own units.
    const coef = active.map((_, j) => beta[j + 1]! / st[j]!.sd);
    const wrong = active.filter((f, j) => FEATURE_MONOTONE[f] * coef[j]! < 0);
    if (wrong.length === 0) {
      const intercept = beta[0]! - coef.reduce((s, b, j) => s + b * st[j]!.mean, 0);
      return { features: [...active], intercept, coef };
    }
    active = active.filter((f) => !wrong.includes(f));
  }
}

/** Adds the line's prediction for each row to `into` (the trees' part), in place. */
export function addLinearBase(
  base: LinearBase,
  features: Float32Array,
  rows: number,
  into: Float32Array,
): Float32Array {
  const cols = base.features.map(column);
  for (let r = 0; r < rows; r++) into[r] = into[r]! + base.intercept;
  for (let j = 0; j < cols.length; j++) {
    const c = cols[j]!;
    const b = base.coef[j]!;
    for (let r = 0, o = c; r < rows; r++, o += FEATURE_COUNT) {
      into[r] = into[r]! + b * valueAt(features, o);
    }
  }
  return into;
}

/** The line's prediction for each row. */
export function predictLinearBase(
  base: LinearBase,
  features: Float32Array,
  rows: number,
): Float32Array {
  return addLinearBase(base, features, rows, new Float32Array(rows));
}

/** Each feature's share of one row's linear prediction, plus the intercept under `bias`. */
export function linearContributions(
  base: LinearBase,
  features: Float32Array,
  row: number,
): Record<string, number> {
  const out: Record<string, number> = { bias: base.intercept };
  base.features.forEach((f, j) => {
    out[f] = base.coef[j]! * valueAt(features, row * FEATURE_COUNT + column(f));
  });
  return out;
}
