// A client-side token bucket. TikTok sends no rate-limit headers and answers code 40100 once an
// app goes over its per-second or per-minute quota (and may then suspend it for minutes), so the
// client paces itself instead of reacting. Over any interval of t seconds the bucket lets at most
// `burst + perSecond * t` calls through: keep that under the platform's limit.

import { pause } from '../../core/cancellation.ts';

export interface RateLimit {
  /** Sustained calls per second. */
  perSecond: number;
  /** Calls that may go out at once after a quiet period. */
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1))
      throw new Error('a rate limit needs perSecond > 0 and burst >= 1');
    this.tokens = limit.burst;
    this.last = now();
  }

  /**
   * Resolves when the caller may make one call. Tokens may go negative: each waiting caller holds
   * a reservation, so concurrent callers are served in order without busy-waiting.
   */
  async take(): Promise<void> {
    const now = this.now();
    this.tokens = Math.min(
      this.limit.burst,
      this.tokens + ((now - this.last) / 1000) * this.limit.perSecond,
    );
    this.last = now;
    this.tokens -= 1;
    if (this.tokens < 0) await pause((-this.tokens / this.limit.perSecond) * 1000);
  }
}
