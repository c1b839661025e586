// A local Branch Query API (pre-aggregated analytics), backed by the MMP view in attribution.ts.
// The subset served, following Branch's public reference; each rule below cites its page:
//   POSTQUERY  https://help.branch.io/apidocs/postquery (also /v1-api/apidocs/postquery, and the
//              llms page https://help.branch.io/apidocs/query.md): parameters and their limits
//   OVERVIEW   https://help.branch.io/developers-hub/reference/query-api (and
//              https://help.branch.io/apidocs/query/overview): rate limits, max rows, 7 days,
//              the 2-year export window, the rate-limit error body
//   OLDDOCS    https://docs.branch.io/pages/exports/query-api/: dates without a time
//
//   POST /v1/query/analytics?limit=<1..1000, default 100>&after=<index>&query_id=<from paging>
//   Content-Type: application/json
//   {
//     "branch_key": "...", "branch_secret": "...",          auth (401 when missing or wrong)
//     "start_date": "YYYY-MM-DD", "end_date": "YYYY-MM-DD", end exclusive, at most 7 days later,
//       start not before 2017-10-14 nor outside the rolling 2-year export window
//     "data_source": one of
//        eo_install                   attributed installs (device level: Android only)
//        eo_custom_event              custom events `registration` and `subscription` (Android)
//        skadnetwork_valid_messages   SKAdNetwork postbacks (iOS, per campaign and day); the
//                                     dimension annotation_conversion_value_mapped_value tells
//                                     the deepest event a postback's conversion value maps to:
//                                     `install` (none), `registration` or `subscription`
//        eo_open, eo_click, eo_impression, xx_click, xx_impression, eo_reinstall,
//        eo_commerce_event, eo_content_event, eo_user_lifecycle_event
//                                     accepted; the sandbox app logs none, so no results
//     "dimensions": [ timestamp, name (event sources), user_data_os (IOS | ANDROID),
//        user_data_geo_country_code, last_attributed_touch_data_tilde_advertising_partner_name,
//        last_attributed_touch_data_tilde_campaign, ..._tilde_campaign_id,
//        ..._tilde_ad_set_name, ..._tilde_ad_set_id, ..._tilde_ad_name, ..._tilde_ad_id,
//        annotation_conversion_value_mapped_value (SKAN only) ]
//        Ad set and ad dimensions are refused on the SKAN source: postbacks do not carry them.
//     "filters": { "<dimension>": [values], "!<dimension>": [values] },
//     "aggregation": "unique_count" | "total_count" (the same numbers here: one event per user),
//     "granularity": "day" | "all" (default all),
//     "ordered_by": aggregation or dimension, "ordered": "ascending" | "descending",
//     "zero_fill": accepted and ignored
//   }
// Response: {"results": [{"timestamp", "result": {<dimension values>, <aggregation>: n}}],
// "paging": {"total_count", "next_url"?, "previous_url"?}}. With granularity day, `limit` applies
// to each day, as Branch documents; `next_url` is absolute, carries `after` and a `query_id` that
// locks what the query sees (the sandbox day), and is POSTed again with the same body.
// Errors: {"error": {"code": <HTTP status>, "message": "..."}} naming the bad field, the shape
// Branch's API reference shows for its other endpoints (e.g. help.branch.io/apidocs/accesserasure:
// {"error": {"code": 429, "message": "Rate limit reached."}}); POSTQUERY shows no error body.
// Over the rate limits (BRANCH_RATE_LIMITS, off by default) the documented
// {"errors": [{"message": "Limit is exceeded for org-…, retry after N seconds", "error_code": 7}]}.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { addDays, isCalendarDate } from '../../core/dates.ts';
import { RateLimiter, type RateLimitRule } from '../http.ts';
import { BodyTooLarge, readBody } from '../platform-server/index.ts';
import type { DeliveryLog, PlatformName, SandboxClock } from '../contracts.ts';
import {
  attributedRange,
  type MmpAttribution,
  type MmpFaults,
  type MmpWorld,
} from './attribution.ts';

export const BRANCH_QUERY_PATH = '/v1/query/analytics';

