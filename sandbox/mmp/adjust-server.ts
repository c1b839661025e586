// A local Adjust Report Service API (JSON and CSV report endpoints), backed by the MMP view in
// attribution.ts. Following Adjust's public reference (https://dev.adjust.com/en/api/rs-api/reports
// and /csv), the subset served is:
//
//   GET /reports-service/report, /reports-service/csv_report                 (automate.adjust.com)
//   GET /control-center/reports-service/report, .../csv_report     (dash.adjust.com, the older host)
//
// Auth: `Authorization: Bearer <API token>`; 401 when missing or wrong. `app_token__in` may only
// name the world's app (403 otherwise: the user cannot see that app).
// Every parameter is checked in adjust-params.ts (date_period forms, documented dimensions, the
// sandbox's metrics, filters, options; unknown parameters are refused) before any data is made.
// Metrics the sandbox serves:
//   installs                     attributed installs (device level: Android only)
//   registration_events          event slug `registration` (Android)
//   subscription_events          event slug `subscription` (Android)
//   events                       both events together (Android)
//   skad_installs, skad_total_installs, valid_conversions
//                                SKAdNetwork postbacks (iOS, per campaign)
//   registration_events_est, subscription_events_est
//                                events unpacked from SKAN conversion values (iOS)
// utc_offset, attribution_type(s), attribution_source, cost_mode, ad_spend_mode and the other
// options are checked and ignored (the sandbox day is UTC, click attribution, first source).
// Response: {rows, totals, warnings}; row metric values are strings, totals numbers, as Adjust
// sends them; CSV is a header of slugs and one line per row. An empty report is 204 No Content.
//
// iOS rows are SKAN postbacks: one per campaign and day, with adgroup and creative `unknown`, and
// zero in the device-level metrics. Errors are `{"detail": "..."}` (see adjust-params.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { addDays } from '../../core/dates.ts';
import type { DeliveryLog, PlatformName, SandboxClock } from '../contracts.ts';
import { RateLimiter, type RateLimitRule } from '../http.ts';
import { BodyTooLarge, readBody } from '../platform-server/index.ts';
import {
  ADJUST_EVENT_SLUGS,
  AdjustError,
  METRICS,
  parseReportQuery,
  weekStart,
  type ReportQuery,
} from './adjust-params.ts';
import {
  attributedRange,
  type MmpAttribution,
  type MmpFaults,
  type MmpWorld,
} from './attribution.ts';

export { ADJUST_EVENT_SLUGS } from './adjust-params.ts';

export const ADJUST_REPORT_PATHS = [
  '/control-center/reports-service/report',
  '/reports-service/report',
] as const;
export const ADJUST_CSV_PATHS = [
  '/control-center/reports-service/csv_report',
  '/reports-service/csv_report',
] as const;

/**
 * https://dev.adjust.com/en/api/rs-api/rate-limits: "50 requests per second per source IP
 * address", "Burst allowance 100", over it 429 Too Many Requests: a bucket of 100 refilled at 50/s.
 * (The reports page's older wording, 429 "if you exceed 50 simultaneous requests", cannot happen
 * here: the sandbox answers each request before it reads the next.) adloop's client sends one
 * request per market and at most ADJUST_MAX_IN_FLIGHT at once, well within it, so it is on.
 */
export const ADJUST_RATE_LIMITS: RateLimitRule[] = [{ limit: 100, windowMs: 2_000 }];

/**
 * No page gives a body size limit, and every request is a GET whose body is ignored; the sandbox
 * refuses bodies over 64 KiB with 413, so one huge upload cannot tie up the server.
 */
export const MAX_BODY_BYTES = 64 * 1024;

/** How Adjust names each platform's partner and network; the ids are the sandbox's own. */
const PARTNER: Record<PlatformName, { name: string; slug: string; id: string; network: string }> = {
  meta: { name: 'Facebook', slug: 'facebook', id: '34', network: 'Facebook Installs' },
  tiktok: { name: 'TikTok', slug: 'tiktok', id: '2360', network: 'TikTok for Business' },
  google: { name: 'Google Ads', slug: 'google', id: '1', network: 'Google Ads ACI' },
};

const APP_NAME = 'adloop';
const UNKNOWN = 'unknown';
const countryName = new Intl.DisplayNames(['en'], { type: 'region' });

type Metrics = Record<string, number>;
interface Group {
  dims: Record<string, string>;
  m: Metrics;
}

