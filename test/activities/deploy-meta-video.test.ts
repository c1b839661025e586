// The deploy stage's Meta video ads against the sandbox's Graph API, through the official SDK: each
// creative rendered in motion runs as one video ad whose placements get their own cut (feeds the
// 4:5, stories and reels the 9:16), its still as the thumbnail; a video that fails processing, and
// a video ad the review disapproves, run as the still ad instead, audited; no video, creative or ad
// is made twice when answers are lost.
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createActivities, type Activities } from '../../activities/index.ts';
import { metaVideoTitle } from '../../activities/deploy/meta-target.ts';
import { parseAdName } from '../../core/ids.ts';
import type { RenderedCreative } from '../../core/types.ts';
import { listPlatformWrites, listRejections } from '../../db/deploy.repository.ts';
import type { SimAd } from '../../sandbox/contracts.ts';
import type { GraphObject } from '../../sandbox/meta/graph-store.ts';
import { renderAll, typedRun } from '../helpers/activity.ts';
import { sandboxMetaAccount, startTestStack, type TestStack } from '../helpers/stack.ts';

const DATE = '2026-03-01';

interface FeedSpec {
  videos: Array<{ video_id: string; thumbnail_hash?: string; adlabels: Array<{ name: string }> }>;
  link_urls: Array<{ website_url: string; deeplink_url: string }>;
  call_to_action_types: string[];
  asset_customization_rules: Array<{
    customization_spec: Record<string, string[]>;
    video_label: { name: string };
  }>;
}

