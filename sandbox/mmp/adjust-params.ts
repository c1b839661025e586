// What the sandbox's Adjust Report Service accepts, and how it refuses the rest: every query
// parameter of a report request is checked here, before any data is generated, and turned into a
// typed `ReportQuery`. Each rule cites the page it comes from:
//
//   REPORTS  https://dev.adjust.com/en/api/rs-api/reports   (JSON report: parameters, dimensions,
//            response codes; also in github.com/adjust/dev-docs src/content/docs/en/api/rs-api/)
//   CSV      https://dev.adjust.com/en/api/rs-api/csv       (CSV report: the same, plus
//            readable_names, timezone_id, hour__between)
//
// Adjust documents status codes but no error body. The sandbox answers `{"detail": "..."}` naming
// the bad parameter: the shape Django REST Framework (which the /reports-service paths look like)
// gives every error. Where the pages say nothing about a rule, the comment says so.
import { addDays, daysBetween, isCalendarDate } from '../../core/dates.ts';

/** A refusal with Adjust's status code (and headers, for 429's Retry-After). */
export class AdjustError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Event slugs of the sandbox app's two in-app events. */
export const ADJUST_EVENT_SLUGS = { registration: 'registration', subscription: 'subscription' };

/** REPORTS, "Dimensions": every documented dimension. */
export const DIMENSIONS = new Set([
  'hour',
  'day',
  'week',
  'month',
  'year',
  'quarter',
  'os_name',
  'device_type',
  'app',
  'app_token',
  'store_id',
  'store_type',
  'currency',
  'currency_code',
  'network',
  'campaign',
  'campaign_network',
  'campaign_id_network',
  'adgroup',
  'adgroup_network',
  'adgroup_id_network',
  'source_network',
  'source_id_network',
  'creative',
  'creative_network',
  'creative_id_network',
  'country',
  'country_code',
  'region',
  'partner_name',
  'partner_id',
  'partner',
  'channel',
  'platform',
]);

/**
 * The sandbox's data is daily: it cannot break a day into hours. The real service can, so this is
 * the one documented dimension the sandbox refuses (with a message saying so, never silently).
 */
const UNSUPPORTED_DIMENSIONS = new Set(['hour']);

/**
 * REPORTS, "Metrics": the full list is the Datascape glossary. The sandbox serves the metrics of
 * what it simulates (installs and the app's two events, device level and SKAdNetwork) and refuses
 * the others as unknown.
 */
