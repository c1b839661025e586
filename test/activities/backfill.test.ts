// The backfill's activities on real parts: Adjust down for five days while the daily ingest
// re-reads three, then a backfill of those five days re-reads what the lookback never reached,
// through the daily ingest's own readers, and says what that changed; run again, it changes
// nothing. The learn snapshots over the changed days are found and recomputed from the new rows.
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FAILURE } from '../../core/failures.ts';
import { backfillMarketWorkflowId, backfillWorkflowId } from '../../core/ids.ts';
import type { BackfillTally } from '../../core/types.ts';
import { typedRun } from '../helpers/activity.ts';
import {
  attributionDays,
  BACKFILL,
  MARKET,
  MMP_DOWN,
  outageStack,
  snapshotMmpRegistrations,
  type OutageStack,
} from '../helpers/outage.ts';

const { from: FROM, to: TO } = BACKFILL;
const window = { market: MARKET, since: FROM, until: TO };

describe('metrics backfill activities after an MMP outage longer than the lookback', () => {
  let o: OutageStack;
  let run: ReturnType<typeof typedRun>;
  let first: BackfillTally;

  before(async () => {
    o = await outageStack();
    // The child workflow opens its run in the audit log before it reads.
    run = typedRun(
      new MockActivityEnvironment({
        workflowExecution: {
          workflowId: backfillMarketWorkflowId(backfillWorkflowId(FROM, TO), MARKET),
          runId: 'r',
        },
      }),
    );
    await run(o.acts.startMarketRun, { market: MARKET, date: TO });
  });
  after(async () => o?.stack.close());

  it('the daily ingest failed while Adjust was down and never re-read the oldest days', async () => {
    for (const [date, failed] of o.attributionFailed)
      assert.equal(failed, MMP_DOWN.includes(date), date);
    const days = await attributionDays(o.stack);
    for (const d of ['2026-03-01', '2026-03-02', '2026-03-03'])
      assert.equal(days.get(d), undefined, `${d} was never read`);
    assert.ok((days.get('2026-03-04') ?? 0) > 0, 'the lookback after the outage read 03-04');
  });

  it('plans the range: markets of the accounts file, both sources, one window', async () => {
    const plan = await run(o.acts.planBackfill, { from: FROM, to: TO });
    assert.deepEqual(plan.sources, ['delivery', 'attribution']);
    assert.ok(plan.markets.includes(MARKET) && plan.markets.length > 1, plan.markets.join());
    assert.deepEqual(plan.windows, [{ since: FROM, until: TO }]);
    const only = await run(o.acts.planBackfill, { from: FROM, to: TO, markets: ['se'] });
    assert.deepEqual(only.markets, ['SE']);
  });

  it('refuses, non-retryable and naming it, what it cannot do', async () => {
    const refused = async (input: Parameters<typeof o.acts.planBackfill>[0], text: RegExp) => {
      await assert.rejects(run(o.acts.planBackfill, input), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, FAILURE.backfillInput);
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, text);
        return true;
      });
    };
    await refused({ from: FROM, to: TO, markets: ['SE', 'XK', 'QQ'] }, /runs XK, QQ \(it runs /);
    await refused({ from: TO, to: FROM }, /--from 2026-03-05 is after --to 2026-03-01/);
    // The worker's clock says 2026-03-09: that day is not over.
    await refused({ from: FROM, to: '2026-03-09' }, /--to 2026-03-09 is not over yet/);
    await refused({ from: '2022-01-01', to: TO }, /older than Meta keeps ads insights/);
    await refused(
      { from: FROM, to: TO, sources: ['delivery', 'clicks' as 'delivery'] },
      /unknown "clicks"/,
    );
  });

  it('re-reads the attribution the lookback missed: rows added, partial ones changed', async () => {
    first = await run(o.acts.backfillAttribution, window);
    assert.equal(first.source, 'attribution');
    assert.ok(first.added > 0, `added ${first.added}`);
    // 03-04 and 03-05 were last read while the MMP was catching up: partial then, complete now.
    assert.ok(first.changed > 0, `changed ${first.changed}`);
    assert.ok(first.examples.length > 0 && first.examples.length <= 5);
    assert.ok(first.examples.some((e) => e.date === '2026-03-04' || e.date === '2026-03-05'));
    assert.ok(
      first.examples.some((e) => Number(e.changes.installs?.new) > Number(e.changes.installs?.old)),
      JSON.stringify(first.examples),
    );
    assert.equal(first.read, first.added + first.changed + first.unchanged);
    for (const d of ['2026-03-01', '2026-03-02', '2026-03-03'])
      assert.ok(first.changedDates.includes(d), `${d} in ${first.changedDates.join()}`);
    const days = await attributionDays(o.stack);
    for (const d of ['2026-03-02', '2026-03-03']) assert.ok((days.get(d) ?? 0) > 0, d);
    for (const e of first.examples) {
      assert.ok(Object.keys(e.changes).length > 0);
      for (const c of Object.values(e.changes)) assert.notEqual(c.old, c.new);
    }
  });

  it('re-reads delivery over the same path: every row already stored, counted', async () => {
    const t = await run(o.acts.backfillDelivery, window);
    assert.equal(t.source, 'delivery');
    assert.ok(t.read > 0);
    assert.equal(t.read, t.added + t.changed + t.unchanged);
    assert.equal(t.added, 0, 'the daily ingest had read every day of delivery');
    const stored = await o.stack.database.db
      .selectFrom('ad_metrics_daily')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('market', '=', MARKET)
      .where('date', '>=', FROM)
      .where('date', '<=', TO)
      .executeTakeFirstOrThrow();
    assert.equal(t.read, Number(stored.n));
  });

  it('a second backfill of the range changes nothing', async () => {
    const again = await run(o.acts.backfillAttribution, window);
    assert.deepEqual(
      [again.read, again.added, again.changed, again.unchanged],
      [first.read, 0, 0, first.read],
    );
    const delivery = await run(o.acts.backfillDelivery, window);
    assert.deepEqual([delivery.added, delivery.changed], [0, 0]);
    assert.deepEqual(delivery.changedDates, []);
  });

  it('finds the learn snapshots over the changed days, and learn recomputes them', async () => {
    const stale = await run(o.acts.staleLearnSnapshots, {
      market: MARKET,
      changedDays: first.changedDates.map((d) => ({ since: d, until: d })),
    });
    // Learn sums 7 days: every snapshot of the week holds a changed day.
    assert.deepEqual(stale, [
      '2026-03-02',
      '2026-03-03',
      '2026-03-04',
      '2026-03-05',
      '2026-03-06',
      '2026-03-07',
      '2026-03-08',
    ]);
    assert.deepEqual(
      await run(o.acts.staleLearnSnapshots, {
        market: MARKET,
        changedDays: [{ since: '2026-01-01', until: '2026-02-20' }],
      }),
      [],
      'no snapshot holds a day that long before',
    );
    // A change on the week's last day reaches only the snapshots as of it and later.
    assert.deepEqual(
      await run(o.acts.staleLearnSnapshots, {
        market: MARKET,
        changedDays: [{ since: '2026-03-08', until: '2026-03-08' }],
      }),
      ['2026-03-08'],
    );
    const before = await snapshotMmpRegistrations(o.stack, '2026-03-03');
    await run(o.acts.learnFromResults, { market: MARKET, date: '2026-03-03' });
    const after = await snapshotMmpRegistrations(o.stack, '2026-03-03');
    assert.equal(before, 0, 'as of 03-03 the MMP had reported nothing');
    assert.ok(after > 0, `after the backfill: ${after} MMP registrations`);
  });
});
