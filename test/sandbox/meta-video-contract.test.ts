// The Graph sandbox's contract for video ads: uploads that process asynchronously and sometimes
// fail, thumbnails, and creatives that refuse what Graph refuses: a video not ready, a video without
// its thumbnail, asset feeds and placement customisation rules that break Meta's rules. Each case
// names its source: a spec file of facebook/facebook-business-sdk-codegen (api_specs/specs/…) or a
// developers.facebook.com page; where Graph's answer is only known from what it sent to others,
// the issue that quotes it.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import bizSdk from 'facebook-nodejs-business-sdk';
import { worldFromSpec, loadWorld, WorldError } from '../../sandbox/world.ts';
import { Simulator } from '../../sandbox/simulator.ts';
import type { SimAd } from '../../sandbox/contracts.ts';
import { createMetaAds, type MetaAds } from '../../platforms/meta/meta-ads.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { mp4 } from '../helpers/media.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';
import { TEST_APP } from '../helpers/meta-app.ts';
import fs from 'node:fs';

const { FacebookAdsApi } = bizSdk;
const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const ACCOUNT = 'act_1000000001';

interface GraphErrorBody {
  message: string;
  code: number;
  error_subcode?: number;
  error_user_title?: string;
  error_user_msg?: string;
}

describe('Graph sandbox contract: ad videos and video creatives', () => {
  let sandbox: Sandbox;
  let meta: MetaAds;
  let imageHash: string;
  let adsetId: string;
  /** Each test's videos are new files: the processing draw is keyed on the file's bytes. */
  let salt = 0;
  const base = () => `${sandbox.metaUrl}/v${FacebookAdsApi.VERSION.replace(/^v/, '')}`;

  /** A plain HTTP call, form-encoded like the SDK's requests. */
  async function http(method: 'GET' | 'POST', path: string, params: Record<string, unknown> = {}) {
    const form = new URLSearchParams({ access_token: sandbox.credentials.accessToken });
    for (const [k, v] of Object.entries(params))
      form.set(k, typeof v === 'string' ? v : JSON.stringify(v));
    const res =
      method === 'GET'
        ? await fetch(`${base()}/${path}?${form.toString()}`)
        : await fetch(`${base()}/${path}`, { method, body: form });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** One multipart upload phase, as the client posts it. */
  async function phase(fields: Record<string, string | Blob>) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('access_token', sandbox.credentials.accessToken);
    const res = await fetch(`${base()}/${ACCOUNT}/advideos`, { method: 'POST', body: form });
    return (await res.json()) as Record<string, string> & { error?: GraphErrorBody };
  }

  /** A video's status as Graph reports it (AdVideo.json status: VideoStatus). */
  const status = async (id: string) =>
    (await http('GET', id, { fields: 'status,title' })).body as {
      title?: string;
      status: {
        video_status: string;
        uploading_phase: { status: string; bytes_transferred: number };
        processing_phase: { status: string; errors?: Array<{ code: number; message: string }> };
        publishing_phase: { status: string };
      };
    };

  /** A video of `width`×`height`, uploaded in one go; processing starts at once. */
  async function upload(width: number, height: number, title = 'clip') {
    return (
      await meta.uploadVideo(Buffer.concat([mp4(width, height), Buffer.from([salt++])]), title)
    ).videoId;
  }

  /** Reads a video's status until it is no longer processing (at most `reads` times). */
  async function settled(id: string, reads = 10) {
    for (let i = 0; i < reads; i++) {
      const s = await status(id);
      if (s.status.video_status !== 'processing') return s;
    }
    throw new Error(`video ${id} still processing after ${reads} reads`);
  }

  /** Graph refuses the creative: HTTP 400 with these error fields (a RegExp matches a text). */
  async function refused(
    expected: { [K in keyof GraphErrorBody]?: GraphErrorBody[K] | RegExp },
    params: Record<string, unknown>,
  ) {
    const { status: code, body } = await http('POST', `${ACCOUNT}/adcreatives`, params);
    assert.equal(code, 400, JSON.stringify(body));
    const error = body.error as GraphErrorBody;
    for (const [k, v] of Object.entries(expected)) {
      if (v instanceof RegExp) assert.match(String(error[k as keyof GraphErrorBody]), v, k);
      else assert.deepEqual(error[k as keyof GraphErrorBody], v, `error.${k}`);
    }
    return error;
  }

  /** A placement-customised asset feed of two ready videos (the client's own shape). */
  async function feedOf(over: { vertical?: string; feed?: string } = {}) {
    const vertical = over.vertical ?? (await upload(1080, 1920));
    const feed = over.feed ?? (await upload(1080, 1350));
    if (!over.vertical) await settled(vertical);
    if (!over.feed) await settled(feed);
    return meta.videoCreativeParams({
      name: 'video',
      vertical: { videoId: vertical, thumbnailHash: imageHash },
      feed: { videoId: feed, thumbnailHash: imageHash },
      storeUrl: TEST_APP.storeUrl,
      appLink: 'adloopmusic://artist/a1?utm_content=a1.spotlight',
      message: 'Listen now',
      headline: 'New release',
    }) as { name: string; object_story_spec: unknown; asset_feed_spec: Record<string, unknown> };
  }

  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    meta = createMetaAds({ graphUrl: sandbox.metaUrl, ...sandbox.credentials, videoPollMs: 5 });
    imageHash = (await meta.uploadImage(PNG_1x1, 'thumb.png')).hash;
    const campaignId = await meta.createCampaign({ name: 'video contract' });
    adsetId = await meta.createAdSet({
      name: 'video contract',
      campaignId,
      country: 'SE',
      dailyBudgetMinor: 5000,
      os: 'ios',
      app: TEST_APP,
    });
  });
  after(async () => sandbox?.close());
  beforeEach(() => {
    sandbox.meta.videoProcessing.failShare = 0;
    sandbox.meta.videoProcessing.statusReads = 2;
  });

  it('a resumable upload goes start, transfer, finish; the video then processes for a few status reads, then is ready (VideoStatus*.json)', async () => {
    const bytes = Buffer.concat([mp4(1080, 1920), Buffer.alloc(100, 1)]);
    sandbox.meta.videoChunkBytes = 64;
    const start = await phase({
      upload_phase: 'start',
      file_size: String(bytes.length),
      title: 't1',
    });
    const id = start.video_id!;
    let s = await status(id);
    assert.equal(s.title, 't1', 'named from its start phase');
    assert.equal(s.status.video_status, 'processing');
    assert.deepEqual(
      [s.status.uploading_phase.status, s.status.processing_phase.status],
      ['in_progress', 'not_started'],
    );
    let [from, to] = [Number(start.start_offset), Number(start.end_offset)];
    while (from < to) {
      const next = await phase({
        upload_phase: 'transfer',
        upload_session_id: start.upload_session_id!,
        start_offset: String(from),
        video_file_chunk: new Blob([bytes.subarray(from, to)]),
      });
      [from, to] = [Number(next.start_offset), Number(next.end_offset)];
    }
    const finished: Record<string, unknown> = await phase({
      upload_phase: 'finish',
      upload_session_id: start.upload_session_id!,
    });
    assert.equal(finished.success, true);
    // Two reads (world.meta.videoProcessing.statusReads) answer processing, the third ready.
    for (let i = 0; i < 2; i++) {
      s = await status(id);
      assert.equal(s.status.video_status, 'processing', `read ${i + 1}`);
      assert.deepEqual(
        [s.status.uploading_phase.status, s.status.processing_phase.status],
        ['complete', 'in_progress'],
      );
      const thumbs = (await http('GET', `${id}/thumbnails`)).body.data as unknown[];
      assert.deepEqual(thumbs, [], 'no thumbnails while processing');
    }
    s = await status(id);
    assert.equal(s.status.video_status, 'ready');
    assert.equal(s.status.processing_phase.status, 'complete');
    assert.equal(s.status.publishing_phase.status, 'not_started', 'an ad video is not a post');
    // GET /<video>/thumbnails (AdVideo.json; VideoThumbnail.json): the preferred one first.
    const thumbs = (
      await http('GET', `${id}/thumbnails`, { fields: 'uri,is_preferred,width,height' })
    ).body.data as Array<{ uri: string; is_preferred: boolean; width: number; height: number }>;
    assert.equal(thumbs.length, 3);
    assert.deepEqual(
      thumbs.map((t) => t.is_preferred),
      [true, false, false],
    );
    assert.deepEqual([thumbs[0]!.width, thumbs[0]!.height], [1080, 1920]);
    assert.match(thumbs[0]!.uri, /^http/);
    // A field VideoThumbnail does not have is refused, as on any read.
    const bad = await http('GET', `${id}/thumbnails`, { fields: 'uri,bogus' });
    assert.equal(bad.status, 400);
    // Found by its title (AdAccount.json GET advideos: title).
    const listed = (await http('GET', `${ACCOUNT}/advideos`, { title: 't1', fields: 'id,title' }))
      .body.data as Array<{ id: string }>;
    assert.deepEqual(
      listed.map((v) => v.id),
      [id],
    );
  });

  it('a share of files fail processing: video_status error, the processing phase says why (code 6000)', async () => {
    sandbox.meta.videoProcessing.failShare = 1;
    const id = await upload(1080, 1920);
    const s = await settled(id);
    assert.equal(s.status.video_status, 'error');
    assert.equal(s.status.uploading_phase.status, 'complete');
    assert.equal(s.status.processing_phase.status, 'error');
    assert.deepEqual(s.status.processing_phase.errors?.[0]?.code, 6000);
    assert.match(String(s.status.processing_phase.errors?.[0]?.message), /problem uploading/);
    assert.deepEqual((await http('GET', `${id}/thumbnails`)).body.data, [], 'no thumbnails');
    // The draw is the file's: the same bytes fail again on another upload.
    sandbox.meta.videoProcessing.failShare = 0.5;
    const same = Buffer.concat([mp4(1080, 1920), Buffer.from([200])]);
    const outcomes = new Set<string>();
    for (let i = 0; i < 3; i++)
      outcomes.add(
        (await settled((await meta.uploadVideo(same, 'same')).videoId)).status.video_status,
      );
    assert.equal(outcomes.size, 1, 'the same file processes alike every time');
  });

  it('a creative on a video still processing is refused; so is one on a video that failed (advideo: wait till the status is ready)', async () => {
    const feed = await upload(1080, 1350);
    await settled(feed);
    sandbox.meta.videoProcessing.statusReads = 50;
    const processing = await upload(1080, 1920);
    const params = await feedOf({ vertical: processing, feed });
    const notReady = await refused({ code: 100, error_user_title: 'Video Not Ready' }, params);
    assert.match(
      String(notReady.error_user_msg),
      new RegExp(`Video ${processing} is still processing`),
    );
    sandbox.meta.videoProcessing.statusReads = 0;
    sandbox.meta.videoProcessing.failShare = 1;
    const failed = await upload(1080, 1920);
    sandbox.meta.videoProcessing.failShare = 0;
    const error = await refused(
      { code: 100, error_user_title: 'Video Cannot Be Used' },
      await feedOf({ vertical: failed, feed }),
    );
    assert.match(String(error.error_user_msg), new RegExp(`Video ${failed} is error`));
    // video_data alike.
    await refused(
      { code: 100, error_user_title: 'Video Cannot Be Used' },
      {
        name: 'vd',
        object_story_spec: {
          page_id: sandbox.credentials.pageId,
          video_data: { video_id: failed, image_hash: imageHash },
        },
      },
    );
  });

  it('a video without its thumbnail is refused: subcode 1443226 (video_data and asset feed videos)', async () => {
    const params = await feedOf();
    const videos = params.asset_feed_spec.videos as Array<Record<string, unknown>>;
    delete videos[1]!.thumbnail_hash;
    const error = await refused({ code: 100, error_subcode: 1443226 }, params);
    assert.match(String(error.error_user_msg), /videos\]\[1\] has no thumbnail/);
    const ready = videos[0]!.video_id as string;
    await refused(
      { code: 100, error_subcode: 1443226 },
      {
        name: 'vd',
        object_story_spec: { page_id: sandbox.credentials.pageId, video_data: { video_id: ready } },
      },
    );
    // A thumbnail hash must be one of the account's images.
    videos[1]!.thumbnail_hash = 'f'.repeat(32);
    await refused({ code: 100, message: /Image with hash f+ not found/ }, params);
  });

  it('placement customisation rules are checked against the specs and the Placement Asset Customization page', async () => {
    const good = await feedOf();
    const feed = good.asset_feed_spec;
    /** The feed's rules, to break one at a time. */
    type Rule = {
      customization_spec?: Record<string, string[]>;
      video_label?: unknown;
      placement?: string;
    };
    const rules = () => structuredClone(feed.asset_customization_rules) as Rule[];
    const withRules = (r: unknown) => ({
      ...good,
      asset_feed_spec: { ...feed, asset_customization_rules: r },
    });

    // A position Meta does not have (Placement Targeting: instagram_positions).
    let r = rules();
    r[1]!.customization_spec!.instagram_positions = ['story', 'tv'];
    await refused(
      {
        code: 100,
        message:
          /asset_customization_rules\]\[1\]\[customization_spec\]\[instagram_positions\] must be one of \{stream, story.*not tv/,
      },
      withRules(r),
    );
    // A label that names no video: subcode 2446173.
    r = rules();
    r[0]!.video_label = { name: 'nowhere' };
    const label = await refused({ code: 100, error_subcode: 2446173 }, withRules(r));
    assert.match(String(label.error_user_msg), /video_label\] is "nowhere"/);
    // A rule without its customization_spec ("Required").
    r = rules();
    delete r[1]!.customization_spec;
    await refused(
      {
        code: 100,
        message:
          '(#100) The parameter asset_feed_spec[asset_customization_rules][1][customization_spec] is required',
      },
      withRules(r),
    );
    // One rule: "every asset_feed_spec needs to have more than one customization rule".
    await refused(
      { code: 100, error_user_title: 'Too Few Customization Rules' },
      withRules(rules().slice(0, 1)),
    );
    // Instagram chosen without its positions ("required if Instagram is selected").
    r = rules();
    delete r[0]!.customization_spec!.instagram_positions;
    await refused({ code: 100, message: /\[instagram_positions\] is required/ }, withRules(r));
    // Positions of a platform the rule does not name.
    r = rules();
    r[0]!.customization_spec!.publisher_platforms = ['facebook'];
    await refused({ code: 100, message: /needs instagram in/ }, withRules(r));
    // A SINGLE_VIDEO rule without its video_label ("Required for SINGLE_VIDEO format").
    r = rules();
    delete r[1]!.video_label;
    await refused({ code: 100, message: /\[video_label\] is required/ }, withRules(r));
    // A field the rule spec does not have (AdAssetFeedSpecAssetCustomizationRule.json).
    r = rules();
    r[0]!.placement = 'feed';
    await refused({ code: 100, message: /\[placement\] is not a valid field/ }, withRules(r));
    // A feed with two ad formats ("one ad_format is allowed per asset feed").
    await refused(
      { code: 100, message: /ad_formats\] must hold exactly one/ },
      { ...good, asset_feed_spec: { ...feed, ad_formats: ['SINGLE_VIDEO', 'SINGLE_IMAGE'] } },
    );
    // A call to action type outside AdAssetFeedSpec_call_to_action_types (enum_types.json).
    await refused(
      { code: 100, message: /call_to_action_types\] must be one of/ },
      { ...good, asset_feed_spec: { ...feed, call_to_action_types: ['DANCE'] } },
    );
    // The page story carries the page only: no link ad beside the feed.
    await refused(
      { code: 100, message: /object_story_spec\[link_data\] cannot be sent with asset_feed_spec/ },
      {
        ...good,
        object_story_spec: {
          page_id: sandbox.credentials.pageId,
          link_data: { image_hash: imageHash, link: TEST_APP.storeUrl },
        },
      },
    );
    // And the good one is taken.
    const ok = await http('POST', `${ACCOUNT}/adcreatives`, good);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('an app install ad of a video creative must link to the store with an install call to action (ad-promoted-object)', async () => {
    const good = await feedOf();
    const wrong = structuredClone(good);
    (wrong.asset_feed_spec.link_urls as Array<Record<string, string>>)[0]!.website_url =
      'https://example.com/landing';
    const ids = await meta.createMany('adcreatives', [good, wrong]);
    const ad = (creativeId: string) => ({
      name: 'ad',
      adset_id: adsetId,
      creative: { creative_id: creativeId },
      status: 'PAUSED',
    });
    const bad = await http('POST', `${ACCOUNT}/ads`, ad(ids[1]!.id!));
    assert.equal(bad.status, 400);
    assert.equal(
      (bad.body.error as GraphErrorBody).error_user_title,
      'Creative Must Link to App Store',
    );
    const okAd = await http('POST', `${ACCOUNT}/ads`, ad(ids[0]!.id!));
    assert.equal(okAd.status, 200, JSON.stringify(okAd.body));
    // Field expansion: the ad's creative with its name (docs/graph-api/guides/field-expansion).
    const read = await http('GET', String(okAd.body.id), { fields: 'creative{id,name}' });
    assert.deepEqual(read.body.creative, { id: ids[0]!.id, name: 'video' });
  });

  it('the review judges a video ad on its videos and texts, and judges an ad again when its creative changes', async () => {
    const good = await feedOf();
    (good.asset_feed_spec.bodies as Array<{ text: string }>)[0]!.text = 'Guaranteed hits';
    const [video] = await meta.createMany('adcreatives', [good]);
    const adId = await meta.createAd({ name: 'reviewed', adsetId, creativeId: video!.id! });
    let [row] = (await meta.listAds(adsetId)).filter((a) => a.id === adId);
    assert.equal(row!.review, 'rejected');
    assert.match(String(row!.reviewReason), /guaranteed/i);
    assert.equal(row!.creativeName, 'video');
    // Switched to a still creative, it is reviewed again, as the still.
    const still = await meta.createCreative({
      name: 'still',
      imageHash,
      storeUrl: TEST_APP.storeUrl,
      appLink: 'adloopmusic://artist/a1',
      message: 'Listen now',
      headline: 'New release',
    });
    await meta.setAdCreative(adId, still);
    [row] = (await meta.listAds(adsetId)).filter((a) => a.id === adId);
    assert.equal(row!.review, 'approved');
    assert.equal(row!.creativeName, 'still');
  });
});

