// A market that lived through an MMP outage longer than the ingest's lookback: ads deployed on
// the first day, then a week of daily ingests and learns (lookback 3 days) with Adjust down for
// the first five of them, and three days behind on the two after (its pipeline catching up: the
// days read then are partial). The days the outage hid are never re-read by a daily ingest, and
// the partial ones leave the lookback before they are complete: what `adloop backfill` is for.
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, type Activities, type ActivityDeps } from '../../activities/index.ts';
import { dateRange } from '../../core/dates.ts';
import { backfillMarketWorkflowId, backfillWorkflowId } from '../../core/ids.ts';
import { renderAll, typedRun } from './activity.ts';
import { startTestStack, type TestStack } from './stack.ts';
import { createTestWorker, uniqueTaskQueue } from './temporal.ts';

export const MARKET = 'SE';
export const DEPLOYED = '2026-03-01';
/** Daily runs after the deploy: the MMP is down for the first five, then late for the rest. */
export const DAYS = dateRange('2026-03-02', '2026-03-08');
export const MMP_DOWN = DAYS.slice(0, 5);
/** Extra days of MMP delay on the days after the outage. */
export const CATCH_UP_DELAY_DAYS = 3;
/** The first business date after the week: what "today" is when the backfill runs. */
export const TODAY = '2026-03-09';
/** The days the outage runs would have read as their yesterday: what to backfill. */
export const BACKFILL = { from: DEPLOYED, to: '2026-03-05' };

export interface OutageStack {
  stack: TestStack;
  /** The activities' dependencies, on a clock the test moves with the sandbox's business date. */
  deps: ActivityDeps;
  acts: Activities;
  /** Moves the sandbox and the worker's clock to 06:00 UTC of `date`. */
  setDate(date: string): void;
  /** Whether each day's attribution ingest failed (it must while the MMP is down). */
  attributionFailed: Map<string, boolean>;
}

/** Runs the deploy and the week of daily ingests and learns described above. */
export async function outageStack(): Promise<OutageStack> {
  // Both stores: iOS attribution arrives aggregated per campaign, Android per creative.
  const stack = await startTestStack({
    date: DEPLOYED,
    mmp: 'adjust',
    deploy: { DEPLOY_OS: ['ios', 'android'] },
  });
  let now = new Date(`${DEPLOYED}T06:00:00Z`);
  const deps: ActivityDeps = { ...stack.deps, clock: () => now };
  const acts = createActivities(deps);
  const setDate = (date: string) => {
    stack.sandbox.clock.set(date);
    now = new Date(`${date}T06:00:00Z`);
  };
  const runAs = (date: string) =>
    typedRun(
      new MockActivityEnvironment({
        workflowExecution: { workflowId: `market/${MARKET}/${date}`, runId: 'r' },
      }),
    );
  const first = { market: MARKET, date: DEPLOYED };
  const run = runAs(DEPLOYED);
  await run(acts.startMarketRun, first);
  await run(acts.ingestCatalog, first);
  const { selected } = await run(acts.rankMarket, { ...first, metricsAvailable: true });
  const creatives = await renderAll(run, acts, { ...first, items: selected });
  await run(acts.deployCreatives, { ...first, creatives });

  const attributionFailed = new Map<string, boolean>();
  for (const date of DAYS) {
    setDate(date);
    stack.sandbox.mmp.faults.adjust.down = MMP_DOWN.includes(date);
    stack.sandbox.mmp.faults.adjust.delayDays = MMP_DOWN.includes(date) ? 0 : CATCH_UP_DELAY_DAYS;
    const input = { market: MARKET, date };
    const day = runAs(date);
    await day(acts.startMarketRun, input);
    await day(acts.ingestPlatformMetrics, input);
    try {
      await day(acts.ingestAttribution, input);
      attributionFailed.set(date, false);
    } catch {
      attributionFailed.set(date, true);
    }
    await day(acts.learnFromResults, input);
  }
  stack.sandbox.mmp.faults.adjust.down = false;
  stack.sandbox.mmp.faults.adjust.delayDays = 0;
  setDate(TODAY);
  return { stack, deps, acts, setDate, attributionFailed };
}

/** Stored attribution rows per day of `market`'s campaign. */
export async function attributionDays(stack: TestStack): Promise<Map<string, number>> {
  const rows = await stack.database.db
    .selectFrom('mmp_attribution')
    .select(['date', (eb) => eb.fn.countAll<number>().as('n')])
    .where('campaign', '=', `adloop/${MARKET}`)
    .groupBy('date')
    .execute();
  return new Map(rows.map((r) => [r.date, Number(r.n)]));
}

/** The learn snapshot's MMP-attributed registrations of `market` as of `date`. */
export async function snapshotMmpRegistrations(stack: TestStack, date: string): Promise<number> {
  const r = await stack.database.db
    .selectFrom('creative_performance')
    .select((eb) => eb.fn.sum<number>('mmp_registrations').as('n'))
    .where('market', '=', MARKET)
    .where('as_of', '=', date)
    .executeTakeFirstOrThrow();
  return Number(r.n ?? 0);
}

/**
 * The backfill test/record-histories.ts records: `metricsBackfill` of SE over the outage, on its
 * own stack and worker. Returns the ids of the backfill and of its market's child.
 */
export async function runRecordedBackfill(
  env: TestWorkflowEnvironment,
): Promise<{ backfill: string; market: string }> {
  const o = await outageStack();
  const taskQueue = uniqueTaskQueue('record-backfill');
  const worker = await createTestWorker(env, taskQueue, o.deps);
  const backfill = backfillWorkflowId(BACKFILL.from, BACKFILL.to);
  try {
    await worker.runUntil(
      env.client.workflow.execute('metricsBackfill', {
        workflowId: backfill,
        taskQueue,
        args: [{ ...BACKFILL, markets: [MARKET] }],
      }),
    );
  } finally {
    await o.stack.close();
  }
  return { backfill, market: backfillMarketWorkflowId(backfill, MARKET) };
}
