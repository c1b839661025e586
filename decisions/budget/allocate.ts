// Daily budget allocation: a total daily budget split over units (one market's ad sets on one
// platform) by expected marginal results, from each unit's spend-response model. Each step of
// money goes where the next result is cheapest, so with diminishing returns the units end where
// their marginal costs meet, within the bounds: per-market minimums and maximums, each platform's
// minimum per ad set, and a limit on day-to-day change. Pure.
//
// Why the change limit: Meta puts an ad set back into its learning phase after a significant edit,
// a budget change among them, and delivery is less stable and usually costlier until it has seen
// about 50 optimisation events again (https://www.facebook.com/business/help/112167992830700);
// TikTok's and Google's bidding relearn alike. Moving a budget by at most `maxChange` a day keeps
// the ad sets out of relearning while still compounding: 20% a day is 2.5x in five days.
import { fitResponse, pooledRate, type ResponseModel, type SpendDay } from './response.ts';

export type { ResponseModel, SpendDay } from './response.ts';

export interface BudgetUnit {
  /** Stable key, e.g. `US/meta`. */
  key: string;
  market: string;
  platform: string;
  /** Ad sets that share the unit's budget equally. */
  adSets: number;
  /** Yesterday's daily budget of the unit (every ad set), or null when it is new. */
  previousMinor: number | null;
  /** The platform's minimum for the unit (its minimum per ad set times `adSets`). Default 0. */
  minMinor?: number;
  /** The most the unit may get, e.g. a platform's maximum; null for none. */
  maxMinor?: number | null;
  /** Its delivery so far, days before the allocation's date. */
  days: readonly SpendDay[];
}

export interface MarketBounds {
  minMinor?: number;
  maxMinor?: number;
}

export interface AllocationOptions {
  /** Most a unit's budget may move in a day, as a share of yesterday's. Default 0.2. */
  maxChange: number;
  /**
   * Optimism towards uncertain units, in standard deviations of their rate (see
   * ResponseModel.optimisticMarginal): how strongly allocation explores. Default 1.
   */
  explore: number;
  /** Steps the total is handed out in. Default 400. */
  steps: number;
}

export const DEFAULT_ALLOCATION: AllocationOptions = { maxChange: 0.2, explore: 1, steps: 400 };

/** What bounded a unit's budget. */
export type BudgetBound =
  | 'change-up'
  | 'change-down'
  | 'market-max'
  | 'market-min'
  | 'platform-min'
  | 'unit-max'
  | 'unaffordable'
  | null;

export interface UnitBudget {
  key: string;
  market: string;
  platform: string;
  adSets: number;
  /** Today's budget of the unit, in minor units (each ad set gets `minor / adSets`, floored). */
  minor: number;
  previousMinor: number | null;
  /** Results expected at `minor` a day (the model's mean). */
  expectedResults: number;
  /** Marginal cost of the next result at `minor`, in minor units; null with no results seen. */
  marginalCostMinor: number | null;
  /** Relative uncertainty of the unit's rate (coefficient of variation). */
  uncertainty: number;
  /** The money went here partly because the unit is uncertain (it would get less on the mean). */
  exploring: boolean;
  bound: BudgetBound;
  /** One sentence for the report and the approval gate: why this budget. */
  reason: string;
}

export interface Allocation {
  date: string;
  totalMinor: number;
  allocatedMinor: number;
  units: UnitBudget[];
  expectedResults: number;
}

/**
 * Splits `totalMinor` over `units` for `date`. Never allocates more than the total; allocates less
 * only when every unit is at a maximum. `markets` bounds the sum of a market's units.
 */
