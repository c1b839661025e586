// What a chaos scenario checks once the dust has settled, against the sandbox's own truth:
// - duplicate ads: an ad name created twice, or two live ads of one creative in one ad set (on
//   Google an ad is a creative's image asset linked to its ad group's app ad);
// - duplicate objects: campaigns, ad sets and ad groups, creatives, and on Google campaign
//   budgets, assets and YouTube videos, made twice under one name;
// - lost metric rows: delivery rows the platforms report (Meta and TikTok insights, Google's
//   per-asset reporting) and rows the MMP attributes that are not in the database, or are there
//   with other numbers, over the days the last loop re-read.
// The audit trusts nothing of adloop's: no client of platforms/ is used. Its truth comes straight
// from the sandbox, computed by the same code its servers answer with:
// - delivery: each platform server's DeliveryLog (the Meta account's reporting, TikTok's and
//   Google's deliveriesOn) as its insights endpoint reports it on the sandbox's today (reporting.ts
//   asReported), in the account currency;
// - attribution: the MMP view the Adjust server renders (mmp/attribution.ts attributedRange), with
//   the Adjust server's live delay fault, keyed as Adjust names rows (campaign, ad group and
//   creative ids; iOS postbacks campaign-level).
// A parsing or paging bug in adloop's clients therefore shows up here as a lost row instead of
// hiding itself. The comparisons are pure functions.
import { sql } from 'kysely';
import { addDays, dateRange } from '../../core/dates.ts';
import { parseAdName } from '../../core/ids.ts';
import { minorDigits } from '../../core/money.ts';
import type { Db } from '../../db/database.ts';
import type { AttributedDelivery } from '../../sandbox/contracts.ts';
import type { Sandbox } from '../../sandbox/index.ts';
import type { World } from '../../sandbox/world.ts';
import { attributedRange, type MmpAttribution } from '../../sandbox/mmp/attribution.ts';
import { asReported } from '../../sandbox/reporting.ts';

export interface PlatformAd {
  platform: 'meta' | 'tiktok' | 'google';
  id: string;
  name: string;
  /**
   * Delivering (ACTIVE on Meta, ENABLE on TikTok; on Google linked to an ENABLED app ad).
   */
  live: boolean;
  /**
   * Deleted (DELETED on Meta, DELETE on TikTok): what deploy does to a twin. Google's assets
   * cannot be removed: never.
   */
  deleted: boolean;
}

/** The parts of an app ad (ad_group_ad.ad.app_ad) the audit reads, in the sandbox's stored form. */
interface StoredAppAd {
  app_ad?: { images?: Array<{ asset?: unknown }> };
}

/**
 * adloop's ads on Google: each creative's image asset (named like an ad, core/ids.ts), live when
 * an ENABLED, not removed app ad links it (pausing an ad unlinks it: google-target.ts).
 */
function googleAds(sandbox: Sandbox): PlatformAd[] {
  const { store } = sandbox.google;
  const customer = sandbox.world.google.customerId;
  const linked = new Set(
    store
      .list(
        'ad_group_ad',
        customer,
        (a) => a.fields._removed !== true && a.fields.status === 'ENABLED',
      )
      .flatMap((a) => (a.fields.ad as StoredAppAd | undefined)?.app_ad?.images ?? [])
      .map((l) => String(l.asset)),
  );
  return store
    .list('asset', customer, (a) => a.fields.type === 'IMAGE')
    .map((a) => ({
      platform: 'google' as const,
      id: a.id,
      name: typeof a.fields.name === 'string' ? a.fields.name : '',
      live: linked.has(String(a.fields.resource_name)),
      deleted: false,
    }));
}

