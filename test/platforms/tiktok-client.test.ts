// The sandbox TikTok Business API through the official SDK, changed only in base path: uploads,
// objects, paging, reports, token checks, parameter errors, quotas and outages as TikTok has them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import * as tiktok from 'tiktok-business-api-sdk-official';
import type { TikTokEnvelope } from 'tiktok-business-api-sdk-official';
import { deepLink } from '../../core/tracking.ts';
import { writeOutcome } from '../../activities/deploy/audit.ts';
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
import { outcomeShares, waitFor } from '../helpers/faults.ts';
import { mp4 } from '../helpers/media.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

/** Quotas high enough that only the rate-limit test meets them. */
const NO_LIMITS = { perSecond: 100_000, perMinute: 1_000_000, adCreatePerSecond: 100_000 };
const FAST = { perSecond: 100_000, burst: 100_000 };
/** The demo world's custom identity (world.tiktok.identityId's default). */
const IDENTITY = { type: 'CUSTOMIZED_USER', id: '7300000000000000001' };

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
      // Each request once: the fault tests sample the server's answers.
      requestTries: 1,
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
      os: 'android',
      appId: world.tiktok.appIds.android,
    });
    assert.deepEqual(await client.getAdGroup(adGroupId), {
      id: adGroupId,
      name: 'adloop/SE/default',
      campaignId,
      country: 'SE',
      dailyBudget: 20_000,
      status: 'DISABLE',
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
      const media =
        i % 3 === 0
          ? { videoId, coverImageId: tallImage }
          : { imageId: i % 3 === 1 ? tallImage : squareImage };
      const id = await client.createAd({
        identity: IDENTITY,
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
    // Created paused, as adloop creates everything; switched on once complete.
    assert.equal((await client.findByName('campaign', 'adloop/SE'))?.status, 'DISABLE');
    await client.setAdStatuses(created, 'ENABLE');
    await client.setAdGroupStatus([adGroupId], 'ENABLE');
    await client.setCampaignStatus([campaignId], 'ENABLE');
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
      // An app-install ad group reaches one store's users: this one Android's.
      ['android'],
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
        identity: IDENTITY,
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
        identity: IDENTITY,
        name: 'x',
        adGroupId,
        imageId: 'ad-site-i18n-sg/nope',
        landingPageUrl: 'https://listen.adloop.example/artist/a01',
        text: 't',
      }),
      isTikTokError('invalid', 40002, /creatives\[0\]\.image_ids/),
    );
    await assert.rejects(
      client.createAdGroup({
        name: 'cheap',
        campaignId,
        country: 'DE',
        dailyBudget: 500,
        os: 'android',
        appId: world.tiktok.appIds.android,
      }),
      isTikTokError('invalid', 40002, /budget/),
    );
    await assert.rejects(
      client.createAdGroup({
        name: 'nowhere',
        campaignId,
        country: 'XX',
        dailyBudget: 5000,
        os: 'android',
        appId: world.tiktok.appIds.android,
      }),
      isTikTokError('invalid', null, /XX/),
    );
  });

  it('builds an ad group that optimises for registrations with the event the app reports', async () => {
    const groupId = await client.createAdGroup({
      name: 'adloop/DE/android/registrations',
      campaignId,
      country: 'DE',
      dailyBudget: 5_000,
      os: 'android',
      appId: world.tiktok.appIds.android,
      objective: 'registrations',
    });
    const group = sandbox.store.get(groupId)!.fields;
    assert.deepEqual(
      [group.optimization_goal, group.optimization_event],
      ['IN_APP_EVENT', 'ACTIVE_REGISTER'],
    );
  });

  it('caps an ad group at 50 ads', async () => {
    const groupId = await client.createAdGroup({
      name: 'adloop/DE/full',
      campaignId,
      country: 'DE',
      dailyBudget: 5_000,
      os: 'android',
      appId: world.tiktok.appIds.android,
    });
    assert.equal(String(sandbox.store.get(groupId)?.fields.location_ids), locationIdOf('DE'));
    for (let i = 0; i < 50; i++)
      await client.createAd({
        identity: IDENTITY,
        name: `full-${i}`,
        adGroupId: groupId,
        videoId,
        coverImageId: tallImage,
        landingPageUrl: 'https://listen.adloop.example/artist/a02',
        text: 't',
      });
    await assert.rejects(
      client.createAd({
        identity: IDENTITY,
        name: 'one too many',
        adGroupId: groupId,
        videoId,
        coverImageId: tallImage,
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

  it('sends an upload again after a 5xx (repeating it leaves nothing twice), never a create', async () => {
    const persistent = clientFor({ requestTries: 12 });
    const bytes = await png(12, 12, 7);
    const uploads = () => sandbox.requests.filter((r) => r.path.endsWith('/file/image/ad/upload/'));
    const creates = () => sandbox.requests.filter((r) => r.path.endsWith('/campaign/create/'));
    const uploadsBefore = uploads().length;
    sandbox.faults.errorRate = 0.5;
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 5; i++)
        ids.add((await persistent.uploadImage(bytes, 'retried.png')).imageId);
      assert.equal(ids.size, 1, 'the same bytes are the same image, however often sent');
      assert.ok(uploads().length - uploadsBefore > 5, 'some uploads were sent again');
      sandbox.faults.errorRate = 1;
      const createsBefore = creates().length;
      await assert.rejects(
        persistent.createCampaign({ name: 'not-twice' }),
        isTikTokError('transient', 50002),
      );
      assert.equal(
        creates().length - createsBefore,
        1,
        'a create that may have happened is not resent',
      );
    } finally {
      sandbox.faults.errorRate = 0;
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
      assert.deepEqual(await again.findByName('campaign', 'kept'), { id, status: 'DISABLE' });
      assert.notEqual(await again.createCampaign({ name: 'next' }), id, 'ids keep counting');
    } finally {
      await b.close();
    }
  });
});

describe('sandbox TikTok Business API: timeouts (faults.tiktok.timeoutRate)', () => {
  let world: World;
  const clock = { today: () => '2026-03-01' };
  let sandbox: TikTokSandbox;
  let url: string;
  let close: () => Promise<void>;
  const client = (timeoutMs?: number) =>
    createTikTokAds({
      baseUrl: url,
      accessToken: world.tiktok.accessToken,
      advertiserId: world.tiktok.advertiserId,
      rateLimit: FAST,
      adCreateRateLimit: FAST,
      requestTries: 1,
      ...(timeoutMs ? { timeoutMs } : {}),
    });
  const timedOut = () => sandbox.requests.filter((r) => r.timedOut);

  before(async () => {
    world = loadWorld(DEMO_WORLD);
    sandbox = createTikTokSandbox({
      world,
      simulator: new Simulator(world),
      clock,
      limits: NO_LIMITS,
    });
    ({ url, close } = await listenTikTokSandbox(sandbox));
  });
  after(async () => close?.());

  it('fails a call that gets no answer as a transient timeout, and never carries it out', async () => {
    const tiktokAds = client(150);
    const heldBefore = timedOut().length;
    sandbox.faults.timeoutRate = 1;
    sandbox.faults.hangMs = 600;
    try {
      const started = performance.now();
      const err = await tiktokAds.createCampaign({ name: 'timed-out' }).then(
        () => null,
        (e: unknown) => e,
      );
      const took = performance.now() - started;
      isTikTokError(
        'transient',
        null,
        /^tiktok transient error: request timed out after 150 ms$/,
      )(err);
      assert.equal((err as PlatformError).httpStatus, null);
      assert.equal(writeOutcome(err), 'lost', 'the audit records a timed-out write as lost');
      assert.ok(took >= 140 && took < 550, `failed after ${Math.round(took)} ms, not at hangMs`);
      await assert.rejects(
        tiktokAds.uploadImage(await png(10, 10, 1), 'held.png'),
        isTikTokError('transient', null, /timed out after 150 ms/),
      );
    } finally {
      sandbox.faults.timeoutRate = 0;
    }
    // The client gave up and closed its connection: the server logs each hold as it ends.
    await waitFor(() => timedOut().length - heldBefore === 2, 5000, 'two ended holds');
    assert.ok(timedOut().every((r) => r.status === 0 && !r.lost));
    await new Promise((r) => setTimeout(r, 700)); // past hangMs: nothing happens late either
    assert.equal(
      await client().findByName('campaign', 'timed-out'),
      null,
      'the held write was never carried out',
    );
    assert.equal(
      sandbox.store.list('image', world.tiktok.advertiserId).length,
      0,
      'nor the held upload',
    );
  });

  it('drops the connection after hangMs when the client waits longer', async () => {
    sandbox.faults.timeoutRate = 1;
    sandbox.faults.hangMs = 100;
    try {
      const started = performance.now();
      await assert.rejects(client(5_000).findByName('campaign', 'x'), (e: unknown) => {
        isTikTokError('transient', null)(e);
        assert.doesNotMatch((e as Error).message, /timed out/);
        return true;
      });
      const took = performance.now() - started;
      assert.ok(took >= 90 && took < 2_000, `dropped after ${Math.round(took)} ms`);
    } finally {
      sandbox.faults.timeoutRate = 0;
    }
  });

  it('times out about the configured share of calls, each logged once', async () => {
    // Far above an answered call's time, so only the held calls time out.
    const tiktokAds = client(250);
    const heldBefore = timedOut().length;
    sandbox.faults.timeoutRate = 0.3;
    sandbox.faults.hangMs = 1000;
    let share: (kind: string) => number;
    try {
      share = await outcomeShares(() => tiktokAds.findByName('campaign', 'x'), 40);
    } finally {
      sandbox.faults.timeoutRate = 0;
    }
    assert.ok(
      share('transient') > 0.1 && share('transient') < 0.5,
      `timeout share ${share('transient')}`,
    );
    assert.equal(share('ok') + share('transient'), 1, 'nothing but answers and timeouts');
    const expected = Math.round(share('transient') * 40);
    await waitFor(() => timedOut().length - heldBefore === expected, 5000, `${expected} holds`);
  });

  it('does not keep a closing server waiting on a held request', async () => {
    const other = createTikTokSandbox({
      world,
      simulator: new Simulator(world),
      clock,
      limits: NO_LIMITS,
    });
    other.faults.timeoutRate = 1;
    other.faults.hangMs = 600_000;
    const served = await listenTikTokSandbox(other);
    const outcome = fetch(`${served.url}/open_api/v1.3/campaign/get/`, {
      headers: { 'Access-Token': world.tiktok.accessToken },
    }).then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((r) => setTimeout(r, 200));
    const started = performance.now();
    await served.close();
    assert.ok(performance.now() - started < 2_000, 'closed at once');
    assert.equal(await outcome, 'dropped');
    // The hold ended with its connection (its timer cleared), not 10 minutes later.
    await waitFor(() => other.requests.some((r) => r.timedOut), 1_000, 'the hold to end');
  });
});

interface Envelope<T = Record<string, unknown>> {
  code: number;
  message: string;
  data: T;
}

/** Plain-HTTP calls to a TikTok sandbox, as the SDK sends them (JSON bodies, JSON query values). */
function tiktokHttp(world: World, base: () => string) {
  const headers = { 'Access-Token': world.tiktok.accessToken };
  const advertiser_id = world.tiktok.advertiserId;
  return {
    get: async <T = Record<string, unknown>>(endpoint: string, query: Record<string, unknown>) => {
      const q = new URLSearchParams({ advertiser_id });
      for (const [k, v] of Object.entries(query))
        q.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      const res = await fetch(`${base()}/open_api/v1.3/${endpoint}/?${q.toString()}`, { headers });
      return (await res.json()) as Envelope<T>;
    },
    post: async <T = Record<string, unknown>>(endpoint: string, body: Record<string, unknown>) => {
      const res = await fetch(`${base()}/open_api/v1.3/${endpoint}/`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ advertiser_id, ...body }),
      });
      return (await res.json()) as Envelope<T>;
    },
    uploadImage: async (bytes: Buffer) => {
      const form = new FormData();
      form.set('advertiser_id', advertiser_id);
      form.set('image_signature', createHash('md5').update(bytes).digest('hex'));
      form.set('image_file', new Blob([bytes], { type: 'image/png' }), 'img.png');
      const res = await fetch(`${base()}/open_api/v1.3/file/image/ad/upload/`, {
        method: 'POST',
        headers,
        body: form,
      });
      return ((await res.json()) as Envelope<{ image_id: string }>).data.image_id;
    },
  };
}

