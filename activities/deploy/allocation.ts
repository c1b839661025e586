// The day's budget allocation: split the accounts file's daily budget over every market's ad sets
// on each platform by expected marginal results (decisions/budget), and store it whole with the
// reason for each unit. The first market to plan its deploy on a day makes it (each market's
// schedule runs on its own), every later one reads it: the first writer wins, so every market of
// a day deploys one allocation. Deploy then sets its ad sets' budgets to it (shown in the plan,
// held under the spend caps, audited).
import { runMarkets } from '../../core/accounts.ts';
import { addDays } from '../../core/dates.ts';
import type { Config } from '../../core/config.ts';
import {
  convertMicros,
  fromMinorUnits,
  minorDigits,
  minorToMicros,
  toMinorUnits,
} from '../../core/money.ts';
import type { BudgetPlanResult } from '../../core/types.ts';
import { allocateBudgets, type MarketBounds } from '../../decisions/budget/allocate.ts';
import { PLATFORM_MIN_DAILY_USD } from '../../decisions/budget/platform-limits.ts';
import {
  budgetUnits,
  spendDaysByUnit,
  unitKey,
  type UnitDeliveryRow,
} from '../../decisions/budget/units.ts';
import {
  allocationOn,
  latestAllocation,
  saveAllocation,
  unitDelivery,
} from '../../db/budgets.repository.ts';
import type { BudgetAllocationRow } from '../../db/budgets.table.ts';
import { marketPlatforms, marketSegments, type PlatformSettings, type StageDeps } from '../deps.ts';

/** Settings the day's allocation reads. */
export type BudgetSettings = Pick<
  Config,
  | 'REPORTING_CURRENCY'
  | 'DEPLOY_OS'
  | 'DEPLOY_OBJECTIVE'
  | 'BUDGET_OBJECTIVE'
  | 'BUDGET_LOOKBACK_DAYS'
  | 'BUDGET_MAX_DAILY_CHANGE'
  | 'BUDGET_EXPLORE'
> &
  PlatformSettings;

/** Reporting-currency helpers: micros and accounts-file amounts in minor units, and labels. */
function inReporting(currency: string, fx: StageDeps<BudgetSettings>['fx']) {
  const scale = 10 ** minorDigits(currency);
  return {
    /** An accounts-file amount (major units of the reporting currency) in minor units. */
    amount: (a: string) => toMinorUnits(a, currency),
    /** Micros of `from` in (fractional) minor units of the reporting currency. */
    minor: (micros: number, from: string) =>
      (convertMicros(micros, from, currency, fx) / 1e6) * scale,
    micros: (minor: number) => minorToMicros(minor, currency),
    label: (minor: number) => `${(minor / scale).toFixed(minorDigits(currency))} ${currency}`,
  };
}

/** A unit's fixed budget (every ad set's, accounts file) in reporting minor units, or null. */
function configuredMinor(
  deps: StageDeps<BudgetSettings>,
  line: { market: string; platform: string; adSets: number },
  accountCurrency: string | undefined,
): number | null {
  const { accounts } = marketPlatforms(deps, line.market);
  const amount =
    line.platform === 'meta'
      ? accounts.meta?.dailyBudget
      : line.platform === 'tiktok'
        ? accounts.tiktok?.dailyBudget
        : accounts.google?.dailyBudget;
  if (!amount || !accountCurrency) return null;
  const micros = minorToMicros(toMinorUnits(amount, accountCurrency), accountCurrency);
  return inReporting(deps.config.REPORTING_CURRENCY, deps.fx).minor(
    micros * line.adSets,
    accountCurrency,
  );
}

/**
 * Makes `date`'s allocation over every market the accounts run, unless the day has one, and says
 * what it came to. Does nothing without a `dailyBudget` in the accounts file.
 */
