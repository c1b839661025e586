// Reporting of the sandbox's ad accounts: what each ad delivered (from the simulator), served as
// Graph insights (sync, or as async report runs) in the account's currency and reporting days,
// and as the DeliveryLog the MMP servers attribute from. Every request's work is bounded before
// it starts: the range is checked first (dates, 37 months back) and only days on which the
// account had ads are simulated, so any request answers within a second.
import { dateRange } from '../../core/dates.ts';
import { fromMinorUnits, minorDigits } from '../../core/money.ts';
import type { AttributedDelivery, Delivery, SandboxClock, SimAd } from '../contracts.ts';
import { contentFromLink } from '../deep-link.ts';
import { addDelivery, asReported, budgetChanges, emptyTally, type Tally } from '../reporting.ts';
import { reviewState } from '../review.ts';
import type { Simulator } from '../simulator.ts';
import type { World } from '../world.ts';
import { graphErrors } from './graph-errors.ts';
import { type HostedAccount, type Params, paginate, targetedOses } from './graph-objects.ts';
import {
  checkTimeIncrement,
  checkTimeRange,
  currencyOffset,
  graphTime,
  placementGroup,
  presetRange,
  ratioOf,
} from './graph-rules.ts';
import { checkParams, requestedFields, scalarParam } from './graph-spec.ts';
import type { GraphObject, GraphStore } from './graph-store.ts';

const ACTION_INSTALL = 'mobile_app_install';
const ACTION_REGISTRATION = 'app_custom_event.fb_mobile_complete_registration';
const ACTION_SUBSCRIPTION = 'app_custom_event.Subscribe';
/** Fields of an insights read without fields= (Graph's defaults are impressions and spend). */
const DEFAULT_INSIGHT_FIELDS = ['impressions', 'spend'];

/** Insights `actions`: one entry per action type that happened; absent when none did. */
function actionList(counts: Array<[string, number]>) {
  const list = counts
    .filter(([, n]) => n > 0)
    .map(([action_type, n]) => ({ action_type, value: String(n) }));
  return list.length > 0 ? list : undefined;
}

/**
 * An amount in Meta's units of `currency` (offset 1 or 100, graph-rules.ts currencyOffset) in ISO
 * minor units, as the simulator counts money.
 */
export function metaToMinor(amount: number, currency: string): number {
  return Math.round((amount * 10 ** minorDigits(currency)) / currencyOffset(currency));
}

export class GraphReporting {
  /** Insights calls refuse with a transient error while true (faults.insightsDown). */
  insightsDown = () => false;

  constructor(
    private readonly world: World,
    private readonly simulator: Simulator,
    private readonly store: GraphStore,
    private readonly clock: SandboxClock,
    private readonly baseUrl: () => string,
  ) {}

  private simAd(ad: GraphObject): SimAd {
    const adset = this.store.get(String(ad.fields.adset_id));
    const countries = (
      adset?.fields.targeting as { geo_locations?: { countries?: string[] } } | undefined
    )?.geo_locations?.countries;
    const creative = this.store.get(String((ad.fields.creative as { id?: string }).id));
    return {
      id: ad.id,
      platform: 'meta',
      market: countries?.[0] ?? '',
      createdDate: ad.statusLog?.[0]?.date ?? this.clock.today(),
      ...this.media(creative),
    };
  }

  /**
   * What an ad's creative shows, as the simulator needs it: the content its deep link opens, and
   * whether it plays a video, in which aspect ratio per placement group.
   */
  private media(
    creative: GraphObject | undefined,
  ): Pick<SimAd, 'artistId' | 'templateId' | 'aspectRatio' | 'motion' | 'placementRatios'> {
    const feed = creative?.fields.asset_feed_spec as
      | {
          videos?: Array<{ video_id?: string; adlabels?: Array<{ name?: string }> }>;
          link_urls?: Array<{ website_url?: string; deeplink_url?: string }>;
          asset_customization_rules?: Array<{
            customization_spec?: Record<string, unknown>;
            video_label?: { name?: string };
          }>;
        }
      | undefined;
    const story = creative?.fields.object_story_spec as
      | {
          link_data?: { link?: string; call_to_action?: { value?: { app_link?: string } } };
          video_data?: { video_id?: string; call_to_action?: { value?: { app_link?: string } } };
        }
      | undefined;
    if (feed?.videos?.length) {
      const link = feed.link_urls?.[0];
      const ratioOfLabel = new Map<string, string>();
      for (const v of feed.videos) {
        const ratio = this.videoRatio(v.video_id);
        for (const l of v.adlabels ?? []) if (ratio && l.name) ratioOfLabel.set(l.name, ratio);
      }
      // Each rule's positions show its labelled video; the first rule wins where two overlap.
      const placementRatios: NonNullable<SimAd['placementRatios']> = {};
      for (const rule of feed.asset_customization_rules ?? []) {
        const ratio = ratioOfLabel.get(rule.video_label?.name ?? '');
        if (!ratio) continue;
        for (const [key, positions] of Object.entries(rule.customization_spec ?? {}))
          if (key.endsWith('_positions') && Array.isArray(positions))
            for (const p of positions) placementRatios[placementGroup(String(p))] ??= ratio;
      }
      return {
        ...contentFromLink(link?.deeplink_url ?? link?.website_url),
        aspectRatio: placementRatios.feed ?? this.videoRatio(feed.videos[0]!.video_id) ?? '1:1',
        motion: true,
        ...(Object.keys(placementRatios).length > 0 ? { placementRatios } : {}),
      };
    }
    if (story?.video_data)
      return {
        ...contentFromLink(story.video_data.call_to_action?.value?.app_link),
        aspectRatio: this.videoRatio(story.video_data.video_id) ?? '1:1',
        motion: true,
      };
    const link = story?.link_data;
    return {
      // An app install ad's content is in its deep link (app_link); older ads carried it in link.
      ...contentFromLink(link?.call_to_action?.value?.app_link ?? link?.link),
      // adloop's images are square; a creative's aspect ratio is not in the Graph object.
      aspectRatio: '1:1',
    };
  }

