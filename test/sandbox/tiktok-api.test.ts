// The sandbox TikTok Business API through the official SDK, changed only in base path: uploads,
// objects, paging, reports, token checks, parameter errors, quotas and outages as TikTok has them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import * as tiktok from 'tiktok-business-api-sdk-official';
import type { TikTokEnvelope } from 'tiktok-business-api-sdk-official';
import { deepLink } from '../../core/tracking.ts';
import { PlatformError } from '../../platforms/errors.ts';
import { locationIdOf } from '../../platforms/tiktok/locations.ts';
import { createTikTokAds, type TikTokAds } from '../../platforms/tiktok/tiktok-ads.ts';
import type { SimAd } from '../../sandbox/contracts.ts';
import { Simulator } from '../../sandbox/simulator.ts';
import {
  createTikTokSandbox,
  listenTikTokSandbox,
  type TikTokSandbox,
} from '../../sandbox/tiktok/tiktok-server.ts';
import { loadWorld, type World } from '../../sandbox/world.ts';
import { outcomeShares } from '../helpers/faults.ts';
import { mp4 } from '../helpers/media.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

/** Quotas high enough that only the rate-limit test meets them. */
const NO_LIMITS = { perSecond: 100_000, perMinute: 1_000_000, adCreatePerSecond: 100_000 };
const FAST = { perSecond: 100_000, burst: 100_000 };

const png = (width: number, height: number, r: number) =>
  sharp({ create: { width, height, channels: 3, background: { r, g: 40, b: 90 } } })
    .png()
    .toBuffer();

function isTikTokError(kind: PlatformError['kind'], code: number | null, field?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof PlatformError, `a PlatformError, got ${String(e)}`);
    assert.equal(e.platform, 'tiktok');
    assert.equal(e.kind, kind, e.message);
    assert.equal(e.code, code, e.message);
    if (field) assert.match(e.message, field);
    return true;
  };
}

