// The deploy stage against the sandbox's Google Ads API, through google-ads-api (gRPC mutates,
// REST queries) and the YouTube Data API: App campaigns per store, one app ad per ad group whose
// images and videos are the day's creatives, rotation by linking and unlinking assets, policy
// rejections replaced, no duplicate under lost answers; then ingest reads per-asset delivery and
// learn turns it into per-creative evidence that says what it cannot know.
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities, type Activities } from '../../activities/index.ts';
import { GOOGLE_COMBINATIONS_CAVEAT } from '../../activities/learn/learn.ts';
import { videoAssetName } from '../../activities/deploy/google-target.ts';
import { parseAdName } from '../../core/ids.ts';
import type { RenderedCreative } from '../../core/types.ts';
import { listPlatformWrites, listRejections } from '../../db/deploy.repository.ts';
import type { GoogleAds } from '../../platforms/google/google-ads.ts';
import { renderAll, typedRun } from '../helpers/activity.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const DATE = '2026-03-01';
/** The segment deploy makes in the test stack: the Play Store's (DEPLOY_OS android), for installs. */
const SEGMENT = (market: string) => `adloop/${market}/android/installs`;

describe('deploy to Google Ads (App campaigns)', () => {
  let stack: TestStack;
  let acts: Activities;
  let google: GoogleAds;
  const creatives = new Map<string, RenderedCreative[]>();
  const run = (market: string, date = DATE) =>
    typedRun(
      new MockActivityEnvironment({
        workflowExecution: { workflowId: `market/${market}/${date}`, runId: 'r1' },
      }),
    );

  /** Ingest, rank and render a market once: its ranked creatives (3 slots + 2 spares). */
  async function prepare(market: string): Promise<RenderedCreative[]> {
    const cached = creatives.get(market);
    if (cached) return cached;
    const r = run(market);
    const input = { market, date: DATE };
    await r(acts.startMarketRun, input);
    await r(acts.ingestCatalog, input);
    const { selected } = await r(acts.rankMarket, { ...input, metricsAvailable: true });
    const rendered = await renderAll(r, acts, { ...input, items: selected });
    assert.equal(rendered.length, 5);
    creatives.set(market, rendered);
    return rendered;
  }

  /** The segment's app ad as Google reports it: its images' and videos' names, linked now. */
  async function appAdOf(market: string) {
    const group = await google.findByName('ad_group', SEGMENT(market));
    assert.ok(group, `ad group ${SEGMENT(market)}`);
    const linked = (await google.linkedAssets(group.id)).filter((a) => a.enabled);
    const names = (type: string) =>
      linked
        .filter((a) => a.fieldType === type)
        .map((a) => a.name)
        .sort();
    return {
      group,
      ad: await google.appAd(group.id),
      images: names('MARKETING_IMAGE'),
      videos: names('YOUTUBE_VIDEO'),
    };
  }
  const hashes = (names: string[]) => names.map((n) => parseAdName(n)!.creativeHash).sort();

  before(async () => {
    stack = await startTestStack({
      google: true,
      adsPerMarket: 3,
      renderKinds: 'static,motion',
      renderRatios: '1:1,9:16',
      deploy: { DEPLOY_SPARES: 2, DEPLOY_PLATFORMS: ['google'] },
    });
    acts = createActivities(stack.deps);
    google = stack.deps.google!(stack.sandbox.googleCredentials.customerId);
  });
  after(async () => stack?.close());

  it('makes a paused App campaign per store, links the top three as images and videos, then switches it on', async () => {
    const ranked = await prepare('SE');
    const top3 = ranked.slice(0, 3).map((c) => c.hash);
    const first = await run('SE')(acts.deployCreatives, {
      market: 'SE',
      date: DATE,
      creatives: ranked,
    });
    assert.deepEqual([first.created, first.reused, first.paused], [3, 0, 0]);
    assert.deepEqual(first.platforms?.google?.adSets, [SEGMENT('SE')]);
    const { group, ad, images, videos } = await appAdOf('SE');
    assert.deepEqual(hashes(images), [...top3].sort());
    assert.deepEqual(hashes(videos), [...top3].sort(), 'each creative’s motion as a YouTube video');
    assert.deepEqual(videos, images.map(videoAssetName).sort());
    // Text that fits any image: the app's name and the templates' copy, in Google's limits.
    assert.ok(ad);
    assert.equal(ad.status, 'ENABLED');
    assert.ok(ad.assets.headlines.includes(stack.sandbox.world.app.name));
    assert.ok(ad.assets.headlines.length <= 5 && ad.assets.descriptions.length >= 1);
    const campaign = await google.findByName('campaign', SEGMENT('SE'));
    assert.equal(campaign?.status, 'ENABLED');
    assert.equal(group.status, 'ENABLED');
    assert.equal(group.campaignId, campaign?.id);
    // Created paused, switched on last: the audit's order says so.
    const writes = (await listPlatformWrites(stack.database.db, { market: 'SE' }))
      .filter((w) => w.platform === 'google')
      .map((w) => w.operation);
    const at = (op: string) => writes.indexOf(op);
    for (const op of ['create_campaign_budget', 'create_campaign', 'create_ad_group'])
      assert.ok(at(op) >= 0 && at(op) < at('enable_campaign'), `${op} before switching on`);
    assert.ok(at('create_app_ad') < at('enable_ad_group'));

    // A rerun of the day finds everything by name and writes nothing.
    const before = stack.sandbox.google.requests.filter((r) => r.transport === 'grpc').length;
    const again = await run('SE')(acts.deployCreatives, {
      market: 'SE',
      date: DATE,
      creatives: ranked,
    });
    assert.deepEqual([again.created, again.reused], [0, 3]);
    assert.equal(
      stack.sandbox.google.requests.filter((r) => r.transport === 'grpc').length,
      before,
      'no mutate on a rerun',
    );
  });

  it('prints the dry-run diff for Google and sends no mutate', async () => {
    const ranked = await prepare('SE');
    const dry = createActivities({
      ...stack.deps,
      config: { ...stack.deps.config, DEPLOY_MODE: 'dry-run' },
    });
    const mutates = () =>
      stack.sandbox.google.requests.filter((r) => r.transport === 'grpc').length;
    const before = mutates();
    const plan = await run('SE')(dry.planDeployment, {
      market: 'SE',
      date: DATE,
      creatives: ranked.slice(1),
    });
    assert.equal(plan.dryRun, true);
    assert.deepEqual(plan.counts, {
      create: 1,
      keep: 2,
      resume: 0,
      pause: 1,
      archive: 0,
      budget: 0,
    });
    const text = plan.lines.join('\n');
    assert.match(text, /google adloop\/SE\/android\/installs\n/);
    assert.match(text, new RegExp(`- pause +${ranked[0]!.hash.slice(0, 12)} +dropped`));
    assert.equal(mutates(), before, 'a dry run only reads');
  });

  it('rotates by unlinking the creative that fell out and linking the next, assets kept', async () => {
    const ranked = await prepare('SE');
    const next = [ranked[0]!, ranked[1]!, ranked[3]!];
    await run('SE', '2026-03-02')(acts.startMarketRun, { market: 'SE', date: '2026-03-02' });
    const result = await run('SE', '2026-03-02')(acts.deployCreatives, {
      market: 'SE',
      date: '2026-03-02',
      creatives: [...next, ranked[4]!],
    });
    assert.deepEqual([result.created, result.paused], [1, 1]);
    const { images, videos, group } = await appAdOf('SE');
    assert.deepEqual(hashes(images), next.map((c) => c.hash).sort());
    assert.deepEqual(hashes(videos), next.map((c) => c.hash).sort());
    // The unlinked one is still the customer's asset, reported as no longer linked.
    const all = await google.linkedAssets(group.id);
    const dropped = all.find(
      (a) =>
        a.fieldType === 'MARKETING_IMAGE' && parseAdName(a.name)!.creativeHash === ranked[2]!.hash,
    );
    assert.equal(dropped?.enabled, false);
  });

  it('replaces an image Google’s policy review disapproves with the next ranked creative', async () => {
    const ranked = await prepare('DE');
    // Google's review judges each image (and video) on its own: a seeded share is disapproved.
    stack.sandbox.google.review.rejectionRate = 0.35;
    try {
      const result = await run('DE')(acts.deployCreatives, {
        market: 'DE',
        date: DATE,
        creatives: ranked,
      });
      const rejected = await listRejections(stack.database.db, { market: 'DE' });
      const refused = new Set(rejected.map((r) => r.creative_hash));
      assert.ok(refused.size > 0, 'the review disapproved something');
      assert.ok(rejected.every((r) => r.platform === 'google' && r.reason.length > 0));
      assert.deepEqual(result.rejected?.map((r) => r.hash).sort(), [...refused].sort());
      // The live images are the best ranked of those the review let through.
      const { images } = await appAdOf('DE');
      assert.deepEqual(
        hashes(images),
        ranked
          .filter((c) => !refused.has(c.hash))
          .slice(0, 3)
          .map((c) => c.hash)
          .sort(),
      );
    } finally {
      stack.sandbox.google.review.rejectionRate = 0;
    }
  });

  it('makes no duplicate campaign, ad group, asset or video under 5xx and lost answers', async () => {
    const ranked = await prepare('BR');
    const f = stack.sandbox.google.faults;
    f.errorRate = 0.1;
    f.lostResponseRate = 0.3;
    let attempts = 0;
    try {
      // As Temporal would: retry the activity until it succeeds.
      for (;;) {
        attempts++;
        try {
          await run('BR')(acts.deployCreatives, { market: 'BR', date: DATE, creatives: ranked });
          break;
        } catch (err) {
          if (attempts >= 40) throw err;
        }
      }
    } finally {
      f.errorRate = 0;
      f.lostResponseRate = 0;
    }
    assert.ok(
      stack.sandbox.google.requests.some((r) => r.lost),
      'some answers were lost',
    );
    const writes = await listPlatformWrites(stack.database.db, { market: 'BR' });
    assert.ok(
      writes.some((w) => w.platform === 'google' && w.result === 'lost'),
      'lost writes are audited as lost',
    );
    // A video the faults kept out (its upload failed: the image ran alone) is linked by the next
    // deploy, uploaded once.
    await run('BR')(acts.deployCreatives, { market: 'BR', date: DATE, creatives: ranked });
    const { images, videos } = await appAdOf('BR');
    assert.equal(images.length, 3);
    assert.deepEqual(videos, images.map(videoAssetName).sort());
    const names = [...images, ...videos];
    const found = await google.findAssetsByName(names);
    assert.equal(found.size, names.length);
    const store = stack.sandbox.google.store;
    const cid = stack.sandbox.googleCredentials.customerId;
    const count = (type: 'campaign' | 'ad_group' | 'asset' | 'campaign_budget', name: string) =>
      store.list(type, cid).filter((o) => o.fields.name === name).length;
    assert.equal(count('campaign', SEGMENT('BR')), 1);
    assert.equal(count('campaign_budget', SEGMENT('BR')), 1);
    assert.equal(count('ad_group', SEGMENT('BR')), 1);
    for (const n of names) assert.equal(count('asset', n), 1, n);
    const titles = store
      .list('youtube_video', cid)
      .map((v) => String((v.fields.snippet as { title?: string } | undefined)?.title ?? ''));
    assert.equal(new Set(titles).size, titles.length, 'each creative uploaded to YouTube once');
  });

  it('runs the images alone while YouTube’s quota is spent, and links the videos once it is back', async () => {
    const ranked = await prepare('EG');
    const g = stack.sandbox.world.google;
    const quota = g.youtubeDailyQuota;
    // The project's YouTube quota is spent for the day (an upload costs 1,600 units).
    g.youtubeDailyQuota = 1;
    try {
      const result = await run('EG')(acts.deployCreatives, {
        market: 'EG',
        date: DATE,
        creatives: ranked,
      });
      assert.equal(result.platforms?.google?.adIds.length, 3, 'the images went live');
      const { images, videos } = await appAdOf('EG');
      assert.equal(images.length, 3);
      assert.deepEqual(videos, []);
    } finally {
      g.youtubeDailyQuota = quota;
    }
    await run('EG')(acts.deployCreatives, { market: 'EG', date: DATE, creatives: ranked });
    const { images, videos } = await appAdOf('EG');
    assert.deepEqual(videos, images.map(videoAssetName).sort());
  });

  it('ingests per-asset delivery in the customer’s days, and learn says what it cannot know', async () => {
    // Three days of delivery of SE's App campaign.
    stack.sandbox.clock.set('2026-03-05');
    const r = run('SE', '2026-03-05');
    const input = { market: 'SE', date: '2026-03-05' };
    await r(acts.startMarketRun, input);
    const metrics = await r(acts.ingestPlatformMetrics, input);
    assert.ok(metrics.rows > 0, 'Google delivery rows stored');
    const learned = await r(acts.learnFromResults, input);
    assert.ok(learned.creatives >= 3);
    assert.ok(learned.impressions > 0);
    assert.deepEqual(learned.caveats, [GOOGLE_COMBINATIONS_CAVEAT]);
  });
});
