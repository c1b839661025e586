// How a ranking model is trained and promoted, the one rule set both production's training
// activity (activities/learn/train.ts, at the end of each day's loop) and the policy benchmark
// use: a window of creative-days, the last days held out, a challenger trained on the rest and
// promoted only when it predicts the held-out days better than the champion does.
import { addDays } from '../core/dates.ts';
import {
  buildTrainingSet,
  trainingRowsWhere,
  type CreativeDay,
  type TrainingOptions,
  type TrainingSet,
} from './features.ts';
import { confidentlyWorse, type OffPolicyEstimates } from './off-policy.ts';
import { DEFAULT_MODEL_PARAMS, RankModel, type RankModelParams } from './rank-model.ts';

/** Training rows (creative-days) needed before a first model is worth having. */
export const MIN_TRAINING_ROWS = 60;
/** Most recent days held out to compare challenger and champion. */
export const HELD_OUT_DAYS = 3;

/**
 * The rows a model trains on at the end of `date`: every creative-day's features (each against
 * its market's lookback before it), kept from `windowDays` before `date` on.
 */
export function trainingWindow(
  history: readonly CreativeDay[],
  o: TrainingOptions & { date: string; windowDays: number },
): TrainingSet {
  const from = addDays(o.date, -o.windowDays);
  return trainingRowsWhere(buildTrainingSet(history, o), (d) => d >= from);
}

/** Weighted RMSE of a model's rate predictions on a set of rows. */
export function heldOutRmse(model: RankModel, set: TrainingSet): number {
  const p = model.predict(set.features, set.rows);
  let se = 0;
  let w = 0;
  for (let i = 0; i < set.rows; i++) {
    se += set.weights[i]! * (p.rate[i]! - set.relRate[i]!) ** 2;
    w += set.weights[i]!;
  }
  return w > 0 ? Math.sqrt(se / w) : NaN;
}

/** The champion a challenger must beat: its registry version and its model. */
export interface Champion {
  version: number;
  artifact: string | null;
}

export type TrainingOutcome =
  | { trained: false; reason: string }
  | {
      trained: true;
      /** The challenger; the caller stores it (and frees it). */
      challenger: RankModel;
      promote: boolean;
      reason: string;
      metrics: Record<string, number>;
      params: RankModelParams & { heldOutFrom: string | null };
      /** First and last day of the window trained on. */
      days: { from: string; to: string };
    };

/**
 * Trains a challenger on `windowed` (the training window's rows) and decides whether it replaces
 * `champion`: with more than HELD_OUT_DAYS + 2 days, the last HELD_OUT_DAYS are held out and the
 * challenger is promoted only if its held-out RMSE is lower than the champion's. No champion, or
 * one that no longer loads, is replaced.
 */
