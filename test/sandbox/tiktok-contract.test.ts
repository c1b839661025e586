// The TikTok sandbox refuses what TikTok refuses: each case is sent through the official SDK and
// as plain HTTP (fetch), and both must get TikTok's envelope with the exact code and message.
// Every case names where TikTok documents the rule (pages: the API reference as scraped in
// github.com/ckr2436/Tiktok-OPS docs/tiktok_api/pages/API Reference/; see
// sandbox/tiktok/tiktok-rules.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as tiktok from 'tiktok-business-api-sdk-official';
import type { TikTokEnvelope } from 'tiktok-business-api-sdk-official';
import { locationIdOf } from '../../platforms/tiktok/locations.ts';
import { Simulator } from '../../sandbox/simulator.ts';
import {
  createTikTokSandbox,
  listenTikTokSandbox,
  type TikTokSandbox,
} from '../../sandbox/tiktok/tiktok-server.ts';
import { loadWorld, type World } from '../../sandbox/world.ts';
import { mp4 } from '../helpers/media.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

const mp4Bytes = () => mp4(1080, 1920);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

const NO_LIMITS = { perSecond: 100_000, perMinute: 1_000_000, adCreatePerSecond: 100_000 };

type Call = Pick<Case, 'method' | 'endpoint' | 'params'>;

interface Case {
  name: string;
  source: string;
  method: 'GET' | 'POST';
  endpoint: string;
  params: () => Record<string, unknown>;
  code: number;
  message: string | RegExp;
}

