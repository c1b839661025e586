// withRequestRetry: which failed platform requests are sent again on the spot, and how often.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PlatformError,
  REQUEST_TRIES,
  withRequestRetry,
  type PlatformErrorKind,
} from '../../platforms/errors.ts';

/** A request failing with `kinds` in turn, then answering "ok"; counts its calls and waits. */
function flaky(kinds: PlatformErrorKind[]) {
  const seen = { calls: 0, waits: [] as number[] };
  const request = () => {
    const kind = kinds[seen.calls++];
    return kind
      ? Promise.reject(new PlatformError('meta', kind, `${kind} #${seen.calls}`))
      : Promise.resolve('ok');
  };
  const run = (idempotent: boolean) =>
    withRequestRetry(request, {
      idempotent,
      toError: (e) => e as PlatformError,
      sleep: (ms) => {
        seen.waits.push(ms);
        return Promise.resolve();
      },
    });
  return { seen, run };
}

describe('withRequestRetry', () => {
  it('sends a read again after transient failures, backing off', async () => {
    const { seen, run } = flaky(['transient', 'transient']);
    assert.equal(await run(true), 'ok');
    assert.equal(seen.calls, 3);
    assert.equal(seen.waits.length, 2);
    assert.ok(seen.waits[0]! >= 187 && seen.waits[0]! <= 313, `first wait ${seen.waits[0]}`);
    assert.ok(seen.waits[1]! >= 375 && seen.waits[1]! <= 625, `second wait ${seen.waits[1]}`);
  });

  it('never sends a create again after a transient failure: it may have been carried out', async () => {
    const { seen, run } = flaky(['transient']);
    await assert.rejects(run(false), /transient #1/);
    assert.equal(seen.calls, 1);
  });

  it('sends a throttled write again: the platform refused it without carrying it out', async () => {
    const { seen, run } = flaky(['throttled', 'throttled']);
    assert.equal(await run(false), 'ok');
    assert.equal(seen.calls, 3);
  });

  it('gives up after REQUEST_TRIES with the last error, and never retries auth or invalid', async () => {
    const down = flaky(Array<PlatformErrorKind>(10).fill('transient'));
    await assert.rejects(down.run(true), new RegExp(`transient #${REQUEST_TRIES}$`));
    assert.equal(down.seen.calls, REQUEST_TRIES);
    for (const kind of ['auth', 'invalid'] as const) {
      const bad = flaky([kind]);
      await assert.rejects(bad.run(true), new RegExp(kind));
      assert.equal(bad.seen.calls, 1);
    }
  });
});
