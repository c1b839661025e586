// Rank stage: score (artist x template) candidates for a market and store the ranking. The market's
// policy (its champion/challenger arm) is the ML model or the heuristic. Fallbacks, each recorded
// on the run: no model yet or one that fails to load -> the heuristic; platform metrics not
// ingested today -> the market's previous ranking.
import { count } from '../counters.ts';
import type {
  MarketLoopInput,
  RankedItem,
  RankingResult,
  RankStageResult,
} from '../../core/types.ts';
import { addDays } from '../../core/dates.ts';
import { popularityAsOf } from '../../db/catalog.repository.ts';
import { latestPerformanceBefore, creativeDays } from '../../db/delivery.repository.ts';
import { championModel } from '../../db/models.repository.ts';
import { getRanking, previousRanking, saveRanking } from '../../db/rankings.repository.ts';
import { markFallback } from '../../db/runs.repository.ts';
import { pairKey } from '../../core/ids.ts';
import { DEFAULT_LOOKBACK_DAYS } from '../../ml/features.ts';
import { RankModel } from '../../ml/rank-model.ts';
import { rankWithModel } from '../../ml/ranker.ts';
import type { Config } from '../../core/config.ts';
import { marketPlatforms, type PlatformSettings, type StageDeps } from '../deps.ts';
import { selectForDeploy } from '../../decisions/rank/deploy-selection.ts';
import { listRejections } from '../../db/deploy.repository.ts';
import { getCreatives } from '../../db/creatives.repository.ts';
import { currentRun, withStage } from '../stage.ts';
import { buildCandidates, registrationShares } from '../../decisions/rank/candidates.ts';
import { rankHeuristic } from '../../decisions/rank/heuristic.ts';
import {
  RANK_MODEL_NAME,
  STORED_RANKING_FACTOR,
  artistsAsOf,
  liveOn,
  policyFor,
  slateOptions,
  templateInfos,
  toCreativeDays,
} from './model-inputs.ts';

/** Settings rank reads: how many creatives a market needs, the policy and its weights. */
export type RankSettings = Pick<
  Config,
  | 'ADS_PER_MARKET'
  | 'ADS_PER_ARTIST'
  | 'DEPLOY_SPARES'
  | 'DIVERSITY_WEIGHT'
  | 'EXPLORATION_SHARE'
  | 'RANKING_OBJECTIVE'
  | 'REPORTING_CURRENCY'
  | 'RANKING_POLICY'
  | 'RANKING_POLICY_BY_MARKET'
  | 'HEURISTIC_WEIGHTS'
> &
  PlatformSettings;

export interface RankInput extends MarketLoopInput {
  /** False when the platform-metrics ingest failed: fall back to the previous ranking. */
  metricsAvailable: boolean;
}

