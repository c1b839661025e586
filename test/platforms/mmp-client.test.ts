// The MMP sandboxes (Adjust Report Service, Branch Query API) over plain HTTP and through adloop's
// MMP clients, with a real Meta sandbox as what was delivered: ads are created through the Meta
// client, the clock moves over several days, and the MMPs report what they would attribute.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { addDays, dateRange } from '../../core/dates.ts';
import { deepLink } from '../../core/tracking.ts';
import { PlatformError } from '../../platforms/errors.ts';
import { createMetaAds } from '../../platforms/meta/meta-ads.ts';
import { createMmp, type AttributionRow, type Mmp } from '../../platforms/mmp/index.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { createMmpSandbox, type MmpSandbox } from '../../sandbox/mmp/index.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';
import { TEST_APP, TEST_APP_ANDROID, appLinkOf, liveAd, liveAdSet } from '../helpers/meta-app.ts';

const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

const START = '2026-03-01';
const TODAY = '2026-03-06';
const ADJUST_DIMS =
  'day,os_name,partner_name,campaign_network,campaign_id_network,adgroup_network,adgroup_id_network,creative_network,creative_id_network';
const ADJUST_METRICS =
  'installs,registration_events,subscription_events,skad_installs,registration_events_est,subscription_events_est';

