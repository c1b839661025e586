// Temporal Schedules on a real server: a market's schedule runs its loop at a local time in its
// time zone, a backfill runs missed days oldest first and never a day twice, a paused market's
// runs are skipped and cannot be rerun, and the status report says where each market stands.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { localDate } from '../../core/dates.ts';
import { marketLoopWorkflowId } from '../../core/ids.ts';
import type { MarketLoopResult } from '../../core/types.ts';
import {
  formatMarketStatus,
  marketStatus,
  pauseMarketRuns,
  rerunMarket,
  resumeMarketRuns,
} from '../../ops/market-control.ts';
import {
  applySchedules,
  backfillMarket,
  describeMarketSchedule,
  listSchedules,
  marketSchedule,
  scheduledMarkets,
  schedulePause,
  trainingSchedule,
  type ScheduleSettings,
} from '../../ops/schedules.ts';
import type { scheduledTraining } from '../../workflows/index.ts';
import { marketLoop } from '../../workflows/index.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { startLoopWorkers, testEnvironment } from '../helpers/temporal.ts';

const SE = { code: 'SE', timeZone: 'Europe/Stockholm' };
const BR = { code: 'BR', timeZone: 'America/Sao_Paulo' };

describe('schedules on a real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let stack: TestStack;
  let workers: Awaited<ReturnType<typeof startLoopWorkers>>;
  let settings: ScheduleSettings;

  before(async () => {
    env = await testEnvironment();
    // Days no other test runs: the scheduled runs must not find them done by another test file.
    stack = await startTestStack({ date: '2026-06-02' });
    workers = await startLoopWorkers(
      env,
      // Market loops read a market's pause from its schedule, as the real worker wires it.
      { ...stack.deps, control: { pauseOf: (m) => schedulePause(env.client, m) } },
      'schedules',
    );
    settings = { taskQueue: workers.taskQueue, renderTaskQueue: workers.renderTaskQueue };
  });
  after(async () => {
    for (const s of await listSchedules(env.client).catch(() => []))
      await env.client.schedule.getHandle(s.scheduleId).delete();
    await workers?.stop();
    await stack?.close();
    await env?.teardown();
  });

  it('creates one schedule per market at a local time in its time zone, and updates it', async () => {
    const created = await applySchedules(
      env.client,
      [marketSchedule(SE, settings), marketSchedule(BR, settings), trainingSchedule(settings)],
      'create',
    );
    assert.deepEqual(
      created.map((r) => r.outcome),
      ['created', 'created', 'created'],
    );
    // Creating again changes nothing and says so.
    const again = await applySchedules(env.client, [marketSchedule(SE, settings)], 'create');
    assert.equal(again[0]!.outcome, 'exists');

    const rows = await listSchedules(env.client);
    assert.deepEqual(
      rows.map((r) => `${r.scheduleId} ${r.at} ${r.timeZone}`),
      [
        'adloop/market/BR 06:00 America/Sao_Paulo',
        'adloop/market/SE 06:00 Europe/Stockholm',
        'adloop/training 23:30 UTC',
      ],
    );
    assert.deepEqual(await scheduledMarkets(env.client), ['BR', 'SE']);
    // The next runs fall at 06:00 local, whatever the UTC offset that day.
    for (const row of rows.filter((r) => r.market)) {
      const next = row.nextRuns[0]!;
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone: row.timeZone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(next);
      assert.equal(local, '06:00', `${row.scheduleId} next at ${next.toISOString()}`);
    }

    const updated = await applySchedules(
      env.client,
      [marketSchedule(BR, { ...settings, marketAt: { hour: 7, minute: 30 } })],
      'update',
    );
    assert.equal(updated[0]!.outcome, 'updated');
    assert.equal((await describeMarketSchedule(env.client, 'BR'))?.at, '07:30');
  });

  it('backfills missed days oldest first, each under its own date, and never runs a day twice', async () => {
    await backfillMarket(env.client, 'SE', '2026-06-01', '2026-06-02');
    const results: MarketLoopResult[] = [];
    for (const date of ['2026-06-01', '2026-06-02'])
      results.push(await waitForResult(marketLoopWorkflowId('SE', date)));
    assert.deepEqual(
      results.map((r) => [r.date, r.status]),
      [
        ['2026-06-01', 'completed'],
        ['2026-06-02', 'completed'],
      ],
    );
    // The first day was over before the second started (BUFFER_ALL): the second learned from it.
    const first = await env.client.workflow
      .getHandle(marketLoopWorkflowId('SE', '2026-06-01'))
      .describe();
    const second = await env.client.workflow
      .getHandle(marketLoopWorkflowId('SE', '2026-06-02'))
      .describe();
    assert.ok(first.closeTime! <= second.startTime, 'days ran one after the other');

    // The same range again: the scheduled runs find both days done and start nothing.
    const before = (await listScheduledRuns()).length;
    await backfillMarket(env.client, 'SE', '2026-06-01', '2026-06-02');
    const scheduled = await waitForScheduledRuns(before + 2);
    assert.equal(scheduled.length, 2);
    const repeats = scheduled;
    for (const r of repeats) {
      assert.equal(r.started, false);
      assert.match(r.reason, /market\/SE\/2026-06-0[12] is running or has completed already/);
    }
    assert.equal((await runsOf('SE', '2026-06-01')).length, 1);
  });

  it('skips the runs of a paused market, refuses to rerun it, and reports it in status', async () => {
    const paused = await pauseMarketRuns(
      env.client,
      'SE',
      { by: 'carol', reason: 'budget freeze' },
      { taskQueue: workers.taskQueue },
    );
    assert.equal(paused.schedule, 'changed');
    const row = await describeMarketSchedule(env.client, 'SE');
    assert.equal(row?.paused, true);
    assert.match(row.note, /^paused by carol at .*: budget freeze$/);

    // A run started any other way (npm start's daily loop, the UI) finds the pause and skips.
    const skipped = await env.client.workflow.execute(marketLoop, {
      workflowId: marketLoopWorkflowId('SE', '2026-06-03'),
      taskQueue: workers.taskQueue,
      args: [{ market: 'SE', date: '2026-06-03', renderTaskQueue: workers.renderTaskQueue }],
    });
    assert.equal(skipped.status, 'skipped');
    assert.match(skipped.degraded![0]!, /market paused by carol since .*: budget freeze/);
    await assert.rejects(
      rerunMarket(env.client, { market: 'SE', date: '2026-06-03', ...settings }),
      /SE is paused \(by carol since /,
    );

    const status = await marketStatus(env.client, 'SE', { taskQueue: workers.taskQueue });
    assert.equal(status.pause?.by, 'carol');
    assert.equal(status.lastSuccess?.date, '2026-06-02');
    assert.equal(status.recent[0]?.status, 'skipped');
    assert.equal(status.fallbacks, 0);
    const text = formatMarketStatus(status).join('\n');
    assert.match(text, /PAUSED by carol since .* \(budget freeze\)/);
    assert.match(text, /last success: 2026-06-02/);

    const resumed = await resumeMarketRuns(
      env.client,
      'SE',
      { by: 'carol' },
      { taskQueue: workers.taskQueue },
    );
    assert.equal(resumed.schedule, 'changed');
    assert.equal(await schedulePause(env.client, 'SE'), null);
  });

  it('trains the ranking model when the training schedule fires, dated by its UTC day', async () => {
    const triggeredAt = new Date();
    await env.client.schedule.getHandle('adloop/training').trigger();
    const deadline = Date.now() + 60_000;
    let result: Awaited<ReturnType<typeof scheduledTraining>> | null = null;
    while (!result) {
      for await (const w of env.client.workflow.list({
        query: `WorkflowType = 'scheduledTraining' AND ExecutionStatus = 'Completed'`,
      }))
        result = await env.client.workflow
          .getHandle<typeof scheduledTraining>(w.workflowId, w.runId)
          .result();
      assert.ok(result || Date.now() < deadline, 'the triggered training never completed');
      if (!result) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(result.date, localDate(triggeredAt, 'UTC'));
    assert.equal(typeof result.training.reason, 'string');
  });

  it('dates a run started by hand by its start time in the market’s time zone', async () => {
    const handle = await env.client.workflow.start('scheduledMarketLoop', {
      workflowId: 'scheduled/BR-by-hand',
      taskQueue: workers.taskQueue,
      args: [
        { market: 'BR', timeZone: 'America/Sao_Paulo', renderTaskQueue: workers.renderTaskQueue },
      ],
    });
    const startedAt = (await handle.describe()).startTime;
    const result = (await handle.result()) as { date: string; started: boolean };
    assert.equal(result.date, localDate(startedAt, 'America/Sao_Paulo'));
    assert.equal(result.started, true);
  });

  async function waitForResult(workflowId: string): Promise<MarketLoopResult> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      try {
        return await env.client.workflow.getHandle<typeof marketLoop>(workflowId).result();
      } catch (err) {
        if (!/not found/i.test((err as Error).message) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async function runsOf(market: string, date: string) {
    const out = [];
    for await (const w of env.client.workflow.list({
      // This test's runs: other test files run the same market-days on the shared server.
      query: `WorkflowId = '${marketLoopWorkflowId(market, date)}' AND TaskQueue = '${workers.taskQueue}'`,
    }))
      out.push(w);
    return out;
  }

  async function listScheduledRuns() {
    const out = [];
    for await (const w of env.client.workflow.list({
      query: `WorkflowType = 'scheduledMarketLoop' AND Market = 'SE'`,
    }))
      out.push(w);
    return out;
  }

  /** The scheduled runs' results, newest first, once there are `n` of them and all closed. */
  async function waitForScheduledRuns(n: number) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const runs = await listScheduledRuns();
      if (runs.length >= n && runs.every((r) => r.status.name !== 'RUNNING'))
        return Promise.all(
          runs.map(
            (r) =>
              env.client.workflow.getHandle(r.workflowId, r.runId).result() as Promise<
                { started: true } | { started: false; reason: string }
              >,
          ),
        ).then((rs) => rs.filter((r): r is { started: false; reason: string } => !r.started));
      assert.ok(Date.now() < deadline, `only ${runs.length} of ${n} scheduled runs`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
});