export function createRankActivities(deps: StageDeps<RankSettings>) {
  const { db, config, fx, renderer } = deps;
  const limit = config.ADS_PER_MARKET * STORED_RANKING_FACTOR;

  async function heuristic(market: string, date: string, usePerformance: boolean) {
    // The heuristic needs no trend: one popularity read, not the model's two.
    const artists = await popularityAsOf(db, market, date);
    if (artists.length === 0)
      throw new Error(`no artists with popularity in market ${market}; ingest the catalog first`);
    const perf = usePerformance ? await latestPerformanceBefore(db, market, date) : [];
    const shares = registrationShares(
      perf.map((p) => ({ artistId: p.artist_id, registrations: p.registrations })),
    );
    const templates = templateInfos(renderer.library).map((t) => t.id);
    const candidates = buildCandidates(artists, templates, shares);
    return rankHeuristic(candidates, limit, config.HEURISTIC_WEIGHTS).map((s, i): RankedItem => ({
      rank: i + 1,
      ...s,
    }));
  }

  /** The champion model's ranking, or why it cannot rank today. */
  async function modelRanking(
    market: string,
    date: string,
  ): Promise<{ items: RankedItem[]; modelVersion: string } | { unavailable: string }> {
    const champion = await championModel(db, RANK_MODEL_NAME);
    if (!champion?.artifact) return { unavailable: 'no trained ranking model yet' };
    let model: RankModel;
    try {
      model = RankModel.fromJson(champion.artifact);
    } catch (err) {
      return {
        unavailable: `ranking model ${RANK_MODEL_NAME} v${champion.version} failed to load: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    try {
      const artists = await artistsAsOf(db, market, date);
      if (artists.length === 0)
        throw new Error(`no artists with popularity in market ${market}; ingest the catalog first`);
      const lookback = toCreativeDays(
        await creativeDays(db, addDays(date, -DEFAULT_LOOKBACK_DAYS), addDays(date, -1), market),
        fx,
        config.REPORTING_CURRENCY,
      );
      const ranked = rankWithModel({
        artists,
        templates: templateInfos(renderer.library),
        lookback,
        live: liveOn(lookback, date),
        model,
        objective: config.RANKING_OBJECTIVE,
        select: slateOptions(config, market, date, limit),
      });
      return {
        modelVersion: `${RANK_MODEL_NAME}@${champion.version}`,
        items: ranked.map((r, i) => ({
          rank: i + 1,
          artistId: r.artistId,
          templateId: r.templateId,
          score: r.score,
          reasons: r.reasons,
          selection: r.mode,
          propensity: r.probability,
        })),
      };
    } finally {
      model.free();
    }
  }

  async function computed(market: string, date: string): Promise<RankingResult> {
    const base = { market, date, source: 'computed' as const, basedOn: null };
    if (policyFor(config, market) === 'ml') {
      const ml = await modelRanking(market, date);
      if ('items' in ml) return { ...base, policy: 'ml', ...ml };
      await markFallback(db, currentRun().runId, `heuristic instead of ml: ${ml.unavailable}`);
    }
    return { ...base, policy: 'heuristic', items: await heuristic(market, date, true) };
  }

  return {
    async rankMarket({
      market,
      date,
      metricsAvailable,
      rerank,
    }: RankInput): Promise<RankStageResult> {
      return withStage(
        db,
        'rank',
        async () => {
          // A day already ranked from its metrics keeps that ranking (a rerun recovers the day,
          // it does not reshuffle it) unless the operator asks to rank again. A fallback ranking
          // is not kept: a rerun once the metrics are back ranks properly.
          const stored = rerank ? null : await getRanking(db, market, date);
          const reused = stored?.source === 'computed';
          let ranking: RankingResult;
          if (stored && reused) {
            ranking = stored;
          } else if (metricsAvailable) {
            ranking = await computed(market, date);
          } else {
            const prev = await previousRanking(db, market, date);
            await markFallback(
              db,
              currentRun().runId,
              prev
                ? `previous ranking of ${prev.date}: platform metrics unavailable`
                : 'catalog-only heuristic: platform metrics unavailable and no previous ranking',
            );
            ranking = prev
              ? { ...prev, date, source: 'fallback-previous', basedOn: prev.date }
              : {
                  market,
                  date,
                  policy: 'heuristic',
                  source: 'fallback-catalog-only',
                  basedOn: null,
                  items: await heuristic(market, date, false),
                };
          }
          if (!reused) await saveRanking(db, ranking);
          if (ranking.source !== 'computed') count('adloop_ranking_fallbacks', 1, { market });
          // Spares are rendered too: deploy gives one the slot of a creative review rejects,
          // and each platform gets enough that it has not rejected already.
          return {
            ranking,
            selected: selectForDeploy({
              items: ranking.items,
              rejected: await rejectedPairs(db, market),
              platforms: marketPlatforms(deps, market).deployTo,
              slots: config.ADS_PER_MARKET,
              spares: config.DEPLOY_SPARES,
              perArtist: config.ADS_PER_ARTIST,
            }),
            ...(reused && { reused }),
          };
        },
        ({ ranking: r, reused }) => ({
          reused: reused ?? false,
          source: r.source,
          policy: r.policy,
          model: r.modelVersion ?? null,
          basedOn: r.basedOn,
          items: r.items.length,
          explored: r.items.slice(0, config.ADS_PER_MARKET).filter((i) => i.selection === 'explore')
            .length,
          top: r.items[0]?.artistId ?? null,
        }),
      );
    },
  };
}

/** Platform -> the artist x template pairs its review rejected in the market. */
async function rejectedPairs(db: StageDeps<RankSettings>['db'], market: string) {
  const rejections = await listRejections(db, { market });
  const creatives = new Map(
    (await getCreatives(db, [...new Set(rejections.map((r) => r.creative_hash))])).map((c) => [
      c.hash,
      pairKey(c.artist_id, c.template_id),
    ]),
  );
  const out = new Map<string, Set<string>>();
  for (const r of rejections) {
    const key = creatives.get(r.creative_hash);
    if (key) (out.get(r.platform) ?? out.set(r.platform, new Set()).get(r.platform)!).add(key);
  }
  return out;
}
