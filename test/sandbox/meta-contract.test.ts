// The Graph sandbox's contract: each request Graph would refuse is refused with Graph's own error
// body, both through the official SDK and as plain HTTP. Every case names its source: a spec file
// of facebook/facebook-business-sdk-codegen (api_specs/specs/…) or a developers.facebook.com page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import bizSdk from 'facebook-nodejs-business-sdk';
import { createGraphApi, createMetaAds, type MetaAds } from '../../platforms/meta/meta-ads.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

const { AdAccount, FacebookAdsApi } = bizSdk;
const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const IOS_STORE = 'https://apps.apple.com/app/id1500000001';
const APP_ID = '3000000001';

interface GraphErrorBody {
  message: string;
  type: string;
  code: number;
  error_subcode?: number;
  error_user_title?: string;
  fbtrace_id: string;
}

describe('Graph sandbox contract (SDK and plain HTTP)', () => {
  let sandbox: Sandbox;
  let meta: MetaAds;
  let api: InstanceType<typeof FacebookAdsApi>;
  let account: InstanceType<typeof AdAccount>;
  let campaignId: string;
  let adsetId: string;
  let imageHash: string;
  const base = () => `${sandbox.metaUrl}/v${FacebookAdsApi.VERSION.replace(/^v/, '')}`;

  /** A plain HTTP call; form-encoded like the SDK's POSTs. */
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

  /** Both ways refuse with the same code, subcode and message. */
  async function refused(
    expected: Partial<GraphErrorBody>,
    viaHttp: () => ReturnType<typeof http>,
    viaSdk: () => Promise<unknown>,
  ) {
    const { status, body } = await viaHttp();
    assert.equal(status, 400);
    const error = body.error as GraphErrorBody;
    for (const [k, v] of Object.entries(expected))
      assert.deepEqual(error[k as keyof GraphErrorBody], v, `HTTP error.${k}`);
    assert.match(error.fbtrace_id, /^\S+$/);
    await assert.rejects(viaSdk(), (err: { response?: GraphErrorBody }) => {
      for (const [k, v] of Object.entries(expected))
        assert.deepEqual(err.response?.[k as keyof GraphErrorBody], v, `SDK error.${k}`);
      return true;
    });
  }

  const adsetParams = (extra: Record<string, unknown> = {}) => ({
    name: 's',
    campaign_id: campaignId,
    daily_budget: 5000,
    billing_event: 'IMPRESSIONS',
    optimization_goal: 'APP_INSTALLS',
    promoted_object: { application_id: APP_ID, object_store_url: IOS_STORE },
    targeting: { geo_locations: { countries: ['SE'] }, user_os: ['iOS'] },
    status: 'PAUSED',
    ...extra,
  });

  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    meta = createMetaAds({ graphUrl: sandbox.metaUrl, ...sandbox.credentials });
    api = createGraphApi({
      graphUrl: sandbox.metaUrl,
      accessToken: sandbox.credentials.accessToken,
    });
    account = new AdAccount('act_1000000001', {}, undefined, api);
    campaignId = await meta.createCampaign({ name: 'contract' });
    adsetId = String((await account.createAdSet([], adsetParams())).id);
    imageHash = (await meta.uploadImage(PNG_1x1, 'x.png')).hash;
  });
  after(async () => sandbox?.close());

  it('fields= names a field the node type lacks: error 100 (Ad.json fields)', async () => {
    await refused(
      {
        code: 100,
        type: 'OAuthException',
        message: '(#100) Tried accessing nonexisting field (bogus) on node type (AdSet)',
      },
      () => http('GET', adsetId, { fields: 'name,bogus' }),
      () => new bizSdk.AdSet(adsetId, {}, undefined, api).read(['name', 'bogus']),
    );
  });

  it('a param the endpoint does not define is refused (AdAccount.json POST campaigns)', async () => {
    const params = {
      name: 'x',
      objective: 'OUTCOME_APP_PROMOTION',
      special_ad_categories: [],
      bogus: 1,
    };
    await refused(
      { code: 100, message: '(#100) Param bogus is not a valid parameter' },
      () => http('POST', 'act_1000000001/campaigns', params),
      () => account.createCampaign([], params),
    );
  });

  it('a required param is missing (AdAccount.json POST campaigns: special_ad_categories)', async () => {
    const params = { name: 'x', objective: 'OUTCOME_APP_PROMOTION' };
    await refused(
      { code: 100, message: '(#100) The parameter special_ad_categories is required' },
      () => http('POST', 'act_1000000001/campaigns', params),
      () => account.createCampaign([], params),
    );
  });

  it('an enum param out of its values (enum_types.json adaccountadsets_billing_event_enum_param)', async () => {
    const params = adsetParams({ billing_event: 'BOGUS' });
    await refused(
      { code: 100 },
      () => http('POST', 'act_1000000001/adsets', params),
      () => account.createAdSet([], params),
    );
    const { body } = await http('POST', 'act_1000000001/adsets', params);
    assert.match(
      String((body.error as GraphErrorBody).message),
      /^\(#100\) Param billing_event must be one of \{APP_INSTALLS, CLICKS, IMPRESSIONS/,
    );
  });

  it('an app promotion ad set without promoted_object: subcode 1815430 (developers.facebook.com/docs/marketing-api/reference/ad-promoted-object/)', async () => {
    const params = adsetParams({ promoted_object: undefined });
    delete (params as Record<string, unknown>).promoted_object;
    await refused(
      { code: 100, error_subcode: 1815430, message: 'Invalid parameter' },
      () => http('POST', 'act_1000000001/adsets', params),
      () => account.createAdSet([], params),
    );
  });

  it("user_os must match the promoted store (ad-promoted-object: mobile targeting matches the app's platforms)", async () => {
    const params = adsetParams({
      targeting: { geo_locations: { countries: ['SE'] }, user_os: ['Android'] },
    });
    await refused(
      { code: 100, error_user_title: 'Mobile Device Targeting Mismatch' },
      () => http('POST', 'act_1000000001/adsets', params),
      () => account.createAdSet([], params),
    );
  });

  it('a market of another account is refused; each market goes through its own account', async () => {
    const params = adsetParams({
      targeting: { geo_locations: { countries: ['BR'] }, user_os: ['iOS'] },
    });
    await refused(
      { code: 100, error_user_title: 'Country Not Served by This Account' },
      () => http('POST', 'act_1000000001/adsets', params),
      () => account.createAdSet([], params),
    );
  });

  it("an app install ad's creative must link to the store with an install call to action (ad-promoted-object; docs/marketing-api/guides/app-ads)", async () => {
    const creative = await meta.createMany('adcreatives', [
      {
        name: 'no-cta',
        object_story_spec: {
          page_id: sandbox.credentials.pageId,
          link_data: { image_hash: imageHash, link: 'https://example.com/landing', message: 'm' },
        },
      },
    ]);
    const creativeId = creative[0]!.id!;
    const params = {
      name: 'ad',
      adset_id: adsetId,
      creative: { creative_id: creativeId },
      status: 'PAUSED',
    };
    await refused(
      { code: 100, error_user_title: 'Creative Must Link to App Store' },
      () => http('POST', 'act_1000000001/ads', params),
      () => account.createAd([], params),
    );
  });

  it('insights older than 37 months: error 3018, at once (insights best practices, error codes)', async () => {
    const params = { time_range: { since: '1900-01-01', until: '2026-02-28' }, level: 'ad' };
    const t0 = performance.now();
    await refused(
      {
        code: 3018,
        message:
          '(#3018) The start date of the time range cannot be beyond 37 months from the current date',
      },
      () => http('GET', 'act_1000000001/insights', params),
      () => account.getInsights(['spend'], params) as Promise<unknown>,
    );
    assert.ok(performance.now() - t0 < 1000, 'answered well under a second');
  });

  it('an absurd but allowed range answers in under a second (work bounded by the account life)', async () => {
    const t0 = performance.now();
    const { status } = await http('GET', 'act_1000000001/insights', {
      time_range: { since: '2023-03-01', until: '2099-12-31' },
      time_increment: 1,
      level: 'ad',
    });
    assert.equal(status, 200);
    assert.ok(performance.now() - t0 < 1000);
  });

  it('time_range dates must be real dates (docs/marketing-api/insights/parameters)', async () => {
    const params = { time_range: { since: '2026-02-30', until: '2026-03-01' } };
    await refused(
      { code: 100 },
      () => http('GET', 'act_1000000001/insights', params),
      () => account.getInsights(['spend'], params) as Promise<unknown>,
    );
  });

  it('an account the token cannot see: error 100, subcode 33', async () => {
    await refused(
      { code: 100, error_subcode: 33, type: 'GraphMethodException' },
      () => http('GET', 'act_999', { fields: 'currency' }),
      () => new AdAccount('act_999', {}, undefined, api).read(['currency']),
    );
  });

  it('a batch holds at most 50 calls (docs/graph-api/batch-requests)', async () => {
    const batch = Array.from({ length: 51 }, () => ({ method: 'GET', relative_url: adsetId }));
    const { status, body } = await http('POST', '', { batch });
    assert.equal(status, 400);
    assert.match(String((body.error as GraphErrorBody).message), /Maximum batch size is 50/);
  });

  it('hosts each account with its currency, time zone and status (AdAccount.json fields)', async () => {
    const second = new AdAccount('act_1000000002', {}, undefined, api);
    const read = (await second.read([
      'currency',
      'timezone_name',
      'account_status',
    ])) as unknown as {
      _data: Record<string, unknown>;
    };
    assert.deepEqual(
      { ...read._data },
      {
        id: 'act_1000000002',
        currency: 'USD',
        timezone_name: 'America/Sao_Paulo',
        account_status: 1,
      },
    );
  });

  it("datetimes in Graph's format, in the account's time zone (Ad.json created_time: datetime)", async () => {
    const { body } = await http('GET', adsetId, { fields: 'created_time,updated_time' });
    // Europe/Stockholm in March: +0100.
    assert.match(String(body.created_time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0100$/);
    assert.doesNotMatch(String(body.updated_time), /\.\d{3}Z$/);
  });
});
