// The ranking model: two XGBoost regressors over the same features, one for a creative's relative
// conversion rate (minus log relative CPR) and one for its relative share of its ad set's
// conversions, plus how uncertain the rate prediction is at each level of evidence. Trained on
// held-out days for early stopping; saved as one JSON document for the model registry.
import os from 'node:os';
import { compileBooster, type CompiledPredictor } from './compiled-trees.ts';
import {
  addLinearBase,
  fitLinearBase,
  linearContributions,
  predictLinearBase,
  type LinearBase,
} from './linear-base.ts';
import { Booster, DMatrix } from './xgboost.ts';
import {
  FEATURE_COUNT,
  FEATURE_MONOTONE,
  FEATURE_NAMES,
  trainingRowsWhere,
  type TrainingSet,
} from './features.ts';

/** Index of the artist's evidence feature: the uncertainty table is binned on it. */
const EVIDENCE = FEATURE_NAMES.indexOf('artist_evidence');
/** Upper edges of the evidence bins (log1p of baseline conversions); the last bin is open. */
const EVIDENCE_BINS = [0.01, 1, 2, 3, 4, 5];
function binOf(evidence: number): number {
  let b = 0;
  while (b < EVIDENCE_BINS.length && evidence >= EVIDENCE_BINS[b]!) b++;
  return b;
}

export interface RankModelParams {
  /**
   * Boosting rounds at most; early stopping on held-out days usually ends sooner. Default 50: with
   * eta 0.3 as good on bench:policy as 100 at 0.15, and half the trees to walk for a million
   * candidates.
   */
  rounds: number;
  maxDepth: number;
  eta: number;
  /** Rounds without improvement on the held-out days before stopping. Default 25. */
  earlyStoppingRounds: number;
  /** Days at the end of the training range held out for early stopping. Default 2. */
  validationDays: number;
  /** Least (weighted) rows in a leaf: noisy daily rows need several to say anything. Default 3. */
  minChildWeight: number;
  /** L2 penalty on leaf values, in rows. Default 1. */
  lambda: number;
  threads: number;
}

export const DEFAULT_MODEL_PARAMS: RankModelParams = {
  rounds: 50,
  maxDepth: 3,
  eta: 0.3,
  earlyStoppingRounds: 25,
  validationDays: 2,
  minChildWeight: 3,
  lambda: 1,
  threads: Math.max(1, os.availableParallelism()),
};

export interface RankModelMeta {
  features: readonly string[];
  trainRows: number;
  validationRows: number;
  /** Weighted RMSE of the rate model on the held-out days (null without held-out days). */
  validationRmse: number | null;
  /** Same, for a model that always predicts the training mean: what the model must beat. */
  baselineRmse: number | null;
  /** Epistemic standard deviation of the rate prediction per evidence bin. */
  sigmaByEvidence: number[];
  /**
   * Variance of one creative-day's relative rate around the truth that no evidence removes (the
   * creatives' own day-to-day spread, withinCreativeVariance; the best-known creatives' held-out
   * error without enough repeat days): what one day of a creative's own record is worth. Absent in
   * models saved before it existed.
   */
  noiseFloor?: number;
  rounds: { rate: number; share: number };
  /** The rate model's linear part; the rate booster predicts what it leaves over. */
  linear: LinearBase;
  importance: Record<string, number>;
}

/** Repeat days (degrees of freedom) the within-creative noise estimate needs. */
export const MIN_NOISE_DF = 10;

/**
 * The variance of one creative-day's relative rate around its creative's own level: pooled over
 * every creative that ran on several days, each day weighted by its evidence as the held-out
 * errors are, one degree of freedom per creative spent on its mean. This is the day-to-day
 * delivery and counting noise no model removes and one day of a record cannot average away (a
 * creative's slow drift, such as fatigue, adds a little). Null with fewer than MIN_NOISE_DF
 * repeat days.
 */
