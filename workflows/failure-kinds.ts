// How the market loop reads an activity's final failure: which ones it survives (a platform down
// all day, a refused token: the day's deploy is skipped and yesterday's ads keep running) and which
// fail the market. Failure types come from the catalogue (core/failures.ts).
import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  isCancellation,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import { FAILURE } from '../core/failures.ts';

export function isPlanChanged(err: ActivityFailure): boolean {
  return err.cause instanceof ApplicationFailure && err.cause.type === FAILURE.planChanged;
}

/**
 * A deploy that failed because its platform stayed unreachable: every retry spent (or timed out)
 * on platform errors or timeouts, or its quota spent for the day. Anything else (auth, a refused request, a bug, a cancellation)
 * is not a platform outage and still fails the market, where a person sees it.
 */
export function platformOutage(err: ActivityFailure): boolean {
  // A quota spent for the day is an outage of that platform until tomorrow, not retried.
  if (err.cause instanceof ApplicationFailure && err.cause.type === FAILURE.platformQuota)
    return true;
  const spent =
    err.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED || err.retryState === RetryState.TIMEOUT;
  const cause = err.cause;
  const fromPlatform =
    cause instanceof TimeoutFailure ||
    (cause instanceof ApplicationFailure &&
      !cause.nonRetryable &&
      (cause.type === FAILURE.platformTransient || cause.type === FAILURE.platformThrottled));
  return spent && fromPlatform;
}

/** The database could not be reached through every retry: it is down or restarting. */
export function databaseDown(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === FAILURE.databaseUnavailable
  );
}

/** The platform a platform failure came from, when the activity said (see toFailure). */
export function failedPlatform(err: ActivityFailure): string | null {
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure)) return null;
  const detail = cause.details?.[0] as { platform?: unknown } | undefined;
  return typeof detail?.platform === 'string' ? detail.platform : null;
}

/** A platform refused the token (expired, revoked, permission gone): a person must rotate it. */
export function tokenRefused(err: ActivityFailure): boolean {
  return err.cause instanceof ApplicationFailure && err.cause.type === FAILURE.platformAuth;
}

/** A deploy a pause stopped: cancelled, or failed by its last request after the cancel came. */
export function stoppedByCancel(err: unknown): boolean {
  return (
    isCancellation(err) ||
    (err instanceof ActivityFailure && err.retryState === RetryState.CANCEL_REQUESTED)
  );
}

/** What a failure says, from the activity's own error when there is one. */
export function message(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