/** The value of every dimension the sandbox serves, for one attributed row. */
function dimensionsOf(row: MmpAttribution, appToken: string): Record<string, string> {
  const p = PARTNER[row.platform];
  const named = (name: string | null, id: string | null) =>
    id === null ? UNKNOWN : `${name ?? ''} (${id})`;
  const week = weekStart(row.date);
  const [year, month] = row.date.split('-');
  return {
    day: row.date,
    // REPORTS' examples: week `2021-05-09 - 2021-05-15`, month `2021-05`, quarter `Q2 2021`.
    week: `${week} - ${addDays(week, 6)}`,
    month: `${year}-${month}`,
    year: year!,
    quarter: `Q${Math.ceil(Number(month) / 3)} ${year}`,
    os_name: row.os,
    platform: row.os,
    device_type: 'phone',
    app: APP_NAME,
    app_token: appToken,
    store_id: UNKNOWN,
    store_type: row.os === 'ios' ? 'itunes' : 'google_play',
    currency: UNKNOWN,
    currency_code: UNKNOWN,
    partner_name: p.name,
    partner_id: p.id,
    partner: p.slug,
    network: p.network,
    channel: `${p.name} - ${p.network}`,
    campaign: named(row.campaignName, row.campaignId),
    campaign_network: row.campaignName,
    campaign_id_network: row.campaignId,
    adgroup: named(row.adGroupName, row.adGroupId),
    adgroup_network: row.adGroupName ?? UNKNOWN,
    adgroup_id_network: row.adGroupId ?? UNKNOWN,
    creative: named(row.adName, row.adId),
    creative_network: row.adName ?? UNKNOWN,
    creative_id_network: row.adId ?? UNKNOWN,
    source_network: UNKNOWN,
    source_id_network: UNKNOWN,
    // REPORTS: country_code is the 2-character ISO 3166 value, e.g. `US`.
    country_code: row.market || UNKNOWN,
    country: row.market ? (countryName.of(row.market) ?? UNKNOWN) : UNKNOWN,
    region: UNKNOWN,
  };
}

/** Every metric the sandbox serves, for one attributed row. */
function metricsOf(row: MmpAttribution): Metrics {
  const { registration, subscription } = ADJUST_EVENT_SLUGS;
  const m: Metrics = Object.fromEntries([...METRICS].map((k) => [k, 0]));
  if (row.aggregated) {
    m.skad_installs = row.installs;
    m.skad_total_installs = row.installs;
    m.valid_conversions = row.installs;
    m[`${registration}_events_est`] = row.registrations;
    m[`${subscription}_events_est`] = row.subscriptions;
  } else {
    m.installs = row.installs;
    m[`${registration}_events`] = row.registrations;
    m[`${subscription}_events`] = row.subscriptions;
    m.events = row.registrations + row.subscriptions;
  }
  return m;
}

/** Rows ordered by the requested sort fields, then by every dimension ascending. */
function sortGroups(groups: Group[], query: ReportQuery) {
  const value = (g: Group, field: string) => g.m[field] ?? g.dims[field] ?? '';
  const keys = [...query.sort, ...query.dimensions.map((field) => ({ field, desc: false }))];
  groups.sort((a, b) => {
    for (const { field, desc } of keys) {
      const x = value(a, field);
      const y = value(b, field);
      const c =
        typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      if (c !== 0) return desc ? -c : c;
    }
    return 0;
  });
}

/** A CSV field, quoted when it holds a comma, quote or line break. */
const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
/** CSV's `readable_names=true`: the sandbox's readable name of a slug (`campaign_network` -> `Campaign Network`). */
const readable = (slug: string) =>
  slug.replace(/(^|_)(\w)/g, (_, sep: string, c: string) => (sep ? ' ' : '') + c.toUpperCase());

export interface AdjustRequestEvent {
  method: string;
  path: string;
  status: number;
}

export class AdjustReportSandbox {
  /** Every request seen (never with its token), for tests and the sandbox's log. */
  readonly requests: AdjustRequestEvent[] = [];
  /** The simulated rate limits (per source IP); null turns them off. Default: as documented. */
  rateLimits: RateLimitRule[] | null = ADJUST_RATE_LIMITS;
  private readonly limiters = new Map<string, { rules: RateLimitRule[]; limiter: RateLimiter }>();

  constructor(
    private readonly world: MmpWorld,
    private readonly sources: DeliveryLog[],
    private readonly clock: SandboxClock,
    readonly faults: MmpFaults = { down: false, delayDays: 0 },
  ) {}