describe('sandbox TikTok Business API', () => {
  let world: World;
  let simulator: Simulator;
  let date = '2026-03-01';
  const clock = { today: () => date };
  let sandbox: TikTokSandbox;
  let url: string;
  let close: () => Promise<void>;
  let client: TikTokAds;
  let campaignId: string;
  let adGroupId: string;
  let squareImage: string;
  let tallImage: string;
  let videoId: string;
  const created: string[] = [];
  const links = new Map<string, string>();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-tiktok-'));

  const clientFor = (o: Partial<Parameters<typeof createTikTokAds>[0]> = {}) =>
    createTikTokAds({
      baseUrl: url,
      accessToken: world.tiktok.accessToken,
      advertiserId: world.tiktok.advertiserId,
      rateLimit: FAST,
      adCreateRateLimit: FAST,
      pageSize: 7,
      ...o,
    });

  before(async () => {
    world = loadWorld(DEMO_WORLD);
    simulator = new Simulator(world);
    sandbox = createTikTokSandbox({ world, simulator, clock, limits: NO_LIMITS });
    ({ url, close } = await listenTikTokSandbox(sandbox));
    client = clientFor();
  });
  after(async () => {
    await close?.();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('uploads images and videos as multipart with MD5 signatures', async () => {
    const square = await png(100, 100, 200);
    const image = await client.uploadImage(square, 'square.png');
    assert.match(image.imageId, /^ad-site-i18n-sg\/[0-9a-f]{32}$/);
    assert.deepEqual([image.width, image.height], [100, 100]);
    assert.equal(
      (await client.uploadImage(square, 'again.png')).imageId,
      image.imageId,
      'same bytes, same image',
    );
    squareImage = image.imageId;
    const tall = await client.uploadImage(await png(90, 160, 10), 'tall.png');
    assert.deepEqual([tall.width, tall.height], [90, 160]);
    assert.notEqual(tall.imageId, squareImage);
    tallImage = tall.imageId;

    const video = await client.uploadVideo(mp4(1080, 1920), 'clip.mp4');
    assert.match(video.videoId, /^v10033g50000[0-9a-f]{20}$/);
    assert.deepEqual([video.width, video.height], [1080, 1920], 'size read from the tkhd box');
    videoId = video.videoId;

    await assert.rejects(
      client.uploadVideo(Buffer.from('not a video at all'), 'x.mp4'),
      isTikTokError('invalid', 40002, /video_file/),
    );
    // A wrong signature, sent through the SDK directly (the client always signs correctly).
    const api = new tiktok.FileApi(Object.assign(new tiktok.ApiClient(), { basePath: url }));
    const envelope = await new Promise<TikTokEnvelope | null>((resolve) =>
      api.adImageUpload(
        world.tiktok.accessToken,
        {
          advertiser_id: world.tiktok.advertiserId,
          image_file: square,
          image_signature: '0'.repeat(32),
        },
        (_err, data) => resolve(data),
      ),
    );
    assert.equal(envelope?.code, 40002);
    assert.match(String(envelope?.message), /^image_signature: /);
  });

  it('creates a campaign, an ad group in a market by location id, and ads', async () => {
    campaignId = await client.createCampaign({ name: 'adloop/SE' });
    assert.match(campaignId, /^\d{19}$/, 'TikTok ids are 19-digit strings');
    adGroupId = await client.createAdGroup({
      name: 'adloop/SE/default',
      campaignId,
      country: 'SE',
      dailyBudget: 20_000,
    });
    assert.deepEqual(await client.getAdGroup(adGroupId), {
      id: adGroupId,
      name: 'adloop/SE/default',
      campaignId,
      country: 'SE',
      dailyBudget: 20_000,
      status: 'ENABLE',
    });
    const raw = sandbox.store.get(adGroupId, 'adgroup');
    assert.deepEqual(raw?.fields.location_ids, ['2661886'], 'Sweden is GeoNames 2661886');
    assert.equal(raw?.fields.budget, 200, 'budget travels in major units');

    const artists = ['a01', 'a02', 'a03'];
    const templates = ['spotlight', 'lyrics'];
    for (let i = 0; i < 30; i++) {
      const link = deepLink({
        platform: 'tiktok',
        market: 'SE',
        artistId: artists[i % 3]!,
        templateId: templates[i % 2]!,
      });
      const media = i % 3 === 0 ? { videoId } : { imageId: i % 3 === 1 ? tallImage : squareImage };
      const id = await client.createAd({
        name: `ad-${i}`,
        adGroupId,
        landingPageUrl: link,
        text: `Listen to ${artists[i % 3]!}`,
        ...media,
      });
      created.push(id);
      links.set(id, link);
    }
    assert.equal(new Set(created).size, 30);
    assert.deepEqual(await client.findByName('campaign', 'adloop/SE'), {
      id: campaignId,
      status: 'ENABLE',
    });
    assert.deepEqual(await client.findByName('adgroup', 'adloop/SE/default'), {
      id: adGroupId,
      status: 'ENABLE',
    });
    // The server's name filter is fuzzy (ad-3 matches ad-3, ad-30…); the client keeps the exact one.
    assert.deepEqual(await client.findByName('ad', 'ad-3'), { id: created[3], status: 'ENABLE' });
    assert.equal(await client.findByName('campaign', 'adloop'), null);
  });

  it('pages ad/get with page and page_size, reporting page_info', async () => {
    const before = sandbox.requests.filter((r) => r.path.endsWith('/ad/get/')).length;
    const ads = await client.listAds(adGroupId);
    assert.deepEqual(
      ads.map((a) => a.id),
      created,
    );
    assert.equal(
      sandbox.requests.filter((r) => r.path.endsWith('/ad/get/')).length - before,
      5,
      '30 ads at 7 a page: 5 pages',
    );
    const api = new tiktok.AdApi(Object.assign(new tiktok.ApiClient(), { basePath: url }));
    const page = await new Promise<{
      list: Array<Record<string, unknown>>;
      page_info: Record<string, number>;
    }>((resolve, reject) =>
      api.adGet(
        world.tiktok.advertiserId,
        world.tiktok.accessToken,
        { filtering: { adgroup_ids: [adGroupId] }, page: 5, page_size: 7 },
        (err, data) =>
          err ? reject(new Error('ad/get failed', { cause: err })) : resolve(data?.data as never),
      ),
    );
    assert.deepEqual(page.page_info, { page: 5, page_size: 7, total_number: 30, total_page: 5 });
    assert.deepEqual(
      page.list.map((a) => a.ad_id),
      created.slice(28),
    );
    assert.equal(page.list[0]!.landing_page_url, links.get(created[28]!));
  });

  it('disables and deletes ads, and reports their secondary status', async () => {
    await client.setAdStatus(created[0]!, 'DISABLE');
    await client.setAdStatus(created[29]!, 'DELETE');
    const ads = await client.listAds(adGroupId);
    assert.equal(ads.length, 29, 'deleted ads are not listed');
    assert.equal(ads[0]!.status, 'DISABLE');
    assert.equal(ads[0]!.effectiveStatus, 'AD_STATUS_DISABLE');
    assert.equal(ads[1]!.effectiveStatus, 'AD_STATUS_DELIVERY_OK');
    await assert.rejects(
      client.setAdStatus(created[29]!, 'ENABLE'),
      isTikTokError('invalid', 40002, /ad_ids/),
    );
  });

  it('reports daily rows per ad only for days that ran, up to today', async () => {
    date = '2026-03-02';
    const rows = await client.insights({ since: '2026-02-28', until: '2026-03-05', adGroupId });
    assert.deepEqual(
      [...new Set(rows.map((r) => r.date))].sort(),
      ['2026-03-01', '2026-03-02'],
      'nothing before creation, nothing after today',
    );
    assert.ok(!rows.some((r) => r.adId === created[0]), 'disabled on 03-01: no delivery');
    assert.ok(!rows.some((r) => r.adId === created[29]), 'deleted on 03-01: no delivery');
    assert.equal(rows.filter((r) => r.date === '2026-03-02').length, 28);
    for (const day of ['2026-03-01', '2026-03-02']) {
      const spend = rows.filter((r) => r.date === day).reduce((s, r) => s + r.spendMicros, 0);
      assert.ok(Math.abs(spend - 200_000_000) < 1_000_000, `${day}: the budget is spent: ${spend}`);
    }
    assert.ok(rows.some((r) => r.installs > 0 && r.registrations > 0));
    assert.ok(
      rows.every(
        (r) =>
          r.clicks <= r.impressions &&
          r.installs <= r.clicks &&
          r.registrations <= r.installs &&
          r.subscriptions <= r.registrations &&
          r.adGroupId === adGroupId &&
          r.adName === `ad-${created.indexOf(r.adId)}`,
      ),
    );
    assert.deepEqual(
      await client.insights({ since: '2026-03-01', until: '2026-03-02', adGroupId }),
      rows,
      'deterministic',
    );
    assert.deepEqual(await client.insights({ since: '2026-03-03', until: '2026-03-09' }), []);
  });

  it('delivers what the simulator decides for the ads as built, and logs it for the MMPs', () => {
    const day = '2026-03-02';
    const live = created.slice(1, 29);
    const expected = simulator.deliverAdSet(
      20_000,
      live.map((id, i): SimAd => {
        const n = i + 1;
        return {
          id,
          platform: 'tiktok',
          market: 'SE',
          artistId: ['a01', 'a02', 'a03'][n % 3]!,
          templateId: ['spotlight', 'lyrics'][n % 2]!,
          aspectRatio: n % 3 === 2 ? '1:1' : '9:16',
          createdDate: '2026-03-01',
        };
      }),
      day,
      adGroupId,
    );
    const log = sandbox.deliveriesOn(day);
    assert.deepEqual(
      log.map((d) => d.delivery),
      expected,
    );
    assert.deepEqual(
      {
        ...log[0],
        delivery: undefined,
      },
      {
        platform: 'tiktok',
        market: 'SE',
        campaignId,
        campaignName: 'adloop/SE',
        adGroupId,
        adGroupName: 'adloop/SE/default',
        adId: created[1],
        adName: 'ad-1',
        delivery: undefined,
      },
    );
    assert.deepEqual(sandbox.deliveriesOn('2026-03-03'), [], 'nothing after today');
  });

  it('matches the report to the delivery log', async () => {
    const day = '2026-03-02';
    const rows = await client.insights({ since: day, until: day });
    const log = sandbox.deliveriesOn(day);
    assert.deepEqual(
      rows.map((r) => [r.adId, r.impressions, r.clicks, r.spendMicros, r.installs]),
      log.map((d) => [
        d.adId,
        d.delivery.impressions,
        d.delivery.clicks,
        d.delivery.spendMinor * 10_000,
        d.delivery.installs,
      ]),
    );
  });

  it('aggregates at ad group level with totals, through the SDK', async () => {
    const api = new tiktok.ReportingApi(Object.assign(new tiktok.ApiClient(), { basePath: url }));
    const report = (opts: Record<string, unknown>) =>
      new Promise<TikTokEnvelope | null>((resolve) =>
        api.reportIntegratedGet(
          'BASIC',
          world.tiktok.accessToken,
          {
            advertiser_id: world.tiktok.advertiserId,
            start_date: '2026-03-01',
            end_date: '2026-03-02',
            ...opts,
          },
          (_err, data) => resolve(data),
        ),
      );
    const res = await report({
      data_level: 'AUCTION_ADGROUP',
      dimensions: ['adgroup_id'],
      metrics: ['spend', 'impressions', 'ctr', 'adgroup_name', 'total_registration'],
      enable_total_metrics: true,
    });
    const data = res?.data as {
      list: Array<{ dimensions: Record<string, string>; metrics: Record<string, string> }>;
      total_metrics: Record<string, string>;
    };
    assert.equal(data.list.length, 1);
    assert.deepEqual(data.list[0]!.dimensions, { adgroup_id: adGroupId });
    assert.equal(data.list[0]!.metrics.adgroup_name, 'adloop/SE/default');
    assert.match(data.list[0]!.metrics.spend!, /^\d+\.\d{2}$/);
    assert.ok(Math.abs(Number(data.list[0]!.metrics.spend) - 400) < 1, 'two days of $200');
    assert.equal(data.total_metrics.impressions, data.list[0]!.metrics.impressions);

    const bad = await report({
      data_level: 'AUCTION_AD',
      dimensions: ['ad_id'],
      metrics: ['spend', 'installs'],
    });
    assert.equal(bad?.code, 40002);
    assert.match(String(bad?.message), /^metrics: installs/);
  });

  it('rejects a wrong or missing token and a foreign advertiser as auth errors', async () => {
    await assert.rejects(
      clientFor({ accessToken: 'wrong-token-123' }).listAds(adGroupId),
      (e: unknown) => {
        isTikTokError('auth', 40105)(e);
        assert.doesNotMatch((e as Error).message, /wrong-token-123/);
        return true;
      },
    );
    await assert.rejects(
      clientFor({ accessToken: '' }).listAds(adGroupId),
      isTikTokError('auth', 40104),
    );
    await assert.rejects(
      clientFor({ advertiserId: '7000000000000000999' }).listAds(adGroupId),
      isTikTokError('auth', 40001),
    );
    const res = await fetch(`${url}/open_api/v1.3/ad/get/?advertiser_id=1`);
    assert.equal(res.status, 200, 'errors come with HTTP 200');
    const body = (await res.json()) as TikTokEnvelope;
    assert.equal(body.code, 40104);
    assert.match(String(body.request_id), /^\d{14}[0-9A-F]+$/);
    assert.deepEqual(body.data, {});
  });

  it('rejects bad parameters with code 40002, naming the field', async () => {
    await assert.rejects(
      client.createAd({
        name: 'x',
        adGroupId: '999',
        imageId: squareImage,
        landingPageUrl: 'https://listen.adloop.example/artist/a01',
        text: 't',
      }),
      isTikTokError('invalid', 40002, /adgroup_id/),
    );
    await assert.rejects(
      client.createAd({
        name: 'x',
        adGroupId,
        imageId: 'ad-site-i18n-sg/nope',
        landingPageUrl: 'https://listen.adloop.example/artist/a01',
        text: 't',
      }),
      isTikTokError('invalid', 40002, /creatives\[0\]\.image_ids/),
    );
    await assert.rejects(
      client.createAdGroup({ name: 'cheap', campaignId, country: 'DE', dailyBudget: 500 }),
      isTikTokError('invalid', 40002, /budget/),
    );
    await assert.rejects(
      client.createAdGroup({ name: 'nowhere', campaignId, country: 'XX', dailyBudget: 5000 }),
      isTikTokError('invalid', null, /XX/),
    );
  });

  it('caps an ad group at 50 ads', async () => {
    const groupId = await client.createAdGroup({
      name: 'adloop/DE/full',
      campaignId,
      country: 'DE',
      dailyBudget: 5_000,
    });
    assert.equal(String(sandbox.store.get(groupId)?.fields.location_ids), locationIdOf('DE'));
    for (let i = 0; i < 50; i++)
      await client.createAd({
        name: `full-${i}`,
        adGroupId: groupId,
        videoId,
        landingPageUrl: 'https://listen.adloop.example/artist/a02',
        text: 't',
      });
    await assert.rejects(
      client.createAd({
        name: 'one too many',
        adGroupId: groupId,
        videoId,
        landingPageUrl: 'https://listen.adloop.example/artist/a02',
        text: 't',
      }),
      isTikTokError('invalid', 40002, /creatives.*at most 50/),
    );
  });

  it('answers 40100 over the quota, and the paced client stays under it', async () => {
    sandbox.limits.perSecond = 6;
    try {
      const unpaced = clientFor({ rateLimit: null });
      const burst = await Promise.allSettled(
        Array.from({ length: 12 }, () => unpaced.findByName('campaign', 'adloop/SE')),
      );
      const refused = burst.filter((r) => r.status === 'rejected');
      assert.ok(refused.length >= 6, `at most 6 of 12 get through: ${refused.length} refused`);
      for (const r of refused) {
        isTikTokError('throttled', 40100)(r.reason);
        assert.ok((r.reason as PlatformError).retryable);
      }
      await new Promise((resolve) => setTimeout(resolve, 1100));
      // burst + perSecond * 1s = 5 < 6: no window of one second ever holds more than the quota.
      const paced = clientFor({ rateLimit: { perSecond: 3, burst: 2 } });
      const started = performance.now();
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => paced.findByName('campaign', 'adloop/SE')),
      );
      assert.deepEqual(
        results.filter((r) => r.status === 'rejected').map((r) => String(r.reason)),
        [],
      );
      assert.ok(performance.now() - started >= 2400, 'ten calls at 3/s after a burst of 2');
    } finally {
      sandbox.limits.perSecond = NO_LIMITS.perSecond;
    }
  });

  it('fails transiently while the platform or its reporting is down', async () => {
    sandbox.faults.down = true;
    try {
      await assert.rejects(client.listAds(adGroupId), (e: unknown) => {
        isTikTokError('transient', 50002)(e);
        assert.equal((e as PlatformError).httpStatus, 503);
        return (e as PlatformError).retryable;
      });
    } finally {
      sandbox.faults.down = false;
    }
    sandbox.faults.reportDown = true;
    try {
      await assert.rejects(
        client.insights({ since: '2026-03-01', until: '2026-03-01' }),
        isTikTokError('transient', 50000),
      );
      assert.equal((await client.listAds(adGroupId)).length, 29, 'the rest still works');
    } finally {
      sandbox.faults.reportDown = false;
    }
  });

  it('injects the world’s fault rates and down dates, deterministically', async () => {
    sandbox.faults.errorRate = 0.3;
    sandbox.faults.throttleRate = 0.2;
    try {
      const share = await outcomeShares(() => client.findByName('campaign', 'nothing'));
      assert.ok(
        share('transient') > 0.1 && share('transient') < 0.5,
        `5xx share ${share('transient')}`,
      );
      assert.ok(
        share('throttled') > 0.05 && share('throttled') < 0.4,
        `40100 share ${share('throttled')}`,
      );
    } finally {
      sandbox.faults.errorRate = 0;
      sandbox.faults.throttleRate = 0;
    }
    sandbox.faults.downDates = [clock.today()];
    try {
      await assert.rejects(client.listAds(adGroupId), isTikTokError('transient', 50002));
    } finally {
      sandbox.faults.downDates = [];
    }
  });

  it('fails transiently when the network does', async () => {
    const dead = createTikTokAds({
      baseUrl: 'http://127.0.0.1:9',
      accessToken: world.tiktok.accessToken,
      advertiserId: world.tiktok.advertiserId,
    });
    await assert.rejects(dead.listAds(adGroupId), isTikTokError('transient', null));
  });

  it('persists its state to a file and reads it back', async () => {
    const statePath = path.join(tmp, 'tiktok.json');
    const first = createTikTokSandbox({ world, simulator, clock, statePath, limits: NO_LIMITS });
    const a = await listenTikTokSandbox(first);
    const id = await clientFor({ baseUrl: a.url }).createCampaign({ name: 'kept' });
    await a.close();
    const second = createTikTokSandbox({ world, simulator, clock, statePath, limits: NO_LIMITS });
    const b = await listenTikTokSandbox(second);
    try {
      const again = clientFor({ baseUrl: b.url });
      assert.deepEqual(await again.findByName('campaign', 'kept'), { id, status: 'ENABLE' });
      assert.notEqual(await again.createCampaign({ name: 'next' }), id, 'ids keep counting');
    } finally {
      await b.close();
    }
  });
});
