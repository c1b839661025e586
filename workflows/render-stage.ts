// The render stage of a market's run: creative specs prepared on the loop worker, every creative
// rendered in parallel on the render task queue (as many render workers as there are), and the
// results recorded; a creative that cannot render or fails QA is left out, with why.
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import {
  DEFAULT_RENDER_TASK_QUEUE,
  type MarketLoopInput,
  type MarketStatus,
  type RankedItem,
  type RenderedCreative,
} from '../core/types.ts';
import { compute } from './activity-options.ts';
import { message } from './failure-kinds.ts';

/** Renders the selected items; the creatives deploy may ship. */
export async function renderStage(
  input: MarketLoopInput,
  selected: RankedItem[],
  status: MarketStatus,
  degraded: string[],
): Promise<RenderedCreative[]> {
  const jobs = await compute.prepareCreatives({ ...input, items: selected });
  const render = proxyActivities<Activities>({
    taskQueue: input.renderTaskQueue ?? DEFAULT_RENDER_TASK_QUEUE,
    startToCloseTimeout: '20 minutes',
    // Render workers heartbeat as ffmpeg reports progress; a dead one is noticed in 30 s.
    heartbeatTimeout: '30 seconds',
    // A render is a pure function of its spec; bad templates and inputs fail at once.
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 5 },
  });
  // The status query counts renders as they finish (state only: no command, so replay is
  // unaffected).
  const progress = { done: 0, total: jobs.length };
  status.render = progress;
  const results = await Promise.all(
    jobs.map((job) =>
      render
        .renderCreative(job)
        .catch((err: unknown) => {
          if (!(err instanceof ActivityFailure)) throw err;
          return { error: message(err) };
        })
        .finally(() => (progress.done += 1)),
    ),
  );
  const recorded = await compute.recordCreatives({ ...input, jobs, results });
  for (const r of recorded.rejected)
    degraded.push(
      `creative ${r.artistId}×${r.templateId} not deployed: ${r.reasons.slice(0, 3).join('; ')}` +
        (r.reasons.length > 3 ? ` (+${r.reasons.length - 3} more)` : ''),
    );
  return recorded.creatives;
}
