// What every platform server of the sandbox does the same way, whatever the platform's wire looks
// like: reading a bounded request body, finding the caller's token, drawing faults
// deterministically from the world's seed, and counting calls in rolling windows (quotas that
// refuse, usage that is reported). Platform specifics (error bodies, headers, routes) stay in each
// platform's server; these helpers only decide, never answer.
import type { IncomingMessage } from 'node:http';
import { keyed } from '../../core/random.ts';

export const MiB = 1024 * 1024;

// Every server of the sandbox reads bodies through core's reader, and only through it.
export { BodyTooLarge, readBody } from '../../core/http-body.ts';

/** The token of `Authorization: Bearer <t>` (or `OAuth <t>`), or null. */
export function bearerToken(req: IncomingMessage): string | null {
  return /^(?:Bearer|OAuth)\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;
}

/**
 * A deterministic draw in [0, 1): the n-th draw of `what` on `platform` in a world with `seed`
 * is always the same, so a world's injected faults replay identically.
 */
export function faultDraw(seed: number, platform: string, what: string, n: number): number {
  return keyed(seed, `${platform}-fault`, what, n)();
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
    return faultDraw(this.seed, this.platform, what, n);
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

/** One quota: at most `limit` calls per `windowMs`, counted under `key`. */
export interface QuotaWindow {
  key: string;
  limit: number;
  windowMs: number;
}

/**
 * Sliding-window call quotas that refuse (TikTok's QPS/QPM): `admit` lets a call through only
 * when every window it counts against has room, and then counts it in all of them; refused calls
 * are not counted. Memory is bounded by the largest limit per key.
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
