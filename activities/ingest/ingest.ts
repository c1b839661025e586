// Ingest stage: the content catalog from its file, and yesterday's delivery from the ad platform.
import { addDays } from '../../core/dates.ts';
import { readCatalogFile } from '../../core/catalog.ts';
import { parseMetaAdName, metaAdSetName } from '../../core/ids.ts';
import type {
  IngestCatalogResult,
  IngestMetricsResult,
  MarketLoopInput,
} from '../../core/types.ts';
import { upsertCatalog } from '../../db/catalog.repository.ts';
import { findPlatformObject } from '../../db/creatives.repository.ts';
import type { MetricsWriter } from '../../db/metrics-writer.ts';
import type { MetaInsightRow } from '../../platforms/meta/meta-ads.ts';
import type { ActivityDeps } from '../deps.ts';
import { withStage } from '../stage.ts';

/** Stores platform insight rows of one market, keyed by ad and day (idempotent). */
export async function storeMetaInsights(
  metrics: MetricsWriter,
  market: string,
  rows: MetaInsightRow[],
) {
  return metrics.upsertAdMetrics(
    rows.map((r) => ({
      platform: 'meta',
      ad_id: r.adId,
      date: r.date,
      market,
      creative_hash: parseMetaAdName(r.adName)?.creativeHash ?? null,
      impressions: r.impressions,
      clicks: r.clicks,
      spend_micros: r.spendMicros,
      currency: r.currency,
      installs: r.installs,
      registrations: r.registrations,
      subscriptions: r.subscriptions,
    })),
  );
}

export function createIngestActivities({ db, meta, metrics, config }: ActivityDeps) {
  return {
    /** Market codes in the catalog, for a daily loop that was not told which markets to run. */
    listMarkets(): Promise<string[]> {
      return Promise.resolve(readCatalogFile(config.CATALOG_PATH).markets.map((m) => m.code));
    },

    /** Upserts the market, every artist and the artists' popularity in the market as of `date`. */
    async ingestCatalog({ market, date }: MarketLoopInput): Promise<IngestCatalogResult> {
      return withStage(
        db,
        'ingest',
        async () => {
          const catalog = readCatalogFile(config.CATALOG_PATH);
          const m = catalog.markets.find((x) => x.code === market);
          if (!m) throw new Error(`market ${market} is not in the catalog ${config.CATALOG_PATH}`);
          const artists = catalog.artists.filter((a) => a.popularity[market] !== undefined);
          await upsertCatalog(db, {
            date,
            markets: [
              {
                code: m.code,
                name: m.name,
                language: m.language,
                currency: m.currency,
                time_zone: m.timeZone,
                right_to_left: m.rightToLeft,
              },
            ],
            artists: artists.map((a) => ({
              id: a.id,
              name: a.name,
              genre: a.genre,
              image_path: a.image,
            })),
            popularity: artists.map((a) => ({
              artistId: a.id,
              market,
              popularity: a.popularity[market]!,
            })),
          });
          return { artists: artists.length };
        },
        (r) => ({ artists: r.artists }),
      );
    },

    /** Yesterday's per-ad delivery of the market's ad set, from the platform. */
    async ingestPlatformMetrics({ market, date }: MarketLoopInput): Promise<IngestMetricsResult> {
      return withStage(
        db,
        'ingest',
        async () => {
          const adset = await findPlatformObject(db, {
            platform: 'meta',
            kind: 'adset',
            name: metaAdSetName(market),
          });
          if (!adset) return { rows: 0 }; // nothing deployed yet in this market
          const day = addDays(date, -1);
          const rows = await meta.insights({ since: day, until: day, adsetId: adset.external_id });
          return { rows: await storeMetaInsights(metrics, market, rows) };
        },
        (r) => ({ metricRows: r.rows }),
      );
    },
  };
}
