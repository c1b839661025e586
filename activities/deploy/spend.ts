// Spend safety: before deploy writes anything, the daily budgets it commits (every ad set of the
// market on every platform, in each account's currency) are held against the market's and the
// whole deployment's daily caps (in the reporting currency). A daily budget is what a platform may
// spend in a day on average (Meta may spend up to 75% more on a single day and balances it over
// the week: https://www.facebook.com/business/help/190490051321426), so the caps bound budgets,
// the only lever adloop has before the money is spent. Pure: the I/O is in deploy.ts.
import {
  convertMicros,
  minorDigits,
  minorToMicros,
  toMinorUnits,
  type FxTable,
} from '../../core/money.ts';

export interface BudgetLine {
  market: string;
  platform: string;
  /** Ad sets (ad groups) of the market on that platform that run at this budget. */
  adSets: number;
  /** Daily budget of each, in minor units of `currency`. */
  dailyMinor: number;
  currency: string;
}

export interface SpendCaps {
  /** The market's daily cap in major units of the reporting currency, or null for none. */
  market: string | null;
  /** Every market's together, or null for none. */
  global: string | null;
  reportingCurrency: string;
}

/** A line's daily commitment in micros of the reporting currency. */
export const committedMicros = (l: BudgetLine, fx: FxTable, to: string) =>
  convertMicros(minorToMicros(l.adSets * l.dailyMinor, l.currency), l.currency, to, fx);

/** `12.34 USD` for micros of a currency. */
const show = (micros: number, currency: string) =>
  `${(micros / 1e6).toFixed(minorDigits(currency))} ${currency}`;

/**
 * Why the budgets break a cap, one line each (empty: within the caps). `market` lines are the
 * market being deployed; `all` lines every market's (for the global cap), the market's included.
 */
export function spendCapProblems(
  o: { market: string; lines: BudgetLine[]; all: BudgetLine[] },
  caps: SpendCaps,
  fx: FxTable,
): string[] {
  const to = caps.reportingCurrency;
  const sum = (lines: BudgetLine[]) => lines.reduce((s, l) => s + committedMicros(l, fx, to), 0);
  const detail = (lines: BudgetLine[]) =>
    lines
      .map(
        (l) =>
          `${l.platform} ${l.adSets} x ${show(minorToMicros(l.dailyMinor, l.currency), l.currency)}`,
      )
      .join(' + ');
  const problems: string[] = [];
  const mine = sum(o.lines);
  if (caps.market !== null) {
    const cap = minorToMicros(toMinorUnits(caps.market, to), to);
    if (mine > cap)
      problems.push(
        `${o.market}'s daily budgets come to ${show(mine, to)} (${detail(o.lines)}), over its spend cap of ${show(cap, to)}`,
      );
  }
  if (caps.global !== null) {
    const cap = minorToMicros(toMinorUnits(caps.global, to), to);
    const total = sum(o.all);
    if (total > cap)
      problems.push(
        `the daily budgets of every market come to ${show(total, to)}, over the global spend cap of ${show(cap, to)}`,
      );
  }
  return problems;
}
