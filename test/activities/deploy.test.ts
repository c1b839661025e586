// The deploy stage against the sandbox's Meta and TikTok servers, through the official SDKs:
// create, keep, rotate and pause; the dry-run diff; rejected creatives replaced; no duplicates
// under injected faults, lost responses included; every write audited.
import { FAILURE } from '../../core/failures.ts';
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { storedRunCreatives } from '../../activities/deploy/stored-creatives.ts';
import { createActivities, type Activities } from '../../activities/index.ts';
import { parseAccounts } from '../../core/accounts.ts';
import { parseAdName } from '../../core/ids.ts';
import type { RenderedCreative } from '../../core/types.ts';
import { getDeployPlan, listPlatformWrites, listRejections } from '../../db/deploy.repository.ts';
import { SANDBOX_DAILY_BUDGET, sandboxAccounts } from '../../sandbox/accounts.ts';
import type { Sandbox } from '../../sandbox/index.ts';
import { renderAll, typedRun } from '../helpers/activity.ts';
import { sandboxMetaAccount, startTestStack, type TestStack } from '../helpers/stack.ts';

const DATE = '2026-03-01';
/** The ad sets deploy makes in the test stack: the Play Store's (DEPLOY_OS android), for installs. */
const adSet = (market: string) => `adloop/${market}/android/installs`;

/** adloop's ads on each platform, straight from the sandbox stores: [name, status, review]. */
function platformAds(sandbox: Sandbox, market: string) {
  const meta = sandbox.meta.store
    .list('ad', sandboxMetaAccount(sandbox, market))
    .filter((a) => parseAdName(String(a.fields.name))?.market === market)
    .map((a) => ({ id: a.id, name: String(a.fields.name), status: String(a.fields.status) }));
  const tiktok = sandbox.tiktok.store
    .list('ad', sandbox.tiktokCredentials.advertiserId)
    .filter((a) => parseAdName(String(a.fields.ad_name))?.market === market)
    .map((a) => ({
      id: a.id,
      name: String(a.fields.ad_name),
      status: String(a.fields.operation_status),
    }));
  return { meta, tiktok };
}

/**
 * The writes (POSTs) both sandboxes receive from now on: each platform's log is marked on its
 * own, since one offset into the two logs joined would count the last calls of one as new.
 */
function postsFrom(sandbox: Sandbox): () => Array<{ method: string; path: string }> {
  const meta = sandbox.meta.requests.length;
  const tiktok = sandbox.tiktok.requests.length;
  return () =>
    [...sandbox.meta.requests.slice(meta), ...sandbox.tiktok.requests.slice(tiktok)].filter(
      (r) => r.method === 'POST',
    );
}

const hashOf = (name: string) => parseAdName(name)!.creativeHash;
const live = (ads: Array<{ name: string; status: string }>) =>
  ads
    .filter((a) => a.status === 'ACTIVE' || a.status === 'ENABLE')
    .map((a) => hashOf(a.name))
    .sort();

