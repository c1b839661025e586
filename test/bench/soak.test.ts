// The soak's pure parts: its seeded schedule, its memory-growth estimate, the /proc parsing and
// the history trend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rssGrowth, type RssSample } from '../../bench/soak/growth.ts';
import { dayOf, historyTrends, type HistorySize } from '../../bench/soak/histories.ts';
import type { DailyLoopResult, MarketLoopResult } from '../../core/types.ts';
import { deployFailures, excusedMarkets } from '../../bench/soak/day.ts';
import { planSoak, restartsWorker, seededRandom } from '../../bench/soak/plan.ts';
import { statParent, statusKb } from '../../bench/soak/proc.ts';

const NAMES = [
  'platform-5xx',
  'throttling',
  'mmp-down',
  'mmp-late',
  'worker-killed-in-ingest',
  'worker-killed-in-deploy',
  'temporal-restarted',
];
const LONG = { name: 'mmp-down-five-days', days: 5 };
const DOWN = { name: 'meta-down-all-day', platformDown: 'meta' };
const FAULTS = [...NAMES.map((name) => ({ name })), LONG, DOWN];
const KILLERS = NAMES.filter(restartsWorker);

describe('seededRandom', () => {
  it('repeats for a seed and differs between seeds', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const xs = Array.from({ length: 5 }, () => a());
    assert.deepEqual(
      xs,
      Array.from({ length: 5 }, () => b()),
    );
    assert.notDeepEqual(
      xs,
      Array.from({ length: 5 }, () => c()),
    );
    for (const x of xs) assert.ok(x >= 0 && x < 1);
  });
});

describe('planSoak', () => {
  const plan = planSoak({ days: 28, seed: 1, faults: FAULTS });

  it('is the same for the same seed', () => {
    assert.deepEqual(planSoak({ days: 28, seed: 1, faults: FAULTS }), plan);
    assert.notDeepEqual(planSoak({ days: 28, seed: 2, faults: FAULTS }), plan);
  });

  it('gives every day 0 to 2 distinct faults of the list, the first and last day none', () => {
    assert.equal(plan.length, 28);
    for (const d of plan) {
      assert.ok(d.faults.length <= 2);
      assert.equal(new Set(d.faults).size, d.faults.length);
      for (const f of d.faults) assert.ok(FAULTS.some((x) => x.name === f));
    }
    assert.deepEqual(plan[0]!.faults, []);
    assert.deepEqual(plan[27]!.faults, []);
    assert.ok(plan.some((d) => d.faults.length === 2));
    assert.ok(plan.some((d) => d.faults.length === 0 && d.day > 1 && d.day < 28));
  });

  it('keeps the worker alive from the memory window on', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const p = planSoak({ days: 28, seed, faults: FAULTS });
      const restarts = p.filter((d) => d.restart);
      assert.ok(restarts.length >= 1, `seed ${seed}: at least one restart`);
      for (const d of restarts) {
        assert.ok(d.day > 1 && d.day < 7, `seed ${seed}: restart on day ${d.day}`);
      }
      for (const d of p.filter((x) => x.day >= 7))
        assert.ok(
          !d.faults.some(restartsWorker),
          `seed ${seed} day ${d.day}: ${d.faults.join(', ')}`,
        );
    }
  });

  it('restarts a short soak too, on a day between the clean ones', () => {
    const p = planSoak({ days: 3, seed: 9, faults: FAULTS });
    assert.equal(p[1]!.restart, true);
    assert.equal(p[0]!.restart, false);
    assert.equal(p[2]!.restart, false);
    // ...and kills the worker in a stage on it.
    assert.ok(p[1]!.faults.some(restartsWorker));
  });

  it('deals every worker-replacing fault out in the first week when there are days for it', () => {
    for (const seed of [1, 2, 3]) {
      const p = planSoak({ days: 28, seed, faults: FAULTS });
      const dealt = p.flatMap((d) => d.faults.filter(restartsWorker));
      assert.deepEqual(dealt.sort(), [...KILLERS].sort());
      for (const d of p.filter((x) => x.day > 1 && x.day <= 3))
        assert.ok(d.faults.some(restartsWorker), `seed ${seed} day ${d.day}`);
    }
  });

  it('deals every fault at least once when there are days enough', () => {
    for (const seed of [1, 2, 3, 4]) {
      const p = planSoak({ days: 28, seed, faults: FAULTS });
      const on = new Set(p.flatMap((d) => d.faults));
      assert.deepEqual(
        FAULTS.filter((f) => !on.has(f.name)),
        [],
        `seed ${seed}`,
      );
    }
  });

  it('runs a fault lasting several days alone, after the first week, with a clean day after', () => {
    let seen = 0;
    for (let seed = 0; seed < 40; seed++) {
      const p = planSoak({ days: 28, seed, faults: FAULTS });
      for (const d of p.filter((x) => x.faults.includes(LONG.name))) {
        seen++;
        assert.deepEqual(d.faults, [LONG.name], `seed ${seed} day ${d.day}`);
        assert.ok(d.day >= 7 && d.day + LONG.days <= 28, `seed ${seed} day ${d.day}`);
        // Its days and the day after: nothing else switched on.
        for (const later of p.slice(d.day, d.day + LONG.days))
          assert.deepEqual(later.faults, [], `seed ${seed} day ${later.day}`);
      }
    }
    assert.ok(seen > 0, 'drawn for some seed');
    // Never where it could not end before the last day.
    for (let seed = 0; seed < 20; seed++)
      assert.ok(
        !planSoak({ days: 9, seed, faults: FAULTS }).some((d) => d.faults.includes(LONG.name)),
      );
  });

  it('runs a fault taking a platform down alone', () => {
    for (let seed = 0; seed < 40; seed++)
      for (const d of planSoak({ days: 28, seed, faults: FAULTS }))
        if (d.faults.includes(DOWN.name)) assert.deepEqual(d.faults, [DOWN.name], `seed ${seed}`);
  });

  it('works with whatever faults the list holds, even none', () => {
    const p = planSoak({ days: 10, seed: 3, faults: [] });
    assert.ok(p.every((d) => d.faults.length === 0));
    const one = planSoak({ days: 10, seed: 3, faults: [{ name: 'worker-killed-in-rank' }] });
    for (const d of one) assert.ok(d.faults.length <= 1);
  });
});

