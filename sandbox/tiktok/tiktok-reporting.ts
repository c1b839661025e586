// What the advertiser's ads delivered, day by day, as the simulator decides it (each day with the
// statuses and ad group budgets it had, so a later change never rewrites a reported day), and
// report/integrated/get over it. The work of a report is bounded before any of it is done: dates
// must exist, the range is at most 365 days (30 with stat_time_day), and only days between the
// first ad and today are simulated.
import { dateRange, daysBetween } from '../../core/dates.ts';
import { fromMinorUnits, minorDigits } from '../../core/money.ts';
import { countryOfLocationId } from '../../platforms/tiktok/locations.ts';
import type {
  AttributedDelivery,
  Delivery,
  DeliveryModel,
  Os,
  SandboxClock,
  SimAd,
} from '../contracts.ts';
import { contentFromLink } from '../deep-link.ts';
import { parseMaybeJson } from '../http.ts';
import { aspectRatio } from '../media.ts';
import { addDelivery, asReported, budgetChanges, emptyTally } from '../reporting.ts';
import { reviewState } from '../review.ts';
import type { World } from '../world.ts';
import { tiktokErrors } from './tiktok-errors.ts';
import { page } from './tiktok-objects.ts';
import * as P from './tiktok-params.ts';
import type { Params } from './tiktok-params.ts';
import * as R from './tiktok-rules.ts';
import type { TikTokObject, TikTokStore } from './tiktok-store.ts';

/** operating_systems values of an ad group, and the simulator's OS segment each reaches. */
const OS_SEGMENT: Record<string, Os> = { IOS: 'ios', ANDROID: 'android' };

/**
 * Report metrics the sandbox computes, by TikTok's names. The simulator's funnel maps to them so:
 *   installs      → app_install, real_time_app_install (and `conversion` when the ad group
 *                   optimises for INSTALL, the default)
 *   registrations → registration, total_registration (the app event "Registration"; the
 *                   simulator counts each user once, so unique and total agree)
 *   subscriptions → subscribe, total_subscribe (the app event "Subscribe")
 * `conversion` counts the ad group's optimisation event: registrations for IN_APP_EVENT with
 * optimization_event ACTIVE_REGISTER, subscriptions for SUBSCRIBE / ACTIVE_PAY, installs otherwise.
 * Money is in the advertiser's currency, as a decimal string in its minor digits (JPY has none);
 * ctr and *_rate are percentages.
 */
const COUNT_METRICS = new Set([
  'spend',
  'impressions',
  'clicks',
  'ctr',
  'cpc',
  'cpm',
  'conversion',
  'cost_per_conversion',
  'conversion_rate',
  'app_install',
  'real_time_app_install',
  'cost_per_app_install',
  'registration',
  'total_registration',
  'cost_per_registration',
  'subscribe',
  'total_subscribe',
  'cost_per_subscribe',
]);
type DataLevel = 'AUCTION_AD' | 'AUCTION_ADGROUP' | 'AUCTION_CAMPAIGN' | 'AUCTION_ADVERTISER';
/** Attribute metrics: names of the objects a row belongs to, valid at and below their level. */
const ATTRIBUTE_METRICS: Record<string, DataLevel[]> = {
  ad_name: ['AUCTION_AD'],
  adgroup_id: ['AUCTION_AD'],
  adgroup_name: ['AUCTION_AD', 'AUCTION_ADGROUP'],
  campaign_id: ['AUCTION_AD', 'AUCTION_ADGROUP'],
  campaign_name: ['AUCTION_AD', 'AUCTION_ADGROUP', 'AUCTION_CAMPAIGN'],
  currency: ['AUCTION_AD', 'AUCTION_ADGROUP', 'AUCTION_CAMPAIGN', 'AUCTION_ADVERTISER'],
};
const LEVEL_ID: Record<DataLevel, string> = {
  AUCTION_AD: 'ad_id',
  AUCTION_ADGROUP: 'adgroup_id',
  AUCTION_CAMPAIGN: 'campaign_id',
  AUCTION_ADVERTISER: 'advertiser_id',
};

const ratio = (num: number, den: number, scale = 1) =>
  den > 0 ? ((num / den) * scale).toFixed(2) : '0.00';

interface Totals {
  spend: number;
  imp: number;
  clk: number;
  inst: number;
  reg: number;
  sub: number;
  conv: number;
}

