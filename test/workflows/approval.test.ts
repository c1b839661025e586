// The approval gate on a real Temporal server: a market that requires approval waits (its stage
// visible as a search attribute and in its status query) for an approve or reject signal; without
// one before the timeout, yesterday's ads keep running and nothing is written.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workflowMetadataQuery } from '@temporalio/workflow';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { marketLoopWorkflowId } from '../../core/ids.ts';
import { STAGE } from '../../core/search-attributes.ts';
import type { MarketLoopResult } from '../../core/types.ts';
import { getDeployPlan, listPlatformWrites, recordRejection } from '../../db/deploy.repository.ts';
import { marketLoop } from '../../workflows/index.ts';
import { approveDeploy, getMarketStatus, rejectDeploy } from '../../workflows/messages.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { startLoopWorkers, testEnvironment } from '../helpers/temporal.ts';

const TIMEOUT_MS = 8000;

describe('deploy approval gate', () => {
  let env: TestWorkflowEnvironment;
  let stack: TestStack;
  let workers: Awaited<ReturnType<typeof startLoopWorkers>>;

  before(async () => {
    env = await testEnvironment();
    stack = await startTestStack({
      date: '2026-03-01',
      deploy: { DEPLOY_APPROVAL_MARKETS: ['SE'], DEPLOY_APPROVAL_TIMEOUT: TIMEOUT_MS },
    });
    workers = await startLoopWorkers(env, stack.deps, 'approval');
  });
  after(async () => {
    await workers?.stop();
    await stack?.close();
    await env?.teardown();
  });

  /** Starts SE's loop for `date` and waits until it waits for approval. */
  async function startAndAwaitApproval(date: string) {
    stack.sandbox.clock.set(date);
    const handle = await env.client.workflow.start(marketLoop, {
      workflowId: marketLoopWorkflowId('SE', date),
      taskQueue: workers.taskQueue,
      args: [{ market: 'SE', date, renderTaskQueue: workers.renderTaskQueue }],
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = await handle.query(getMarketStatus);
      if (status.stage === 'awaiting-approval') {
        assert.ok(status.deployPlan?.lines[0]?.startsWith(`deploy plan SE ${date}`));
        assert.ok(status.deployPlan?.awaitingApprovalUntil);
        break;
      }
      assert.ok(Date.now() < deadline, `still ${status.stage} after 60 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // What the Temporal UI shows: the stage search attribute, and the plan as Current Details.
    const described = await handle.describe();
    assert.deepEqual(described.typedSearchAttributes.get(STAGE), 'awaiting-approval');
    const metadata = await handle.query(workflowMetadataQuery);
    assert.match(metadata.currentDetails ?? '', /Waiting for deploy approval[\s\S]*deploy plan SE/);
    return handle;
  }

  it('keeps yesterday’s ads and writes nothing when nobody answers in time', async () => {
    const date = '2026-03-01';
    const handle = await startAndAwaitApproval(date);
    const result: MarketLoopResult = await handle.result();
    assert.equal(result.status, 'completed');
    assert.equal(result.deploy, null);
    assert.ok(result.degraded?.some((d) => /deploy not approved by .*keep running/.test(d)));
    assert.deepEqual(await listPlatformWrites(stack.database.db, { market: 'SE' }), []);
    assert.equal(
      (await getDeployPlan(stack.database.db, { market: 'SE', date }))?.status,
      'expired',
    );
  });

  it('writes nothing when rejected', async () => {
    const date = '2026-03-02';
    const before = (await listPlatformWrites(stack.database.db, { market: 'SE' })).length;
    const handle = await startAndAwaitApproval(date);
    await handle.signal(rejectDeploy, { by: 'bob', note: 'wrong season' });
    const result: MarketLoopResult = await handle.result();
    assert.equal(result.deploy, null);
    assert.ok(
      result.degraded?.includes(
        "deploy rejected by bob: wrong season: yesterday's ads keep running",
      ),
    );
    assert.equal((await listPlatformWrites(stack.database.db, { market: 'SE' })).length, before);
  });
  it('writes nothing when the plan changed between approval and deploy', async () => {
    const date = '2026-03-03';
    const handle = await startAndAwaitApproval(date);
    // Meanwhile the top creative is rejected on Meta (say, by another market's review).
    const top = await stack.database.db
      .selectFrom('run_creatives')
      .select('creative_hash')
      .where('market', '=', 'SE')
      .where('date', '=', date)
      .where('position', '=', 1)
      .executeTakeFirstOrThrow();
    await recordRejection(stack.database.db, {
      platform: 'meta',
      creativeHash: top.creative_hash,
      market: 'SE',
      adId: 'elsewhere',
      reason: 'test',
    });
    await handle.signal(approveDeploy, { by: 'carol' });
    const result: MarketLoopResult = await handle.result();
    assert.equal(result.deploy, null);
    assert.ok(
      result.degraded?.some((d) =>
        /deploy not applied: the plan changed since it was approved/.test(d),
      ),
      result.degraded?.join('; '),
    );
    await stack.database.db.deleteFrom('creative_rejections').execute();
  });

  it('deploys once approved, and records who approved', async () => {
    const date = '2026-03-04';
    const handle = await startAndAwaitApproval(date);
    await handle.signal(approveDeploy, { by: 'alice', note: 'looks good' });
    const result: MarketLoopResult = await handle.result();
    assert.equal(result.deploy?.created, 6);
    const plan = await getDeployPlan(stack.database.db, { market: 'SE', date });
    assert.deepEqual(
      [plan?.status, plan?.decided_by, plan?.decision_note],
      ['applied', 'alice', 'looks good'],
    );
  });
});
