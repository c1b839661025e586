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
