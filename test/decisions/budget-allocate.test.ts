import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addDays } from '../../core/dates.ts';
import { allocateBudgets, type BudgetUnit } from '../../decisions/budget/allocate.ts';
import { fitResponse, type SpendDay } from '../../decisions/budget/response.ts';
import { budgetUnits, spendDaysByUnit } from '../../decisions/budget/units.ts';

const TODAY = '2026-03-15';

/** Days of a unit whose results follow `curve(spend)`, at spends cycling through `spends`. */
function days(spends: number[], curve: (s: number) => number, n = 14): SpendDay[] {
  return Array.from({ length: n }, (_, i) => {
    const spendMinor = spends[i % spends.length]!;
    return { date: addDays(TODAY, i - n), spendMinor, results: Math.round(curve(spendMinor)) };
  });
}

const unit = (key: string, d: SpendDay[], previousMinor: number | null = 10_000): BudgetUnit => ({
  key,
  market: key.split('/')[0]!,
  platform: key.split('/')[1]!,
  adSets: 1,
  previousMinor,
  days: d,
});

describe('fitResponse', () => {
  it('sees a straight line where results grow with spend, and saturation where they flatten', () => {
    const spends = [6000, 8000, 10_000, 12_000, 14_000];
    const linear = fitResponse(
      days(spends, (s) => s / 50),
      {
        priorRate: 1 / 50,
        today: TODAY,
        typicalSpend: 10_000,
      },
    );
    const flat = fitResponse(
      days(spends, (s) => 300 * (1 - Math.exp(-s / 4000))),
      {
        priorRate: 1 / 50,
        today: TODAY,
        typicalSpend: 10_000,
      },
    );
    assert.ok(linear.likelyScale > 40_000, `linear scale ${linear.likelyScale}`);
    assert.ok(flat.likelyScale < 20_000, `flat scale ${flat.likelyScale}`);
    // The next unit of spend buys much less where the audience saturates.
    assert.ok(flat.marginal(14_000) < linear.marginal(14_000) / 3);
    assert.ok(Math.abs(linear.expected(10_000) - 200) < 20, `expected ${linear.expected(10_000)}`);
  });

  it('is unsure of a unit with no results of its own and assumes the pooled rate', () => {
    const m = fitResponse([], { priorRate: 0.01, today: TODAY, typicalSpend: 10_000 });
    assert.equal(m.evidence, 0);
    assert.ok(m.uncertainty > 0.5);
    assert.ok(Math.abs(m.marginal(0) - 0.01) < 1e-9);
  });
});

describe('allocateBudgets', () => {
  const cheap = days([9000, 10_000, 11_000], (s) => s / 40);
  const dear = days([9000, 10_000, 11_000], (s) => s / 100);

  it('moves money to the cheaper unit, no faster than the change limit, within the total', () => {
    const a = allocateBudgets({
      date: TODAY,
      totalMinor: 20_000,
      units: [unit('US/meta', cheap), unit('DE/meta', dear)],
      resultName: 'registration',
      money: (m) => `${(m / 100).toFixed(2)} USD`,
    });
    const [us, de] = a.units;
    assert.equal(us!.minor, 12_000);
    assert.equal(de!.minor, 8000);
    assert.equal(a.allocatedMinor, 20_000);
    assert.equal(us!.bound, 'change-up');
    assert.equal(de!.bound, 'change-down');
    assert.match(us!.reason, /^\+20% to 120\.00 USD: the next registration costs about 0\.4\d USD/);
    assert.match(us!.reason, /change limit/);
  });

  it('keeps a market at its maximum and honours its minimum', () => {
    const a = allocateBudgets({
      date: TODAY,
      totalMinor: 20_000,
      units: [unit('US/meta', cheap), unit('DE/meta', dear)],
      markets: { US: { maxMinor: 10_500 }, DE: { minMinor: 9500 } },
    });
    assert.equal(a.units[0]!.minor, 10_500);
    assert.equal(a.units[0]!.bound, 'market-max');
    assert.equal(a.units[1]!.minor, 9500);
  });

  it("keeps every platform's minimum per ad set, and pauses what the total cannot afford", () => {
    const units = [
      { ...unit('US/tiktok', dear), adSets: 2, minMinor: 4000 },
      { ...unit('US/meta', cheap), minMinor: 100 },
    ];
    const a = allocateBudgets({ date: TODAY, totalMinor: 20_000, units });
    assert.ok(a.units[0]!.minor >= 4000);
    const tight = allocateBudgets({
      date: TODAY,
      totalMinor: 3000,
      units: [{ ...unit('US/tiktok', dear), minMinor: 4000 }, unit('US/meta', cheap)],
    });
    assert.equal(tight.units[0]!.minor, 0);
    assert.equal(tight.units[0]!.bound, 'unaffordable');
    assert.ok(tight.allocatedMinor <= 3000);
  });

  it('explores a new unit it knows nothing about rather than starving it', () => {
    const a = allocateBudgets({
      date: TODAY,
      totalMinor: 30_000,
      units: [unit('US/meta', cheap), unit('DE/meta', dear), unit('FR/meta', [], null)],
    });
    const fr = a.units[2]!;
    assert.ok(fr.minor > 8000, `new unit got ${fr.minor}`);
    assert.equal(fr.previousMinor, null);
    assert.match(fr.reason, /^starts at/);
    assert.ok(a.allocatedMinor <= 30_000);
  });

  it('never allocates more than the total, even when yesterday added up to more', () => {
    const a = allocateBudgets({
      date: TODAY,
      totalMinor: 10_000,
      units: [unit('US/meta', cheap), unit('DE/meta', dear)],
    });
    assert.ok(a.allocatedMinor <= 10_000);
    assert.ok(a.units[0]!.minor > a.units[1]!.minor);
  });
});

describe('budget units from delivery rows', () => {
  it('sums rows per market and platform before the date, with previous budgets and minimums', () => {
    const rows = [
      { market: 'US', platform: 'meta', date: '2026-03-13', spendMinor: 500, results: 2 },
      { market: 'US', platform: 'meta', date: '2026-03-13', spendMinor: 700, results: 3 },
      { market: 'US', platform: 'meta', date: '2026-03-15', spendMinor: 900, results: 9 },
    ];
    const units = budgetUnits({
      lines: [
        { market: 'US', platform: 'meta', adSets: 2 },
        { market: 'US', platform: 'tiktok', adSets: 2 },
      ],
      days: spendDaysByUnit(rows, TODAY),
      previous: new Map([['US/meta', 5000]]),
      minPerAdSet: (p) => (p === 'tiktok' ? 2000 : 100),
    });
    assert.deepEqual(units[0]!.days, [{ date: '2026-03-13', spendMinor: 1200, results: 5 }]);
    assert.equal(units[0]!.previousMinor, 5000);
    assert.equal(units[0]!.minMinor, 200);
    assert.equal(units[1]!.previousMinor, null);
    assert.equal(units[1]!.minMinor, 4000);
  });
});
