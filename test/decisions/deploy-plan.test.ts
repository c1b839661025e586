// The deploy plan, fatigue and Meta usage pacing: pure functions, on crafted inputs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fatiguedCreatives } from '../../decisions/deploy/fatigue.ts';
import {
  countActions,
  formatPlan,
  planAdSet,
  type CurrentAd,
  type PlanInput,
} from '../../decisions/deploy/plan.ts';
import { adName, adSetName, parseAdName } from '../../core/ids.ts';
import { UsageGovernor, usagePercent } from '../../platforms/meta/usage-governor.ts';

const h = (n: number) => `${n.toString(16).padStart(4, '0')}${'a'.repeat(20)}`;
const SET = adSetName('SE');

function ad(n: number, over: Partial<CurrentAd> = {}): CurrentAd {
  const date = over.createdDate ?? '2026-03-01';
  return {
    id: `ad${n}`,
    name: adName(SET, date, h(n)),
    creativeHash: h(n),
    createdDate: date,
    status: 'active',
    review: 'approved',
    reviewReason: null,
    ...over,
  };
}

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    platform: 'meta',
    date: '2026-03-02',
    slots: 3,
    capacity: 50,
    canArchive: true,
    adSet: { name: SET, id: 'set1', generation: 1 },
    nextAdSetName: adSetName('SE', undefined, 2),
    candidates: [1, 2, 3, 4, 5].map((n) => ({
      hash: h(n),
      rank: n,
      label: `artist${n}`,
      artistId: `a${n}`,
      eligible: true,
    })),
    ads: [],
    rejected: new Map(),
    fatigued: new Map(),
    ...over,
  };
}

const actionsOf = (p: ReturnType<typeof planAdSet>) =>
  p.actions.map((a) => `${a.action}:${parseInt(a.hash.slice(0, 4), 16)}`).sort();

