// The MMP sandboxes refuse what the real services refuse, with their status and error body, stay
// bounded (an absurd request is refused at once and never stalls the others), and throttle as
// documented; adloop's clients wait out a 429. Each case names the page its rule comes from:
//   ADJUST  https://dev.adjust.com/en/api/rs-api/reports (and /csv, /rate-limits)
//   BRANCH  https://help.branch.io/apidocs/postquery, https://help.branch.io/developers-hub/reference/query-api
import { TEST_APP_ANDROID, appLinkOf, liveAd, liveAdSet } from '../helpers/meta-app.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addDays } from '../../core/dates.ts';
import { deepLink } from '../../core/tracking.ts';
import { PlatformError } from '../../platforms/errors.ts';
import { createMetaAds } from '../../platforms/meta/meta-ads.ts';
import { createMmp, type Mmp } from '../../platforms/mmp/index.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { ADJUST_RATE_LIMITS } from '../../sandbox/mmp/adjust-server.ts';
import { BRANCH_RATE_LIMITS, MAX_BODY_BYTES } from '../../sandbox/mmp/branch-server.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const START = '2026-03-01';
/** A Friday: this week (Sunday to Saturday, as Adjust's week dimension runs) began on START. */
const TODAY = '2026-03-06';

describe('MMP sandboxes: strict, bounded, throttled', () => {
  let sandbox: Sandbox;
  let adjust: Mmp;
  let branch: Mmp;
  const adIds: string[] = [];

  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: START });
    const meta = createMetaAds({ graphUrl: sandbox.metaUrl, ...sandbox.credentials });
    const { hash } = await meta.uploadImage(PNG_1x1, 'one.png');
    const campaignId = await meta.createCampaign({ name: 'adloop/SE' });
    const adsetId = await liveAdSet(meta, {
      // Android: its installs are attributed per day at once (iOS arrives aggregated, days late).
      name: 'adloop/SE/android/installs',
      campaignId,
      country: 'SE',
      dailyBudgetMinor: 150_000,
      os: 'android',
      app: TEST_APP_ANDROID,
    });
    for (const [i, artistId] of ['a01', 'a02', 'a03'].entries()) {
      const link = deepLink({ platform: 'meta', market: 'SE', artistId, templateId: 'spotlight' });
      const creativeId = await meta.createCreative({
        name: `c-${i}`,
        imageHash: hash,
        storeUrl: TEST_APP_ANDROID.storeUrl,
        appLink: appLinkOf(link),
        message: 'm',
        headline: 'h',
      });
      adIds.push(await liveAd(meta, { name: `ad-${i}`, adsetId, creativeId }));
    }
    sandbox.clock.set(TODAY);
    adjust = createMmp({
      provider: 'adjust',
      baseUrl: sandbox.adjustUrl,
      ...sandbox.world.mmp.adjust,
    });
    branch = createMmp({
      provider: 'branch',
      baseUrl: sandbox.branchUrl,
      ...sandbox.world.mmp.branch,
    });
  });
  after(async () => sandbox?.close());

  function adjustGet(params: Record<string, string>, path = '/reports-service/report') {
    const url = new URL(path, sandbox.adjustUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return fetch(url, {
      headers: { authorization: `Bearer ${sandbox.world.mmp.adjust.apiToken}` },
    });
  }
  const adjustParams = (o: Record<string, string> = {}) => ({
    app_token__in: sandbox.world.mmp.adjust.appToken,
    date_period: `${START}:${TODAY}`,
    dimensions: 'day,os_name,campaign_id_network,creative_id_network',
    metrics: 'installs,skad_installs',
    ...o,
  });
  function branchPost(body: Record<string, unknown>, query = '') {
    return fetch(`${sandbox.branchUrl}/v1/query/analytics${query}`, {
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
  const answer = async (res: Response) => ({ status: res.status, body: await res.json() });

  it('Adjust refuses what its reference does, with 400 and {"detail"} naming the parameter (ADJUST)', async () => {
    const periodHelp =
      'use YYYY-MM-DD:YYYY-MM-DD, -Nd:-Nd or one of today, yesterday, this_week, last_week, ' +
      'this_month, last_month, this_month_until_yesterday';
    const cases: Array<[Record<string, string>, string]> = [
      // date_period: absolute dates are real calendar dates.
      [
        { date_period: '2026-02-30:2026-03-01' },
        `date_period "2026-02-30:2026-03-01" is invalid: ${periodHelp}`,
      ],
      [{ date_period: 'last_year' }, `date_period "last_year" is invalid: ${periodHelp}`],
      [
        { date_period: '2026-03-05:2026-03-01' },
        'date_period "2026-03-05:2026-03-01" is invalid: start is after end',
      ],
      // No documented maximum: the sandbox's own bound (see MAX_PERIOD_DAYS), before any data.
      [
        { date_period: '2025-01-01:2026-03-01' },
        'date_period "2025-01-01:2026-03-01" spans 425 days: the sandbox reports at most 366',
      ],
      // "400: ... contains unsupported parameters".
      [{ foo: 'bar' }, 'foo: unsupported parameter'],
      [{ campaign__like: 'x' }, 'campaign__like: unsupported parameter'],
      // Documented enums.
      [{ attribution_type: 'view' }, 'attribution_type: invalid value "view"'],
      [{ ad_spend_mode: 'cheap' }, 'ad_spend_mode: invalid value "cheap"'],
      [{ os_names: 'ios,beos' }, 'os_names: invalid value "ios,beos"'],
      [{ utc_offset: '+25:00' }, 'utc_offset: invalid value "+25:00"'],
      [{ metrics: 'installs,bogus_metric' }, 'metrics: unknown metric "bogus_metric"'],
      [{ dimensions: 'day,planet' }, 'dimensions: unknown dimension "planet"'],
      [{ sort: '-clicks' }, 'sort: "clicks" is not a requested dimension or metric'],
      [{ installs__gt: 'many' }, 'installs__gt: "many" is not a number'],
    ];
    for (const [params, detail] of cases) {
      assert.deepEqual(
        await answer(await adjustGet(adjustParams(params))),
        { status: 400, body: { detail } },
        JSON.stringify(params),
      );
    }
  });

  it('Adjust serves the documented periods, filters, sorts and the CSV report (ADJUST)', async () => {
    const rows = async (params: Record<string, string>) => {
      const res = await adjustGet(adjustParams(params));
      assert.equal(res.status, 200, JSON.stringify(params));
      return ((await res.json()) as { rows: Array<Record<string, string>> }).rows;
    };
    // Logical periods on Friday 2026-03-06: this_week is Sun 03-01 to Sat 03-07.
    const week = await rows({ date_period: 'this_week', dimensions: 'day' });
    assert.deepEqual(
      week.map((r) => r.day),
      ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06'],
    );
    assert.equal((await adjustGet(adjustParams({ date_period: 'last_week' }))).status, 204);
    const relative = await rows({ date_period: '-5d:-1d', dimensions: 'day' });
    assert.deepEqual(
      relative.map((r) => r.day),
      ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05'],
    );
    // [dimension]__in and [metric]__gt.
    const one = await rows({ creative_id_network__in: adIds[1]! });
    assert.ok(one.length > 0 && one.every((r) => r.creative_id_network === adIds[1]));
    const big = await rows({ dimensions: 'day,creative_id_network', installs__gt: '5' });
    assert.ok(big.every((r) => Number(r.installs) > 5));
    // sort: a comma list, `-` for descending; ties by the dimensions.
    const sorted = await rows({ dimensions: 'day,creative_id_network', sort: '-installs,day' });
    for (let i = 1; i < sorted.length; i++)
      assert.ok(Number(sorted[i - 1]!.installs) >= Number(sorted[i]!.installs));
    // The CSV endpoint: a header of slugs, then the JSON report's rows in the same order.
    const json = await rows({ dimensions: 'day,campaign_network', metrics: 'installs' });
    const csv = await adjustGet(
      adjustParams({ dimensions: 'day,campaign_network', metrics: 'installs' }),
      '/reports-service/csv_report',
    );
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.deepEqual((await csv.text()).trim().split('\n'), [
      'day,campaign_network,installs',
      ...json.map((r) => `${r.day},${r.campaign_network},${r.installs}`),
    ]);
  });

  it('Branch refuses what its reference does, with {"error": {code, message}} (BRANCH)', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      // postquery: start_date and end_date are dates, without a time (docs.branch.io).
      [{ start_date: '2026-02-30' }, '', 'start_date must be YYYY-MM-DD'],
      [{ start_date: '2026-03-01T00:00:00Z' }, '', 'start_date must be YYYY-MM-DD'],
      // postquery: "start_date cannot be earlier than 2017-10-14".
      [
        { start_date: '2017-10-13', end_date: '2017-10-14' },
        '',
        'start_date cannot be earlier than 2017-10-14',
      ],
      // query-api overview: "Export window: Rolling 2 year window".
      [
        { start_date: '2024-03-01', end_date: '2024-03-02' },
        '',
        'start_date is outside the rolling 2 year export window',
      ],
      // query-api overview: at most 7 days.
      [{ end_date: addDays(START, 8) }, '', 'end_date cannot be more than 7 days after start_date'],
      // postquery: limit "Maximum 1000".
      [{}, '?limit=1001', 'limit must be an integer from 1 to 1000'],
      [{ zero_fill: 'yes' }, '', 'zero_fill must be a boolean'],
    ];
    for (const [body, query, message] of cases) {
      assert.deepEqual(
        await answer(await branchPost(body, query)),
        { status: 400, body: { error: { code: 400, message } } },
        JSON.stringify(body) + query,
      );
    }
    // No page gives a body limit: the sandbox's own (MAX_BODY_BYTES), before parsing.
    const huge = await branchPost({ filters: { name: ['x'.repeat(MAX_BODY_BYTES)] } });
    assert.deepEqual(await answer(huge), {
      status: 413,
      body: {
        error: { code: 413, message: `Request body must be at most ${MAX_BODY_BYTES} bytes` },
      },
    });
  });

  it('an absurd request is refused in under a second while the others are answered', async () => {
    const started = performance.now();
    const absurd = adjustGet(adjustParams({ date_period: '1900-01-01:2999-12-31' })).then(
      async (res) => ({ ms: performance.now() - started, ...(await answer(res)) }),
    );
    const normal = [
      ...[1, 2, 3].map(() => adjustGet(adjustParams())),
      branchPost({}),
      branchPost({ filters: { name: ['x'.repeat(4 * MAX_BODY_BYTES)] } }),
    ];
    const [refused, ...others] = await Promise.all([absurd, ...normal]);
    assert.ok(refused.ms < 1000, `refused after ${Math.round(refused.ms)} ms`);
    assert.deepEqual(
      { status: refused.status, body: refused.body },
      {
        status: 400,
        body: {
          detail:
            'date_period "1900-01-01:2999-12-31" spans 401767 days: the sandbox reports at most 366',
        },
      },
    );
    assert.deepEqual(
      others.map((r) => r.status),
      [200, 200, 200, 200, 413],
    );
  });

  it('Adjust throttles at its documented rate, 429 with Retry-After, and the client waits it out (ADJUST rate-limits)', async () => {
    // A burst of 100, refilled at 50/s, per source IP: of 150 requests at once some are refused
    // (a few tokens come back while they arrive), never any of the first 100.
    assert.deepEqual(ADJUST_RATE_LIMITS, [{ limit: 100, windowMs: 2_000 }]);
    sandbox.mmp.adjust.rateLimits = [...ADJUST_RATE_LIMITS];
    try {
      const burst = await Promise.all(
        Array.from({ length: 150 }, () => fetch(`${sandbox.adjustUrl}/reports-service/report`)),
      );
      const statuses = burst.map((r) => r.status);
      const passed = statuses.filter((s) => s === 401).length; // unauthenticated, but counted
      assert.ok(passed >= 100 && passed < 150, `${passed} went through`);
      assert.equal(passed + statuses.filter((s) => s === 429).length, 150);
      const throttled = burst[statuses.indexOf(429)]!;
      assert.equal(throttled.headers.get('retry-after'), '1');
      assert.deepEqual(await throttled.json(), {
        detail: 'Request was throttled. Expected available in 1 second.',
      });
      // One request a second: two reads at once both succeed, the second after its 429.
      sandbox.mmp.adjust.rateLimits = [{ limit: 1, windowMs: 1_000 }];
      const before429 = sandbox.mmp.adjust.requests.length;
      const range = { since: START, until: TODAY };
      const [a, b] = await Promise.all([adjust.attribution(range), adjust.attribution(range)]);
      assert.deepEqual(a, b);
      const seen = sandbox.mmp.adjust.requests.slice(before429).map((r) => r.status);
      assert.deepEqual(seen.sort(), [200, 200, 429]);
    } finally {
      sandbox.mmp.adjust.rateLimits = ADJUST_RATE_LIMITS;
    }
  });

  it('Branch throttles at 5/s, 20/min, 150/h with its documented body; the client retries or defers (BRANCH overview)', async () => {
    sandbox.mmp.branch.rateLimits = BRANCH_RATE_LIMITS;
    try {
      const burst = await Promise.all(Array.from({ length: 6 }, () => branchPost({})));
      const statuses = burst.map((r) => r.status);
      assert.deepEqual([...statuses].sort(), [200, 200, 200, 200, 200, 429]);
      assert.deepEqual(await burst[statuses.indexOf(429)]!.json(), {
        errors: [
          {
            message: 'Limit is exceeded for org-525983469347282987, retry after 1 seconds',
            error_code: 7,
          },
        ],
      });
      // The client's three queries per window go through once the second has passed.
      const rows = await branch.attribution({ since: START, until: addDays(TODAY, -1) });
      assert.ok(rows.length > 0);
      // An hourly limit is not waited out in the call: it goes up with the time to retry.
      sandbox.mmp.branch.rateLimits = [{ limit: 1, windowMs: 3_600_000 }];
      await branchPost({});
      await assert.rejects(branch.attribution({ since: START, until: START }), (e: unknown) => {
        assert.ok(e instanceof PlatformError);
        assert.equal(e.kind, 'throttled');
        assert.equal(e.httpStatus, 429);
        assert.ok(e.retryAfterMs !== null && e.retryAfterMs > 3_500_000, String(e.retryAfterMs));
        return true;
      });
    } finally {
      sandbox.mmp.branch.rateLimits = null;
    }
  });
});
