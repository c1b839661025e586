// The sandbox Graph API through the official SDK, changed only in base URL: shapes, paging,
// errors and token checks as Meta sends them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PlatformError } from '../../platforms/errors.ts';
import { createMetaAds, type MetaAds } from '../../platforms/meta/meta-ads.ts';
import { deepLink } from '../../core/tracking.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

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
    adsetId = await meta.createAdSet({
      name: 'adloop/SE/default',
      campaignId,
      country: 'SE',
      dailyBudget: 20_000,
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
      link,
      message: 'm',
      headline: 'h',
    });
    for (let i = 0; i < 30; i++) {
      created.push(await meta.createAd({ name: `ad-${i}`, adsetId, creativeId }));
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