const series = (rss: (day: number) => number, worker: (day: number) => number = () => 1) =>
  Array.from({ length: 28 }, (_, i): RssSample => ({
    day: i + 1,
    rssMb: rss(i + 1),
    worker: worker(i + 1),
  }));

describe('rssGrowth', () => {
  it('reads flat memory as no growth, whatever the first week did', () => {
    const g = rssGrowth(
      series((d) => (d < 7 ? 200 + d * 20 : 400)),
      7,
      28,
    )!;
    assert.equal(g.growth, 0);
    assert.equal(g.baselineMb, 400);
    assert.equal(g.samples, 22);
    assert.equal(g.workers, 1);
    assert.equal(g.endpoints, 0);
  });

  it('projects a steady leak over the window', () => {
    const g = rssGrowth(
      series((d) => 400 + 2 * (d - 7)),
      7,
      28,
    )!;
    assert.equal(g.slopeMbPerDay, 2);
    assert.ok(Math.abs(g.growth - 42 / 400) < 1e-9);
  });

  it('is not tilted by one odd day', () => {
    const g = rssGrowth(
      series((d) => (d === 28 ? 900 : d === 7 ? 100 : 400)),
      7,
      28,
    )!;
    assert.equal(g.growth, 0);
    assert.equal(g.baselineMb, 400);
    // The raw endpoints would have said +800%.
    assert.equal(g.endpoints, 8);
  });

  it('does not let a restart hide a leak', () => {
    // A worker leaking 5 MB a day, restarted on day 15: it starts small again.
    const worker = (d: number) => (d < 15 ? 1 : 2);
    const g = rssGrowth(
      series((d) => (d < 15 ? 400 + 5 * (d - 7) : 400 + 5 * (d - 15)), worker),
      7,
      28,
    )!;
    assert.equal(g.slopeMbPerDay, 5);
    assert.equal(g.workers, 2);
    assert.equal(g.endpoints, null);
    assert.ok(g.growth > 0.2);
  });

  it('gives nothing without two samples of one worker in the window', () => {
    assert.equal(rssGrowth(series(() => 400).slice(0, 6), 7, 28), null);
    assert.equal(
      rssGrowth(
        [
          { day: 7, rssMb: 400, worker: 1 },
          { day: 8, rssMb: 300, worker: 2 },
        ],
        7,
        28,
      ),
      null,
    );
  });
});

