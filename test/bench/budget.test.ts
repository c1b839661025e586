import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBudgetBench } from '../../bench/budget.ts';

describe('bench:budget', () => {
  it('compares the allocator with an equal split and the oracle at the same spend', () => {
    const r = runBudgetBench({
      worlds: 1,
      seeds: 1,
      days: 10,
      unitBudgetMinor: 10_000,
      slots: 3,
      start: '2026-03-02',
    });
    assert.equal(r.worlds.length, 1);
    const w = r.worlds[0]!;
    assert.equal(typeof w.gain_vs_equal, 'number');
    // The same money: every policy spends the same total, to the cent per unit and day.
    const slack = w.units * 10;
    assert.ok(Math.abs(w.spend.adloop - w.spend.equal) <= slack, JSON.stringify(w.spend));
    assert.ok(Math.abs(w.spend.oracle - w.spend.equal) <= slack, JSON.stringify(w.spend));
    // The oracle knows the truth: it does at least as well as the equal split.
    assert.ok(w.registrations.oracle >= w.registrations.equal);
    // No unit's budget moved by more than the change limit (and a cent of rounding).
    assert.ok(w.seeds[0]!.max_daily_change <= 0.21, String(w.seeds[0]!.max_daily_change));
  });
});