type ReviewMap = Record<
  string,
  {
    ad_id: string;
    review_status: string;
    reject_info: Array<{ reasons: string[]; suggestion: string }>;
  }
>;

describe('sandbox TikTok Business API: ad review, status updates and lost responses', () => {
  let world: World;
  let simulator: Simulator;
  const clock = { today: () => '2026-03-01' };
  let sandbox: TikTokSandbox;
  let url: string;
  let close: () => Promise<void>;
  let api: ReturnType<typeof tiktokHttp>;
  let imageId: string;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-tiktok-review-'));

  const sdkClient = () => Object.assign(new tiktok.ApiClient(), { basePath: url });
  /** One SDK call, resolved with the envelope (the SDK's callback style). */
  const sdk = (call: (cb: tiktok.TikTokCallback) => unknown) =>
    new Promise<TikTokEnvelope>((resolve) => {
      call((_err, data) => resolve(data ?? {}));
    });

  let groups = 0;
  /** A campaign and an ad group in Sweden; `extra` adds ad group fields. */
  async function adGroup(extra: Record<string, unknown> = {}) {
    const n = ++groups;
    const campaign = await api.post<{ campaign_id: string }>('campaign/create', {
      campaign_name: `review-${n}`,
      objective_type: 'APP_PROMOTION',
      app_promotion_type: 'APP_INSTALL',
      budget_mode: 'BUDGET_MODE_INFINITE',
    });
    const os = (extra.operating_systems as string[] | undefined)?.[0] ?? 'ANDROID';
    const group = await api.post<{ adgroup_id: string }>('adgroup/create', {
      campaign_id: campaign.data.campaign_id,
      adgroup_name: 'review/SE',
      promotion_type: os === 'IOS' ? 'APP_IOS' : 'APP_ANDROID',
      app_id: os === 'IOS' ? world.tiktok.appIds.ios : world.tiktok.appIds.android,
      operating_systems: [os],
      pacing: 'PACING_MODE_SMOOTH',
      placement_type: 'PLACEMENT_TYPE_AUTOMATIC',
      location_ids: [locationIdOf('SE')],
      budget_mode: 'BUDGET_MODE_DAY',
      budget: 100,
      schedule_type: 'SCHEDULE_FROM_NOW',
      schedule_start_time: '2026-03-01 00:00:00',
      optimization_goal: 'INSTALL',
      billing_event: 'OCPM',
      ...extra,
    });
    assert.equal(group.code, 0, group.message);
    return { campaignId: campaign.data.campaign_id, adGroupId: group.data.adgroup_id };
  }

  async function ad(adGroupId: string, text: string): Promise<string> {
    const res = await api.post<{ ad_ids: string[] }>('ad/create', {
      adgroup_id: adGroupId,
      creatives: [
        {
          ad_name: text,
          ad_text: text,
          identity_type: 'CUSTOMIZED_USER',
          identity_id: world.tiktok.identityId,
          ad_format: 'SINGLE_IMAGE',
          call_to_action: 'INSTALL_NOW',
          image_ids: [imageId],
          landing_page_url: deepLink({
            platform: 'tiktok',
            market: 'SE',
            artistId: 'a01',
            templateId: 'spotlight',
          }),
        },
      ],
    });
    assert.equal(res.code, 0, res.message);
    return res.data.ad_ids[0]!;
  }

  const secondary = async (adId: string) =>
    (
      await api.get<{ list: Array<{ secondary_status: string }> }>('ad/get', {
        filtering: { ad_ids: [adId] },
        fields: ['ad_id', 'secondary_status'],
      })
    ).data.list[0]!.secondary_status;

  const reviewOf = async (ids: string[], via = api) =>
    (await via.get<{ ad_review_map: ReviewMap }>('ad/review_info', { ad_ids: ids })).data
      .ad_review_map;

  before(async () => {
    world = loadWorld(DEMO_WORLD);
    simulator = new Simulator(world);
    sandbox = createTikTokSandbox({ world, simulator, clock, limits: NO_LIMITS });
    // Only the tests about the seeded share of rejections turn it on: the others need approvals.
    sandbox.review.rejectionRate = 0;
    ({ url, close } = await listenTikTokSandbox(sandbox));
    api = tiktokHttp(world, () => url);
    imageId = await api.uploadImage(await png(100, 100, 120));
  });
  after(async () => {
    await close?.();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('does not approve an ad whose text holds a banned term, with the reason in review_info', async () => {
    const { adGroupId } = await adGroup();
    const banned = await ad(adGroupId, 'Risk-Free premium, try it');
    const fine = await ad(adGroupId, 'Premium music, try it');
    assert.equal(await secondary(banned), 'AD_STATUS_NOT_APPROVE');
    assert.equal(await secondary(fine), 'AD_STATUS_DELIVERY_OK');
    const map = await reviewOf([banned, fine]);
    assert.equal(map[banned]!.ad_id, banned);
    assert.equal(map[banned]!.review_status, 'REJECTED');
    assert.match(map[banned]!.reject_info[0]!.reasons[0]!, /"risk-free"/);
    assert.ok(map[banned]!.reject_info[0]!.suggestion.length > 0);
    assert.deepEqual(map[fine], { ad_id: fine, review_status: 'APPROVED', reject_info: [] });
    // Disabling and enabling again does not review again.
    await api.post('ad/status/update', { ad_ids: [banned], operation_status: 'DISABLE' });
    assert.equal(await secondary(banned), 'AD_STATUS_DISABLE');
    await api.post('ad/status/update', { ad_ids: [banned], operation_status: 'ENABLE' });
    assert.equal(await secondary(banned), 'AD_STATUS_NOT_APPROVE');
  });

  it('rejects a seeded share of contents, judging the same content alike', async () => {
    const { adGroupId } = await adGroup();
    sandbox.review.rejectionRate = 0.5;
    try {
      const verdicts: string[] = [];
      for (let i = 0; i < 12; i++) {
        const [a, b] = [await ad(adGroupId, `Song ${i}`), await ad(adGroupId, `Song ${i}`)];
        const map = await reviewOf([a, b]);
        assert.equal(map[a]!.review_status, map[b]!.review_status, 'same content, same verdict');
        assert.deepEqual(map[a]!.reject_info, map[b]!.reject_info);
        if (map[a]!.review_status === 'REJECTED')
          assert.ok(map[a]!.reject_info[0]!.reasons[0]!.length > 10, 'a reason is given');
        verdicts.push(map[a]!.review_status);
      }
      assert.ok(verdicts.includes('REJECTED') && verdicts.includes('APPROVED'), verdicts.join());
    } finally {
      sandbox.review.rejectionRate = 0;
    }
  });

  it('keeps a new ad in AD_STATUS_AUDIT for delaySeconds, delivering nothing meanwhile', async () => {
    const { adGroupId } = await adGroup();
    sandbox.review.delaySeconds = 0.4;
    try {
      const adId = await ad(adGroupId, 'Wait for it');
      assert.equal(await secondary(adId), 'AD_STATUS_AUDIT');
      assert.equal((await reviewOf([adId]))[adId]!.review_status, 'IN_REVIEW');
      assert.ok(!sandbox.deliveriesOn('2026-03-01').some((d) => d.adId === adId));
      await new Promise((r) => setTimeout(r, 450));
      assert.equal(await secondary(adId), 'AD_STATUS_DELIVERY_OK');
      assert.ok(sandbox.deliveriesOn('2026-03-01').some((d) => d.adId === adId));
    } finally {
      sandbox.review.delaySeconds = 0;
    }
  });

  it('delivers and reports nothing for a rejected ad', async () => {
    const { adGroupId } = await adGroup();
    const rejected = await ad(adGroupId, 'Guaranteed hits');
    const approved = await ad(adGroupId, 'Hits for you');
    const report = await api.get<{ list: Array<{ dimensions: { ad_id: string } }> }>(
      'report/integrated/get',
      {
        report_type: 'BASIC',
        data_level: 'AUCTION_AD',
        dimensions: ['ad_id'],
        metrics: ['spend'],
        start_date: '2026-03-01',
        end_date: '2026-03-01',
        filtering: [
          {
            field_name: 'ad_ids',
            filter_type: 'IN',
            filter_value: JSON.stringify([rejected, approved]),
          },
        ],
      },
    );
    assert.equal(report.code, 0, report.message);
    assert.deepEqual(
      report.data.list.map((r) => r.dimensions.ad_id),
      [approved],
    );
  });

  it('answers review_info field errors naming ad_ids', async () => {
    for (const query of [
      {},
      { ad_ids: ['1700000000000000000'] },
      { ad_ids: Array(101).fill('1') },
    ]) {
      const res = await api.get('ad/review_info', query);
      assert.equal(res.code, 40002);
      assert.match(res.message, /^ad_ids: /);
    }
  });

  it('updates the status of ad groups and campaigns through the SDK', async () => {
    const { campaignId, adGroupId } = await adGroup();
    const adId = await ad(adGroupId, 'Status check');
    const groups = new tiktok.AdgroupApi(sdkClient()) as unknown as {
      adgroupStatusUpdate(t: string, o: { body: unknown }, cb: tiktok.TikTokCallback): unknown;
    };
    const campaigns = new tiktok.CampaignCreationApi(sdkClient()) as unknown as {
      campaignStatusUpdate(t: string, o: { body: unknown }, cb: tiktok.TikTokCallback): unknown;
    };
    const token = world.tiktok.accessToken;
    const advertiser_id = world.tiktok.advertiserId;
    const groupStatus = (operation_status: string, adgroup_ids = [adGroupId]) =>
      sdk((cb) =>
        groups.adgroupStatusUpdate(
          token,
          { body: { advertiser_id, adgroup_ids, operation_status } },
          cb,
        ),
      );
    const campaignStatus = (operation_status: string, campaign_ids = [campaignId]) =>
      sdk((cb) =>
        campaigns.campaignStatusUpdate(
          token,
          { body: { advertiser_id, campaign_ids, operation_status } },
          cb,
        ),
      );
    const groupView = async () =>
      (
        await api.get<{ list: Array<{ secondary_status: string; operation_status: string }> }>(
          'adgroup/get',
          // Deleted ad groups are listed only when asked for (primary_status defaults to
          // STATUS_NOT_DELETE).
          { filtering: { adgroup_ids: [adGroupId], primary_status: 'STATUS_ALL' } },
        )
      ).data.list[0]!;

    const disabled = await groupStatus('DISABLE');
    // The SDK's response model drops `code` when it is 0.
    assert.equal(disabled.code ?? 0, 0, disabled.message);
    assert.deepEqual(disabled.data, { adgroup_ids: [adGroupId], status: 'DISABLE' });
    assert.equal((await groupView()).secondary_status, 'ADGROUP_STATUS_DISABLE');
    assert.equal(await secondary(adId), 'AD_STATUS_ADGROUP_DISABLE');
    assert.ok(!sandbox.deliveriesOn('2026-03-01').some((d) => d.adId === adId));
    assert.equal((await groupStatus('ENABLE')).code ?? 0, 0);
    assert.equal(await secondary(adId), 'AD_STATUS_DELIVERY_OK');

    const bad = await groupStatus('PAUSE');
    assert.equal(bad.code, 40002);
    assert.match(String(bad.message), /^operation_status: /);
    const unknown = await groupStatus('DISABLE', [adGroupId, '1700000000000000000']);
    assert.match(String(unknown.message), /^adgroup_ids: /);
    assert.equal((await groupView()).operation_status, 'ENABLE', 'a bad id changes nothing');
    // Ad Groups/Update_the_statuses_of_ad_groups: adgroup_ids "Size range: 1-20".
    const tooMany = await groupStatus('DISABLE', Array<string>(21).fill(adGroupId));
    assert.equal(tooMany.message, 'adgroup_ids: Longer than maximum length 20.');

    const off = await campaignStatus('DISABLE');
    assert.equal(off.code ?? 0, 0, off.message);
    assert.deepEqual(off.data, { campaign_ids: [campaignId], status: 'DISABLE' });
    assert.equal(await secondary(adId), 'AD_STATUS_CAMPAIGN_DISABLE');
    assert.equal((await groupView()).secondary_status, 'ADGROUP_STATUS_CAMPAIGN_DISABLE');
    assert.equal((await campaignStatus('DELETE')).code ?? 0, 0);
    const hidden = await api.get<{ list: unknown[] }>('campaign/get', {
      filtering: { campaign_ids: [campaignId] },
    });
    assert.equal(hidden.data.list.length, 0, 'deleted campaigns are not listed by default');
    const campaign = await api.get<{ list: Array<{ secondary_status: string }> }>('campaign/get', {
      filtering: { campaign_ids: [campaignId], primary_status: 'STATUS_ALL' },
    });
    assert.equal(campaign.data.list[0]!.secondary_status, 'CAMPAIGN_STATUS_DELETE');
    const again = await campaignStatus('ENABLE');
    assert.match(String(again.message), /^campaign_ids: .*deleted/);
    const missing = await campaignStatus('ENABLE', []);
    assert.match(String(missing.message), /^campaign_ids: /);
  });

  it('loses the response of a write after carrying it out', async () => {
    sandbox.faults.lostResponseRate = 1;
    const lostBefore = sandbox.requests.filter((r) => r.lost).length;
    try {
      assert.equal((await api.get('campaign/get', {})).code, 0, 'reads are answered');
      await assert.rejects(
        api.post('campaign/create', {
          campaign_name: 'lost-in-transit',
          objective_type: 'TRAFFIC',
          budget_mode: 'BUDGET_MODE_INFINITE',
        }),
        TypeError,
        'the client sees the connection drop',
      );
      const refused = await api.post('campaign/create', { objective_type: 'TRAFFIC' });
      assert.equal(refused.code, 40002, 'failed writes are still answered');
    } finally {
      sandbox.faults.lostResponseRate = 0;
    }
    const found = await api.get<{ list: unknown[] }>('campaign/get', {
      filtering: { campaign_name: 'lost-in-transit' },
    });
    assert.equal(found.data.list.length, 1, 'the write happened exactly once');
    const lost = sandbox.requests.filter((r) => r.lost);
    assert.equal(lost.length - lostBefore, 1);
    assert.equal(lost.at(-1)!.status, 0);
  });

  it("restricts delivery to the ad group's operating_systems", async () => {
    const { adGroupId } = await adGroup({ operating_systems: ['IOS'] });
    const adId = await ad(adGroupId, 'iPhone only');
    const day = sandbox.deliveriesOn('2026-03-01').find((d) => d.adId === adId)!.delivery;
    assert.ok(day.impressions > 0 && day.installs > 0);
    assert.deepEqual(day.byOs.android, { installs: 0, registrations: 0, subscriptions: 0 });
    await assert.rejects(adGroup({ operating_systems: ['WINDOWS'] }), (e: Error) =>
      /^operating_systems: /.test(e.message),
    );
  });

  it('keeps review decisions across a restart', async () => {
    const statePath = path.join(tmp, 'tiktok.json');
    const first = createTikTokSandbox({ world, simulator, clock, statePath, limits: NO_LIMITS });
    const a = await listenTikTokSandbox(first);
    let rejected: string;
    try {
      const local = tiktokHttp(world, () => a.url);
      const image = await local.uploadImage(await png(100, 100, 121));
      const saved = { api, imageId };
      [api, imageId] = [local, image];
      try {
        rejected = await ad((await adGroup()).adGroupId, '100% free premium');
      } finally {
        ({ api, imageId } = saved);
      }
    } finally {
      await a.close();
    }
    const second = createTikTokSandbox({ world, simulator, clock, statePath, limits: NO_LIMITS });
    const b = await listenTikTokSandbox(second);
    try {
      const map = await reviewOf(
        [rejected],
        tiktokHttp(world, () => b.url),
      );
      assert.equal(map[rejected]!.review_status, 'REJECTED');
      assert.match(map[rejected]!.reject_info[0]!.reasons[0]!, /100% free/);
    } finally {
      await b.close();
    }
  });
});
