// The learning policy for policy evaluation, on production's own training path: at the end of
// each day (before the next morning's ranking) it trains a challenger on every market's
// creative-days with the training activity's rules (ml/training.ts: the training window, the
// last days held out, promotion only over a champion it beats, the minimum rows), keeps a
// champion as the model registry does, and ranks each market with the champion the way the rank
// stage does. Until a model is promoted it ranks with the heuristic, as the rank stage falls back.
// It sees only the PolicyContext (the loop's observations), never the simulator.
import { addDays } from '../../core/dates.ts';
import { loadConfigPart } from '../../core/config.ts';
import { keyed } from '../../core/random.ts';
import { pairKey } from '../../core/ids.ts';
import { DEFAULT_LOOKBACK_DAYS } from '../../ml/features.ts';
import type { RankModel } from '../../ml/rank-model.ts';
import { rankWithModel } from '../../ml/ranker.ts';
import { trainChallenger, trainingWindow, type Champion } from '../../ml/training.ts';
import type { Policy } from './policy-eval.ts';
import { heuristicPicks } from './heuristic-picks.ts';

/** The settings production's rank and train stages read, from the environment as they would. */
const SETTINGS = [
  'EXPLORATION_SHARE',
  'DIVERSITY_WEIGHT',
  'RANKING_OBJECTIVE',
  'TRAINING_WINDOW_DAYS',
  'HEURISTIC_WEIGHTS',
  'ADS_PER_ARTIST',
] as const;

export function mlPolicy(seed: number, name = 'ml'): Policy {
  const config = loadConfigPart(SETTINGS);
  let champion: (Champion & { model: RankModel }) | null = null;

  return {
    name,
    prepare(day) {
      // The end of yesterday's loop: train on everything reported through yesterday.
      if (day.history.length === 0) return;
      const windowed = trainingWindow(day.history, {
        artistsAt: (market) => day.artists(market),
        templates: day.templates,
        objective: config.RANKING_OBJECTIVE,
        date: addDays(day.date, -1),
        windowDays: config.TRAINING_WINDOW_DAYS,
      });
      const outcome = trainChallenger(windowed, champion);
      if (!outcome.trained) return;
      if (!outcome.promote) {
        outcome.challenger.free();
        return;
      }
      champion?.model.free();
      champion = {
        version: (champion?.version ?? 0) + 1,
        artifact: outcome.challenger.toJson(),
        model: outcome.challenger,
      };
    },
    choose(ctx) {
      if (!champion) {
        return heuristicPicks(ctx, config.HEURISTIC_WEIGHTS);
      }
      const from = addDays(ctx.date, -DEFAULT_LOOKBACK_DAYS);
      const live = new Map(
        ctx.live.map((l) => [
          pairKey(l.artistId, l.templateId),
          Math.round((Date.parse(ctx.date) - Date.parse(l.createdDate)) / 86_400_000),
        ]),
      );
      return rankWithModel({
        artists: ctx.artists,
        templates: ctx.templates,
        lookback: ctx.history.filter((r) => r.date >= from),
        live,
        model: champion.model,
        objective: config.RANKING_OBJECTIVE,
        select: {
          slots: ctx.slots,
          limit: ctx.slots,
          explorationShare: config.EXPLORATION_SHARE,
          diversity: config.DIVERSITY_WEIGHT,
          perGroup: config.ADS_PER_ARTIST,
          random: keyed(seed, 'ml-policy', ctx.market, ctx.date),
        },
      });
    },
    close() {
      champion?.model.free();
      champion = null;
    },
  };
}
