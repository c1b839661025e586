// Cancellation of the work in progress, for code that waits: a platform client's retry backoff,
// Meta's usage governor, TikTok's token bucket, a report poll. An activity runs its stage inside
// `withCancellation(its cancellation signal)` (activities/stage.ts); every wait here then ends at
// once when the attempt is cancelled (superseded, paused, timed out), so it never waits out a
// throttle and then writes. The clients do not import Temporal: the signal travels with the async
// context, and code outside any activity simply waits.
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as timersSleep } from 'node:timers/promises';

const current = new AsyncLocalStorage<AbortSignal>();

/** Runs `work` so that every wait and request inside it ends when `signal` aborts. */
export function withCancellation<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return current.run(signal, work);
}

/** The signal of the work in progress, if it runs under one. */
export function cancellationSignal(): AbortSignal | undefined {
  return current.getStore();
}

/** The work in progress was cancelled: nothing more of it should be done. */
export class WorkCancelled extends Error {
  override name = 'WorkCancelled';
}

const cancelled = (signal: AbortSignal) =>
  new WorkCancelled(
    `cancelled: ${signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'no reason given')}`,
    { cause: signal.reason },
  );

/** Throws WorkCancelled if the work in progress has been cancelled. */
export function throwIfCancelled(signal = cancellationSignal()): void {
  if (signal?.aborted) throw cancelled(signal);
}

/** Waits `ms`; rejects with WorkCancelled as soon as the work in progress is cancelled. */
export async function pause(ms: number, signal = cancellationSignal()): Promise<void> {
  throwIfCancelled(signal);
  if (!signal) return timersSleep(ms);
  try {
    await timersSleep(ms, undefined, { signal });
  } catch (err) {
    if (signal.aborted) throw cancelled(signal);
    throw err;
  }
}

/** A request's signal: aborted by its timeout or by the cancellation of the work in progress. */
export function requestSignal(timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = cancellationSignal();
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}