export class TikTokReporting {
  constructor(
    private readonly world: World,
    private readonly simulator: DeliveryModel,
    private readonly store: TikTokStore,
    private readonly clock: SandboxClock,
  ) {}

  private get advertiserId() {
    return this.world.tiktok.advertiserId;
  }

  private get currency() {
    return this.world.tiktok.currency;
  }

  simAd(ad: TikTokObject): SimAd {
    const group = this.store.get(String(ad.fields.adgroup_id), 'adgroup');
    // An ad group targets one market in adloop; with several countries the first one counts.
    const location = (group?.fields.location_ids as string[] | undefined)?.[0];
    const imageId = (ad.fields.image_ids as string[] | undefined)?.[0];
    const media =
      typeof ad.fields.video_id === 'string'
        ? this.store.get(ad.fields.video_id, 'video')
        : imageId
          ? this.store.get(imageId, 'image')
          : undefined;
    return {
      id: ad.id,
      platform: 'tiktok',
      market: (location && countryOfLocationId(location)) ?? '',
      aspectRatio: aspectRatio(Number(media?.fields.width), Number(media?.fields.height)),
      createdDate: ad.statusLog?.[0]?.date ?? this.clock.today(),
      ...contentFromLink(ad.fields.landing_page_url ?? ad.fields.deeplink),
    };
  }

  /** Every ad's delivery on `date`: each enabled ad group splits its budget over its enabled ads. */
  deliveries(date: string): Array<{ ad: TikTokObject; delivery: Delivery }> {
    if (date > this.clock.today()) return [];
    const out: Array<{ ad: TikTokObject; delivery: Delivery }> = [];
    const scale = 10 ** minorDigits(this.currency);
    for (const group of this.store.list('adgroup', this.advertiserId)) {
      const campaign = this.store.get(String(group.fields.campaign_id), 'campaign');
      if (this.store.statusOn(group, date) !== 'ENABLE') continue;
      if (!campaign || this.store.statusOn(campaign, date) !== 'ENABLE') continue;
      const live = this.store.list(
        'ad',
        this.advertiserId,
        (a) =>
          a.fields.adgroup_id === group.id &&
          this.store.statusOn(a, date) === 'ENABLE' &&
          // Ads in review or not approved deliver nothing.
          reviewState(a.review) === 'APPROVED',
      );
      if (live.length === 0) continue;
      // Budgets are in the advertiser currency's major units on the wire; the simulator spends
      // its minor units (cents; yen, which have none). A day spends the budget the ad group had
      // at its end, and large changes before it make the ad group relearn.
      const toMinor = (budget: unknown) => Math.round(Number(budget) * scale);
      const systems = (group.fields.operating_systems as string[] | undefined) ?? [];
      const deliveries = this.simulator.deliverAdSet(
        toMinor(this.store.fieldOn(group, 'budget', date)),
        live.map((a) => this.simAd(a)),
        date,
        group.id,
        systems.length > 0 ? systems.map((os) => OS_SEGMENT[os]!) : undefined,
        budgetChanges(this.store.dailyValues(group, 'budget'), toMinor),
      );
      deliveries.forEach((delivery, i) => out.push({ ad: live[i]!, delivery }));
    }
    return out;
  }

  /** DeliveryLog: what this platform delivered on `date`, for the MMP servers. */
  deliveriesOn(date: string): AttributedDelivery[] {
    return this.deliveries(date).map(({ ad, delivery }) => ({
      platform: 'tiktok',
      market: this.simAd(ad).market,
      campaignId: String(ad.fields.campaign_id),
      campaignName: typeof ad.fields.campaign_name === 'string' ? ad.fields.campaign_name : '',
      adGroupId: String(ad.fields.adgroup_id),
      adGroupName: typeof ad.fields.adgroup_name === 'string' ? ad.fields.adgroup_name : '',
      adId: ad.id,
      adName: String(ad.fields.ad_name),
      delivery,
    }));
  }

  /** The first day any ad of the advertiser existed: nothing was delivered before it. */
  private firstAdDate(): string | null {
    let first: string | null = null;
    for (const a of this.store.list('ad', this.advertiserId)) {
      const d = a.statusLog?.[0]?.date;
      if (d && (first === null || d < first)) first = d;
    }
    return first;
  }

