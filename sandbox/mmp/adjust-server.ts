// A local Adjust Report Service API (JSON report endpoint), backed by the MMP view in
// attribution.ts. The subset served, following Adjust's public reference
// (dev.adjust.com/en/api/rs-api/reports):
//
//   GET /control-center/reports-service/report   (dash.adjust.com, the older host)
//   GET /reports-service/report                  (automate.adjust.com, the newer host)
//
// Auth: `Authorization: Bearer <API token>`; 401 when missing or wrong. `app_token__in` must name
// the world's app (403 otherwise: the user cannot see that app).
// Parameters:
//   date_period   `YYYY-MM-DD:YYYY-MM-DD`, `today`, `yesterday` or relative `-7d:-1d` (required)
//   dimensions    comma list of: day, app, app_token, os_name, partner_name, network, campaign,
//                 campaign_network, campaign_id_network, adgroup, adgroup_network,
//                 adgroup_id_network, creative, creative_network, creative_id_network,
//                 country_code (required)
//   metrics       comma list of (required):
//                   installs                     attributed installs (device level: Android only)
//                   registration_events          event slug `registration` (Android)
//                   subscription_events          event slug `subscription` (Android)
//                   events                       both events together (Android)
//                   skad_installs, skad_total_installs, valid_conversions
//                                                SKAdNetwork postbacks (iOS, per campaign)
//                   registration_events_est, subscription_events_est
//                                                events unpacked from SKAN conversion values (iOS)
//   filters       os_name__in / os_names, partner_name__in, campaign_id_network__in
//   sort          a dimension or metric, `-` prefix for descending (default: dimensions ascending)
//   utc_offset, attribution_type, attribution_source, cost_mode, ad_spend_mode: accepted and
//                 ignored (the sandbox day is UTC, click attribution, first source)
// Response: {rows, totals, warnings}; row metric values are strings, totals numbers, as Adjust
// sends them. An empty report is 204 No Content, as the reference lists.
//
// iOS rows are SKAN postbacks: one per campaign and day, with adgroup and creative `unknown`, and
// zero in the device-level metrics. Adjust's reference gives status codes but not error bodies;
// the sandbox answers `{"detail": "..."}` naming the bad parameter.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { addDays } from '../../core/dates.ts';
import type { DeliveryLog, PlatformName, SandboxClock } from '../contracts.ts';
import {
  attributedRange,
  type MmpAttribution,
  type MmpFaults,
  type MmpWorld,
} from './attribution.ts';

export const ADJUST_REPORT_PATHS = [
  '/control-center/reports-service/report',
  '/reports-service/report',
] as const;

/** Adjust event slugs of the sandbox app's two in-app events. */
export const ADJUST_EVENT_SLUGS = { registration: 'registration', subscription: 'subscription' };

/** How Adjust names each platform's network (partner). */
const PARTNER: Record<PlatformName, { partner: string; network: string }> = {
  meta: { partner: 'Facebook', network: 'Facebook Installs' },
  tiktok: { partner: 'TikTok', network: 'TikTok for Business' },
};

const APP_NAME = 'adloop';
const DIMENSIONS = new Set([
  'day',
  'app',
  'app_token',
  'os_name',
  'partner_name',
  'network',
  'campaign',
  'campaign_network',
  'campaign_id_network',
  'adgroup',
  'adgroup_network',
  'adgroup_id_network',
  'creative',
  'creative_network',
  'creative_id_network',
  'country_code',
]);

type Metrics = Record<string, number>;

