// Learn stage: read the market's delivery back from the platform over the lookback window, store
// it, and compute CTR and cost per registration (CPR) per creative. The next day's rank reads
// these figures.
import { addDays } from '../../core/dates.ts';
import type { LearnResult, MarketLoopInput } from '../../core/types.ts';
import { getCreatives, listPlatformObjects } from '../../db/creatives.repository.ts';
import { creativeTotals, replaceCreativePerformance } from '../../db/delivery.repository.ts';
import type { Config } from '../../core/config.ts';
import { marketPlatforms, type StageDeps, type PlatformSettings } from '../deps.ts';
import { storeInsights } from '../ingest/ingest.ts';
import { withStage } from '../stage.ts';
import { creativePerformance } from '../../decisions/learn/performance.ts';
import { convertMicros } from '../../core/money.ts';
import { mmpRegistrationsByAd } from '../../db/attribution.repository.ts';

/** Settings learn reads: its lookback and the currency it compares costs in. */
export type LearnSettings = Pick<Config, 'LEARN_LOOKBACK_DAYS' | 'REPORTING_CURRENCY'> &
  PlatformSettings;

/**
 * What learn cannot know about Google: an App ad's images, videos, headlines and descriptions are
 * combined by Google, which reports per asset (ad_group_ad_asset_view), not per combination with
 * spend. A creative's Google evidence is its image's and video's own rows; which headline each
 * served beside, and how Google chose to favour it, is Google's choice and not in the evidence.
 */
export const GOOGLE_COMBINATIONS_CAVEAT =
  "Google: per-asset results; Google chose which headlines and descriptions served beside each creative's image and video, so a creative's Google results include its choice of pairing and delivery, which adloop cannot see";

export function createLearnActivities(deps: StageDeps<LearnSettings>) {
  const { db, delivery, fx, config } = deps;
  return {
    async learnFromResults({ market, date }: MarketLoopInput): Promise<LearnResult> {
      return withStage(
        db,
        'learn',
        async () => {
          const from = addDays(date, -(config.LEARN_LOOKBACK_DAYS - 1));
          const { meta } = marketPlatforms(deps, market);
          if (meta)
            for (const adset of await listPlatformObjects(db, {
              platform: 'meta',
              kind: 'adset',
              market,
            }))
              await storeInsights(
                delivery,
                'meta',
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
          const mmp = await mmpRegistrationsByAd(db, {
            from,
            to: date,
            adIds: totals.flatMap((t) => t.adIds),
          });
          const measured = creativePerformance(
            totals
              .filter((t) => creatives.has(t.creativeHash)) // ads whose creative this database never rendered are not ours to learn from
              .map((t) => ({
                ...t,
                mmpRegistrations: t.adIds.reduce((s, id) => s + (mmp.get(id) ?? 0), 0),
              })),
          );
          const rows = measured.map((m) => {
            const c = creatives.get(m.creativeHash)!;
            return {
              creative_hash: m.creativeHash,
              platform: 'meta',
              as_of: date,
              market,
              artist_id: c.artist_id,
              template_id: c.template_id,
              impressions: m.impressions,
              clicks: m.clicks,
              spend_micros: m.spendMicros,
              installs: m.installs,
              registrations: m.registrations,
              subscriptions: m.subscriptions,
              mmp_registrations: m.mmpRegistrations,
              ctr: m.ctr,
              cvr: m.cvr,
              cpr_micros: m.cprMicros,
              cps_micros: m.cpsMicros,
              registration_share: m.registrationShare,
              relative_registration_share: m.relativeRegistrationShare,
              relative_cpr: m.relativeCpr,
            };
          });
          await replaceCreativePerformance(db, market, date, rows);
          const sum = (k: 'impressions' | 'clicks' | 'registrations') =>
            rows.reduce((s, r) => s + r[k], 0);
          const currencyOf = new Map(totals.map((t) => [t.creativeHash, t.currency]));
          return {
            creatives: rows.length,
            impressions: sum('impressions'),
            clicks: sum('clicks'),
            registrations: sum('registrations'),
            // Markets spend in different currencies; the summary compares them in one.
            spendMicros: rows.reduce(
              (s, r) =>
                s +
                convertMicros(
                  r.spend_micros,
                  currencyOf.get(r.creative_hash)!,
                  config.REPORTING_CURRENCY,
                  fx,
                ),
              0,
            ),
            reportingCurrency: config.REPORTING_CURRENCY,
            ...((await listPlatformObjects(db, { platform: 'google', kind: 'adset', market }))
              .length > 0
              ? { caveats: [GOOGLE_COMBINATIONS_CAVEAT] }
              : {}),
          };
        },
        (r) => ({ ...r }),
      );
    },
  };
}
