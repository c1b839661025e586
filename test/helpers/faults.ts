// Sampling a platform client under injected fault rates.
import { PlatformError } from '../../platforms/errors.ts';

/** Calls `fn` n times and returns the share of each outcome: 'ok' or the PlatformError kind. */
export async function outcomeShares(
  fn: () => Promise<unknown>,
  n = 60,
): Promise<(kind: string) => number> {
  const kinds: string[] = [];
  for (let i = 0; i < n; i++) {
    try {
      await fn();
      kinds.push('ok');
    } catch (e) {
      kinds.push(e instanceof PlatformError ? e.kind : 'other');
    }
  }
  return (kind) => kinds.filter((k) => k === kind).length / kinds.length;
}

/** Resolves once `done()` holds, checking every 20 ms; fails after `ms`. */
export async function waitFor(done: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
