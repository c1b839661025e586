// What a chaos scenario checks once the dust has settled, against the platforms' own truth:
// - duplicate ads: an ad name created twice, or two live ads of one creative in one ad set;
// - lost metric rows: delivery rows the platforms report (Meta and TikTok insights) and rows the
//   MMP attributes that are not in the database, or are there with other numbers, over the days
//   the last loop re-read.
// The comparisons are pure functions; `readPlatformTruth` asks the sandbox through the same wire
// clients the loop uses (with every fault off), so a row the loop could have read and did not
// store shows up here.
import { sql } from 'kysely';
import { addDays } from '../../core/dates.ts';
import { metaCampaignName, parseAdName } from '../../core/ids.ts';
import type { DeliveryCounts } from '../../core/types.ts';
import type { Db } from '../../db/database.ts';
import { createMetaAds } from '../../platforms/meta/meta-ads.ts';
import { createMmp } from '../../platforms/mmp/index.ts';
import { createTikTokAds } from '../../platforms/tiktok/tiktok-ads.ts';
import type { Sandbox } from '../../sandbox/index.ts';

export interface PlatformAd {
  platform: 'meta' | 'tiktok';
  name: string;
  /** Delivering (ACTIVE on Meta, ENABLE on TikTok). */
  live: boolean;
}

/** Every ad adloop manages in the sandbox accounts, both platforms, from the platforms' stores. */
export function platformAds(sandbox: Sandbox): PlatformAd[] {
  const meta = sandbox.meta.store
    .list('ad', sandbox.credentials.adAccountId.slice('act_'.length))
    .map((a) => ({
      platform: 'meta' as const,
      name: String(a.fields.name),
      live: a.fields.status === 'ACTIVE',
    }));
  const tiktok = sandbox.tiktok.store
    .list('ad', sandbox.tiktokCredentials.advertiserId)
    .map((a) => ({
      platform: 'tiktok' as const,
      name: String(a.fields.ad_name),
      live: a.fields.operation_status === 'ENABLE',
    }));
  return [...meta, ...tiktok].filter((a) => parseAdName(a.name) !== null);
}

/**
 * Ads that should not exist: every extra ad under a name already used (a create that was retried
 * after it had succeeded), plus every extra live ad showing a creative that another live ad of the
 * same ad set already shows.
 */
export function duplicateAds(ads: readonly PlatformAd[]): number {
  const byName = new Map<string, PlatformAd>();
  for (const ad of ads) {
    const key = `${ad.platform}|${ad.name}`;
    const seen = byName.get(key);
    if (!seen || (ad.live && !seen.live)) byName.set(key, ad);
  }
  const sameName = ads.length - byName.size;
  const live = [...byName.values()].filter((a) => a.live);
  const shown = new Set(
    live.map((a) => {
      const p = parseAdName(a.name)!;
      return `${a.platform}|${p.adSet ?? p.market}|${p.creativeHash}`;
    }),
  );
  return sameName + (live.length - shown.size);
}

/**
 * Objects adloop names uniquely that exist more than once under one name: campaigns, ad sets and
 * ad groups, Meta ad creatives (a create retried after it had in fact succeeded).
 */
export function duplicateObjects(sandbox: Sandbox): number {
  const account = sandbox.credentials.adAccountId.slice('act_'.length);
  const advertiser = sandbox.tiktokCredentials.advertiserId;
  const names = [
    ...(['campaign', 'adset', 'adcreative'] as const).flatMap((type) =>
      sandbox.meta.store.list(type, account).map((o) => `meta ${type} ${String(o.fields.name)}`),
    ),
    ...sandbox.tiktok.store
      .list('campaign', advertiser)
      .map((o) => `tiktok campaign ${String(o.fields.campaign_name)}`),
    ...sandbox.tiktok.store
      .list('adgroup', advertiser)
      .map((o) => `tiktok adgroup ${String(o.fields.adgroup_name)}`),
  ].filter((n) => n.includes('adloop/'));
  return names.length - new Set(names).size;
}

export interface RowDiff {
  /** Rows the source has and the database does not. */
  missing: number;
  /** Rows stored with other numbers than the source's. */
  differing: number;
  /** A few of them, for the report. */
  examples: string[];
}

/** Compares the source's rows with the stored ones by key; extra stored rows are not losses. */
export function diffRows<T>(
  truth: readonly T[],
  stored: readonly T[],
  key: (row: T) => string,
  values: (row: T) => readonly number[],
): RowDiff {
  const have = new Map(stored.map((r) => [key(r), values(r)]));
  const out: RowDiff = { missing: 0, differing: 0, examples: [] };
  for (const row of truth) {
    const k = key(row);
    const got = have.get(k);
    const want = values(row);
    if (!got) {
      out.missing++;
      if (out.examples.length < 5) out.examples.push(`missing ${k}`);
    } else if (got.some((v, i) => v !== want[i])) {
      out.differing++;
      if (out.examples.length < 5)
        out.examples.push(`${k}: stored ${got.join('/')}, source ${want.join('/')}`);
    }
  }
  return out;
}

interface DeliveryRow {
  platform: string;
  adId: string;
  date: string;
  numbers: number[];
}

