// The family of worlds bench:policy draws (bench/policy/family.ts) and the truth parameters it
// exercises: a negative popularity effect, a funnel driven apart after the click, and counts with
// real sampling noise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAMILY_RANGES, familyParameters, familyWorldSpec } from '../../bench/policy/family.ts';
import { keyed } from '../../core/random.ts';
import { binomial, Simulator } from '../../sandbox/simulator.ts';
import { worldFromSpec } from '../../sandbox/world.ts';

const within = (v: number, r: { low: number; high: number }) =>
  v >= r.low - 1e-9 && v <= r.high + 1e-9;

/** Pearson correlation. */
function correlation(xs: number[], ys: number[]): number {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (ys[i]! - my);
    sxx += (x - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

describe('a family of worlds', () => {
  it('draws valid worlds within the documented ranges, each parameter on its own', () => {
    const params = Array.from({ length: 16 }, (_, i) => familyParameters(i));
    for (const p of params) {
      for (const key of [
        'artists',
        'markets',
        'popularityWeight',
        'tasteWeight',
        'noise',
        'fatigueRate',
        'funnelSplit',
        'audienceSize',
      ] as const)
        assert.ok(within(p[key], FAMILY_RANGES[key]), `${key} ${p[key]}`);
    }
    // The family covers what bench.json cannot: negative popularity effects, both samplings.
    assert.ok(params.some((p) => p.popularityWeight < 0));
    assert.ok(params.some((p) => p.sampling === 'binomial'));
    assert.ok(params.some((p) => p.sampling === 'expected'));
    // Independent draws: fatigue does not move with popularity weight across the family.
    assert.ok(
      Math.abs(
        correlation(
          params.map((p) => p.popularityWeight),
          params.map((p) => p.fatigueRate),
        ),
      ) < 0.7,
    );
    for (let i = 0; i < 4; i++) worldFromSpec(familyWorldSpec(i, 0), `family-${i}`);
  });

  it('varies catalogue and economics with the seed, not only the hidden truth', () => {
    const a = worldFromSpec(familyWorldSpec(1, 0), 'a');
    const b = worldFromSpec(familyWorldSpec(1, 1), 'b');
    assert.deepEqual(
      a.catalog.markets.map((m) => m.code),
      b.catalog.markets.map((m) => m.code),
    );
    const market = a.catalog.markets[0]!.code;
    assert.notEqual(a.markets[market]!.cpm, b.markets[market]!.cpm);
    const pops = (w: typeof a) =>
      Array.from({ length: 20 }, (_, i) => w.catalog.popularity(w.catalog.artistAt(i).id, market));
    assert.notDeepEqual(pops(a), pops(b));
  });
});

describe('truth parameters', () => {
  const world = (truth: Record<string, unknown>) => {
    const spec = familyWorldSpec(2, 0);
    return worldFromSpec({ ...spec, truth: { ...spec.truth, ...truth } }, 'truth');
  };
  const artists = (w: ReturnType<typeof world>) =>
    Array.from({ length: 300 }, (_, i) => w.catalog.artistAt(i).id);

  it('a negative popularity weight makes popular artists appeal less', () => {
    for (const [weight, sign] of [
      [0.8, 1],
      [-0.8, -1],
    ] as const) {
      const w = world({ popularityWeight: weight });
      const sim = new Simulator(w);
      const market = w.catalog.markets[0]!.code;
      const ids = artists(w);
      const r = correlation(
        ids.map((id) => w.catalog.popularity(id, market)),
        ids.map((id) => sim.appeal(id, market)),
      );
      assert.ok(sign * r > 0.5, `weight ${weight}: correlation ${r}`);
    }
  });

  it('funnelSplit drives registering apart from clicking', () => {
    const corr = (funnelSplit: number) => {
      const w = world({ funnelSplit });
      const sim = new Simulator(w);
      const market = w.catalog.markets[0]!.code;
      const ids = artists(w);
      return correlation(
        ids.map((id) => sim.appeal(id, market)),
        ids.map((id) => sim.afterClickAppeal(id, market)),
      );
    };
    assert.equal(corr(0), 1);
    assert.ok(corr(1) < 0.3, `split 1: ${corr(1)}`);
  });

  it('binomial sampling has the binomial mean and variance, small counts and large', () => {
    for (const [n, p] of [
      [40, 0.05],
      [100_000, 0.012],
      [200, 0.97],
    ] as const) {
      const r = keyed('binomial-test', n, p);
      const draws = Array.from({ length: 4000 }, () => binomial(n, p, r));
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (draws.length - 1);
      const m = n * p;
      const v = n * p * (1 - p);
      assert.ok(
        Math.abs(mean - m) < 4 * Math.sqrt(v / draws.length),
        `n ${n} p ${p}: mean ${mean}`,
      );
      assert.ok(Math.abs(variance / v - 1) < 0.15, `n ${n} p ${p}: variance ${variance} vs ${v}`);
      assert.ok(draws.every((d) => Number.isInteger(d) && d >= 0 && d <= n));
    }
    assert.equal(binomial(0, 0.5, Math.random), 0);
    assert.equal(binomial(10, 1, Math.random), 10);
  });
});