describe('deploy plan', () => {
  it('counts only live ads against a cap on live ads (Google), never archiving or rolling over', () => {
    // 20 paused (unlinked) ads and 2 live ones: Google's 20-image cap counts the linked ones.
    const ads = [
      ...Array.from({ length: 20 }, (_, i) => ad(100 + i, { status: 'paused' })),
      ad(1),
      ad(2),
    ];
    const plan = planAdSet(
      input({ platform: 'google', capacity: 20, liveCap: true, ads, slots: 3 }),
    );
    assert.deepEqual(actionsOf(plan), ['create:3', 'keep:1', 'keep:2']);
    assert.equal(plan.adSet.generation, 1);
    assert.throws(
      () =>
        planAdSet(
          input({
            platform: 'google',
            capacity: 2,
            liveCap: true,
            slots: 3,
          }),
        ),
      /3 live ads exceed google's cap of 2/,
    );
  });

  it("parses the name of a Google ad's video asset as its ad", () => {
    const name = adName(SET, '2026-03-01', h(7));
    assert.deepEqual(parseAdName(`${name}/video`), parseAdName(name));
    assert.equal(parseAdName(`${name}/audio`), null);
  });

  it('holds one ad per artist in an ad set unless ADS_PER_ARTIST allows more', () => {
    // Ranks 1 and 2 are one artist in two templates.
    const candidates = input().candidates.map((c) => (c.rank === 2 ? { ...c, artistId: 'a1' } : c));
    const p = planAdSet(input({ adSet: { name: SET, id: null, generation: 1 }, candidates }));
    assert.deepEqual(actionsOf(p), ['create:1', 'create:3', 'create:4']);
    assert.deepEqual(
      p.skipped.map((s) => [s.rank, s.reason]),
      [[2, 'its artist already has 1 ad in this ad set (ADS_PER_ARTIST)']],
    );
    const two = planAdSet(
      input({ adSet: { name: SET, id: null, generation: 1 }, candidates, perArtist: 2 }),
    );
    assert.deepEqual(actionsOf(two), ['create:1', 'create:2', 'create:3']);
  });

  it('creates the top ranked creatives in an empty ad set, named by ad set, date and creative', () => {
    const p = planAdSet(input({ adSet: { name: SET, id: null, generation: 1 } }));
    assert.deepEqual(actionsOf(p), ['create:1', 'create:2', 'create:3']);
    const first = p.actions[0]!;
    assert.equal(
      first.action === 'create' && first.name,
      `adloop/SE/default/ad/2026-03-02/${h(1)}`,
    );
    assert.deepEqual(parseAdName(first.name), {
      adSet: SET,
      market: 'SE',
      date: '2026-03-02',
      creativeHash: h(1),
    });
  });

  it('keeps live winners, resumes a paused one that came back, pauses the ones that dropped', () => {
    const p = planAdSet(
      input({ ads: [ad(1), ad(2, { status: 'paused' }), ad(7), ad(8, { status: 'paused' })] }),
    );
    assert.deepEqual(actionsOf(p), ['create:3', 'keep:1', 'pause:7', 'resume:2']);
    const pause = p.actions.find((a) => a.action === 'pause');
    assert.equal(pause?.action === 'pause' && pause.reason, 'dropped');
  });

  it('passes over rejected, fatigued and QA-failed candidates to the next ranked', () => {
    const p = planAdSet(
      input({
        candidates: input().candidates.map((c) => (c.rank === 2 ? { ...c, eligible: false } : c)),
        ads: [ad(1, { review: 'rejected', reviewReason: 'Policy: text' }), ad(3)],
        fatigued: new Map([[h(3), 'CTR fell 40%']]),
      }),
    );
    assert.deepEqual(actionsOf(p), ['create:4', 'create:5', 'pause:1', 'pause:3']);
    assert.deepEqual(p.newlyRejected, [{ adId: 'ad1', hash: h(1), reason: 'Policy: text' }]);
    assert.deepEqual(
      p.skipped.map((s) => [s.rank, s.reason.split(':')[0]]),
      [
        [1, 'rejected by review'],
        [2, 'QA kept it from meta'],
        [3, 'fatigued'],
      ],
    );
    const reasons = p.actions.flatMap((a) => (a.action === 'pause' ? [a.reason] : [])).sort();
    assert.deepEqual(reasons, ['fatigued', 'rejected']);
  });

  it('never reuses a rejected or archived ad for a wanted creative', () => {
    const p = planAdSet(
      input({
        ads: [ad(1, { status: 'archived' }), ad(2, { status: 'paused', review: 'rejected' })],
      }),
    );
    assert.deepEqual(actionsOf(p), ['create:1', 'create:3', 'create:4']);
  });

  it('Meta: archives the oldest idle ads to stay within the 50-ad cap', () => {
    const old = Array.from({ length: 49 }, (_, i) =>
      ad(100 + i, {
        status: 'paused',
        createdDate: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}`,
      }),
    );
    const p = planAdSet(input({ ads: old }));
    const c = countActions([p]);
    assert.deepEqual([c.create, c.archive], [3, 2]);
    const archived = p.actions.filter((a) => a.action === 'archive').map((a) => a.name);
    assert.ok(
      archived.every((n) => n.includes('2026-01-01')),
      'the oldest go first',
    );
  });

  it('TikTok: rolls a full ad group over to the next one, which takes every wanted creative', () => {
    const full = Array.from({ length: 49 }, (_, i) => ad(100 + i, { status: 'paused' }));
    const p = planAdSet(input({ platform: 'tiktok', canArchive: false, ads: [ad(1), ...full] }));
    assert.equal(p.adSet.name, 'adloop/SE/default#2');
    assert.equal(p.adSet.id, null);
    assert.deepEqual(actionsOf(p), ['create:1', 'create:2', 'create:3']);
    assert.deepEqual(p.disableAdSets, [{ id: 'set1', name: SET }]);
    assert.ok(p.actions.every((a) => a.name.startsWith('adloop/SE/default#2/ad/')));
    assert.deepEqual(parseAdName(p.actions[0]!.name)?.adSet, 'adloop/SE/default#2');
  });

  it('prints a diff a person can read', () => {
    const p = planAdSet(input({ ads: [ad(1), ad(9)] }));
    const lines = formatPlan('SE', '2026-03-02', [p]);
    assert.match(
      lines[0]!,
      /deploy plan SE 2026-03-02: 2 create, 1 keep, 0 resume, 1 pause, 0 archive/,
    );
    assert.ok(lines.some((l) => /^ {4}\+ create +0002a+ +#2 artist2$/.test(l)));
    assert.ok(
      lines.some((l) => /^ {4}- pause +0009a+ +dropped: no longer among the top ranked$/.test(l)),
    );
    assert.ok(lines.some((l) => /^ {4}= keep +0001a+ +#1 artist1$/.test(l)));
  });
});

describe('fatigue', () => {
  const days = (ctrs: number[], impressions = 1000) =>
    ctrs.map((ctr, i) => ({
      creativeHash: 'c',
      date: `2026-03-${String(i + 1).padStart(2, '0')}`,
      impressions,
      clicks: Math.round(ctr * impressions),
    }));

  it('flags a creative whose recent CTR fell well below its best stretch', () => {
    const f = fatiguedCreatives(days([0.02, 0.02, 0.02, 0.018, 0.012, 0.011, 0.01]));
    assert.match(f.get('c') ?? '', /% below its best 2\.00%/);
  });

  it('leaves steady, young or thinly measured creatives alone', () => {
    assert.equal(fatiguedCreatives(days([0.02, 0.02, 0.019, 0.02, 0.019, 0.02, 0.02])).size, 0);
    assert.equal(fatiguedCreatives(days([0.02, 0.02, 0.01, 0.01, 0.01])).size, 0, 'too young');
    assert.equal(
      fatiguedCreatives(days([0.02, 0.02, 0.02, 0.01, 0.01, 0.01], 100)).size,
      0,
      'noise',
    );
  });
});

describe('Meta usage governor', () => {
  /** A governor whose waits pass instantly on a fake clock, recorded in `waits`. */
  function governorOnFakeClock() {
    const waits: number[] = [];
    let now = 0;
    const g = new UsageGovernor({
      now: () => now,
      sleep: (ms) => {
        waits.push(ms);
        now += ms;
        return Promise.resolve();
      },
    });
    return { g, waits };
  }

  const header = (pct: number) =>
    JSON.stringify({
      '1': [{ type: 'ads_management', call_count: pct, total_cputime: 1, total_time: 1 }],
    });

  it('reads the highest share of any use case and measure', () => {
    assert.equal(usagePercent(header(42)), 42);
    assert.equal(usagePercent('not json'), null);
    assert.equal(usagePercent(undefined), null);
  });

  it('sends at once at low usage, cuts batches to what fits, waits when nothing does', async () => {
    const { g, waits } = governorOnFakeClock();
    // Learn the cost of a call: 2% each.
    for (const pct of [10, 12, 14, 16, 18]) {
      assert.equal(await g.reserve(), 1);
      g.observe(header(pct));
    }
    assert.equal(waits.slice().length, 0, 'no wait at low usage');
    const big = await g.reserve(50);
    assert.ok(big >= 30, 'large batches while far from 90%');
    g.observe(header(78), big); // 30 calls or more at 2% each
    const cut = await g.reserve(50);
    assert.ok(cut >= 4 && cut <= 7, `a batch is cut to what stays under 90% (${cut})`);
    assert.ok(waits.length === 1 && waits[0]! > 0, 'spaced out above 75%');
    g.observe(header(89), cut);
    // Nothing fits: it waits, then lets one call through to re-read usage.
    const before = waits.length;
    assert.equal(await g.reserve(50), 1);
    assert.equal(waits[before], 1000);
    g.observe(header(90));
    await g.reserve(1);
    assert.ok(waits.slice(before).includes(2000), 'the wait doubles while usage stays high');
    g.observe(header(30));
    assert.ok((await g.reserve(50)) >= 20, 'usage fell: large batches go again');
  });

  it('waits at high usage even before it has learnt what a call costs', async () => {
    const { g, waits } = governorOnFakeClock();
    g.observe(header(99));
    assert.equal(await g.reserve(50), 1, 'one call, after a wait, to re-read usage');
    assert.equal(waits[0], 1000);
  });

  it('shares what is left between concurrent callers', async () => {
    const { g } = governorOnFakeClock();
    g.observe(header(80));
    const [a, b] = await Promise.all([g.reserve(50), g.reserve(50)]);
    // The first takes the 10 calls left under 90%; the second waits, then may send one call.
    assert.deepEqual([a, b], [10, 1]);
  });

  it('holds every call until the time Meta named after throttling', async () => {
    const { g, waits } = governorOnFakeClock();
    g.throttled(120_000);
    await g.reserve();
    assert.equal(waits[0], 120_000);
  });

  it('backs off when a throttle names no time, and starts short again after a success', async () => {
    const { g, waits } = governorOnFakeClock();
    for (let i = 0; i < 7; i++) {
      g.throttled(null);
      await g.reserve();
    }
    assert.deepEqual(waits, [2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    g.succeeded();
    g.throttled(null);
    await g.reserve();
    assert.equal(waits.at(-1), 2000);
  });

  it('counts the calls of one batch, or requests in flight together, as one throttle', async () => {
    const { g, waits } = governorOnFakeClock();
    // A batch of 50 sent at once, every call throttled: one back-off step, not fifty.
    const sentAt = g.stamp();
    for (let i = 0; i < 50; i++) g.throttled(null, sentAt);
    await g.reserve();
    assert.deepEqual(waits, [2000]);
    // The next request, sent after that throttle, is throttled too: the back-off doubles once.
    g.throttled(null, g.stamp());
    await g.reserve();
    assert.deepEqual(waits, [2000, 4000]);
  });
});
