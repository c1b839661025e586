// The sandbox Graph API through the official SDK, changed only in base URL: shapes, paging,
// errors and token checks as Meta sends them.
import { FAILURE } from '../../core/failures.ts';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { writeOutcome } from '../../activities/deploy/audit.ts';
import { toFailure } from '../../activities/stage.ts';
import { PlatformError } from '../../platforms/errors.ts';
import bizSdk from 'facebook-nodejs-business-sdk';
import { createGraphApi, createMetaAds, type MetaAds } from '../../platforms/meta/meta-ads.ts';
import { deepLink } from '../../core/tracking.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { MAX_ADS_PER_ADSET } from '../../sandbox/meta/graph-server.ts';
import { outcomeShares, waitFor } from '../helpers/faults.ts';
import { mp4 } from '../helpers/media.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';
import { TEST_APP, appLinkOf, liveAd, liveAdSet } from '../helpers/meta-app.ts';

const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

/** A campaign, ad set, image, creative and one live ad showing the artist: the least that delivers. */
async function deployOneAd(meta: MetaAds, market: string, artistId: string, templateId: string) {
  const campaignId = await meta.createCampaign({ name: 'c' });
  const adsetId = await liveAdSet(meta, {
    name: 's',
    campaignId,
    country: market,
    dailyBudgetMinor: 50_000,
    os: 'ios',
    app: TEST_APP,
  });
  const { hash } = await meta.uploadImage(PNG_1x1, 'x.png');
  const link = deepLink({ platform: 'meta', market, artistId, templateId });
  const creativeId = await meta.createCreative({
    name: 'c',
    imageHash: hash,
    storeUrl: TEST_APP.storeUrl,
    appLink: appLinkOf(link),
    message: 'm',
    headline: 'h',
  });
  await liveAd(meta, { name: 'a', adsetId, creativeId });
  return adsetId;
}

describe('sandbox Graph API', () => {
  let sandbox: Sandbox;
  let meta: MetaAds;
  let adsetId: string;
  const created: string[] = [];

  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    meta = createMetaAds({ graphUrl: sandbox.metaUrl, ...sandbox.credentials });
  });
  after(async () => sandbox?.close());

  it('creates campaign, ad set, image, creative and ads through the SDK', async () => {
    const campaignId = await meta.createCampaign({ name: 'adloop/SE' });
    adsetId = await liveAdSet(meta, {
      name: 'adloop/SE/default',
      campaignId,
      country: 'SE',
      dailyBudgetMinor: 20_000,
      os: 'ios',
      app: TEST_APP,
    });
    const { hash } = await meta.uploadImage(PNG_1x1, 'one.png');
    assert.match(hash, /^[0-9a-f]{32}$/);
    assert.equal(
      (await meta.uploadImage(PNG_1x1, 'again.png')).hash,
      hash,
      'same bytes, same hash',
    );
    const link = deepLink({
      platform: 'meta',
      market: 'SE',
      artistId: 'a01',
      templateId: 'spotlight',
    });
    const creativeId = await meta.createCreative({
      name: 'c1',
      imageHash: hash,
      storeUrl: TEST_APP.storeUrl,
      appLink: appLinkOf(link),
      message: 'm',
      headline: 'h',
    });
    for (let i = 0; i < 30; i++) {
      created.push(await liveAd(meta, { name: `ad-${i}`, adsetId, creativeId }));
    }
    assert.equal(new Set(created).size, 30);
    assert.deepEqual(await meta.findByName('campaigns', 'adloop/SE'), {
      id: campaignId,
      status: 'ACTIVE',
    });
    assert.equal(await meta.findByName('ads', 'no such ad'), null);
  });

  it('pages list edges with absolute next URLs', async () => {
    const ads = await meta.listAds(adsetId);
    assert.deepEqual(
      ads.map((a) => a.id),
      created,
    );
    const res = await fetch(
      `${sandbox.metaUrl}/v24.0/${sandbox.credentials.adAccountId}/ads?limit=10&fields=name&access_token=${sandbox.credentials.accessToken}`,
    );
    const body = (await res.json()) as {
      data: Array<{ id: string; name: string }>;
      paging: { next: string };
    };
    assert.equal(body.data.length, 10);
    assert.ok(body.paging.next.startsWith(sandbox.metaUrl), 'paging.next is absolute');
    assert.ok(res.headers.get('x-business-use-case-usage'));
  });

  it('pauses ads and reports effective status', async () => {
    await meta.setAdStatus(created[0]!, 'PAUSED');
    const ads = await meta.listAds(adsetId);
    assert.equal(ads[0]!.status, 'PAUSED');
    assert.equal(ads[0]!.effectiveStatus, 'PAUSED');
    assert.equal(ads[1]!.effectiveStatus, 'ACTIVE');
  });

  it('reports daily insights per ad with actions, only for days that ran', async () => {
    sandbox.clock.set('2026-03-02');
    const rows = await meta.insights({ since: '2026-02-28', until: '2026-03-05', adsetId });
    const days = [...new Set(rows.map((r) => r.date))].sort();
    assert.deepEqual(
      days,
      ['2026-03-01', '2026-03-02'],
      'nothing before creation, nothing after today',
    );
    assert.ok(
      !rows.some((r) => r.adId === created[0] && r.date === '2026-03-02'),
      'paused on 03-01: no delivery after',
    );
    const spend = rows
      .filter((r) => r.date === '2026-03-02')
      .reduce((s, r) => s + r.spendMicros, 0);
    assert.ok(Math.abs(spend - 200_000_000) < 1_000_000, `the day's budget is spent: ${spend}`);
    assert.ok(
      rows.every(
        (r) => r.clicks <= r.impressions && r.registrations <= r.installs && r.installs <= r.clicks,
      ),
    );
    assert.deepEqual(
      await meta.insights({ since: '2026-03-01', until: '2026-03-02', adsetId }),
      rows.filter((r) => r.date <= '2026-03-02'),
      'deterministic',
    );
  });

  it('rejects a wrong token with the Graph OAuth error, classified as auth', async () => {
    const bad = createMetaAds({
      graphUrl: sandbox.metaUrl,
      ...sandbox.credentials,
      accessToken: 'wrong-token',
    });
    await assert.rejects(bad.listAds(adsetId), (e: unknown) => {
      assert.ok(e instanceof PlatformError);
      assert.equal(e.kind, 'auth');
      assert.equal(e.code, 190);
      assert.doesNotMatch(e.message, /wrong-token|access_token/);
      return true;
    });
    const res = await fetch(`${sandbox.metaUrl}/v24.0/${sandbox.credentials.adAccountId}/ads`);
    assert.equal(res.status, 400);
    const body = (await res.json()) as {
      error: { code: number; type: string; fbtrace_id: string };
    };
    assert.equal(body.error.code, 104);
    assert.equal(body.error.type, 'OAuthException');
    assert.ok(body.error.fbtrace_id);
  });

  it('rejects a bad request with code 100, naming the parameter', async () => {
    await assert.rejects(
      meta.createAd({ name: 'x', adsetId: '999', creativeId: '1' }),
      (e: unknown) => {
        assert.ok(e instanceof PlatformError);
        assert.equal(e.kind, 'invalid');
        assert.equal(e.code, 100);
        assert.match(e.message, /adset_id/);
        return true;
      },
    );
  });

  it('fails transiently while the platform is down', async () => {
    sandbox.meta.faults.down = true;
    try {
      await assert.rejects(
        meta.listAds(adsetId),
        (e: unknown) => e instanceof PlatformError && e.kind === 'transient' && e.retryable,
      );
    } finally {
      sandbox.meta.faults.down = false;
    }
  });
});

