// Worlds load and validate with errors that name the field; the simulator is deterministic; the
// policy benchmark brackets the heuristic between random and the oracle.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  asReportedOn,
  evaluatePolicies,
  heuristicPolicy,
  rejectedByReview,
  type Policy,
  type PolicyContext,
} from '../../bench/policy/policy-eval.ts';
import type { CreativeDay } from '../../ml/features.ts';
import { oraclePolicy, randomPolicy } from '../../bench/policy/policies.ts';
import { slateOf } from '../../bench/policy/slate.ts';
import { Simulator } from '../../sandbox/simulator.ts';
import { loadWorld } from '../../sandbox/world.ts';
import { ROOT } from '../helpers/stack.ts';

const worldFile = (name: string) => path.join(ROOT, 'sandbox/worlds', `${name}.json`);

function writeWorld(patch: (w: Record<string, unknown>) => void): string {
  const w = JSON.parse(fs.readFileSync(worldFile('bench'), 'utf8')) as Record<string, unknown>;
  patch(w);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'world-'));
  // Keep the relative layout (worlds/ two levels under the repo) so image paths still resolve.
  const file = path.join(dir, 'w.json');
  fs.writeFileSync(file, JSON.stringify(w));
  return file;
}

describe('worlds', () => {
  it('ships demo, bench and scale worlds; scale has 100,000 artists in 50 markets', () => {
    const demo = loadWorld(worldFile('demo'));
    assert.ok(demo.catalog.markets.length >= 3);
    const scale = loadWorld(worldFile('scale'));
    assert.equal(scale.catalog.artistCount, 100_000);
    assert.equal(scale.catalog.markets.length, 50);
    assert.equal(Object.keys(scale.markets).length, 50);
    const a = scale.catalog.artistAt(99_999);
    assert.equal(a.id, 'g099999');
    assert.equal(scale.catalog.popularity(a.id, 'US'), scale.catalog.popularity(a.id, 'US'));
  });

  it('generates a similarity structure: artists of a genre lie closer together', () => {
    const world = loadWorld(worldFile('bench'));
    const artists = Array.from({ length: 300 }, (_, i) => world.catalog.artistAt(i));
    const dist = (a: string, b: string) => {
      const x = world.catalog.embedding(a)!;
      const y = world.catalog.embedding(b)!;
      return Math.hypot(...x.map((v, k) => v - y[k]!));
    };
    let same = 0,
      sameN = 0,
      other = 0,
      otherN = 0;
    for (let i = 0; i < artists.length; i++) {
      for (let j = i + 1; j < artists.length; j += 7) {
        const d = dist(artists[i]!.id, artists[j]!.id);
        if (artists[i]!.genre === artists[j]!.genre) {
          same += d;
          sameN++;
        } else {
          other += d;
          otherN++;
        }
      }
    }
    assert.ok(same / sameN < 0.6 * (other / otherN), `${same / sameN} vs ${other / otherN}`);
    assert.ok(Math.abs(world.catalog.trend(artists[0]!.id, 'US')) <= 0.01);
  });

  it('names the field that is wrong', () => {
    assert.throws(
      () => loadWorld(writeWorld((w) => ((w.truth as Record<string, unknown>).noise = -1))),
      /truth\.noise: Too small/,
    );
    assert.throws(
      () =>
        loadWorld(
          writeWorld((w) => (w.catalog = { generate: { artists: 10, markets: ['SE', 'XX'] } })),
        ),
      /catalog\.generate\.markets: unknown country XX/,
    );
    assert.throws(
      () => loadWorld(writeWorld((w) => (w.markets = { ZZ: { cpm: 3 } }))),
      /markets\.ZZ: not a market of the catalog/,
    );
    assert.throws(() => loadWorld('/nonexistent/world.json'), /cannot read world/);
    assert.throws(
      () => loadWorld(writeWorld((w) => (w.review = { rejectionRate: 1.5 }))),
      /review\.rejectionRate: Too big/,
    );
    assert.throws(
      () => loadWorld(writeWorld((w) => (w.faults = { meta: { lostResponseRate: -0.1 } }))),
      /faults\.meta\.lostResponseRate: Too small/,
    );
    assert.throws(
      () => loadWorld(writeWorld((w) => (w.faults = { tiktok: { timeoutRate: 1.5 } }))),
      /faults\.tiktok\.timeoutRate: Too big/,
    );
    assert.throws(
      () => loadWorld(writeWorld((w) => (w.faults = { meta: { hangMs: 2.5 } }))),
      /faults\.meta\.hangMs: .*expected int/,
    ); // A misspelt or unknown field is refused, not silently dropped.
    assert.throws(
      () =>
        loadWorld(writeWorld((w) => ((w.truth as Record<string, unknown>).popularityEfect = 1))),
      /truth: Unrecognized key: "popularityEfect"/,
    );
    assert.throws(
      () => loadWorld(writeWorld((w) => (w.colour = 'blue'))),
      /Unrecognized key: "colour"/,
    );
  });

  it('reviews ads by default: 2% rejected, a few banned terms, no delay, no lost responses', () => {
    const world = loadWorld(worldFile('demo'));
    assert.equal(world.review.rejectionRate, 0.02);
    assert.equal(world.review.delaySeconds, 0);
    assert.ok(world.review.bannedTerms.includes('guaranteed'));
    assert.equal(world.faults.meta.lostResponseRate, 0);
    assert.equal(world.faults.tiktok.lostResponseRate, 0);
    assert.deepEqual(
      [world.faults.meta.timeoutRate, world.faults.meta.hangMs, world.faults.tiktok.hangMs],
      [0, 30_000, 30_000],
      'no timeouts; a timed-out call would be held 30 s',
    );
    const timeouts = loadWorld(
      writeWorld((w) => (w.faults = { meta: { timeoutRate: 0.2, hangMs: 500 } })),
    );
    assert.equal(timeouts.faults.meta.timeoutRate, 0.2);
    assert.equal(timeouts.faults.meta.hangMs, 500);
    assert.equal(timeouts.faults.meta.errorRate, 0, 'the other faults keep their defaults');
    assert.equal(timeouts.faults.tiktok.timeoutRate, 0);
    const custom = loadWorld(writeWorld((w) => (w.review = { delaySeconds: 30 })));
    assert.deepEqual(custom.review, { ...world.review, delaySeconds: 30 });
  });

  it('delivers deterministically, spends the budget, and rewards appeal', () => {
    const world = loadWorld(worldFile('bench'));
    const sim = new Simulator(world);
    const ad = (id: string, artistId: string) => ({
      id,
      platform: 'meta' as const,
      market: 'US',
      artistId,
      templateId: 'spotlight',
      aspectRatio: '1:1',
      createdDate: '2026-01-01',
    });
    const ids = Array.from({ length: 200 }, (_, i) => world.catalog.artistAt(i).id);
    ids.sort((x, y) => sim.appeal(x, 'US') - sim.appeal(y, 'US'));
    const ads = [ad('1', ids[0]!), ad('2', ids[199]!)];
    const day = sim.deliverAdSet(50_000, ads, '2026-01-02', 'set');
    assert.deepEqual(sim.deliverAdSet(50_000, ads, '2026-01-02', 'set'), day);
    assert.ok(Math.abs(day.reduce((s, d) => s + d.spendMinor, 0) - 50_000) <= 2);
    for (const d of day) {
      assert.equal(d.installs, d.byOs.ios.installs + d.byOs.android.installs);
      assert.ok(
        d.subscriptions <= d.registrations &&
          d.registrations <= d.installs &&
          d.installs <= d.clicks,
      );
    }
    assert.ok(
      sim.expectedRegistrationsPerSpend(ads[1]!, '2026-01-02') >
        sim.expectedRegistrationsPerSpend(ads[0]!, '2026-01-02'),
    );
    // OS targeting: one segment gets all of the ad set's delivery, the other none.
    for (const [only, other] of [
      ['ios', 'android'],
      ['android', 'ios'],
    ] as const) {
      const targeted = sim.deliverAdSet(50_000, ads, '2026-01-02', 'set', [only]);
      assert.ok(Math.abs(targeted.reduce((s, d) => s + d.spendMinor, 0) - 50_000) <= 2);
      for (const d of targeted) {
        assert.deepEqual(d.byOs[other], { installs: 0, registrations: 0, subscriptions: 0 });
        assert.equal(d.installs, d.byOs[only].installs);
      }
    }
    assert.deepEqual(
      sim.deliverAdSet(50_000, ads, '2026-01-02', 'set', ['ios', 'android']),
      day,
      'targeting both is no targeting',
    );
    // Fatigue: the same ad is worth less after weeks live.
    assert.ok(
      sim.expectedRegistrationsPerSpend(ads[1]!, '2026-02-15') <
        sim.expectedRegistrationsPerSpend(ads[1]!, '2026-01-02'),
    );
  });
});

