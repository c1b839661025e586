// The learning policy for policy evaluation, on production's own training path: at the end of
// each day (before the next morning's ranking) it trains a challenger on every market's
// creative-days with the training activity's rules (ml/training.ts: the training window, the
// last days held out, promotion only over a champion it beats, the refit of a promoted model on
// the whole window, the minimum rows), keeps a
// champion as the model registry does, and ranks each market with the champion the way the rank
// stage does. Until a model is promoted it ranks with the heuristic, as the rank stage falls back.
// It sees only the PolicyContext (the loop's observations), never the simulator.
import { addDays, daysBetween } from '../../core/dates.ts';
import { loadConfigPart } from '../../core/config.ts';
import { keyed } from '../../core/random.ts';
import { pairKey } from '../../core/ids.ts';
import { DEFAULT_LOOKBACK_DAYS } from '../../ml/features.ts';
import type { RankModel } from '../../ml/rank-model.ts';
import { rankWithModel } from '../../ml/ranker.ts';
import { evaluateModel, loggedItemsByDay, type LoggedDay } from '../../ml/off-policy.ts';
import {
  HELD_OUT_DAYS,
  trainChallenger,
  trainingWindow,
  refitOnWindow,
  withOffPolicyEvidence,
  type Champion,
} from '../../ml/training.ts';
import type { SelectOptions } from '../../ml/select.ts';
import type { OffPolicyReport, Policy, PolicyContext } from './policy-eval.ts';
import { heuristicPicks } from './heuristic-picks.ts';
import { STORED_RANKING_FACTOR } from '../../activities/rank/model-inputs.ts';

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
  // What each market-day ranked with and picked, kept for the off-policy evaluation of the
  // next challengers (the rank stage's stored rankings, in production).
  let logs: Array<
    Omit<LoggedDay, 'logged'> & {
      propensity: Map<string, number>;
      seen: PolicyContext['live'];
    }
  > = [];
  const reports: OffPolicyReport[] = [];
  const selectFor = (
    market: string,
    date: string,
    slots: number,
    limit = slots,
  ): SelectOptions => ({
    slots,
    limit,
    explorationShare: config.EXPLORATION_SHARE,
    diversity: config.DIVERSITY_WEIGHT,
    perGroup: config.ADS_PER_ARTIST,
    random: keyed(seed, 'ml-policy', market, date),
  });

  return {
    name,
    evaluations: () => reports.splice(0),
    prepare(day) {
      // The end of yesterday's loop: train on everything reported through yesterday.
      logs = logs.filter((l) => l.date >= addDays(day.date, -HELD_OUT_DAYS));
      if (day.history.length === 0) return;
      const windowed = trainingWindow(day.history, {
        artistsAt: (market) => day.artists(market),
        templates: day.templates,
        objective: config.RANKING_OBJECTIVE,
        date: addDays(day.date, -1),
        windowDays: config.TRAINING_WINDOW_DAYS,
      });
      const trained = trainChallenger(windowed, champion);
      if (!trained.trained) return;
      // The challenger, re-ranking the held-out days other models (or the heuristic) ranked.
      const cut = trained.params.heldOutFrom;
      const heldOut = cut ? logs.filter((l) => l.date >= cut) : [];
      const dayKey = (market: string, date: string) => `${market}\u0000${date}`;
      const logOf = new Map(heldOut.map((l) => [dayKey(l.market, l.date), l]));
      const ran = new Map(
        (cut
          ? loggedItemsByDay(day.history, cut, config.RANKING_OBJECTIVE, (market, date, pair) =>
              logOf.get(dayKey(market, date))?.propensity.get(pair),
            )
          : []
        ).map((r) => [dayKey(r.market, r.date), r.logged]),
      );
      const days = heldOut.map((l) => ({ ...l, logged: ran.get(dayKey(l.market, l.date)) ?? [] }));
      const evaluation = evaluateModel(trained.challenger, days, (d) =>
        selectFor(d.market, d.date, d.logged.length),
      );
      const outcome = refitOnWindow(withOffPolicyEvidence(trained, evaluation.estimates), windowed);
      if (evaluation.estimates) {
        reports.push({
          trainedThrough: addDays(day.date, -1),
          estimates: evaluation.estimates,
          units: evaluation.units.map((u, i) => ({
            market: u.market,
            date: u.date,
            slots: u.logged.filter((x) => x.spend > 0).length,
            live: days[i]!.seen,
            inclusion: u.target.inclusion,
          })),
        });
      }
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
      const base = {
        market: ctx.market,
        date: ctx.date,
        artists: ctx.artists,
        templates: ctx.templates,
        objective: config.RANKING_OBJECTIVE,
        seen: ctx.live,
      };
      if (!champion) {
        const picks = heuristicPicks(ctx, config.HEURISTIC_WEIGHTS);
        // The heuristic is deterministic: what it picks, it picks with probability 1.
        logs.push({
          ...base,
          lookback: ctx.history.filter((r) => r.date >= addDays(ctx.date, -DEFAULT_LOOKBACK_DAYS)),
          live: liveAges(ctx),
          propensity: new Map(picks.map((p) => [pairKey(p.artistId, p.templateId), 1])),
        });
        return picks;
      }
      const from = addDays(ctx.date, -DEFAULT_LOOKBACK_DAYS);
      const inputs = {
        ...base,
        lookback: ctx.history.filter((r) => r.date >= from),
        live: liveAges(ctx),
      };
      const picks = rankWithModel({
        ...inputs,
        model: champion.model,
        // The slate and its reserves, as the rank stage stores them: deploy takes the next one
        // when review rejects a new ad.
        select: selectFor(ctx.market, ctx.date, ctx.slots, ctx.slots * STORED_RANKING_FACTOR),
      });
      logs.push({
        ...inputs,
        propensity: new Map(picks.map((p) => [pairKey(p.artistId, p.templateId), p.probability])),
      });
      return picks;
    },
    close() {
      champion?.model.free();
      champion = null;
    },
  };
}

/** Live creatives by pair, with the days each will have been live on the ranked day. */
function liveAges(ctx: PolicyContext): Map<string, number> {
  return new Map(
    ctx.live.map((l) => [pairKey(l.artistId, l.templateId), daysBetween(l.createdDate, ctx.date)]),
  );
}
