import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyed, normal } from '../../core/random.ts';
import {
  armReport,
  challengerEvidence,
  formatArmReport,
  formatChallengers,
  ratioInterval,
  type ArmDay,
} from '../../reports/arms.ts';
import { offPolicyMetrics } from '../../ml/training.ts';

describe('arms report', () => {
  // Two arms over 30 market-days each: true CPR 2.0 and 2.6, true CTR 1.5% and 1.2%.
  const r = keyed(5, 'arms');
  const days: ArmDay[] = [];
  for (const [arm, cpr, ctr, markets] of [
    ['ml', 2.0, 0.015, ['SE', 'DE']],
    ['heuristic', 2.6, 0.012, ['BR']],
  ] as const) {
    for (let d = 0; d < 30; d++) {
      const spend = 400 + 200 * r();
      const impressions = Math.round(spend * 200);
      days.push({
        arm,
        market: markets[d % markets.length]!,
        date: `2026-01-${String(1 + (d % 28)).padStart(2, '0')}`,
        spend,
        impressions,
        clicks: Math.round(impressions * ctr * Math.exp(0.1 * normal(r))),
        conversions: Math.round((spend / cpr) * Math.exp(0.2 * normal(r))),
      });
    }
  }

  it('estimates each arm with an interval that holds the truth and separates the arms', () => {
    const [heuristic, ml] = armReport(days);
    assert.equal(heuristic!.arm, 'heuristic');
    assert.deepEqual(ml!.markets, ['DE', 'SE']);
    assert.equal(ml!.marketDays, 30);
    const holds = (i: { low: number | null; high: number | null } | null, v: number) =>
      i !== null && i.low !== null && i.low <= v && v <= i.high!;
    assert.ok(
      holds(ml!.cpr, 2.0) && holds(heuristic!.cpr, 2.6),
      JSON.stringify([ml!.cpr, heuristic!.cpr]),
    );
    assert.ok(holds(ml!.ctr, 0.015) && holds(heuristic!.ctr, 0.012));
    assert.ok(ml!.cpr!.high! < heuristic!.cpr!.low!, 'a 30% CPR gap over 30 market-days is clear');
  });

  it('narrows with more market-days', () => {
    const width = (n: number) => {
      const i = ratioInterval(
        days.slice(0, n).map((d) => d.spend),
        days.slice(0, n).map((d) => d.conversions),
      )!;
      return i.high! - i.low!;
    };
    assert.ok(width(30) < width(8));
  });

  it('gives no bounds from one market-day and no value without conversions', () => {
    assert.deepEqual(ratioInterval([10], [5]), { value: 2, low: null, high: null });
    assert.equal(ratioInterval([10, 5], [0, 0]), null);
    assert.equal(ratioInterval([], []), null);
  });

  it('prints a table with every arm', () => {
    const text = formatArmReport(armReport(days), 'EUR');
    assert.match(text, /^arm +markets +market-days +spend EUR/);
    assert.match(text, /\nheuristic +BR +30 /);
    assert.match(text, /\nml +DE,SE +30 .*\[/);
  });

  it("reads a challenger's off-policy evidence from its registry metrics and prints it", () => {
    const at = (value: number) => ({ value, low: value - 0.001, high: value + 0.001 });
    const metrics = offPolicyMetrics({
      units: 12,
      logged: at(0.005),
      ips: at(0.004),
      snips: at(0.0045),
      dr: at(0.0055),
    });
    const row = { name: 'rank-xgb', version: 3, training_to: '2026-03-09', status: 'champion' };
    const evidence = challengerEvidence({ ...row, metrics: { heldOutRmse: 0.4, ...metrics } })!;
    assert.equal(evidence.model, 'rank-xgb@3');
    assert.equal(evidence.marketDays, 12);
    assert.deepEqual(evidence.dr, at(0.0055));
    assert.equal(challengerEvidence({ ...row, metrics: { heldOutRmse: 0.4 } }), null);
    const text = formatChallengers([evidence], 'EUR');
    assert.match(text, /^model +trained to +status +market-days +ran \(per 1000 EUR\)/);
    assert.match(
      text,
      /\nrank-xgb@3 +2026-03-09 +champion +12 +5\.00 \[4\.00, 6\.00\] .* 5\.50 \[4\.50, 6\.50\]$/,
    );
  });
});
