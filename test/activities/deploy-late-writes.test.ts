// Writes that land late: the sandbox holds a share of writes past the clients' timeouts and then
// carries them out, as a request stuck in a platform's queue is. A create retried after its
// look-up found nothing makes a twin once the first lands; deploy must end with one ad per
// creative on each platform, the right ones live, and the twins deleted.
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities, type Activities } from '../../activities/index.ts';
import { marketAccounts } from '../../core/accounts.ts';
import { parseAdName } from '../../core/ids.ts';
import { listPlatformWrites } from '../../db/deploy.repository.ts';
import { objectTwins, splitTwins } from '../../decisions/deploy/twins.ts';
import type { Sandbox } from '../../sandbox/index.ts';
import { renderAll, typedRun } from '../helpers/activity.ts';
import { sandboxMetaAccount, startTestStack, type TestStack } from '../helpers/stack.ts';

const DATE = '2026-03-01';
/**
 * Clients give up after this (Meta: twice it for writes) and deploy lets an unanswered write settle
 * for twice it before looking it up again: late writes land after that, so some creates are made
 * twice.
 */
const TIMEOUT_MS = 1000;
const LATE_MS = 3500;

/** adloop's ads of `market` on each platform, from the sandbox stores, deleted ones included. */
function storedAds(sandbox: Sandbox, market: string) {
  const meta = sandbox.meta.store
    .list('ad', sandboxMetaAccount(sandbox, market))
    .map((a) => ({ name: String(a.fields.name), status: String(a.fields.status) }));
  const tiktok = sandbox.tiktok.store
    .list('ad', sandbox.tiktokCredentials.advertiserId)
    .map((a) => ({ name: String(a.fields.ad_name), status: String(a.fields.operation_status) }));
  const ours = (a: { name: string }) => parseAdName(a.name)?.market === market;
  return { meta: meta.filter(ours), tiktok: tiktok.filter(ours) };
}

