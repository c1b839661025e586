import type { IsoDate } from './types.ts';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Throws a clear error unless `value` is a real calendar date written as YYYY-MM-DD. */
export function parseIsoDate(value: string, what = 'date'): IsoDate {
  const got = `"${value}"`;
  if (isCalendarDate(value)) return value;
  throw new Error(
    ISO_DATE.test(value)
      ? `${what} is not a calendar date: ${got}`
      : `${what} must be YYYY-MM-DD, got ${got}`,
  );
}

/** Whether `value` is a real calendar date written YYYY-MM-DD (2026-02-30 is not). */
export function isCalendarDate(value: unknown): value is IsoDate {
  if (typeof value !== 'string' || !ISO_DATE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export const daysBetween = (from: IsoDate, to: IsoDate): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

export function addDays(date: IsoDate, days: number): IsoDate {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Inclusive list of dates from `from` to `to`. */
export function dateRange(from: IsoDate, to: IsoDate): IsoDate[] {
  const out: IsoDate[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

export function todayUtc(now = new Date()): IsoDate {
  return now.toISOString().slice(0, 10);
}

/**
 * The calendar date at `instant` in the IANA time zone `timeZone` (a market's business day).
 * Pure and deterministic for a given tz database, so workflows may call it.
 */
export function localDate(instant: Date, timeZone: string): IsoDate {
  // From the parts, not a locale's format: a locale's date pattern can change between ICU
  // versions, and this date names workflows (it must replay the same).
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}`;
}

/**
 * The last whole day of an ad account at `now`: yesterday in the account's own time zone. A
 * platform's report day is the account's calendar day, so a later day is still being spent.
 */
export function lastCompleteDay(timeZone: string, now: Date): IsoDate {
  return addDays(localDate(now, timeZone), -1);
}

/** The earlier of two ISO dates. */
export const earlierDate = (a: IsoDate, b: IsoDate): IsoDate => (a < b ? a : b);

/** Throws a clear error unless `timeZone` is an IANA time zone this runtime knows. */
export function parseTimeZone(timeZone: string, what = 'time zone'): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new Error(`${what} is not an IANA time zone: "${timeZone}"`);
  }
  return timeZone;
}
