// What the customer's App campaigns delivered, day by day, as the simulator decides it, and the
// rows queries read: every resource's attributes, and per asset, ad group and campaign the metrics
// Google reports (with its reporting delay), split by date and conversion action. Each day an
// enabled campaign with an enabled ad group and app ad spends its budget over the ad's approved
// images and videos (one simulated ad per asset, as App campaigns mix assets themselves). A past
// day is replayed as things stood at the end of that day: the statuses, the budget's amount and
// the ad's asset links then (their dated histories, see google-store.ts), so a later change never
// rewrites a reported day.
import { addDays, dateRange, daysBetween, isCalendarDate } from '../../core/dates.ts';
import { minorDigits } from '../../core/money.ts';
import type {
  AttributedDelivery,
  Delivery,
  DeliveryModel,
  Os,
  SandboxClock,
  SimAd,
} from '../contracts.ts';
import { contentFromLink } from '../deep-link.ts';
import { aspectRatio } from '../media.ts';
import { asReported, budgetChanges } from '../reporting.ts';
import { reviewState, type ReviewDecision } from '../review.ts';
import type { World } from '../world.ts';
import { flatten, type CheckedQuery, type FlatRow } from './gaql.ts';
import {
  publicFields,
  type GoogleAdsAccount,
  type Resource,
  type VideoCatalog,
} from './google-objects.ts';
import * as R from './google-rules.ts';
import {
  appAdLinks,
  datedOn,
  linkHistory,
  type AppAdLinks,
  type GoogleObject,
} from './google-store.ts';

const STORE_OS: Record<string, Os> = { APPLE_APP_STORE: 'ios', GOOGLE_APP_STORE: 'android' };

/**
 * Performance labels ([proto enums/asset_performance_label.proto]; [help 7543250 "About asset
 * reports"]: "Pending" while an asset has too little data, "Learning" while Google is still
 * gathering it, then Low, Good or Best against the ad's other assets). The sandbox's thresholds:
 * pending for the first two days, learning under 2,000 impressions, then the asset's conversions
 * per impression against its ad group's: best at 1.2x or more, low under 0.8x.
 */
const LABEL = { pendingDays: 2, learningImpressions: 2_000, best: 1.2, low: 0.8 };

/** Longest span of days one query computes delivery for (ten years). */
const MAX_DAYS = 3_650;

/** The list of an app ad an asset is linked through, and the field type it serves as. */
const LINK_FIELDS = [
  ['images', 'MARKETING_IMAGE'],
  ['youtube_videos', 'YOUTUBE_VIDEO'],
] as const;

/** One asset an app ad links (or linked), with its review. */
export interface AssetLink {
  asset: GoogleObject;
  fieldType: string;
  review: ReviewDecision | undefined;
}

/** One asset's delivery in one ad on one day. */
export interface AssetDelivery {
  campaign: GoogleObject;
  adGroup: GoogleObject;
  adGroupAd: GoogleObject;
  asset: GoogleObject;
  delivery: Delivery;
}

export class GoogleReporting {
  constructor(
    private readonly world: World,
    private readonly simulator: DeliveryModel,
    private readonly account: GoogleAdsAccount,
    private readonly videos: VideoCatalog & { description(id: string): string | null },
    private readonly clock: SandboxClock,
  ) {}

  private get store() {
    return this.account.store;
  }
  private get customerId() {
    return this.world.google.customerId;
  }
  private get microsPerMinor() {
    return 10 ** (6 - minorDigits(this.world.google.currency));
  }

  private assetByName(name: string): GoogleObject | undefined {
    return this.store.list('asset', this.customerId).find((a) => a.fields.resource_name === name);
  }

  /** The assets of `links`, each with the review the ad keeps for it. */
  private resolve(ad: GoogleObject, links: AppAdLinks): AssetLink[] {
    const reviews = (ad.fields._reviews as Record<string, ReviewDecision> | undefined) ?? {};
    const out: AssetLink[] = [];
    for (const [key, fieldType] of LINK_FIELDS) {
      for (const name of links[key]) {
        const asset = this.assetByName(name);
        if (asset) out.push({ asset, fieldType, review: reviews[name] });
      }
    }
    return out;
  }

