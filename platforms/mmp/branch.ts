// Branch through its Query API (POST <base>/v1/query/analytics), over plain fetch. Branch allows
// at most 7 days per query with an exclusive end_date, so a range is read in 7-day windows; each
// window takes three queries, all daily:
//   eo_install                   installs per ad (device level)
//   eo_custom_event              registration and subscription events per ad (device level)
//   skadnetwork_valid_messages   SKAN postbacks per campaign; the conversion value's mapped event
//                                tells how deep each user went (registration, subscription)
// Pages are followed through `paging.next_url`, re-POSTing the same body, but only ever to the
// configured base URL: the credentials travel in the body and must not follow a foreign link.
import { PlatformError } from '../errors.ts';
import { addDays } from '../../core/dates.ts';
import { checkRange, count, field, platformOf, requestJson, sortRows } from './http.ts';
import type { AttributionRow, Mmp } from './mmp.ts';

export interface BranchConfig {
  /** API base: `https://api2.branch.io` or the sandbox. */
  baseUrl: string;
  branchKey: string;
  branchSecret: string;
  /** Custom event names of the app's registration and subscription. */
  events?: { registration: string; subscription: string };
  timeoutMs?: number;
}

const PATH = '/v1/query/analytics';
const TOUCH = 'last_attributed_touch_data_tilde_';
const PARTNER = `${TOUCH}advertising_partner_name`;
const CV_MAPPED = 'annotation_conversion_value_mapped_value';
const CAMPAIGN_DIMS = [PARTNER, `${TOUCH}campaign`, `${TOUCH}campaign_id`, 'user_data_os'];
const AD_DIMS = [`${TOUCH}ad_set_name`, `${TOUCH}ad_set_id`, `${TOUCH}ad_name`, `${TOUCH}ad_id`];
const WINDOW_DAYS = 7;
const PAGE_LIMIT = 1000;
/** Safety stop for a server that keeps sending next_url. */
const MAX_PAGES = 1000;

interface BranchResult {
  timestamp?: string;
  result?: Record<string, unknown>;
}

/**
 * The app-local day of a result timestamp. Branch stamps each day with its first instant in the
 * app's time zone, written in UTC (midnight PST is 08:00Z): rounding to the nearest UTC midnight
 * recovers the day for any offset within ±12 hours.
 */
function dayOf(timestamp: string | undefined): string {
  const t = Date.parse(timestamp ?? '');
  if (Number.isNaN(t)) throw new PlatformError('branch', 'transient', 'result has no timestamp');
  return new Date(t + 12 * 3_600_000).toISOString().slice(0, 10);
}

export function createBranch(config: BranchConfig): Mmp {
  const events = config.events ?? { registration: 'registration', subscription: 'subscription' };
  const base = config.baseUrl.replace(/\/+$/, '');
  const secrets = [config.branchKey, config.branchSecret];

  async function query(body: Record<string, unknown>): Promise<BranchResult[]> {
    const payload = JSON.stringify({
      branch_key: config.branchKey,
      branch_secret: config.branchSecret,
      granularity: 'day',
      ...body,
    });
    const out: BranchResult[] = [];
    let url = `${base}${PATH}?limit=${PAGE_LIMIT}`;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = (await requestJson(
        'branch',
        url,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload },
        secrets,
        config.timeoutMs,
      )) as { results?: unknown; paging?: { next_url?: unknown } } | null;
      if (res === null) break;
      if (!Array.isArray(res.results))
        throw new PlatformError('branch', 'transient', 'response has no results array');
      out.push(...(res.results as BranchResult[]));
      const next = res.paging?.next_url;
      if (typeof next !== 'string' || next === '') break;
      // Keep only the paging parameters of the link; the host stays ours.
      url = `${base}${PATH}${new URL(next, base).search}`;
    }
    return out;
  }

  return {
    provider: 'branch',
    async attribution(range) {
      checkRange('branch', range);
      const rows = new Map<string, AttributionRow>();
      const row = (date: string, r: Record<string, unknown>, aggregated: boolean) => {
        const network = field('branch', r, PARTNER);
        const text = (name: string) => {
          const v = r[name];
          return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
        };
        const os = text('user_data_os').toLowerCase() === 'ios' ? 'ios' : 'android';
        const id = (name: string) => (aggregated ? null : text(name) || null);
        const fresh: AttributionRow = {
          date,
          platform: platformOf(network),
          network,
          campaignId: field('branch', r, `${TOUCH}campaign_id`),
          campaign: field('branch', r, `${TOUCH}campaign`),
          adGroupId: id(`${TOUCH}ad_set_id`),
          adGroup: id(`${TOUCH}ad_set_name`),
          creativeId: id(`${TOUCH}ad_id`),
          creative: id(`${TOUCH}ad_name`),
          os,
          installs: 0,
          registrations: 0,
          subscriptions: 0,
          aggregated,
        };
        const key = [
          date,
          network,
          fresh.campaignId,
          os,
          fresh.adGroupId,
          fresh.creativeId,
          aggregated,
        ].join('\u0000');
        const existing = rows.get(key);
        if (existing) return existing;
        rows.set(key, fresh);
        return fresh;
      };

      for (let start = range.since; start <= range.until; start = addDays(start, WINDOW_DAYS)) {
        const last = addDays(start, WINDOW_DAYS - 1);
        const window = {
          start_date: start,
          end_date: addDays(last < range.until ? last : range.until, 1), // exclusive
        };
        const [installs, custom, skan] = await Promise.all([
          query({
            ...window,
            data_source: 'eo_install',
            dimensions: [...CAMPAIGN_DIMS, ...AD_DIMS],
            aggregation: 'unique_count',
          }),
          query({
            ...window,
            data_source: 'eo_custom_event',
            dimensions: [...CAMPAIGN_DIMS, ...AD_DIMS, 'name'],
            filters: { name: [events.registration, events.subscription] },
            aggregation: 'total_count',
          }),
          query({
            ...window,
            data_source: 'skadnetwork_valid_messages',
            dimensions: [...CAMPAIGN_DIMS, CV_MAPPED],
            aggregation: 'total_count',
          }),
        ]);
        for (const r of installs) {
          if (!r.result) continue;
          row(dayOf(r.timestamp), r.result, false).installs += count(r.result, 'unique_count');
        }
        for (const r of custom) {
          if (!r.result) continue;
          const target = row(dayOf(r.timestamp), r.result, false);
          const n = count(r.result, 'total_count');
          if (r.result.name === events.registration) target.registrations += n;
          else if (r.result.name === events.subscription) target.subscriptions += n;
        }
        for (const r of skan) {
          if (!r.result) continue;
          // Postbacks nest: each one is an install; its mapped event is the deepest step reached.
          const target = row(dayOf(r.timestamp), { user_data_os: 'IOS', ...r.result }, true);
          const n = count(r.result, 'total_count');
          const reached = r.result[CV_MAPPED];
          target.installs += n;
          if (reached === events.registration || reached === events.subscription)
            target.registrations += n;
          if (reached === events.subscription) target.subscriptions += n;
        }
      }
      return sortRows(
        [...rows.values()].filter((r) => r.installs + r.registrations + r.subscriptions > 0),
      );
    },
  };
}