describe('/proc parsing', () => {
  it('reads kB fields of a status file', () => {
    const status = 'Name:\tnode\nVmHWM:\t  812345 kB\nVmRSS:\t  456789 kB\nThreads:\t11\n';
    assert.equal(statusKb(status, 'VmRSS'), 456789);
    assert.equal(statusKb(status, 'VmHWM'), 812345);
    assert.equal(statusKb(status, 'VmSwap'), null);
  });

  it('reads the parent pid past a command name with spaces and parentheses', () => {
    assert.equal(statParent('4242 (node) S 4200 4242 4200 0 -1'), 4200);
    assert.equal(statParent('77 (a (b) c) R 1 77 77 0 -1'), 1);
  });
});

describe('historyTrends', () => {
  const run = (workflow: string, type: string, events: number, bytes: number): HistorySize => ({
    workflow,
    runId: workflow,
    type,
    status: 'COMPLETED',
    events,
    bytes,
  });

  it('compares the largest history of a type early and late', () => {
    const sizes = [
      ...Array.from({ length: 10 }, (_, i) =>
        run(
          `market/SE/2026-06-${String(i + 1).padStart(2, '0')}`,
          'marketLoop',
          60 + i,
          1000 * (i + 1),
        ),
      ),
      run('controller', 'marketControl', 5000, 99_999),
    ];
    assert.equal(dayOf('market/SE/2026-06-03'), '2026-06-03');
    assert.equal(dayOf('controller'), null);
    assert.deepEqual(historyTrends(sizes, 3), [
      {
        type: 'marketLoop',
        firstDays: { events: 62, bytes: 3000 },
        lastDays: { events: 69, bytes: 10_000 },
      },
    ]);
  });
});

const market = (m: Partial<MarketLoopResult> & { market: string }): MarketLoopResult => ({
  date: '2026-06-02',
  status: 'completed',
  fallbackUsed: false,
  ranking: { source: 'computed', items: 3 },
  deploy: null,
  learn: null,
  ...m,
});
const day = (...markets: MarketLoopResult[]): DailyLoopResult => ({ date: '2026-06-02', markets });
const deployed = (...platforms: string[]) =>
  ({
    platforms: Object.fromEntries(platforms.map((p) => [p, { adIds: ['1'], adSets: ['2'] }])),
  }) as unknown as MarketLoopResult['deploy'];

describe('deployFailures', () => {
  it('wants every completed market deployed when no fault allows a skip', () => {
    const r = day(
      market({ market: 'SE', deploy: deployed('meta', 'tiktok', 'google') }),
      market({ market: 'DE', degraded: ['deploy skipped: gave up'] }),
      market({ market: 'EG', status: 'failed' }),
    );
    assert.deepEqual(
      deployFailures(r, [{}]).map((f) => f.market),
      ['DE'],
    );
  });

  it('wants the platforms that were up deployed when others were down', () => {
    const r = day(
      market({ market: 'SE', deploy: deployed('tiktok', 'google') }),
      market({ market: 'DE', deploy: deployed('meta', 'google') }),
      market({ market: 'BR', deploy: deployed('tiktok') }),
    );
    const metaDown = { deploySkipAllowed: true, platformDown: 'meta' as const };
    assert.deepEqual(
      deployFailures(r, [metaDown]).map((f) => `${f.market}: ${f.reason.split(' while')[0]}`),
      ['DE: tiktok not deployed', 'BR: google not deployed'],
    );
    // All down: nothing to deploy to.
    const all = [
      metaDown,
      { deploySkipAllowed: true, platformDown: 'tiktok' as const },
      { deploySkipAllowed: true, platformDown: 'google' as const },
    ];
    assert.deepEqual(deployFailures(r, all), []);
    // A fault allowing any skip allows this one.
    assert.deepEqual(deployFailures(r, [{ deploySkipAllowed: true }]), []);
  });
});

describe('excusedMarkets', () => {
  it('names the markets whose run could not read a source', () => {
    const r = day(
      market({ market: 'SE', degraded: ['attribution unavailable: 503'] }),
      market({ market: 'DE', degraded: ['platform metrics unavailable: down'] }),
      market({ market: 'EG', degraded: ['learn skipped: x'] }),
    );
    assert.deepEqual(
      [...excusedMarkets(r)],
      [
        ['SE', { delivery: false, attribution: true }],
        ['DE', { delivery: true, attribution: false }],
      ],
    );
    assert.equal(excusedMarkets(null).size, 0);
  });
});