  /** The image and video assets an app ad links now (its latest version), each with its review. */
  linkedAssets(ad: GoogleObject): AssetLink[] {
    return this.resolve(ad, appAdLinks((ad.fields.ad as Resource).app_ad as Resource));
  }

  /**
   * The assets an app ad linked at the end of `date` (its link history; none before it existed).
   * When the links changed several times that day, the day's last links count.
   */
  linkedAssetsOn(ad: GoogleObject, date: string): AssetLink[] {
    const links = datedOn(linkHistory(ad), date);
    return links ? this.resolve(ad, links) : [];
  }

  /**
   * Every asset the ad ever linked: those of its latest version (enabled unless the ad was
   * removed), then those whose link was removed (enabled false; the latest removed first), each
   * with the field type of the list it was last in and the review made when it was first linked.
   */
  everLinkedAssets(ad: GoogleObject): Array<AssetLink & { enabled: boolean }> {
    const current = this.linkedAssets(ad);
    const out = current.map((l) => ({ ...l, enabled: ad.fields.status !== 'REMOVED' }));
    const seen = new Set(current.map((l) => String(l.asset.fields.resource_name)));
    const removed: AppAdLinks = { images: [], youtube_videos: [] };
    for (const entry of [...linkHistory(ad)].reverse()) {
      for (const [key] of LINK_FIELDS) {
        for (const name of entry[key]) {
          if (seen.has(name)) continue;
          seen.add(name);
          removed[key].push(name);
        }
      }
    }
    for (const l of this.resolve(ad, removed)) out.push({ ...l, enabled: false });
    return out;
  }

  simAd(asset: GoogleObject, market: string): SimAd {
    const video = (asset.fields.youtube_video_asset as Resource | undefined)?.youtube_video_id;
    let ratio: string | null;
    let content: { artistId: string | null; templateId: string | null } = {
      artistId: null,
      templateId: null,
    };
    if (typeof video === 'string') {
      const v = this.videos.video(video);
      ratio = v ? aspectRatio(v.width, v.height) : null;
      // A video's content: the first https link of its description.
      const link = /https:\/\/\S+/.exec(this.videos.description(video) ?? '')?.[0];
      content = contentFromLink(link);
    } else {
      ratio = typeof asset.fields._ratio === 'string' ? asset.fields._ratio : null;
      content = (asset.fields._content as typeof content | undefined) ?? content;
    }
    return {
      id: asset.id,
      platform: 'google',
      market,
      aspectRatio: ratio,
      createdDate:
        typeof asset.fields._created === 'string' ? asset.fields._created : this.clock.today(),
      ...content,
    };
  }

  /** Every asset's delivery on `date`. */
  deliveries(date: string): AssetDelivery[] {
    if (date > this.clock.today()) return [];
    const out: AssetDelivery[] = [];
    for (const campaign of this.store.list('campaign', this.customerId)) {
      if (this.store.statusOn(campaign, date) !== 'ENABLED') continue;
      const budget = this.store
        .list('campaign_budget', this.customerId)
        .find((b) => b.fields.resource_name === campaign.fields.campaign_budget);
      if (!budget) continue;
      // The amount at the end of the day (a budget created later than its history's first entry
      // cannot serve a campaign before it, so the first entry stands for earlier days), and the
      // amount's history, whose large changes make the campaign's ad groups relearn.
      const toMinor = (micros: unknown) => Math.floor(Number(micros) / this.microsPerMinor);
      const budgetMinor = toMinor(this.store.fieldOn(budget, 'amount_micros', date));
      const history = budgetChanges(this.store.dailyValues(budget, 'amount_micros'), toMinor);
      const setting = campaign.fields.app_campaign_setting as Resource;
      const os = STORE_OS[String(setting.app_store)];
      const market = this.account.marketOf(String(campaign.fields.resource_name));
      for (const group of this.store.list(
        'ad_group',
        this.customerId,
        (g) => g.fields.campaign === campaign.fields.resource_name,
      )) {
        if (this.store.statusOn(group, date) !== 'ENABLED') continue;
        for (const ad of this.store.list(
          'ad_group_ad',
          this.customerId,
          (a) => a.fields.ad_group === group.fields.resource_name,
        )) {
          if (this.store.statusOn(ad, date) !== 'ENABLED') continue;
          // The assets linked that day; those in review or disapproved serve nothing.
          const live = this.linkedAssetsOn(ad, date).filter(
            (l) => reviewState(l.review) === 'APPROVED',
          );
          if (live.length === 0) continue;
          const ds = this.simulator.deliverAdSet(
            budgetMinor,
            live.map((l) => this.simAd(l.asset, market)),
            date,
            group.id,
            os ? [os] : undefined,
            history,
          );
          ds.forEach((delivery, i) =>
            out.push({ campaign, adGroup: group, adGroupAd: ad, asset: live[i]!.asset, delivery }),
          );
        }
      }
    }
    return out;
  }

