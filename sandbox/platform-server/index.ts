// Pieces every platform server of the sandbox needs, whatever its wire format: a request body read
// with a size bound, sliding-window call quotas, and deterministic fault draws. Each platform keeps
// its own routing, authentication and error envelope; these helpers only decide, never answer.
import type { IncomingMessage } from 'node:http';
import { keyed } from '../../core/random.ts';

/** A body over `maxBytes`: the rest was read and dropped, so the connection stays usable. */
export class BodyTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`request body larger than ${maxBytes} bytes`);
  }
}

/**
 * The whole request body, holding at most `maxBytes` in memory. A longer body is drained (so an
 * upload is never answered half-sent) and then refused with BodyTooLarge.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const c of req) {
    const chunk = c as Buffer;
    size += chunk.length;
    if (size > maxBytes) over = true;
    else chunks.push(chunk);
  }
  if (over) throw new BodyTooLarge(maxBytes);
  return Buffer.concat(chunks);
}

/** One quota: at most `limit` calls per `windowMs`, counted under `key`. */
export interface QuotaWindow {
  key: string;
  limit: number;
  windowMs: number;
}

/**
 * Sliding-window call quotas. `admit` lets a call through only when every window it counts
 * against has room, and then counts it in all of them; refused calls are not counted.
 * Memory is bounded by the largest limit per key.
 */
export class CallQuotas {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  admit(windows: readonly QuotaWindow[]): boolean {
    const t = this.now();
    const recent = windows.map((w) => {
      const list = this.times.get(w.key) ?? [];
      while (list.length > 0 && list[0]! <= t - w.windowMs) list.shift();
      this.times.set(w.key, list);
      return list;
    });
    if (windows.some((w, i) => recent[i]!.length >= w.limit)) return false;
    for (const list of recent) list.push(t);
    return true;
  }
}

/**
 * A deterministic draw in [0, 1): the n-th draw of `what` on `platform` in a world with `seed`
 * is always the same, so a world's injected faults replay identically.
 */
export function faultDraw(seed: number, platform: string, what: string, n: number): number {
  return keyed(seed, `${platform}-fault`, what, n)();
}
