// Which platform requests a piece of code made, and their request ids, without threading them
// through every SDK call: clients report each answered request to the current log (if any), and
// the deploy stage's audit reads it. AsyncLocalStorage keeps concurrent writes' logs apart.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestLog {
  /** Request ids the platform gave, in order (Meta's x-fb-request-id, TikTok's request_id). */
  requestIds: string[];
}

const current = new AsyncLocalStorage<RequestLog>();

/** Runs `fn` with a fresh log; the log is filled even when `fn` throws. */
export function withRequestLog<T>(log: RequestLog, fn: () => Promise<T>): Promise<T> {
  return current.run(log, fn);
}

/** Called by platform clients for every answered request. */
export function noteRequest(requestId: string | null | undefined): void {
  if (requestId) current.getStore()?.requestIds.push(requestId);
}
