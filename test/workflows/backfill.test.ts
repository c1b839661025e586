// `metricsBackfill` on a real Temporal dev server with the real activities over the sandbox: after
// Adjust was down five days while the ingest re-reads three, the backfill of those days adds the
// rows the lookback missed, recomputes the learn snapshots over them, and a second run of the same
// range (same workflow id) re-reads it and changes nothing. A bad request fails, naming why.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatBackfillResult } from '../../cli/commands/backfill.ts';
import { backfillMarketWorkflowId, backfillWorkflowId } from '../../core/ids.ts';
import type { BackfillInput, BackfillResult } from '../../core/types.ts';
import { getRun, listStageEvents } from '../../db/runs.repository.ts';
import { getBackfillMarketProgress, getBackfillStatus } from '../../workflows/backfill.ts';
import { metricsBackfill } from '../../workflows/index.ts';
import {
  attributionDays,
  BACKFILL,
  MARKET,
  outageStack,
  snapshotMmpRegistrations,
  type OutageStack,
} from '../helpers/outage.ts';
import { ROOT } from '../helpers/stack.ts';
import { createTestWorker, testEnvironment, uniqueTaskQueue } from '../helpers/temporal.ts';

const { from: FROM, to: TO } = BACKFILL;
const ID = backfillWorkflowId(FROM, TO);

describe('metrics backfill workflow on a real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let o: OutageStack;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('backfill');

  const backfill = (input: BackfillInput) =>
    env.client.workflow.execute(metricsBackfill, {
      workflowId: ID,
      taskQueue,
      args: [input],
      // As `adloop backfill` starts it: a finished range runs again.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'USE_EXISTING',
    });

  before(async () => {
    env = await testEnvironment();
    o = await outageStack();
    worker = await createTestWorker(env, taskQueue, o.deps);
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await o?.stack.close();
    await env?.teardown();
  });

  let first: BackfillResult;

  it('adds the attribution the lookback missed, and recomputes the learn snapshots', async () => {
    const before = await snapshotMmpRegistrations(o.stack, '2026-03-03');
    first = await backfill({ from: FROM, to: TO, markets: [MARKET] });
    assert.deepEqual(first.markets, [MARKET]);
    assert.deepEqual(first.failed, []);
    const attribution = first.tallies.find((t) => t.source === 'attribution')!;
    const delivery = first.tallies.find((t) => t.source === 'delivery')!;
    assert.ok(attribution.added > 0, `attribution added ${attribution.added}`);
    assert.equal(delivery.added, 0);
    assert.equal(first.totals.read, attribution.read + delivery.read);
    assert.equal(first.totals.added, attribution.added);
    // The days the outage hid, and the two read while the MMP was catching up: one run.
    assert.deepEqual(attribution.changedDays, [{ since: FROM, until: TO }]);
    assert.ok(((await attributionDays(o.stack)).get('2026-03-02') ?? 0) > 0);
    // Every snapshot of the week held a changed day; each was learned again from the new rows.
    assert.deepEqual(first.learn, [
      {
        market: MARKET,
        recomputed: [
          '2026-03-02',
          '2026-03-03',
          '2026-03-04',
          '2026-03-05',
          '2026-03-06',
          '2026-03-07',
          '2026-03-08',
        ],
        failed: [],
      },
    ]);
    assert.ok((await snapshotMmpRegistrations(o.stack, '2026-03-03')) > before);
    // The market's part is audited like a market's run, under its own id.
    const childId = backfillMarketWorkflowId(ID, MARKET);
    const run = await getRun(o.stack.database.db, childId);
    assert.equal(run?.status, 'completed');
    const events = await listStageEvents(o.stack.database.db, childId);
    assert.deepEqual(
      [...new Set(events.filter((e) => e.event === 'completed').map((e) => e.stage))],
      ['ingest', 'learn'],
    );
    // What the CLI shows while it runs and after.
    const status = await env.client.workflow.getHandle(ID).query(getBackfillStatus);
    assert.deepEqual(status.done, [MARKET]);
    const progress = await env.client.workflow.getHandle(childId).query(getBackfillMarketProgress);
    assert.deepEqual([progress.stage, progress.windowsDone, progress.learnDone], ['done', 1, 7]);
    const text = formatBackfillResult(first).join('\n');
    assert.match(text, /attribution\s+SE\s+\d+\s+[1-9]\d*\s+\d+\s+\d+/);
    assert.match(text, /Learn SE: recomputed 7 snapshots/);
  });

  it('run again for the same range, it re-reads and changes nothing', async () => {
    const again = await backfill({ from: FROM, to: TO, markets: [MARKET] });
    assert.equal(again.totals.read, first.totals.read);
    assert.deepEqual([again.totals.added, again.totals.changed], [0, 0]);
    assert.equal(again.totals.unchanged, again.totals.read);
    assert.deepEqual(again.learn, [{ market: MARKET, recomputed: [], failed: [] }]);
    assert.match(formatBackfillResult(again).join('\n'), /nothing to recompute/);
  });

  it('`adloop backfill` shows each market’s progress, then what changed', async () => {
    // The CLI in its own process, against this server and the worker above.
    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'cli/adloop.ts'), 'backfill', '--from', FROM, '--to', TO],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: env.address,
          TEMPORAL_NAMESPACE: env.namespace ?? 'default',
          TEMPORAL_TASK_QUEUE: taskQueue,
        },
      },
    );
    let stdout = '';
    let stderr = '';
    cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
    assert.equal(code, 0, stderr);
    // Every market of the accounts file, SE's part already re-read by the runs above.
    assert.match(stderr, new RegExp(`▸ ${ID}: started`));
    assert.match(stderr, /\[SE\] (delivery|attribution|learn|done)/);
    assert.match(stdout, /^Backfill 2026-03-01\.\.2026-03-05: .*SE.*; delivery and attribution$/m);
    assert.match(stdout, /^ {2}total /m);
    assert.match(stdout, /^ {2}delivery +SE +\d+ +0 +0 +\d+$/m);
  });

  it('fails at once, naming them, on markets no account runs', async () => {
    await assert.rejects(
      backfill({ from: FROM, to: TO, markets: ['SE', 'XK'] }),
      (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        let e: unknown = err;
        while (e instanceof Error && e.cause instanceof Error) e = e.cause;
        assert.match((e as Error).message, /no account of the accounts file runs XK/);
        return true;
      },
    );
  });
});
