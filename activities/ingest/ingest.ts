// Ingest stage: the content catalog from its file, and yesterday's delivery from the ad platforms.
import { FAILURE } from '../../core/failures.ts';
import { addDays, earlierDate, lastCompleteDay } from '../../core/dates.ts';
import { ApplicationFailure } from '@temporalio/common';
import { loadCatalogRows, type CatalogRows } from '../../core/catalog-rows.ts';
import { COUNTRY_BY_CODE } from '../../core/countries.ts';
import { adSetName, parseAdName } from '../../core/ids.ts';
import type {
  DateWindow,
  IngestCatalogResult,
  IngestMetricsResult,
  IsoDate,
  MarketLoopInput,
} from '../../core/types.ts';
import { getMarket, upsertCatalog } from '../../db/catalog.repository.ts';
import type { NewMarket } from '../../db/catalog.table.ts';
import { listPlatformObjects } from '../../db/creatives.repository.ts';
import type { DeliveryWriter } from '../../db/delivery-writer.ts';
import { upsertAdAccount } from '../../db/delivery.repository.ts';
import type { MetaInsightRow } from '../../platforms/meta/meta-ads.ts';
import type { Config } from '../../core/config.ts';
import { marketPlatforms, type StageDeps, type PlatformSettings } from '../deps.ts';
import { withStage } from '../stage.ts';
import { catchUpSince } from '../../decisions/ingest/catch-up.ts';
import { lastReadOn, recordRead } from '../../db/watermarks.repository.ts';

/**
 * Settings ingest reads: the catalog (and how long fetching its URL may take; unset: the default
 * of core/catalog-rows.ts), which app events count, and how far back delivery is re-read.
 */
export type IngestSettings = Pick<
  Config,
  'CATALOG_PATH' | 'DEPLOY_OBJECTIVE' | 'DEPLOY_OS' | 'METRICS_LOOKBACK_DAYS'
> &
  Partial<Pick<Config, 'CATALOG_FETCH_TIMEOUT_MS'>> &
  PlatformSettings;