  /** report/integrated/get ([page Reporting/Run_a_synchronous_report__9644f3cd.json]). */
  report(p: Params): unknown {
    P.oneOf(p, 'report_type', new Set(['BASIC']));
    const level = P.oneOf(p, 'data_level', new Set(Object.keys(LEVEL_ID))) as DataLevel;
    const idDim = LEVEL_ID[level];
    const dims = P.strings(p, 'dimensions', { required: true, max: 4 })!;
    for (const d of dims)
      if (d !== idDim && d !== 'stat_time_day' && d !== 'country_code')
        throw tiktokErrors.invalidField(
          'dimensions',
          `${d} is not a valid dimension for data_level ${level}; use ${idDim}, stat_time_day, country_code.`,
        );
    const daily = dims.includes('stat_time_day');
    // metrics: default ["spend", "impressions"].
    const metrics = P.strings(p, 'metrics', { max: 100 }) ?? ['spend', 'impressions'];
    for (const m of metrics) {
      const attr = ATTRIBUTE_METRICS[m];
      if (attr ? !attr.includes(level) : !COUNT_METRICS.has(m))
        throw tiktokErrors.invalidField('metrics', `${m} is not a valid metric for ${level}.`);
    }
    // page_size: "Value range: 1-1,000"; checked before any work.
    P.int(p, 'page', 1, 1, 1_000_000);
    P.int(p, 'page_size', R.PAGE_SIZE.fallback, 1, R.PAGE_SIZE.max);
    const today = this.clock.today();
    let since: string;
    let until: string;
    if (P.bool(p, 'query_lifetime', false)) {
      // query_lifetime: "Breakdown by time ... Breakdown by location code (country_code) is not
      // supported when querying for lifetime metrics."
      if (daily || dims.includes('country_code'))
        throw tiktokErrors.invalidField(
          'dimensions',
          'stat_time_day and country_code are not supported with query_lifetime.',
        );
      since = this.firstAdDate() ?? today;
      until = today;
    } else {
      // start_date, end_date: "Required when query_lifetime is false", YYYY-MM-DD, real days.
      since = P.date(p, 'start_date');
      until = P.date(p, 'end_date');
      if (until < since)
        throw tiktokErrors.invalidField('end_date', 'Must not be earlier than start_date.');
      const limit = daily ? R.MAX_DAILY_REPORT_DAYS : R.MAX_REPORT_DAYS;
      if (daysBetween(since, until) + 1 > limit)
        throw tiktokErrors.invalidField(
          'end_date',
          `The time range can be at most ${limit} days${daily ? ' with stat_time_day' : ''}.`,
        );
    }
    const keep = this.reportFilter(p);
    // Only days with ads can hold deliveries: from the first ad to today at most.
    const first = this.firstAdDate();
    const from = first && first > since ? first : since;
    const to = until < today ? until : today;
    interface Group extends Totals {
      dims: Record<string, string>;
      ad: TikTokObject;
    }
    const groups = new Map<string, Group>();
    if (first !== null && from <= to && daysBetween(from, to) < R.MAX_REPORT_DAYS * 20) {
      for (const date of dateRange(from, to)) {
        for (const { ad, delivery } of this.deliveries(date)) {
          if (!keep(ad)) continue;
          const d = asReported(delivery, today, this.world.truth.reportingDelayDays);
          const values: Record<string, string> = {
            ad_id: ad.id,
            adgroup_id: String(ad.fields.adgroup_id),
            campaign_id: String(ad.fields.campaign_id),
            advertiser_id: this.advertiserId,
            stat_time_day: `${date} 00:00:00`,
            country_code: this.simAd(ad).market,
          };
          const key = dims.map((k) => values[k]).join('|');
          const g = groups.get(key) ?? {
            dims: Object.fromEntries(dims.map((k) => [k, values[k]!])),
            ad,
            ...emptyTally(),
            conv: 0,
          };
          addDelivery(g, d);
          g.conv += this.conversions(ad, d);
          groups.set(key, g);
        }
      }
    }
    const scale = 10 ** minorDigits(this.currency);
    const metricValues = (g: Totals, ad: TikTokObject | null) => {
      const major = g.spend / scale;
      const all: Record<string, string> = {
        spend: fromMinorUnits(g.spend, this.currency),
        impressions: String(g.imp),
        clicks: String(g.clk),
        ctr: ratio(g.clk, g.imp, 100),
        cpc: ratio(major, g.clk),
        cpm: ratio(major, g.imp, 1000),
        conversion: String(g.conv),
        cost_per_conversion: ratio(major, g.conv),
        conversion_rate: ratio(g.conv, g.clk, 100),
        app_install: String(g.inst),
        real_time_app_install: String(g.inst),
        cost_per_app_install: ratio(major, g.inst),
        registration: String(g.reg),
        total_registration: String(g.reg),
        cost_per_registration: ratio(major, g.reg),
        subscribe: String(g.sub),
        total_subscribe: String(g.sub),
        cost_per_subscribe: ratio(major, g.sub),
        currency: this.currency,
      };
      if (ad) {
        all.ad_name = String(ad.fields.ad_name);
        all.adgroup_id = String(ad.fields.adgroup_id);
        all.adgroup_name = String(ad.fields.adgroup_name);
        all.campaign_id = String(ad.fields.campaign_id);
        all.campaign_name = String(ad.fields.campaign_name);
      }
      return Object.fromEntries(metrics.map((m) => [m, all[m] ?? '-']));
    };
    // Stable order: by day, then by the objects' creation order.
    const sorted = [...groups.values()].sort(
      (a, b) =>
        (a.dims.stat_time_day ?? '').localeCompare(b.dims.stat_time_day ?? '') ||
        a.ad.seq - b.ad.seq,
    );
    const rows = sorted.map((g) => ({
      dimensions: g.dims,
      metrics: metricValues(g, level === 'AUCTION_ADVERTISER' ? null : g.ad),
    }));
    const paged = page(rows, { page: p.page, page_size: p.page_size });
    if (!P.bool(p, 'enable_total_metrics', false)) return paged;
    const total = sorted.reduce(
      (t, g) => ({
        spend: t.spend + g.spend,
        imp: t.imp + g.imp,
        clk: t.clk + g.clk,
        inst: t.inst + g.inst,
        reg: t.reg + g.reg,
        sub: t.sub + g.sub,
        conv: t.conv + g.conv,
      }),
      { spend: 0, imp: 0, clk: 0, inst: 0, reg: 0, sub: 0, conv: 0 },
    );
    const totals = metricValues(total, null);
    for (const m of Object.keys(ATTRIBUTE_METRICS)) delete totals[m];
    return { ...paged, total_metrics: totals };
  }