describe('TikTok sandbox contract: refusals as TikTok answers them', () => {
  let world: World;
  let sandbox: TikTokSandbox;
  let url: string;
  let close: () => Promise<void>;
  let campaignId = '';
  let adGroupId = '';
  let imageId = '';

  /** Plain HTTP, as TikTok's docs show the calls. */
  async function viaFetch(c: Call): Promise<TikTokEnvelope> {
    const headers = { 'Access-Token': world.tiktok.accessToken };
    const params = { advertiser_id: world.tiktok.advertiserId, ...c.params() };
    if (c.method === 'GET') {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(params))
        q.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      const res = await fetch(`${url}/open_api/v1.3/${c.endpoint}/?${q.toString()}`, { headers });
      return (await res.json()) as TikTokEnvelope;
    }
    const res = await fetch(`${url}/open_api/v1.3/${c.endpoint}/`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(params),
    });
    return (await res.json()) as TikTokEnvelope;
  }

  /** The official SDK's own request path (ApiClient.callApi, which every API method uses). */
  function viaSdk(c: Call): Promise<TikTokEnvelope> {
    const client = Object.assign(new tiktok.ApiClient(), { basePath: url });
    const params = { advertiser_id: world.tiktok.advertiserId, ...c.params() };
    const query =
      c.method === 'GET'
        ? Object.fromEntries(
            Object.entries(params).map(([k, v]) => [
              k,
              typeof v === 'string' ? v : JSON.stringify(v),
            ]),
          )
        : {};
    return new Promise((resolve) => {
      client.callApi(
        `/open_api/v1.3/${c.endpoint}/`,
        c.method,
        {},
        query,
        { 'Access-Token': world.tiktok.accessToken },
        {},
        c.method === 'POST' ? params : null,
        [],
        c.method === 'POST' ? ['application/json'] : [],
        ['application/json'],
        Object,
        (_err, data, response) => resolve(data ?? (response?.body as TikTokEnvelope) ?? {}),
      );
    });
  }

  const appGroup = (extra: Record<string, unknown> = {}, drop: string[] = []) => {
    const body: Record<string, unknown> = {
      campaign_id: campaignId,
      adgroup_name: `contract-${Math.random()}`,
      promotion_type: 'APP_ANDROID',
      app_id: world.tiktok.appIds.android,
      operating_systems: ['ANDROID'],
      placement_type: 'PLACEMENT_TYPE_NORMAL',
      placements: ['PLACEMENT_TIKTOK'],
      location_ids: [locationIdOf('SE')],
      budget_mode: 'BUDGET_MODE_DAY',
      budget: 100,
      schedule_type: 'SCHEDULE_FROM_NOW',
      schedule_start_time: '2026-03-01 00:00:00',
      optimization_goal: 'INSTALL',
      billing_event: 'OCPM',
      pacing: 'PACING_MODE_SMOOTH',
      ...extra,
    };
    for (const d of drop) delete body[d];
    return body;
  };
  const creative = (extra: Record<string, unknown> = {}, drop: string[] = []) => {
    const c: Record<string, unknown> = {
      ad_name: 'contract',
      ad_text: 'Listen now',
      identity_type: 'CUSTOMIZED_USER',
      identity_id: world.tiktok.identityId,
      ad_format: 'SINGLE_IMAGE',
      call_to_action: 'INSTALL_NOW',
      image_ids: [imageId],
      ...extra,
    };
    for (const d of drop) delete c[d];
    return c;
  };
  const report = (extra: Record<string, unknown>) => ({
    report_type: 'BASIC',
    data_level: 'AUCTION_AD',
    dimensions: ['ad_id'],
    start_date: '2026-02-01',
    end_date: '2026-02-28',
    ...extra,
  });
  const ADGROUP = 'Ad Groups/Create_an_ad_group__b8cab04e.json';
  const ADS = 'Ads/Create_ads__66f9a37f.json';
  const REPORT = 'Reporting/Run_a_synchronous_report__9644f3cd.json';

  const cases: Case[] = [
    {
      name: 'ad group without pacing',
      source: `${ADGROUP} pacing: "Otherwise, this field is required."`,
      method: 'POST',
      endpoint: 'adgroup/create',
      params: () => appGroup({}, ['pacing']),
      code: 40002,
      message: 'pacing: Missing data for required field.',
    },
    {
      name: 'app ad group without app_id',
      source: `${ADGROUP} app_id: required when objective_type is APP_PROMOTION (APP_INSTALL)`,
      method: 'POST',
      endpoint: 'adgroup/create',
      params: () => appGroup({}, ['app_id']),
      code: 40002,
      message: 'app_id: Missing data for required field.',
    },
    {
      name: 'an optimisation event the app does not report',
      source: `${ADGROUP} optimization_event, and the Conversion events appendix (registration is ACTIVE_REGISTER)`,
      method: 'POST',
      endpoint: 'adgroup/create',
      params: () =>
        appGroup({ optimization_goal: 'IN_APP_EVENT', optimization_event: 'REGISTRATION' }),
      code: 40002,
      message: /^optimization_event: REGISTRATION is not an event app \d+ reports/,
    },
    {
      name: 'two operating_systems',
      source: `${ADGROUP} operating_systems: "Only one value is allowed."`,
      method: 'POST',
      endpoint: 'adgroup/create',
      params: () => appGroup({ operating_systems: ['ANDROID', 'IOS'] }),
      code: 40002,
      message: 'operating_systems: Only one value is allowed.',
    },
    {
      name: 'ad without identity_type',
      source: `${ADS} identity_type: required`,
      method: 'POST',
      endpoint: 'ad/create',
      params: () => ({ adgroup_id: adGroupId, creatives: [creative({}, ['identity_type'])] }),
      code: 40002,
      message: 'creatives[0].identity_type: Missing data for required field.',
    },
    {
      name: 'ad without identity_id',
      source: `${ADS} identity_id: required`,
      method: 'POST',
      endpoint: 'ad/create',
      params: () => ({ adgroup_id: adGroupId, creatives: [creative({}, ['identity_id'])] }),
      code: 40002,
      message: 'creatives[0].identity_id: Missing data for required field.',
    },
    {
      name: 'video ad without a cover',
      source: `${ADS} image_ids: required for video non-Spark ads, used as the cover`,
      method: 'POST',
      endpoint: 'ad/create',
      params: () => ({
        adgroup_id: adGroupId,
        creatives: [
          creative({ ad_format: 'SINGLE_VIDEO', video_id: 'v10033g50000x' }, ['image_ids']),
        ],
      }),
      code: 40002,
      message: 'creatives[0].image_ids: Missing data for required field.',
    },
    {
      name: '21 creatives in one ad/create',
      source: `${ADS} creatives: "Max size: 20"`,
      method: 'POST',
      endpoint: 'ad/create',
      params: () => ({
        adgroup_id: adGroupId,
        creatives: Array.from({ length: 21 }, () => creative()),
      }),
      code: 40002,
      message: 'creatives: Longer than maximum length 20.',
    },
    {
      name: '21 ids in ad/status/update',
      source: 'Ads/Update_the_statuses_of_ads__020ea26b.json ad_ids: "Allowed quantity: 1-20"',
      method: 'POST',
      endpoint: 'ad/status/update',
      params: () => ({ ad_ids: Array<string>(21).fill('1'), operation_status: 'DISABLE' }),
      code: 40002,
      message: 'ad_ids: Longer than maximum length 20.',
    },
    {
      name: '21 ids in adgroup/status/update',
      source: 'Ad Groups/Update_the_statuses_of_ad_groups__8dae30bc.json adgroup_ids: "1-20"',
      method: 'POST',
      endpoint: 'adgroup/status/update',
      params: () => ({ adgroup_ids: Array<string>(21).fill('1'), operation_status: 'DISABLE' }),
      code: 40002,
      message: 'adgroup_ids: Longer than maximum length 20.',
    },
    {
      name: 'a date that does not exist',
      source: `${REPORT} start_date: "YYYY-MM-DD"`,
      method: 'GET',
      endpoint: 'report/integrated/get',
      params: () => report({ start_date: '2026-02-30' }),
      code: 40002,
      message: 'start_date: Not a valid date (YYYY-MM-DD).',
    },
    {
      name: 'a range over 365 days',
      source: `${REPORT} start_date/end_date: "the maximum time range ... is 365 days"`,
      method: 'GET',
      endpoint: 'report/integrated/get',
      params: () => report({ start_date: '0001-01-01', end_date: '9999-12-31' }),
      code: 40002,
      message: 'end_date: The time range can be at most 365 days.',
    },
    {
      name: 'a daily range over 30 days',
      source: `${REPORT} dimensions: "stat_time_day, the query time range cannot exceed 30 days"`,
      method: 'GET',
      endpoint: 'report/integrated/get',
      params: () => report({ dimensions: ['ad_id', 'stat_time_day'], end_date: '2026-03-05' }),
      code: 40002,
      message: 'end_date: The time range can be at most 30 days with stat_time_day.',
    },
    {
      name: 'page_size over 1000',
      source: 'Ads/Get_ads__4952623e.json page_size: "Value range: 1-1,000"',
      method: 'GET',
      endpoint: 'ad/get',
      params: () => ({ page_size: '1001' }),
      code: 40002,
      message: 'page_size: Must be an integer between 1 and 1000.',
    },
    {
      name: 'advertiser_id as a JSON number',
      source:
        'tiktok-business-api-sdk-official docs/CampaignCreateBody.md: advertiser_id **String**',
      method: 'POST',
      endpoint: 'campaign/create',
      params: () => ({
        advertiser_id: Number(world.tiktok.advertiserId),
        campaign_name: 'number',
        objective_type: 'APP_PROMOTION',
        app_promotion_type: 'APP_INSTALL',
        budget_mode: 'BUDGET_MODE_INFINITE',
      }),
      code: 40002,
      message: 'advertiser_id: Not a valid string.',
    },
    {
      name: 'request_id that is not a 64-bit integer',
      source:
        'Campaign/Create_a_campaign__dc8aa709.json request_id: "a string representation of a 64-bit integer"',
      method: 'POST',
      endpoint: 'campaign/create',
      params: () => ({
        campaign_name: 'rid',
        objective_type: 'APP_PROMOTION',
        app_promotion_type: 'APP_INSTALL',
        budget_mode: 'BUDGET_MODE_INFINITE',
        request_id: 'abc',
      }),
      code: 40002,
      message: 'request_id: Must be a 64-bit integer as a string.',
    },
  ];

  before(async () => {
    world = loadWorld(DEMO_WORLD);
    sandbox = createTikTokSandbox({
      world,
      simulator: new Simulator(world),
      clock: { today: () => '2026-03-01' },
      limits: NO_LIMITS,
    });
    ({ url, close } = await listenTikTokSandbox(sandbox));
    const campaign = await viaFetch({
      method: 'POST',
      endpoint: 'campaign/create',
      params: () => ({
        campaign_name: 'contract',
        objective_type: 'APP_PROMOTION',
        app_promotion_type: 'APP_INSTALL',
        budget_mode: 'BUDGET_MODE_INFINITE',
      }),
    });
    campaignId = (campaign.data as { campaign_id: string }).campaign_id;
    const group = await viaFetch({
      method: 'POST',
      endpoint: 'adgroup/create',
      params: () => appGroup(),
    });
    assert.equal(group.code, 0, group.message);
    adGroupId = (group.data as { adgroup_id: string }).adgroup_id;
    imageId = 'ad-site-i18n-sg/none';
  });
  after(async () => close?.());

  for (const c of cases)
    it(`refuses ${c.name} (${c.source})`, async () => {
      for (const [via, send] of [
        ['fetch', viaFetch],
        ['sdk', viaSdk],
      ] as const) {
        const started = performance.now();
        const res = await send(c);
        assert.equal(res.code, c.code, `${via}: ${res.message}`);
        if (typeof c.message === 'string') assert.equal(res.message, c.message, via);
        else assert.match(String(res.message), c.message, via);
        assert.match(String(res.request_id), /^\d{14}[0-9A-F]{18}$/, `${via}: request_id`);
        assert.ok(performance.now() - started < 1000, `${via}: answered within a second`);
      }
    });

  it('makes campaign/create idempotent under one request_id, and two request_ids allow one name', async () => {
    const body = {
      campaign_name: 'idempotent',
      objective_type: 'APP_PROMOTION',
      app_promotion_type: 'APP_INSTALL',
      budget_mode: 'BUDGET_MODE_INFINITE',
      request_id: '123456789',
    };
    const c = { method: 'POST', endpoint: 'campaign/create', params: () => body } satisfies Call;
    const first = await viaFetch(c);
    const again = await viaSdk(c);
    assert.equal(first.code, 0, first.message);
    assert.deepEqual(
      (again.data as { campaign_id: string }).campaign_id,
      (first.data as { campaign_id: string }).campaign_id,
    );
    const other = await viaFetch({ ...c, params: () => ({ ...body, request_id: '987654321' }) });
    assert.equal(other.code, 0, 'a different request_id may reuse the name');
    const plain = await viaFetch({ ...c, params: () => ({ ...body, request_id: undefined }) });
    assert.equal(plain.message, 'campaign_name: Campaign name already exists: idempotent.');
  });

  it('gives every video upload its own video_id, even of the same bytes', () => {
    const files = new Map([
      [
        'video_file',
        { name: 'video_file', filename: 'a.mp4', data: mp4Bytes(), contentType: 'video/mp4' },
      ],
    ]);
    const params = { video_signature: md5(mp4Bytes()) };
    const a = sandbox.account.uploadVideo(params, files) as Array<{ video_id: string }>;
    const b = sandbox.account.uploadVideo(params, files) as Array<{ video_id: string }>;
    assert.notEqual(a[0]!.video_id, b[0]!.video_id);
  });
});