  /** DeliveryLog: what this platform delivered on `date`, for the MMP servers. */
  deliveriesOn(date: string): AttributedDelivery[] {
    return this.deliveries(date).map((d) => ({
      platform: 'google',
      market: this.account.marketOf(String(d.campaign.fields.resource_name)),
      campaignId: d.campaign.id,
      campaignName: String(d.campaign.fields.name),
      adGroupId: d.adGroup.id,
      adGroupName: String(d.adGroup.fields.name),
      adId: d.asset.id,
      adName: typeof d.asset.fields.name === 'string' ? d.asset.fields.name : d.asset.id,
      delivery: d.delivery,
    }));
  }

  /** The first day any ad group ad existed: nothing was delivered before it. */
  private firstDate(): string | null {
    let first: string | null = null;
    for (const a of this.store.list('ad_group_ad', this.customerId)) {
      const d = a.statusLog?.[0]?.date;
      if (d && (first === null || d < first)) first = d;
    }
    return first;
  }

  /** The days a metrics query covers: its date range, or the account's whole life. */
  private days(q: CheckedQuery): string[] {
    const today = this.clock.today();
    const first = this.firstDate();
    if (first === null) return [];
    // A clock that is not a date (the control endpoint takes any string) would make the day loop
    // run until Date overflows: minutes at 100% CPU. Refused instead, as an internal error.
    if (!isCalendarDate(today))
      throw new Error(`the sandbox clock is not a date: ${String(today)}`);
    let from = q.dateRange && q.dateRange[0] > first ? q.dateRange[0] : first;
    const to = q.dateRange && q.dateRange[1] < today ? q.dateRange[1] : today;
    // All time is at most the last MAX_DAYS days (as performance labels look back).
    if (from <= to && daysBetween(from, to) >= MAX_DAYS) from = addDays(to, 1 - MAX_DAYS);
    return from <= to ? dateRange(from, to) : [];
  }

  /** Deliveries as reported today, day by day over the query's days. */
  private reported(q: CheckedQuery): AssetDelivery[] {
    const today = this.clock.today();
    return this.days(q).flatMap((date) =>
      this.deliveries(date).map((d) => ({
        ...d,
        delivery: asReported(d.delivery, today, this.world.truth.reportingDelayDays),
      })),
    );
  }

  /** The conversion actions the campaign optimises for (metrics.conversions counts only these). */
  private optimised(campaign: GoogleObject): Set<string> {
    const actions = this.account.conversionActions();
    const selected =
      ((campaign.fields.selective_optimization as Resource | undefined)?.conversion_actions as
        string[] | undefined) ?? [];
    if (selected.length > 0) return new Set(selected);
    const goal = String(
      (campaign.fields.app_campaign_setting as Resource).bidding_strategy_goal_type,
    );
    const stage = R.INSTALL_GOALS.has(goal) ? 'installs' : 'registrations';
    return new Set(actions.filter((a) => a.counts === stage).map((a) => a.resource_name));
  }

