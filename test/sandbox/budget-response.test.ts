import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { SimAd } from '../../sandbox/contracts.ts';
import { Simulator } from '../../sandbox/simulator.ts';
import { loadWorld } from '../../sandbox/world.ts';

const world = loadWorld(path.resolve('sandbox/worlds/bench.json'));
const market = Object.keys(world.markets)[0]!;
const ads: SimAd[] = [0, 1, 2].map((i) => ({
  id: `ad-${i}`,
  platform: 'meta',
  market,
  artistId: world.catalog.artistAt(i).id,
  templateId: world.templates[0]!.id,
  aspectRatio: '4:5',
  createdDate: '2026-03-01',
}));
const registrations = (budget: number, history?: Array<{ date: string; budgetMinor: number }>) =>
  new Simulator(world)
    .expectedAdSet(budget, ads, '2026-03-10', 'adset-1', undefined, history)
    .reduce((s, d) => s + d.registrations, 0);

describe('the simulator for budget allocation', () => {
  it('costs more per result as an ad set spends more on the same audience', () => {
    const small = registrations(10_000);
    const large = registrations(1_000_000_000);
    assert.ok(small > 0);
    assert.ok(large / 100_000 < small * 0.9, 'a 100,000x budget buys far less than 100,000x');
  });

  it('relearns for some days after a budget change beyond the hidden threshold', () => {
    const sim = new Simulator(world);
    const { threshold, days, penalty } = world.truth.learningPhase;
    const jump = [
      { date: '2026-03-01', budgetMinor: 10_000 },
      { date: '2026-03-09', budgetMinor: Math.ceil(10_000 * (1 + threshold) + 100) },
    ];
    assert.equal(sim.learningFactor(jump, '2026-03-08'), 1);
    assert.equal(sim.learningFactor(jump, '2026-03-09'), 1 - penalty);
    assert.equal(sim.learningFactor(jump, `2026-03-${String(9 + days).padStart(2, '0')}`), 1);
    const small = [jump[0]!, { date: '2026-03-09', budgetMinor: 10_000 * (1 + threshold / 2) }];
    assert.equal(sim.learningFactor(small, '2026-03-09'), 1);
    const b = jump[1]!.budgetMinor;
    assert.ok(Math.abs(registrations(b, jump) / registrations(b) - (1 - penalty)) < 1e-9);
  });

  it("expects what a day's delivery averages to, without the noise", () => {
    const sim = new Simulator(world);
    const expected = sim
      .expectedAdSet(50_000, ads, '2026-03-10', 'adset-1')
      .reduce((s, d) => s + d.registrations, 0);
    const drawn = sim
      .deliverAdSet(50_000, ads, '2026-03-10', 'adset-1')
      .reduce((s, d) => s + d.registrations, 0);
    assert.ok(Math.abs(drawn - expected) / expected < 0.5, `${drawn} vs ${expected}`);
  });
});