export async function ensureAllocation(
  deps: StageDeps<BudgetSettings>,
  date: string,
): Promise<BudgetPlanResult> {
  const { db, config, fx } = deps;
  const file = deps.accounts;
  if (!file.dailyBudget) return { enabled: false, date, reason: 'no dailyBudget in ACCOUNTS_PATH' };
  const currency = config.REPORTING_CURRENCY;
  const existing = await allocationOn(db, date);
  if (existing.length > 0) return summary(currency, date, existing, true);
  const r = inReporting(currency, fx);

  const markets = runMarkets(file);
  const lines = markets.flatMap((market) => {
    const adSets = marketSegments(deps, market).length;
    return marketPlatforms(deps, market).deployTo.map((platform) => ({ market, platform, adSets }));
  });
  // What each unit delivered, in the reporting currency: the objective's results per day.
  const delivered = await unitDelivery(db, {
    from: addDays(date, -config.BUDGET_LOOKBACK_DAYS),
    to: addDays(date, -1),
  });
  const results = config.BUDGET_OBJECTIVE;
  const rows: UnitDeliveryRow[] = delivered.map((d) => ({
    market: d.market,
    platform: d.platform,
    date: d.date,
    spendMinor: r.minor(d.spendMicros, d.currency),
    results: d[results],
  }));
  const accountCurrency = new Map(
    delivered.map((d) => [unitKey(d.market, d.platform), d.currency]),
  );
  // Yesterday's budgets: the last allocation, else the fixed budgets the ad sets run on.
  const last = await latestAllocation(db, { date, before: true });
  const previous = new Map<string, number>();
  for (const l of lines) {
    const key = unitKey(l.market, l.platform);
    const row = last.find((x) => x.market === l.market && x.platform === l.platform);
    const minor = row
      ? r.minor(row.budget_micros, row.currency)
      : configuredMinor(deps, l, accountCurrency.get(key));
    if (minor !== null) previous.set(key, Math.round(minor));
  }
  const units = budgetUnits({
    lines,
    days: spendDaysByUnit(rows, date),
    previous,
    minPerAdSet: (p) =>
      Math.ceil(
        r.minor(PLATFORM_MIN_DAILY_USD[p as keyof typeof PLATFORM_MIN_DAILY_USD] * 1e6, 'USD'),
      ),
  });
  // Caps are held with a minor unit to spare per unit: each ad set's budget is converted into its
  // account's currency and back when deploy checks the caps, and rounding must not tip it over.
  const spare = (market?: string) => lines.filter((l) => !market || l.market === market).length;
  const bounds: Record<string, MarketBounds> = {};
  for (const market of markets) {
    const { accounts } = marketPlatforms(deps, market);
    bounds[market] = {
      ...(accounts.spendCap ? { maxMinor: r.amount(accounts.spendCap) - spare(market) } : {}),
      ...(accounts.minDaily ? { minMinor: r.amount(accounts.minDaily) } : {}),
    };
  }
  // Never more than the global cap, whatever the budget says.
  const total = Math.min(
    r.amount(file.dailyBudget),
    file.spendCap ? r.amount(file.spendCap) - spare() : Infinity,
  );
  const allocation = allocateBudgets(
    {
      date,
      totalMinor: total,
      units,
      markets: bounds,
      resultName: results.slice(0, -1),
      money: r.label,
    },
    { maxChange: config.BUDGET_MAX_DAILY_CHANGE, explore: config.BUDGET_EXPLORE },
  );
  const saved = await saveAllocation(
    db,
    date,
    allocation.units.map((u) => ({
      market: u.market,
      platform: u.platform,
      ad_sets: u.adSets,
      budget_micros: r.micros(u.minor),
      previous_micros: u.previousMinor === null ? null : r.micros(u.previousMinor),
      currency,
      expected_results: u.expectedResults,
      marginal_cost_micros:
        u.marginalCostMinor === null ? null : Math.round(r.micros(u.marginalCostMinor)),
      uncertainty: u.uncertainty,
      exploring: u.exploring,
      bound: u.bound,
      reason: u.reason,
    })),
  );
  // Another market made the day's first (it was planning at the same time): that one stands.
  return summary(currency, date, await allocationOn(db, date), !saved);
}

function summary(
  currency: string,
  date: string,
  rows: BudgetAllocationRow[],
  reused: boolean,
): BudgetPlanResult {
  const total = rows.reduce((s, x) => s + x.budget_micros, 0);
  return {
    enabled: true,
    date,
    reused,
    currency,
    total: fromMinorUnits(Math.floor(total / 10 ** (6 - minorDigits(currency))), currency),
    units: rows.length,
    changed: rows.filter((x) => x.previous_micros !== null && x.previous_micros !== x.budget_micros)
      .length,
    exploring: rows.filter((x) => x.exploring).length,
  };
}