export function allocateBudgets(
  input: {
    date: string;
    totalMinor: number;
    units: readonly BudgetUnit[];
    markets?: Readonly<Record<string, MarketBounds>>;
    /** What a result is, for the reasons (e.g. `registration`). Default `result`. */
    resultName?: string;
    /** Formats minor units for the reasons, e.g. `12.34 USD`. Default the bare number. */
    money?: (minor: number) => string;
    /**
     * Each unit's response model, in `units` order. Default: fitted from the units' days. (An
     * oracle passes the true curves, to measure how far the fitted ones fall short.)
     */
    models?: readonly ResponseModel[];
  },
  options: Partial<AllocationOptions> = {},
): Allocation {
  const o = { ...DEFAULT_ALLOCATION, ...options };
  const { date, totalMinor, units } = input;
  const markets = input.markets ?? {};
  const money = input.money ?? ((m: number) => String(Math.round(m)));
  const resultName = input.resultName ?? 'result';
  if (units.length === 0 || totalMinor <= 0)
    return { date, totalMinor, allocatedMinor: 0, units: [], expectedResults: 0 };
  const fair = totalMinor / units.length;
  const prior = pooledRate(units.flatMap((u) => u.days)) ?? 1e-6;
  const models =
    input.models ??
    units.map((u) =>
      fitResponse(u.days, { priorRate: prior, today: date, typicalSpend: u.previousMinor ?? fair }),
    );
  if (models.length !== units.length)
    throw new Error(`allocateBudgets: ${models.length} models for ${units.length} units`);

  // Bounds per unit: the platform's floor, yesterday's budget ± the change limit, the unit's max.
  const floor = units.map((u) => Math.max(0, u.minMinor ?? 0));
  const lo = units.map((u, i) =>
    u.previousMinor === null ? floor[i]! : Math.max(floor[i]!, u.previousMinor * (1 - o.maxChange)),
  );
  const hi = units.map((u, i) =>
    Math.max(
      lo[i]!,
      Math.min(
        u.maxMinor ?? Infinity,
        // A new unit starts near an equal share, then moves like the others.
        (u.previousMinor ?? fair) * (1 + o.maxChange),
      ),
    ),
  );
  const bound: BudgetBound[] = units.map(() => null);
  // Yesterday's budgets may add up to more than today's total (the total was lowered): the change
  // limit gives way first, then units whose platform minimum cannot be afforded are paused,
  // least productive first.
  const sumOf = (xs: number[], keep: boolean[]) => xs.reduce((s, x, i) => s + (keep[i] ? x : 0), 0);
  const active = units.map(() => true);
  if (sumOf(lo, active) > totalMinor) for (let i = 0; i < lo.length; i++) lo[i] = floor[i]!;
  const byPromise = units
    .map((_, i) => i)
    .sort((a, b) => models[a]!.marginal(floor[a]!) - models[b]!.marginal(floor[b]!));
  for (const i of byPromise) {
    if (sumOf(lo, active) <= totalMinor) break;
    active[i] = false;
    bound[i] = 'unaffordable';
  }
  // Market minimums: lift the market's units towards their maximums until the minimum is met.
  for (const [market, b] of Object.entries(markets)) {
    if (!b.minMinor) continue;
    const mine = units.map((u, i) => i).filter((i) => units[i]!.market === market && active[i]);
    let short = b.minMinor - mine.reduce((s, i) => s + lo[i]!, 0);
    for (const i of mine) {
      if (short <= 0) break;
      const lift = Math.min(short, hi[i]! - lo[i]!);
      lo[i]! += lift;
      short -= lift;
      if (lift > 0) bound[i] = 'market-min';
    }
  }

  const fill = (z: number) => {
    const b = lo.map((x, i) => (active[i] ? x : 0));
    const marketSum = new Map<string, number>();
    units.forEach((u, i) => marketSum.set(u.market, (marketSum.get(u.market) ?? 0) + b[i]!));
    let left = totalMinor - b.reduce((s, x) => s + x, 0);
    const step = Math.max(1, totalMinor / o.steps);
    while (left > 1e-9) {
      const chunk = Math.min(step, left);
      let best = -1;
      let bestValue = -Infinity;
      for (let i = 0; i < units.length; i++) {
        if (!active[i]) continue;
        const room = Math.min(
          hi[i]! - b[i]!,
          (markets[units[i]!.market]?.maxMinor ?? Infinity) - marketSum.get(units[i]!.market)!,
        );
        if (room <= 1e-9) continue;
        const v = models[i]!.optimisticMarginal(b[i]!, z);
        if (v > bestValue) {
          bestValue = v;
          best = i;
        }
      }
      if (best < 0) break;
      const room = Math.min(
        hi[best]! - b[best]!,
        (markets[units[best]!.market]?.maxMinor ?? Infinity) - marketSum.get(units[best]!.market)!,
      );
      const give = Math.min(chunk, room);
      b[best]! += give;
      marketSum.set(units[best]!.market, marketSum.get(units[best]!.market)! + give);
      left -= give;
    }
    return b;
  };
  const chosen = fill(o.explore);
  const onTheMean = o.explore > 0 ? fill(0) : chosen;

  // Whole minor units, never above the total: floor, then hand the remainder out largest first.
  const minor = chosen.map((x) => Math.floor(x));
  let remainder = Math.min(
    totalMinor - minor.reduce((s, x) => s + x, 0),
    Math.round(chosen.reduce((s, x) => s + x, 0)) - minor.reduce((s, x) => s + x, 0),
  );
  const byFraction = chosen.map((x, i) => ({ i, f: x - Math.floor(x) })).sort((a, b) => b.f - a.f);
  for (const { i } of byFraction) {
    if (remainder <= 0) break;
    if (minor[i]! + 1 > hi[i]! || !active[i]) continue;
    minor[i]! += 1;
    remainder -= 1;
  }

  const marketTotals = new Map<string, number>();
  units.forEach((u, i) =>
    marketTotals.set(u.market, (marketTotals.get(u.market) ?? 0) + minor[i]!),
  );
  const out: UnitBudget[] = units.map((u, i) => {
    const m = models[i]!;
    const b = minor[i]!;
    const near = (a: number, x: number) => Math.abs(a - x) <= Math.max(1, totalMinor / o.steps);
    let why: BudgetBound = bound[i] ?? null;
    if (why === null && active[i]) {
      const mMax = markets[u.market]?.maxMinor;
      if (mMax !== undefined && near(marketTotals.get(u.market)!, mMax)) why = 'market-max';
      else if (u.maxMinor != null && near(b, u.maxMinor)) why = 'unit-max';
      else if (u.previousMinor !== null && near(b, hi[i]!) && hi[i]! > u.previousMinor)
        why = 'change-up';
      else if (u.previousMinor !== null && near(b, lo[i]!) && lo[i]! < u.previousMinor)
        why = floor[i]! >= lo[i]! ? 'platform-min' : 'change-down';
      else if (near(b, floor[i]!) && floor[i]! > 0) why = 'platform-min';
    }
    const marginal = m.marginal(b);
    const exploring =
      active[i] === true && chosen[i]! > onTheMean[i]! + Math.max(1, totalMinor / o.steps);
    return {
      key: u.key,
      market: u.market,
      platform: u.platform,
      adSets: u.adSets,
      minor: b,
      previousMinor: u.previousMinor,
      expectedResults: m.expected(b),
      marginalCostMinor: m.evidence > 0 && marginal > 0 ? 1 / marginal : null,
      uncertainty: m.uncertainty,
      exploring,
      bound: why,
      reason: reasonFor({ unit: u, minor: b, model: m, bound: why, exploring, money, resultName }),
    };
  });
  return {
    date,
    totalMinor,
    allocatedMinor: minor.reduce((s, x) => s + x, 0),
    units: out,
    expectedResults: out.reduce((s, u) => s + u.expectedResults, 0),
  };
}