  private metricsOf(ds: AssetDelivery[], byAction: string | null): FlatRow {
    const actions = this.account.conversionActions();
    let imp = 0;
    let clk = 0;
    let spend = 0;
    let conv = 0;
    let all = 0;
    for (const d of ds) {
      imp += d.delivery.impressions;
      clk += d.delivery.clicks;
      spend += d.delivery.spendMinor;
      const optimised = this.optimised(d.campaign);
      for (const a of actions) {
        if (byAction !== null && a.resource_name !== byAction) continue;
        const n = d.delivery[a.counts as 'installs' | 'registrations' | 'subscriptions'];
        all += n;
        if (optimised.has(a.resource_name)) conv += n;
      }
    }
    return {
      'metrics.impressions': String(imp),
      'metrics.clicks': String(clk),
      'metrics.cost_micros': String(spend * this.microsPerMinor),
      'metrics.conversions': conv,
      'metrics.all_conversions': all,
    };
  }

  /** Rows for a metrics query, grouped by `key` (and date, conversion action when selected). */
  private grouped(
    q: CheckedQuery,
    ds: AssetDelivery[],
    key: (d: AssetDelivery) => string,
    base: (d: AssetDelivery) => FlatRow,
  ): FlatRow[] {
    const byDate = q.segments.has('segments.date');
    const byAction = [...q.segments].some((s) => s.startsWith('segments.conversion_action'));
    const groups = new Map<string, { row: FlatRow; ds: AssetDelivery[] }>();
    for (const d of ds) {
      const k = `${key(d)}|${byDate ? d.delivery.date : ''}`;
      const g = groups.get(k) ?? {
        row: { ...base(d), ...(byDate ? { 'segments.date': d.delivery.date } : {}) },
        ds: [],
      };
      g.ds.push(d);
      groups.set(k, g);
    }
    const rows: FlatRow[] = [];
    for (const g of groups.values()) {
      if (!byAction) {
        const m = this.metricsOf(g.ds, null);
        if (m['metrics.impressions'] !== '0' || Number(m['metrics.all_conversions']) > 0)
          rows.push({ ...g.row, ...m });
        continue;
      }
      for (const a of this.account.conversionActions()) {
        const m = this.metricsOf(g.ds, a.resource_name);
        if (Number(m['metrics.all_conversions']) === 0) continue;
        rows.push({
          ...g.row,
          'segments.conversion_action': a.resource_name,
          'segments.conversion_action_name': a.name,
          'segments.conversion_action_category': a.category,
          'metrics.conversions': m['metrics.conversions'],
          'metrics.all_conversions': m['metrics.all_conversions'],
        });
      }
    }
    return rows;
  }

  private byName(type: 'campaign' | 'ad_group' | 'ad_group_ad' | 'campaign_budget', name: unknown) {
    return this.store.list(type, this.customerId).find((o) => o.fields.resource_name === name);
  }

  /** Attribute rows of an object and the resources it belongs to. */
  private attributes(type: string, obj: GoogleObject): FlatRow {
    const row: FlatRow = {};
    const add = (t: string, o: GoogleObject | undefined) => {
      if (o) flatten(t, publicFields(o.fields), row);
    };
    if (type === 'ad_group_ad') {
      add('ad_group_ad', obj);
      Object.assign(row, this.adPolicy(obj));
      obj = this.byName('ad_group', obj.fields.ad_group) ?? obj;
      type = 'ad_group';
    }
    if (type === 'ad_group') {
      add('ad_group', obj);
      obj = this.byName('campaign', obj.fields.campaign) ?? obj;
      type = 'campaign';
    }
    if (type === 'campaign') {
      add('campaign', obj);
      add('campaign_budget', this.byName('campaign_budget', obj.fields.campaign_budget));
    }
    if (type === 'campaign_criterion' || type === 'campaign_budget' || type === 'asset')
      add(type, obj);
    if (type === 'campaign_criterion')
      add('campaign', this.byName('campaign', obj.fields.campaign));
    return row;
  }

  private adPolicy(ad: GoogleObject): FlatRow {
    const states = this.linkedAssets(ad).map((l) => reviewState(l.review));
    const inReview = states.includes('IN_REVIEW');
    const rejected = states.filter((s) => s === 'REJECTED').length;
    return {
      'ad_group_ad.policy_summary.review_status': inReview ? 'REVIEW_IN_PROGRESS' : 'REVIEWED',
      'ad_group_ad.policy_summary.approval_status': inReview
        ? 'UNKNOWN'
        : rejected === 0
          ? 'APPROVED'
          : rejected === states.length
            ? 'DISAPPROVED'
            : 'APPROVED_LIMITED',
    };
  }