export function withinCreativeVariance(set: TrainingSet): number | null {
  const groups = new Map<string, { w: number; wy: number; n: number }>();
  set.creatives.forEach((c, i) => {
    const g = groups.get(c) ?? { w: 0, wy: 0, n: 0 };
    g.w += set.weights[i]!;
    g.wy += set.weights[i]! * set.relRate[i]!;
    g.n += 1;
    groups.set(c, g);
  });
  let ss = 0;
  set.creatives.forEach((c, i) => {
    const g = groups.get(c)!;
    if (g.n > 1 && g.w > 0) ss += set.weights[i]! * (set.relRate[i]! - g.wy / g.w) ** 2;
  });
  // Weighted degrees of freedom: each creative's weight times (n - 1) / n.
  let dof = 0;
  let repeats = 0;
  for (const g of groups.values()) {
    if (g.n < 2 || !(g.w > 0)) continue;
    dof += (g.w * (g.n - 1)) / g.n;
    repeats += g.n - 1;
  }
  return repeats >= MIN_NOISE_DF && dof > 0 ? ss / dof : null;
}

export interface Predictions {
  /** Predicted log relative conversion rate (−log relative CPR). */
  rate: Float32Array;
  /** Predicted relative share of the ad set's conversions (1 = an equal share). */
  share: Float32Array;
  /** Uncertainty of `rate`. */
  sigma: Float32Array;
}

export class RankModel {
  // The boosters compiled to JavaScript for scoring (see compiled-trees.ts); null when a booster
  // cannot be compiled, and then libxgboost predicts.
  private readonly fastRate: CompiledPredictor | null;
  private readonly fastShare: CompiledPredictor | null;

  private constructor(
    private readonly rate: Booster,
    private readonly share: Booster,
    readonly meta: RankModelMeta,
  ) {
    this.fastRate = compileBooster(rate.saveJson(), FEATURE_COUNT);
    this.fastShare = compileBooster(share.saveJson(), FEATURE_COUNT);
  }

