// From delivery rows to budget units: the daily loop and bench:budget both build the allocator's
// input here, so the benchmark measures what production decides. Pure.
import type { BudgetUnit, SpendDay } from './allocate.ts';

/** One ad's (or ad set's) day, money already in minor units of the allocation's currency. */
export interface UnitDeliveryRow {
  market: string;
  platform: string;
  date: string;
  spendMinor: number;
  /** What the unit's objective counts: registrations, or subscriptions. */
  results: number;
}

export const unitKey = (market: string, platform: string) => `${market}/${platform}`;

/** Each unit's days (summed over its ads), before `date` only, in date order. */
export function spendDaysByUnit(
  rows: Iterable<UnitDeliveryRow>,
  date: string,
): Map<string, SpendDay[]> {
  const byUnit = new Map<string, Map<string, SpendDay>>();
  for (const r of rows) {
    if (r.date >= date) continue;
    const key = unitKey(r.market, r.platform);
    const days = byUnit.get(key) ?? new Map<string, SpendDay>();
    const d = days.get(r.date) ?? { date: r.date, spendMinor: 0, results: 0 };
    d.spendMinor += r.spendMinor;
    d.results += r.results;
    days.set(r.date, d);
    byUnit.set(key, days);
  }
  return new Map(
    [...byUnit].map(([k, days]) => [
      k,
      [...days.values()].sort((a, b) => a.date.localeCompare(b.date)),
    ]),
  );
}

/**
 * The allocator's units: one per market and platform that deploys, with its ad sets, yesterday's
 * budget and the platform's minimum per ad set.
 */
export function budgetUnits(o: {
  lines: ReadonlyArray<{ market: string; platform: string; adSets: number }>;
  days: ReadonlyMap<string, SpendDay[]>;
  previous: ReadonlyMap<string, number>;
  /** The platform's minimum daily budget per ad set, in minor units; 0 when none. */
  minPerAdSet: (platform: string) => number;
}): BudgetUnit[] {
  return o.lines.map((l) => {
    const key = unitKey(l.market, l.platform);
    return {
      key,
      market: l.market,
      platform: l.platform,
      adSets: l.adSets,
      previousMinor: o.previous.get(key) ?? null,
      minMinor: o.minPerAdSet(l.platform) * l.adSets,
      days: o.days.get(key) ?? [],
    };
  });
}
