// Reporting delays: a platform's or an MMP's numbers for a recent day are still coming in.
import { daysBetween } from '../core/dates.ts';
import type { Delivery } from './contracts.ts';

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