describe('sandbox Graph API: timeouts (faults.meta.timeoutRate)', () => {
  let sandbox: Sandbox;
  const account = () => sandbox.credentials.adAccountId;
  const client = (requestTimeoutMs?: number) =>
    createMetaAds({
      graphUrl: sandbox.metaUrl,
      ...sandbox.credentials,
      governor: null,
      // Each request once: these tests count what the server did with each.
      requestTries: 1,
      ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    });
  const timedOut = () => sandbox.meta.requests.filter((r) => r.timedOut);

  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
  });
  after(async () => sandbox?.close());

  it('waits a little longer for a late write, so its object is not made again', async () => {
    const meta = client(300);
    sandbox.meta.faults.latencyMs = 450;
    try {
      const started = performance.now();
      const id = await meta.createCampaign({ name: 'late write' });
      assert.ok(performance.now() - started >= 440, 'answered after the client timeout');
      const found = await client().findByName('campaigns', 'late write');
      assert.equal(found?.id, id, 'the late answer is used: its id is the one made');
    } finally {
      sandbox.meta.faults.latencyMs = 0;
    }
    // A read is not waited for past its timeout.
    sandbox.meta.faults.latencyMs = 450;
    try {
      await assert.rejects(meta.findByName('campaigns', 'late write'), /timed out after 300 ms/);
    } finally {
      sandbox.meta.faults.latencyMs = 0;
    }
  });

  it('ends the pacing reservation of a call that got no answer, so timeouts never stall the client', async () => {
    // The usage governor reserves room for each call and frees it when the answer comes; a call
    // that timed out has no answer. 100 of them must not leave the room used up: the governor
    // allows 90% of the account's usage, one point per call until readings say otherwise.
    const meta = createMetaAds({
      graphUrl: sandbox.metaUrl,
      ...sandbox.credentials,
      requestTries: 1,
      requestTimeoutMs: 100,
    });
    sandbox.meta.faults.timeoutRate = 1;
    sandbox.meta.faults.hangMs = 200;
    try {
      for (let i = 0; i < 100; i++)
        await assert.rejects(meta.findByName('campaigns', `nothing ${i}`), /timed out/);
    } finally {
      sandbox.meta.faults.timeoutRate = 0;
    }
    // Its own outcome does not matter here (a loaded machine may be slow): only that it did not
    // wait for room first.
    await meta.findByName('campaigns', 'after the timeouts').catch(() => null);
    assert.equal(meta.throttleWaitMs, 0, 'no call waited on the governor');
  });

  it('fails a call that gets no answer as a transient timeout, and never carries it out', async () => {
    const meta = client(150);
    const creativesBefore = sandbox.meta.store.list('adcreative', account().slice(4)).length;
    const heldBefore = timedOut().length;
    sandbox.meta.faults.timeoutRate = 1;
    sandbox.meta.faults.hangMs = 600;
    try {
      const started = performance.now();
      const err = await meta.createCampaign({ name: 'timed-out' }).then(
        () => null,
        (e: unknown) => e,
      );
      const took = performance.now() - started;
      assert.ok(err instanceof PlatformError, `a PlatformError, got ${String(err)}`);
      assert.equal(err.message, 'meta transient error: request timed out after 150 ms');
      assert.equal(err.kind, 'transient');
      assert.ok(err.retryable);
      assert.equal(writeOutcome(err), 'lost', 'the audit records a timed-out write as lost');
      assert.ok(took >= 140 && took < 550, `failed after ${Math.round(took)} ms, not at hangMs`);
      // Reads, and batches (each call of the batch fails with it), alike.
      await assert.rejects(
        meta.findByName('campaigns', 'timed-out'),
        (e: unknown) => e instanceof PlatformError && /timed out after 150 ms/.test(e.message),
      );
      const [result] = await meta.createMany('adcreatives', [
        meta.creativeParams({
          name: 'timed-out creative',
          imageHash: '0'.repeat(32),
          storeUrl: TEST_APP.storeUrl,
          appLink: 'adloopmusic://artist/x',
          message: 'm',
          headline: 'h',
        }),
      ]);
      assert.equal(result?.error?.kind, 'transient');
      assert.match(String(result?.error?.message), /timed out after 150 ms/);
    } finally {
      sandbox.meta.faults.timeoutRate = 0;
    }
    // Each held request is dropped after hangMs and logged then, without a response.
    await waitFor(() => timedOut().length - heldBefore === 3, 5000, 'three dropped requests');
    assert.ok(timedOut().every((r) => r.status === 0 && !r.lost));
    assert.equal(
      await client().findByName('campaigns', 'timed-out'),
      null,
      'the held write was never carried out',
    );
    assert.equal(
      sandbox.meta.store.list('adcreative', account().slice(4)).length,
      creativesBefore,
      'nor the held batch',
    );
  });

  it('drops the connection after hangMs when the client waits longer', async () => {
    sandbox.meta.faults.timeoutRate = 1;
    sandbox.meta.faults.hangMs = 100;
    try {
      const started = performance.now();
      await assert.rejects(client(5_000).findByName('campaigns', 'x'), (e: unknown) => {
        assert.ok(e instanceof PlatformError, String(e));
        assert.equal(e.kind, 'transient');
        assert.doesNotMatch(e.message, /timed out|access_token|127\.0\.0\.1/);
        return true;
      });
      const took = performance.now() - started;
      assert.ok(took >= 90 && took < 2_000, `dropped after ${Math.round(took)} ms`);
    } finally {
      sandbox.meta.faults.timeoutRate = 0;
    }
  });

  it('times out about the configured share of calls, each logged once', async () => {
    // Far above an answered call's time, so only the held calls time out.
    const meta = client(250);
    const heldBefore = timedOut().length;
    sandbox.meta.faults.timeoutRate = 0.3;
    sandbox.meta.faults.hangMs = 1000;
    let share: (kind: string) => number;
    try {
      share = await outcomeShares(() => meta.findByName('campaigns', 'x'), 40);
    } finally {
      sandbox.meta.faults.timeoutRate = 0;
    }
    assert.ok(
      share('transient') > 0.1 && share('transient') < 0.5,
      `timeout share ${share('transient')}`,
    );
    assert.equal(share('ok') + share('transient'), 1, 'nothing but answers and timeouts');
    const expected = Math.round(share('transient') * 40);
    await waitFor(() => timedOut().length - heldBefore === expected, 5000, `${expected} drops`);
  });

  it('is set live through the control endpoint, validated', async () => {
    const post = async (body: unknown) => {
      const res = await fetch(`${sandbox.metaUrl}/__sandbox/faults`, {
        method: 'POST',
        headers: sandbox.controlHeaders(),
        body: JSON.stringify(body),
      });
      return {
        status: res.status,
        body: (await res.json()) as {
          error?: string;
          faults?: Record<string, { timeoutRate?: number; hangMs?: number }>;
        },
      };
    };
    try {
      const ok = await post({
        meta: { timeoutRate: 0.25, hangMs: 1000 },
        tiktok: { timeoutRate: 0.5 },
      });
      assert.equal(ok.status, 200, ok.body.error);
      assert.equal(ok.body.faults?.meta?.timeoutRate, 0.25, 'the status shows the change');
      assert.equal(ok.body.faults?.meta?.hangMs, 1000);
      assert.equal(sandbox.meta.faults.timeoutRate, 0.25);
      assert.equal(sandbox.tiktok.faults.timeoutRate, 0.5);
      assert.equal(sandbox.tiktok.faults.hangMs, 30_000, 'fields not named keep their value');

      const bad = await post({ meta: { timeoutRate: 2, errorRate: 0.5 } });
      assert.equal(bad.status, 400);
      assert.match(String(bad.body.error), /meta\.timeoutRate: Too big/);
      assert.equal(sandbox.meta.faults.errorRate, 0, 'a refused change changes nothing');
      const negative = await post({ tiktok: { hangMs: -1 } });
      assert.match(String(negative.body.error), /tiktok\.hangMs: Too small/);
      const unknown = await post({ meta: { hangms: 5 } });
      assert.equal(unknown.status, 400);
      assert.match(String(unknown.body.error), /hangms/);
      assert.equal(sandbox.meta.faults.hangMs, 1000);
    } finally {
      sandbox.meta.faults.timeoutRate = 0;
      sandbox.meta.faults.hangMs = 30_000;
      sandbox.tiktok.faults.timeoutRate = 0;
    }
  });

  it('does not keep a closing sandbox waiting on a held request', async () => {
    const other = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    other.meta.faults.timeoutRate = 1;
    other.meta.faults.hangMs = 600_000;
    const outcome = fetch(
      `${other.metaUrl}/v24.0/${account()}/campaigns?access_token=${other.credentials.accessToken}`,
    ).then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((r) => setTimeout(r, 200));
    const started = performance.now();
    await other.close();
    assert.ok(performance.now() - started < 2_000, 'closed at once');
    assert.equal(await outcome, 'dropped');
    // The hold ended with its connection (its timer cleared), not 10 minutes later.
    await waitFor(() => other.meta.requests.some((r) => r.timedOut), 1_000, 'the hold to end');
  });
});

