// Daily training, after every market has learned from its results: train a challenger ranking
// model on all markets' creative-days, hold out the last days, and promote it only when it predicts
// those days better than the champion does and the off-policy estimate of what it would have
// earned on them (ml/off-policy.ts) is not confidently below what ran; a promoted model goes live
// refit on the whole window, held-out days included. Idempotent per day: a rerun finds its own
// model.
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
import { DEFAULT_LOOKBACK_DAYS, type ArtistInfo } from '../../ml/features.ts';
import { evaluateModel, loggedItemsByDay } from '../../ml/off-policy.ts';
import {
  refitOnWindow,
  trainChallenger,
  trainingWindow,
  withOffPolicyEvidence,
} from '../../ml/training.ts';
import { rankingPropensities } from '../../db/rankings.repository.ts';
import type { Config } from '../../core/config.ts';
import type { StageDeps } from '../deps.ts';
import {
  RANK_MODEL_NAME,
  liveOn,
  slateOptions,
  templateInfos,
  toCreativeDays,
  type SelectSettings,
} from '../rank/model-inputs.ts';

/**
 * Settings training reads: the objective, the currency and the training window, and the rank
 * stage's slate selection (a challenger is evaluated off-policy by re-ranking past days).
 */
export type TrainSettings = Pick<
  Config,
  'RANKING_OBJECTIVE' | 'REPORTING_CURRENCY' | 'TRAINING_WINDOW_DAYS'
> &
  SelectSettings;
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
      const windowed = trainingWindow(rows, {
        artistsAt,
        templates: templateInfos(renderer.library),
        objective: config.RANKING_OBJECTIVE,
        date,
        windowDays: config.TRAINING_WINDOW_DAYS,
      });
      const trained = trainChallenger(windowed, (await championModel(db, RANK_MODEL_NAME)) ?? null);
      // Off-policy evidence: the challenger re-ranks the held-out days as the rank stage would
      // have, and is estimated against what those days' rankings actually ran.
      const cut = trained.trained ? trained.params.heldOutFrom : null;
      let outcome = trained;
      if (trained.trained && cut) {
        const propensities = await rankingPropensities(db, cut, date);
        const templates = templateInfos(renderer.library);
        const days = loggedItemsByDay(rows, cut, config.RANKING_OBJECTIVE, (market, day, pair) =>
          propensities.get(`${market}\u0000${day}`)?.get(pair),
        ).map((d) => {
          const lookback = rows.filter(
            (r) =>
              r.market === d.market &&
              r.date < d.date &&
              r.date >= addDays(d.date, -DEFAULT_LOOKBACK_DAYS),
          );
          return {
            ...d,
            artists: artistsAt(d.market, d.date),
            templates,
            lookback,
            live: liveOn(lookback, d.date),
            objective: config.RANKING_OBJECTIVE,
          };
        });
        const { estimates } = evaluateModel(trained.challenger, days, (d) =>
          slateOptions(config, d.market, d.date, config.ADS_PER_MARKET),
        );
        outcome = withOffPolicyEvidence(trained, estimates);
      }
      outcome = refitOnWindow(outcome, windowed);
      if (!outcome.trained)
        return {
          trained: false,
          reason: outcome.reason,
          version: null,
          promoted: false,
          metrics: {},
        };
      const { challenger, promote, reason, metrics } = outcome;
      try {
        const saved = await saveCandidateModel(db, {
          name: RANK_MODEL_NAME,
          params: { ...outcome.params },
          features: challenger.meta.features,
          trainingFrom: outcome.days.from,
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