describe('deploy Meta video ads (placement asset customisation)', () => {
  let stack: TestStack;
  let acts: Activities;
  const creatives = new Map<string, RenderedCreative[]>();
  const run = (market: string) =>
    typedRun(
      new MockActivityEnvironment({
        workflowExecution: { workflowId: `market/${market}/${DATE}`, runId: 'r1' },
      }),
    );
  const deploy = (market: string, ranked: RenderedCreative[]) =>
    run(market)(acts.deployCreatives, { market, date: DATE, creatives: ranked });

  /** Ingest, rank and render a market once: 2 slots + 1 spare, stills and motion in 4:5 and 9:16. */
  async function prepare(market: string): Promise<RenderedCreative[]> {
    const cached = creatives.get(market);
    if (cached) return cached;
    const r = run(market);
    const input = { market, date: DATE };
    await r(acts.startMarketRun, input);
    await r(acts.ingestCatalog, input);
    const { selected } = await r(acts.rankMarket, { ...input, metricsAvailable: true });
    const rendered = await renderAll(r, acts, { ...input, items: selected });
    assert.equal(rendered.length, 3);
    for (const c of rendered) {
      assert.equal(c.platformAssets?.['meta-video-vertical']?.ratio, '9:16');
      assert.equal(c.platformAssets?.['meta-video-feed']?.ratio, '4:5');
      assert.equal(c.platformAssets?.meta?.kind, 'static', 'the still stays the fallback');
    }
    creatives.set(market, rendered);
    return rendered;
  }

  const account = (market: string) => sandboxMetaAccount(stack.sandbox, market);
  /** adloop's ads of the market, straight from the sandbox's store. */
  const adsOf = (market: string) =>
    stack.sandbox.meta.store
      .list('ad', account(market))
      .filter((a) => parseAdName(String(a.fields.name))?.market === market);
  const creativeOf = (ad: GraphObject) =>
    stack.sandbox.meta.store.get(String((ad.fields.creative as { id: string }).id))!;
  /**
   * The market's uploaded videos, by title: those whose upload was finished (Meta processes them).
   * An upload cut short (its start or finish answer lost) never processes and is never used.
   */
  const videosOf = (market: string) => {
    const byTitle = new Map<string, GraphObject[]>();
    for (const v of stack.sandbox.meta.store.list('advideo', account(market))) {
      const status = v.fields.status as { processing_phase: { status: string } };
      if (status.processing_phase.status === 'not_started') continue;
      const title = String(v.fields.title);
      if (!title.startsWith(`adloop/${market}/`)) continue;
      byTitle.set(title, [...(byTitle.get(title) ?? []), v]);
    }
    return byTitle;
  };
  const sizeOf = (videoId: string) => {
    const [f] = stack.sandbox.meta.store.get(videoId)!.fields.format as Array<{
      width: number;
      height: number;
    }>;
    return `${f!.width}x${f!.height}`;
  };
  const hashOf = (ad: GraphObject) => parseAdName(String(ad.fields.name))!.creativeHash;
  const top2 = (ranked: RenderedCreative[]) =>
    ranked
      .slice(0, 2)
      .map((c) => c.hash)
      .sort();

  before(async () => {
    stack = await startTestStack({
      adsPerMarket: 2,
      renderKinds: 'static,motion',
      renderRatios: '4:5,9:16',
      // Lost answers wait twice this before their look-up: keep the test brisk.
      requestTimeoutMs: 2000,
      deploy: { DEPLOY_SPARES: 1, DEPLOY_PLATFORMS: ['meta'] },
    });
    acts = createActivities(stack.deps);
  });
  after(async () => stack?.close());
  beforeEach(() => {
    stack.sandbox.meta.videoProcessing.failShare = 0;
    stack.sandbox.meta.videoProcessing.statusReads = 2;
  });

  it('runs each creative as one video ad: 4:5 in feeds, 9:16 in stories and reels, its still as thumbnail; a rerun writes nothing', async () => {
    const ranked = await prepare('SE');
    const result = await deploy('SE', ranked);
    assert.deepEqual([result.created, result.reused, result.paused], [2, 0, 0]);
    assert.deepEqual(
      [result.platforms?.meta?.videoAds, result.platforms?.meta?.stillAds],
      [2, 0],
      'both live ads play video',
    );
    assert.equal(result.fallbacks, undefined);
    const ads = adsOf('SE');
    assert.deepEqual(ads.map(hashOf).sort(), top2(ranked));
    const store = stack.sandbox.world.app.android.storeUrl;
    for (const ad of ads) {
      assert.equal(ad.fields.status, 'ACTIVE');
      const creative = creativeOf(ad);
      assert.match(String(creative.fields.name), /\/android\/video$/);
      const feed = creative.fields.asset_feed_spec as FeedSpec;
      const videoOfLabel = (label: string) =>
        feed.videos.find((v) => v.adlabels.some((l) => l.name === label))!;
      const shown = (position: string) => {
        const rule = feed.asset_customization_rules.find((r) =>
          Object.values(r.customization_spec).some((p) => p.includes(position)),
        )!;
        return sizeOf(videoOfLabel(rule.video_label.name).video_id);
      };
      // Feeds: the 4:5 cut; stories and reels: the 9:16 cut (mp4 sizes of the rendered files).
      assert.equal(shown('feed'), '1080x1350');
      assert.equal(shown('stream'), '1080x1350');
      assert.equal(shown('story'), '1080x1920');
      assert.equal(shown('reels'), '1080x1920');
      assert.equal(shown('facebook_reels'), '1080x1920');
      // Each video's thumbnail is adloop's own still of its ratio, uploaded as an image.
      for (const v of feed.videos)
        assert.ok(
          stack.sandbox.meta.store.get(`${account('SE')}:${v.thumbnail_hash}`),
          'thumbnail in the image library',
        );
      // An app install ad: the store listing, the install call to action, the artist's deep link.
      assert.equal(feed.link_urls[0]!.website_url, store);
      assert.deepEqual(feed.call_to_action_types, ['INSTALL_MOBILE_APP']);
      const c = ranked.find((r) => r.hash === hashOf(ad))!;
      assert.match(
        feed.link_urls[0]!.deeplink_url,
        new RegExp(`^adloopmusic://artist/${c.artistId}\\?`),
      );
      // The simulator sees a video ad with its ratio per placement.
      const sim = (
        stack.sandbox.meta.reporting as unknown as { simAd(ad: GraphObject): SimAd }
      ).simAd(ad);
      assert.equal(sim.motion, true);
      assert.deepEqual(sim.placementRatios, { feed: '4:5', story: '9:16', reels: '9:16' });
    }
    // Each cut uploaded once, under its title, and recorded.
    const videos = videosOf('SE');
    assert.equal(videos.size, 4);
    for (const c of ranked.slice(0, 2))
      for (const ratio of ['9:16', '4:5'])
        assert.equal(videos.get(metaVideoTitle('SE', c.hash, ratio))?.length, 1, `${ratio} once`);
    const writes = await listPlatformWrites(stack.database.db, { market: 'SE', date: DATE });
    assert.equal(
      writes.filter((w) => w.operation === 'upload_video' && w.result === 'ok').length,
      4,
    );
    assert.equal(writes.filter((w) => w.operation === 'create_video_creative').length, 2);

    // A rerun of the day finds everything: not one write.
    const before = stack.sandbox.meta.requests.length;
    const again = await deploy('SE', ranked);
    assert.deepEqual([again.created, again.reused, again.writes], [0, 2, 0]);
    assert.deepEqual(
      stack.sandbox.meta.requests.slice(before).filter((r) => r.method === 'POST'),
      [],
    );
  });

  it('shows the video uploads and the video creative it would make in the dry-run diff', async () => {
    const ranked = await prepare('SE');
    const dry = createActivities({
      ...stack.deps,
      config: { ...stack.deps.config, DEPLOY_MODE: 'dry-run' },
    });
    // Tomorrow's ranking drops #1: #3 comes in, never uploaded.
    const plan = await run('SE')(dry.planDeployment, {
      market: 'SE',
      date: DATE,
      creatives: ranked.slice(1),
    });
    const line = plan.lines.find((l) => l.includes(`create  ${ranked[2]!.hash.slice(0, 12)}`));
    assert.ok(line, plan.lines.join('\n'));
    assert.match(
      line,
      /video 9:16 \(stories, reels\) \+ 4:5 \(feeds\): 2 video uploads \(once per market\), a placement-customised video creative; the still if the video cannot run/,
    );
  });

  it('runs a creative whose video fails processing as its still ad, audited; a rerun uploads nothing again', async () => {
    const ranked = await prepare('DE');
    stack.sandbox.meta.videoProcessing.failShare = 1;
    const result = await deploy('DE', ranked);
    assert.deepEqual([result.platforms?.meta?.videoAds, result.platforms?.meta?.stillAds], [0, 2]);
    assert.deepEqual(
      result.fallbacks?.map((f) => [f.platform, f.hash]).sort(),
      top2(ranked).map((h) => ['meta', h]),
    );
    for (const f of result.fallbacks ?? [])
      assert.match(
        f.reason,
        /failed in processing_phase: There was a problem uploading your video file/,
      );
    assert.deepEqual(result.rejected, [], 'a failed video is no rejection: the still runs');
    const ads = adsOf('DE');
    assert.deepEqual(ads.map(hashOf).sort(), top2(ranked));
    for (const ad of ads) {
      assert.equal(ad.fields.status, 'ACTIVE');
      const creative = creativeOf(ad);
      assert.equal(creative.fields.asset_feed_spec, undefined);
      assert.ok(
        (creative.fields.object_story_spec as { link_data?: unknown }).link_data,
        'a still',
      );
    }
    const writes = await listPlatformWrites(stack.database.db, { market: 'DE', date: DATE });
    const fallbacks = writes.filter((w) => w.operation === 'fallback_to_still');
    assert.equal(fallbacks.length, 2, 'each fall back audited');
    assert.match(String(fallbacks[0]!.detail.reason), /processing_phase/);
    assert.ok(!writes.some((w) => w.operation === 'create_video_creative'));

    const uploads = () =>
      stack.sandbox.meta.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/advideos'))
        .length;
    const before = uploads();
    await deploy('DE', ranked);
    assert.equal(uploads(), before, 'a video known to fail is not uploaded again');
  });

  it('switches a video ad the review disapproves to its still ad, audited, and keeps it running', async () => {
    const ranked = await prepare('EG');
    const review = stack.sandbox.meta.review;
    // The review takes its time and will turn the video ads down.
    review.rejectionRate = 1;
    review.delaySeconds = 3600;
    try {
      const first = await deploy('EG', ranked);
      assert.equal(first.platforms?.meta?.videoAds, 2, 'in review, and running as videos');
    } finally {
      review.rejectionRate = 0;
      review.delaySeconds = 0;
    }
    // The review has now ended: both video ads are disapproved.
    for (const ad of adsOf('EG')) ad.review!.until = 0;
    const result = await deploy('EG', ranked);
    assert.deepEqual(result.rejected, [], 'the creative is not given up: its still runs');
    assert.deepEqual([result.created, result.paused], [0, 0]);
    assert.deepEqual([result.platforms?.meta?.videoAds, result.platforms?.meta?.stillAds], [0, 2]);
    assert.deepEqual(result.fallbacks?.map((f) => f.hash).sort(), top2(ranked));
    for (const f of result.fallbacks ?? [])
      assert.match(f.reason, /video ad disapproved by review/);
    for (const ad of adsOf('EG')) {
      assert.equal(ad.fields.status, 'ACTIVE');
      assert.match(String(creativeOf(ad).fields.name), /\/android$/, 'its still creative');
      assert.equal(ad.review?.rejection, null, 'the still passed review');
    }
    const writes = await listPlatformWrites(stack.database.db, { market: 'EG', date: DATE });
    assert.equal(writes.filter((w) => w.operation === 'set_ad_creative').length, 2);
    assert.equal(writes.filter((w) => w.operation === 'fallback_to_still').length, 2);
    assert.deepEqual(await listRejections(stack.database.db, { market: 'EG' }), []);
  });

  it('makes no video, creative or ad twice under errors and lost answers', async () => {
    const ranked = await prepare('BR');
    const faults = stack.sandbox.meta.faults;
    faults.lostResponseRate = 0.3;
    faults.errorRate = 0.1;
    let attempts = 0;
    let result;
    try {
      // As Temporal would: retry the activity until it succeeds.
      for (;;) {
        attempts++;
        try {
          result = await deploy('BR', ranked);
          break;
        } catch (err) {
          if (attempts >= 40) throw err;
        }
      }
    } finally {
      faults.lostResponseRate = 0;
      faults.errorRate = 0;
    }
    assert.ok(
      stack.sandbox.meta.requests.some((r) => r.lost),
      'some answers were lost',
    );
    const ads = adsOf('BR');
    assert.deepEqual(ads.map(hashOf).sort(), top2(ranked), 'exactly one ad per creative');
    for (const [title, list] of videosOf('BR'))
      assert.equal(list.length, 1, `one uploaded video titled ${title}`);
    const names = stack.sandbox.meta.store
      .list('adcreative', account('BR'))
      .map((c) => String(c.fields.name))
      .filter((n) => n.startsWith('adloop/BR/'));
    assert.equal(new Set(names).size, names.length, 'no duplicate ad creative');
    // The result says honestly what runs: each still a recorded fall back.
    const meta = result.platforms?.meta;
    assert.equal((meta?.videoAds ?? 0) + (meta?.stillAds ?? 0), 2);
    assert.equal(meta?.stillAds ?? 0, result.fallbacks?.length ?? 0);
  });
});
