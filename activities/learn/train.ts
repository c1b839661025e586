// Daily training, after every market has learned from its results: train a challenger ranking
// model on all markets' creative-days, hold out the last days, and promote it only when it predicts
// those days better than the champion does. Idempotent per day: a rerun finds its own model.
import { addDays } from '../../core/dates.ts';
import type { ModelTrainingResult } from '../../core/types.ts';
import { creativeDays } from '../../db/delivery.repository.ts';
import {
  championModel,
  modelTrainedTo,
  promoteModel,
  saveCandidateModel,
  setModelMetrics,
} from '../../db/models.repository.ts';
import {
  DEFAULT_LOOKBACK_DAYS,
  buildTrainingSet,
  trainingRowsWhere,
  type ArtistInfo,
  type TrainingSet,
} from '../../ml/features.ts';
import { DEFAULT_MODEL_PARAMS, RankModel } from '../../ml/rank-model.ts';
import type { Config } from '../../core/config.ts';
import type { StageDeps } from '../deps.ts';
import {
  MIN_TRAINING_ROWS,
  RANK_MODEL_NAME,
  templateInfos,
  toCreativeDays,
} from '../rank/model-inputs.ts';

/** Settings training reads: the objective, the currency and the training window. */
export type TrainSettings = Pick<
  Config,
  'RANKING_OBJECTIVE' | 'REPORTING_CURRENCY' | 'TRAINING_WINDOW_DAYS'
>;
/** Most recent days held out to compare challenger and champion. */
export const HELD_OUT_DAYS = 3;

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

export function createTrainingActivities({ db, config, fx, renderer }: StageDeps<TrainSettings>) {
  return {
    async trainRankingModel({ date }: { date: string }): Promise<ModelTrainingResult> {
      const existing = await modelTrainedTo(db, RANK_MODEL_NAME, date);
      if (existing) {
        return {
          trained: false,
          reason: `already trained for ${date}`,
          version: existing.version,
          promoted: existing.status === 'champion',
          metrics: existing.metrics,
        };
      }
      const from = addDays(date, -config.TRAINING_WINDOW_DAYS);
      const rows = toCreativeDays(
        await creativeDays(db, addDays(from, -DEFAULT_LOOKBACK_DAYS), date),
        fx,
        config.REPORTING_CURRENCY,
      );
      // Popularity of the artists that ran, per market and day, from the catalog as ingested.
      const pop = await db
        .selectFrom('artist_popularity as p')
        .innerJoin('artists as a', 'a.id', 'p.artist_id')
        .select(['p.market', 'p.artist_id', 'p.date', 'p.popularity', 'a.genre', 'a.embedding'])
        // Only the markets that have rows are asked for (artistsAt), so both go to the key.
        .where('p.market', 'in', [...new Set(rows.map((r) => r.market)), ''])
        .where('p.artist_id', 'in', [...new Set(rows.map((r) => r.artistId)), ''])
        .where('p.date', '<=', date)
        // Artists of a day in one order whatever plan the database picks.
        .orderBy('p.date')
        .orderBy('p.market')
        .orderBy('p.artist_id')
        .execute();
      const artistsAt = (market: string, day: string): ArtistInfo[] => {
        const latest = new Map<
          string,
          { popularity: number; genre: string; embedding: number[] | null; week: number }
        >();
        for (const p of pop) {
          if (p.market !== market || p.date > day) continue;
          const prev = latest.get(p.artist_id);
          const weekAgo = p.date <= addDays(day, -7) ? p.popularity : (prev?.week ?? NaN);
          latest.set(p.artist_id, {
            popularity: p.popularity,
            genre: p.genre,
            embedding: p.embedding,
            week: weekAgo,
          });
        }
        return [...latest].map(([id, v]) => ({
          id,
          genre: v.genre,
          popularity: v.popularity,
          trend: Number.isFinite(v.week) ? (v.popularity - v.week) / 7 : 0,
          embedding: v.embedding,
        }));
      };
      const all = buildTrainingSet(rows, {
        artistsAt,
        templates: templateInfos(renderer.library),
        objective: config.RANKING_OBJECTIVE,
      });
      const windowed = trainingRowsWhere(all, (d) => d >= from);
      if (windowed.rows < MIN_TRAINING_ROWS) {
        return {
          trained: false,
          reason: `${windowed.rows} training rows; a model needs ${MIN_TRAINING_ROWS}`,
          version: null,
          promoted: false,
          metrics: {},
        };
      }
      const days = [...new Set(windowed.dates)].sort();
      const cut = days.length > HELD_OUT_DAYS + 2 ? days[days.length - HELD_OUT_DAYS]! : null;
      const train = cut ? trainingRowsWhere(windowed, (d) => d < cut) : windowed;
      const heldOut = cut ? trainingRowsWhere(windowed, (d) => d >= cut) : null;
      const challenger = RankModel.train(train);
      try {
        const metrics: Record<string, number> = {
          trainRows: train.rows,
          heldOutRows: heldOut?.rows ?? 0,
          ...(challenger.meta.validationRmse !== null && {
            validationRmse: challenger.meta.validationRmse,
          }),
        };
        let promote = true;
        let reason = 'no champion yet';
        if (heldOut && heldOut.rows > 0) {
          metrics.heldOutRmse = heldOutRmse(challenger, heldOut);
          const champion = await championModel(db, RANK_MODEL_NAME);
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
        const saved = await saveCandidateModel(db, {
          name: RANK_MODEL_NAME,
          params: { ...DEFAULT_MODEL_PARAMS, heldOutFrom: cut },
          features: challenger.meta.features,
          trainingFrom: days[0]!,
          trainingTo: date,
          metrics,
          artifact: challenger.toJson(),
        });
        if (promote) await promoteModel(db, RANK_MODEL_NAME, saved.id);
        await setModelMetrics(db, saved.id, metrics);
        return { trained: true, reason, version: saved.version, promoted: promote, metrics };
      } finally {
        challenger.free();
      }
    },
  };
}
