// Client side of the daily loop: start it (or attach to the run already there) and print each
// market's stage as it changes, from the market workflows' status query.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { dailyLoopWorkflowId, marketLoopWorkflowId } from '../core/ids.ts';
import type { DailyLoopResult, IsoDate, MarketStatus } from '../core/types.ts';
import { getMarketStatus } from '../workflows/messages.ts';
import type { dailyLoop } from '../workflows/index.ts';

export type LoopStart = 'started' | 'attached' | 'already-completed';

/**
 * Starts `loop/<date>`. A running loop is attached to (USE_EXISTING); a completed one is not run
 * again (ALLOW_DUPLICATE_FAILED_ONLY: only a failed, cancelled or terminated day runs anew), so
 * running `npm start` twice never duplicates a day.
 */
export async function startDailyLoop(
  client: Client,
  o: {
    date: IsoDate;
    markets?: string[] | undefined;
    taskQueue: string;
    /** Where the render stage runs; default the workflow's default queue. */
    renderTaskQueue?: string | undefined;
  },
): Promise<{ handle: WorkflowHandle<typeof dailyLoop>; how: LoopStart }> {
  const workflowId = dailyLoopWorkflowId(o.date);
  let running = false;
  try {
    running = (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  try {
    const handle = await client.workflow.start<typeof dailyLoop>('dailyLoop', {
      workflowId,
      taskQueue: o.taskQueue,
      args: [
        {
          date: o.date,
          ...(o.markets ? { markets: o.markets } : {}),
          ...(o.renderTaskQueue ? { renderTaskQueue: o.renderTaskQueue } : {}),
        },
      ],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return { handle, how: running ? 'attached' : 'started' };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return {
      handle: client.workflow.getHandle<typeof dailyLoop>(workflowId),
      how: 'already-completed',
    };
  }
}

/** Polls each market's status until `until` settles, calling `onChange` on every stage change. */
export async function watchMarkets(
  client: Client,
  date: IsoDate,
  markets: string[],
  until: Promise<unknown>,
  onChange: (status: MarketStatus) => void,
  intervalMs = 400,
): Promise<void> {
  let settled = false;
  void until.then(
    () => (settled = true),
    () => (settled = true),
  );
  const last = new Map<string, string>();
  const poll = async () => {
    await Promise.all(
      markets.map(async (market) => {
        try {
          const status = await client.workflow
            .getHandle(marketLoopWorkflowId(market, date))
            .query(getMarketStatus);
          const key =
            `${status.stage}/${status.fallbackUsed}/${status.deployPlan ? 'plan' : ''}` +
            `/${status.render?.done ?? ''}`;
          if (last.get(market) !== key) {
            last.set(market, key);
            onChange(status);
          }
        } catch {
          // not started yet, or between workers: try again next tick
        }
      }),
    );
  };
  while (!settled) {
    await poll();
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  await poll();
}

export function formatResult(result: DailyLoopResult): string[] {
  // The day's allocation is one for every market: said once, from the first deploy that has it.
  const budgets = result.markets.find((m) => m.deploy?.budgets?.enabled)?.deploy?.budgets;
  const head =
    budgets?.enabled === true
      ? [
          `  budgets: ${budgets.total} ${budgets.currency} a day over ${budgets.units} market-platforms, ${budgets.changed} changed, ${budgets.exploring} exploring (why: npm run adloop -- report)`,
        ]
      : [];
  return [
    ...head,
    ...result.markets.map((m) => {
      if (m.status === 'failed') return `  ${m.market}  FAILED  ${m.error ?? ''}`;
      const d = m.deploy;
      const l = m.learn;
      const parts = [
        `ranking ${m.ranking.source}${m.fallbackUsed ? ' (fallback)' : ''}`,
        d
          ? `ads: ${d.created} new, ${d.reused} kept, ${d.paused} paused, ${d.adIds.length} live` +
            (d.writes !== undefined ? ` (${d.writes} platform writes)` : '')
          : 'no deploy',
        l
          ? `learned ${l.creatives} creatives: ${l.impressions} impressions, ${l.clicks} clicks, ${l.registrations} registrations, spend ${(l.spendMicros / 1e6).toFixed(2)} ${l.reportingCurrency}`
          : 'learn skipped (platform unavailable)',
      ];
      if (d?.budgetChanges) parts.push(`${d.budgetChanges} ad set budgets moved`);
      // Meta's live ads in motion and as stills, and the stills that stand in for a video.
      const meta = d?.platforms?.meta;
      if (meta?.videoAds !== undefined)
        parts.push(
          `Meta: ${meta.videoAds} video, ${meta.stillAds ?? 0} still` +
            (d?.fallbacks?.length ? ` (${d.fallbacks.length} fell back from video)` : ''),
        );
      if (m.degraded?.length) parts.push(`DEGRADED: ${m.degraded.join('; ')}`);
      return `  ${m.market}  ${parts.join('; ')}`;
    }),
  ];
}
