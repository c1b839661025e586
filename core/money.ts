// Money is stored in micros (millionths) of the currency it was spent in; reports compare markets
// in one reporting currency through an exchange-rate table.
import { z } from 'zod';
import { issueLines, readJsonFile } from './validation.ts';

const fxSchema = z.object({
  /** The currency every rate is quoted against. */
  base: z.string().regex(/^[A-Z]{3}$/),
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** Units of each currency per one unit of `base`. */
  perBase: z.record(
    z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
    z.number().positive(),
  ),
});

export type FxTable = z.infer<typeof fxSchema>;

export class FxError extends Error {
  override name = 'FxError';
}

export function parseFxTable(raw: unknown, source = 'exchange rates'): FxTable {
  const parsed = fxSchema.safeParse(raw);
  if (!parsed.success)
    throw new FxError(`${source} is invalid:\n${issueLines(parsed.error).join('\n')}`);
  if (parsed.data.perBase[parsed.data.base] !== 1) {
    throw new FxError(
      `${source} is invalid:\n  perBase.${parsed.data.base}: the base currency's rate must be 1`,
    );
  }
  return parsed.data;
}

export function loadFxTable(file: string): FxTable {
  return parseFxTable(readJsonFile(file, 'exchange rates', FxError), file);
}

/** Converts an amount in micros of `from` into micros of `to` (rounded to a whole micro). */
export function convertMicros(micros: number, from: string, to: string, fx: FxTable): number {
  if (from === to) return micros;
  const f = fx.perBase[from];
  const t = fx.perBase[to];
  if (f === undefined) throw new FxError(`no exchange rate for ${from} in the table of ${fx.asOf}`);
  if (t === undefined) throw new FxError(`no exchange rate for ${to} in the table of ${fx.asOf}`);
  return Math.round((micros / f) * t);
}

/**
 * Digits after the decimal point of each currency's minor unit (ISO 4217, list one "Minor unit"
 * column, https://www.six-group.com/en/products-services/financial-information/data-standards.html).
 * Currencies not listed have two. Platforms may use their own offsets on the wire (Meta bills some
 * two-digit currencies in whole units): their clients convert from these.
 */
const MINOR_DIGITS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

/** Digits of `currency`'s minor unit: 2 for EUR (cents), 0 for JPY and KRW, 3 for KWD. */
export function minorDigits(currency: string): number {
  if (!/^[A-Z]{3}$/.test(currency)) throw new FxError(`${currency} is not an ISO 4217 code`);
  return MINOR_DIGITS[currency] ?? 2;
}

/**
 * An amount written in major units (`"49.90"`, `500`) as whole minor units of `currency`, refusing
 * what the currency cannot express (`"10.5"` JPY) instead of rounding money silently.
 */
export function toMinorUnits(amount: string | number, currency: string): number {
  const digits = minorDigits(currency);
  const text = typeof amount === 'number' ? String(amount) : amount.trim();
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new FxError(`${JSON.stringify(amount)} is not an amount of ${currency}`);
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  if (fraction.length > digits)
    throw new FxError(
      `${text} ${currency} has ${fraction.length} decimals; ${currency} has ${digits === 0 ? 'none' : digits}`,
    );
  const minor = Number(m[1]) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
  if (!Number.isSafeInteger(minor)) throw new FxError(`${text} ${currency} is too large`);
  return minor;
}

/** Micros of a currency in its minor units, rounded down (never more than the amount). */
export const microsToMinor = (micros: number, currency: string): number =>
  Math.floor(micros / 10 ** (6 - minorDigits(currency)));

/** Whole minor units of `currency` as micros (millionths of its major unit), as money is stored. */
export const minorToMicros = (minor: number, currency: string): number =>
  minor * 10 ** (6 - minorDigits(currency));

/** Whole minor units of `currency` as a major-unit decimal string (`4990` EUR -> `"49.90"`). */
export function fromMinorUnits(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return String(minor);
  const s = String(Math.abs(minor)).padStart(digits + 1, '0');
  return `${minor < 0 ? '-' : ''}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}
