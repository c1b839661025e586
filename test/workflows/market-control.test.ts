// Per-market control on a real Temporal server, through ops/market-control.ts (what `adloop pause|resume|
// rerun` run) and the UI's signals: a paused market holds before its next platform write (also in
// the middle of a deploy, between two requests), continues on resume, and a rerun of a finished
// day writes nothing twice.
import { perAccount } from '../../workers/loop-worker.ts';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { marketLoopWorkflowId, parseAdName } from '../../core/ids.ts';
import { STAGE } from '../../core/search-attributes.ts';
import type { MarketStatus } from '../../core/types.ts';
import { listPlatformWrites } from '../../db/deploy.repository.ts';
import {
  pauseMarketRuns,
  rerunMarket,
  resumeMarketRuns,
  runningMarketLoops,
} from '../../ops/market-control.ts';
import type { MetaAds } from '../../platforms/meta/meta-ads.ts';
import { marketLoop } from '../../workflows/index.ts';
import {
  approveDeploy,
  getMarketStatus,
  pauseMarket,
  resumeMarket,
  setMarketPaused,
} from '../../workflows/messages.ts';
import { sandboxAds, startTestStack, type TestStack } from '../helpers/stack.ts';
import { startLoopWorkers, testEnvironment } from '../helpers/temporal.ts';

const DATE = '2026-03-01';

/**
 * Holds Meta's batch writes while closed, on every ad account, so a test can act in the middle of
 * a deploy. `meta` gives each account's client; the gated ones are made once per account too.
 */
function gatedMeta(meta: (adAccountId: string) => MetaAds) {
  let open = true;
  let release: () => void = () => undefined;
  let gate = Promise.resolve();
  let reached: () => void = () => undefined;
  let arrived = new Promise<void>((r) => (reached = r));
  const wrap = (client: MetaAds) =>
    new Proxy(client, {
      get(target, key, receiver) {
        if (key !== 'createMany') return Reflect.get(target, key, receiver) as unknown;
        return async (...args: Parameters<MetaAds['createMany']>) => {
          if (!open) {
            reached();
            await gate;
          }
          return target.createMany(...args);
        };
      },
    });
  return {
    meta: perAccount((adAccountId) => wrap(meta(adAccountId))),
    /** Closes the gate: the next batch write waits; resolves `arrived` when one does. */
    close() {
      open = false;
      gate = new Promise((r) => (release = r));
      arrived = new Promise((r) => (reached = r));
      return { arrived };
    },
    open() {
      open = true;
      release();
    },
  };
}