describe('sandbox Graph API: batches, usage throttling and injected faults', () => {
  let sandbox: Sandbox;
  let meta: MetaAds;
  const account = () => sandbox.credentials.adAccountId;

  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    // These tests drive the server's throttle on purpose: a client pacing itself by the usage
    // header would wait out the hour instead of meeting it.
    meta = createMetaAds({
      graphUrl: sandbox.metaUrl,
      ...sandbox.credentials,
      governor: null,
      // Each request once: these tests sample the server's answers.
      requestTries: 1,
    });
  });
  after(async () => sandbox?.close());

  it('answers a batch through the SDK, each call with its own code and body', async () => {
    const api = createGraphApi({
      graphUrl: sandbox.metaUrl,
      accessToken: sandbox.credentials.accessToken,
    });
    const batch = new bizSdk.FacebookAdsApiBatch(api);
    const ok: unknown[] = [];
    const failed: unknown[] = [];
    batch.add(
      'POST',
      [account(), 'campaigns'],
      { name: 'b1', objective: 'OUTCOME_APP_PROMOTION', special_ad_categories: [] },
      {},
      (r: { body: unknown }) => ok.push(r.body),
      (r: unknown) => failed.push(r),
    );
    batch.add(
      'GET',
      [account(), 'campaigns'],
      { fields: 'name' },
      {},
      (r: { body: unknown }) => ok.push(r.body),
      (r: unknown) => failed.push(r),
    );
    // Refused as Graph refuses it: special_ad_categories is required on every new campaign
    // (AdAccount.json POST campaigns; https://developers.facebook.com/docs/marketing-api/reference/ad-campaign-group/).
    batch.add(
      'POST',
      [account(), 'campaigns'],
      { name: 'no categories', objective: 'OUTCOME_APP_PROMOTION' },
      {},
      (r: { body: unknown }) => ok.push(r.body),
      (r: unknown) => failed.push(r),
    );
    await batch.execute();
    assert.equal(ok.length, 2);
    assert.equal(failed.length, 1);
    assert.match(JSON.stringify(failed[0]), /The parameter special_ad_categories is required/);
    assert.deepEqual(
      (ok[1] as { data: Array<{ name: string }> }).data.map((c) => c.name),
      ['b1'],
    );
  });

  it('refuses batches over 50 calls', async () => {
    const batch = Array.from({ length: 51 }, () => ({
      method: 'GET',
      relative_url: `${account()}/ads`,
    }));
    const res = await fetch(
      `${sandbox.metaUrl}/v24.0/?access_token=${sandbox.credentials.accessToken}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ batch }),
      },
    );
    assert.equal(res.status, 400);
    assert.match(
      ((await res.json()) as { error: { message: string } }).error.message,
      /Maximum batch size is 50/,
    );
  });

  it('throttles an ad account past its allowance with code 80004, and reports usage', async () => {
    sandbox.meta.faults.hourlyCallLimit = 5;
    try {
      const url = `${sandbox.metaUrl}/v24.0/${account()}/ads?access_token=${sandbox.credentials.accessToken}`;
      const usages: number[] = [];
      let throttled: Response | null = null;
      for (let i = 0; i < 10 && !throttled; i++) {
        const res = await fetch(url);
        const usage = JSON.parse(res.headers.get('x-business-use-case-usage')!) as Record<
          string,
          Array<{ call_count: number; estimated_time_to_regain_access: number }>
        >;
        usages.push(usage[account().slice(4)]![0]!.call_count);
        if (res.status !== 200) throttled = res;
      }
      assert.ok(throttled, 'throttled within the allowance');
      assert.deepEqual(
        usages.slice(0, 5),
        [...usages.slice(0, 5)].sort((a, b) => a - b),
        'usage rises',
      );
      assert.equal(usages.at(-1), 100);
      const body = (await throttled.json()) as { error: { code: number } };
      assert.equal(body.error.code, 80004);
      await assert.rejects(
        meta.findByName('ads', 'x'),
        (e: unknown) =>
          e instanceof PlatformError &&
          e.kind === 'throttled' &&
          e.code === 80004 &&
          // read from X-Business-Use-Case-Usage: the window is an hour, so minutes, not zero
          e.retryAfterMs !== null &&
          e.retryAfterMs >= 60_000,
      );
      const failure = toFailure(
        await meta.findByName('ads', 'x').then(
          () => null,
          (e: unknown) => e,
        ),
      ) as { type?: string; nextRetryDelay?: unknown; nonRetryable?: boolean };
      assert.equal(failure.type, FAILURE.platformThrottled);
      assert.ok(
        failure.nextRetryDelay,
        'the activity retries when the platform said access returns',
      );
      assert.equal(failure.nonRetryable, false);
    } finally {
      sandbox.meta.faults.hourlyCallLimit = 100_000;
    }
  });

  it('sends an image upload again after a 5xx (the same bytes are one image), never a create', async () => {
    const persistent = createMetaAds({
      graphUrl: sandbox.metaUrl,
      ...sandbox.credentials,
      governor: null,
      requestTries: 12,
    });
    const sent = (edge: string) =>
      sandbox.meta.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${edge}`))
        .length;
    const uploadsBefore = sent('adimages');
    sandbox.meta.faults.errorRate = 0.5;
    try {
      const hashes = new Set<string>();
      for (let i = 0; i < 5; i++) hashes.add((await persistent.uploadImage(PNG_1x1, 'r.png')).hash);
      assert.equal(hashes.size, 1, 'the same bytes are the same image, however often sent');
      assert.ok(sent('adimages') - uploadsBefore > 5, 'some uploads were sent again');
      sandbox.meta.faults.errorRate = 1;
      const createsBefore = sent('campaigns');
      await assert.rejects(
        persistent.createCampaign({ name: 'not-twice' }),
        (e: unknown) => e instanceof PlatformError && e.kind === 'transient',
      );
      assert.equal(
        sent('campaigns') - createsBefore,
        1,
        'a create that may have happened is not resent',
      );
    } finally {
      sandbox.meta.faults.errorRate = 0;
    }
  });

  it('injects 5xx and rate-limit errors at the configured rates, deterministically', async () => {
    sandbox.meta.faults.errorRate = 0.3;
    sandbox.meta.faults.throttleRate = 0.2;
    try {
      const share = await outcomeShares(() => meta.findByName('campaigns', 'x'));
      assert.ok(
        share('transient') > 0.1 && share('transient') < 0.5,
        `5xx share ${share('transient')}`,
      );
      assert.ok(
        share('throttled') > 0.05 && share('throttled') < 0.4,
        `429 share ${share('throttled')}`,
      );
      assert.ok(share('ok') > 0.3);
    } finally {
      sandbox.meta.faults.errorRate = 0;
      sandbox.meta.faults.throttleRate = 0;
    }
  });

  it('is down on the world’s down dates, and sends malformed pages when asked', async () => {
    sandbox.meta.faults.downDates = ['2026-03-01'];
    await assert.rejects(
      meta.findByName('ads', 'x'),
      (e: unknown) => e instanceof PlatformError && e.kind === 'transient',
    );
    sandbox.meta.faults.downDates = [];
    sandbox.meta.faults.malformedRate = 1;
    try {
      const res = await fetch(
        `${sandbox.metaUrl}/v24.0/${account()}/campaigns?access_token=${sandbox.credentials.accessToken}`,
      );
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.throws(() => JSON.parse(text) as unknown);
      await assert.rejects(
        meta.findByName('campaigns', 'x'),
        (e: unknown) => e instanceof PlatformError && e.retryable,
      );
    } finally {
      sandbox.meta.faults.malformedRate = 0;
    }
  });
});

