// Rank stage: score (artist x template) candidates for a market and store the ranking. When the
// platform metrics could not be ingested, reuse the market's previous ranking instead.
import type { MarketLoopInput, RankingResult, RankStageResult } from '../../core/types.ts';
import { popularityAsOf } from '../../db/catalog.repository.ts';
import { latestPerformanceBefore } from '../../db/metrics.repository.ts';
import { previousRanking, saveRanking } from '../../db/rankings.repository.ts';
import { markFallback } from '../../db/runs.repository.ts';
import { loadTemplates } from '../render/templates.ts';
import type { ActivityDeps } from '../deps.ts';
import { currentRun, withStage } from '../stage.ts';
import { buildCandidates, registrationShares } from './candidates.ts';
import { rankHeuristic } from './heuristic.ts';

/** How many ranked items are stored per market and day, as a multiple of the ads deployed. */
const STORED_RANKING_FACTOR = 3;

export interface RankInput extends MarketLoopInput {
  /** False when the platform-metrics ingest failed: fall back to the previous ranking. */
  metricsAvailable: boolean;
}

export function createRankActivities({ db, config }: ActivityDeps) {
  async function heuristic(market: string, date: string, usePerformance: boolean) {
    const artists = await popularityAsOf(db, market, date);
    if (artists.length === 0)
      throw new Error(`no artists with popularity in market ${market}; ingest the catalog first`);
    const perf = usePerformance ? await latestPerformanceBefore(db, market, date) : [];
    const shares = registrationShares(
      perf.map((p) => ({ artistId: p.artist_id, registrations: p.registrations })),
    );
    const templates = loadTemplates(config.TEMPLATES_DIR).templates.map((t) => t.id);
    const candidates = buildCandidates(artists, templates, shares);
    return rankHeuristic(candidates, config.ADS_PER_MARKET * STORED_RANKING_FACTOR).map((s, i) => ({
      rank: i + 1,
      ...s,
    }));
  }

  return {
    async rankMarket({ market, date, metricsAvailable }: RankInput): Promise<RankStageResult> {
      return withStage(
        db,
        'rank',
        async () => {
          let ranking: RankingResult;
          if (metricsAvailable) {
            ranking = {
              market,
              date,
              policy: 'heuristic',
              source: 'computed',
              basedOn: null,
              items: await heuristic(market, date, true),
            };
          } else {
            await markFallback(db, currentRun().runId);
            const prev = await previousRanking(db, market, date);
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
          await saveRanking(db, ranking);
          return { ranking, selected: ranking.items.slice(0, config.ADS_PER_MARKET) };
        },
        ({ ranking: r }) => ({
          source: r.source,
          basedOn: r.basedOn,
          items: r.items.length,
          top: r.items[0]?.artistId ?? null,
        }),
      );
    },
  };
}
