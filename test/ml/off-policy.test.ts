// Off-policy evaluation as pure functions: the estimators against a synthetic truth, the
// inclusion probabilities the slate selection reports, and the promotion rule that reads them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyed, normal } from '../../core/random.ts';
import {
  confidentlyWorse,
  loggedItemsByDay,
  offPolicyEstimates,
  type LoggedUnit,
  type OffPolicyEstimates,
} from '../../ml/off-policy.ts';
import { selectSlate } from '../../ml/select.ts';
import type { TrainingOutcome } from '../../ml/training.ts';
import { withOffPolicyEvidence } from '../../ml/training.ts';
import type { CreativeDay } from '../../ml/features.ts';

/** Six creatives' true conversions per unit of spend. */
const RHO = [0.02, 0.018, 0.03, 0.01, 0.012, 0.025, 0.04];
const id = (j: number) => `a${j}`;

/**
 * A logging policy that exploits creatives 0 and 1 and explores one of 2..5 with `explore`'s
 * probabilities; rewards are the true rates with 30% multiplicative noise. The target's
 * inclusion probabilities are `target`; `q` is the reward model DR uses.
 */
function units(
  n: number,
  target: Record<number, number>,
  q: (j: number) => number,
  seed = 'ope',
): LoggedUnit[] {
  const explore = [0.4, 0.3, 0.2, 0.1];
  const r = keyed(seed);
  const out: LoggedUnit[] = [];
  for (let u = 0; u < n; u++) {
    let x = r();
    let e = 0;
    while (e < explore.length - 1 && x >= explore[e]!) x -= explore[e++]!;
    const slate: Array<[number, number]> = [
      [0, 1],
      [1, 1],
      [2 + e, explore[e]!],
    ];
    out.push({
      market: 'SE',
      date: '2026-01-01',
      logged: slate.map(([j, propensity]) => {
        const spend = 1000;
        return {
          artistId: id(j),
          templateId: 't',
          propensity,
          spend,
          conversions: spend * RHO[j]! * Math.exp(0.3 * normal(r) - 0.045),
        };
      }),
      target: {
        inclusion: Object.entries(target).map(([j, probability]) => ({
          artistId: id(Number(j)),
          templateId: 't',
          probability,
        })),
        expectedRate: (artistId) => q(Number(artistId.slice(1))),
      },
    });
  }
  return out;
}

const truth = (target: Record<number, number>) =>
  Object.entries(target).reduce((s, [j, p]) => s + p * RHO[Number(j)]!, 0) / 3;

describe('off-policy estimators', () => {
  it('give what ran when the target is the logging policy itself', () => {
    const same = { 0: 1, 1: 1, 2: 0.4, 3: 0.3, 4: 0.2, 5: 0.1 };
    const e = offPolicyEstimates(units(500, same, () => 0.5))!;
    assert.equal(e.units, 500);
    for (const name of ['ips', 'snips', 'dr'] as const)
      assert.ok(
        Math.abs(e[name].value - e.logged.value) < 1e-12,
        `${name} ${e[name].value} ${e.logged.value}`,
      );
  });

  it('estimate a different policy without bias where the logs support it', () => {
    // Exploit 0 and 2, explore among 1, 3, 4 and 5: every pick has support in the logs.
    const target = { 0: 1, 2: 1, 3: 0.5, 4: 0.3, 5: 0.2 };
    const v = truth(target);
    // A reward model that is 20% off everywhere: DR still lands on the truth.
    const e = offPolicyEstimates(units(4000, target, (j) => RHO[j]! * 1.2))!;
    for (const name of ['ips', 'snips', 'dr'] as const) {
      assert.ok(Math.abs(e[name].value / v - 1) < 0.05, `${name} ${e[name].value} vs ${v}`);
      assert.ok(e[name].low <= v && v <= e[name].high, `${name} interval misses ${v}`);
    }
    assert.ok(Math.abs(e.logged.value / v - 1) > 0.05, 'the target differs from what ran');
  });

  it('DR holds up where the logs never show the target pick, IPS does not', () => {
    // Creative 6 was never logged: IPS cannot see it; DR takes it from the reward model.
    const target = { 0: 1, 6: 1, 2: 1 };
    const v = truth(target);
    const e = offPolicyEstimates(units(3000, target, (j) => RHO[j]!))!;
    assert.ok(e.ips.value < 0.8 * v, `IPS ${e.ips.value} should miss creative 6 (truth ${v})`);
    assert.ok(Math.abs(e.dr.value / v - 1) < 0.03, `DR ${e.dr.value} vs ${v}`);
  });

  it('DR keeps the prediction where one unlikely pick would swamp it (SWITCH)', () => {
    const target = { 0: 1, 2: 1, 3: 0.5, 4: 0.3, 5: 0.2 };
    const v = truth(target);
    const many = units(3000, target, (j) => RHO[j]! * 1.2);
    // One day explored creative 5 with probability 0.001 and it converted at 20 times its rate:
    // weight 200 on one noisy day would move the mean by half the truth.
    const outlier: LoggedUnit = {
      ...many[0]!,
      logged: [
        ...many[0]!.logged.slice(0, 2),
        { artistId: id(5), templateId: 't', propensity: 0.001, spend: 100, conversions: 50 },
      ],
    };
    const e = offPolicyEstimates([...many, outlier])!;
    assert.ok(Math.abs(e.dr.value / v - 1) < 0.05, `DR ${e.dr.value} vs ${v}`);
    assert.ok(e.ips.value > 1.3 * v, `IPS ${e.ips.value} shows the raw weight (truth ${v})`);
  });

  it('leave out creatives without spend and days with none', () => {
    const [u] = units(1, { 0: 1 }, () => 0.01);
    const idle = { ...u!, logged: u!.logged.map((i) => ({ ...i, spend: 0 })) };
    assert.equal(offPolicyEstimates([idle]), null);
  });
});