  /** The optimisation event count of one delivery (see the metric mapping above). */
  private conversions(ad: TikTokObject, d: Delivery): number {
    const group = this.store.get(String(ad.fields.adgroup_id), 'adgroup');
    if (group?.fields.optimization_goal !== 'IN_APP_EVENT') return d.installs;
    const event = String(group.fields.optimization_event);
    if (event === 'ACTIVE_REGISTER') return d.registrations;
    if (event === 'SUBSCRIBE' || event === 'ACTIVE_PAY') return d.subscriptions;
    return d.installs;
  }

  /** `filtering` of a report: [{field_name, filter_type: IN, filter_value: '["id",…]'}]. */
  private reportFilter(p: Params): (ad: TikTokObject) => boolean {
    const raw = parseMaybeJson(p.filtering);
    if (raw === undefined || raw === null || raw === '') return () => true;
    if (!Array.isArray(raw))
      throw tiktokErrors.invalidField('filtering', 'Must be a list of filters.');
    const fieldOf: Record<string, string> = {
      ad_ids: 'ad_id',
      adgroup_ids: 'adgroup_id',
      campaign_ids: 'campaign_id',
    };
    const tests = raw.map((f: unknown, i) => {
      const filter = (typeof f === 'object' && f !== null ? f : {}) as Params;
      const at = `filtering[${i}]`;
      const name = P.oneOf(filter, 'field_name', new Set(Object.keys(fieldOf)));
      P.oneOf(filter, 'filter_type', new Set(['IN']));
      const values = P.strings(
        { [`${at}.filter_value`]: filter.filter_value },
        `${at}.filter_value`,
        {
          required: true,
          max: 100,
        },
      )!;
      const key = fieldOf[name]!;
      return (ad: TikTokObject) =>
        values.includes(key === 'ad_id' ? ad.id : String(ad.fields[key]));
    });
    return (ad) => tests.every((t) => t(ad));
  }
}