describe('sandbox Graph API: ad videos', () => {
  let sandbox: Sandbox;
  let meta: MetaAds;
  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    meta = createMetaAds({ graphUrl: sandbox.metaUrl, ...sandbox.credentials, videoPollMs: 5 });
  });
  after(async () => sandbox?.close());
  beforeEach(() => {
    // Every upload processes fine unless a test says otherwise (the demo world fails a share).
    sandbox.meta.videoProcessing.failShare = 0;
    sandbox.meta.videoProcessing.statusReads = 2;
  });

  /**
   * A video's fields that tell how its upload went, all of them AdVideo fields (AdVideo.json):
   * status (with the uploading phase's byte count), format (its native width and height), title.
   */
  const status = async (id: string) => {
    const res = await fetch(
      `${sandbox.metaUrl}/v24.0/${id}?fields=status,format,title&access_token=${sandbox.credentials.accessToken}`,
    );
    assert.equal(res.status, 200, 'AdVideo has these fields');
    return (await res.json()) as {
      status: {
        video_status: string;
        uploading_phase: { bytes_transferred: number; source_file_size: number };
      };
      format?: Array<{ filter: string; width: number; height: number }>;
      title?: string;
    };
  };

  it('uploads a video in chunks at the offsets the server names', async () => {
    sandbox.meta.videoChunkBytes = 40; // force several chunks
    const video = Buffer.concat([mp4(1080, 1920), Buffer.alloc(150, 7)]);
    const { videoId } = await meta.uploadVideo(video, 'clip.mp4');
    const transfers = sandbox.meta.requests.filter(
      (r) => r.method === 'POST' && r.path.endsWith('/advideos'),
    );
    assert.equal(
      transfers.length,
      2 + Math.ceil(video.length / 40),
      'start, one transfer per chunk, finish',
    );
    // The file is in: Meta processes it for a while (world.meta.videoProcessing), then it is ready.
    assert.equal((await status(videoId)).status.video_status, 'processing');
    const done = (await meta.waitForVideos([videoId])).get(videoId);
    assert.ok(
      done && !(done instanceof PlatformError),
      done instanceof PlatformError ? done.message : 'no state',
    );
    assert.equal(done.videoStatus, 'ready');
    const v = await status(videoId);
    assert.equal(v.status.video_status, 'ready');
    assert.deepEqual(v.status.uploading_phase, {
      status: 'complete',
      bytes_transferred: video.length,
      source_file_size: video.length,
    });
    assert.deepEqual(v.format, [{ filter: 'native', width: 1080, height: 1920 }]);
    assert.equal(v.title, 'clip.mp4');
  });

  it('accepts a one-request upload, and rejects offsets out of order and unfinished uploads', async () => {
    const form = new FormData();
    form.append('source', new Blob([mp4(1080, 1080)]), 'square.mp4');
    form.append('access_token', sandbox.credentials.accessToken);
    const res = await fetch(
      `${sandbox.metaUrl}/v24.0/${sandbox.credentials.adAccountId}/advideos`,
      { method: 'POST', body: form },
    );
    const { id } = (await res.json()) as { id: string };
    let square = await status(id);
    assert.equal(square.status.video_status, 'processing', 'processing once the file is in');
    for (let read = 0; read < 2; read++) square = await status(id);
    assert.equal(square.status.video_status, 'ready');
    assert.deepEqual(square.format, [{ filter: 'native', width: 1080, height: 1080 }]);

    const post = async (fields: Record<string, string | Blob>) => {
      const f = new FormData();
      for (const [k, v] of Object.entries(fields)) f.append(k, v);
      f.append('access_token', sandbox.credentials.accessToken);
      const r = await fetch(
        `${sandbox.metaUrl}/v24.0/${sandbox.credentials.adAccountId}/advideos`,
        { method: 'POST', body: f },
      );
      return {
        status: r.status,
        body: (await r.json()) as Record<string, string> & {
          error?: { code: number; message: string };
        },
      };
    };
    const start = await post({ upload_phase: 'start', file_size: '100' });
    const wrong = await post({
      upload_phase: 'transfer',
      upload_session_id: start.body.upload_session_id!,
      start_offset: '10',
      video_file_chunk: new Blob([Buffer.alloc(10)]),
    });
    assert.equal(wrong.body.error?.code, 100);
    assert.match(wrong.body.error.message, /start_offset must be 0/);
    const early = await post({
      upload_phase: 'finish',
      upload_session_id: start.body.upload_session_id!,
    });
    assert.match(early.body.error!.message, /Upload incomplete: 0 of 100/);
    const unfinished = (await status(start.body.video_id!)).status;
    assert.equal(unfinished.video_status, 'processing');
    assert.equal(unfinished.uploading_phase.bytes_transferred, 0);
    assert.equal(
      (await status(start.body.video_id!)).format,
      undefined,
      'no size before the bytes',
    );
  });
});