/** Every ad adloop manages in the sandbox accounts, every platform, from the platforms' stores. */
export function platformAds(sandbox: Sandbox): PlatformAd[] {
  const meta = sandbox.world.metaAccounts.flatMap((account) =>
    sandbox.meta.store.list('ad', account.id.slice('act_'.length)).map((a) => ({
      platform: 'meta' as const,
      id: a.id,
      name: String(a.fields.name),
      live: a.fields.status === 'ACTIVE',
      deleted: a.fields.status === 'DELETED',
    })),
  );
  const tiktok = sandbox.tiktok.store
    .list('ad', sandbox.tiktokCredentials.advertiserId)
    .map((a) => ({
      platform: 'tiktok' as const,
      id: a.id,
      name: String(a.fields.ad_name),
      live: a.fields.operation_status === 'ENABLE',
      deleted: a.fields.operation_status === 'DELETE',
    }));
  return [...meta, ...tiktok, ...googleAds(sandbox)].filter((a) => parseAdName(a.name) !== null);
}

/** Ids of the ads the platforms delivered anything for on `dates` (their own delivery records). */
export function deliveredAds(sandbox: Sandbox, dates: readonly string[]): Set<string> {
  return new Set(
    dates.flatMap((d) => [
      ...sandbox.meta.deliveriesOn(d).map((x) => x.adId),
      ...sandbox.tiktok.deliveriesOn(d).map((x) => x.adId),
      ...sandbox.google.deliveriesOn(d).map((x) => x.adId),
    ]),
  );
}

/** Twins adloop deleted before they delivered anything (a write that landed late): no harm done. */
function harmlessTwin(ad: PlatformAd, delivered: ReadonlySet<string>): boolean {
  return ad.deleted && !ad.live && !delivered.has(ad.id);
}

/**
 * Ads that should not exist: every extra ad under a name already used (a create that was retried
 * after it had succeeded), unless adloop deleted it before it delivered anything, plus every extra
 * live ad showing a creative that another live ad of the same ad set already shows.
 */
export function duplicateAds(ads: readonly PlatformAd[], delivered: ReadonlySet<string>): number {
  const counted = ads.filter((a) => !harmlessTwin(a, delivered));
  const byName = new Map<string, PlatformAd>();
  for (const ad of counted) {
    const key = `${ad.platform}|${ad.name}`;
    const seen = byName.get(key);
    if (!seen || (ad.live && !seen.live)) byName.set(key, ad);
  }
  const sameName = counted.length - byName.size;
  const live = [...byName.values()].filter((a) => a.live);
  const shown = new Set(
    live.map((a) => {
      const p = parseAdName(a.name)!;
      return `${a.platform}|${p.adSet ?? p.market}|${p.creativeHash}`;
    }),
  );
  return sameName + (live.length - shown.size);
}

/** Twins made (a name used twice) that adloop deleted before they delivered: reported, not lost. */
export function removedTwins(ads: readonly PlatformAd[], delivered: ReadonlySet<string>): number {
  const names = new Set(
    ads.filter((a) => !harmlessTwin(a, delivered)).map((a) => `${a.platform}|${a.name}`),
  );
  return ads.filter((a) => harmlessTwin(a, delivered) && names.has(`${a.platform}|${a.name}`))
    .length;
}

/** The YouTube channel of the sandbox's Google OAuth user (sandbox/google/google-server.ts). */
const youtubeChannel = (sandbox: Sandbox) => `UC${sandbox.world.google.customerId}`;

/**
 * Google objects adloop names uniquely, one entry per object: live (not removed) campaign
 * budgets, campaigns and ad groups (a campaign, its budget and its ad group share the segment's
 * name), every asset (assets cannot be removed), every video uploaded to the channel (by title).
 */
export function googleObjectNames(sandbox: Sandbox): string[] {
  const { store } = sandbox.google;
  const customer = sandbox.world.google.customerId;
  const live = (o: { fields: Record<string, unknown> }) =>
    o.fields._removed !== true && o.fields.status !== 'REMOVED';
  return [
    ...(['campaign_budget', 'campaign', 'ad_group'] as const).flatMap((type) =>
      store.list(type, customer, live).map((o) => `google ${type} ${String(o.fields.name)}`),
    ),
    ...store
      .list('asset', customer)
      .map((o) => `google asset ${typeof o.fields.name === 'string' ? o.fields.name : ''}`),
    ...store
      .list('youtube_video', youtubeChannel(sandbox))
      .map((o) => `google youtube_video ${String(o.fields.title)}`),
  ];
}

