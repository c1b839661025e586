// What the ranking model reads, loaded from the database as ingested: the market's artists
// (popularity and its trend), the templates, and creative-days in the reporting currency. The
// rank stage and the training activity read through here, so they see the same features.
import type { Config } from '../../core/config.ts';
import { addDays } from '../../core/dates.ts';
import { convertMicros, type FxTable } from '../../core/money.ts';
import type { RankingPolicy } from '../../core/types.ts';
import { popularityAsOf } from '../../db/catalog.repository.ts';
import type { Db } from '../../db/database.ts';
import type { CreativeDayRow } from '../../db/delivery.repository.ts';
import type { ArtistInfo, CreativeDay, TemplateInfo } from '../../ml/features.ts';
import type { SelectOptions } from '../../ml/select.ts';
import { keyed } from '../../core/random.ts';
import { pairKey } from '../../core/ids.ts';
import type { TemplateLibrary } from '../../render/template.ts';
import { MIN_TRAINING_ROWS } from '../../ml/training.ts';

/** Registry name of the ranking model. */
export const RANK_MODEL_NAME = 'rank-xgb';

/** Days over which an artist's popularity trend is measured. */
const TREND_DAYS = 7;

/** The market's artists as of `date`, with the popularity trend over the week before. */
export async function artistsAsOf(db: Db, market: string, date: string): Promise<ArtistInfo[]> {
  const [now, before] = await Promise.all([
    popularityAsOf(db, market, date, { embeddings: true }),
    popularityAsOf(db, market, addDays(date, -TREND_DAYS)),
  ]);
  const earlier = new Map(before.map((a) => [a.id, a.popularity]));
  return now.map((a) => {
    const then = earlier.get(a.id);
    return {
      id: a.id,
      genre: a.genre,
      popularity: a.popularity,
      trend: then === undefined ? 0 : (a.popularity - then) / TREND_DAYS,
      embedding: a.embedding,
    };
  });
}

export function templateInfos(library: TemplateLibrary): TemplateInfo[] {
  return library.templates.map((t) => ({ id: t.id, theme: t.theme }));
}

/** Creative-days with spend in the reporting currency, so markets on several accounts compare. */
export function toCreativeDays(
  rows: readonly CreativeDayRow[],
  fx: FxTable,
  reportingCurrency: string,
): CreativeDay[] {
  return rows.map((r) => ({
    market: r.market,
    date: r.date,
    artistId: r.artistId,
    templateId: r.templateId,
    daysLive: r.daysLive,
    impressions: r.impressions,
    clicks: r.clicks,
    spend: convertMicros(r.spendMicros, r.currency, reportingCurrency, fx) / 1e6,
    registrations: r.registrations,
    subscriptions: r.subscriptions,
  }));
}

/** Settings the model's slate selection reads. */
export type SelectSettings = Pick<
  Config,
  'ADS_PER_MARKET' | 'ADS_PER_ARTIST' | 'DIVERSITY_WEIGHT' | 'EXPLORATION_SHARE'
>;

/**
 * How many ranked items the rank stage keeps per market and day, as a multiple of the ads
 * deployed: the slate and the reserves deploy passes down to when review rejects or an artist has
 * its share.
 */
export const STORED_RANKING_FACTOR = 3;

/**
 * How the rank stage selects a market's slate on `date` (`limit` items: the slate and its
 * reserves). Off-policy evaluation re-ranks past days with these same options, random stream
 * included.
 */
export function slateOptions(
  config: SelectSettings,
  market: string,
  date: string,
  limit: number,
): SelectOptions {
  return {
    slots: config.ADS_PER_MARKET,
    limit,
    explorationShare: config.EXPLORATION_SHARE,
    diversity: config.DIVERSITY_WEIGHT,
    perGroup: config.ADS_PER_ARTIST,
    // Seeded by market and day: a retried or rerun stage explores the same way.
    random: keyed('ranking', market, date),
  };
}

/**
 * The creatives running going into `date`, by pair, with the days each will have been live:
 * what ran the day before keeps running unless the ranking drops it, a day older.
 */
export function liveOn(lookback: readonly CreativeDay[], date: string): Map<string, number> {
  const yesterday = addDays(date, -1);
  return new Map(
    lookback
      .filter((r) => r.date === yesterday)
      .map((r) => [pairKey(r.artistId, r.templateId), r.daysLive + 1]),
  );
}

/** The policy a market ranks with: its champion/challenger arm, else the default. */
export function policyFor(
  config: Pick<Config, 'RANKING_POLICY' | 'RANKING_POLICY_BY_MARKET'>,
  market: string,
): RankingPolicy {
  return config.RANKING_POLICY_BY_MARKET[market] ?? config.RANKING_POLICY;
}

export interface RankerOutlook {
  ranker: 'ml' | 'heuristic';
  why: string;
}

/**
 * Which ranker a market's rank stage will use, and why, from what is known before the run: its
 * policy arm, whether libxgboost loads, and the champion model. The rank stage decides the same
 * way (and records a fallback when the model then fails); `npm start` says it up front.
 */
export function expectedRanker(o: {
  policy: 'ml' | 'heuristic';
  xgboost: { loads: true; version: string } | { loads: false; error: string };
  champion: { version: number; trainingTo: string } | null;
}): RankerOutlook {
  if (o.policy === 'heuristic')
    return { ranker: 'heuristic', why: 'its policy arm is the heuristic (RANKING_POLICY…)' };
  if (!o.xgboost.loads)
    return { ranker: 'heuristic', why: `libxgboost does not load: ${o.xgboost.error}` };
  if (!o.champion)
    return {
      ranker: 'heuristic',
      why:
        `no trained ranking model yet (libxgboost ${o.xgboost.version} is ready; the loop trains ` +
        `one once ${MIN_TRAINING_ROWS} creative-days are in, and the next run ranks with it)`,
    };
  return {
    ranker: 'ml',
    why: `champion ${RANK_MODEL_NAME} v${o.champion.version}, trained on days up to ${o.champion.trainingTo}, libxgboost ${o.xgboost.version}`,
  };
}
