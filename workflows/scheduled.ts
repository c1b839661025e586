// What the Temporal Schedules start (see ops/schedules.ts). A schedule's arguments are fixed when
// it is created, so these workflows work out the business date from the time the run was
// scheduled for (in the market's time zone; also right for backfilled and caught-up runs) and
// then run the same `market/<code>/<date>` workflow `npm start` and `adloop rerun` run: one id per
// market-day, so a day that already ran is not run again.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  executeChild,
  proxyActivities,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { localDate } from '../core/dates.ts';
import { marketLoopWorkflowId } from '../core/ids.ts';
import { MARKET, SCHEDULED_START_TIME, STAGE } from '../core/search-attributes.ts';
import type {
  IsoDate,
  ModelTrainingResult,
  ScheduledMarketLoopInput,
  ScheduledMarketLoopResult,
  ScheduledTrainingInput,
} from '../core/types.ts';
import { marketLoop } from './market-loop.ts';

const { trainRankingModel } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // Training is a pure function of stored rows; a failed day keeps yesterday's champion.
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** The business date of this run: the scheduled time's calendar date in `timeZone`. */
function scheduledDate(timeZone: string): IsoDate {
  const info = workflowInfo();
  // Set by the schedule on every run it starts; a run started by hand uses its start time.
  const at = info.typedSearchAttributes.get(SCHEDULED_START_TIME) ?? info.runStartTime;
  return localDate(at, timeZone);
}

export async function scheduledMarketLoop(
  input: ScheduledMarketLoopInput,
): Promise<ScheduledMarketLoopResult> {
  const date = scheduledDate(input.timeZone);
  try {
    const result = await executeChild(marketLoop, {
      workflowId: marketLoopWorkflowId(input.market, date),
      args: [
        {
          market: input.market,
          date,
          ...(input.renderTaskQueue ? { renderTaskQueue: input.renderTaskQueue } : {}),
        },
      ],
      // A day that completed is not run again (rerun it with `adloop rerun`); a failed one is.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      typedSearchAttributes: [
        { key: MARKET, value: input.market },
        { key: STAGE, value: 'starting' },
      ],
    });
    return { date, started: true, result };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return {
      date,
      started: false,
      reason: `${marketLoopWorkflowId(input.market, date)} is running or has completed already`,
    };
  }
}

export async function scheduledTraining(
  input: ScheduledTrainingInput = {},
): Promise<{ date: IsoDate; training: ModelTrainingResult }> {
  const date = scheduledDate(input.timeZone ?? 'UTC');
  return { date, training: await trainRankingModel({ date }) };
}
