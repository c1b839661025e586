// Ingest of mobile measurement partner (MMP) attribution: installs, registrations and
// subscriptions per campaign, creative, OS and day, re-read over a lookback window because MMP
// data arrives late (iOS postbacks days late). iOS rows stay campaign-level aggregates.
import { addDays } from '../../core/dates.ts';
import type { DateWindow, MarketLoopInput } from '../../core/types.ts';
import {
  attributionTotalsByDay,
  upsertAttribution,
  type NewAttribution,
} from '../../db/attribution.repository.ts';
import { listPlatformObjects } from '../../db/creatives.repository.ts';
import { DEPLOY_PLATFORMS } from '../../decisions/deploy/plan.ts';
import type { Config } from '../../core/config.ts';
import type { StageDeps } from '../deps.ts';
import { withStage } from '../stage.ts';
import { catchUpSince } from '../../decisions/ingest/catch-up.ts';
import { daysBehind, shrinkIsRestatement } from '../../decisions/ingest/mmp-behind.ts';
import { lastReadOn, recordRead } from '../../db/watermarks.repository.ts';

/** Settings attribution reads: how far back the MMP is re-read. */
export type AttributionSettings = Pick<Config, 'ATTRIBUTION_LOOKBACK_DAYS'>;

export interface IngestAttributionResult {
  /** The MMP read, or null when none is configured. */
  source: string | null;
  rows: number;
  /** The daily ingest's first day read: the lookback, or further back to catch up. */
  since?: string;
  /**
   * Days the MMP answered with less than was stored (it is behind on them): their stored rows
   * were kept and the read not counted complete (decisions/ingest/mmp-behind.ts).
   */
  behind?: string[];
  /** Days whose shrink had lasted long enough to be stored as the MMP's restatement. */
  restated?: string[];
}

/** What a read covered: the MMP and the market's campaigns (whether or not it answered rows). */
export interface AttributionReadScope {
  source: string;
  campaigns: string[];
}

/** Where attribution rows go: the daily ingest upserts them; a backfill also compares. */
export type AttributionStore = (
  rows: readonly NewAttribution[],
  scope: AttributionReadScope,
) => Promise<number>;

/**
 * Reads what the MMP attributed over [since, until] to the market's campaigns (adloop's own, as
 * deploy recorded them) and stores it through `store` (default the idempotent upsert). The one
 * implementation behind the daily ingest and backfill.
 */
export function createAttributionReader({ db, mmp }: Pick<StageDeps<unknown>, 'db' | 'mmp'>) {
  return async function readAttribution(
    market: string,
    range: DateWindow,
    store: AttributionStore = (rows) => upsertAttribution(db, rows),
  ): Promise<IngestAttributionResult> {
    if (!mmp) return { source: null, rows: 0 };
    // Every platform's campaigns of the market: Meta's and TikTok's share the market's name,
    // Google's App campaigns are one per store (adloop/<market>/<os>/<objective>).
    const campaigns = new Set<string>();
    for (const platform of DEPLOY_PLATFORMS)
      for (const c of await listPlatformObjects(db, { platform, kind: 'campaign', market }))
        campaigns.add(c.name);
    if (campaigns.size === 0) return { source: mmp.provider, rows: 0 };
    const rows = (await mmp.attribution(range)).filter((r) => campaigns.has(r.campaign));
    const stored = await store(
      rows.map((r) => ({
        source: mmp.provider,
        date: r.date,
        platform: r.platform,
        network: r.network,
        campaign_id: r.campaignId,
        campaign: r.campaign,
        // Aggregated (iOS) rows keep null ad group and creative: never spread onto creatives.
        ad_group_id: r.aggregated ? null : r.adGroupId,
        creative_id: r.aggregated ? null : r.creativeId,
        creative: r.aggregated ? null : r.creative,
        os: r.os,
        aggregated: r.aggregated,
        installs: r.installs,
        registrations: r.registrations,
        subscriptions: r.subscriptions,
      })),
      { source: mmp.provider, campaigns: [...campaigns] },
    );
    return { source: mmp.provider, rows: stored };
  };
}

export function createAttributionActivities(deps: StageDeps<AttributionSettings>) {
  const { db, config } = deps;
  const readAttribution = createAttributionReader(deps);
  return {
    /**
     * The last ATTRIBUTION_LOOKBACK_DAYS days up to yesterday, or further back after days it could
     * not read, to where its last successful read started (decisions/ingest/catch-up.ts). Days the
     * MMP answers with less than is stored keep their rows, and are read again tomorrow
     * (decisions/ingest/mmp-behind.ts). An MMP
     * down longer than that reach is recovered with `adloop backfill`
     * (activities/ingest/backfill.ts), through the same reader.
     */
    async ingestAttribution({ market, date }: MarketLoopInput): Promise<IngestAttributionResult> {
      return withStage(
        db,
        'ingest',
        async () => {
          const lastRead = await lastReadOn(db, market, 'attribution');
          const since = catchUpSince(date, config.ATTRIBUTION_LOOKBACK_DAYS, lastRead);
          const until = addDays(date, -1);
          let behind: string[] = [];
          let restated: string[] = [];
          const read = await readAttribution(market, { since, until }, async (rows, scope) => {
            const stored = await attributionTotalsByDay(db, { ...scope, from: since, to: until });
            const answered = new Map<string, number>();
            for (const r of rows)
              answered.set(
                r.date,
                (answered.get(r.date) ?? 0) + r.installs + r.registrations + r.subscriptions,
              );
            behind = daysBehind(answered, stored);
            if (behind.length > 0 && shrinkIsRestatement(date, lastRead))
              [restated, behind] = [behind, []];
            const held = new Set(behind);
            return upsertAttribution(
              db,
              rows.filter((r) => !held.has(r.date)),
            );
          });
          // Days the MMP is behind on are read again tomorrow: from the last complete read on.
          if (behind.length === 0) await recordRead(db, market, 'attribution', date);
          return {
            ...read,
            since,
            ...(behind.length > 0 ? { behind } : {}),
            ...(restated.length > 0 ? { restated } : {}),
          };
        },
        (r) => ({
          attributionSource: r.source,
          attributionRows: r.rows,
          since: r.since,
          ...(r.behind ? { attributionBehind: r.behind } : {}),
        }),
      );
    },
  };
}