describe('sandbox world: video processing and motion options', () => {
  /** The demo world file's JSON, in the parts these tests change. */
  type WorldJson = {
    meta: Record<string, unknown>;
    truth: Record<string, unknown>;
  };
  const demo = JSON.parse(fs.readFileSync(DEMO_WORLD, 'utf8')) as WorldJson;
  const spec = (over: (w: WorldJson) => void) => {
    const w = structuredClone(demo);
    over(w);
    return w;
  };

  it('validates meta.videoProcessing and truth.motionLift, naming the field', () => {
    assert.throws(
      () =>
        worldFromSpec(
          spec((w) => (w.meta.videoProcessing = { failShare: 2 })),
          DEMO_WORLD,
        ),
      (err: Error) =>
        err instanceof WorldError && /meta\.videoProcessing\.failShare/.test(err.message),
    );
    assert.throws(
      () =>
        worldFromSpec(
          spec((w) => (w.meta.videoProcessing = { statusReads: -1 })),
          DEMO_WORLD,
        ),
      /meta\.videoProcessing\.statusReads/,
    );
    assert.throws(
      () =>
        worldFromSpec(
          spec((w) => (w.meta.videoProcessing = { fail: 0.1 })),
          DEMO_WORLD,
        ),
      /meta\.videoProcessing/,
    );
    assert.throws(
      () =>
        worldFromSpec(
          spec((w) => (w.truth.motionLift = 0)),
          DEMO_WORLD,
        ),
      /truth\.motionLift/,
    );
    const w = worldFromSpec(
      spec((x) => delete x.meta.videoProcessing),
      DEMO_WORLD,
    );
    assert.deepEqual(w.meta.videoProcessing, { failShare: 0, statusReads: 2 }, 'the defaults');
    assert.equal(w.truth.motionLift, 1.15);
    assert.deepEqual(loadWorld(DEMO_WORLD).meta.videoProcessing, {
      failShare: 0.1,
      statusReads: 2,
    });
  });

  it('the simulator lifts a motion ad and gives each placement its best ratio with customisation', () => {
    const world = loadWorld(DEMO_WORLD);
    const sim = new Simulator(world);
    const base: SimAd = {
      id: 'a',
      platform: 'meta',
      market: 'SE',
      artistId: null,
      templateId: null,
      aspectRatio: '1:1',
      createdDate: '2026-03-01',
    };
    const ctr = (ad: Partial<SimAd>) => sim.trueRates({ ...base, ...ad }, 'ios', '2026-03-01').ctr;
    const still = ctr({});
    const motion = ctr({ motion: true });
    assert.ok(Math.abs(motion / still - world.truth.motionLift) < 1e-9, 'motionLift on the CTR');
    const customised = ctr({
      motion: true,
      aspectRatio: '4:5',
      placementRatios: { feed: '4:5', story: '9:16', reels: '9:16' },
    });
    for (const ratio of ['1:1', '4:5', '9:16'])
      assert.ok(
        customised > ctr({ motion: true, aspectRatio: ratio }),
        `customised beats one ${ratio} video everywhere`,
      );
    // Placement customisation everywhere 1:1 is the plain 1:1 fit: the groups blend back to it.
    assert.ok(
      Math.abs(ctr({ placementRatios: { feed: '1:1', story: '1:1', reels: '1:1' } }) - still) <
        1e-9,
    );
    // Other platforms keep their one fit.
    const tiktok = { platform: 'tiktok' as const, aspectRatio: '9:16' };
    assert.equal(ctr({ ...tiktok, placementRatios: { feed: '1:1' } }), ctr(tiktok));
  });
});