describe('policies', () => {
  it('the fast oracle picks exactly what scoring every candidate picks', () => {
    const world = loadWorld(worldFile('bench'));
    const sim = new Simulator(world);
    const artists = Array.from({ length: 300 }, (_, i) => world.catalog.artistAt(i)).map((a) => ({
      id: a.id,
      genre: a.genre,
      popularity: world.catalog.popularity(a.id, 'DE'),
      trend: 0,
      embedding: null,
    }));
    const templateIds = world.templates.map((t) => t.id);
    const ctx = (live: PolicyContext['live']): PolicyContext => ({
      market: 'DE',
      date: '2026-01-20',
      slots: 3,
      artists,
      templateIds,
      templates: world.templates,
      observed: [],
      history: [],
      live,
    });
    const brute = (c: PolicyContext) =>
      artists
        .flatMap((a) =>
          templateIds.map((templateId) => {
            const created = c.live.find(
              (l) => l.artistId === a.id && l.templateId === templateId,
            )?.createdDate;
            const value = sim.expectedRegistrationsPerSpend(
              {
                id: 'x',
                platform: 'meta',
                market: 'DE',
                artistId: a.id,
                templateId,
                aspectRatio: '1:1',
                createdDate: created ?? c.date,
              },
              c.date,
            );
            return { artistId: a.id, templateId, value };
          }),
        )
        .sort((x, y) => y.value - x.value || (x.artistId < y.artistId ? -1 : 1));
    const oracle = oraclePolicy(sim);
    // The slate deploy makes: one ad per artist (ADS_PER_ARTIST=1), or any three.
    for (const perArtist of [1, 3]) {
      const best = (c: PolicyContext) => slateOf(oracle.choose(c), 3, perArtist);
      const fresh = ctx([]);
      assert.deepEqual(best(fresh), slateOf(brute(fresh), 3, perArtist));
      // Make the oracle's own favourites stale: it must look past them.
      const stale = ctx(best(fresh).map((p) => ({ ...p, createdDate: '2025-12-01' })));
      assert.deepEqual(best(stale), slateOf(brute(stale), 3, perArtist));
    }
  });

  it('policies read recent days as the platforms report them: partial until the delay passes', () => {
    const row = (date: string): CreativeDay => ({
      market: 'SE',
      date,
      artistId: 'a',
      templateId: 't',
      daysLive: 0,
      impressions: 3000,
      clicks: 300,
      spend: 900,
      registrations: 30,
      subscriptions: 3,
    });
    const rows = ['2026-01-01', '2026-01-02', '2026-01-03'].map(row);
    assert.equal(asReportedOn(rows, '2026-01-04', 0), rows);
    const seen = asReportedOn(rows, '2026-01-04', 2);
    assert.deepEqual(
      seen.map((r) => [r.date, r.spend, r.registrations]),
      [
        ['2026-01-01', 900, 30],
        ['2026-01-02', 900, 30],
        ['2026-01-03', 600, 20], // a day old of two: two thirds there
      ],
    );
    assert.equal(rows[2]!.spend, 900, 'the complete rows are left as they are');
  });

  it('review rejects new ads as the platforms do: a rejected pick never runs, the next takes its slot', () => {
    const world = loadWorld(worldFile('bench'));
    world.review = { ...world.review, rejectionRate: 0.3 };
    const market = world.catalog.markets[0]!.code;
    world.catalog.markets = [world.catalog.markets[0]!];
    // Always offers the same ten picks, best first; records what ran each day.
    const ran: string[][] = [];
    let offered: Array<{ artistId: string; templateId: string }> = [];
    const fixed = (): Policy => ({
      name: 'fixed',
      choose: (ctx) => {
        ran.push(ctx.live.map((l) => `${l.artistId}/${l.templateId}`));
        offered = ctx.artists
          .slice(0, 10)
          .map((a) => ({ artistId: a.id, templateId: ctx.templateIds[0]! }));
        return offered;
      },
    });
    evaluatePolicies({ world, days: 3, seeds: 1, policies: [fixed] });
    const refused = offered.filter((p) => rejectedByReview(world, market, p));
    assert.ok(refused.length > 0, 'some of the ten picks are rejected at this rate');
    const expected = offered
      .filter((p) => !rejectedByReview(world, market, p))
      .slice(0, 3)
      .map((p) => `${p.artistId}/${p.templateId}`);
    // Day 1 ran (seen on day 2) the first three picks review let through, and kept them.
    assert.deepEqual(ran[1], expected);
    assert.deepEqual(ran[2], expected);
    for (const p of refused) assert.ok(!ran.flat().includes(`${p.artistId}/${p.templateId}`));
    // The same content is judged the same every time.
    assert.deepEqual(
      offered.map((p) => rejectedByReview(world, market, p)),
      offered.map((p) => rejectedByReview(world, market, p)),
    );
  });

  it('oracle beats heuristic beats random, deterministically', () => {
    const world = loadWorld(worldFile('bench'));
    const run = () =>
      evaluatePolicies({
        world,
        days: 10,
        seeds: 2,
        policies: [randomPolicy, () => heuristicPolicy, oraclePolicy],
      });
    const r = run();
    assert.ok(r.oracle!.registrations > r.heuristic!.registrations);
    assert.ok(r.heuristic!.registrations > r.random!.registrations);
    assert.ok(r.oracle!.cpr! < r.heuristic!.cpr! && r.heuristic!.cpr! < r.random!.cpr!);
    assert.deepEqual(run(), r);
  });

  it('bench:policy prints one JSON object with the documented fields', () => {
    const res = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/policy.ts',
        '--json',
        '--world',
        worldFile('demo'),
        '--days',
        '3',
        '--seeds',
        '1',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout) as Record<string, Record<string, unknown>>;
    assert.equal(out.world, 'demo');
    assert.deepEqual(Object.keys(out.policies!).sort(), ['heuristic', 'ml', 'oracle', 'random']);
    for (const p of Object.values(out.policies!) as Array<Record<string, unknown>>) {
      assert.deepEqual(Object.keys(p).sort(), ['cpr', 'ctr', 'registrations', 'spend']);
    }
    assert.deepEqual(Object.keys(out.cpr_change_vs_heuristic!).sort(), ['ml', 'oracle', 'random']);
    assert.deepEqual(Object.keys(out.registrations_per_spend_share_of_oracle!).sort(), [
      'heuristic',
      'ml',
      'random',
    ]);
    assert.deepEqual(Object.keys(out.steady_share_of_oracle!).sort(), [
      'heuristic',
      'ml',
      'random',
    ]);
    assert.ok('first_week_ml_vs_heuristic' in out);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'bench/policy.ts', '--days', '0'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--days must be a whole number/);
  });

  it('bench:policy --only measures chosen worlds of a family, each as in the whole run', () => {
    const bench = (...args: string[]) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', 'bench/policy.ts', '--seeds', '1', '--days', '3', ...args],
        { cwd: ROOT, encoding: 'utf8' },
      );
    type Family = { only?: number[]; worlds: Array<{ name: string } & Record<string, unknown>> };
    const whole = bench('--json', '--family', '2');
    const one = bench('--json', '--family', '2', '--only', '1');
    assert.equal(whole.status, 0, whole.stderr);
    assert.equal(one.status, 0, one.stderr);
    const all = JSON.parse(whole.stdout) as Family;
    const picked = JSON.parse(one.stdout) as Family;
    assert.deepEqual(picked.only, [1]);
    assert.deepEqual(
      picked.worlds.map((w) => w.name),
      ['family-1'],
    );
    assert.deepEqual(picked.worlds[0], all.worlds[1]);
    const outside = bench('--family', '2', '--only', '2');
    assert.notEqual(outside.status, 0);
    assert.match(outside.stderr, /--only 2: a family of 2 has worlds 0 to 1/);
    assert.match(bench('--only', '0').stderr, /give --family N/);
    assert.match(bench('--family', '2', '--only', '1,a').stderr, /got "a"/);
  });
});