describe('the Meta client: waiting for videos, thumbnails, video creatives', () => {
  let sandbox: Sandbox;
  let meta: MetaAds;
  let salt = 0;
  /** A new file each time: processing outcomes are drawn per file. */
  const clip = (w: number, h: number) => Buffer.concat([mp4(w, h), Buffer.from([salt++])]);
  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    meta = createMetaAds({ graphUrl: sandbox.metaUrl, ...sandbox.credentials, videoPollMs: 5 });
  });
  after(async () => sandbox?.close());
  beforeEach(() => {
    sandbox.meta.videoProcessing.failShare = 0;
    sandbox.meta.videoProcessing.statusReads = 2;
  });

  it('waits for several videos at once and says which failed, naming the video and the phase', async () => {
    const ok = (await meta.uploadVideo(clip(1080, 1920), 'adloop/SE/creative/ok/9:16')).videoId;
    sandbox.meta.videoProcessing.failShare = 1;
    const bad = (await meta.uploadVideo(clip(1080, 1350), 'adloop/SE/creative/bad/4:5')).videoId;
    const waits: number[] = [];
    const out = await meta.waitForVideos([ok, bad], { onWait: (n) => waits.push(n) });
    const ready = out.get(ok);
    assert.ok(ready && !(ready instanceof PlatformError));
    assert.equal(ready.videoStatus, 'ready');
    assert.equal(ready.processingPhase?.status, 'complete');
    const failed = out.get(bad);
    assert.ok(failed instanceof PlatformError);
    assert.equal(failed.kind, 'invalid', 'the same file would fail again: not retried');
    assert.match(
      failed.message,
      new RegExp(
        `video ${bad} \\("adloop/SE/creative/bad/4:5"\\) failed in processing_phase: There was a problem uploading your video file.* \\(code 6000\\) \\(video_status error\\)`,
      ),
    );
    assert.equal(waits.at(-1), 0, 'told how many still processed after each round');
    assert.ok(waits.length >= 2);
  });

  it('gives a video still processing up after videoTimeoutMs, naming the phase it is in', async () => {
    const impatient = createMetaAds({
      graphUrl: sandbox.metaUrl,
      ...sandbox.credentials,
      videoPollMs: 5,
      videoTimeoutMs: 60,
    });
    sandbox.meta.videoProcessing.statusReads = 1000;
    const id = (await impatient.uploadVideo(clip(1080, 1920), 'slow')).videoId;
    const t0 = performance.now();
    const out = (await impatient.waitForVideos([id])).get(id);
    assert.ok(performance.now() - t0 < 2000, 'a bounded wait');
    assert.ok(out instanceof PlatformError);
    assert.equal(out.kind, 'transient');
    assert.match(
      out.message,
      new RegExp(
        `video ${id} \\("slow"\\) still processing after 0 s \\(uploading_phase complete, processing_phase in_progress, publishing_phase not_started\\)`,
      ),
    );
  });

  it('finds a video by its title, with its state; reads a ready video’s thumbnails, preferred first', async () => {
    const title = 'adloop/DE/creative/find/9:16';
    const { videoId } = await meta.uploadVideo(clip(1080, 1920), title);
    const [found] = await meta.findVideos(title);
    assert.equal(found?.videoId, videoId);
    assert.equal(found.title, title, 'titled from the start phase on');
    assert.equal(found.uploadingPhase?.status, 'complete');
    assert.deepEqual(await meta.findVideos('adloop/DE/creative/none/9:16'), []);
    assert.deepEqual(await meta.videoThumbnails(videoId), [], 'none while processing');
    await meta.waitForVideos([videoId]);
    const thumbs = await meta.videoThumbnails(videoId);
    assert.equal(thumbs.length, 3);
    assert.equal(thumbs[0]!.isPreferred, true);
    assert.deepEqual([thumbs[0]!.width, thumbs[0]!.height], [1080, 1920]);
  });

  it('creates a placement-customised video creative and its ad; lists the ad with its creative', async () => {
    const [vertical, feed] = await Promise.all([
      meta.uploadVideo(clip(1080, 1920), 'v'),
      meta.uploadVideo(clip(1080, 1350), 'f'),
    ]);
    await meta.waitForVideos([vertical.videoId, feed.videoId]);
    const { hash } = await meta.uploadImage(PNG_1x1, 'cover.png');
    const params = meta.videoCreativeParams({
      name: 'adloop/SE/creative/abc/ios/video',
      vertical: { videoId: vertical.videoId, thumbnailHash: hash },
      feed: { videoId: feed.videoId, thumbnailUrl: 'https://example.com/t.jpg' },
      storeUrl: TEST_APP.storeUrl,
      appLink: 'adloopmusic://artist/a1',
      message: 'm',
      headline: 'h',
    });
    const spec = params.asset_feed_spec as {
      videos: Array<Record<string, unknown>>;
      asset_customization_rules: Array<{
        customization_spec: Record<string, string[]>;
        video_label: { name: string };
      }>;
    };
    // Feeds get the 4:5 cut, stories and reels the 9:16; each video its own thumbnail.
    const labelOf = (id: string) =>
      (spec.videos.find((v) => v.video_id === id)!.adlabels as Array<{ name: string }>)[0]!.name;
    const rule = (label: string) =>
      spec.asset_customization_rules.find((r) => r.video_label.name === label)!.customization_spec;
    assert.ok(rule(labelOf(feed.videoId)).facebook_positions!.includes('feed'));
    assert.ok(rule(labelOf(feed.videoId)).instagram_positions!.includes('stream'));
    assert.deepEqual(rule(labelOf(vertical.videoId)).instagram_positions, [
      'story',
      'reels',
      'profile_reels',
    ]);
    assert.equal(
      spec.videos.find((v) => v.video_id === feed.videoId)!.thumbnail_url,
      'https://example.com/t.jpg',
    );
    assert.equal(spec.videos.find((v) => v.video_id === vertical.videoId)!.thumbnail_hash, hash);
    const [created] = await meta.createMany('adcreatives', [params]);
    assert.ok(created?.id, String(created?.error));
    const campaignId = await meta.createCampaign({ name: 'videos' });
    const adsetId = await meta.createAdSet({
      name: 'videos',
      campaignId,
      country: 'SE',
      dailyBudgetMinor: 5000,
      os: 'ios',
      app: TEST_APP,
    });
    const adId = await meta.createAd({ name: 'video ad', adsetId, creativeId: created.id });
    const [row] = await meta.listAds(adsetId);
    assert.deepEqual(
      [row?.id, row?.creativeId, row?.creativeName],
      [adId, created.id, 'adloop/SE/creative/abc/ios/video'],
    );
  });
});

