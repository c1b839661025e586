// MockActivityEnvironment.run does not infer an activity's result type; this keeps tests typed.
import { ApplicationFailure } from '@temporalio/common';
import type { MockActivityEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities/index.ts';
import type { RenderedCreative } from '../../core/types.ts';

export function typedRun(env: MockActivityEnvironment) {
  return <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A): Promise<R> =>
    env.run<A, R, typeof fn>(fn, ...args);
}

type Run = ReturnType<typeof typedRun>;
type RenderInput = Parameters<Activities['prepareCreatives']>[0];

/**
 * The render stage as the market loop runs it (workflows/render-stage.ts), in one call: specs
 * prepared, each creative rendered (one that cannot render is recorded as not deployed), results
 * recorded. Returns the creatives deploy may ship.
 */
export async function renderAll(
  run: Run,
  acts: Activities,
  input: RenderInput,
): Promise<RenderedCreative[]> {
  const jobs = await run(acts.prepareCreatives, input);
  const results: Parameters<Activities['recordCreatives']>[0]['results'] = [];
  for (const job of jobs) {
    try {
      results.push(await run(acts.renderCreative, job));
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
      results.push({ error: err.message });
    }
  }
  return (await run(acts.recordCreatives, { ...input, jobs, results })).creatives;
}