/** Stores insight rows of one platform and market, keyed by ad and day (idempotent). */
export async function storeInsights(
  delivery: DeliveryWriter,
  platform: 'meta' | 'tiktok' | 'google',
  market: string,
  rows: MetaInsightRow[],
) {
  return delivery.upsertAdMetrics(
    rows.map((r) => ({
      platform,
      ad_id: r.adId,
      date: r.date,
      market,
      creative_hash: parseAdName(r.adName)?.creativeHash ?? null,
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

/** What one read of a market's delivery stored. */
export interface DeliveryRead {
  /** Rows the platforms returned and were written. */
  rows: number;
  /** Days not read, and why: an account that has not finished them in its own time zone. */
  notes: string[];
}

/**
 * Reads the per-ad delivery of a market's Meta ad sets, TikTok ad groups and Google App campaigns'
 * ad groups (per asset) over [since, until]
 * (each platform's paging and report jobs do the rest) and stores it through `writer` (default the
 * bulk, idempotent DeliveryWriter). The one implementation behind the daily ingest and backfill.
 */
export function createDeliveryReader(deps: StageDeps<IngestSettings>) {
  const { db, config } = deps;
  return async function readDelivery(
    market: string,
    range: DateWindow,
    writer: DeliveryWriter = deps.delivery,
  ): Promise<DeliveryRead> {
    const now = (deps.clock ?? (() => new Date()))();
    const notes: string[] = [];
    // Report days are each account's calendar days: read up to `until`, but never a day the
    // account's own time zone has not finished (an account far west of its market is still
    // spending its yesterday when the market's morning run starts). Null: nothing to read.
    const untilIn = (account: string, timeZone: string): IsoDate | null => {
      const until = earlierDate(range.until, lastCompleteDay(timeZone, now));
      if (until < range.until)
        notes.push(
          `${account} (${timeZone}) has not finished ${addDays(until, 1)}: read up to ${until}`,
        );
      return until < range.since ? null : until;
    };
    let stored = 0;
    const { accounts, meta, tiktok, google } = marketPlatforms(deps, market);
    // Every ad set deploy made for the market (one per segment).
    const adsets = await listPlatformObjects(db, { platform: 'meta', kind: 'adset', market });
    if (meta && adsets.length > 0) {
      // Report days are the account's calendar days: keep its time zone and currency on record.
      const account = await meta.describeAccount();
      await upsertAdAccount(db, { platform: 'meta', ...account });
      const until = untilIn(`Meta account ${account.accountId}`, account.timeZone);
      if (until)
        for (const adset of adsets) {
          const rows = await meta.insights({
            since: range.since,
            until,
            adsetId: adset.external_id,
          });
          stored += await storeInsights(writer, 'meta', market, rows);
        }
    }
    if (tiktok && accounts.tiktok) {
      // The market's TikTok ad groups deploy recorded (rolled-over ones too); else (a database
      // that never saw the deploy) those adloop's naming gives each store of DEPLOY_OS, and the
      // single default group of the time before stores had their own.
      const groups = (
        await listPlatformObjects(db, { platform: 'tiktok', kind: 'adset', market })
      ).map((g) => g.external_id);
      if (groups.length === 0) {
        const names = [
          ...config.DEPLOY_OS.map((os) =>
            adSetName(market, { os, objective: config.DEPLOY_OBJECTIVE }),
          ),
          adSetName(market),
        ];
        for (const name of names) {
          const found = await tiktok.findByName('adgroup', name);
          if (found) groups.push(found.id);
        }
      }
      // Rows carry the advertiser's currency as TikTok reports it (advertiser/info).
      const until = untilIn(
        `TikTok advertiser ${accounts.tiktok.advertiserId}`,
        (await tiktok.advertiser()).timeZone,
      );
      if (until)
        for (const groupId of groups) {
          const rows = await tiktok.insights({ since: range.since, until, adGroupId: groupId });
          stored += await storeInsights(writer, 'tiktok', market, rows);
        }
    }
    if (google && accounts.google) {
      // Google reports per asset of each App campaign's ad group (ad_group_ad_asset_view): one
      // row per creative's image or video and day, which learn adds up per creative.
      const groups = (
        await listPlatformObjects(db, { platform: 'google', kind: 'adset', market })
      ).map((g) => g.external_id);
      if (groups.length === 0)
        for (const os of config.DEPLOY_OS) {
          const found = await google.findByName(
            'ad_group',
            adSetName(market, { os, objective: config.DEPLOY_OBJECTIVE }),
          );
          if (found) groups.push(found.id);
        }
      if (groups.length > 0) {
        // segments.date is a day of the customer's time zone; cost is in its currency.
        const customer = await google.customer();
        await upsertAdAccount(db, {
          platform: 'google',
          accountId: customer.id,
          currency: customer.currency,
          timeZone: customer.timeZone,
        });
        const until = untilIn(`Google Ads customer ${customer.id}`, customer.timeZone);
        if (until)
          for (const adGroupId of groups) {
            const rows = await google.insights({
              since: range.since,
              until,
              adGroupId,
              conversions: accounts.google.conversions,
            });
            stored += await storeInsights(writer, 'google', market, rows);
          }
      }
    }
    return { rows: stored, notes };
  };
}

/** In CATALOG_PATH, stands for the market being ingested. */
export const MARKET_PLACEHOLDER = '{market}';

export function createIngestActivities(deps: StageDeps<IngestSettings>) {
  const { db, config } = deps;
  const readDelivery = createDeliveryReader(deps);
  const catalogFetch = { timeoutMs: config.CATALOG_FETCH_TIMEOUT_MS };
  /** A market's metadata: from the catalog file, else as stored, else the country's defaults. */
  async function marketInfo(market: string, catalog: CatalogRows): Promise<NewMarket> {
    const listed = catalog.markets?.find((m) => m.code === market);
    if (listed) {
      return {
        code: listed.code,
        name: listed.name,
        language: listed.language,
        currency: listed.currency,
        time_zone: listed.timeZone,
        right_to_left: listed.rightToLeft,
      };
    }
    const stored = await getMarket(db, market);
    if (stored) return stored;
    const c = COUNTRY_BY_CODE.get(market)!; // rows were validated against the same table
    return {
      code: c.code,
      name: c.name,
      language: c.language,
      currency: c.currency,
      time_zone: c.timeZone,
      right_to_left: c.rightToLeft,
    };
  }

  return {
    /** Market codes in the catalog, for a daily loop that was not told which markets to run. */
    async listMarkets(): Promise<string[]> {
      if (config.CATALOG_PATH.includes(MARKET_PLACEHOLDER)) {
        throw ApplicationFailure.create({
          type: FAILURE.catalog,
          message: `CATALOG_PATH is read per market (${MARKET_PLACEHOLDER}), so it cannot list markets: start the loop with explicit markets`,
          nonRetryable: true,
        });
      }
      const catalog = await loadCatalogRows(config.CATALOG_PATH, catalogFetch);
      return [...new Set(catalog.rows.map((r) => r.market))].sort();
    },

    /**
     * Upserts the market, its artists and their popularity as of `date`, in one transaction. Bad
     * rows are skipped and reported (line and reason) in the stage's audit event; a source that
     * cannot be read at all fails the stage and writes nothing.
     */
    async ingestCatalog({ market, date }: MarketLoopInput): Promise<IngestCatalogResult> {
      return withStage(
        db,
        'ingest',
        async () => {
          // A large catalog source can serve one market at a time: `…?market={market}`.
          const catalog = await loadCatalogRows(
            config.CATALOG_PATH.replaceAll(MARKET_PLACEHOLDER, market),
            catalogFetch,
          );
          const rows = catalog.rows.filter((r) => r.market === market);
          if (rows.length === 0) {
            throw ApplicationFailure.create({
              type: FAILURE.catalog,
              message: `market ${market} has no valid rows in the catalog ${catalog.source}`,
              nonRetryable: true,
            });
          }
          await upsertCatalog(db, {
            date,
            markets: [await marketInfo(market, catalog)],
            artists: rows.map((r) => ({
              id: r.artistId,
              name: r.name,
              genre: r.genre,
              image_path: r.image ?? '',
              embedding: r.embedding ? JSON.stringify(r.embedding) : null,
            })),
            popularity: rows.map((r) => ({
              artistId: r.artistId,
              market,
              popularity: r.popularity,
            })),
            items: catalog.items ?? [],
          });
          return {
            artists: rows.length,
            rejected: catalog.errors.length,
            errors: catalog.errors.slice(0, 20),
          };
        },
        (r) => ({ artists: r.artists, rejectedRows: r.rejected, firstErrors: r.errors }),
      );
    },

    /**
     * Per-ad delivery of the market's Meta ad sets and TikTok ad groups up to yesterday, re-reading
     * the last METRICS_LOOKBACK_DAYS days: platforms keep correcting recent days, and the upsert
     * makes a re-read day replace what was stored (ingesting a day twice changes nothing). After
     * days it could not read, it goes back further, to where its last successful read started
     * (decisions/ingest/catch-up.ts); a fault longer than that reach is recovered with
     * `adloop backfill` (activities/ingest/backfill.ts), which reads through the same
     * `readDelivery`.
     */
    async ingestPlatformMetrics({ market, date }: MarketLoopInput): Promise<IngestMetricsResult> {
      return withStage(
        db,
        'ingest',
        async () => {
          const since = catchUpSince(
            date,
            config.METRICS_LOOKBACK_DAYS,
            await lastReadOn(db, market, 'delivery'),
          );
          const { rows } = await readDelivery(market, { since, until: addDays(date, -1) });
          await recordRead(db, market, 'delivery', date);
          return { rows, since };
        },
        (r) => ({ metricRows: r.rows, since: r.since }),
      );
    },
  };
}