describe('deploy to Meta and TikTok', () => {
  let stack: TestStack;
  let acts: Activities;
  const creatives = new Map<string, RenderedCreative[]>();
  const env = (market: string) =>
    new MockActivityEnvironment({
      workflowExecution: { workflowId: `market/${market}/${DATE}`, runId: 'r1' },
    });
  const run = (market: string) => typedRun(env(market));

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

  before(async () => {
    stack = await startTestStack({ adsPerMarket: 3, deploy: { DEPLOY_SPARES: 2 } });
    acts = createActivities(stack.deps);
  });
  after(async () => stack?.close());

  it('creates the top three on both platforms; a rerun finds them and writes nothing', async () => {
    const ranked = await prepare('SE');
    const input = { market: 'SE', date: DATE, creatives: ranked };
    const first = await run('SE')(acts.deployCreatives, input);
    assert.deepEqual([first.created, first.reused, first.paused], [6, 0, 0]);
    const top3 = ranked
      .slice(0, 3)
      .map((c) => c.hash)
      .sort();
    const ads = platformAds(stack.sandbox, 'SE');
    assert.deepEqual(live(ads.meta), top3);
    assert.deepEqual(live(ads.tiktok), top3);
    assert.deepEqual(first.platforms?.meta?.adSets, [adSet('SE')]);
    assert.deepEqual(first.platforms?.tiktok?.adSets, [adSet('SE')]);
    // An app ad leads to its ad group's store listing and, once installed, to the artist in the
    // app through the deep link of the accounts file: no web landing page.
    const tt = stack.sandbox.tiktok.store.list('ad', stack.sandbox.tiktokCredentials.advertiserId);
    assert.equal(tt.length, 3);
    for (const ad of tt) {
      const c = ranked.find((r) => r.hash === hashOf(String(ad.fields.ad_name)))!;
      assert.deepEqual(
        [ad.fields.landing_page_url, ad.fields.deeplink, ad.fields.call_to_action],
        [
          undefined,
          stack.sandbox.world.app.android.deepLink.replace('{artist_id}', c.artistId),
          'INSTALL_NOW',
        ],
      );
    }

    const posts = postsFrom(stack.sandbox);
    const again = await run('SE')(acts.deployCreatives, input);
    assert.deepEqual([again.created, again.reused, again.paused, again.writes], [0, 6, 0, 0]);
    assert.deepEqual(again.adIds, first.adIds);
    assert.deepEqual(posts(), [], 'a rerun only reads');
  });

  it('audits every write with its request id and result', async () => {
    const rows = await listPlatformWrites(stack.database.db, { market: 'SE', date: DATE });
    const ads = platformAds(stack.sandbox, 'SE');
    for (const [platform, list] of Object.entries(ads))
      for (const ad of list) {
        const row = rows.find(
          (r) =>
            r.platform === platform && r.operation === 'create_ad' && r.object_name === ad.name,
        );
        assert.ok(row, `${platform} ${ad.name} was audited`);
        assert.equal(row.result, 'ok');
        assert.equal(row.external_id, ad.id);
        assert.match(row.request_id ?? '', /\w{8,}/);
      }
    const ops = new Set(rows.map((r) => `${r.platform}:${r.operation}`));
    for (const op of [
      'meta:create_campaign',
      'meta:create_adset',
      'meta:upload_image',
      'meta:create_creative',
      'tiktok:create_campaign',
      'tiktok:create_adgroup',
      'tiktok:upload_image',
    ])
      assert.ok(ops.has(op), op);
  });

  it('rebuilds a run’s deployable creatives from the database, as deploy:plan plans with', async () => {
    const ranked = await prepare('SE');
    const stored = await storedRunCreatives(stack.database.db, 'SE', DATE);
    assert.deepEqual(
      stored.map((c) => [c.hash, c.artistId, c.templateId, c.platformAssets]),
      ranked.map((c) => [c.hash, c.artistId, c.templateId, c.platformAssets]),
    );
    assert.equal(stored[0]!.platformAssets?.meta?.ratio, '1:1');
    assert.equal(stored[0]!.platformAssets?.tiktok?.ratio, '9:16');
  });

  it('prints the dry-run diff and writes nothing', async () => {
    const ranked = await prepare('SE');
    const dry = createActivities({
      ...stack.deps,
      config: { ...stack.deps.config, DEPLOY_MODE: 'dry-run' },
    });
    const posts = postsFrom(stack.sandbox);
    // Tomorrow's ranking drops #1 and brings in #4.
    const plan = await run('SE')(dry.planDeployment, {
      market: 'SE',
      date: DATE,
      creatives: ranked.slice(1),
    });
    assert.equal(plan.dryRun, true);
    assert.deepEqual(plan.counts, {
      create: 2,
      keep: 4,
      resume: 0,
      pause: 2,
      archive: 0,
      budget: 0,
    });
    const text = plan.lines.join('\n');
    assert.match(text, /^deploy plan SE 2026-03-01: 2 create, 4 keep, 0 resume, 2 pause/);
    assert.match(text, /meta adloop\/SE\/android\/installs\n/);
    assert.match(text, /tiktok adloop\/SE\/android\/installs\n/);
    assert.match(text, new RegExp(`\\+ create +${ranked[3]!.hash.slice(0, 12)} +#3 `));
    assert.match(text, new RegExp(`- pause +${ranked[0]!.hash.slice(0, 12)} +dropped`));
    assert.deepEqual(posts(), [], 'a dry run only reads');
    const stored = await getDeployPlan(stack.database.db, { market: 'SE', date: DATE });
    assert.equal(stored?.status, 'dry-run');
  });

  it('rotates: the creative that fell out is paused (never deleted), the next one goes live, and it comes back', async () => {
    const ranked = await prepare('SE');
    const input = { market: 'SE', date: DATE };
    const rotated = await run('SE')(acts.deployCreatives, { ...input, creatives: ranked.slice(1) });
    assert.deepEqual([rotated.created, rotated.paused], [2, 2]);
    const want = ranked
      .slice(1, 4)
      .map((c) => c.hash)
      .sort();
    let ads = platformAds(stack.sandbox, 'SE');
    assert.deepEqual(live(ads.meta), want);
    assert.deepEqual(live(ads.tiktok), want);
    assert.equal(ads.meta.length, 4, 'the paused ad is kept');
    assert.equal(ads.tiktok.length, 4);
    const back = await run('SE')(acts.deployCreatives, { ...input, creatives: ranked });
    assert.deepEqual([back.created, back.resumed, back.paused], [0, 2, 2]);
    ads = platformAds(stack.sandbox, 'SE');
    assert.deepEqual(
      live(ads.meta),
      ranked
        .slice(0, 3)
        .map((c) => c.hash)
        .sort(),
    );
  });

  it('records a rejected creative with its reason and gives its slot to the next ranked', async () => {
    const ranked = await prepare('DE');
    // Meta's review turns down the top creative's text (its artist's name, for this test).
    const term = ranked[0]!.adText!.message.split(/\s+/)[0]!;
    stack.sandbox.meta.review.bannedTerms = [term];
    try {
      const result = await run('DE')(acts.deployCreatives, {
        market: 'DE',
        date: DATE,
        creatives: ranked,
      });
      assert.equal(result.rejected?.length, 1);
      assert.equal(result.rejected[0]!.platform, 'meta');
      assert.equal(result.rejected[0]!.hash, ranked[0]!.hash);
      assert.match(result.rejected[0]!.reason, new RegExp(term));
      const ads = platformAds(stack.sandbox, 'DE');
      const next = [ranked[1]!, ranked[2]!, ranked[3]!].map((c) => c.hash).sort();
      assert.deepEqual(live(ads.meta), next, 'the spare took the slot');
      assert.deepEqual(
        live(ads.tiktok),
        ranked
          .slice(0, 3)
          .map((c) => c.hash)
          .sort(),
        'TikTok approved it',
      );
      const rejected = await listRejections(stack.database.db, { market: 'DE' });
      assert.deepEqual(
        rejected.map((r) => [r.platform, r.creative_hash]),
        [['meta', ranked[0]!.hash]],
      );
      // Tomorrow it is not offered to Meta again.
      const plan = await run('DE')(acts.planDeployment, {
        market: 'DE',
        date: DATE,
        creatives: ranked,
      });
      assert.equal(plan.counts.create, 0);
      assert.ok(plan.lines.some((l) => l.includes('skip') && l.includes('rejected by review')));
    } finally {
      stack.sandbox.meta.review.bannedTerms = [];
    }
  });

  it('creates no duplicate under errors and lost responses on both platforms', async () => {
    const ranked = await prepare('BR');
    for (const p of [stack.sandbox.meta, stack.sandbox.tiktok]) {
      p.faults.lostResponseRate = 0.3;
      p.faults.errorRate = 0.1;
    }
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
      for (const p of [stack.sandbox.meta, stack.sandbox.tiktok]) {
        p.faults.lostResponseRate = 0;
        p.faults.errorRate = 0;
      }
    }
    const lost = [...stack.sandbox.meta.requests, ...stack.sandbox.tiktok.requests].filter(
      (r) => r.lost,
    );
    assert.ok(lost.length > 0, 'some answers were lost');
    const ads = platformAds(stack.sandbox, 'BR');
    const top3 = ranked
      .slice(0, 3)
      .map((c) => c.hash)
      .sort();
    for (const list of [ads.meta, ads.tiktok]) {
      assert.deepEqual(list.map((a) => hashOf(a.name)).sort(), top3, 'exactly one ad per creative');
      assert.deepEqual(live(list), top3);
    }
    const metaCreatives = stack.sandbox.meta.store
      .list('adcreative', sandboxMetaAccount(stack.sandbox, 'BR'))
      .map((c) => String(c.fields.name))
      .filter((n) => n.startsWith('adloop/BR/'));
    assert.equal(new Set(metaCreatives).size, metaCreatives.length, 'no duplicate ad creative');
    const campaigns = stack.sandbox.tiktok.store
      .list('campaign', stack.sandbox.tiktokCredentials.advertiserId)
      .filter((c) => c.fields.campaign_name === 'adloop/BR');
    assert.equal(campaigns.length, 1, 'no duplicate campaign');
    const rows = await listPlatformWrites(stack.database.db, { market: 'BR' });
    assert.ok(
      rows.some((r) => r.result === 'lost'),
      'lost writes are audited as lost',
    );
  });

  it('keeps ad sets within the 50-ad caps: Meta archives the oldest idle ads, TikTok rolls over to a new ad group', async () => {
    const ranked = await prepare('EG');
    const input = { market: 'EG', date: DATE };
    await run('EG')(acts.deployCreatives, { ...input, creatives: ranked });
    const db = stack.database.db;
    const adSetOf = async (platform: string) =>
      await db
        .selectFrom('platform_objects')
        .selectAll()
        .where('platform', '=', platform)
        .where('kind', '=', 'adset')
        .where('market', '=', 'EG')
        .orderBy('name')
        .execute();
    // Fill both ad sets with 46 old, paused adloop ads: 49 each, one below the cap.
    const old = (i: number) =>
      `${adSet('EG')}/ad/2026-02-01/${createHash('sha256').update(`old${i}`).digest('hex').slice(0, 24)}`;
    const [metaSet] = await adSetOf('meta');
    const creativeId = stack.sandbox.meta.store
      .list('adcreative', sandboxMetaAccount(stack.sandbox, 'EG'))
      .find((c) => String(c.fields.name).startsWith('adloop/EG/creative/'))!.id;
    const made = await stack.metaOf('EG').createMany(
      'ads',
      Array.from({ length: 46 }, (_, i) => ({
        ...stack.metaOf('EG').adParams({ name: old(i), adsetId: metaSet!.external_id, creativeId }),
        status: 'PAUSED',
      })),
    );
    assert.ok(made.every((r) => r.id));
    const [tiktokSet] = await adSetOf('tiktok');
    const tt = stack.tiktokOf('EG');
    const imageId = String(
      stack.sandbox.tiktok.store.list('image', stack.sandbox.tiktokCredentials.advertiserId)[0]!.id,
    );
    const ids = await tt.createAds(
      tiktokSet!.external_id,
      Array.from({ length: 46 }, (_, i) => ({
        name: old(i),
        imageId,
        identity: { type: 'CUSTOMIZED_USER', id: stack.sandbox.world.tiktok.identityId },
        landingPageUrl: 'https://listen.adloop.example/',
        text: 'old',
      })),
    );
    await tt.setAdStatuses(ids, 'DISABLE');

    // Tomorrow two new creatives come in: 51 ads would not fit.
    const result = await run('EG')(acts.deployCreatives, { ...input, creatives: ranked.slice(2) });
    assert.equal(result.archived, 1, 'Meta archived the oldest idle ad');
    const metaAds = stack.sandbox.meta.store
      .list('ad', sandboxMetaAccount(stack.sandbox, 'EG'))
      .filter((a) => a.fields.adset_id === metaSet!.external_id);
    assert.equal(metaAds.filter((a) => a.fields.status !== 'ARCHIVED').length, 50);
    assert.ok(
      String(metaAds.find((a) => a.fields.status === 'ARCHIVED')?.fields.name).includes(
        '2026-02-01',
      ),
    );
    const want = ranked
      .slice(2, 5)
      .map((c) => c.hash)
      .sort();
    assert.deepEqual(live(platformAds(stack.sandbox, 'EG').meta), want);

    const groups = await adSetOf('tiktok');
    assert.deepEqual(
      groups.map((g) => [g.name, g.status]),
      [
        [adSet('EG'), 'DISABLE'],
        [`${adSet('EG')}#2`, 'ENABLE'],
      ],
    );
    const second = stack.sandbox.tiktok.store
      .list('ad', stack.sandbox.tiktokCredentials.advertiserId)
      .filter((a) => a.fields.adgroup_id === groups[1]!.external_id);
    assert.deepEqual(second.map((a) => hashOf(String(a.fields.ad_name))).sort(), want);
    assert.equal(
      stack.sandbox.tiktok.store.get(groups[0]!.external_id, 'adgroup')?.fields.operation_status,
      'DISABLE',
      'the full ad group is disabled, its ads kept',
    );

    // A rollover cut short (the old group still enabled) is finished by the next deploy.
    await tt.setAdGroupStatus([groups[0]!.external_id], 'ENABLE');
    await db
      .updateTable('platform_objects')
      .set({ status: 'ENABLE' })
      .where('name', '=', adSet('EG'))
      .where('platform', '=', 'tiktok')
      .execute();
    const plan = await run('EG')(acts.planDeployment, { ...input, creatives: ranked.slice(2) });
    assert.ok(plan.lines.includes(`    ! disable ad group ${adSet('EG')} (full)`));
    await run('EG')(acts.deployCreatives, { ...input, creatives: ranked.slice(2) });
    assert.equal(
      stack.sandbox.tiktok.store.get(groups[0]!.external_id, 'adgroup')?.fields.operation_status,
      'DISABLE',
    );
  });

  it('gives the slot of a creative a platform refuses at creation to the next ranked', async () => {
    const ranked = await prepare('SE');
    // TikTok refuses an ad without text; Meta takes it.
    const creatives = [
      { ...ranked[4]!, adText: { message: '', headline: '' } },
      ...ranked.slice(0, 4),
    ];
    const other = { market: 'SE', date: '2026-03-02', creatives };
    await run('SE')(acts.startMarketRun, other);
    const result = await run('SE')(acts.deployCreatives, other);
    assert.deepEqual(
      result.rejected?.map((r) => [r.platform, r.hash]),
      [['tiktok', ranked[4]!.hash]],
    );
    assert.match(result.rejected[0]!.reason, /refused at creation: .*ad_text/);
    const ads = platformAds(stack.sandbox, 'SE');
    assert.deepEqual(
      live(ads.tiktok),
      [ranked[0]!, ranked[1]!, ranked[2]!].map((c) => c.hash).sort(),
    );
    assert.deepEqual(
      live(ads.meta),
      [ranked[4]!, ranked[0]!, ranked[1]!].map((c) => c.hash).sort(),
    );
  });
});

