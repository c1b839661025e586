// Learn stage: read the market's delivery back from the platform over the lookback window, store
// it, and compute CTR and cost per registration (CPR) per creative. The next day's rank reads
// these figures.
import { addDays } from '../../core/dates.ts';
import { metaAdSetName } from '../../core/ids.ts';
import type { LearnResult, MarketLoopInput } from '../../core/types.ts';
import { findPlatformObject, getCreatives } from '../../db/creatives.repository.ts';
import { creativeTotals, replaceCreativePerformance } from '../../db/metrics.repository.ts';
import type { ActivityDeps } from '../deps.ts';
import { storeMetaInsights } from '../ingest/ingest.ts';
import { withStage } from '../stage.ts';

/** Click-through rate; null when there were no impressions. */
export const ctr = (clicks: number, impressions: number) =>
  impressions > 0 ? clicks / impressions : null;
/** Cost per registration in micros; null when nothing registered. */
export const cpr = (spendMicros: number, registrations: number) =>
  registrations > 0 ? spendMicros / registrations : null;

export function createLearnActivities({ db, meta, metrics, config }: ActivityDeps) {
  return {
    async learnFromResults({ market, date }: MarketLoopInput): Promise<LearnResult> {
      return withStage(
        db,
        'learn',
        async () => {
          const from = addDays(date, -(config.LEARN_LOOKBACK_DAYS - 1));
          const adset = await findPlatformObject(db, {
            platform: 'meta',
            kind: 'adset',
            name: metaAdSetName(market),
          });
          if (adset)
            await storeMetaInsights(
              metrics,
              market,
              await meta.insights({ since: from, until: date, adsetId: adset.external_id }),
            );
          const totals = await creativeTotals(db, market, from, date);
          const creatives = new Map(
            (
              await getCreatives(
                db,
                totals.map((t) => t.creativeHash),
              )
            ).map((c) => [c.hash, c]),
          );
          const rows = totals.flatMap((t) => {
            const c = creatives.get(t.creativeHash);
            if (!c) return []; // an ad whose creative this database never rendered
            return [
              {
                creative_hash: t.creativeHash,
                platform: 'meta',
                as_of: date,
                market,
                artist_id: c.artist_id,
                template_id: c.template_id,
                impressions: t.impressions,
                clicks: t.clicks,
                spend_micros: t.spendMicros,
                registrations: t.registrations,
                ctr: ctr(t.clicks, t.impressions),
                cpr_micros: cpr(t.spendMicros, t.registrations),
              },
            ];
          });
          await replaceCreativePerformance(db, market, date, rows);
          const sum = (k: 'impressions' | 'clicks' | 'registrations' | 'spend_micros') =>
            rows.reduce((s, r) => s + r[k], 0);
          return {
            creatives: rows.length,
            impressions: sum('impressions'),
            clicks: sum('clicks'),
            registrations: sum('registrations'),
            spendMicros: sum('spend_micros'),
          };
        },
        (r) => ({ ...r }),
      );
    },
  };
}