/** How many names of a list are there more than once (each extra one counts). */
export function extraNames(names: readonly string[]): number {
  const ours = names.filter((n) => n.includes('adloop/'));
  return ours.length - new Set(ours).size;
}

/**
 * Objects adloop names uniquely that exist more than once under one name: campaigns, ad sets and
 * ad groups, Meta ad creatives, Google campaign budgets, assets and YouTube videos (a create
 * retried after it had in fact succeeded).
 */
export function duplicateObjects(sandbox: Sandbox): number {
  const advertiser = sandbox.tiktokCredentials.advertiserId;
  const names = [
    ...sandbox.world.metaAccounts.flatMap((a) =>
      (['campaign', 'adset', 'adcreative'] as const).flatMap((type) =>
        sandbox.meta.store
          .list(type, a.id.slice('act_'.length))
          .map((o) => `meta ${a.id} ${type} ${String(o.fields.name)}`),
      ),
    ),
    ...sandbox.tiktok.store
      .list('campaign', advertiser)
      .map((o) => `tiktok campaign ${String(o.fields.campaign_name)}`),
    ...sandbox.tiktok.store
      .list('adgroup', advertiser)
      .map((o) => `tiktok adgroup ${String(o.fields.adgroup_name)}`),
    ...googleObjectNames(sandbox),
  ];
  return extraNames(names);
}

export interface RowDiff {
  /** Rows the source has and the database does not. */
  missing: number;
  /** Rows stored with other numbers than the source's. */
  differing: number;
  /** A few of them, for the report. */
  examples: string[];
}

/**
 * Compares the source's rows with the stored ones by key; extra stored rows are not losses. With
 * `atLeast` (a source known to be behind), a stored number above the source's is no loss either:
 * adloop keeps what a fuller, earlier read stored (decisions/ingest/mmp-behind.ts).
 */
export function diffRows<T>(
  truth: readonly T[],
  stored: readonly T[],
  key: (row: T) => string,
  values: (row: T) => ReadonlyArray<number | string>,
  o: { atLeast?: boolean } = {},
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
    } else if (
      got.some((v, i) =>
        o.atLeast && typeof v === 'number' && typeof want[i] === 'number'
          ? v < want[i]
          : v !== want[i],
      )
    ) {
      out.differing++;
      if (out.examples.length < 5)
        out.examples.push(`${k}: stored ${got.join('/')}, source ${want.join('/')}`);
    }
  }
  return out;
}

/** A row of a source or of the database: its key and the numbers compared. */
export interface AuditRow {
  key: string;
  values: ReadonlyArray<number | string>;
}

/** ad_metrics_daily's key: one ad's day on one platform. */
const deliveryKey = (platform: string, adId: string, date: string) => `${platform}|${adId}|${date}`;

/** mmp_attribution's key (without the source): iOS postbacks have no ad group or creative. */
const attributionKey = (
  date: string,
  campaignId: string,
  adGroupId: string | null,
  creativeId: string | null,
  os: string,
) => [date, campaignId, adGroupId ?? '', creativeId ?? '', os].join('|');

/**
 * One ad's day as its platform's insights endpoint reports it when read on `today`, in the columns
 * adloop stores: impressions, clicks, spend_micros, installs, registrations, subscriptions and the
 * currency of the spend.
 *
 * - Counts: both servers report the day scaled by its completeness (sandbox/reporting.ts
 *   asReported over the world's reportingDelayDays), and both report the Delivery's own totals as
 *   the ad's conversions: Meta's `actions` mobile_app_install, fb_mobile_complete_registration and
 *   Subscribe (meta/graph-reporting.ts), TikTok's app_install, registration and subscribe
 *   (tiktok/tiktok-reporting.ts). These are the platform's numbers, not the MMP's.
 * - Spend: the servers send the minor units as a major-unit decimal of the account's currency,
 *   and adloop stores micros of that same currency, unconverted, next to its code (the ingest
 *   readers: `spend` x 10^6). So the expected micros are spendMinor x 10^(6 - the currency's
 *   minor digits). The digits come from core/money.ts's ISO 4217 table, which is not adloop's
 *   reading path but the sandbox's own currency handling: both reporting modules write `spend`
 *   with that very table (fromMinorUnits, minorDigits), so it gives exactly the digits the wire
 *   carried. Whether the table matches ISO 4217 is core's own tests' business; a wrong entry would
 *   move the wire and this truth alike, and lose no row.
 */