describe('deploy switches on at the end, within the spend caps', () => {
  let stack: TestStack;
  const env = (market: string) =>
    new MockActivityEnvironment({
      workflowExecution: { workflowId: `market/${market}/${DATE}`, runId: 'r1' },
    });

  /** Ingest, rank and render a market: its three ranked creatives. */
  async function prepare(acts: Activities, market: string): Promise<RenderedCreative[]> {
    const r = typedRun(env(market));
    const input = { market, date: DATE };
    await r(acts.startMarketRun, input);
    await r(acts.ingestCatalog, input);
    const { selected } = await r(acts.rankMarket, { ...input, metricsAvailable: true });
    return renderAll(r, acts, { ...input, items: selected });
  }

  before(async () => {
    stack = await startTestStack({ adsPerMarket: 3 });
  });
  after(async () => stack?.close());

  /** The market's campaign, ad set and ads on each platform as the sandbox holds them now. */
  function snapshot(market: string) {
    const m = stack.sandbox.meta.store;
    const account = sandboxMetaAccount(stack.sandbox, market);
    const t = stack.sandbox.tiktok.store;
    const advertiser = stack.sandbox.tiktokCredentials.advertiserId;
    const ours = (name: unknown) => String(name).startsWith(`adloop/${market}`);
    /** The market's objects of one kind: id and status, found by their name field. */
    const objects = (
      list: Array<{ id: string; fields: Record<string, unknown> }>,
      nameField: string,
      statusField: string,
    ) =>
      list
        .filter((o) => ours(o.fields[nameField]))
        .map((o) => ({ id: o.id, status: String(o.fields[statusField]) }));
    return {
      meta: {
        campaigns: objects(m.list('campaign', account), 'name', 'status'),
        adSets: objects(m.list('adset', account), 'name', 'status'),
        ads: objects(m.list('ad', account), 'name', 'status'),
      },
      tiktok: {
        campaigns: objects(t.list('campaign', advertiser), 'campaign_name', 'operation_status'),
        adSets: objects(t.list('adgroup', advertiser), 'adgroup_name', 'operation_status'),
        ads: objects(t.list('ad', advertiser), 'ad_name', 'operation_status'),
      },
    };
  }

  it('creates campaign, ad set and ads paused, and switches them on only once every ad exists', async () => {
    const acts = createActivities(stack.deps);
    const ranked = await prepare(acts, 'SE');
    // The platforms' state after every answer either sandbox sends during the deploy.
    const seen: Array<ReturnType<typeof snapshot>> = [];
    const look = () => seen.push(snapshot('SE'));
    stack.sandbox.meta.on('request', look);
    stack.sandbox.tiktok.on('request', look);
    try {
      await typedRun(env('SE'))(acts.deployCreatives, {
        market: 'SE',
        date: DATE,
        creatives: ranked,
      });
    } finally {
      stack.sandbox.meta.off('request', look);
      stack.sandbox.tiktok.off('request', look);
    }
    const on = (s: string) => s === 'ACTIVE' || s === 'ENABLE';
    for (const platform of ['meta', 'tiktok'] as const) {
      const states = seen.map((s) => s[platform]);
      const final = states.at(-1)!;
      assert.deepEqual(
        [final.campaigns.length, final.adSets.length, final.ads.length],
        [1, 1, 3],
        `${platform}: one campaign, one ad set (Android installs), three ads`,
      );
      assert.ok(
        [...final.campaigns, ...final.adSets, ...final.ads].every((o) => on(o.status)),
        `${platform}: all of it is on at the end`,
      );
      // Each object's status when the sandbox first held it: created paused.
      const first = new Map<string, string>();
      for (const s of states)
        for (const o of [...s.campaigns, ...s.adSets, ...s.ads])
          if (!first.has(o.id)) first.set(o.id, o.status);
      assert.equal(first.size, 5);
      assert.deepEqual(
        [...first.values()].filter(on),
        [],
        `${platform}: nothing was created switched on`,
      );
      // While ads were still being created, neither their ad set nor its campaign was on.
      for (const s of states)
        if (s.ads.length < 3)
          assert.ok(
            ![...s.campaigns, ...s.adSets, ...s.ads].some((o) => on(o.status)),
            `${platform}: something was on with ${s.ads.length} of 3 ads made`,
          );
    }
    // adloop's own record says the same: every create precedes every switch-on, per platform.
    const rows = await listPlatformWrites(stack.database.db, { market: 'SE', date: DATE });
    for (const platform of ['meta', 'tiktok']) {
      const mine = rows.filter((r) => r.platform === platform);
      const creates = mine.filter((r) => /^(create|upload)_/.test(r.operation));
      const switchOns = mine.filter((r) => /^(resume|enable)_/.test(r.operation));
      assert.deepEqual(
        switchOns.map((r) => r.object_kind).sort(),
        ['ad', 'ad', 'ad', 'adset', 'campaign'],
        `${platform}: three ads, then their ad set and campaign, switched on`,
      );
      assert.ok(
        Math.max(...creates.map((r) => r.id)) < Math.min(...switchOns.map((r) => r.id)),
        `${platform}: a switch-on was written before the last create`,
      );
    }
  });

  it('refuses with ERR_SPEND_CAP before any write when the market’s budgets break its cap', async () => {
    // SE's budgets: an Android ad set on each platform, 500 EUR on Meta (the EUR account) and
    // 500 USD on TikTok (460 EUR): 960 EUR a day, over a cap of 900.
    const raw = sandboxAccounts(stack.sandbox.world);
    const accounts = parseAccounts(
      {
        ...raw,
        markets: {
          ...raw.markets,
          DE: {
            dailyBudget: { meta: SANDBOX_DAILY_BUDGET, tiktok: SANDBOX_DAILY_BUDGET },
            spendCap: '900',
          },
        },
      },
      'a capped accounts file',
    );
    const acts = createActivities({ ...stack.deps, accounts });
    const ranked = await prepare(acts, 'DE');
    const posts = postsFrom(stack.sandbox);
    await assert.rejects(
      typedRun(env('DE'))(acts.deployCreatives, { market: 'DE', date: DATE, creatives: ranked }),
      (e: Error & { type?: string; nonRetryable?: boolean }) => {
        assert.equal(e.type, FAILURE.spendCap);
        assert.equal(e.nonRetryable, true);
        assert.match(
          e.message,
          /DE's daily budgets come to 960\.00 EUR \(meta 1 x 500\.00 EUR \+ tiktok 1 x 500\.00 USD\), over its spend cap of 900\.00 EUR/,
        );
        assert.match(e.message, /nothing was written/);
        return true;
      },
    );
    assert.deepEqual(posts(), [], 'no call wrote to either platform');
    assert.deepEqual(await listPlatformWrites(stack.database.db, { market: 'DE' }), []);
    const before = snapshot('DE');
    assert.deepEqual(
      [before.meta.campaigns, before.tiktok.campaigns, before.meta.ads, before.tiktok.ads],
      [[], [], [], []],
    );
    // The same file with the cap at the budgets lets the deploy through.
    const atCap = parseAccounts(
      {
        ...raw,
        markets: {
          ...raw.markets,
          DE: {
            dailyBudget: { meta: SANDBOX_DAILY_BUDGET, tiktok: SANDBOX_DAILY_BUDGET },
            spendCap: '960',
          },
        },
      },
      'an accounts file capped at the budgets',
    );
    const ok = await typedRun(env('DE'))(
      createActivities({ ...stack.deps, accounts: atCap }).deployCreatives,
      { market: 'DE', date: DATE, creatives: ranked },
    );
    assert.equal(ok.created, 6);
  });
});
