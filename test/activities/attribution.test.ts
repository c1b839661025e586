// Attribution ingest on real parts: deploy real ads into the sandbox, let days of delivery pass,
// and ingest what Adjust or Branch attribute.
import { MockActivityEnvironment } from '@temporalio/testing';
import { renderAll, typedRun } from '../helpers/activity.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities } from '../../activities/index.ts';
import { sql } from 'kysely';
import { attributionTotals } from '../../db/attribution.repository.ts';
import { attributedRange } from '../../sandbox/mmp/attribution.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const RUN = 'market/SE/2026-03-01';

async function deployedStack(mmp: 'adjust' | 'branch') {
  // Both stores: iOS attribution arrives aggregated per campaign, Android per creative.
  const stack = await startTestStack({
    date: '2026-03-01',
    mmp,
    deploy: { DEPLOY_OS: ['ios', 'android'] },
  });
  const acts = createActivities(stack.deps);
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: RUN, runId: 'r' } });
  const run = typedRun(env);
  const input = { market: 'SE', date: '2026-03-01' };
  await run(acts.startMarketRun, input);
  await run(acts.ingestCatalog, input);
  const { selected } = await run(acts.rankMarket, { ...input, metricsAvailable: true });
  const creatives = await renderAll(run, acts, { ...input, items: selected });
  await run(acts.deployCreatives, { ...input, creatives });
  // Six days later: every day up to yesterday is complete, iOS postbacks included.
  stack.sandbox.clock.set('2026-03-07');
  return { stack, acts, run };
}

describe('attribution ingest', () => {
  const stacks: TestStack[] = [];
  let adjust: Awaited<ReturnType<typeof deployedStack>>;
  let branch: Awaited<ReturnType<typeof deployedStack>>;
  const totals = (s: TestStack, source: string) =>
    attributionTotals(s.database.db, {
      source,
      campaigns: ['adloop/SE'],
      from: '2026-03-01',
      to: '2026-03-06',
    });

  before(async () => {
    adjust = await deployedStack('adjust');
    branch = await deployedStack('branch');
    stacks.push(adjust.stack, branch.stack);
  });
  after(async () => Promise.all(stacks.map((s) => s.close())));

  it('stores Android per creative and iOS only at campaign level', async () => {
    const input = { market: 'SE', date: '2026-03-07' };
    const r = await adjust.run(adjust.acts.ingestAttribution, { ...input });
    assert.equal(r.source, 'adjust');
    assert.ok(r.rows > 0);
    const rows = await adjust.stack.database.db.selectFrom('mmp_attribution').selectAll().execute();
    const ios = rows.filter((x) => x.os === 'ios');
    const android = rows.filter((x) => x.os === 'android');
    assert.ok(ios.length > 0 && android.length > 0);
    assert.ok(ios.every((x) => x.aggregated && x.creative_id === null && x.ad_group_id === null));
    assert.ok(android.every((x) => !x.aggregated && x.creative_id !== null));
    assert.equal(
      new Set(android.map((x) => x.creative_id)).size,
      6,
      'one creative per deployed ad: three on Meta, three on TikTok',
    );
  });

  it('re-ingesting changes nothing', async () => {
    const before = await adjust.stack.database.db
      .selectFrom('mmp_attribution')
      .selectAll()
      .orderBy('date')
      .orderBy('os')
      .orderBy('creative_id')
      .execute();
    await adjust.run(adjust.acts.ingestAttribution, { market: 'SE', date: '2026-03-07' });
    const again = await adjust.stack.database.db
      .selectFrom('mmp_attribution')
      .selectAll()
      .orderBy('date')
      .orderBy('os')
      .orderBy('creative_id')
      .execute();
    assert.deepEqual(
      again.map(({ ingested_at: _, ...r }) => r),
      before.map(({ ingested_at: _, ...r }) => r),
    );
  });

  it('gives the same totals through Adjust and through Branch', async () => {
    await branch.run(branch.acts.ingestAttribution, { market: 'SE', date: '2026-03-07' });
    const a = await totals(adjust.stack, 'adjust');
    const b = await totals(branch.stack, 'branch');
    assert.ok(a.android.installs > 0 && a.ios.installs > 0);
    assert.deepEqual(b, a);
  });

  it('does nothing without an MMP, and nothing for a market with no campaign yet', async () => {
    const none = await startTestStack({ mmp: 'none' });
    stacks.push(none);
    const acts = createActivities(none.deps);
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: RUN, runId: 'r' } });
    const runNone = typedRun(env);
    await runNone(acts.startMarketRun, { market: 'SE', date: '2026-03-01' });
    assert.deepEqual(await runNone(acts.ingestAttribution, { market: 'SE', date: '2026-03-01' }), {
      source: null,
      rows: 0,
      since: '2026-02-26',
    });
    assert.deepEqual(
      await adjust.run(adjust.acts.ingestAttribution, { market: 'DE', date: '2026-03-07' }),
      { source: 'adjust', rows: 0, since: '2026-03-04' },
    );
  });
});