export function reportedDelivery(
  row: AttributedDelivery,
  currency: string,
  today: string,
  reportingDelayDays: number,
): AuditRow {
  const d = asReported(row.delivery, today, reportingDelayDays);
  return {
    key: deliveryKey(row.platform, row.adId, d.date),
    values: [
      d.impressions,
      d.clicks,
      d.spendMinor * 10 ** (6 - minorDigits(currency)),
      d.installs,
      d.registrations,
      d.subscriptions,
      currency,
    ],
  };
}

/** What Google's reporting needs to know of the customer: its currency and conversion actions. */
export interface GoogleReportingSettings {
  currency: string;
  conversionActions: ReadonlyArray<Pick<World['google']['conversionActions'][number], 'counts'>>;
}

/**
 * One asset's day as Google's own reporting states it when read on `today`, in adloop's columns,
 * or null when Google leaves it out. Google reports per asset of an App ad
 * (sandbox/google/google-reporting.ts, ad_group_ad_asset_view): metrics.cost_micros in the
 * customer's currency (the same micros reportedDelivery expects), and conversions per conversion
 * action, each action counting its funnel stage; adloop adds up the actions its accounts file
 * names for each stage (sandbox/accounts.ts names them all), so a stage counted by two actions is
 * counted twice, as Google reports it. A day whose impressions round to 0 and with no conversion
 * has no row in Google's reports (the sandbox omits all-zero rows, as Google does).
 */
export function reportedGoogleDelivery(
  row: AttributedDelivery,
  google: GoogleReportingSettings,
  today: string,
  reportingDelayDays: number,
): AuditRow | null {
  const base = reportedDelivery(row, google.currency, today, reportingDelayDays);
  const d = asReported(row.delivery, today, reportingDelayDays);
  const counted = (stage: 'installs' | 'registrations' | 'subscriptions') =>
    d[stage] * google.conversionActions.filter((a) => a.counts === stage).length;
  const conversions = [counted('installs'), counted('registrations'), counted('subscriptions')];
  if (d.impressions === 0 && conversions.every((n) => n === 0)) return null;
  const [impressions, clicks, spend] = base.values;
  return {
    key: base.key,
    values: [impressions!, clicks!, spend!, ...conversions, google.currency],
  };
}

/** Campaign names adloop writes, `adloop/<market>` (Meta, TikTok) or a segment's (Google). */
const campaignMarket = (name: string) => /^adloop\/([A-Z]{2})(?:\/|$)/.exec(name)?.[1];

/**
 * An attributed row as the Adjust server reports it (mmp/adjust-server.ts), keyed as adloop
 * stores it in mmp_attribution: campaign_id_network is the platform's campaign id, and on Android
 * rows adgroup_id_network and creative_id_network are the ad set / ad group id and the platform's
 * ad id, with the device-level metrics (installs, registration_events, subscription_events). iOS
 * rows are SKAdNetwork postbacks per campaign and day, ad group and creative `unknown` (stored as
 * null), with skad_installs and the `_events_est` counts. The keys are unique: Android rows are
 * per ad and day, iOS rows per campaign and day, and Meta's, TikTok's and Google's ids never
 * collide.
 */
export function reportedAttribution(r: MmpAttribution): AuditRow {
  return {
    key: attributionKey(
      r.date,
      r.campaignId,
      r.aggregated ? null : r.adGroupId,
      r.aggregated ? null : r.adId,
      r.os,
    ),
    values: [r.installs, r.registrations, r.subscriptions],
  };
}

/**
 * What the platform servers delivered on each day of [since, until] (capped at the sandbox's
 * today, as their reports are), with the currency it was spent in: every Meta ad account's
 * reporting, the TikTok advertiser's and the Google customer's (per asset).
 */
