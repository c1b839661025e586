// What a backfill may ask for, checked the same way by `adloop backfill` before it starts anything
// and by the worker (planBackfill) before it reads anything: pure, over a given "today".
import { addDays, isCalendarDate } from '../../core/dates.ts';
import { parseMarketCode } from '../../core/ids.ts';
import {
  BACKFILL_SOURCES,
  type BackfillInput,
  type BackfillSource,
  type DateWindow,
  type IsoDate,
} from '../../core/types.ts';

/**
 * How far back each source can be re-read, in months before today.
 * - delivery: 37. Meta keeps ads insights for 37 months ("date_preset = maximum ... returns a
 *   maximum of 37 months of data", https://developers.facebook.com/docs/marketing-api/reference/ad-account/insights);
 *   TikTok's reports answer for what they keep.
 * - attribution: 24. Branch's Query API exports a "rolling 2 year window"
 *   (https://help.branch.io/apidocs/query/overview, Limits); Adjust documents no shorter one, and
 *   one bound for both keeps switching MMP a configuration change.
 */
export const BACKFILL_RETENTION_MONTHS: Readonly<Record<BackfillSource, number>> = {
  delivery: 37,
  attribution: 24,
};

/** Whom each source's bound comes from, for the error that cites it. */
const RETENTION_OF: Readonly<Record<BackfillSource, string>> = {
  delivery: 'Meta keeps ads insights',
  attribution: 'the MMP exports attribution (Branch: a rolling 2-year window)',
};

/**
 * Days one activity reads of one source and market: TikTok's daily report spans at most 30 days
 * per request, Meta runs anything over 7 days as an async report job and Branch reads 7-day
 * windows; a window that fails is retried alone, and progress moves a window at a time.
 */
export const BACKFILL_WINDOW_DAYS = 30;

/** The same calendar day `months` months earlier (the month's last day when it has no such day). */
export function monthsBefore(date: IsoDate, months: number): IsoDate {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const first = new Date(Date.UTC(y, m - 1 - months, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  first.setUTCDate(Math.min(d, last));
  return first.toISOString().slice(0, 10);
}

/** The first day `source` can still be read on `today`. */
export const earliestBackfillDay = (source: BackfillSource, today: IsoDate): IsoDate =>
  monthsBefore(today, BACKFILL_RETENTION_MONTHS[source]);

/** Sources as an operator writes them (`delivery,attribution`); unknown ones are named. */
export function parseBackfillSources(value: string | readonly string[]): BackfillSource[] {
  const list = (typeof value === 'string' ? value.split(',') : value)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const unknown = list.filter((s) => !(BACKFILL_SOURCES as readonly string[]).includes(s));
  if (unknown.length > 0)
    throw new Error(
      `--sources: unknown ${unknown.map((s) => `"${s}"`).join(', ')} (sources: ${BACKFILL_SOURCES.join(', ')})`,
    );
  if (list.length === 0) throw new Error(`--sources: name one of ${BACKFILL_SOURCES.join(', ')}`);
  // In the order they are read, each once.
  return BACKFILL_SOURCES.filter((s) => list.includes(s));
}

/** Market codes as an operator writes them (`se, DE`): canonical, each once. */
export function parseBackfillMarkets(value: string | readonly string[]): string[] {
  const list = (typeof value === 'string' ? value.split(',') : value)
    .map((m) => m.trim())
    .filter(Boolean);
  if (list.length === 0) throw new Error('--markets: name at least one market, e.g. SE,DE');
  return [...new Set(list.map((m) => parseMarketCode(m, '--markets')))];
}

/**
 * Why [from, to] cannot be backfilled on `today` (empty when it can): dates that are not
 * YYYY-MM-DD calendar days, from after to, a day not over yet (`to` must be before today: the
 * last day a platform has finished is yesterday), or a day older than a source keeps.
 */
export function backfillRangeProblems(
  input: Pick<BackfillInput, 'from' | 'to'>,
  sources: readonly BackfillSource[],
  today: IsoDate,
): string[] {
  const problems: string[] = [];
  for (const [flag, value] of [
    ['--from', input.from],
    ['--to', input.to],
  ] as const)
    if (!isCalendarDate(value))
      problems.push(
        /^\d{4}-\d{2}-\d{2}$/.test(String(value))
          ? `${flag} is not a calendar date: "${String(value)}"`
          : `${flag} must be YYYY-MM-DD, got "${String(value)}"`,
      );
  if (problems.length > 0) return problems;
  if (input.from > input.to) problems.push(`--from ${input.from} is after --to ${input.to}`);
  if (input.to >= today)
    problems.push(
      `--to ${input.to} is not over yet: the last day a backfill reads is ${addDays(today, -1)} (yesterday; today is ${today})`,
    );
  for (const source of sources) {
    const earliest = earliestBackfillDay(source, today);
    if (input.from < earliest)
      problems.push(
        `--from ${input.from} is older than ${RETENTION_OF[source]} (${BACKFILL_RETENTION_MONTHS[source]} months: the earliest ${source} day is ${earliest})`,
      );
  }
  return problems;
}

/** [from, to] in consecutive windows of at most `days` days, oldest first. */
export function backfillWindows(
  from: IsoDate,
  to: IsoDate,
  days = BACKFILL_WINDOW_DAYS,
): DateWindow[] {
  const out: DateWindow[] = [];
  for (let since = from; since <= to; since = addDays(since, days)) {
    const last = addDays(since, days - 1);
    out.push({ since, until: last < to ? last : to });
  }
  return out;
}