  private customerRow(): FlatRow {
    const g = this.world.google;
    return {
      'customer.resource_name': `customers/${g.customerId}`,
      'customer.id': g.customerId,
      'customer.descriptive_name': `${this.world.app.name} (sandbox)`,
      'customer.currency_code': g.currency,
      'customer.time_zone': g.timeZone,
      'customer.test_account': g.testAccount,
      'customer.manager': false,
      'customer.status': 'ENABLED',
    };
  }

  /** The flat rows a checked query reads, before its WHERE, ORDER BY and LIMIT. */
  rows(q: CheckedQuery): FlatRow[] {
    const cid = this.customerId;
    switch (q.from) {
      case 'customer':
        return [this.customerRow()];
      case 'conversion_action':
        return this.account.conversionActions().map((a) =>
          flatten('conversion_action', {
            resource_name: a.resource_name,
            id: a.id,
            name: a.name,
            type: a.type,
            category: a.category,
            status: a.status,
          }),
        );
      case 'campaign_budget':
      case 'asset':
        return this.store.list(q.from, cid).map((o) => this.attributes(q.from, o));
      case 'campaign_criterion':
        return this.store
          .list('campaign_criterion', cid, (o) => o.fields._removed !== true)
          .map((o) => this.attributes(q.from, o));
      case 'ad_group_ad':
        return this.store.list('ad_group_ad', cid).map((o) => this.attributes('ad_group_ad', o));
      case 'campaign':
      case 'ad_group': {
        const type = q.from;
        if (!q.hasMetrics && !q.segments.has('segments.date'))
          return this.store.list(type, cid).map((o) => this.attributes(type, o));
        const owner = (d: AssetDelivery) => (type === 'campaign' ? d.campaign : d.adGroup);
        return this.grouped(
          q,
          this.reported(q),
          (d) => owner(d).id,
          (d) => this.attributes(type, owner(d)),
        );
      }
      case 'ad_group_ad_asset_view':
        return this.assetViewRows(q);
      case 'ad_group_ad_asset_combination_view':
        return this.combinationRows(q);
      default:
        return [];
    }
  }

  private viewName(ad: GoogleObject, asset: GoogleObject, fieldType: string) {
    const groupId = String(ad.fields.resource_name).split('/').at(-1)!.split('~')[0];
    return `customers/${this.customerId}/adGroupAdAssetViews/${groupId}~${ad.id}~${asset.id}~${fieldType}`;
  }

  private assetViewBase(ad: GoogleObject, link: AssetLink & { enabled: boolean }): FlatRow {
    const state = reviewState(link.review);
    const rejection = link.review?.rejection;
    return {
      ...this.attributes('ad_group_ad', ad),
      ...this.attributes('asset', link.asset),
      'ad_group_ad_asset_view.resource_name': this.viewName(ad, link.asset, link.fieldType),
      'ad_group_ad_asset_view.ad_group_ad': ad.fields.resource_name,
      'ad_group_ad_asset_view.asset': link.asset.fields.resource_name,
      'ad_group_ad_asset_view.field_type': link.fieldType,
      // [proto resources/ad_group_ad_asset_view.proto] enabled: "If false, it means the link once
      // existed but has been removed and is no longer present in the latest version of the ad."
      'ad_group_ad_asset_view.enabled': link.enabled,
      'ad_group_ad_asset_view.policy_summary.review_status':
        state === 'IN_REVIEW' ? 'REVIEW_IN_PROGRESS' : 'REVIEWED',
      'ad_group_ad_asset_view.policy_summary.approval_status':
        state === 'IN_REVIEW' ? 'UNKNOWN' : state === 'REJECTED' ? 'DISAPPROVED' : 'APPROVED',
      'ad_group_ad_asset_view.policy_summary.policy_topic_entries':
        state === 'REJECTED' && rejection
          ? [
              {
                topic: rejection.policy.toUpperCase().replace(/[^A-Z]+/g, '_'),
                type: 'PROHIBITED',
                evidences: [{ text_list: { texts: [rejection.reason] } }],
              },
            ]
          : [],
    };
  }