/** Results of its own (decayed) a unit needs before its reason speaks of diminishing returns. */
const MIN_EVIDENCE = 10;

const BOUND_TEXT: Record<Exclude<BudgetBound, null>, string> = {
  'change-up': 'held to the daily change limit so the platform does not relearn',
  'change-down': 'lowered no faster than the daily change limit allows',
  'market-max': "at its market's maximum",
  'market-min': "held up to its market's minimum",
  'platform-min': "at the platform's minimum budget",
  'unit-max': 'at its maximum',
  unaffordable: "paused: the total cannot cover every ad set's platform minimum",
};

/** One sentence: the change, and why (its marginal cost, a bound, or exploration). */
function reasonFor(o: {
  unit: BudgetUnit;
  minor: number;
  model: ResponseModel;
  bound: BudgetBound;
  exploring: boolean;
  money: (minor: number) => string;
  resultName: string;
}): string {
  const { unit, minor, model, bound, exploring, money, resultName } = o;
  const prev = unit.previousMinor;
  const shared = unit.adSets > 1 ? ` (${unit.adSets} ad sets)` : '';
  const change =
    prev === null || prev === 0
      ? `starts at ${money(minor)}${shared}`
      : minor === prev
        ? `stays at ${money(minor)}${shared}`
        : `${minor > prev ? '+' : ''}${Math.round(((minor - prev) / prev) * 100)}% to ${money(minor)}${shared}`;
  const parts: string[] = [];
  const marginal = model.marginal(minor);
  if (model.evidence > 0 && marginal > 0)
    parts.push(`the next ${resultName} costs about ${money(1 / marginal)}`);
  else parts.push(`no ${resultName}s of its own yet: assumed average`);
  // Said only where the unit's own results show it: the next unit of spend buys under 70% of
  // what the first did.
  if (model.evidence >= MIN_EVIDENCE && marginal < 0.7 * model.marginal(0))
    parts.push('returns are diminishing at this spend');
  if (exploring)
    parts.push(`exploring: its rate is still uncertain (±${Math.round(model.uncertainty * 100)}%)`);
  if (bound) parts.push(BOUND_TEXT[bound]);
  return `${change}: ${parts.join('; ')}`;
}
