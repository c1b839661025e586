// Pacing by Meta's own usage report. Every Marketing API answer on an ad account carries
// X-Business-Use-Case-Usage: per business use case, the share (%) of the account's allowance used
// in the current window (call_count, total_cputime, total_time). Meta throttles the account once
// one reaches 100 and only then says how long until access returns. The governor keeps well below
// that instead of reacting to it:
//   - below `slowAt` % calls go out at once;
//   - between `slowAt` and `pauseAt` each call waits longer the closer usage is to `pauseAt`;
//   - requests may not take usage past `pauseAt`: a batch is cut to the calls that fit, and when
//     none fit the client waits, doubling the wait while usage stays high; after a wait one call
//     may go out to re-read usage;
//   - after a throttling error, nothing goes out until the time Meta named has passed.
// The share one call adds is learnt from consecutive readings, so the governor needs neither the
// account's limit nor the window's length.

import { pause } from '../../core/cancellation.ts';

/** First pause after a throttle that names no time to regain access. */
const UNNAMED_THROTTLE_MS = 2000;

export interface UsageGovernorOptions {
  /** Usage (%) above which calls are spaced out. Default 75. */
  slowAt?: number;
  /** Usage (%) a request may not take the account past. Default 90. */
  pauseAt?: number;
  /** Longest spacing between calls between slowAt and pauseAt. Default 1000 ms. */
  maxSpacingMs?: number;
  /** First wait at pauseAt, doubled while usage stays there. Default 1000 ms. */
  firstPauseMs?: number;
  /** Longest single wait. Default 5 minutes. */
  maxPauseMs?: number;
  /** For tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The highest usage (%) over the header's use cases and measures; null when absent or unreadable. */
export function usagePercent(header: unknown): number | null {
  if (typeof header !== 'string') return null;
  try {
    const usage = JSON.parse(header) as Record<string, Array<Record<string, unknown>>>;
    let max: number | null = null;
    for (const entries of Object.values(usage))
      for (const e of entries ?? [])
        for (const k of ['call_count', 'total_cputime', 'total_time'])
          if (typeof e[k] === 'number') max = Math.max(max ?? 0, e[k]);
    return max;
  } catch {
    return null;
  }
}

export class UsageGovernor {
  private readonly slowAt: number;
  private readonly pauseAt: number;
  private readonly maxSpacingMs: number;
  private readonly firstPauseMs: number;
  private readonly maxPauseMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Last reading, and the calls sent since it. */
  private usage = 0;
  private callsSinceReading = 0;
  /**
   * Estimated usage (%) one call adds: 1 until readings say otherwise (cautious for a small
   * allowance; a large one reads ~0 per call and the estimate follows).
   */
  private perCall = 1;
  private blockedUntil = 0;
  /** Throttles in a row without a named time to regain access (one per request sent). */
  private unnamedThrottles = 0;
  /** When the last throttle was recorded: requests sent before it belong to the same episode. */
  private lastThrottleAt = Number.NEGATIVE_INFINITY;
  private pauseMs: number;
  private hasReading = false;
  /** Total time spent waiting, for progress output. */
  waitedMs = 0;

  constructor(options: UsageGovernorOptions = {}) {
    this.slowAt = options.slowAt ?? 75;
    this.pauseAt = options.pauseAt ?? 90;
    this.maxSpacingMs = options.maxSpacingMs ?? 1000;
    this.firstPauseMs = options.firstPauseMs ?? 1000;
    this.maxPauseMs = options.maxPauseMs ?? 300_000;
    this.now = options.now ?? (() => Date.now());
    this.sleep = options.sleep ?? ((ms) => pause(ms));
    this.pauseMs = this.firstPauseMs;
    if (!(this.slowAt < this.pauseAt && this.pauseAt <= 100))
      throw new Error('usage governor needs slowAt < pauseAt <= 100');
  }

  /** Current reading (%), as last reported. */
  get lastUsage(): number {
    return this.usage;
  }

  /** How many calls may go out now without passing pauseAt (0 when none may). */
  private room(max: number): number {
    const left = this.pauseAt - this.usage - this.callsSinceReading * this.perCall;
    if (left <= 0) return 0;
    if (this.perCall <= 0) return max;
    return Math.max(0, Math.min(max, Math.floor(left / this.perCall)));
  }

  /**
   * Waits until calls may go out and reserves up to `max` of them (at least one): a batch is sized
   * by what this returns. After a wait one call may go out even at high usage, to re-read it.
   */
  async reserve(max = 1): Promise<number> {
    let probe = false;
    let n: number;
    for (;;) {
      const blocked = this.blockedUntil - this.now();
      if (blocked > 0) {
        await this.wait(blocked);
        probe = true;
        continue;
      }
      n = this.room(max);
      if (n >= 1) break;
      if (probe) {
        n = 1;
        break;
      }
      await this.wait(this.pauseMs);
      this.pauseMs = Math.min(this.pauseMs * 2, this.maxPauseMs);
      probe = true;
    }
    // Reserved before any further wait, so concurrent callers see each other's calls.
    this.callsSinceReading += n;
    if (this.usage > this.slowAt) {
      const closeness = Math.min(1, (this.usage - this.slowAt) / (this.pauseAt - this.slowAt));
      await this.wait(Math.round(this.maxSpacingMs * closeness));
    }
    return n;
  }

  /**
   * Feeds the X-Business-Use-Case-Usage header of a response to a request of `calls` calls: the
   * reading now counts those calls (others reserved meanwhile are still on their way).
   */
  observe(header: unknown, calls = 1): void {
    const pct = usagePercent(header);
    this.callsSinceReading = Math.max(0, this.callsSinceReading - calls);
    if (pct === null) return;
    // Usage is reported in whole percent, so only a rise says what calls cost; the first reading
    // says nothing about one call (other clients may share the account). Concurrent requests make
    // a rise look larger: the estimate errs on the safe side.
    if (this.hasReading && pct > this.usage) {
      const sample = (pct - this.usage) / calls;
      this.perCall = 0.7 * this.perCall + 0.3 * sample;
    }
    this.hasReading = true;
    this.usage = pct;
    // Room for a call again: the next wait starts short.
    if (pct + this.perCall < this.pauseAt) this.pauseMs = this.firstPauseMs;
  }

  /** The governor's clock: pass it back to `throttled` as the time a request was sent. */
  stamp(): number {
    return this.now();
  }

  /**
   * Meta throttled the account: nothing goes out for `ms`, its estimated time to regain access.
   * When it named none (a per-user limit, code 17), the pause backs off: 2 s, doubling on each
   * throttle in a row up to a minute, and starting short again once a call gets through. The
   * back-off doubles once per request that was sent after the last throttle: the calls of one
   * batch, or requests already in flight, throttled together, are one throttle, not fifty.
   */
  throttled(ms: number | null, sentAt: number = this.now()): void {
    const again = sentAt > this.lastThrottleAt;
    if (ms === null) {
      const step = again ? this.unnamedThrottles : Math.max(0, this.unnamedThrottles - 1);
      ms = Math.min(60_000, UNNAMED_THROTTLE_MS * 2 ** step);
      if (again) this.unnamedThrottles += 1;
    }
    if (again) this.lastThrottleAt = this.now();
    this.blockedUntil = Math.max(this.blockedUntil, this.now() + Math.min(ms, this.maxPauseMs));
  }

  /** A call got through: the next unnamed throttle pauses briefly again. */
  succeeded(): void {
    this.unnamedThrottles = 0;
  }

  private async wait(ms: number) {
    if (ms <= 0) return;
    this.waitedMs += ms;
    await this.sleep(ms);
  }
}