export const METRICS = new Set([
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

/** REPORTS, `os_name` dimension: its possible values (also what `os_names` may list). */
const OS_NAMES = new Set([
  'android',
  'bada',
  'blackberry',
  'ios',
  'linux',
  'macos',
  'server',
  'symbian',
  'unknown',
  'webos',
  'windows',
  'windows-phone',
]);

/**
 * The longest date_period the sandbox reports. REPORTS documents no maximum; it lists 504
 * Gateway timeout "if the query takes too long". The sandbox computes every day of a period on
 * request, so an unbounded period (1900-01-01:2999-12-31) would stall the process for minutes:
 * it refuses anything longer than a year with 400 before generating data. adloop reads at most
 * ATTRIBUTION_LOOKBACK_DAYS (30) at a time.
 */
export const MAX_PERIOD_DAYS = 366;

/** Relative offsets past this (100 years) are refused: they leave the calendar. */
const MAX_RELATIVE_DAYS = 36_525;

type Check = (value: string) => boolean;
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    values.includes(v);
const listOf =
  (check: Check): Check =>
  (v) =>
    v.split(',').every((x) => check(x.trim()));
const anyText: Check = (v) => v.trim() !== '';
const bool = oneOf('true', 'false');

/** REPORTS, "Filters": the documented options with their documented values. */
const OPTIONS: Record<string, Check> = {
  cohort_maturity: oneOf('immature', 'mature'),
  // "+01:00" in the example; offsets run from -12:00 to +14:00.
  utc_offset: (v) => /^[+-](0\d|1[0-4]):[0-5]\d$/.test(v),
  attribution_type: oneOf('click', 'impression', 'all'),
  // The newer page lists `attribution_types`, e.g. click,engaged_ad.
  attribution_types: listOf(oneOf('click', 'impression', 'engaged_ad')),
  attribution_source: oneOf('first', 'dynamic'),
  reattributed: oneOf('all', 'false', 'true'),
  iap_revenue_mode: oneOf('GROSS_100', 'GROSS_85', 'GROSS_70', 'GROSS_60'),
  ad_revenue_sources: anyText,
  os_names: listOf((v) => OS_NAMES.has(v)),
  ad_spend_mode: oneOf('adjust', 'network', 'mixed'),
  // The reference's own curl example still sends the older name of ad_spend_mode.
  cost_mode: oneOf('adjust', 'network', 'mixed'),
  sandbox: bool,
  sort: anyText, // checked against the requested fields in parseSort
  index: listOf((v) => DIMENSIONS.has(v)),
  format_dates: bool,
  // Documented by example only (previous_week); the sandbox compares nothing and ignores it.
  period_over_period: anyText,
  currency: (v) => /^[A-Z]{3}$/.test(v),
};

/** CSV adds these to the JSON report's options. */
const CSV_OPTIONS: Record<string, Check> = {
  readable_names: bool,
  timezone_id: (v) => /^\d+$/.test(v),
};

/** REPORTS, `[dimension]__<op>`: text filters on any dimension. */
const TEXT_FILTERS: Record<string, (value: string, arg: string) => boolean> = {
  in: (v, a) => a.split(',').includes(v),
  not_in: (v, a) => !a.split(',').includes(v),
  contains: (v, a) => v.toLowerCase().includes(a.toLowerCase()),
  exclude: (v, a) => !v.toLowerCase().includes(a.toLowerCase()),
  starts_with: (v, a) => v.toLowerCase().startsWith(a.toLowerCase()),
  not_starts_with: (v, a) => !v.toLowerCase().startsWith(a.toLowerCase()),
  ends_with: (v, a) => v.toLowerCase().endsWith(a.toLowerCase()),
  not_ends_with: (v, a) => !v.toLowerCase().endsWith(a.toLowerCase()),
};

/** REPORTS, `[metric]__<op>`: numeric filters on any metric. */
const NUMBER_FILTERS: Record<string, (value: number, arg: number) => boolean> = {
  lt: (v, a) => v < a,
  lte: (v, a) => v <= a,
  gt: (v, a) => v > a,
  gte: (v, a) => v >= a,
  eq: (v, a) => v === a,
  ne: (v, a) => v !== a,
};

export interface ReportQuery {
  since: string;
  until: string;
  dimensions: string[];
  metrics: string[];
  sort: Array<{ field: string; desc: boolean }>;
  /** Filters on a row's dimension values, applied before grouping. */
  dimensionFilters: Array<(dims: Record<string, string>) => boolean>;
  /** Filters on a group's metric values, applied after grouping. */
  metricFilters: Array<(m: Record<string, number>) => boolean>;
  /** `sandbox=true` asks for the app's sandbox-environment data: the sandbox app has none. */
  sandboxData: boolean;
  readableNames: boolean;
}

function list(value: string | null): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The first day of `date`'s week: REPORTS' week example, 2021-05-09 - 2021-05-15, runs Sun-Sat. */
export function weekStart(date: string): string {
  return addDays(date, -new Date(`${date}T00:00:00Z`).getUTCDay());
}

const monthStart = (date: string) => `${date.slice(0, 8)}01`;
const monthEnd = (date: string) => addDays(monthStart(addDays(monthStart(date), 32)), -1);

/** REPORTS, `date_period`: "Logical dates", resolved against the sandbox's today. */
function logicalPeriod(value: string, today: string): { since: string; until: string } | null {
  switch (value) {
    case 'today':
      return { since: today, until: today };
    case 'yesterday':
      return { since: addDays(today, -1), until: addDays(today, -1) };
    case 'this_week':
      return { since: weekStart(today), until: addDays(weekStart(today), 6) };
    case 'last_week':
      return { since: addDays(weekStart(today), -7), until: addDays(weekStart(today), -1) };
    case 'this_month':
      return { since: monthStart(today), until: monthEnd(today) };
    case 'last_month': {
      const last = addDays(monthStart(today), -1);
      return { since: monthStart(last), until: last };
    }
    case 'this_month_until_yesterday':
      // On the 1st this is empty (since after until): the report is empty, 204.
      return { since: monthStart(today), until: addDays(today, -1) };
    default:
      return null;
  }
}

/**
 * REPORTS, `date_period` (required): logical (`last_week`), absolute (`2020-12-31:2021-01-01`,
 * real calendar dates) or relative (`-10d:-3d`). The pages show no mixed form; each side is read
 * on its own, so `-7d:2026-03-01` is accepted as well. Periods longer than MAX_PERIOD_DAYS are
 * refused before any day is generated.
 */
export function parsePeriod(value: string | null, today: string): { since: string; until: string } {
  if (!value) throw new AdjustError(400, 'date_period is required, e.g. 2026-03-01:2026-03-07');
  const logical = logicalPeriod(value, today);
  if (logical) return logical;
  const invalid = () =>
    new AdjustError(
      400,
      `date_period "${value}" is invalid: use YYYY-MM-DD:YYYY-MM-DD, -Nd:-Nd or one of ` +
        'today, yesterday, this_week, last_week, this_month, last_month, this_month_until_yesterday',
    );
  const parts = value.split(':');
  if (parts.length !== 2) throw invalid();
  const side = (p: string) => {
    const rel = /^-(\d{1,9})d$/.exec(p);
    if (rel) {
      const days = Number(rel[1]);
      if (days > MAX_RELATIVE_DAYS) throw invalid();
      return addDays(today, -days);
    }
    if (!isCalendarDate(p)) throw invalid();
    return p;
  };
  const since = side(parts[0]!);
  const until = side(parts[1]!);
  if (since > until)
    throw new AdjustError(400, `date_period "${value}" is invalid: start is after end`);
  const days = daysBetween(since, until) + 1;
  if (days > MAX_PERIOD_DAYS)
    throw new AdjustError(
      400,
      `date_period "${value}" spans ${days} days: the sandbox reports at most ${MAX_PERIOD_DAYS}`,
    );
  return { since, until };
}

function parseFields(q: URLSearchParams): { dimensions: string[]; metrics: string[] } {
  // REPORTS: `dimensions` and `metrics` are marked required (*); "At least 1 metric is required".
  const dimensions = list(q.get('dimensions'));
  if (dimensions.length === 0) throw new AdjustError(400, 'dimensions is required');
  const badDim = dimensions.find((d) => !DIMENSIONS.has(d));
  if (badDim) throw new AdjustError(400, `dimensions: unknown dimension "${badDim}"`);
  const unsupported = dimensions.find((d) => UNSUPPORTED_DIMENSIONS.has(d));
  if (unsupported)
    throw new AdjustError(
      400,
      `dimensions: "${unsupported}" is not available in the sandbox (its data is daily)`,
    );
  const metrics = list(q.get('metrics'));
  if (metrics.length === 0) throw new AdjustError(400, 'metrics is required');
  const badMetric = metrics.find((m) => !METRICS.has(m));
  if (badMetric) throw new AdjustError(400, `metrics: unknown metric "${badMetric}"`);
  return { dimensions, metrics };
}

/**
 * REPORTS, `sort`: "Comma-separated list of metrics/dimensions to sort the report by. Use - to
 * order descending." The page does not say whether a field must also be requested; a report can
 * only be sorted by its own columns, so the sandbox refuses others.
 */
function parseSort(value: string | null, fields: string[]): ReportQuery['sort'] {
  return list(value).map((s) => {
    const desc = s.startsWith('-');
    const field = desc ? s.slice(1) : s;
    if (!fields.includes(field))
      throw new AdjustError(400, `sort: "${field}" is not a requested dimension or metric`);
    return { field, desc };
  });
}

/**
 * Every parameter of a report request, checked and typed. REPORTS, 400: "Returned if your request
 * is malformed or contains unsupported parameters", so an unknown parameter is refused too.
 */
export function parseReportQuery(
  q: URLSearchParams,
  today: string,
  format: 'json' | 'csv',
): ReportQuery {
  const { since, until } = parsePeriod(q.get('date_period'), today);
  const { dimensions, metrics } = parseFields(q);
  const options = format === 'csv' ? { ...OPTIONS, ...CSV_OPTIONS } : OPTIONS;
  const dimensionFilters: ReportQuery['dimensionFilters'] = [];
  const metricFilters: ReportQuery['metricFilters'] = [];
  for (const [key, value] of q) {
    if (key === 'date_period' || key === 'dimensions' || key === 'metrics') continue;
    if (q.getAll(key).length > 1) throw new AdjustError(400, `${key}: given more than once`);
    const check = options[key];
    if (check) {
      if (!check(value)) throw new AdjustError(400, `${key}: invalid value "${value}"`);
      continue;
    }
    if (format === 'csv' && key === 'hour__between')
      throw new AdjustError(
        400,
        'hour__between is not available in the sandbox (its data is daily)',
      );
    const filter = /^(.+?)__([a-z_]+)$/.exec(key);
    const [field, op] = filter ? [filter[1]!, filter[2]!] : ['', ''];
    const text = TEXT_FILTERS[op];
    const numeric = NUMBER_FILTERS[op];
    if (DIMENSIONS.has(field) && text) {
      dimensionFilters.push((dims) => text(dims[field] ?? 'unknown', value));
    } else if (METRICS.has(field) && numeric) {
      const arg = Number(value);
      if (value.trim() === '' || !Number.isFinite(arg))
        throw new AdjustError(400, `${key}: "${value}" is not a number`);
      metricFilters.push((m) => numeric(m[field] ?? 0, arg));
    } else {
      throw new AdjustError(400, `${key}: unsupported parameter`);
    }
  }
  const osNames = list(q.get('os_names'));
  if (osNames.length > 0) dimensionFilters.push((dims) => osNames.includes(dims.os_name ?? ''));
  return {
    since,
    until,
    dimensions,
    metrics,
    sort: parseSort(q.get('sort'), [...dimensions, ...metrics]),
    dimensionFilters,
    metricFilters,
    sandboxData: q.get('sandbox') === 'true',
    readableNames: q.get('readable_names') === 'true',
  };
}