interface AttributionRowKey {
  key: string;
  numbers: number[];
}

export interface MetricsAudit {
  delivery: RowDiff;
  attribution: RowDiff;
  /** Rows compared (the source's), for scale. */
  deliveryRows: number;
  attributionRows: number;
}

/**
 * Compares what the platforms and the MMP report now for the days the loop of `lastRunDate`
 * re-read (its metrics and attribution lookbacks) with what the database holds. Call it with the
 * sandbox clock still on `lastRunDate` and every fault off: then the sources answer as they did
 * to that run, so any difference was lost on the way.
 */
export async function auditMetrics(
  sandbox: Sandbox,
  db: Db,
  o: {
    lastRunDate: string;
    markets: string[];
    metricsLookbackDays: number;
    attributionLookbackDays: number;
    /** Markets whose run reported a source unreadable: its rows there are not counted lost. */
    excused?: Map<string, { delivery: boolean; attribution: boolean }>;
  },
): Promise<MetricsAudit> {
  const until = addDays(o.lastRunDate, -1);
  const metaSince = addDays(o.lastRunDate, -o.metricsLookbackDays);
  const meta = createMetaAds({ graphUrl: sandbox.metaUrl, ...sandbox.credentials, governor: null });
  const tiktok = createTikTokAds({ baseUrl: sandbox.tiktokUrl, ...sandbox.tiktokCredentials });
  const marketOf = (name: string) => parseAdName(name)?.market ?? '';
  const ours = (name: string) =>
    o.markets.includes(marketOf(name)) && !o.excused?.get(marketOf(name))?.delivery;
  const delivery: DeliveryRow[] = [];
  const counts = (r: DeliveryCounts) => [
    r.impressions,
    r.clicks,
    r.spendMicros,
    r.installs,
    r.registrations,
    r.subscriptions,
  ];
  for (const adset of sandbox.meta.store.list('adset', sandbox.credentials.adAccountId.slice(4))) {
    const rows = await meta.insights({ since: metaSince, until, adsetId: adset.id });
    for (const r of rows.filter((x) => ours(x.adName)))
      delivery.push({ platform: 'meta', adId: r.adId, date: r.date, numbers: counts(r) });
  }
  for (const group of sandbox.tiktok.store.list(
    'adgroup',
    sandbox.tiktokCredentials.advertiserId,
  )) {
    const rows = await tiktok.insights({ since: metaSince, until, adGroupId: group.id });
    for (const r of rows.filter((x) => ours(x.adName)))
      delivery.push({ platform: 'tiktok', adId: r.adId, date: r.date, numbers: counts(r) });
  }
  const storedDelivery = await db
    .selectFrom('ad_metrics_daily')
    .select([
      'platform',
      'ad_id',
      sql<string>`date::text`.as('date'),
      'impressions',
      'clicks',
      'spend_micros',
      'installs',
      'registrations',
      'subscriptions',
    ])
    .where('date', '>=', metaSince)
    .where('date', '<=', until)
    .execute();

  const mmp = createMmp({
    provider: 'adjust',
    baseUrl: sandbox.adjustUrl,
    ...sandbox.world.mmp.adjust,
  });
  const campaigns = new Set(
    o.markets.filter((m) => !o.excused?.get(m)?.attribution).map((m) => metaCampaignName(m)),
  );
  const attributionSince = addDays(o.lastRunDate, -o.attributionLookbackDays);
  const attributed: AttributionRowKey[] = (
    await mmp.attribution({ since: attributionSince, until })
  )
    .filter((r) => campaigns.has(r.campaign))
    .map((r) => ({
      key: [
        r.date,
        r.campaignId,
        r.aggregated ? '' : r.adGroupId,
        r.aggregated ? '' : r.creativeId,
        r.os,
      ].join('|'),
      numbers: [r.installs, r.registrations, r.subscriptions],
    }));
  const storedAttribution = (
    await db
      .selectFrom('mmp_attribution')
      .select([
        sql<string>`date::text`.as('date'),
        'campaign_id',
        'ad_group_id',
        'creative_id',
        'os',
        'installs',
        'registrations',
        'subscriptions',
      ])
      .where('source', '=', 'adjust')
      .where('date', '>=', attributionSince)
      .where('date', '<=', until)
      .execute()
  ).map((r) => ({
    key: [r.date, r.campaign_id, r.ad_group_id ?? '', r.creative_id ?? '', r.os].join('|'),
    numbers: [r.installs, r.registrations, r.subscriptions].map(Number),
  }));

  return {
    delivery: diffRows(
      delivery,
      storedDelivery.map((r) => ({
        platform: r.platform,
        adId: r.ad_id,
        date: r.date,
        numbers: [
          r.impressions,
          r.clicks,
          r.spend_micros,
          r.installs,
          r.registrations,
          r.subscriptions,
        ].map(Number),
      })),
      (r) => `${r.platform}|${r.adId}|${r.date}`,
      (r) => r.numbers,
    ),
    attribution: diffRows(
      attributed,
      storedAttribution,
      (r) => r.key,
      (r) => r.numbers,
    ),
    deliveryRows: delivery.length,
    attributionRows: attributed.length,
  };
}