  /** Node http handler. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    void this.serve(req, res);
  };

  private async serve(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/$/, '');
    const format = (ADJUST_CSV_PATHS as readonly string[]).includes(path) ? 'csv' : 'json';
    let status = 200;
    let headers: Record<string, string> = { 'content-type': 'application/json' };
    let text = '';
    try {
      // Nothing is read from a GET's body, but it is read (bounded) before anything else, so the
      // connection stays usable and a huge one is refused with 413.
      await readBody(req, MAX_BODY_BYTES).catch((err: unknown) => {
        if (err instanceof BodyTooLarge)
          throw new AdjustError(err.status, `Request body must be at most ${err.maxBytes} bytes.`);
        throw err;
      });
      if (format === 'json' && !(ADJUST_REPORT_PATHS as readonly string[]).includes(path))
        throw new AdjustError(404, 'Not found.');
      if (method !== 'GET') throw new AdjustError(405, `Method "${method}" not allowed.`);
      this.throttle(req);
      this.authenticate(req);
      if (this.faults.down) throw new AdjustError(503, 'Service unavailable, please retry later.');
      const report = this.report(url.searchParams, format);
      if (report.rows.length === 0) status = 204;
      else if (format === 'csv') {
        headers = { 'content-type': 'text/csv; charset=utf-8' };
        text = this.csv(report.rows, report.columns, report.readableNames);
      } else text = JSON.stringify({ rows: report.rows, totals: report.totals, warnings: [] });
    } catch (err) {
      const e = err instanceof AdjustError ? err : new AdjustError(500, 'Internal server error.');
      status = e.status;
      headers = { 'content-type': 'application/json', ...e.headers };
      text = JSON.stringify({ detail: e.message });
    }
    this.requests.push({ method, path: url.pathname, status });
    if (status === 204) res.writeHead(204).end();
    else res.writeHead(status, headers).end(text);
  }

  /**
   * 429 once the caller's source IP is over ADJUST_RATE_LIMITS. The rate-limits page gives no
   * body or header; the sandbox answers as Django REST Framework throttling does, with the detail
   * and a Retry-After header in seconds.
   */
  private throttle(req: IncomingMessage) {
    if (!this.rateLimits) return;
    const ip = req.socket.remoteAddress ?? 'unknown';
    let entry = this.limiters.get(ip);
    if (!entry || entry.rules !== this.rateLimits) {
      entry = { rules: this.rateLimits, limiter: new RateLimiter(this.rateLimits) };
      this.limiters.set(ip, entry);
    }
    const waitMs = entry.limiter.tryTake();
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new AdjustError(
        429,
        `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`,
        { 'retry-after': String(seconds) },
      );
    }
  }

  private authenticate(req: IncomingMessage) {
    const header = req.headers.authorization;
    if (!header) throw new AdjustError(401, 'Authentication credentials were not provided.');
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (token !== this.world.mmp.adjust.apiToken) throw new AdjustError(401, 'Invalid token.');
  }

  private report(q: URLSearchParams, format: 'json' | 'csv') {
    // REPORTS, 403: "if you try to access information you don't have permission to view".
    const own = this.world.mmp.adjust.appToken;
    const foreign = (q.get('app_token__in') ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t && t !== own);
    if (foreign.length > 0)
      throw new AdjustError(
        403,
        `app_token__in: you do not have access to app(s) ${foreign.join(', ')}`,
      );
    const today = this.clock.today();
    const query = parseReportQuery(q, today, format);
    const groups = query.sandboxData ? [] : this.groups(query, own, today);
    sortGroups(groups, query);
    const { dimensions, metrics } = query;
    const totals: Metrics = Object.fromEntries(metrics.map((m) => [m, 0]));
    for (const g of groups) for (const m of metrics) totals[m]! += g.m[m]!;
    return {
      columns: [...dimensions, ...metrics],
      readableNames: query.readableNames,
      rows: groups.map((g) => ({
        attr_dependency: this.dependency(g.dims),
        ...g.dims,
        ...Object.fromEntries(metrics.map((m) => [m, String(g.m[m])])),
      })),
      totals,
    };
  }

  /** The attributed rows of the period, filtered and summed by the requested dimensions. */
  private groups(query: ReportQuery, appToken: string, today: string): Group[] {
    const { dimensions, metrics } = query;
    const groups = new Map<string, Group>();
    const rows = attributedRange(this.world, this.sources, query.since, query.until, today, {
      extraDelayDays: this.faults.delayDays,
    });
    for (const row of rows) {
      const all = dimensionsOf(row, appToken);
      if (!query.dimensionFilters.every((keep) => keep(all))) continue;
      const dims = Object.fromEntries(dimensions.map((d) => [d, all[d]!]));
      const key = JSON.stringify(dimensions.map((d) => dims[d]));
      const g = groups.get(key) ?? { dims, m: Object.fromEntries([...METRICS].map((m) => [m, 0])) };
      for (const [k, v] of Object.entries(metricsOf(row))) g.m[k]! += v;
      groups.set(key, g);
    }
    // Like a report, rows where every requested metric is zero are left out.
    return [...groups.values()].filter(
      (g) => metrics.some((m) => g.m[m] !== 0) && query.metricFilters.every((keep) => keep(g.m)),
    );
  }

  /** CSV: a header of slugs (or readable names), then one line per row in column order. */
  private csv(rows: Array<Record<string, unknown>>, columns: string[], readableNames: boolean) {
    const header = columns.map((c) => csvField(readableNames ? readable(c) : c)).join(',');
    const lines = rows.map((r) => columns.map((c) => csvField(String(r[c]))).join(','));
    return `${[header, ...lines].join('\n')}\n`;
  }

  /** The ids a row's names depend on, as Adjust reports them next to the names. */
  private dependency(dims: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    if (dims.partner_name) out.partner = dims.partner_name;
    const id = dims.campaign_id_network ?? /\(([^()]*)\)$/.exec(dims.campaign ?? '')?.[1];
    if (id) out.campaign_id_network = id;
    return out;
  }
}
