// The learning policy for policy evaluation: every morning it retrains the ranking model on all
// markets' creative-days so far, then ranks each market with it, exactly as the daily loop's rank
// and learn stages do. Until there is anything to learn from it falls back to the heuristic. It
// sees only the PolicyContext (the loop's observations), never the simulator.
import { addDays } from '../../core/dates.ts';
import { keyed } from '../../core/random.ts';
import {
  DEFAULT_LOOKBACK_DAYS,
  MarketFeatures,
  concatTrainingSets,
  dayTrainingRows,
  type CreativeDay,
  type TrainingSet,
} from '../../ml/features.ts';
import { pairKey } from '../../core/ids.ts';
import { buildCandidates, registrationShares } from '../../decisions/rank/candidates.ts';
import { rankHeuristic } from '../../decisions/rank/heuristic.ts';
import type { Policy } from './policy-eval.ts';
import { RankModel, type RankModelParams } from '../../ml/rank-model.ts';
import { rankWithModel } from '../../ml/ranker.ts';

export interface MlPolicyOptions {
  name?: string;
  /** Share of each day's slots given to exploration. Default 1/3. */
  explorationShare?: number;
  /** Diversity weight (0..1). Default 0.15. */
  diversity?: number;
  lookbackDays?: number;
  /** Rows needed before the first model is trained. Default 30: one morning of ten markets; the monotone constraints keep so small a model sensible. */
  minTrainingRows?: number;
  params?: Partial<RankModelParams>;
}

export function mlPolicy(seed: number, o: MlPolicyOptions = {}): Policy {
  const lookback = o.lookbackDays ?? DEFAULT_LOOKBACK_DAYS;
  let model: RankModel | null = null;
  // Each finished day's training rows never change, so they are built once and kept.
  const rowsByDay: TrainingSet[] = [];
  const builtDays = new Set<string>();

  return {
    name: o.name ?? 'ml',
    prepare(day) {
      const byMarketDay = new Map<string, CreativeDay[]>();
      for (const r of day.history) {
        const k = `${r.market}\u0000${r.date}`;
        if (builtDays.has(k)) continue;
        const list = byMarketDay.get(k) ?? [];
        list.push(r);
        byMarketDay.set(k, list);
      }
      if (byMarketDay.size === 0) return;
      for (const [k, today] of byMarketDay) {
        const [market, date] = k.split('\u0000') as [string, string];
        const from = addDays(date, -lookback);
        const window = day.history.filter(
          (r) => r.market === market && r.date >= from && r.date < date,
        );
        const mf = new MarketFeatures(day.artists(market), day.templates, window);
        rowsByDay.push(dayTrainingRows(mf, date, today));
        builtDays.add(k);
      }
      const set = concatTrainingSets(rowsByDay);
      if (set.rows < (o.minTrainingRows ?? 30)) return;
      model?.free();
      model = RankModel.train(set, o.params);
    },
    choose(ctx) {
      if (!model) {
        const shares = registrationShares(ctx.observed);
        return rankHeuristic(buildCandidates(ctx.artists, ctx.templateIds, shares), ctx.slots);
      }
      const from = addDays(ctx.date, -lookback);
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
        model,
        select: {
          slots: ctx.slots,
          limit: ctx.slots,
          explorationShare: o.explorationShare,
          diversity: o.diversity,
          random: keyed(seed, 'ml-policy', ctx.market, ctx.date),
        },
      });
    },
    close() {
      model?.free();
      model = null;
    },
  };
}