  private assetViewRows(q: CheckedQuery): FlatRow[] {
    const cid = this.customerId;
    const labels = this.performanceLabels();
    // Every link the ad ever had: removed ones are reported too, with enabled false.
    const links = this.store
      .list('ad_group_ad', cid)
      .flatMap((ad) => this.everLinkedAssets(ad).map((l) => ({ ad, l })));
    const base = new Map(
      links.map(({ ad, l }) => [
        `${ad.id}~${l.asset.id}`,
        {
          ...this.assetViewBase(ad, l),
          'ad_group_ad_asset_view.performance_label':
            labels.get(`${ad.id}~${l.asset.id}`) ?? 'PENDING',
        },
      ]),
    );
    if (!q.hasMetrics && !q.segments.has('segments.date')) return [...base.values()];
    const key = (d: AssetDelivery) => `${d.adGroupAd.id}~${d.asset.id}`;
    const rows = this.grouped(q, this.reported(q), key, (d) => base.get(key(d)) ?? {});
    // All delivery in the sandbox is mixed inventory (YouTube, Play, Discover, AdMob at once).
    if (q.segments.has('segments.ad_network_type'))
      for (const r of rows) r['segments.ad_network_type'] = 'MIXED';
    return rows;
  }

  /** Each linked asset's performance label over its life so far (see LABEL). */
  private performanceLabels(): Map<string, string> {
    const today = this.clock.today();
    const first = this.firstDate();
    const totals = new Map<string, { group: string; imp: number; conv: number; since: string }>();
    if (first !== null && daysBetween(first, today) < MAX_DAYS) {
      for (const date of dateRange(first, today)) {
        for (const d of this.deliveries(date)) {
          const k = `${d.adGroupAd.id}~${d.asset.id}`;
          const t = totals.get(k) ?? { group: d.adGroupAd.id, imp: 0, conv: 0, since: date };
          t.imp += d.delivery.impressions;
          t.conv += d.delivery.installs;
          totals.set(k, t);
        }
      }
    }
    const groupRate = new Map<string, { imp: number; conv: number }>();
    for (const t of totals.values()) {
      const g = groupRate.get(t.group) ?? { imp: 0, conv: 0 };
      g.imp += t.imp;
      g.conv += t.conv;
      groupRate.set(t.group, g);
    }
    const out = new Map<string, string>();
    for (const [k, t] of totals) {
      if (daysBetween(t.since, today) < LABEL.pendingDays) out.set(k, 'PENDING');
      else if (t.imp < LABEL.learningImpressions) out.set(k, 'LEARNING');
      else {
        const g = groupRate.get(t.group)!;
        const rel = g.conv > 0 ? t.conv / t.imp / (g.conv / g.imp) : 1;
        out.set(k, rel >= LABEL.best ? 'BEST' : rel < LABEL.low ? 'LOW' : 'GOOD');
      }
    }
    return out;
  }

  /**
   * ad_group_ad_asset_combination_view: the combinations served, with impressions only. The
   * sandbox's app ads serve each image or video as its own combination (their texts are not
   * assets here).
   */
  private combinationRows(q: CheckedQuery): FlatRow[] {
    const key = (d: AssetDelivery) => `${d.adGroupAd.id}~${d.asset.id}`;
    return this.grouped(q, this.reported(q), key, (d) => {
      const video = d.asset.fields.type === 'YOUTUBE_VIDEO';
      const groupId = d.adGroup.id;
      return {
        ...this.attributes('ad_group_ad', d.adGroupAd),
        'ad_group_ad_asset_combination_view.resource_name': `customers/${this.customerId}/adGroupAdAssetCombinationViews/${groupId}~${d.adGroupAd.id}~${d.asset.id}~0`,
        'ad_group_ad_asset_combination_view.served_assets': [
          {
            asset: d.asset.fields.resource_name,
            served_asset_field_type: video ? 'YOU_TUBE_VIDEO' : 'MARKETING_IMAGE',
          },
        ],
        'ad_group_ad_asset_combination_view.enabled': d.adGroupAd.fields.status === 'ENABLED',
      };
    }).map((r) => {
      for (const k of Object.keys(r))
        if (k.startsWith('metrics.') && k !== 'metrics.impressions') delete r[k];
      return r;
    });
  }
}