  static train(set: TrainingSet, params: Partial<RankModelParams> = {}): RankModel {
    const p = { ...DEFAULT_MODEL_PARAMS, ...params };
    if (set.rows === 0) throw new Error('cannot train the ranking model on 0 rows');
    const days = [...new Set(set.dates)].sort();
    const cut = days.length > p.validationDays + 1 ? days[days.length - p.validationDays]! : null;
    const trainSet = trainingRowsWhere(set, (d) => cut === null || d < cut);
    const validSet = cut === null ? null : trainingRowsWhere(set, (d) => d >= cut);
    // Weights scaled to a mean of 1, so min_child_weight and lambda count rows, whatever the
    // markets' volumes.
    const meanWeight = set.weights.reduce((s, w) => s + w, 0) / set.rows || 1;
    const linear = fitLinearBase(
      trainSet.features,
      trainSet.rows,
      trainSet.relRate,
      trainSet.weights.map((w) => w / meanWeight),
    );
    const residual = (rows: TrainingSet) => {
      const line = predictLinearBase(linear, rows.features, rows.rows);
      return rows.relRate.map((y, i) => y - line[i]!);
    };
    const matrix = (rows: TrainingSet, labels: Float32Array) =>
      DMatrix.fromDense(rows.features, rows.rows, FEATURE_COUNT, {
        labels,
        weights: rows.weights.map((w) => w / meanWeight),
        featureNames: [...FEATURE_NAMES],
      });
    const booster = {
      objective: 'reg:squarederror',
      tree_method: 'hist',
      max_depth: p.maxDepth,
      eta: p.eta,
      min_child_weight: p.minChildWeight,
      subsample: 0.8,
      lambda: p.lambda,
      nthread: p.threads,
      seed: 0,
      monotone_constraints: `(${FEATURE_NAMES.map((f) => FEATURE_MONOTONE[f]).join(',')})`,
    };
    const fit = (labels: (rows: TrainingSet) => Float32Array) => {
      const y = labels(trainSet);
      const dtrain = matrix(trainSet, y);
      const dvalid = validSet ? matrix(validSet, labels(validSet)) : null;
      // Start the trees from the labels' mean (libxgboost 1.7 would start from 0.5), so no early
      // rounds go into removing an offset.
      let mean = 0;
      let wsum = 0;
      trainSet.weights.forEach((w, i) => {
        mean += w * y[i]!;
        wsum += w;
      });
      try {
        return Booster.train({ ...booster, base_score: wsum > 0 ? mean / wsum : 0 }, dtrain, {
          rounds: dvalid ? p.rounds : Math.min(p.rounds, 60),
          evals: dvalid ? [{ name: 'valid', data: dvalid }] : [],
          earlyStoppingRounds: dvalid ? p.earlyStoppingRounds : undefined,
        }).booster;
      } finally {
        dtrain.free();
        dvalid?.free();
      }
    };
    const rate = fit(residual);
    const share = fit((rows) => rows.relShare);

    // Uncertainty: residual variance on the held-out days per evidence bin, less the noise floor
    // that even the best-known creatives show (day-to-day delivery noise, not ignorance).
    const evalSet = validSet ?? trainSet;
    const predicted = addLinearBase(
      linear,
      evalSet.features,
      evalSet.rows,
      rate.predictDense(evalSet.features, evalSet.rows, FEATURE_COUNT),
    );
    const sums = EVIDENCE_BINS.map(() => ({ w: 0, se: 0 })).concat({ w: 0, se: 0 });
    let se = 0;
    let seBase = 0;
    let wsum = 0;
    let trainWeight = 0;
    let mean = 0;
    for (let i = 0; i < trainSet.rows; i++) {
      mean += trainSet.relRate[i]! * trainSet.weights[i]!;
      trainWeight += trainSet.weights[i]!;
    }
    mean /= Math.max(1e-9, trainWeight);
    for (let r = 0; r < evalSet.rows; r++) {
      const err = predicted[r]! - evalSet.relRate[r]!;
      const w = Math.max(1e-6, evalSet.weights[r]!);
      const bin = sums[binOf(evalSet.features[r * FEATURE_COUNT + EVIDENCE]!)]!;
      bin.w += w;
      bin.se += w * err * err;
      se += w * err * err;
      seBase += w * (mean - evalSet.relRate[r]!) ** 2;
      wsum += w;
    }
    const variance = sums.map((b) => (b.w > 0 ? b.se / b.w : NaN));
    const known = variance.filter(Number.isFinite);
    // The noise floor from the creatives' own day-to-day spread, over every row of the window;
    // without enough repeat days, the best-known bin's held-out error (which a few dozen noisy
    // held-out rows can put near zero by chance, and a record is then trusted as if exact).
    const floor = withinCreativeVariance(set) ?? (known.length > 0 ? Math.min(...known) : 0);
    const overall = wsum > 0 ? se / wsum : 0.25;
    const sigmaByEvidence = variance.map((v) =>
      Math.sqrt(Math.max(0, (Number.isFinite(v) ? v : overall) - floor)),
    );
    // Less evidence never means more certainty.
    for (let b = sigmaByEvidence.length - 2; b >= 0; b--) {
      sigmaByEvidence[b] = Math.max(sigmaByEvidence[b]!, sigmaByEvidence[b + 1]!);
    }
    return new RankModel(rate, share, {
      features: [...FEATURE_NAMES],
      trainRows: trainSet.rows,
      validationRows: validSet?.rows ?? 0,
      validationRmse: validSet ? Math.sqrt(se / wsum) : null,
      baselineRmse: validSet ? Math.sqrt(seBase / wsum) : null,
      sigmaByEvidence,
      noiseFloor: floor,
      rounds: { rate: rate.boostedRounds(), share: share.boostedRounds() },
      linear,
      importance: rate.featureImportance('gain'),
    });
  }

  predict(features: Float32Array, rows: number): Predictions {
    return { ...this.predictRate(features, rows), share: this.predictShare(features, rows) };
  }

