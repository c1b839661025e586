// The four APIs share one process, so one request that makes a server work without bound stalls
// all of them (an Adjust period of centuries once held the whole sandbox for 11 minutes). Absurd
// date ranges sent to every API at once, alongside ordinary calls, must all be answered within a
// second: the absurd ones with each platform's own error, the ordinary ones normally.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

describe('bounded work across the sandbox', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
  });
  after(() => sandbox.close());

  it('answers absurd ranges on all four APIs with their errors in under a second, and serves the rest meanwhile', async () => {
    const meta = (path: string, query: Record<string, string>) =>
      fetch(
        `${sandbox.metaUrl}/v24.0/${path}?${new URLSearchParams({ ...query, access_token: sandbox.credentials.accessToken }).toString()}`,
      );
    const tiktok = (endpoint: string, query: Record<string, string>) =>
      fetch(
        `${sandbox.tiktokUrl}/open_api/v1.3/${endpoint}/?${new URLSearchParams(query).toString()}`,
        {
          headers: { 'Access-Token': sandbox.tiktokCredentials.accessToken },
        },
      );
    const adjust = (period: string) =>
      fetch(
        `${sandbox.adjustUrl}/control-center/reports-service/report?${new URLSearchParams({
          app_token__in: sandbox.world.mmp.adjust.appToken,
          date_period: period,
          dimensions: 'day',
          metrics: 'installs',
        }).toString()}`,
        { headers: { authorization: `Bearer ${sandbox.world.mmp.adjust.apiToken}` } },
      );
    const branch = (start: string, end: string) =>
      fetch(`${sandbox.branchUrl}/v1/query/analytics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          branch_key: sandbox.world.mmp.branch.branchKey,
          branch_secret: sandbox.world.mmp.branch.branchSecret,
          start_date: start,
          end_date: end,
          data_source: 'eo_install',
          aggregation: 'unique_count',
          granularity: 'day',
        }),
      });
    const advertiser = sandbox.tiktokCredentials.advertiserId;
    const report = (start: string, end: string) =>
      tiktok('report/integrated/get', {
        advertiser_id: advertiser,
        report_type: 'BASIC',
        data_level: 'AUCTION_AD',
        dimensions: JSON.stringify(['ad_id']),
        metrics: JSON.stringify(['spend']),
        start_date: start,
        end_date: end,
      });
    const timed = async (what: string, request: Promise<Response>) => {
      const t0 = performance.now();
      const res = await request;
      const text = await res.text();
      // No content (204) when a report has no rows: the sandbox has no ads yet.
      const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      return { what, ms: performance.now() - t0, status: res.status, body };
    };
    const t0 = performance.now();
    const answers = await Promise.all([
      timed(
        'meta absurd',
        meta('act_1000000001/insights', {
          time_range: JSON.stringify({ since: '1900-01-01', until: '2999-12-31' }),
          level: 'ad',
        }),
      ),
      timed('tiktok absurd', report('0001-01-01', '9999-12-31')),
      timed('adjust absurd', adjust('1900-01-01:2999-12-31')),
      timed('branch absurd', branch('1900-01-01', '2999-12-31')),
      timed('meta ordinary', meta('act_1000000002', { fields: 'currency,timezone_name' })),
      timed(
        'tiktok ordinary',
        tiktok('advertiser/info', { advertiser_ids: JSON.stringify([advertiser]) }),
      ),
      timed('adjust ordinary', adjust('2026-02-20:2026-02-28')),
      timed('branch ordinary', branch('2026-02-22', '2026-02-28')),
    ]);
    const by = new Map(answers.map((a) => [a.what, a]));
    for (const a of answers) assert.ok(a.ms < 1000, `${a.what} answered in ${a.ms.toFixed(0)} ms`);
    assert.ok(performance.now() - t0 < 1500, 'all eight within a second and a half together');
    // Each absurd range gets its platform's own refusal.
    assert.equal((by.get('meta absurd')!.body.error as { code: number }).code, 3018);
    assert.notEqual(by.get('tiktok absurd')!.body.code, 0);
    assert.equal(by.get('adjust absurd')!.status, 400);
    assert.equal(by.get('branch absurd')!.status, 400);
    // And the ordinary calls were served.
    assert.equal(by.get('meta ordinary')!.body.currency, 'USD');
    assert.equal(by.get('tiktok ordinary')!.body.code, 0);
    assert.ok([200, 204].includes(by.get('adjust ordinary')!.status));
    assert.ok([200, 204].includes(by.get('branch ordinary')!.status));
  });
});