describe('sandbox Graph API: reporting delay', () => {
  it('reports a recent day partially and completes it once the delay has passed', async () => {
    const sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    try {
      const meta = createMetaAds({ graphUrl: sandbox.metaUrl, ...sandbox.credentials });
      const adsetId = await deployOneAd(meta, 'SE', 'a01', 'spotlight');
      sandbox.world.truth.reportingDelayDays = 1;
      const day = { since: '2026-03-01', until: '2026-03-01', adsetId };
      const early = (await meta.insights(day))[0]!;
      sandbox.clock.set('2026-03-02');
      const final = (await meta.insights(day))[0]!;
      assert.equal(early.impressions, Math.floor(final.impressions / 2));
      assert.ok(early.spendMicros < final.spendMicros);
      sandbox.clock.set('2026-03-05');
      assert.deepEqual((await meta.insights(day))[0], final, 'a complete day never changes again');
    } finally {
      await sandbox.close();
    }
  });
});

describe('sandbox Graph API: async insights report runs', () => {
  it('reads long ranges through a report run that matches the synchronous read', async () => {
    const sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    try {
      const config = { graphUrl: sandbox.metaUrl, ...sandbox.credentials };
      const meta = createMetaAds({ ...config, reportPollMs: 10 });
      const adsetId = await deployOneAd(meta, 'DE', 'a02', 'duotone');
      sandbox.clock.set('2026-03-20');
      const range = { since: '2026-03-01', until: '2026-03-20', adsetId };
      const viaReport = await meta.insights(range);
      const posts = sandbox.meta.requests.filter(
        (r) => r.method === 'POST' && r.path.endsWith(`/${adsetId}/insights`),
      );
      assert.equal(posts.length, 1, 'a report run was started');
      const polls = sandbox.meta.requests.filter(
        (r) => r.method === 'GET' && /\/v24\.0\/\d+$/.test(r.path),
      );
      assert.ok(polls.length >= 2, 'its status was polled until complete');
      const sync = await createMetaAds({ ...config, asyncInsightsAfterDays: 365 }).insights(range);
      assert.equal(viaReport.length, 20);
      assert.deepEqual(viaReport, sync);
    } finally {
      await sandbox.close();
    }
  });
});

interface GraphAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & {
    id?: string;
    data?: Array<Record<string, unknown>>;
    error?: { message: string; code: number; error_subcode?: number };
  };
}

/** One Graph call over plain HTTP, as the SDK sends it (form-encoded, JSON values as text). */
async function graph(
  sandbox: Sandbox,
  method: 'GET' | 'POST',
  objectPath: string,
  params: Record<string, unknown> = {},
): Promise<GraphAnswer> {
  const form = new URLSearchParams({ access_token: sandbox.credentials.accessToken });
  for (const [k, v] of Object.entries(params))
    form.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  const url = `${sandbox.metaUrl}/v24.0/${objectPath}`;
  const res =
    method === 'GET'
      ? await fetch(`${url}?${form.toString()}`)
      : await fetch(url, { method, body: form });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as GraphAnswer['body'],
  };
}

/**
 * The promoted object and user_os of an app install ad set for one store: Meta refuses an
 * OUTCOME_APP_PROMOTION ad set without them, and user_os must match the store
 * (https://developers.facebook.com/docs/marketing-api/reference/ad-promoted-object/).
 */
function appInstallOf(sandbox: Sandbox, os: 'ios' | 'android') {
  const storeUrl = sandbox.world.app[os].storeUrl;
  return {
    storeUrl,
    promoted_object: {
      application_id: sandbox.world.meta.applicationId,
      object_store_url: storeUrl,
    },
    user_os: [os === 'ios' ? 'iOS' : 'Android'],
  };
}

/**
 * An app promotion campaign and an app install ad set in SE promoting the world's app in one store
 * (iOS unless said), and the account's image: what every ad here needs.
 */
async function adSetWithImage(sandbox: Sandbox, os: 'ios' | 'android' = 'ios') {
  const account = sandbox.credentials.adAccountId;
  const campaign = await graph(sandbox, 'POST', `${account}/campaigns`, {
    name: 'review',
    objective: 'OUTCOME_APP_PROMOTION',
    special_ad_categories: [],
  });
  const app = appInstallOf(sandbox, os);
  const adset = await graph(sandbox, 'POST', `${account}/adsets`, {
    name: 'review/SE',
    campaign_id: campaign.body.id,
    daily_budget: 10_000,
    billing_event: 'IMPRESSIONS',
    optimization_goal: 'APP_INSTALLS',
    promoted_object: app.promoted_object,
    targeting: { geo_locations: { countries: ['SE'] }, user_os: app.user_os },
  });
  assert.equal(adset.status, 200, JSON.stringify(adset.body));
  const image = await graph(sandbox, 'POST', `${account}/adimages`, {
    bytes: PNG_1x1.toString('base64'),
  });
  const hash = (image.body.images as Record<string, { hash: string }>).bytes!.hash;
  return {
    campaignId: campaign.body.id!,
    adsetId: adset.body.id!,
    hash,
    storeUrl: app.storeUrl,
  };
}

/**
 * An app install creative with this text (message and headline), linking to the ad set's store
 * with an install call to action and the artist's deep link, and one ad on it.
 */
async function adWithText(
  sandbox: Sandbox,
  o: { adsetId: string; hash: string; storeUrl: string; message: string; headline?: string },
): Promise<string> {
  const account = sandbox.credentials.adAccountId;
  const appLink = appLinkOf(
    deepLink({ platform: 'meta', market: 'SE', artistId: 'a01', templateId: 'spotlight' }),
  );
  const creative = await graph(sandbox, 'POST', `${account}/adcreatives`, {
    name: o.message,
    object_story_spec: {
      page_id: sandbox.credentials.pageId,
      link_data: {
        image_hash: o.hash,
        link: o.storeUrl,
        message: o.message,
        name: o.headline ?? 'Listen now',
        call_to_action: {
          type: 'INSTALL_MOBILE_APP',
          value: { link: o.storeUrl, app_link: appLink },
        },
      },
    },
  });
  assert.equal(creative.status, 200, JSON.stringify(creative.body));
  const ad = await graph(sandbox, 'POST', `${account}/ads`, {
    name: o.message,
    adset_id: o.adsetId,
    creative: { creative_id: creative.body.id },
  });
  assert.equal(ad.status, 200, JSON.stringify(ad.body));
  return ad.body.id!;
}

async function adFields(sandbox: Sandbox, adId: string) {
  return (
    await graph(sandbox, 'GET', adId, {
      fields: 'status,effective_status,ad_review_feedback',
    })
  ).body as {
    status: string;
    effective_status: string;
    ad_review_feedback?: { global: Record<string, string> };
  };
}

