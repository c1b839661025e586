// The daily loop: one child workflow per market, run in parallel. A market that fails does not
// stop the others; the result says which failed and why.
import {
  ChildWorkflowFailure,
  ActivityFailure,
  executeChild,
  deprecatePatch,
  proxyActivities,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { marketLoopWorkflowId } from '../core/ids.ts';
import { MARKET, STAGE } from '../core/search-attributes.ts';
import type { DailyLoopInput, DailyLoopResult, MarketLoopResult } from '../core/types.ts';
import { marketLoop } from './market-loop.ts';

const { listMarkets } = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds' });

const { trainRankingModel } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  // Training is a pure function of stored rows; a failed day keeps yesterday's champion.
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof ChildWorkflowFailure && e.cause) e = e.cause;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(err);
}

export async function dailyLoop(input: DailyLoopInput): Promise<DailyLoopResult> {
  const markets = input.markets ?? (await listMarkets());
  const results = await Promise.all(
    markets.map(async (market): Promise<MarketLoopResult> => {
      try {
        return await executeChild(marketLoop, {
          workflowId: marketLoopWorkflowId(market, input.date),
          // Only set when given, so runs recorded before the field existed replay unchanged.
          args: [
            {
              market,
              date: input.date,
              ...(input.renderTaskQueue ? { renderTaskQueue: input.renderTaskQueue } : {}),
            },
          ],
          // A rerun of the day reruns its markets; every stage is idempotent.
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          typedSearchAttributes: [
            { key: MARKET, value: market },
            { key: STAGE, value: 'starting' },
          ],
        });
      } catch (err) {
        return {
          market,
          date: input.date,
          status: 'failed',
          fallbackUsed: false,
          ranking: { source: 'computed', items: 0 },
          deploy: null,
          learn: null,
          error: failureMessage(err),
        };
      }
    }),
  );
  // v3's patch, retired in v11 (docs/reliability.md, "Versioned cut-over").
  deprecatePatch('train-ranking-model');
  let training: DailyLoopResult['training'];
  try {
    training = await trainRankingModel({ date: input.date });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    training = { error: failureMessage(err.cause ?? err) };
  }
  return { date: input.date, markets: results, training };
}
