// One error type for every ad platform and MMP, classified the way the loop must react:
//   auth      - token or permission problem: retrying will not help, a human must act;
//   invalid   - the request itself is wrong: retrying will not help;
//   throttled - the platform asked us to slow down: retry later;
//   transient - outage, 5xx, network: retry.
// Messages never include URLs or tokens (core/redact.ts takes them out), so they are safe to put in
// workflow histories and logs.
import { pause, throwIfCancelled } from '../core/cancellation.ts';

export type PlatformErrorKind = 'auth' | 'invalid' | 'throttled' | 'transient';

export class PlatformError extends Error {
  override name = 'PlatformError';
  constructor(
    readonly platform: string,
    readonly kind: PlatformErrorKind,
    message: string,
    readonly code: number | null = null,
    readonly httpStatus: number | null = null,
    /** When the platform said how long until access returns (Meta's usage headers), in ms. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(`${platform} ${kind} error${code !== null ? ` (code ${code})` : ''}: ${message}`);
  }

  get retryable(): boolean {
    return this.kind === 'throttled' || this.kind === 'transient';
  }
}

/** Tries of one request before its error goes up to the activity (and its retry policy). */
export const REQUEST_TRIES = 4;

/**
 * Runs one platform request, trying it again on the spot when that is safe and may help:
 * - throttled: the platform refused the request without carrying it out, so any request, write
 *   or read, may be sent again after the backoff (and whatever pause the client's pacing adds);
 * - transient (5xx, a truncated answer, a timeout, the network): only an idempotent request
 *   (a read, or a write that sets a state) is sent again; a create may have been carried out, so
 *   it goes up to the caller, which looks up what exists before creating again.
 * Retrying here keeps one bad answer among many requests from failing a whole activity attempt,
 * which would redo all of its work; the activity's own retries still handle longer outages.
 */
export async function withRequestRetry<T>(
  request: () => Promise<T>,
  o: {
    idempotent: boolean;
    toError: (err: unknown) => PlatformError;
    tries?: number;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<T> {
  const tries = o.tries ?? REQUEST_TRIES;
  const sleep = o.sleep ?? ((ms: number) => pause(ms));
  for (let attempt = 1; ; attempt++) {
    // A cancelled attempt (superseded, paused) sends nothing more.
    throwIfCancelled();
    try {
      return await request();
    } catch (err) {
      const e = o.toError(err);
      const again = e.kind === 'throttled' || (e.kind === 'transient' && o.idempotent);
      if (!again || attempt >= tries) throw err;
      // 250 ms, 500 ms, 1 s…, with jitter so parallel markets do not retry in step.
      const backoff = 250 * 2 ** (attempt - 1) * (0.75 + Math.random() / 2);
      await sleep(backoff);
    }
  }
}
