// Champion / challenger arms compared: each arm's cost per conversion and click-through rate with
// 95% confidence intervals. The unit of evidence is one market-day, since ads within a market and
// day share the platform's auction and the daily noise: the intervals are cluster-robust over
// market-days (delta method for a ratio of sums, Student's t for few days).
// What they do not cover: arms are split by market, so an arm's interval is about its own markets
// over these days, and a difference between arms mixes the policy with the markets' own
// differences (days within a market are also correlated). Days a market fell back to the heuristic
// count under the heuristic (as treated, not as assigned). Read a gap as causal only when the arms
// run on comparable markets, or on the same markets in turn.
// Pure: the rows come from reports/collect.ts or from a simulation.

import type { ArmDay } from '../core/types.ts';

export type { ArmDay };

export interface Interval {
  value: number;
  /** 95% bounds; null with fewer than two market-days (no spread to measure). */
  low: number | null;
  high: number | null;
}

export interface ArmStats {
  arm: string;
  markets: string[];
  marketDays: number;
  spend: number;
  impressions: number;
  clicks: number;
  conversions: number;
  /** Spend per conversion; null without conversions. */
  cpr: Interval | null;
  ctr: Interval | null;
}

/** Two-sided 95% quantiles of Student's t by degrees of freedom (the normal's 1.96 past 120). */
const T95: ReadonlyArray<[number, number]> = [
  [1, 12.706],
  [2, 4.303],
  [3, 3.182],
  [4, 2.776],
  [5, 2.571],
  [6, 2.447],
  [7, 2.365],
  [8, 2.306],
  [9, 2.262],
  [10, 2.228],
  [12, 2.179],
  [15, 2.131],
  [20, 2.086],
  [25, 2.06],
  [30, 2.042],
  [40, 2.021],
  [60, 2.0],
  [120, 1.98],
];

/** The t quantile for `df` degrees of freedom, rounding df down to the table (conservative). */
function t95(df: number): number {
  let q = 1.959964;
  for (let i = T95.length - 1; i >= 0; i--) {
    if (df >= T95[i]![0]) {
      q = df >= 1000 ? 1.959964 : T95[i]![1];
      break;
    }
  }
  return q;
}

/**
 * sum(num) / sum(den) over units, with the delta-method standard error of a ratio estimator:
 * var ≈ n / (n - 1) · Σ (num_i - R · den_i)² / (Σ den_i)².
 */
export function ratioInterval(num: readonly number[], den: readonly number[]): Interval | null {
  const n = num.length;
  const sn = num.reduce((s, v) => s + v, 0);
  const sd = den.reduce((s, v) => s + v, 0);
  if (n === 0 || sd <= 0) return null;
  const r = sn / sd;
  if (n < 2) return { value: r, low: null, high: null };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (num[i]! - r * den[i]!) ** 2;
  const se = Math.sqrt((n / (n - 1)) * ss) / sd;
  const q = t95(n - 1);
  return { value: r, low: Math.max(0, r - q * se), high: r + q * se };
}

/** Each arm's totals and intervals, arms in name order. */
export function armReport(days: readonly ArmDay[]): ArmStats[] {
  const byArm = new Map<string, ArmDay[]>();
  for (const d of days) {
    const list = byArm.get(d.arm) ?? [];
    list.push(d);
    byArm.set(d.arm, list);
  }
  return [...byArm.keys()].sort().map((arm) => {
    const list = byArm.get(arm)!;
    const sum = (f: (d: ArmDay) => number) => list.reduce((s, d) => s + f(d), 0);
    return {
      arm,
      markets: [...new Set(list.map((d) => d.market))].sort(),
      marketDays: list.length,
      spend: sum((d) => d.spend),
      impressions: sum((d) => d.impressions),
      clicks: sum((d) => d.clicks),
      conversions: sum((d) => d.conversions),
      cpr: ratioInterval(
        list.map((d) => d.spend),
        list.map((d) => d.conversions),
      ),
      ctr: ratioInterval(
        list.map((d) => d.clicks),
        list.map((d) => d.impressions),
      ),
    };
  });
}

/**
 * A trained challenger's off-policy evaluation (ml/off-policy.ts), as the training activity
 * stored it in the model registry: what it would have earned per unit of spend on its held-out
 * market-days by three estimators, against what ran there, and whether it was promoted.
 */
export interface ChallengerEvidence {
  model: string;
  trainingTo: string;
  status: string;
  marketDays: number;
  /** Conversions per unit of spend (the mean over market-days of each slate's average). */
  logged: Interval;
  ips: Interval;
  snips: Interval;
  dr: Interval;
}

/** The evidence in a registry row's metrics, or null for a model evaluated without it. */
export function challengerEvidence(row: {
  name: string;
  version: number;
  training_to: string;
  status: string;
  metrics: Record<string, number>;
}): ChallengerEvidence | null {
  const m = row.metrics;
  if (!(m.opeUnits! > 0)) return null;
  const at = (label: string): Interval => ({
    value: m[`ope${label}`]!,
    low: m[`ope${label}Low`] ?? null,
    high: m[`ope${label}High`] ?? null,
  });
  return {
    model: `${row.name}@${row.version}`,
    trainingTo: row.training_to,
    status: row.status,
    marketDays: m.opeUnits!,
    logged: at('Logged'),
    ips: at('Ips'),
    snips: at('Snips'),
    dr: at('Dr'),
  };
}

/** Conversions per 1,000 units of spend, the scale the evidence is shown at. */
export const PER_THOUSAND = 1000;

/** A plain-text table of challengers' off-policy evidence (conversions per 1,000 spent). */
export function formatChallengers(list: readonly ChallengerEvidence[], currency: string): string {
  const ci = (i: Interval) => {
    const f = (v: number) => (v * PER_THOUSAND).toFixed(2);
    return i.low === null || i.high === null
      ? f(i.value)
      : `${f(i.value)} [${f(i.low)}, ${f(i.high)}]`;
  };
  return table(
    [
      'model',
      'trained to',
      'status',
      'market-days',
      `ran (per 1000 ${currency})`,
      'IPS',
      'SNIPS',
      'DR (95% CI)',
    ],
    list.map((c) => [
      c.model,
      c.trainingTo,
      c.status,
      String(c.marketDays),
      ci(c.logged),
      ci(c.ips),
      ci(c.snips),
      ci(c.dr),
    ]),
  );
}

/** Columns padded to their widest cell. */
function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((v, c) => v.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A plain-text table of the arms, for terminals and logs. */
export function formatArmReport(stats: readonly ArmStats[], currency: string): string {
  const ci = (i: Interval | null, f: (v: number) => string) =>
    !i ? 'n/a' : i.low === null ? f(i.value) : `${f(i.value)} [${f(i.low)}, ${f(i.high!)}]`;
  const money = (v: number) => v.toFixed(2);
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const rows = stats.map((s) => [
    s.arm,
    s.markets.join(','),
    String(s.marketDays),
    money(s.spend),
    String(s.conversions),
    ci(s.cpr, money),
    ci(s.ctr, pct),
  ]);
  const head = [
    'arm',
    'markets',
    'market-days',
    `spend ${currency}`,
    'conversions',
    'CPR (95% CI)',
    'CTR (95% CI)',
  ];
  return table(head, rows);
}
