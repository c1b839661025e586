// What learning concludes per creative from its delivery over the lookback window. Pure: the
// learn activity stores these rows as training data for ranking and as the source of reports.
//   CTR = clicks / impressions            CVR = registrations / clicks
//   CPR = spend / registrations           cost per subscription = spend / subscriptions
//   registration share = the creative's registrations / the market's
//   relative CPR = CPR / the market's median CPR (1 = typical, < 1 = cheaper than typical)
//   relative registration share = share / the market's median share
// Relative figures make markets comparable: a cheap market's median is cheap too.
import type { DeliveryCounts } from '../../core/types.ts';

export interface CreativeDelivery extends DeliveryCounts {
  creativeHash: string;
  /** Android registrations the MMP attributed to this creative (iOS never is). */
  mmpRegistrations: number;
}

export interface CreativeRates extends CreativeDelivery {
  ctr: number | null;
  cvr: number | null;
  cprMicros: number | null;
  cpsMicros: number | null;
  registrationShare: number | null;
  relativeCpr: number | null;
  relativeRegistrationShare: number | null;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export function creativePerformance(deliveries: readonly CreativeDelivery[]): CreativeRates[] {
  const totalRegistrations = deliveries.reduce((s, d) => s + d.registrations, 0);
  const base = deliveries.map((d) => ({
    ...d,
    ctr: ratio(d.clicks, d.impressions),
    cvr: ratio(d.registrations, d.clicks),
    cprMicros: ratio(d.spendMicros, d.registrations),
    cpsMicros: ratio(d.spendMicros, d.subscriptions),
    registrationShare: ratio(d.registrations, totalRegistrations),
  }));
  const medianCpr = median(base.flatMap((b) => (b.cprMicros === null ? [] : [b.cprMicros])));
  const medianShare = median(
    base.flatMap((b) => (b.registrationShare === null ? [] : [b.registrationShare])),
  );
  return base.map((b) => ({
    ...b,
    relativeCpr: b.cprMicros !== null && medianCpr ? b.cprMicros / medianCpr : null,
    relativeRegistrationShare:
      b.registrationShare !== null && medianShare ? b.registrationShare / medianShare : null,
  }));
}