class AdjustError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function validDate(d: string): boolean {
  if (!DATE.test(d)) return false;
  const t = new Date(`${d}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === d;
}

/** Parses date_period in the absolute, logical (today/yesterday) and relative (-Nd) formats. */
function parsePeriod(value: string | null, today: string): { since: string; until: string } {
  if (!value) throw new AdjustError(400, 'date_period is required, e.g. 2026-03-01:2026-03-07');
  if (value === 'today') return { since: today, until: today };
  if (value === 'yesterday') return { since: addDays(today, -1), until: addDays(today, -1) };
  const parts = value.split(':');
  const resolve = (p: string) => {
    const rel = /^-(\d+)d$/.exec(p);
    if (rel) return addDays(today, -Number(rel[1]));
    return validDate(p) ? p : null;
  };
  const since = parts.length === 2 ? resolve(parts[0]!) : null;
  const until = parts.length === 2 ? resolve(parts[1]!) : null;
  if (!since || !until)
    throw new AdjustError(400, `date_period "${value}" is invalid: use YYYY-MM-DD:YYYY-MM-DD`);
  if (since > until)
    throw new AdjustError(400, `date_period "${value}" is invalid: start is after end`);
  return { since, until };
}

function list(value: string | null): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The dimension values and metric values of one attributed row, as Adjust reports them. */
function facts(
  row: MmpAttribution,
  appToken: string,
): { dims: Record<string, string>; m: Metrics } {
  const p = PARTNER[row.platform];
  const unknown = 'unknown';
  const named = (name: string | null, id: string | null) =>
    id === null ? unknown : `${name ?? ''} (${id})`;
  const dims: Record<string, string> = {
    day: row.date,
    app: APP_NAME,
    app_token: appToken,
    os_name: row.os,
    partner_name: p.partner,
    network: p.network,
    campaign: named(row.campaignName, row.campaignId),
    campaign_network: row.campaignName,
    campaign_id_network: row.campaignId,
    adgroup: named(row.adGroupName, row.adGroupId),
    adgroup_network: row.adGroupName ?? unknown,
    adgroup_id_network: row.adGroupId ?? unknown,
    creative: named(row.adName, row.adId),
    creative_network: row.adName ?? unknown,
    creative_id_network: row.adId ?? unknown,
    country_code: row.market ? row.market.toLowerCase() : unknown,
  };
  const { registration, subscription } = ADJUST_EVENT_SLUGS;
  const m: Metrics = row.aggregated
    ? {
        skad_installs: row.installs,
        skad_total_installs: row.installs,
        valid_conversions: row.installs,
        [`${registration}_events_est`]: row.registrations,
        [`${subscription}_events_est`]: row.subscriptions,
      }
    : {
        installs: row.installs,
        [`${registration}_events`]: row.registrations,
        [`${subscription}_events`]: row.subscriptions,
        events: row.registrations + row.subscriptions,
      };
  return { dims, m };
}

const METRICS = new Set([
  'installs',
  `${ADJUST_EVENT_SLUGS.registration}_events`,
  `${ADJUST_EVENT_SLUGS.subscription}_events`,
  'events',
  'skad_installs',
  'skad_total_installs',
  'valid_conversions',
  `${ADJUST_EVENT_SLUGS.registration}_events_est`,
  `${ADJUST_EVENT_SLUGS.subscription}_events_est`,
]);

export interface AdjustRequestEvent {
  method: string;
  path: string;
  status: number;
}

export class AdjustReportSandbox {
  /** Every request seen (never with its token), for tests and the sandbox's log. */
  readonly requests: AdjustRequestEvent[] = [];

  constructor(
    private readonly world: MmpWorld,
    private readonly sources: DeliveryLog[],
    private readonly clock: SandboxClock,
    readonly faults: MmpFaults = { down: false, delayDays: 0 },
  ) {}

  /** Node http handler. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    let status = 200;
    let body: unknown;
    try {
      if (!(ADJUST_REPORT_PATHS as readonly string[]).includes(url.pathname.replace(/\/$/, '')))
        throw new AdjustError(404, 'Not found.');
      if (method !== 'GET') throw new AdjustError(405, `Method "${method}" not allowed.`);
      this.authenticate(req);
      if (this.faults.down) throw new AdjustError(503, 'Service unavailable, please retry later.');
      body = this.report(url.searchParams);
      if ((body as { rows: unknown[] }).rows.length === 0) status = 204;
    } catch (err) {
      const e = err instanceof AdjustError ? err : new AdjustError(500, 'Internal server error.');
      status = e.status;
      body = { detail: e.message };
    }
    this.requests.push({ method, path: url.pathname, status });
    if (status === 204) res.writeHead(204).end();
    else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  private authenticate(req: IncomingMessage) {
    const header = req.headers.authorization;
    if (!header) throw new AdjustError(401, 'Authentication credentials were not provided.');
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (token !== this.world.mmp.adjust.apiToken) throw new AdjustError(401, 'Invalid token.');
  }

  private report(q: URLSearchParams) {
    const appTokens = list(q.get('app_token__in'));
    if (appTokens.length === 0) throw new AdjustError(400, 'app_token__in is required');
    const own = this.world.mmp.adjust.appToken;
    const foreign = appTokens.filter((t) => t !== own);
    if (foreign.length > 0)
      throw new AdjustError(
        403,
        `app_token__in: you do not have access to app(s) ${foreign.join(', ')}`,
      );
    const today = this.clock.today();
    const { since, until } = parsePeriod(q.get('date_period'), today);
    const dimensions = list(q.get('dimensions'));
    if (dimensions.length === 0) throw new AdjustError(400, 'dimensions is required');
    const badDim = dimensions.find((d) => !DIMENSIONS.has(d));
    if (badDim) throw new AdjustError(400, `dimensions: unknown dimension "${badDim}"`);
    const metrics = list(q.get('metrics'));
    if (metrics.length === 0) throw new AdjustError(400, 'metrics is required');
    const badMetric = metrics.find((m) => !METRICS.has(m));
    if (badMetric) throw new AdjustError(400, `metrics: unknown metric "${badMetric}"`);

    const osFilter = list(q.get('os_name__in') ?? q.get('os_names'));
    const badOs = osFilter.find((o) => o !== 'ios' && o !== 'android');
    if (badOs) throw new AdjustError(400, `os_name__in: unknown os_name "${badOs}"`);
    const partnerFilter = list(q.get('partner_name__in'));
    const campaignFilter = list(q.get('campaign_id_network__in'));

    const groups = new Map<string, { dims: Record<string, string>; m: Metrics }>();
    const rows = attributedRange(this.world, this.sources, since, until, today, {
      extraDelayDays: this.faults.delayDays,
    });
    for (const row of rows) {
      const f = facts(row, own);
      if (osFilter.length > 0 && !osFilter.includes(f.dims.os_name!)) continue;
      if (partnerFilter.length > 0 && !partnerFilter.includes(f.dims.partner_name!)) continue;
      if (campaignFilter.length > 0 && !campaignFilter.includes(f.dims.campaign_id_network!))
        continue;
      const dims = Object.fromEntries(dimensions.map((d) => [d, f.dims[d]!]));
      const key = JSON.stringify(dimensions.map((d) => dims[d]));
      const g = groups.get(key) ?? { dims, m: Object.fromEntries(metrics.map((m) => [m, 0])) };
      for (const m of metrics) g.m[m]! += f.m[m] ?? 0;
      groups.set(key, g);
    }
    // Like a report, rows where every requested metric is zero are left out.
    const kept = [...groups.values()].filter((g) => metrics.some((m) => g.m[m] !== 0));
    this.sort(kept, dimensions, metrics, q.get('sort'));

    const totals: Metrics = Object.fromEntries(metrics.map((m) => [m, 0]));
    for (const g of kept) for (const m of metrics) totals[m]! += g.m[m]!;
    return {
      rows: kept.map((g) => ({
        attr_dependency: this.dependency(g.dims),
        ...g.dims,
        ...Object.fromEntries(metrics.map((m) => [m, String(g.m[m])])),
      })),
      totals,
      warnings: [] as string[],
    };
  }

  /** The ids a row's names depend on, as Adjust reports them next to the names. */
  private dependency(dims: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    if (dims.partner_name) out.partner = dims.partner_name;
    const id = dims.campaign_id_network ?? /\(([^()]*)\)$/.exec(dims.campaign ?? '')?.[1];
    if (id) out.campaign_id_network = id;
    return out;
  }

  private sort(
    groups: Array<{ dims: Record<string, string>; m: Metrics }>,
    dimensions: string[],
    metrics: string[],
    sort: string | null,
  ) {
    const cmpDims = (a: Record<string, string>, b: Record<string, string>) => {
      for (const d of dimensions) {
        const c = a[d]!.localeCompare(b[d]!);
        if (c !== 0) return c;
      }
      return 0;
    };
    if (!sort) {
      groups.sort((a, b) => cmpDims(a.dims, b.dims));
      return;
    }
    const desc = sort.startsWith('-');
    const field = desc ? sort.slice(1) : sort;
    if (!dimensions.includes(field) && !metrics.includes(field))
      throw new AdjustError(400, `sort: "${field}" is not a requested dimension or metric`);
    const sign = desc ? -1 : 1;
    groups.sort((a, b) => {
      const c = metrics.includes(field)
        ? a.m[field]! - b.m[field]!
        : a.dims[field]!.localeCompare(b.dims[field]!);
      return c !== 0 ? sign * c : cmpDims(a.dims, b.dims);
    });
  }
}