  /** The aspect ratio of an ad video, from its native size (AdVideo `format`). */
  private videoRatio(videoId: string | undefined): string | null {
    const format = (
      this.store.get(String(videoId))?.fields.format as
        Array<{ width: number; height: number }> | undefined
    )?.[0];
    return format ? ratioOf(format.width, format.height) : null;
  }

  /** Every ad's delivery on `date` in one account: each active ad set splits its budget. */
  private deliveries(
    account: HostedAccount,
    date: string,
  ): Array<{ ad: GraphObject; adsetId: string; delivery: Delivery }> {
    const adsets = new Map(this.store.list('adset', account.id).map((x) => [x.id, x]));
    const campaigns = new Map(this.store.list('campaign', account.id).map((x) => [x.id, x]));
    const byAdSet = new Map<string, GraphObject[]>();
    for (const ad of this.store.list('ad', account.id)) {
      const adset = adsets.get(String(ad.fields.adset_id));
      if (this.store.statusOn(ad, date) !== 'ACTIVE' || adset?.fields.status !== 'ACTIVE') continue;
      // A paused campaign pauses its ad sets' delivery.
      if (campaigns.get(String(adset.fields.campaign_id))?.fields.status !== 'ACTIVE') continue;
      // Ads in review or disapproved deliver nothing.
      if (reviewState(ad.review) !== 'APPROVED') continue;
      byAdSet.set(adset.id, [...(byAdSet.get(adset.id) ?? []), ad]);
    }
    const out: Array<{ ad: GraphObject; adsetId: string; delivery: Delivery }> = [];
    for (const [adsetId, live] of byAdSet) {
      const adset = adsets.get(adsetId)!;
      // The day spends the budget the ad set had at its end (a later change never rewrites it),
      // and large changes before it make the ad set relearn (the budget's dated history).
      const toMinor = (budget: unknown) => metaToMinor(Number(budget), account.currency);
      const deliveries = this.simulator.deliverAdSet(
        toMinor(this.store.fieldOn(adset, 'daily_budget', date)),
        live.map((a) => this.simAd(a)),
        date,
        adsetId,
        targetedOses((adset.fields.targeting as { user_os?: unknown } | undefined)?.user_os),
        budgetChanges(this.store.dailyValues(adset, 'daily_budget'), toMinor),
      );
      deliveries.forEach((delivery, i) => out.push({ ad: live[i]!, adsetId, delivery }));
    }
    return out;
  }

  /** DeliveryLog: what the account delivered on `date`, for the MMP servers. */
  deliveriesOn(account: HostedAccount, date: string): AttributedDelivery[] {
    return this.deliveries(account, date).map(({ ad, adsetId, delivery }) => {
      const campaign = this.store.get(String(ad.fields.campaign_id));
      const adset = this.store.get(adsetId);
      return {
        platform: 'meta',
        market: this.simAd(ad).market,
        campaignId: String(ad.fields.campaign_id),
        campaignName: typeof campaign?.fields.name === 'string' ? campaign.fields.name : '',
        adGroupId: adsetId,
        adGroupName: typeof adset?.fields.name === 'string' ? adset.fields.name : '',
        adId: ad.id,
        adName: String(ad.fields.name),
        delivery,
      };
    });
  }

  /** GET …/insights: one page of rows. `node` names the endpoint's node (AdAccount, AdSet...). */
  insights(
    account: HostedAccount,
    node: string,
    params: Params,
    url: URL,
    include: (ad: GraphObject) => boolean,
  ): unknown {
    checkParams(node, 'GET insights', params, { list: true });
    return paginate(this.rows(account, params, include), params, url, this.baseUrl());
  }