  /** The rate and its uncertainty only: the cheap first pass over every candidate. */
  predictRate(features: Float32Array, rows: number): Omit<Predictions, 'share'> {
    // In-place prediction: no DMatrix copy of a million candidate rows.
    const sigma = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      sigma[r] = this.meta.sigmaByEvidence[binOf(features[r * FEATURE_COUNT + EVIDENCE]!)]!;
    }
    const trees = this.fastRate
      ? this.fastRate(features, rows)
      : this.rate.predictDense(features, rows, FEATURE_COUNT);
    return { rate: addLinearBase(this.meta.linear, features, rows, trees), sigma };
  }

  predictShare(features: Float32Array, rows: number): Float32Array {
    return this.fastShare
      ? this.fastShare(features, rows)
      : this.share.predictDense(features, rows, FEATURE_COUNT);
  }

  /** Both predictions through libxgboost itself, bypassing the compiled trees (for checks). */
  predictWithXgboost(
    features: Float32Array,
    rows: number,
  ): { rate: Float32Array; share: Float32Array } {
    const trees = this.rate.predictDense(features, rows, FEATURE_COUNT);
    return {
      rate: addLinearBase(this.meta.linear, features, rows, trees),
      share: this.share.predictDense(features, rows, FEATURE_COUNT),
    };
  }

  /** Whether scoring runs on the compiled trees (true for the default model shape). */
  get compiled(): boolean {
    return this.fastRate !== null && this.fastShare !== null;
  }

  /** Per-feature contributions (SHAP) of the rate prediction for the given rows, by feature name. */
  explain(features: Float32Array, rows: number): Array<Record<string, number>> {
    const data = DMatrix.fromDense(features, rows, FEATURE_COUNT, {
      featureNames: [...FEATURE_NAMES],
    });
    try {
      const c = this.rate.contributions(data);
      const width = FEATURE_COUNT + 1;
      return Array.from({ length: rows }, (_, r) => {
        // The trees' SHAP values plus each feature's linear term: they add up to the prediction.
        const out = linearContributions(this.meta.linear, features, r);
        FEATURE_NAMES.forEach((n, f) => {
          const v = c[r * width + f]! + (out[n] ?? 0);
          if (v !== 0) out[n] = v;
          else delete out[n];
        });
        out.bias = c[r * width + FEATURE_COUNT]! + out.bias!;
        return out;
      });
    } finally {
      data.free();
    }
  }

  /**
   * One JSON document: the metadata and both boosters. The boosters stay strings: XGBoost tells
   * 1.0 from 1, which a JSON.parse round trip would not.
   */
  toJson(): string {
    return JSON.stringify({
      format: 'adloop-rank-model/2',
      meta: this.meta,
      rate: this.rate.saveJson(),
      share: this.share.saveJson(),
    });
  }

  static fromJson(json: string): RankModel {
    const doc = JSON.parse(json) as {
      format?: string;
      meta?: RankModelMeta;
      rate?: unknown;
      share?: unknown;
    };
    if (
      doc.format !== 'adloop-rank-model/2' ||
      !doc.meta ||
      typeof doc.rate !== 'string' ||
      typeof doc.share !== 'string'
    ) {
      throw new Error(`not an adloop ranking model (format ${String(doc.format)})`);
    }
    const missing = FEATURE_NAMES.filter((f) => !doc.meta!.features.includes(f));
    if (missing.length > 0 || doc.meta.features.length !== FEATURE_COUNT) {
      throw new Error(
        `ranking model was trained on other features (missing ${missing.join(', ') || 'none'}; ${doc.meta.features.length} vs ${FEATURE_COUNT})`,
      );
    }
    const line = doc.meta.linear as Partial<LinearBase> | undefined;
    if (
      !line ||
      !Array.isArray(line.features) ||
      !Array.isArray(line.coef) ||
      line.features.length !== line.coef.length ||
      !line.features.every((f) => (FEATURE_NAMES as readonly string[]).includes(f)) ||
      ![line.intercept, ...line.coef].every((v) => typeof v === 'number' && Number.isFinite(v))
    ) {
      throw new Error('ranking model has no valid linear part (meta.linear)');
    }
    const rate = Booster.loadJson(doc.rate);
    try {
      return new RankModel(rate, Booster.loadJson(doc.share), doc.meta);
    } catch (err) {
      rate.free();
      throw err;
    }
  }

  free() {
    this.rate.free();
    this.share.free();
  }
}
