import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { creativePerformance, median } from '../../decisions/learn/performance.ts';

const d = (
  creativeHash: string,
  spendMicros: number,
  registrations: number,
  clicks = 100,
  subscriptions = 0,
) => ({
  creativeHash,
  impressions: 10_000,
  clicks,
  spendMicros,
  installs: registrations * 2,
  registrations,
  subscriptions,
  mmpRegistrations: 0,
});

describe('learning metrics', () => {
  it('computes the funnel ratios and costs per creative', () => {
    const [m] = creativePerformance([d('a', 5_000_000, 10, 200, 2)]);
    assert.equal(m!.ctr, 0.02);
    assert.equal(m!.cvr, 0.05);
    assert.equal(m!.cprMicros, 500_000);
    assert.equal(m!.cpsMicros, 2_500_000);
    assert.equal(m!.registrationShare, 1);
  });

  it('expresses CPR and registration share relative to the market median', () => {
    const ms = creativePerformance([
      d('cheap', 1_000, 10),
      d('typical', 2_000, 10),
      d('dear', 8_000, 10),
      d('none', 500, 0),
    ]);
    const by = Object.fromEntries(ms.map((m) => [m.creativeHash, m]));
    assert.equal(by.typical!.relativeCpr, 1, 'the median creative is 1');
    assert.equal(by.cheap!.relativeCpr, 0.5);
    assert.equal(by.dear!.relativeCpr, 4);
    assert.equal(by.none!.cprMicros, null, 'no registrations: no CPR, not zero');
    assert.equal(by.none!.relativeCpr, null);
    assert.ok(Math.abs(by.cheap!.registrationShare! - 1 / 3) < 1e-12);
    assert.equal(by.none!.relativeRegistrationShare, 0);
  });

  it('handles empty input and no impressions without dividing by zero', () => {
    assert.deepEqual(creativePerformance([]), []);
    const [m] = creativePerformance([{ ...d('x', 0, 0, 0), impressions: 0 }]);
    assert.deepEqual(
      [m!.ctr, m!.cvr, m!.cprMicros, m!.registrationShare],
      [null, null, null, null],
    );
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    assert.equal(median([]), null);
  });
});
