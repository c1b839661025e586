// MockActivityEnvironment.run does not infer an activity's result type; this keeps tests typed.
import type { MockActivityEnvironment } from '@temporalio/testing';

export function typedRun(env: MockActivityEnvironment) {
  return <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A): Promise<R> =>
    env.run<A, R, typeof fn>(fn, ...args);
}
