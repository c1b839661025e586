// A cancelled activity attempt (superseded, paused, timed out) stops waiting at once and sends
// nothing more: the platform clients' waits run under the attempt's cancellation signal
// (core/cancellation.ts, activities/stage.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkCancelled, pause, requestSignal, withCancellation } from '../../core/cancellation.ts';
import { PlatformError, withRequestRetry } from '../../platforms/errors.ts';
import { UsageGovernor } from '../../platforms/meta/usage-governor.ts';
import { TokenBucket } from '../../platforms/tiktok/token-bucket.ts';

/** Runs `work` under a signal aborted after `ms`; resolves with its outcome and how long it took. */
async function cancelledAfter(ms: number, work: () => Promise<unknown>) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('superseded')), ms);
  const started = performance.now();
  try {
    await withCancellation(controller.signal, work);
    return { error: null, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

describe('cancellation of waits', () => {
  it('waits as asked outside any cancellable work, and ends a wait when the work is cancelled', async () => {
    const t0 = performance.now();
    await pause(30);
    assert.ok(performance.now() - t0 >= 25);
    const r = await cancelledAfter(30, () => pause(60_000));
    assert.ok(r.error instanceof WorkCancelled, String(r.error));
    assert.match(r.error.message, /cancelled: superseded/);
    assert.ok(r.ms < 2_000, `${r.ms} ms`);
  });

  it('never waits out a throttle and then writes: the retry backoff', async () => {
    let sent = 0;
    const r = await cancelledAfter(30, () =>
      withRequestRetry(
        () => {
          sent++;
          return Promise.reject(new PlatformError('meta', 'throttled', 'rate limited'));
        },
        {
          idempotent: false,
          toError: (e) => e as PlatformError,
          tries: 5,
          // A backoff as long as Meta may ask for.
          sleep: (ms) => pause(ms * 1_000),
        },
      ),
    );
    assert.ok(r.error instanceof WorkCancelled, String(r.error));
    assert.equal(sent, 1, 'nothing was sent after the cancellation');
    assert.ok(r.ms < 2_000, `${r.ms} ms`);
  });

  it("never waits out a throttle and then writes: Meta's usage governor", async () => {
    const governor = new UsageGovernor();
    governor.throttled(120_000);
    let wrote = false;
    const r = await cancelledAfter(30, async () => {
      await governor.reserve();
      wrote = true;
    });
    assert.ok(r.error instanceof WorkCancelled, String(r.error));
    assert.equal(wrote, false);
    assert.ok(r.ms < 2_000, `${r.ms} ms`);
  });

  it("never waits out a throttle and then writes: TikTok's token bucket", async () => {
    const bucket = new TokenBucket({ perSecond: 0.01, burst: 1 });
    await bucket.take();
    let wrote = false;
    const r = await cancelledAfter(30, async () => {
      await bucket.take(); // the next token is 100 s away
      wrote = true;
    });
    assert.ok(r.error instanceof WorkCancelled, String(r.error));
    assert.equal(wrote, false);
    assert.ok(r.ms < 2_000, `${r.ms} ms`);
  });

  it('aborts a request in flight with the work, and still times it out on its own', async () => {
    const controller = new AbortController();
    const signal = await withCancellation(controller.signal, () =>
      Promise.resolve(requestSignal(60_000)),
    );
    assert.equal(signal.aborted, false);
    controller.abort(new Error('paused'));
    assert.equal(signal.aborted, true);
    const alone = requestSignal(20);
    await pause(60);
    assert.equal(alone.aborted, true);
    assert.equal((alone.reason as Error).name, 'TimeoutError');
  });
});