describe('deploy when writes land after the client gave up', () => {
  let stack: TestStack;
  let acts: Activities;
  const run = (market: string) =>
    typedRun(
      new MockActivityEnvironment({
        workflowExecution: { workflowId: `market/${market}/${DATE}`, runId: 'r1' },
      }),
    );

  before(async () => {
    stack = await startTestStack({ adsPerMarket: 3, requestTimeoutMs: TIMEOUT_MS });
    acts = createActivities(stack.deps);
  });
  after(async () => stack?.close());

  it('ends with one ad per creative, the top three live, and every twin deleted', async () => {
    const r = run('BR');
    const input = { market: 'BR', date: DATE };
    await r(acts.startMarketRun, input);
    await r(acts.ingestCatalog, input);
    const { selected } = await r(acts.rankMarket, { ...input, metricsAvailable: true });
    const ranked = await renderAll(r, acts, { ...input, items: selected });

    for (const p of [stack.sandbox.meta, stack.sandbox.tiktok]) {
      p.faults.lateWriteRate = 0.3;
      p.faults.lateWriteMs = LATE_MS;
    }
    let result;
    try {
      // As Temporal would: retry the activity until it succeeds.
      for (let attempt = 1; ; attempt++) {
        try {
          result = await r(acts.deployCreatives, { ...input, creatives: ranked });
          break;
        } catch (err) {
          if (attempt >= 20) throw err;
        }
      }
    } finally {
      for (const p of [stack.sandbox.meta, stack.sandbox.tiktok]) p.faults.lateWriteRate = 0;
    }
    // Writes still held when deploy returned land now; what they make is tomorrow's to clean.
    await new Promise((res) => setTimeout(res, LATE_MS));

    const requests = [...stack.sandbox.meta.requests, ...stack.sandbox.tiktok.requests];
    assert.ok(
      requests.some((q) => q.late && q.status === 0),
      'some writes landed after their client gave up',
    );
    const top3 = ranked
      .slice(0, 3)
      .map((c) => c.hash)
      .sort();
    const ads = storedAds(stack.sandbox, 'BR');
    for (const [platform, list] of Object.entries(ads)) {
      const kept = list.filter((a) => a.status !== 'DELETED' && a.status !== 'DELETE');
      const live = kept.filter((a) => a.status === 'ACTIVE' || a.status === 'ENABLE');
      assert.deepEqual(
        live.map((a) => parseAdName(a.name)!.creativeHash).sort(),
        top3,
        `${platform}: exactly the top three live`,
      );
      assert.equal(
        new Set(live.map((a) => a.name)).size,
        live.length,
        `${platform}: no name live twice`,
      );
      // Twins that landed before deploy's last read-back are deleted; any landing later is paused
      // (created paused) and tomorrow's deploy deletes it.
      const twins = kept.length - new Set(kept.map((a) => a.name)).size;
      if (twins > 0)
        assert.ok(
          kept.every((a) => live.includes(a) || a.status === 'PAUSED' || a.status === 'DISABLE'),
          `${platform}: a late twin never runs`,
        );
    }
    assert.equal(result?.adIds.length, 6);

    // A create of a live ad that lands only now (after deploy's last read-back): a paused twin.
    const meta = stack.metaOf('BR');
    const liveAd = stack.sandbox.meta.store
      .list('ad', sandboxMetaAccount(stack.sandbox, 'BR'))
      .find((a) => a.fields.status === 'ACTIVE')!;
    const [twin] = await meta.createMany('ads', [
      meta.adParams({
        name: String(liveAd.fields.name),
        adsetId: String(liveAd.fields.adset_id),
        creativeId: String((liveAd.fields.creative as { id: string }).id),
      }),
    ]);
    assert.ok(twin?.id, `the twin was made: ${twin?.error?.message}`);

    // The next deploy reads every ad set again and deletes whatever twin landed since, keeping
    // the ad that runs.
    await r(acts.deployCreatives, { ...input, creatives: ranked });
    assert.equal(stack.sandbox.meta.store.get(twin.id)?.fields.status, 'DELETED');
    assert.equal(stack.sandbox.meta.store.get(liveAd.id)?.fields.status, 'ACTIVE');
    const deletes = (await listPlatformWrites(stack.database.db, { market: 'BR' })).filter(
      (w) => w.operation === 'delete_ad' && w.result === 'ok',
    );
    assert.ok(deletes.length >= 1, 'the deletion is audited');
    for (const [platform, list] of Object.entries(storedAds(stack.sandbox, 'BR'))) {
      const kept = list.filter((a) => a.status !== 'DELETED' && a.status !== 'DELETE');
      assert.equal(
        new Set(kept.map((a) => a.name)).size,
        kept.length,
        `${platform}: no twin left after the next deploy`,
      );
    }

    // Creates of the campaign and of an ad set that land only now: Meta takes a name twice.
    const liveSet = stack.sandbox.meta.store.get(String(liveAd.fields.adset_id))!;
    const campaignId = String(liveSet.fields.campaign_id);
    const setName = String(liveSet.fields.name);
    const [, , os, objective] = setName.split('/') as [
      string,
      string,
      'ios' | 'android',
      'installs',
    ];
    const brAccounts = marketAccounts(stack.deps.accounts, 'BR');
    const spec = {
      name: setName,
      campaignId,
      country: 'BR',
      dailyBudgetMinor: 5000,
      os,
      objective,
      app: {
        applicationId: brAccounts.meta!.applicationId,
        storeUrl: brAccounts.apps[os]!.storeUrl,
      },
    };
    const campaignTwin = await meta.createCampaign({ name: 'adloop/BR' });
    const adSetTwin = await meta.createAdSet(spec);
    // A twin holding an ad is in use (not a late create of adloop's): it is left alone.
    const busyTwin = await meta.createAdSet(spec);
    await meta.createAd({
      name: 'made by hand',
      adsetId: busyTwin,
      creativeId: String((liveAd.fields.creative as { id: string }).id),
    });
    await r(acts.deployCreatives, { ...input, creatives: ranked });
    const statusOf = (id: string) => stack.sandbox.meta.store.get(id)?.fields.status;
    assert.equal(statusOf(campaignTwin), 'DELETED', 'the empty twin campaign is deleted');
    assert.equal(statusOf(adSetTwin), 'DELETED', 'the empty twin ad set is deleted');
    assert.notEqual(statusOf(busyTwin), 'DELETED', 'a twin holding an ad is left alone');
    assert.equal(statusOf(campaignId), 'ACTIVE', "adloop's campaign runs");
    assert.equal(statusOf(liveSet.id), 'ACTIVE', "adloop's ad set runs");
    assert.equal(statusOf(liveAd.id), 'ACTIVE');
    const objectDeletes = (await listPlatformWrites(stack.database.db, { market: 'BR' }))
      .filter((w) => w.result === 'ok' && /^delete_(campaign|adset)$/.test(w.operation))
      .map((w) => w.operation)
      .sort();
    assert.deepEqual(objectDeletes, ['delete_adset', 'delete_campaign'], 'both are audited');
  });
});

describe('objectTwins', () => {
  const found = [{ id: '7' }, { id: '3' }, { id: '9' }];

  it('names every object but the recorded one', () => {
    assert.deepEqual(objectTwins(found, '3'), [{ id: '7' }, { id: '9' }]);
  });

  it('names none when the recorded one is not among them, or nothing is recorded', () => {
    assert.deepEqual(objectTwins(found, '4'), []);
    assert.deepEqual(objectTwins(found, undefined), []);
    assert.deepEqual(objectTwins([{ id: '3' }], '3'), []);
  });
});

describe('splitTwins', () => {
  const ad = (id: string, name: string, status: 'active' | 'paused' | 'archived' = 'paused') => ({
    id,
    name,
    status,
  });

  it('keeps the live one, then the recorded one, then the oldest', () => {
    const ads = [
      ad('12', 'a'),
      ad('9', 'a'),
      ad('30', 'b'),
      ad('31', 'b', 'active'),
      ad('40', 'c'),
      ad('41', 'c'),
      ad('50', 'd'),
    ];
    const { ads: kept, twins } = splitTwins(ads, new Set(['41']));
    assert.deepEqual(
      kept.map((a) => a.id),
      ['9', '31', '41', '50'],
    );
    assert.deepEqual(
      twins.map((a) => a.id),
      ['12', '30', '40'],
    );
  });

  it('leaves an ad set without twins as it is', () => {
    const ads = [ad('1', 'a'), ad('2', 'b', 'active')];
    assert.deepEqual(splitTwins(ads, new Set()), { ads, twins: [] });
  });
});
