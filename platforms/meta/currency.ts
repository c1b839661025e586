// Meta's units for money it is sent (daily_budget, lifetime_budget, bid_amount, spend_cap): each
// currency has an "offset", 100 (cents: 1000 = 10.00 EUR) or 1 (whole units: 1000 = 1,000 JPY).
// Meta's offset differs from ISO 4217's minor unit for some currencies (HUF, TWD, IDR, COP, CRC
// have two ISO digits but offset 1; BHD, JOD have three ISO digits but offset 100). Source: the
// table of https://developers.facebook.com/docs/marketing-api/currencies.
import { minorDigits } from '../../core/money.ts';
import { PlatformError } from '../errors.ts';

const OFFSET_ONE = new Set([
  'CLP',
  'COP',
  'CRC',
  'HUF',
  'IDR',
  'ISK',
  'JPY',
  'KRW',
  'PYG',
  'TWD',
  'VND',
]);

/** Meta's offset of `currency`: 1 or 100. */
export const metaOffset = (currency: string): 1 | 100 => (OFFSET_ONE.has(currency) ? 1 : 100);

/**
 * An amount in ISO minor units of `currency` (core/money.ts toMinorUnits) in Meta's units. An
 * amount Meta cannot express (a fraction of a forint, say) is refused rather than rounded.
 */
export function toMetaAmount(minor: number, currency: string): number {
  const scaled = (minor * metaOffset(currency)) / 10 ** minorDigits(currency);
  if (!Number.isInteger(scaled) || scaled <= 0)
    throw new PlatformError(
      'meta',
      'invalid',
      `${minor} minor units of ${currency} cannot be sent to Meta, which counts ${currency} in units of 1/${metaOffset(currency)}`,
    );
  return scaled;
}

/**
 * An amount in Meta's units of `currency` (a read `daily_budget`) in ISO minor units. Exact for
 * every currency whose minor unit Meta's unit divides; otherwise (a currency with fewer ISO digits
 * than Meta's offset implies) rounded to the nearest minor unit.
 */
export function fromMetaAmount(amount: number, currency: string): number {
  return Math.round((amount * 10 ** minorDigits(currency)) / metaOffset(currency));
}