export function trainChallenger(
  windowed: TrainingSet,
  champion: Champion | null,
  params: Partial<RankModelParams> = {},
): TrainingOutcome {
  if (windowed.rows < MIN_TRAINING_ROWS)
    return {
      trained: false,
      reason: `${windowed.rows} training rows; a model needs ${MIN_TRAINING_ROWS}`,
    };
  const days = [...new Set(windowed.dates)].sort();
  const cut = days.length > HELD_OUT_DAYS + 2 ? days[days.length - HELD_OUT_DAYS]! : null;
  const train = cut ? trainingRowsWhere(windowed, (d) => d < cut) : windowed;
  const heldOut = cut ? trainingRowsWhere(windowed, (d) => d >= cut) : null;
  const challenger = RankModel.train(train, params);
  const metrics: Record<string, number> = {
    trainRows: train.rows,
    heldOutRows: heldOut?.rows ?? 0,
    ...(challenger.meta.validationRmse !== null && {
      validationRmse: challenger.meta.validationRmse,
    }),
  };
  let promote = true;
  let reason = 'no champion yet';
  const measurable = heldOut !== null && heldOut.rows > 0;
  // Too few days to hold any out: nothing to compare on, and the challenger has seen more days.
  if (champion && !measurable)
    reason = `replaces v${champion.version} unmeasured: ${days.length} days of rows, too few to hold the last ${HELD_OUT_DAYS} out`;
  if (heldOut && measurable) {
    metrics.heldOutRmse = heldOutRmse(challenger, heldOut);
    if (champion?.artifact) {
      let championRmse = NaN;
      try {
        const c = RankModel.fromJson(champion.artifact);
        try {
          championRmse = heldOutRmse(c, heldOut);
        } finally {
          c.free();
        }
      } catch {
        // A champion that no longer loads is no champion: the challenger replaces it.
      }
      if (Number.isFinite(championRmse)) {
        metrics.championHeldOutRmse = championRmse;
        promote = metrics.heldOutRmse < championRmse;
        reason = promote
          ? `beat v${champion.version} on ${heldOut.rows} held-out rows`
          : `did not beat v${champion.version} on ${heldOut.rows} held-out rows`;
      } else {
        reason = `champion v${champion.version} failed to load`;
      }
    }
  }
  return {
    trained: true,
    challenger,
    promote,
    reason,
    metrics,
    params: { ...DEFAULT_MODEL_PARAMS, ...params, heldOutFrom: cut },
    days: { from: days[0]!, to: days[days.length - 1]! },
  };
}

/**
 * The promotion decision with the off-policy evidence added (ml/off-policy.ts): a challenger
 * whose doubly robust estimate on the held-out days is confidently below what ran is not
 * promoted, however well it predicted. The estimates join the outcome's metrics.
 */
export function withOffPolicyEvidence<T extends TrainingOutcome>(
  outcome: T,
  estimates: OffPolicyEstimates | null,
): T {
  if (!outcome.trained || !estimates) return outcome;
  const metrics = { ...outcome.metrics, ...offPolicyMetrics(estimates) };
  if (outcome.promote && confidentlyWorse(estimates)) {
    return {
      ...outcome,
      metrics,
      promote: false,
      reason:
        `off-policy estimate on ${estimates.units} held-out market-days is below what ran ` +
        `(doubly robust ${estimates.dr.value.toPrecision(3)}, at most ` +
        `${estimates.dr.high.toPrecision(3)}, against ${estimates.logged.value.toPrecision(3)})`,
    };
  }
  return { ...outcome, metrics };
}

/**
 * The model a promoted challenger goes live as: refit on the whole window, held-out days included.
 * The held-out days decide whether the challenger's way of learning beats the champion; they are
 * also the freshest evidence there is, and a model that never saw them would rank tomorrow with
 * the last HELD_OUT_DAYS missing (early on, half of all there is). Same rows, parameters and code,
 * so what was measured is what runs, with more data. Not promoted, or nothing held out: the
 * challenger as it is. Frees the replaced model.
 */
export function refitOnWindow<T extends TrainingOutcome>(outcome: T, windowed: TrainingSet): T {
  if (!outcome.trained || !outcome.promote || !outcome.params.heldOutFrom) return outcome;
  const refit = RankModel.train(windowed, outcome.params);
  outcome.challenger.free();
  return {
    ...outcome,
    challenger: refit,
    metrics: { ...outcome.metrics, refitRows: windowed.rows },
  };
}

/** Off-policy estimates as flat registry metrics (ope<Estimator><Value|Low|High>). */
export function offPolicyMetrics(e: OffPolicyEstimates): Record<string, number> {
  const out: Record<string, number> = { opeUnits: e.units };
  for (const name of ['logged', 'ips', 'snips', 'dr'] as const) {
    const label = name[0]!.toUpperCase() + name.slice(1);
    out[`ope${label}`] = e[name].value;
    out[`ope${label}Low`] = e[name].low;
    out[`ope${label}High`] = e[name].high;
  }
  return out;
}
