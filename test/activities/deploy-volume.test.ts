// Deploy at volume: three days of rotation across four markets on Meta and TikTok, well over 1,000
// audited platform writes, with each of the sandbox's two Meta ad accounts (SE and DE on one, EG
// and BR on the other) limited to 180 calls per 15 s and TikTok's usual quotas (10/s, 600/min,
// ad/create 5/s). Meta's usage header must pace each account's client and TikTok's token buckets
// must hold it back, so the sandbox never once throttles a call. Usage is counted per account:
// the limit is set so that two markets' deploys take an account past the governor's slowAt.
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { createActivities } from '../../activities/index.ts';
import type { RenderedCreative } from '../../core/types.ts';
import { listPlatformWrites } from '../../db/deploy.repository.ts';
import { typedRun } from '../helpers/activity.ts';
import { sandboxMetaAccount, startTestStack, type TestStack } from '../helpers/stack.ts';

const MARKETS = ['SE', 'DE', 'EG', 'BR'];
const SLOTS = 25;
const DAYS = ['2026-03-01', '2026-03-02', '2026-03-03'];

describe('deploy at volume', () => {
  let stack: TestStack;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-volume-'));

  before(async () => {
    stack = await startTestStack({ adsPerMarket: SLOTS });
    stack.sandbox.meta.faults.hourlyCallLimit = 180;
    stack.sandbox.meta.usageWindowMs = 15_000;
  });
  after(async () => {
    await stack?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Stores a square and a vertical still, shared by every synthetic creative. */
  async function storeAssets() {
    const store = stack.deps.renderer.store;
    const keys: Record<string, string> = {};
    for (const [ratio, w, h] of [
      ['1:1', 1080, 1080],
      ['9:16', 1080, 1920],
    ] as const) {
      const file = path.join(tmp, `${w}x${h}.jpg`);
      await sharp({ create: { width: w, height: h, channels: 3, background: '#345' } })
        .jpeg()
        .toFile(file);
      keys[ratio] = (await store.put(`volume/${w}x${h}.jpg`, file, 'image/jpeg')).key;
    }
    return keys;
  }

  it('makes over 1,000 writes without tripping either platform’s throttling', async (t) => {
    const keys = await storeAssets();
    const creative = (market: string, n: number): RenderedCreative => ({
      hash: createHash('sha256').update(`${market}/${n}`).digest('hex').slice(0, 24),
      artistId: `a${n}`,
      templateId: 'spotlight',
      path: '',
      assetKey: keys['1:1']!,
      format: 'jpeg',
      adText: { message: `Artist ${n} on adloop`, headline: `Artist ${n}` },
      platformAssets: {
        meta: { key: keys['1:1']!, format: 'jpeg', kind: 'static', ratio: '1:1' },
        tiktok: { key: keys['9:16']!, format: 'jpeg', kind: 'static', ratio: '9:16' },
      },
    });
    const acts = createActivities(stack.deps);
    for (const [day, date] of DAYS.entries()) {
      stack.sandbox.clock.set(date);
      // Each day the ranking moves on by half the slots: half the ads rotate out.
      const first = 1 + day * Math.ceil(SLOTS / 2);
      await Promise.all(
        MARKETS.map(async (market) => {
          const env = new MockActivityEnvironment({
            workflowExecution: { workflowId: `market/${market}/${date}`, runId: 'r' },
          });
          const creatives = Array.from({ length: SLOTS }, (_, i) => creative(market, first + i));
          const run = typedRun(env);
          await run(acts.startMarketRun, { market, date });
          return run(acts.deployCreatives, { market, date, creatives });
        }),
      );
    }
    const writes = await listPlatformWrites(stack.database.db);
    // Time the usage header made the markets' ad accounts' clients wait, together.
    const metaWaitMs = () =>
      [...new Set(MARKETS.map((m) => stack.metaOf(m)))].reduce((s, c) => s + c.throttleWaitMs, 0);
    t.diagnostic(
      JSON.stringify({
        writes: writes.length,
        metaCalls: stack.sandbox.meta.requests.length,
        tiktokCalls: stack.sandbox.tiktok.requests.length,
        metaUsageWaitMs: metaWaitMs(),
      }),
    );
    assert.ok(writes.length >= 1000, `${writes.length} writes`);
    assert.deepEqual(
      writes.filter((w) => w.result !== 'ok').map((w) => `${w.operation}: ${w.error}`),
      [],
    );
    assert.equal(stack.sandbox.meta.throttledCalls, 0, 'Meta never throttled the account');
    assert.equal(stack.sandbox.tiktok.throttledCalls, 0, 'TikTok never answered 40100');
    assert.ok(metaWaitMs() > 0, 'the usage header slowed the client down');
    for (const market of MARKETS) {
      const live = stack.sandbox.meta.store
        .list('ad', sandboxMetaAccount(stack.sandbox, market))
        .filter((a) => String(a.fields.name).startsWith(`adloop/${market}/`))
        .filter((a) => a.fields.status === 'ACTIVE');
      assert.equal(live.length, SLOTS, `${market}: ${SLOTS} live Meta ads`);
    }
  });
});