describe('attribution ingest after days it could not read', () => {
  it('goes back to where its last successful read started, without an operator', async () => {
    const s = await deployedStack('adjust');
    const ingest = async (date: string) => {
      s.stack.sandbox.clock.set(date);
      return s.run(s.acts.ingestAttribution, { market: 'SE', date });
    };
    try {
      assert.equal((await ingest('2026-03-02')).since, '2026-02-27');
      // Adjust down four days, longer than the three-day lookback.
      s.stack.sandbox.mmp.faults.adjust.down = true;
      for (const date of ['2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06'])
        await assert.rejects(ingest(date), /adjust/i);
      s.stack.sandbox.mmp.faults.adjust.down = false;
      // The next read starts where 03-02's did, not at its own lookback (03-04).
      assert.equal((await ingest('2026-03-07')).since, '2026-02-27');
      const days = await s.stack.database.db
        .selectFrom('mmp_attribution')
        .select(sql<string>`date::text`.as('date'))
        .where('os', '=', 'android')
        .distinct()
        .orderBy('date')
        .execute();
      // Every day since the deploy, 03-02 and 03-03 included: no daily lookback reached them.
      assert.deepEqual(
        days.map((d) => d.date),
        ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06'],
      );
    } finally {
      await s.stack.close();
    }
  });
});

describe('attribution ingest while the MMP is behind', () => {
  it('keeps what a fuller read stored, and reads the days again once the MMP caught up', async () => {
    const s = await deployedStack('adjust');
    const ingest = async (date: string) => {
      s.stack.sandbox.clock.set(date);
      return s.run(s.acts.ingestAttribution, { market: 'SE', date });
    };
    const byDay = async () =>
      new Map(
        (
          await s.stack.database.db
            .selectFrom('mmp_attribution')
            .select((eb) => [
              sql<string>`date::text`.as('day'),
              eb.fn.sum<number>(sql`installs + registrations + subscriptions`).as('total'),
            ])
            .groupBy('date')
            .execute()
        ).map((r) => [r.day, Number(r.total)]),
      );
    try {
      // 03-05 reads 03-02..03-04, complete (the world's MMP delay is one day).
      assert.equal((await ingest('2026-03-05')).behind, undefined);
      const complete = await byDay();
      assert.ok((complete.get('2026-03-02') ?? 0) > 0, 'there is something to keep');
      // Adjust's pipeline falls three days behind: 03-06 reads 03-03..03-05 partial.
      s.stack.sandbox.mmp.faults.adjust.delayDays = 3;
      const late = await ingest('2026-03-06');
      assert.deepEqual(late.behind, ['2026-03-03', '2026-03-04']);
      const kept = await byDay();
      for (const day of ['2026-03-03', '2026-03-04'])
        assert.equal(kept.get(day), complete.get(day), `${day} keeps its complete rows`);
      // Caught up: 03-07 reads from where 03-05's read started, 03-03 and 03-04 included.
      s.stack.sandbox.mmp.faults.adjust.delayDays = 0;
      const next = await ingest('2026-03-07');
      assert.equal(next.since, '2026-03-02');
      assert.equal(next.behind, undefined);
      // And what it stored is what the MMP now reports for each day.
      const sandboxTotals = (day: string) =>
        attributedRange(
          s.stack.sandbox.world,
          [s.stack.sandbox.meta, s.stack.sandbox.tiktok],
          day,
          day,
          '2026-03-07',
        )
          .filter((r) => r.campaignName === 'adloop/SE')
          .reduce((n, r) => n + r.installs + r.registrations + r.subscriptions, 0);
      const after = await byDay();
      for (const day of ['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06'])
        assert.equal(after.get(day) ?? 0, sandboxTotals(day), `${day} as the MMP reports it`);
    } finally {
      await s.stack.close();
    }
  });
});
