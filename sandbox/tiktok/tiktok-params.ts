// Reading TikTok request parameters the way the Business API validates them: each refusal is
// code 40002 naming the field. Query values arrive as text (lists and objects as JSON text), JSON
// bodies as typed values; ids are decimal strings everywhere (a 19-digit id sent as a JSON number
// has already lost its last digits, so it is refused rather than guessed).
import { isCalendarDate } from '../../core/dates.ts';
import { parseMaybeJson } from '../http.ts';
import { tiktokErrors } from './tiktok-errors.ts';

export type Params = Record<string, unknown>;

const empty = (v: unknown) => v === undefined || v === null || v === '';

/** A string parameter; `fallback` when absent, else missing-field. Numbers are read as text. */
export function str(p: Params, name: string, fallback?: string): string {
  const v = p[name];
  if (empty(v)) {
    if (fallback !== undefined) return fallback;
    throw tiktokErrors.missingField(name);
  }
  if (typeof v !== 'string' && typeof v !== 'number')
    throw tiktokErrors.invalidField(name, 'Not a valid string.');
  return String(v);
}

/** An optional string parameter. */
export function optStr(p: Params, name: string): string | undefined {
  return empty(p[name]) ? undefined : str(p, name);
}

/**
 * An id: a string of digits. Every id field in the spec is `type: string`
 * (tiktok-business-api-sdk-official docs/*Body.md: advertiser_id, campaign_id, adgroup_id are
 * **String**), and TikTok's ids are 19 digits, past what a JSON number holds exactly.
 */
export function id(p: Params, name: string): string {
  const v = p[name];
  if (empty(v)) throw tiktokErrors.missingField(name);
  if (typeof v !== 'string') throw tiktokErrors.invalidField(name, 'Not a valid string.');
  if (!/^\d{1,20}$/.test(v)) throw tiktokErrors.invalidField(name, 'Not a valid id.');
  return v;
}

export function oneOf(
  p: Params,
  name: string,
  allowed: ReadonlySet<string>,
  fallback?: string,
): string {
  const v = str(p, name, fallback);
  if (!allowed.has(v))
    throw tiktokErrors.invalidField(name, `Must be one of: ${[...allowed].join(', ')}.`);
  return v;
}

export function num(p: Params, name: string): number {
  const v = p[name];
  if (empty(v)) throw tiktokErrors.missingField(name);
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw tiktokErrors.invalidField(name, 'Not a valid number.');
  return n;
}

export function int(p: Params, name: string, fallback: number, min: number, max: number): number {
  const v = p[name];
  if (empty(v)) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw tiktokErrors.invalidField(name, `Must be an integer between ${min} and ${max}.`);
  return n;
}

export function bool(p: Params, name: string, fallback: boolean): boolean {
  const v = p[name];
  if (empty(v)) return fallback;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw tiktokErrors.invalidField(name, 'Not a valid boolean.');
}

/** A list of strings (query values are JSON text); `max` bounds its length. */
export function strings(
  p: Params,
  name: string,
  o: { required?: boolean; max?: number; ids?: boolean } = {},
): string[] | undefined {
  const v = parseMaybeJson(p[name]);
  if (v === undefined || v === null || v === '') {
    if (o.required) throw tiktokErrors.missingField(name);
    return undefined;
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw tiktokErrors.invalidField(name, 'Not a valid list of strings.');
  if (o.required && v.length === 0)
    throw tiktokErrors.invalidField(name, 'Shorter than minimum length 1.');
  if (o.max !== undefined && v.length > o.max)
    throw tiktokErrors.invalidField(name, `Longer than maximum length ${o.max}.`);
  if (o.ids && !v.every((x) => /^\d{1,20}$/.test(x)))
    throw tiktokErrors.invalidField(name, 'Not a valid list of ids.');
  return v;
}

/** A list of ids (1..max), as the status updates and look-ups take them. */
export function ids(p: Params, name: string, max: number): string[] {
  return strings(p, name, { required: true, max, ids: true })!;
}

export function obj(p: Params, name: string): Params {
  const v = parseMaybeJson(p[name]);
  if (empty(v)) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw tiktokErrors.invalidField(name, 'Not a valid JSON object.');
  return v as Params;
}

const DATE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** A `YYYY-MM-DD` date that exists. */
export function date(p: Params, name: string): string {
  const v = str(p, name);
  if (!isCalendarDate(v)) throw tiktokErrors.invalidField(name, 'Not a valid date (YYYY-MM-DD).');
  return v;
}

/** A `YYYY-MM-DD HH:MM:SS` time that exists. */
export function dateTime(p: Params, name: string): string {
  const v = str(p, name);
  const m = DATE_TIME.exec(v);
  if (!m || !isCalendarDate(m[1]!) || Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4]) > 59)
    throw tiktokErrors.invalidField(name, 'Not a valid time (YYYY-MM-DD HH:MM:SS).');
  return v;
}