/** Custom event names the sandbox app logs to Branch. */
export const BRANCH_EVENTS = { registration: 'registration', subscription: 'subscription' };

/** How Branch names each platform's advertising partner. */
const PARTNER: Record<PlatformName, string> = {
  meta: 'Facebook',
  tiktok: 'TikTok For Business',
  google: 'Google AdWords',
};

const TOUCH = 'last_attributed_touch_data_tilde_';
const SKAN = 'skadnetwork_valid_messages';
const CV_MAPPED = 'annotation_conversion_value_mapped_value';
// POSTQUERY's data_source list (and the topics of help.branch.io/apidocs/checkdatareadiness).
const SILENT_SOURCES = new Set([
  'eo_open',
  'eo_click',
  'eo_impression',
  'xx_click',
  'xx_impression',
  'eo_reinstall',
  'eo_commerce_event',
  'eo_content_event',
  'eo_user_lifecycle_event',
]);
const COMMON_DIMENSIONS = [
  'timestamp',
  'user_data_os',
  'user_data_geo_country_code',
  `${TOUCH}advertising_partner_name`,
  `${TOUCH}campaign`,
  `${TOUCH}campaign_id`,
];
const AD_DIMENSIONS = [
  `${TOUCH}ad_set_name`,
  `${TOUCH}ad_set_id`,
  `${TOUCH}ad_name`,
  `${TOUCH}ad_id`,
];
const DIMENSIONS: Record<string, Set<string>> = {
  eo_install: new Set([...COMMON_DIMENSIONS, ...AD_DIMENSIONS]),
  eo_custom_event: new Set([...COMMON_DIMENSIONS, ...AD_DIMENSIONS, 'name']),
  [SKAN]: new Set([...COMMON_DIMENSIONS, CV_MAPPED]),
};
for (const s of SILENT_SOURCES) DIMENSIONS[s] = new Set([...COMMON_DIMENSIONS, ...AD_DIMENSIONS]);

/** OVERVIEW: "Max number of days that can be queried at a time: 7 days". */
const MAX_DAYS = 7;
/** POSTQUERY, `limit`: "Maximum 1000", example 100. */
const MAX_LIMIT = 1000;
/** OVERVIEW: "Max number of rows returned from API: 50,000". */
export const MAX_ROWS = 50_000;
/** POSTQUERY: "start_date cannot be earlier than 2017-10-14". */
const FIRST_DATE = '2017-10-14';
/** OVERVIEW: "Export window: Rolling 2 year window". */
const EXPORT_WINDOW_DAYS = 730;
/**
 * No page gives a body size limit. A query is a few hundred bytes; the sandbox refuses bodies
 * over 64 KiB with 413 before parsing them, so one huge upload cannot fill its memory.
 */
export const MAX_BODY_BYTES = 64 * 1024;
/** The sandbox's organisation id, as Branch names it in rate-limit errors. */
const ORG_ID = 'org-525983469347282987';

/**
 * OVERVIEW: "5 requests per second, 20 requests per minute, 150 requests per hour". Off by
 * default (BranchQuerySandbox.rateLimits = null): adloop's client sends three queries per market
 * and 7-day window, so a loop over more than a handful of markets cannot stay within 20 a minute;
 * it retries after the time the 429 names instead. Turn them on to test exactly that.
 */
export const BRANCH_RATE_LIMITS: RateLimitRule[] = [
  { limit: 5, windowMs: 1_000 },
  { limit: 20, windowMs: 60_000 },
  { limit: 150, windowMs: 3_600_000 },
];

class BranchError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The body to answer instead of the usual {"error": …} (the rate-limit error's own shape). */
    readonly body: unknown = { error: { code: status, message } },
  ) {
    super(message);
  }
}

type Body = Record<string, unknown>;
interface Fact {
  date: string;
  dims: Record<string, string>;
  value: number;
}