  /**
   * POST …/insights: an async job. The report is computed now and served from the report run once
   * the job reports `Job Completed`, which takes one status poll, as a short real job would.
   */
  startReportRun(
    account: HostedAccount,
    node: string,
    params: Params,
    include: (ad: GraphObject) => boolean,
    self: string,
  ): unknown {
    // The SDK sends the node's own id with async jobs (AbstractCrudObject.exportData).
    checkParams(node, 'POST insights', params, { list: true, self });
    const rows = this.rows(account, params, include);
    const now = new Date().toISOString();
    const run = this.store.create(
      'adreportrun',
      account.id,
      { account_id: account.id, time_ref: now, polls: 0, rows },
      this.clock.today(),
    );
    return { report_run_id: run.id };
  }

  /** GET /<report run>: its status (spec: AdReportRun.json fields). */
  reportRunStatus(account: HostedAccount, run: GraphObject, params: Params): unknown {
    checkParams('AdReportRun', 'GET', params);
    const names = requestedFields('AdReportRun', params.fields, [
      'async_status',
      'async_percent_completion',
    ]);
    const polls = Number(run.fields.polls) + 1;
    this.store.update(run, { polls }, this.clock.today());
    const done = polls > 1;
    const all: Record<string, unknown> = {
      account_id: account.id,
      async_status: done ? 'Job Completed' : 'Job Running',
      async_percent_completion: done ? 100 : 50,
      time_ref: graphTime(String(run.fields.time_ref), account.timeZone),
    };
    return Object.fromEntries([
      ['id', run.id],
      ...names.filter((n) => all[n] !== undefined).map((n) => [n, all[n]]),
    ]);
  }

  /** GET /<report run>/insights: its rows once complete. */
  reportRunRows(run: GraphObject, params: Params, url: URL): unknown {
    checkParams('AdReportRun', 'GET insights', params, { list: true });
    if (Number(run.fields.polls) < 2) throw graphErrors.invalidParam('The report is not ready yet');
    return paginate(run.fields.rows as unknown[], params, url, this.baseUrl());
  }

  private rows(
    account: HostedAccount,
    params: Params,
    include: (ad: GraphObject) => boolean,
  ): Array<Record<string, unknown>> {
    if (this.insightsDown()) throw graphErrors.unavailable();
    const level = scalarParam(params, 'level') ?? 'ad';
    const today = this.clock.today();
    const fields = requestedFields('AdsInsights', params.fields, DEFAULT_INSIGHT_FIELDS);
    const { since, until } =
      params.time_range !== undefined
        ? checkTimeRange(params.time_range, today)
        : presetRange(scalarParam(params, 'date_preset') ?? 'last_30d', today);
    const increment = checkTimeIncrement(params.time_increment);
    if (increment !== 'all_days' && increment !== 1)
      throw graphErrors.invalidParam('This sandbox reports time_increment 1 or all_days only');
    const daily = increment === 1;
    const wanted = this.store.list('ad', account.id, include);
    const wantedIds = new Set(wanted.map((a) => a.id));
    // Only days on which one of the ads existed can have delivery: the work is bounded by the
    // account's life, whatever range was asked.
    const first = wanted.reduce<string | null>((m, a) => {
      const d = a.statusLog?.[0]?.date ?? today;
      return m === null || d < m ? d : m;
    }, null);
    const groups = new Map<
      string,
      Tally & { key: Record<string, string>; start: string; stop: string }
    >();
    const from = first && first > since ? first : since;
    const to = until > today ? today : until;
    for (const date of first && from <= to ? dateRange(from, to) : []) {
      for (const { ad, adsetId, delivery } of this.deliveries(account, date)) {
        if (!wantedIds.has(ad.id)) continue;
        const d = asReported(delivery, today, this.world.truth.reportingDelayDays);
        const key: Record<string, string> = { account_id: account.id };
        if (level !== 'account') key.campaign_id = String(ad.fields.campaign_id);
        if (level === 'adset' || level === 'ad') key.adset_id = adsetId;
        if (level === 'ad') Object.assign(key, { ad_id: ad.id, ad_name: String(ad.fields.name) });
        const start = daily ? date : since;
        const stop = daily ? date : until;
        const id = `${start}|${key.campaign_id ?? ''}|${key.adset_id ?? ''}|${key.ad_id ?? ''}`;
        const g = groups.get(id) ?? { key, start, stop, ...emptyTally() };
        addDelivery(g, d);
        groups.set(id, g);
      }
    }
    return [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, g]) => {
        const spend = fromMinorUnits(g.spend, account.currency);
        const all: Record<string, unknown> = {
          ...g.key,
          account_currency: account.currency,
          impressions: String(g.imp),
          clicks: String(g.clk),
          spend,
          ctr: g.imp > 0 ? String((g.clk / g.imp) * 100) : '0',
          cpc: g.clk > 0 ? (Number(spend) / g.clk).toFixed(6) : undefined,
          // Like the real API, `actions` is absent when nothing happened.
          actions: actionList([
            [ACTION_INSTALL, g.inst],
            [ACTION_REGISTRATION, g.reg],
            [ACTION_SUBSCRIPTION, g.sub],
          ]),
        };
        const row: Record<string, unknown> = {};
        for (const f of fields) if (all[f] !== undefined) row[f] = all[f];
        row.date_start = g.start;
        row.date_stop = g.stop;
        return row;
      });
  }
}
