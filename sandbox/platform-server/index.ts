// What every platform server of the sandbox does the same way, whatever the platform's wire looks
// like: reading a bounded request body, finding the caller's token, drawing faults
// deterministically from the world's seed, and counting calls in a rolling window for usage-based
// throttling. Platform specifics (error bodies, headers, routes) stay in each platform's server.
import type { IncomingMessage } from 'node:http';
import { keyed } from '../../core/random.ts';

/** Default of readBody's maxBytes: larger than any video chunk or batch adloop sends. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export class BodyTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`request body is larger than ${maxBytes} bytes`);
  }
}

/**
 * The whole request body, refused (BodyTooLarge) as soon as it passes `maxBytes`: a server never
 * buffers more than that, whatever a client sends. The rest of the body is drained, not kept.
 */
export async function readBody(
  req: IncomingMessage,
  maxBytes = DEFAULT_MAX_BODY_BYTES,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    throw new BodyTooLarge(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > maxBytes) {
      req.resume();
      throw new BodyTooLarge(maxBytes);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The token of `Authorization: Bearer <t>` (or `OAuth <t>`), or null. */
export function bearerToken(req: IncomingMessage): string | null {
  return /^(?:Bearer|OAuth)\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;
}

/**
 * Deterministic fault draws: the n-th draw of a kind in a world is always the same number in
 * [0, 1), so a failing run replays exactly. `platform` keeps the platforms' draws apart.
 */
export class FaultDraws {
  private requests = 0;

  constructor(
    private readonly seed: number,
    private readonly platform: string,
  ) {}

  /** The draw of `what` for call number `n`. */
  draw(what: string, n: number): number {
    return keyed(this.seed, `${this.platform}-fault`, what, n)();
  }

  /** Whether the next HTTP request is held unanswered (one draw per request). */
  timesOut(rate: number): boolean {
    this.requests++;
    return rate > 0 && this.draw('timeout', this.requests) < rate;
  }
}

export interface UsageReading {
  /** Calls in the window, this one included (a refused call is not kept). */
  calls: number;
  /** Share of the limit used, 0-100. */
  percent: number;
  exceeded: boolean;
  /** Minutes until enough calls age out to be under the limit again; 0 when not exceeded. */
  minutesToRegain: number;
}

/** Calls in a rolling window (one per account, advertiser or app), against a limit. */
export class UsageWindow {
  private readonly times: number[] = [];

  constructor(private readonly windowMs: () => number) {}

  /** Counts one call at `now` and reads the usage against `limit`. */
  record(limit: number, now = Date.now()): UsageReading {
    const windowMs = this.windowMs();
    this.times.push(now);
    while (this.times.length > 0 && this.times[0]! <= now - windowMs) this.times.shift();
    const exceeded = this.times.length > limit;
    const oldest = this.times[this.times.length - limit - 1] ?? now;
    const minutesToRegain = exceeded
      ? Math.max(1, Math.ceil((oldest + windowMs - now) / 60_000))
      : 0;
    if (exceeded) this.times.pop();
    return {
      calls: this.times.length,
      percent: Math.min(100, Math.round((this.times.length / limit) * 100)),
      exceeded,
      minutesToRegain,
    };
  }
}