async function readJson(req: IncomingMessage): Promise<Body> {
  let raw: Buffer;
  try {
    raw = await readBody(req, MAX_BODY_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLarge)
      throw new BranchError(413, `Request body must be at most ${MAX_BODY_BYTES} bytes`);
    throw err;
  }
  const text = raw.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text || 'null');
  } catch {
    throw new BranchError(400, 'Request body must be valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BranchError(400, 'Request body must be a JSON object');
  return body as Body;
}

/** The facts one attributed row contributes to a data source. */
function factsFor(source: string, row: MmpAttribution): Fact[] {
  const dims: Record<string, string> = {
    user_data_os: row.os === 'ios' ? 'IOS' : 'ANDROID',
    user_data_geo_country_code: row.market,
    [`${TOUCH}advertising_partner_name`]: PARTNER[row.platform],
    [`${TOUCH}campaign`]: row.campaignName,
    [`${TOUCH}campaign_id`]: row.campaignId,
    [`${TOUCH}ad_set_name`]: row.adGroupName ?? '',
    [`${TOUCH}ad_set_id`]: row.adGroupId ?? '',
    [`${TOUCH}ad_name`]: row.adName ?? '',
    [`${TOUCH}ad_id`]: row.adId ?? '',
  };
  const fact = (extra: Record<string, string>, value: number): Fact => ({
    date: row.date,
    dims: { ...dims, ...extra },
    value,
  });
  if (source === SKAN) {
    if (!row.aggregated) return [];
    // Each postback maps to the deepest event its user reached, so the counts nest:
    // installs = all postbacks, registrations = registration + subscription, subscriptions.
    return [
      fact({ [CV_MAPPED]: 'install' }, row.installs - row.registrations),
      fact({ [CV_MAPPED]: BRANCH_EVENTS.registration }, row.registrations - row.subscriptions),
      fact({ [CV_MAPPED]: BRANCH_EVENTS.subscription }, row.subscriptions),
    ];
  }
  if (row.aggregated) return []; // device-level sources never see iOS after the privacy change
  if (source === 'eo_install') return [fact({}, row.installs)];
  if (source === 'eo_custom_event')
    return [
      fact({ name: BRANCH_EVENTS.registration }, row.registrations),
      fact({ name: BRANCH_EVENTS.subscription }, row.subscriptions),
    ];
  return [];
}

export interface BranchRequestEvent {
  method: string;
  path: string;
  status: number;
}

export class BranchQuerySandbox {
  /** Every request seen (never with its secret), for tests and the sandbox's log. */
  readonly requests: BranchRequestEvent[] = [];
  /** The simulated rate limits (per organisation); null (the default) turns them off. */
  rateLimits: RateLimitRule[] | null = null;
  private limiter: { rules: RateLimitRule[]; limiter: RateLimiter } | null = null;

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
    let status = 200;
    let body: unknown;
    try {
      if (url.pathname.replace(/\/$/, '') !== BRANCH_QUERY_PATH)
        throw new BranchError(404, `Resource ${url.pathname} not found`);
      if (method !== 'POST') throw new BranchError(405, `Method ${method} not allowed`);
      const params = await readJson(req);
      this.authenticate(params);
      this.throttle();
      if (this.faults.down)
        throw new BranchError(503, 'Service temporarily unavailable, please retry');
      // Links in `paging` are absolute, on the host the caller used.
      const origin = `http://${req.headers.host ?? '127.0.0.1'}`;
      body = this.query(params, url, origin);
    } catch (err) {
      const e = err instanceof BranchError ? err : new BranchError(500, 'Internal server error');
      status = e.status;
      body = e.body;
    }
    this.requests.push({ method, path: url.pathname, status });
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  /** OVERVIEW's limits, counted per organisation (the sandbox has one), once they are on. */
  private throttle() {
    if (!this.rateLimits) return;
    if (this.limiter?.rules !== this.rateLimits)
      this.limiter = { rules: this.rateLimits, limiter: new RateLimiter(this.rateLimits) };
    const waitMs = this.limiter.limiter.tryTake();
    if (waitMs === 0) return;
    // OVERVIEW gives the body but not the status; 429 is what Branch's other endpoints answer.
    const message = `Limit is exceeded for ${ORG_ID}, retry after ${Math.ceil(waitMs / 1000)} seconds`;
    throw new BranchError(429, message, { errors: [{ message, error_code: 7 }] });
  }

  private authenticate(p: Body) {
    const { branchKey, branchSecret } = this.world.mmp.branch;
    if (typeof p.branch_key !== 'string' || typeof p.branch_secret !== 'string')
      throw new BranchError(401, 'branch_key and branch_secret are required');
    if (p.branch_key !== branchKey || p.branch_secret !== branchSecret)
      throw new BranchError(401, 'Invalid or missing app id, Branch key, or secret');
  }

  private query(p: Body, url: URL, origin: string) {
    // Paging: `query_id` pins the day the first page saw, so later pages never shift.
    const queryId = url.searchParams.get('query_id');
    let today = this.clock.today();
    if (queryId !== null) {
      const pinned = Buffer.from(queryId.replace(/^q_/, ''), 'base64url').toString();
      if (!isCalendarDate(pinned)) throw new BranchError(400, 'query_id is invalid');
      today = pinned;
    }
    const limit = Number(url.searchParams.get('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      throw new BranchError(400, `limit must be an integer from 1 to ${MAX_LIMIT}`);
    const after = Number(url.searchParams.get('after') ?? 0);
    if (!Number.isInteger(after) || after < 0)
      throw new BranchError(400, 'after must be a non-negative integer');

    const { start, end } = this.dates(p, today);

    const source = p.data_source;
    if (typeof source !== 'string' || !DIMENSIONS[source])
      throw new BranchError(
        400,
        `data_source must be one of ${Object.keys(DIMENSIONS).sort().join(', ')}`,
      );
    const allowed = DIMENSIONS[source];
    const aggregation = p.aggregation;
    if (aggregation !== 'unique_count' && aggregation !== 'total_count')
      throw new BranchError(
        400,
        typeof aggregation === 'string' &&
          ['revenue', 'cost', 'cost_in_local_currency'].includes(aggregation)
          ? `aggregation ${aggregation} is not supported for data_source ${source}`
          : 'aggregation must be one of unique_count, total_count, revenue, cost, cost_in_local_currency',
      );
    if (p.zero_fill !== undefined && typeof p.zero_fill !== 'boolean')
      throw new BranchError(400, 'zero_fill must be a boolean');
    // POSTQUERY and the recipe book only show `day`; a query without it counts the whole range
    // at once (the sandbox's `all`). Other values are refused.
    const granularity = p.granularity ?? 'all';
    if (granularity !== 'day' && granularity !== 'all')
      throw new BranchError(400, 'granularity must be one of day, all');

    const dims = p.dimensions ?? [];
    if (!Array.isArray(dims) || dims.some((d) => typeof d !== 'string'))
      throw new BranchError(400, 'dimensions must be an array of strings');
    const dimensions = (dims as string[]).filter((d) => d !== 'timestamp');
    for (const d of dimensions) {
      if (!allowed.has(d))
        throw new BranchError(400, `dimensions: ${d} is not available for data_source ${source}`);
    }
    const filters = this.filters(p.filters, allowed, source);

    const facts = attributedRange(this.world, this.sources, start, addDays(end, -1), today, {
      extraDelayDays: this.faults.delayDays,
    })
      .flatMap((row) => factsFor(source, row))
      .filter((f) => filters.every((keep) => keep(f.dims)));

    // Group by (day when daily) and the requested dimensions.
    const groups = new Map<string, { date: string; dims: Record<string, string>; n: number }>();
    for (const f of facts) {
      const date = granularity === 'day' ? f.date : start;
      const values = Object.fromEntries(dimensions.map((d) => [d, f.dims[d] ?? '']));
      const key = JSON.stringify([date, ...dimensions.map((d) => values[d])]);
      const g = groups.get(key) ?? { date, dims: values, n: 0 };
      g.n += f.value;
      groups.set(key, g);
    }
    const all = [...groups.values()].filter((g) => g.n > 0);
    this.order(all, dimensions, p, aggregation);
    // OVERVIEW: at most 50,000 rows; the rest is cut off, never sent.
    all.length = Math.min(all.length, MAX_ROWS);

    // `limit` and `after` apply per day with daily granularity.
    const byDay = new Map<string, typeof all>();
    for (const g of all) byDay.set(g.date, [...(byDay.get(g.date) ?? []), g]);
    const page = [...byDay.values()].flatMap((day) => day.slice(after, after + limit));
    const more = [...byDay.values()].some((day) => day.length > after + limit);

    const link = (from: number) => {
      const next = new URL(BRANCH_QUERY_PATH, origin);
      next.searchParams.set('limit', String(limit));
      next.searchParams.set('after', String(from));
      next.searchParams.set('query_id', `q_${Buffer.from(today).toString('base64url')}`);
      return next.toString();
    };
    const paging: Record<string, unknown> = { total_count: all.length };
    if (more) paging.next_url = link(after + limit);
    if (after > 0) paging.previous_url = link(Math.max(0, after - limit));
    return {
      results: page.map((g) => ({
        timestamp: `${g.date}T00:00:00.000Z`,
        result: { ...g.dims, [aggregation]: g.n },
      })),
      paging,
    };
  }

  /**
   * POSTQUERY: start_date and end_date are required dates (OLDDOCS: "You are no longer required
   * or allowed to specify a time"), end exclusive and at most 7 days after start, start not before
   * 2017-10-14; OVERVIEW: within the rolling 2-year export window.
   */
  private dates(p: Body, today: string): { start: string; end: string } {
    if (!isCalendarDate(p.start_date)) throw new BranchError(400, 'start_date must be YYYY-MM-DD');
    if (!isCalendarDate(p.end_date)) throw new BranchError(400, 'end_date must be YYYY-MM-DD');
    const start = p.start_date;
    const end = p.end_date;
    if (start < FIRST_DATE)
      throw new BranchError(400, `start_date cannot be earlier than ${FIRST_DATE}`);
    if (start < addDays(today, -EXPORT_WINDOW_DAYS))
      throw new BranchError(400, 'start_date is outside the rolling 2 year export window');
    if (end <= start) throw new BranchError(400, 'end_date must be after start_date');
    if (end > addDays(start, MAX_DAYS))
      throw new BranchError(400, `end_date cannot be more than ${MAX_DAYS} days after start_date`);
    return { start, end };
  }

  private filters(raw: unknown, allowed: Set<string>, source: string) {
    if (raw === undefined || raw === null) return [];
    if (typeof raw !== 'object' || Array.isArray(raw))
      throw new BranchError(400, 'filters must be an object of dimension: [values]');
    return Object.entries(raw as Record<string, unknown>).map(([k, v]) => {
      const negate = k.startsWith('!');
      const dim = negate ? k.slice(1) : k;
      if (!allowed.has(dim) || dim === 'timestamp')
        throw new BranchError(400, `filters: ${dim} is not available for data_source ${source}`);
      if (!Array.isArray(v)) throw new BranchError(400, `filters.${k} must be an array`);
      const values = new Set(v.map(String));
      return (dims: Record<string, string>) => values.has(dims[dim] ?? '') !== negate;
    });
  }

  private order(
    groups: Array<{ date: string; dims: Record<string, string>; n: number }>,
    dimensions: string[],
    p: Body,
    aggregation: string,
  ) {
    if (p.ordered_by !== undefined && typeof p.ordered_by !== 'string')
      throw new BranchError(400, 'ordered_by must be a string');
    const by = p.ordered_by;
    const sign = p.ordered === 'descending' ? -1 : 1;
    if (p.ordered !== undefined && p.ordered !== 'ascending' && p.ordered !== 'descending')
      throw new BranchError(400, 'ordered must be ascending or descending');
    if (by !== undefined && by !== aggregation && !dimensions.includes(by))
      throw new BranchError(400, `ordered_by must be ${aggregation} or a requested dimension`);
    const natural = (a: (typeof groups)[0], b: (typeof groups)[0]) => {
      if (a.date !== b.date) return a.date < b.date ? -1 : 1;
      for (const d of dimensions) {
        const c = a.dims[d]!.localeCompare(b.dims[d]!);
        if (c !== 0) return c;
      }
      return 0;
    };
    groups.sort((a, b) => {
      if (a.date !== b.date) return a.date < b.date ? -1 : 1;
      const c =
        by === undefined
          ? 0
          : by === aggregation
            ? a.n - b.n
            : a.dims[by]!.localeCompare(b.dims[by]!);
      return c !== 0 ? sign * c : natural(a, b);
    });
  }
}