describe('sandbox Graph API: ad review, ad limits, usage and lost responses', () => {
  let sandbox: Sandbox;
  const account = () => sandbox.credentials.adAccountId;

  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    // Only the test about the seeded share of rejections turns it on: the others need approvals.
    sandbox.meta.review.rejectionRate = 0;
  });
  after(async () => sandbox?.close());

  it('disapproves an ad whose text holds a banned term, saying which', async () => {
    const { adsetId, hash, storeUrl } = await adSetWithImage(sandbox);
    const banned = await adWithText(sandbox, {
      adsetId,
      hash,
      storeUrl,
      message: 'New music every day',
      headline: 'GUARANTEED to love it',
    });
    const fine = await adWithText(sandbox, {
      adsetId,
      hash,
      storeUrl,
      message: 'New music every day',
    });
    const ad = await adFields(sandbox, banned);
    assert.equal(ad.status, 'ACTIVE', 'the configured status stays as set');
    assert.equal(ad.effective_status, 'DISAPPROVED');
    const [[policy, reason]] = Object.entries(ad.ad_review_feedback!.global) as [[string, string]];
    assert.ok(policy.length > 0);
    assert.match(reason, /"guaranteed"/);
    const ok = await adFields(sandbox, fine);
    assert.equal(ok.effective_status, 'ACTIVE');
    assert.equal(ok.ad_review_feedback, undefined);

    // Readable on list edges too, and filterable by effective status.
    for (const edge of [`${adsetId}/ads`, `${account()}/ads`]) {
      const rows = (await graph(sandbox, 'GET', edge, { fields: 'ad_review_feedback' })).body.data!;
      const row = rows.find((r) => r.id === banned)!;
      assert.deepEqual(row.ad_review_feedback, ad.ad_review_feedback, edge);
    }
    const disapproved = await graph(sandbox, 'GET', `${adsetId}/ads`, {
      effective_status: ['DISAPPROVED'],
    });
    assert.deepEqual(
      disapproved.body.data!.map((r) => r.id),
      [banned],
    );
    // Pausing and resuming does not review again.
    await graph(sandbox, 'POST', banned, { status: 'PAUSED' });
    await graph(sandbox, 'POST', banned, { status: 'ACTIVE' });
    assert.equal((await adFields(sandbox, banned)).effective_status, 'DISAPPROVED');
  });

  it('rejects a seeded share of contents, judging the same content alike every time', async () => {
    const { adsetId, hash, storeUrl } = await adSetWithImage(sandbox);
    sandbox.meta.review.rejectionRate = 0.5;
    try {
      const verdicts: string[] = [];
      for (let i = 0; i < 16; i++) {
        const first = await adWithText(sandbox, { adsetId, hash, storeUrl, message: `Song ${i}` });
        const again = await adWithText(sandbox, { adsetId, hash, storeUrl, message: `Song ${i}` });
        const [a, b] = [await adFields(sandbox, first), await adFields(sandbox, again)];
        assert.equal(a.effective_status, b.effective_status, 'same content, same verdict');
        assert.deepEqual(a.ad_review_feedback, b.ad_review_feedback);
        if (a.effective_status === 'DISAPPROVED') {
          const reasons = Object.values(a.ad_review_feedback!.global);
          assert.ok(reasons.length === 1 && reasons[0]!.length > 10, 'a reason is given');
        }
        verdicts.push(a.effective_status);
      }
      assert.ok(
        verdicts.includes('DISAPPROVED') && verdicts.includes('ACTIVE'),
        verdicts.join(', '),
      );
      sandbox.meta.review.rejectionRate = 1;
      const rejected = await adWithText(sandbox, {
        adsetId,
        hash,
        storeUrl,
        message: 'Fresh content',
      });
      assert.equal((await adFields(sandbox, rejected)).effective_status, 'DISAPPROVED');
    } finally {
      sandbox.meta.review.rejectionRate = 0;
    }
  });

  it('holds a new ad in PENDING_REVIEW for delaySeconds', async () => {
    const { adsetId, hash, storeUrl } = await adSetWithImage(sandbox);
    sandbox.meta.review.delaySeconds = 0.4;
    try {
      const adId = await adWithText(sandbox, { adsetId, hash, storeUrl, message: 'Wait for it' });
      const pending = await adFields(sandbox, adId);
      assert.equal(pending.effective_status, 'PENDING_REVIEW');
      assert.equal(pending.status, 'ACTIVE');
      const rows = (
        await graph(sandbox, 'GET', `${adId}/insights`, {
          time_range: { since: '2026-03-01', until: '2026-03-01' },
        })
      ).body.data!;
      assert.deepEqual(rows, [], 'no delivery while in review');
      await new Promise((r) => setTimeout(r, 450));
      assert.equal((await adFields(sandbox, adId)).effective_status, 'ACTIVE');
    } finally {
      sandbox.meta.review.delaySeconds = 0;
    }
  });

  it('delivers nothing for a disapproved ad', async () => {
    const { adsetId, hash, storeUrl } = await adSetWithImage(sandbox);
    const rejected = await adWithText(sandbox, {
      adsetId,
      hash,
      storeUrl,
      message: '100% FREE music',
    });
    const approved = await adWithText(sandbox, {
      adsetId,
      hash,
      storeUrl,
      message: 'Music for you',
    });
    const rows = (
      await graph(sandbox, 'GET', `${adsetId}/insights`, {
        level: 'ad',
        fields: 'ad_id,spend',
        time_range: { since: '2026-03-01', until: '2026-03-01' },
      })
    ).body.data!;
    assert.deepEqual(
      rows.map((r) => r.ad_id),
      [approved],
    );
    assert.ok(Number(rows[0]!.spend) > 0);
    assert.ok(!sandbox.meta.deliveriesOn('2026-03-01').some((d) => d.adId === rejected));
  });

  it("reports and counts usage on calls to the account's objects, not only act_ paths", async () => {
    const { adsetId, campaignId } = await adSetWithImage(sandbox);
    const id = account().slice('act_'.length);
    for (const [method, target] of [
      ['GET', adsetId],
      ['GET', `${adsetId}/ads`],
      ['GET', campaignId],
      ['POST', adsetId],
    ] as const) {
      const res = await graph(
        sandbox,
        method,
        target,
        method === 'POST' ? { name: 'renamed' } : {},
      );
      const usage = JSON.parse(res.headers.get('x-business-use-case-usage') ?? 'null') as Record<
        string,
        unknown[]
      > | null;
      assert.ok(usage?.[id]?.length, `${method} /${target} reports the account's usage`);
    }
    const missing = await graph(sandbox, 'GET', '999999999');
    assert.equal(missing.headers.get('x-business-use-case-usage'), null, "not the account's");

    sandbox.meta.faults.hourlyCallLimit = 1;
    try {
      const res = await graph(sandbox, 'GET', adsetId);
      assert.equal(res.body.error?.code, 80004, 'object calls count towards the throttle');
    } finally {
      sandbox.meta.faults.hourlyCallLimit = 100_000;
    }
  });

  it(`holds at most ${MAX_ADS_PER_ADSET} ads that are not archived in an ad set`, async () => {
    const { adsetId, hash, storeUrl } = await adSetWithImage(sandbox);
    const first = await adWithText(sandbox, { adsetId, hash, storeUrl, message: 'Ad 0' });
    const creativeId = (
      (await graph(sandbox, 'GET', first, { fields: 'creative' })).body.creative as { id: string }
    ).id;
    const batch = Array.from({ length: MAX_ADS_PER_ADSET }, (_, i) => ({
      method: 'POST',
      relative_url: `v24.0/${account()}/ads`,
      body: new URLSearchParams({
        name: `Ad ${i + 1}`,
        adset_id: adsetId,
        creative: JSON.stringify({ creative_id: creativeId }),
      }).toString(),
    }));
    const answers = (await graph(sandbox, 'POST', '', { batch })).body as unknown as Array<{
      code: number;
      body: string;
    }>;
    assert.deepEqual(
      answers.map((a) => a.code),
      [...Array<number>(MAX_ADS_PER_ADSET - 1).fill(200), 400],
      'the 51st ad of the set is refused',
    );
    const error = (JSON.parse(answers.at(-1)!.body) as GraphAnswer['body']).error!;
    assert.equal(error.code, 100);
    assert.equal(error.error_subcode, 1885183);
    assert.equal(
      error.message,
      'The ad set has reached the maximum of 50 ads that are not archived',
    );

    const create = () =>
      graph(sandbox, 'POST', `${account()}/ads`, {
        name: 'one more',
        adset_id: adsetId,
        creative: { creative_id: creativeId },
      });
    assert.equal((await create()).status, 400);
    assert.equal((await graph(sandbox, 'POST', first, { status: 'ARCHIVED' })).status, 200);
    assert.equal((await adFields(sandbox, first)).effective_status, 'ARCHIVED');
    const made = await create();
    assert.equal(made.status, 200, 'archiving made room');
    const back = await graph(sandbox, 'POST', first, { status: 'PAUSED' });
    assert.equal(back.status, 400, 'an archived ad cannot come back into a full ad set');
    assert.equal(back.body.error?.error_subcode, 1885183);
    assert.equal((await adFields(sandbox, first)).status, 'ARCHIVED');
    assert.ok(
      !sandbox.meta.deliveriesOn('2026-03-01').some((d) => d.adId === first),
      'archived ads deliver nothing',
    );
  });

  it('loses the response of a write after carrying it out', async () => {
    sandbox.meta.faults.lostResponseRate = 1;
    const lostBefore = sandbox.meta.requests.filter((r) => r.lost).length;
    try {
      const read = await graph(sandbox, 'GET', `${account()}/campaigns`);
      assert.equal(read.status, 200, 'reads are answered');
      await assert.rejects(
        graph(sandbox, 'POST', `${account()}/campaigns`, {
          name: 'lost-in-transit',
          objective: 'OUTCOME_APP_PROMOTION',
          special_ad_categories: [],
        }),
        TypeError,
        'the client sees the connection drop',
      );
      const refused = await graph(sandbox, 'POST', `${account()}/campaigns`, { name: 'x' });
      assert.equal(refused.status, 400, 'failed writes are still answered');
    } finally {
      sandbox.meta.faults.lostResponseRate = 0;
    }
    const found = await graph(sandbox, 'GET', `${account()}/campaigns`, {
      fields: 'name',
      filtering: [{ field: 'name', operator: 'EQUAL', value: 'lost-in-transit' }],
    });
    assert.equal(found.body.data!.length, 1, 'the write happened exactly once');
    const lost = sandbox.meta.requests.filter((r) => r.lost);
    assert.equal(lost.length - lostBefore, 1);
    assert.equal(lost.at(-1)!.status, 0);
  });

  it('restricts delivery to the targeted OS (targeting.user_os)', async () => {
    const { adsetId, hash, storeUrl } = await adSetWithImage(sandbox, 'android');
    const adId = await adWithText(sandbox, { adsetId, hash, storeUrl, message: 'Android only' });
    const day = sandbox.meta.deliveriesOn('2026-03-01').find((d) => d.adId === adId)!.delivery;
    assert.ok(day.impressions > 0 && day.installs > 0);
    assert.deepEqual(day.byOs.ios, { installs: 0, registrations: 0, subscriptions: 0 });
    assert.equal(day.byOs.android.installs, day.installs);
    // Everything else as Meta accepts it: only the OS is wrong.
    const bad = await graph(sandbox, 'POST', `${account()}/adsets`, {
      name: 'bad os',
      campaign_id: (await adSetWithImage(sandbox)).campaignId,
      daily_budget: 10_000,
      billing_event: 'IMPRESSIONS',
      optimization_goal: 'APP_INSTALLS',
      promoted_object: appInstallOf(sandbox, 'android').promoted_object,
      targeting: { geo_locations: { countries: ['SE'] }, user_os: ['Windows'] },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error!.message, /targeting\[user_os\]: Windows is not a valid OS/);
  });

  it('changes the review through the control endpoint, naming a bad field', async () => {
    const post = (body: unknown) =>
      fetch(`${sandbox.metaUrl}/__sandbox/review`, {
        method: 'POST',
        headers: sandbox.controlHeaders(),
        body: JSON.stringify(body),
      });
    const ok = await post({ meta: { delaySeconds: 5 }, bannedTerms: ['free'] });
    assert.equal(ok.status, 200);
    assert.equal(sandbox.meta.review.delaySeconds, 5);
    assert.equal(sandbox.tiktok.review.delaySeconds, 0, 'only Meta was named');
    assert.deepEqual(sandbox.tiktok.review.bannedTerms, ['free'], 'top-level fields go to both');
    assert.equal(sandbox.meta.review.rejectionRate, 0, 'fields not given stay');
    const bad = await post({ tiktok: { rejectionRate: 2 } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /tiktok\.rejectionRate/);
    Object.assign(sandbox.meta.review, sandbox.world.review, { rejectionRate: 0 });
    Object.assign(sandbox.tiktok.review, sandbox.world.review);
  });
});

describe('sandbox Graph API: review decisions persist', () => {
  it('keeps disapprovals and pending reviews across a restart', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-graph-'));
    try {
      const first = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01', stateDir });
      let rejected: string;
      let pending: string;
      try {
        const { adsetId, hash, storeUrl } = await adSetWithImage(first);
        rejected = await adWithText(first, {
          adsetId,
          hash,
          storeUrl,
          message: 'Risk-free listening',
        });
        first.meta.review.delaySeconds = 60;
        pending = await adWithText(first, { adsetId, hash, storeUrl, message: 'Good music' });
      } finally {
        await first.close();
      }
      const second = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01', stateDir });
      try {
        const r = await adFields(second, rejected);
        assert.equal(r.effective_status, 'DISAPPROVED');
        assert.match(Object.values(r.ad_review_feedback!.global)[0]!, /risk-free/);
        assert.equal((await adFields(second, pending)).effective_status, 'PENDING_REVIEW');
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
