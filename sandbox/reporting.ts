// Reporting delays: a platform's or an MMP's numbers for a recent day are still coming in. And
// what the platform servers' reports share: report-row tallies, and the budget histories the
// simulator's learning phase reads.
import { daysBetween } from '../core/dates.ts';
import type { BudgetChange, Delivery } from './contracts.ts';
import type { Dated } from './object-store.ts';

/**
 * Share of a day's final numbers visible when read on `today`:
 *   - 0 for days after today;
 *   - (age + 1) / (delayDays + 1) for a day `age` days old while age < delayDays, e.g. with
 *     delayDays = 1 a day read on itself is half there;
 *   - 1 once age >= delayDays: the day is complete and never changes again.
 */
export function completeness(date: string, today: string, delayDays: number): number {
  const age = daysBetween(date, today);
  if (age < 0) return 0;
  if (age >= delayDays) return 1;
  return (age + 1) / (delayDays + 1);
}

/** A delivery as reported on `today`: every count scaled by the day's completeness. */
export function asReported(d: Delivery, today: string, delayDays: number): Delivery {
  const share = completeness(d.date, today, delayDays);
  if (share >= 1) return d;
  const f = (n: number) => Math.floor(n * share);
  const funnel = (x: Delivery['byOs']['ios']) => ({
    installs: f(x.installs),
    registrations: f(x.registrations),
    subscriptions: f(x.subscriptions),
  });
  return {
    ...d,
    impressions: f(d.impressions),
    clicks: f(d.clicks),
    spendMinor: f(d.spendMinor),
    installs: f(d.installs),
    registrations: f(d.registrations),
    subscriptions: f(d.subscriptions),
    byOs: { ios: funnel(d.byOs.ios), android: funnel(d.byOs.android) },
  };
}

/** Running totals of deliveries, as a report row adds them up. */
export interface Tally {
  imp: number;
  clk: number;
  spend: number;
  inst: number;
  reg: number;
  sub: number;
}

export const emptyTally = (): Tally => ({ imp: 0, clk: 0, spend: 0, inst: 0, reg: 0, sub: 0 });

export function addDelivery(t: Tally, d: Delivery): void {
  t.imp += d.impressions;
  t.clk += d.clicks;
  t.spend += d.spendMinor;
  t.inst += d.installs;
  t.reg += d.registrations;
  t.sub += d.subscriptions;
}

/**
 * A daily budget's history as the simulator takes it (DeliveryModel.deliverAdSet `history`): the
 * budget at the end of each day it changed on (ObjectStore.dailyValues), in minor units.
 */
export function budgetChanges(
  days: Dated<{ value: unknown }>,
  toMinor: (value: unknown) => number,
): BudgetChange[] {
  return days.map(({ date, value }) => ({ date, budgetMinor: toMinor(value) }));
}