describe('pause, resume and rerun a market', () => {
  let env: TestWorkflowEnvironment;
  let stack: TestStack;
  let workers: Awaited<ReturnType<typeof startLoopWorkers>>;
  let gate: ReturnType<typeof gatedMeta>;

  before(async () => {
    env = await testEnvironment();
    // BR's deploy waits for an approval: a pause in the middle of an approved deploy.
    stack = await startTestStack({
      date: DATE,
      deploy: { DEPLOY_APPROVAL_MARKETS: ['BR'], DEPLOY_APPROVAL_TIMEOUT: 120_000 },
    });
    gate = gatedMeta(stack.deps.meta);
    workers = await startLoopWorkers(env, { ...stack.deps, meta: gate.meta }, 'control');
  });
  after(async () => {
    gate?.open();
    await workers?.stop();
    await stack?.close();
    await env?.teardown();
  });

  /** This test's runs only: other test files run the same markets on the shared server. */
  const scope = () => ({ taskQueue: workers.taskQueue });

  const start = (market: string) =>
    env.client.workflow.start(marketLoop, {
      workflowId: marketLoopWorkflowId(market, DATE),
      taskQueue: workers.taskQueue,
      args: [{ market, date: DATE, renderTaskQueue: workers.renderTaskQueue }],
    });

  /** Waits until the market's run is listed as running (visibility lags a start a little). */
  async function untilListed(market: string) {
    const deadline = Date.now() + 20_000;
    while ((await runningMarketLoops(env.client, market, scope())).length === 0) {
      assert.ok(Date.now() < deadline, `${market}'s run never showed as running`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function until(
    handle: { query: (q: typeof getMarketStatus) => Promise<MarketStatus> },
    ok: (s: MarketStatus) => boolean,
    what: string,
  ): Promise<MarketStatus> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const s = await handle.query(getMarketStatus);
      if (ok(s)) return s;
      assert.ok(Date.now() < deadline, `never ${what}; stage ${s.stage}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const adsOf = (market: string) =>
    sandboxAds(stack.sandbox).filter((a) => parseAdName(a.name)?.market === market);
  const tiktokAdsOf = (market: string) =>
    stack.sandbox.tiktok.store
      .list('ad', stack.sandbox.tiktokCredentials.advertiserId)
      .filter((a) => parseAdName(String(a.fields.ad_name))?.market === market);

  it('holds a paused run before its first platform write and continues on resume', async () => {
    const handle = await start('SE');
    await untilListed('SE');
    const paused = await pauseMarketRuns(
      env.client,
      'SE',
      { by: 'alice', reason: 'brand review' },
      scope(),
    );
    assert.equal(paused.schedule, 'none');
    assert.equal(paused.runs.length, 1);
    assert.equal(paused.runs[0]!.paused?.by, 'alice');
    assert.equal(paused.runs[0]!.paused?.reason, 'brand review');

    const held = await until(handle, (s) => s.holding === true, 'held');
    assert.equal(held.stage, 'paused');
    assert.equal((await handle.describe()).typedSearchAttributes.get(STAGE), 'paused');
    // Ingest, rank and render ran; nothing was written to a platform, and nothing is while held.
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(await listPlatformWrites(stack.database.db, { market: 'SE' }), []);
    assert.equal(adsOf('SE').length, 0);

    // An update that names no one is refused before it reaches the history.
    await assert.rejects(
      handle.executeUpdate(setMarketPaused, { args: [{ paused: false } as never] }),
      (err: Error) =>
        err.cause instanceof Error &&
        /setMarketPaused takes \{"paused": true or false, "by": "<name>"\}/.test(err.cause.message),
    );
    // The Temporal UI's way: the resumeMarket signal.
    await handle.signal(resumeMarket, { by: 'bob' });
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    assert.equal(result.deploy?.created, 6);
    assert.equal(adsOf('SE').length, 3);
  });

  it('stops a deploy between two requests and finishes it after resume, without duplicates', async () => {
    const { arrived } = gate.close();
    const handle = await start('DE');
    await untilListed('DE');
    await arrived; // Meta's first batch write (the ad creatives) is in flight now
    const out = await pauseMarketRuns(env.client, 'DE', { by: 'alice' }, scope());
    assert.equal(out.runs[0]?.stage, 'deploy');
    // Let the cancellation reach the activity (on its next heartbeat), then answer the request.
    await new Promise((r) => setTimeout(r, 4000));
    gate.open();
    await until(handle, (s) => s.holding === true, 'held mid-deploy');

    const writes = (await listPlatformWrites(stack.database.db, { market: 'DE' })).length;
    assert.ok(writes > 0, 'the request in flight was answered and audited');
    assert.equal(adsOf('DE').length, 0, 'the ads batch after it was not sent');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await listPlatformWrites(stack.database.db, { market: 'DE' })).length, writes);

    const resumed = await resumeMarketRuns(env.client, 'DE', { by: 'alice' }, scope());
    assert.equal(resumed.runs[0]?.paused, null);
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    const meta = adsOf('DE');
    const tiktok = tiktokAdsOf('DE');
    assert.equal(meta.length, 3);
    assert.equal(tiktok.length, 3);
    assert.equal(new Set(meta.map((a) => a.name)).size, 3, 'no ad was created twice');
    // Every creative was made once: the resumed deploy found the ones made before the pause.
    const creatives = stack.sandbox.meta.store
      .list('adcreative', stack.sandbox.credentials.adAccountId.slice(4))
      .filter((c) => String(c.fields.name).startsWith('adloop/DE/'));
    assert.equal(new Set(creatives.map((c) => c.fields.name)).size, creatives.length);
  });

  it('keeps a run that is resumed before its stopped deploy has noticed the pause', async () => {
    const { arrived } = gate.close();
    const handle = await start('EG');
    await arrived;
    // From the Temporal UI, without a body: the pause still counts.
    await env.client.workflow.getHandle(handle.workflowId).signal('pauseMarket');
    const paused = await handle.query(getMarketStatus);
    assert.equal(paused.paused?.by, 'an operator (no "by" given)');
    await handle.signal(resumeMarket, { by: 'alice' });
    await new Promise((r) => setTimeout(r, 4000));
    gate.open();
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    assert.equal(adsOf('EG').length, 3);
    assert.equal(tiktokAdsOf('EG').length, 3);
  });

  it('asks again for approval of what is left when a pause stops an approved deploy', async () => {
    const handle = await start('BR');
    await until(handle, (s) => s.stage === 'awaiting-approval', 'awaiting approval');
    const { arrived } = gate.close();
    await handle.signal(approveDeploy, { by: 'dana' });
    await arrived;
    await handle.signal(pauseMarket, { by: 'erin', reason: 'wrong artist' });
    await new Promise((r) => setTimeout(r, 4000));
    gate.open();
    await until(handle, (s) => s.holding === true, 'held mid-deploy');
    await handle.signal(resumeMarket, { by: 'erin' });
    // The approval was of the whole plan; what is left is a new plan, and waits for its own.
    const again = await until(
      handle,
      (s) => s.stage === 'awaiting-approval',
      'awaiting approval again',
    );
    assert.equal(again.deployPlan?.decision, undefined);
    assert.equal(adsOf('BR').length, 0, 'nothing more was written without the new approval');
    await handle.signal(approveDeploy, { by: 'dana', note: 'the rest' });
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    assert.equal(adsOf('BR').length, 3);
    assert.equal(tiktokAdsOf('BR').length, 3);
  });

  it('reruns a finished market-day, writing nothing that is already there', async () => {
    const before = adsOf('SE').map((a) => a.id);
    const handle = await rerunMarket(env.client, {
      market: 'SE',
      date: DATE,
      taskQueue: workers.taskQueue,
      renderTaskQueue: workers.renderTaskQueue,
    });
    // While it runs, a second rerun of the same day is refused.
    await assert.rejects(
      rerunMarket(env.client, {
        market: 'SE',
        date: DATE,
        taskQueue: workers.taskQueue,
        renderTaskQueue: workers.renderTaskQueue,
      }),
      /market\/SE\/2026-03-01 is running now/,
    );
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    assert.equal(result.ranking.reused, true, 'the day keeps the ranking it went live with');
    assert.equal(result.deploy?.created, 0);
    assert.equal(result.deploy?.reused, 6);

    // An older day, rerun after this one went live, plans but does not replace today's ads.
    const older = await rerunMarket(env.client, {
      market: 'SE',
      date: '2026-02-28',
      taskQueue: workers.taskQueue,
      renderTaskQueue: workers.renderTaskQueue,
    });
    const olderResult = await older.result();
    assert.equal(olderResult.deploy, null);
    assert.ok(
      olderResult.degraded?.includes(
        "deploy not applied: 2026-03-01's plan is live already (this is an older day)",
      ),
      String(olderResult.degraded),
    );
    assert.deepEqual(
      adsOf('SE')
        .map((a) => a.id)
        .sort(),
      before.sort(),
    );
  });
});