describe('logged market-days', () => {
  it('sum a creative over platforms and give unlogged creatives propensity 1', () => {
    const day = (platformSpend: number, artistId: string, date = '2026-01-02'): CreativeDay => ({
      market: 'SE',
      date,
      artistId,
      templateId: 't',
      daysLive: 0,
      impressions: 100,
      clicks: 10,
      spend: platformSpend,
      registrations: 2,
      subscriptions: 1,
    });
    const days = loggedItemsByDay(
      [day(10, 'a'), day(5, 'a'), day(7, 'b'), day(9, 'a', '2026-01-01')],
      '2026-01-02',
      'registrations',
      (_m, _d, pair) => (pair.startsWith('a') ? 0.25 : undefined),
    );
    assert.deepEqual(days, [
      {
        market: 'SE',
        date: '2026-01-02',
        logged: [
          { artistId: 'a', templateId: 't', propensity: 0.25, spend: 15, conversions: 4 },
          { artistId: 'b', templateId: 't', propensity: 1, spend: 7, conversions: 2 },
        ],
      },
    ]);
  });
});

describe('inclusion probabilities of the slate selection', () => {
  const n = 40;
  const r = keyed('cands');
  const score = Float32Array.from({ length: n }, () => 1 + r());
  const sigma = Float32Array.from({ length: n }, () => 0.3 * r());
  const cands = { score, sigma, similarity: () => 0 };
  const options = { slots: 3, limit: 3, explorationShare: 1 / 3 };

  it('give exploit picks 1 and share one exploration slot among the contenders', () => {
    const inclusion = new Map<number, number>();
    const slate = selectSlate(cands, { ...options, random: keyed('x', 0), inclusion });
    for (const s of slate.filter((s) => s.mode === 'exploit'))
      assert.equal(inclusion.get(s.index), 1);
    const total = [...inclusion.values()].reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 3) < 1e-9, `inclusion sums to ${total}`);
    const explored = slate.find((s) => s.mode === 'explore')!;
    assert.ok(
      Math.abs(inclusion.get(explored.index)! - explored.probability) < 0.03,
      `${inclusion.get(explored.index)} vs exact ${explored.probability}`,
    );
  });

  it('match how often each creative is actually explored', () => {
    const inclusion = new Map<number, number>();
    selectSlate(cands, { ...options, random: keyed('x', 0), inclusion });
    const seen = new Map<number, number>();
    const runs = 3000;
    for (let k = 0; k < runs; k++) {
      for (const s of selectSlate(cands, { ...options, random: keyed('run', k) }))
        seen.set(s.index, (seen.get(s.index) ?? 0) + 1);
    }
    for (const [index, p] of inclusion)
      assert.ok(
        Math.abs((seen.get(index) ?? 0) / runs - p) < 0.035,
        `${index}: ${(seen.get(index) ?? 0) / runs} vs ${p}`,
      );
  });
});

describe('promotion with off-policy evidence', () => {
  const estimates = (dr: [number, number, number], logged: number): OffPolicyEstimates => {
    const at = (value: number) => ({ value, low: value, high: value });
    return {
      units: 9,
      logged: at(logged),
      ips: at(dr[1]),
      snips: at(dr[1]),
      dr: { low: dr[0], value: dr[1], high: dr[2] },
    };
  };
  const outcome = {
    trained: true,
    promote: true,
    reason: 'beat v1 on 30 held-out rows',
    metrics: { heldOutRmse: 0.3 },
  } as unknown as TrainingOutcome;

  it('refuses a challenger confidently below what ran, and keeps the evidence', () => {
    const worse = withOffPolicyEvidence(outcome, estimates([0.5, 0.6, 0.7], 0.8));
    assert.ok(confidentlyWorse(estimates([0.5, 0.6, 0.7], 0.8)));
    assert.equal(worse.trained && worse.promote, false);
    assert.match(worse.trained ? worse.reason : '', /below what ran/);
    assert.equal(worse.trained && worse.metrics.opeDrHigh, 0.7);
    assert.equal(worse.trained && worse.metrics.heldOutRmse, 0.3);
  });

  it('keeps the decision when the interval reaches what ran', () => {
    const close = withOffPolicyEvidence(outcome, estimates([0.5, 0.6, 0.85], 0.8));
    assert.equal(close.trained && close.promote, true);
    assert.equal(close.trained && close.reason, 'beat v1 on 30 held-out rows');
    assert.equal(withOffPolicyEvidence(outcome, null), outcome);
  });
});