export function platformDeliveries(
  sandbox: Sandbox,
  since: string,
  until: string,
): Array<{ row: AttributedDelivery; currency: string }> {
  const today = sandbox.clock.today();
  const last = until < today ? until : today;
  if (since > last) return [];
  const out: Array<{ row: AttributedDelivery; currency: string }> = [];
  for (const date of dateRange(since, last)) {
    for (const account of sandbox.meta.accounts.values())
      for (const row of sandbox.meta.reporting.deliveriesOn(account, date))
        out.push({ row, currency: account.currency });
    for (const row of sandbox.tiktok.deliveriesOn(date))
      out.push({ row, currency: sandbox.world.tiktok.currency });
    for (const row of sandbox.google.deliveriesOn(date))
      out.push({ row, currency: sandbox.world.google.currency });
  }
  return out;
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
 * sandbox clock still on `lastRunDate` and every fault off, or on when the fault is what the
 * sources report that day (the Adjust delay is honoured as its server honours it): then the
 * sources answer as they did to that run, so any difference was lost on the way.
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
    /**
     * The MMP is behind today (a fault that changes what it reports): stored attribution must be
     * at least what it answers, not equal (adloop keeps fuller rows of an earlier read).
     */
    mmpBehind?: boolean;
  },
): Promise<MetricsAudit> {
  const today = sandbox.clock.today();
  const until = addDays(o.lastRunDate, -1);

  // Delivery: adloop's ads (by the naming contract) of the audited markets.
  const metricsSince = addDays(o.lastRunDate, -o.metricsLookbackDays);
  const audited = (market: string | undefined, source: 'delivery' | 'attribution') =>
    market !== undefined && o.markets.includes(market) && !o.excused?.get(market)?.[source];
  const delay = sandbox.world.truth.reportingDelayDays;
  const delivery = platformDeliveries(sandbox, metricsSince, until)
    .filter(({ row }) => audited(parseAdName(row.adName)?.market, 'delivery'))
    .flatMap(({ row, currency }) => {
      const r =
        row.platform === 'google'
          ? reportedGoogleDelivery(row, sandbox.world.google, today, delay)
          : reportedDelivery(row, currency, today, delay);
      return r ? [r] : [];
    });
  const storedDelivery = (
    await db
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
        'currency',
      ])
      .where('date', '>=', metricsSince)
      .where('date', '<=', until)
      .execute()
  ).map((r): AuditRow => ({
    key: deliveryKey(r.platform, r.ad_id, r.date),
    values: [
      ...[
        r.impressions,
        r.clicks,
        r.spend_micros,
        r.installs,
        r.registrations,
        r.subscriptions,
      ].map(Number),
      r.currency,
    ],
  }));

  // Attribution: what the Adjust server answers for the range now, from the same view and
  // sources it was built with (startSandbox: Meta, TikTok, Google), with its live delay fault, for
  // adloop's campaigns of the audited markets (on Meta and TikTok one per market, `adloop/<m>`;
  // on Google one per segment, named as its ad group: the naming contract, core/ids.ts).
  const attributionSince = addDays(o.lastRunDate, -o.attributionLookbackDays);
  const attributed = attributedRange(
    sandbox.world,
    [sandbox.meta, sandbox.tiktok, sandbox.google],
    attributionSince,
    until,
    today,
    { extraDelayDays: sandbox.mmp.faults.adjust.delayDays },
  )
    .filter((r) => audited(campaignMarket(r.campaignName), 'attribution'))
    .map(reportedAttribution);
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
  ).map((r): AuditRow => ({
    key: attributionKey(r.date, r.campaign_id, r.ad_group_id, r.creative_id, r.os),
    values: [r.installs, r.registrations, r.subscriptions].map(Number),
  }));

  const byKey = (r: AuditRow) => r.key;
  const values = (r: AuditRow) => r.values;
  return {
    delivery: diffRows(delivery, storedDelivery, byKey, values),
    attribution: diffRows(attributed, storedAttribution, byKey, values, {
      atLeast: o.mmpBehind ?? false,
    }),
    deliveryRows: delivery.length,
    attributionRows: attributed.length,
  };
}