async function listen(
  handler: http.RequestListener,
): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const close = (server: http.Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

const sum = (rows: AttributionRow[], k: 'installs' | 'registrations' | 'subscriptions') =>
  rows.reduce((s, r) => s + r[k], 0);

describe('sandbox MMP APIs (Adjust, Branch)', () => {
  let sandbox: Sandbox;
  let mmp: MmpSandbox;
  let adjustUrl: string;
  let branchUrl: string;
  let adjust: Mmp;
  let branch: Mmp;
  const servers: http.Server[] = [];
  const adIds = new Set<string>();
  const campaignIds: string[] = [];

  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: START });
    const meta = createMetaAds({ graphUrl: sandbox.metaUrl, ...sandbox.credentials });
    const { hash } = await meta.uploadImage(PNG_1x1, 'one.png');
    // Two campaigns in two markets, each with an iOS and an Android ad set (Meta promotes one
    // store per ad set) of four creatives, with budgets large enough that loss and noise are
    // visible in the totals.
    for (const market of ['SE', 'DE']) {
      const campaignId = await meta.createCampaign({ name: `adloop/${market}` });
      campaignIds.push(campaignId);
      for (const [n, [os, app]] of (
        [
          ['ios', TEST_APP],
          ['android', TEST_APP_ANDROID],
        ] as const
      ).entries()) {
        const adsetId = await liveAdSet(meta, {
          name: `adloop/${market}/${os}`,
          campaignId,
          country: market,
          dailyBudgetMinor: 150_000,
          os,
          app,
        });
        for (const [i, artistId] of ['a01', 'a02', 'a03', 'a04'].entries()) {
          const link = deepLink({ platform: 'meta', market, artistId, templateId: 'spotlight' });
          const k = n * 4 + i;
          const creativeId = await meta.createCreative({
            name: `c-${market}-${k}`,
            imageHash: hash,
            storeUrl: app.storeUrl,
            appLink: appLinkOf(link),
            message: 'm',
            headline: 'h',
          });
          adIds.add(await liveAd(meta, { name: `ad-${market}-${k}`, adsetId, creativeId }));
        }
      }
    }
    sandbox.clock.set(TODAY);
    mmp = createMmpSandbox({ world: sandbox.world, sources: [sandbox.meta], clock: sandbox.clock });
    const a = await listen(mmp.adjust.handle);
    const b = await listen(mmp.branch.handle);
    servers.push(a.server, b.server);
    adjustUrl = a.url;
    branchUrl = b.url;
    const { adjust: adj, branch: br } = sandbox.world.mmp;
    adjust = createMmp({ provider: 'adjust', baseUrl: adjustUrl, ...adj });
    branch = createMmp({ provider: 'branch', baseUrl: branchUrl, ...br });
  });

  after(async () => {
    for (const s of servers) await close(s);
    await sandbox?.close();
  });

  /** A raw Adjust report request. */
  function adjustGet(params: Record<string, string>, headers: Record<string, string> = {}) {
    const url = new URL('/reports-service/report', adjustUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return fetch(url, {
      headers: { authorization: `Bearer ${sandbox.world.mmp.adjust.apiToken}`, ...headers },
    });
  }
  const adjustParams = (o: Record<string, string> = {}) => ({
    app_token__in: sandbox.world.mmp.adjust.appToken,
    date_period: `${START}:${TODAY}`,
    dimensions: ADJUST_DIMS,
    metrics: ADJUST_METRICS,
    ...o,
  });

  /** A raw Branch query. */
  function branchPost(body: Record<string, unknown>, query = '') {
    return fetch(`${branchUrl}/v1/query/analytics${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        branch_key: sandbox.world.mmp.branch.branchKey,
        branch_secret: sandbox.world.mmp.branch.branchSecret,
        start_date: START,
        end_date: addDays(TODAY, 1),
        data_source: 'eo_install',
        aggregation: 'unique_count',
        granularity: 'day',
        ...body,
      }),
    });
  }

  it('Adjust: JSON report with string metrics in rows, numeric totals, on both hosts’ paths', async () => {
    const res = await adjustGet(adjustParams());
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      rows: Array<Record<string, unknown>>;
      totals: Record<string, number>;
      warnings: unknown[];
    };
    assert.ok(body.rows.length > 0);
    assert.deepEqual(body.warnings, []);
    for (const row of body.rows) {
      assert.equal(typeof row.installs, 'string');
      assert.match(String(row.day), /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(row.os_name === 'ios' || row.os_name === 'android');
      assert.equal(row.partner_name, 'Facebook');
      assert.equal(typeof row.attr_dependency, 'object');
    }
    for (const m of ADJUST_METRICS.split(',')) {
      assert.equal(typeof body.totals[m], 'number');
      assert.equal(
        body.totals[m],
        body.rows.reduce((s, r) => s + Number(r[m]), 0),
        `totals.${m} sums the rows`,
      );
    }
    assert.ok(body.totals.installs! > 0 && body.totals.skad_installs! > 0);
    // iOS rows are SKAN only: campaign level, creative unknown, no device-level installs.
    for (const row of body.rows.filter((r) => r.os_name === 'ios')) {
      assert.equal(row.creative_id_network, 'unknown');
      assert.equal(row.adgroup_id_network, 'unknown');
      assert.equal(row.installs, '0');
    }
    // The older dashboard host's path serves the same report.
    const old = new URL('/control-center/reports-service/report', adjustUrl);
    for (const [k, v] of Object.entries(adjustParams())) old.searchParams.set(k, v);
    const again = await fetch(old, {
      headers: { authorization: `Bearer ${sandbox.world.mmp.adjust.apiToken}` },
    });
    assert.deepEqual(await again.json(), body);
  });

  it('Adjust: 401 without or with a wrong token, 403 for a foreign app, 400 naming the parameter', async () => {
    const none = await fetch(`${adjustUrl}/reports-service/report?metrics=installs`);
    assert.equal(none.status, 401);
    assert.ok(((await none.json()) as { detail: string }).detail);
    const wrong = await adjustGet(adjustParams(), { authorization: 'Bearer nope-nope-nope' });
    assert.equal(wrong.status, 401);
    const foreign = await adjustGet(adjustParams({ app_token__in: 'someoneelse' }));
    assert.equal(foreign.status, 403);
    assert.match(((await foreign.json()) as { detail: string }).detail, /app_token__in/);
    for (const [param, value] of [
      ['date_period', '2026-03-01'],
      ['metrics', 'installs,bogus_metric'],
      ['dimensions', 'day,planet'],
    ] as const) {
      const res = await adjustGet(adjustParams({ [param]: value }));
      assert.equal(res.status, 400, param);
      assert.match(((await res.json()) as { detail: string }).detail, new RegExp(param));
    }
    const empty = await adjustGet(adjustParams({ date_period: '2026-02-01:2026-02-10' }));
    assert.equal(empty.status, 204, 'nothing ran before the ads existed: No Content');
  });

  it('Branch: daily results with dimensions inside `result`, per-day limit and absolute next_url', async () => {
    const dims = [
      'last_attributed_touch_data_tilde_campaign_id',
      'last_attributed_touch_data_tilde_ad_id',
      'user_data_os',
    ];
    const res = await branchPost({ dimensions: dims }, '?limit=2');
    assert.equal(res.status, 200);
    const first = (await res.json()) as {
      results: Array<{ timestamp: string; result: Record<string, unknown> }>;
      paging: { total_count: number; next_url?: string };
    };
    const perDay = new Map<string, number>();
    for (const r of first.results) {
      assert.match(r.timestamp, /^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/);
      assert.equal(typeof r.result.unique_count, 'number');
      assert.equal(r.result.user_data_os, 'ANDROID', 'device-level installs are Android only');
      assert.ok(adIds.has(String(r.result.last_attributed_touch_data_tilde_ad_id)));
      perDay.set(r.timestamp, (perDay.get(r.timestamp) ?? 0) + 1);
    }
    assert.ok(
      [...perDay.values()].every((n) => n <= 2),
      'limit applies per day',
    );
    assert.ok(first.paging.next_url?.startsWith(`${branchUrl}/v1/query/analytics?`));
    // Following next_url with the same body collects every result exactly once.
    const all = [...first.results];
    let next = first.paging.next_url;
    while (next) {
      const page = await branchPost({ dimensions: dims }, new URL(next).search);
      const body = (await page.json()) as typeof first;
      all.push(...body.results);
      next = body.paging.next_url;
    }
    assert.equal(all.length, first.paging.total_count);
    const keys = all.map(
      (r) => `${r.timestamp}/${String(r.result.last_attributed_touch_data_tilde_ad_id)}`,
    );
    assert.equal(new Set(keys).size, keys.length);
  });

  it('Branch: 401 for bad credentials, 400 naming the field, no ad dimensions on SKAN', async () => {
    const bad = await branchPost({ branch_secret: 'secret_wrong_one' });
    assert.equal(bad.status, 401);
    const err = (await bad.json()) as { error: { code: number; message: string } };
    assert.equal(err.error.code, 401);
    assert.doesNotMatch(err.error.message, /secret_wrong_one/);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ data_source: 'eo_everything' }, /data_source/],
      [{ end_date: addDays(START, 9) }, /end_date/],
      [{ aggregation: 'revenue' }, /aggregation/],
      [{ dimensions: ['planet'] }, /dimensions/],
      [
        {
          data_source: 'skadnetwork_valid_messages',
          dimensions: ['last_attributed_touch_data_tilde_ad_id'],
        },
        /ad_id is not available/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await branchPost(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(((await res.json()) as { error: { message: string } }).error.message, message);
    }
  });

  it('clients classify auth errors and never leak the secrets', async () => {
    const badAdjust = createMmp({
      provider: 'adjust',
      baseUrl: adjustUrl,
      apiToken: 'adjust-wrong-token',
      appToken: sandbox.world.mmp.adjust.appToken,
    });
    const badBranch = createMmp({
      provider: 'branch',
      baseUrl: branchUrl,
      branchKey: sandbox.world.mmp.branch.branchKey,
      branchSecret: 'branch-wrong-secret',
    });
    for (const [client, secret] of [
      [badAdjust, 'adjust-wrong-token'],
      [badBranch, 'branch-wrong-secret'],
    ] as const) {
      await assert.rejects(client.attribution({ since: START, until: TODAY }), (e: unknown) => {
        assert.ok(e instanceof PlatformError);
        assert.equal(e.platform, client.provider);
        assert.equal(e.kind, 'auth');
        assert.equal(e.httpStatus, 401);
        assert.ok(!e.message.includes(secret));
        return true;
      });
    }
    await assert.rejects(
      adjust.attribution({ since: TODAY, until: START }),
      (e: unknown) => e instanceof PlatformError && e.kind === 'invalid',
    );
  });

  it('loss: Android attribution never exceeds delivery, and falls short over the volume', async () => {
    const rows = await adjust.attribution({ since: START, until: addDays(TODAY, -1) });
    let delivered = 0;
    let attributed = 0;
    for (const date of dateRange(START, addDays(TODAY, -1))) {
      const byAd = new Map(sandbox.meta.deliveriesOn(date).map((d) => [d.adId, d.delivery]));
      for (const r of rows.filter((x) => x.date === date && x.os === 'android')) {
        const d = byAd.get(r.creativeId!);
        assert.ok(d, `attributed ad ${r.creativeId} delivered on ${date}`);
        assert.ok(r.installs <= d.byOs.android.installs);
        assert.ok(r.registrations <= d.byOs.android.registrations);
        assert.ok(r.subscriptions <= d.byOs.android.subscriptions);
      }
      for (const d of byAd.values()) delivered += d.byOs.android.installs;
      attributed += sum(
        rows.filter((x) => x.date === date && x.os === 'android'),
        'installs',
      );
    }
    assert.ok(delivered > 500, `enough volume to see loss: ${delivered}`);
    assert.ok(attributed < delivered, `${attributed} < ${delivered}`);
    // Around the world's lossRate (0.1), not wildly off.
    const share = attributed / delivered;
    assert.ok(share > 0.8 && share < 0.97, `attributed share ${share}`);
  });

  it('delay: a recent day is partial and grows when read after the clock moves on', async () => {
    try {
      const early = await branch.attribution({ since: TODAY, until: TODAY });
      sandbox.clock.set(addDays(TODAY, 1));
      const later = await branch.attribution({ since: TODAY, until: TODAY });
      const android = (rows: AttributionRow[]) => rows.filter((r) => r.os === 'android');
      assert.ok(sum(android(early), 'installs') > 0, 'some of today is already there');
      assert.ok(
        sum(android(later), 'installs') > sum(android(early), 'installs'),
        'the day grows once complete',
      );
      // Nothing after today.
      assert.deepEqual(
        await adjust.attribution({ since: addDays(TODAY, 2), until: addDays(TODAY, 4) }),
        [],
      );
    } finally {
      sandbox.clock.set(TODAY);
    }
  });

  it('iOS: only campaign-level aggregated rows, after the postback delay, never with a creative', async () => {
    const { iosPostbackDelayDays } = sandbox.world.mmp;
    const rows = await adjust.attribution({ since: START, until: TODAY });
    const ios = rows.filter((r) => r.os === 'ios');
    assert.ok(ios.length > 0);
    const lastIosDay = addDays(TODAY, -iosPostbackDelayDays);
    for (const r of ios) {
      assert.equal(r.aggregated, true);
      assert.equal(r.creativeId, null);
      assert.equal(r.creative, null);
      assert.equal(r.adGroupId, null);
      assert.ok(r.date <= lastIosDay, `iOS ${r.date} arrived before its postback delay`);
    }
    const perCampaignDay = new Set(ios.map((r) => `${r.date}/${r.campaignId}`));
    assert.equal(perCampaignDay.size, ios.length, 'one row per campaign and day');
    assert.deepEqual(
      [...new Set(ios.map((r) => r.date))].sort(),
      dateRange(START, lastIosDay),
      'every day up to the delay, none after',
    );
    assert.ok(rows.filter((r) => r.os === 'android').every((r) => !r.aggregated));
    // The postbacks for the day after arrive when the clock moves on.
    try {
      sandbox.clock.set(addDays(TODAY, 1));
      const next = await adjust.attribution({ since: START, until: TODAY });
      assert.ok(next.some((r) => r.os === 'ios' && r.date === addDays(lastIosDay, 1)));
    } finally {
      sandbox.clock.set(TODAY);
    }
  });

  it('Android: per creative, per day, for the ads that delivered', async () => {
    const rows = await branch.attribution({ since: START, until: addDays(TODAY, -1) });
    const android = rows.filter((r) => r.os === 'android');
    for (const r of android) {
      assert.equal(r.aggregated, false);
      assert.ok(r.creativeId && adIds.has(r.creativeId));
      assert.match(r.creative ?? '', /^ad-(SE|DE)-\d$/);
      assert.ok(r.adGroupId && r.platform === 'meta');
    }
    const day = android.filter((r) => r.date === START);
    assert.ok(new Set(day.map((r) => r.creativeId)).size >= 4, 'several creatives on one day');
    assert.deepEqual(new Set(android.map((r) => r.campaignId)), new Set(campaignIds));
  });

  it('Adjust and Branch report the same attribution for the same world and days', async () => {
    // Branch reads in 7-day windows: this range spans two of them.
    const range = { since: addDays(START, -3), until: TODAY };
    const strip = (rows: AttributionRow[]) => rows.map(({ network: _network, ...r }) => r);
    const a = await adjust.attribution(range);
    const b = await branch.attribution(range);
    assert.ok(a.length > 10);
    assert.deepEqual(strip(b), strip(a));
    for (const k of ['installs', 'registrations', 'subscriptions'] as const)
      assert.equal(sum(a, k), sum(b, k), k);
  });

  it('is deterministic for the same world, sources and dates', async () => {
    const twin = createMmpSandbox({
      world: sandbox.world,
      sources: [sandbox.meta],
      clock: sandbox.clock,
    });
    const t = await listen(twin.adjust.handle);
    servers.push(t.server);
    const read = async (base: string) => {
      const url = new URL('/reports-service/report', base);
      for (const [k, v] of Object.entries(adjustParams())) url.searchParams.set(k, v);
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${sandbox.world.mmp.adjust.apiToken}` },
      });
      return res.text();
    };
    const first = await read(adjustUrl);
    assert.equal(await read(adjustUrl), first, 'same server, read twice');
    assert.equal(await read(t.url), first, 'a fresh MMP over the same world');
  });

  it('faults: down is a transient error; delayed holds back recent days and postbacks', async () => {
    for (const [provider, client] of [
      ['adjust', adjust],
      ['branch', branch],
    ] as const) {
      mmp.faults[provider].down = true;
      try {
        await assert.rejects(client.attribution({ since: START, until: TODAY }), (e: unknown) => {
          assert.ok(e instanceof PlatformError);
          assert.equal(e.kind, 'transient');
          assert.ok(e.retryable);
          assert.equal(e.httpStatus, 503);
          return true;
        });
      } finally {
        mmp.faults[provider].down = false;
      }
    }
    const range = { since: START, until: TODAY };
    const normal = await branch.attribution(range);
    mmp.faults.branch.delayDays = 2;
    try {
      const late = await branch.attribution(range);
      const lastIos = (rows: AttributionRow[]) =>
        rows.filter((r) => r.os === 'ios').reduce((m, r) => (r.date > m ? r.date : m), '');
      assert.equal(lastIos(late), addDays(lastIos(normal), -2), 'postbacks two days later');
      assert.ok(sum(late, 'installs') < sum(normal, 'installs'));
    } finally {
      mmp.faults.branch.delayDays = 0;
    }
    assert.deepEqual(await branch.attribution(range), normal, 'recovers when the fault clears');
    // A closed port is transient too.
    const gone = createMmp({
      ...sandbox.world.mmp.adjust,
      provider: 'adjust',
      baseUrl: 'http://127.0.0.1:9',
    });
    await assert.rejects(
      gone.attribution(range),
      (e: unknown) => e instanceof PlatformError && e.kind === 'transient',
    );
  });
});
