// The Google Ads sandbox over its wire: gRPC mutates through raw @grpc/grpc-js clients loaded from
// the same v24 protos google-ads-node ships, REST queries and OAuth and YouTube through fetch. Every
// refusal must carry Google's GoogleAdsFailure with the real error enum and its location.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import sharp from 'sharp';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { mp4 } from '../helpers/media.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

const require = createRequire(import.meta.url);
const PROTOS = require(
  path.join(
    path.dirname(require.resolve('google-ads-node/package.json')),
    'build/protos/protos.json',
  ),
) as protobuf.INamespace;
const FAILURE_KEY = 'google.ads.googleads.v24.errors.googleadsfailure-bin';
const root = protobuf.Root.fromJSON(PROTOS);
const Failure = root.lookupType('google.ads.googleads.v24.errors.GoogleAdsFailure');
const decodeFailure = (bytes: Buffer | Uint8Array) =>
  Failure.toObject(Failure.decode(bytes), { enums: String, longs: String }) as {
    errors: Array<{
      error_code: Record<string, string>;
      message: string;
      location?: { field_path_elements: Array<{ field_name: string; index?: number }> };
    }>;
    request_id: string;
  };
const services = (
  grpc.loadPackageDefinition(
    protoLoader.fromJSON(PROTOS, {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: false,
      oneofs: true,
    }),
  ) as unknown as {
    google: {
      ads: { googleads: { v24: { services: Record<string, grpc.ServiceClientConstructor> } } };
    };
  }
).google.ads.googleads.v24.services;

type Res = Record<string, unknown>;
interface GrpcFailure {
  code: number;
  failure: ReturnType<typeof decodeFailure>;
}

const DATE = '2026-03-01';

describe('Google Ads sandbox', () => {
  let sandbox: Sandbox;
  let dir: string;
  let token = '';
  let cid = '';
  const clients = new Map<string, grpc.Client>();

  const md = (extra: Record<string, string> = {}) => {
    const m = new grpc.Metadata();
    m.set('authorization', `Bearer ${token}`);
    m.set('developer-token', sandbox.googleCredentials.developerToken);
    m.set('login-customer-id', sandbox.googleCredentials.loginCustomerId!);
    for (const [k, v] of Object.entries(extra)) m.set(k, v);
    return m;
  };

  /** A unary call: the response, or the status code and decoded GoogleAdsFailure. */
  function call(service: string, method: string, request: Res, meta = md()): Promise<Res> {
    let client = clients.get(service);
    if (!client) {
      client = new services[service]!(
        sandbox.googleUrls.grpc.replace('http://', ''),
        grpc.credentials.createInsecure(),
      );
      clients.set(service, client);
    }
    return new Promise((resolve, reject) => {
      (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!.call(
        client,
        { customer_id: cid, ...request },
        meta,
        { deadline: Date.now() + 20_000 },
        (err: grpc.ServiceError | null, res: Res) => {
          if (!err) return resolve(res);
          const bytes = err.metadata?.get(FAILURE_KEY)[0];
          reject(
            Object.assign(new Error(err.message), {
              code: err.code,
              failure: bytes ? decodeFailure(bytes as Buffer) : null,
            }),
          );
        },
      );
    });
  }
  const refused = async (
    p: Promise<unknown>,
    category: string,
    code: string,
    status = grpc.status.INVALID_ARGUMENT,
  ) => {
    const err = (await p.then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    )) as GrpcFailure;
    assert.equal(err.code, status, JSON.stringify(err.failure));
    assert.equal(err.failure.errors[0]!.error_code[category], code, JSON.stringify(err.failure));
    return err.failure;
  };

  const rest = (query: string, stream = true, headers: Record<string, string> = {}) =>
    fetch(
      `${sandbox.googleUrls.rest}/v24/customers/${cid}/googleAds:${stream ? 'searchStream' : 'search'}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'developer-token': sandbox.googleCredentials.developerToken,
          'login-customer-id': sandbox.googleCredentials.loginCustomerId!,
          'content-type': 'application/json',
          ...headers,
        },
        body: JSON.stringify({ query }),
      },
    );
  const rows = async (query: string) => {
    const res = await rest(query);
    const body = (await res.json()) as Array<{ results?: Res[] }>;
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.flatMap((b) => b.results ?? []);
  };

  const image = (w: number, h: number, artist = 'a1') =>
    sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 40, b: 90 } } })
      .withXmp(
        `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:source>https://adloop.example/artist/${artist}?utm_content=${artist}.spotlight</dc:source></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`,
      )
      .png()
      .toBuffer();

  let budget = '';
  let campaign = '';
  let adGroup = '';
  const images: string[] = [];
  let videoAsset = '';
  let videoId = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'google-sandbox-'));
    const spec = JSON.parse(fs.readFileSync(DEMO_WORLD, 'utf8')) as Res;
    spec.catalog = path.resolve(path.dirname(DEMO_WORLD), spec.catalog as string);
    spec.review = { rejectionRate: 0, bannedTerms: ['guaranteed'], delaySeconds: 0 };
    const file = path.join(dir, 'world.json');
    fs.writeFileSync(file, JSON.stringify(spec));
    sandbox = await startSandbox({ world: file, date: DATE, stateDir: dir });
    sandbox.google.youtube.processingMs = 0;
    cid = sandbox.googleCredentials.customerId;
  });
  after(async () => {
    for (const c of clients.values()) c.close();
    await sandbox.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('issues OAuth access tokens for the refresh token, and refuses a wrong one', async () => {
    const c = sandbox.googleCredentials;
    const form = (refresh: string) =>
      fetch(sandbox.googleUrls.token, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: c.clientId,
          client_secret: c.clientSecret,
          refresh_token: refresh,
        }),
      });
    const bad = await form('nope');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as Res).error, 'invalid_grant');
    const ok = await form(c.refreshToken);
    const body = (await ok.json()) as {
      access_token: string;
      expires_in: number;
      token_type: string;
    };
    assert.equal(body.expires_in, 3599);
    assert.equal(body.token_type, 'Bearer');
    token = body.access_token;
  });

  it('refuses calls without a valid token or through the wrong login customer', async () => {
    await refused(
      call('CustomerService', 'ListAccessibleCustomers', {}, new grpc.Metadata()),
      'authentication_error',
      'OAUTH_TOKEN_HEADER_INVALID',
      grpc.status.UNAUTHENTICATED,
    );
    const noLogin = md();
    noLogin.remove('login-customer-id');
    await refused(
      call(
        'CampaignBudgetService',
        'MutateCampaignBudgets',
        { operations: [{ create: { amount_micros: '10000000', explicitly_shared: false } }] },
        noLogin,
      ),
      'authorization_error',
      'USER_PERMISSION_DENIED',
      grpc.status.PERMISSION_DENIED,
    );
  });

  it('creates a budget and an App campaign, and refuses a duplicate name and a bad amount', async () => {
    const f = await refused(
      call('CampaignBudgetService', 'MutateCampaignBudgets', {
        operations: [{ create: { amount_micros: '12345', explicitly_shared: false } }],
      }),
      'campaign_budget_error',
      'NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT',
    );
    assert.deepEqual(
      f.errors[0]!.location!.field_path_elements.map((e) => e.field_name),
      ['operations', 'create', 'amount_micros'],
    );
    const b = (await call('CampaignBudgetService', 'MutateCampaignBudgets', {
      operations: [
        { create: { name: 'b1', amount_micros: '50000000', explicitly_shared: false } },
        { create: { name: 'b2', amount_micros: '50000000', explicitly_shared: false } },
      ],
    })) as { results: Array<{ resource_name: string }> };
    budget = b.results[0]!.resource_name;
    assert.match(budget, new RegExp(`^customers/${cid}/campaignBudgets/\\d+$`));
    const create = (name: string, budgetName: string) => ({
      name,
      status: 'ENABLED',
      advertising_channel_type: 'MULTI_CHANNEL',
      advertising_channel_sub_type: 'APP_CAMPAIGN',
      campaign_budget: budgetName,
      app_campaign_setting: {
        app_id: 'com.adloop.music',
        app_store: 'GOOGLE_APP_STORE',
        bidding_strategy_goal_type: 'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
      },
      target_cpa: { target_cpa_micros: '2000000' },
    });
    const c = (await call('CampaignService', 'MutateCampaigns', {
      operations: [{ create: create('adloop SE android', budget) }],
      response_content_type: 'MUTABLE_RESOURCE',
    })) as { results: Array<{ resource_name: string; campaign: Res }> };
    campaign = c.results[0]!.resource_name;
    assert.equal(c.results[0]!.campaign.name, 'adloop SE android');
    const dup = await refused(
      call('CampaignService', 'MutateCampaigns', {
        operations: [{ create: create('adloop SE android', b.results[1]!.resource_name) }],
      }),
      'campaign_error',
      'DUPLICATE_CAMPAIGN_NAME',
    );
    assert.deepEqual(dup.errors[0]!.location!.field_path_elements, [
      { field_name: 'operations', index: 0 },
      { field_name: 'create' },
      { field_name: 'name' },
    ]);
    await call('CampaignCriterionService', 'MutateCampaignCriteria', {
      operations: [
        { create: { campaign, location: { geo_target_constant: 'geoTargetConstants/2752' } } },
      ],
    });
    const g = (await call('AdGroupService', 'MutateAdGroups', {
      operations: [{ create: { name: 'g1', campaign, status: 'ENABLED' } }],
    })) as { results: Array<{ resource_name: string }> };
    adGroup = g.results[0]!.resource_name;
    await refused(
      call('AdGroupService', 'MutateAdGroups', {
        operations: [{ create: { name: 'g1', campaign } }],
      }),
      'ad_group_error',
      'DUPLICATE_ADGROUP_NAME',
    );
  });

  it('GoogleAdsService.Mutate: temp resource names, in order, atomic unless partial_failure', async () => {
    const app = (name: string, budgetName: string, appId = 'com.adloop.music') => ({
      resource_name: `customers/${cid}/campaigns/-2`,
      name,
      status: 'PAUSED',
      advertising_channel_type: 'MULTI_CHANNEL',
      advertising_channel_sub_type: 'APP_CAMPAIGN',
      campaign_budget: budgetName,
      app_campaign_setting: {
        app_id: appId,
        app_store: 'GOOGLE_APP_STORE',
        bidding_strategy_goal_type: 'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
      },
      target_cpa: { target_cpa_micros: '2000000' },
    });
    const budgetOp = (name: string) => ({
      campaign_budget_operation: {
        create: {
          resource_name: `customers/${cid}/campaignBudgets/-1`,
          name,
          amount_micros: '10000000',
          explicitly_shared: false,
        },
      },
    });
    const tmp = (n: number, c = 'campaigns') => `customers/${cid}/${c}/-${n}`;
    const criterion = (campaignName: string, geo = 'geoTargetConstants/2276') => ({
      campaign_criterion_operation: {
        create: { campaign: campaignName, location: { geo_target_constant: geo } },
      },
    });
    const count = async (what: 'campaign' | 'campaign_budget', name: string) =>
      (await rows(`SELECT ${what}.id FROM ${what} WHERE ${what}.name = '${name}'`)).length;

    // A budget, the campaign on it and its criterion, each naming the one before by its temp name.
    const ok = (await call('GoogleAdsService', 'Mutate', {
      mutate_operations: [
        budgetOp('tmp b1'),
        { campaign_operation: { create: app('tmp c1', tmp(1, 'campaignBudgets')) } },
        criterion(tmp(2)),
      ],
    })) as { mutate_operation_responses: Array<Record<string, { resource_name: string }>> };
    const [b, c, k] = ok.mutate_operation_responses;
    assert.match(b!.campaign_budget_result!.resource_name, /campaignBudgets\/\d+$/);
    const campaignName = c!.campaign_result!.resource_name;
    assert.match(campaignName, new RegExp(`^customers/${cid}/campaigns/\\d+$`));
    assert.equal(
      k!.campaign_criterion_result!.resource_name,
      `customers/${cid}/campaignCriteria/${campaignName.split('/').at(-1)}~2276`,
      'the criterion names the real campaign',
    );
    const linked = await rows(
      `SELECT campaign_criterion.campaign FROM campaign_criterion WHERE campaign.name = 'tmp c1'`,
    );
    assert.deepEqual(
      linked.map((r) => (r.campaignCriterion as { campaign: string }).campaign),
      [campaignName],
    );

    // Atomic: the campaign fails (unknown app), so its criterion has TEMP_ID_RESOURCE_HAD_ERRORS
    // and the budget created before it does not stay.
    const failed = await refused(
      call('GoogleAdsService', 'Mutate', {
        mutate_operations: [
          budgetOp('tmp b2'),
          { campaign_operation: { create: app('tmp c2', tmp(1, 'campaignBudgets'), 'no.app') } },
          criterion(tmp(2)),
        ],
      }),
      'campaign_error',
      'APP_NOT_FOUND',
    );
    assert.deepEqual(
      failed.errors.map((e) => [
        Object.values(e.error_code)[0],
        e.location!.field_path_elements.map((p) => p.field_name + (p.index ?? '')).join('.'),
      ]),
      [
        [
          'APP_NOT_FOUND',
          'mutate_operations1.campaign_operation.create.app_campaign_setting.app_id',
        ],
        [
          'TEMP_ID_RESOURCE_HAD_ERRORS',
          'mutate_operations2.campaign_criterion_operation.create.campaign',
        ],
      ],
    );
    assert.equal(await count('campaign_budget', 'tmp b2'), 0, 'nothing of the request stays');

    // A temp name used before its create, and a temp number used twice.
    await refused(
      call('GoogleAdsService', 'Mutate', {
        mutate_operations: [
          criterion(tmp(2)),
          budgetOp('tmp b3'),
          { campaign_operation: { create: app('tmp c3', tmp(1, 'campaignBudgets')) } },
        ],
      }),
      'mutate_error',
      'RESOURCE_NOT_FOUND',
    );
    const twice = await refused(
      call('GoogleAdsService', 'Mutate', {
        mutate_operations: [
          budgetOp('tmp b4'),
          {
            campaign_operation: {
              create: { ...app('tmp c4', tmp(1, 'campaignBudgets')), resource_name: tmp(1) },
            },
          },
        ],
      }),
      'new_resource_creation_error',
      'DUPLICATE_TEMP_IDS',
    );
    assert.equal(twice.errors.length, 1);
    assert.equal(await count('campaign_budget', 'tmp b3'), 0);
    assert.equal(await count('campaign_budget', 'tmp b4'), 0);

    // partial_failure: each operation on its own; the failed one's dependant fails with it.
    const partial = (await call('GoogleAdsService', 'Mutate', {
      mutate_operations: [
        budgetOp('tmp b5'),
        { campaign_operation: { create: app('tmp c5', tmp(1, 'campaignBudgets'), 'no.app') } },
        criterion(tmp(2)),
      ],
      partial_failure: true,
    })) as {
      mutate_operation_responses: Array<Record<string, { resource_name: string }>>;
      partial_failure_error: { details: Array<{ value: Buffer }> };
    };
    assert.ok(
      partial.mutate_operation_responses[0]!.campaign_budget_result!.resource_name,
      'the budget landed',
    );
    assert.deepEqual(partial.mutate_operation_responses.slice(1), [{}, {}]);
    assert.deepEqual(
      decodeFailure(partial.partial_failure_error.details[0]!.value).errors.map(
        (e) => Object.values(e.error_code)[0],
      ),
      ['APP_NOT_FOUND', 'TEMP_ID_RESOURCE_HAD_ERRORS'],
    );
    assert.equal(await count('campaign_budget', 'tmp b5'), 1);
    assert.equal(await count('campaign', 'tmp c5'), 0);

    // validate_only: checked in order (temp names resolve), nothing written.
    const checked = (await call('GoogleAdsService', 'Mutate', {
      mutate_operations: [
        budgetOp('tmp b6'),
        { campaign_operation: { create: app('tmp c6', tmp(1, 'campaignBudgets')) } },
        criterion(tmp(2)),
      ],
      validate_only: true,
    })) as { mutate_operation_responses: unknown[] };
    assert.deepEqual(checked.mutate_operation_responses, [{}, {}, {}]);
    assert.equal(await count('campaign_budget', 'tmp b6'), 0);
    assert.equal(await count('campaign', 'tmp c6'), 0);

    // The single-resource services take no temp names.
    await refused(
      call('CampaignCriterionService', 'MutateCampaignCriteria', {
        operations: [
          {
            create: {
              campaign: tmp(1),
              location: { geo_target_constant: 'geoTargetConstants/2276' },
            },
          },
        ],
      }),
      'request_error',
      'RESOURCE_NAME_MALFORMED',
    );
  });

  it('validate_only checks and writes nothing', async () => {
    const before = (await rows('SELECT campaign.id FROM campaign')).length;
    const r = (await call('CampaignBudgetService', 'MutateCampaignBudgets', {
      operations: [{ create: { name: 'vo', amount_micros: '10000000', explicitly_shared: false } }],
      validate_only: true,
    })) as { results: unknown[] };
    assert.deepEqual(r.results, [{}]);
    assert.equal(
      (
        await rows(
          "SELECT campaign_budget.id FROM campaign_budget WHERE campaign_budget.name = 'vo'",
        )
      ).length,
      0,
    );
    assert.equal((await rows('SELECT campaign.id FROM campaign')).length, before);
  });

  it('creates images with partial failure: the bad one fails at its index, the others land', async () => {
    const ops = [
      { create: { name: 'square', image_asset: { data: await image(1200, 1200, 'a1') } } },
      { create: { name: 'wide-bad', image_asset: { data: await image(1000, 300) } } },
      { create: { name: 'portrait', image_asset: { data: await image(960, 1200, 'a2') } } },
    ];
    const r = (await call('AssetService', 'MutateAssets', {
      operations: ops,
      partial_failure: true,
    })) as {
      results: Array<{ resource_name?: string }>;
      partial_failure_error: { details: Array<{ type_url: string; value: Buffer }> };
    };
    assert.ok(
      r.results[0]!.resource_name && r.results[2]!.resource_name,
      JSON.stringify(r.results),
    );
    assert.equal(r.results[1]!.resource_name ?? '', '');
    const detail = r.partial_failure_error.details[0]!;
    assert.equal(
      detail.type_url,
      'type.googleapis.com/google.ads.googleads.v24.errors.GoogleAdsFailure',
    );
    const failure = decodeFailure(detail.value);
    assert.equal(failure.errors[0]!.error_code.image_error, 'ASPECT_RATIO_NOT_ALLOWED');
    assert.deepEqual(failure.errors[0]!.location!.field_path_elements[0], {
      field_name: 'operations',
      index: 1,
    });
    images.push(r.results[0]!.resource_name, r.results[2]!.resource_name);
    const listed = await rows(
      'SELECT asset.id, asset.image_asset.full_size.width_pixels FROM asset WHERE asset.type = IMAGE ORDER BY asset.id',
    );
    assert.equal(listed.length, 2);
  });

  it('uploads a video to YouTube resumably, finds it by search and makes it a YouTube asset', async () => {
    const bytes = mp4(1080, 1920);
    const start = await fetch(
      `${sandbox.googleUrls.youtube}upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'x-upload-content-length': String(bytes.length),
          'x-upload-content-type': 'video/mp4',
        },
        body: JSON.stringify({
          snippet: {
            title: 'adloop a3 spotlight',
            description: 'https://adloop.example/artist/a3?utm_content=a3.spotlight',
          },
          status: { privacyStatus: 'unlisted' },
        }),
      },
    );
    assert.equal(start.status, 200);
    const session = start.headers.get('location')!;
    const half = Math.floor(bytes.length / 2);
    const first = await fetch(session, {
      method: 'PUT',
      headers: { 'content-range': `bytes 0-${half - 1}/${bytes.length}` },
      body: bytes.subarray(0, half),
    });
    assert.equal(first.status, 308);
    assert.equal(first.headers.get('range'), `bytes=0-${half - 1}`);
    const done = await fetch(session, {
      method: 'PUT',
      headers: { 'content-range': `bytes ${half}-${bytes.length - 1}/${bytes.length}` },
      body: bytes.subarray(half),
    });
    const video = (await done.json()) as {
      id: string;
      kind: string;
      status: { uploadStatus: string };
    };
    assert.equal(video.kind, 'youtube#video');
    videoId = video.id;
    const listed = (await (
      await fetch(`${sandbox.googleUrls.youtube}youtube/v3/videos?part=status&id=${videoId}`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { items: Array<{ status: { uploadStatus: string } }> };
    assert.equal(listed.items[0]!.status.uploadStatus, 'processed');
    const found = (await (
      await fetch(
        `${sandbox.googleUrls.youtube}youtube/v3/search?part=snippet&forMine=true&type=video&q=a3&maxResults=50`,
        { headers: { authorization: `Bearer ${token}` } },
      )
    ).json()) as { items: Array<{ id: { videoId: string } }> };
    assert.deepEqual(
      found.items.map((i) => i.id.videoId),
      [videoId],
    );
    const unauth = await fetch(
      `${sandbox.googleUrls.youtube}youtube/v3/search?part=snippet&forMine=true&type=video&q=a3`,
    );
    assert.equal(unauth.status, 401);
    assert.equal(
      ((await unauth.json()) as { error: { errors: Array<{ reason: string }> } }).error.errors[0]!
        .reason,
      'authError',
    );
    await refused(
      call('AssetService', 'MutateAssets', {
        operations: [{ create: { youtube_video_asset: { youtube_video_id: 'nonexistent1' } } }],
      }),
      'media_file_error',
      'YOU_TUBE_VIDEO_NOT_FOUND',
    );
    const a = (await call('AssetService', 'MutateAssets', {
      operations: [
        { create: { name: 'video', youtube_video_asset: { youtube_video_id: videoId } } },
      ],
    })) as { results: Array<{ resource_name: string }> };
    videoAsset = a.results[0]!.resource_name;
  });

  it('creates an app ad, keeps its content immutable on AdGroupAdService and updates it through AdService', async () => {
    const ad = (await call('AdGroupAdService', 'MutateAdGroupAds', {
      operations: [
        {
          create: {
            ad_group: adGroup,
            status: 'ENABLED',
            ad: {
              app_ad: {
                headlines: [{ text: 'Hear a1 now' }],
                descriptions: [{ text: 'New music every day' }],
                images: [{ asset: images[0] }],
                youtube_videos: [{ asset: videoAsset }],
              },
            },
          },
        },
      ],
    })) as { results: Array<{ resource_name: string }> };
    const name = ad.results[0]!.resource_name;
    await refused(
      call('AdGroupAdService', 'MutateAdGroupAds', {
        operations: [
          {
            create: {
              ad_group: adGroup,
              ad: {
                app_ad: {
                  headlines: [{ text: 'x' }],
                  descriptions: [{ text: 'y' }],
                  images: [{ asset: images[1] }],
                },
              },
            },
          },
        ],
      }),
      'resource_count_limit_exceeded_error',
      'AD_GROUP_AD_LIMIT',
    );
    await refused(
      call('AdGroupAdService', 'MutateAdGroupAds', {
        operations: [
          {
            update: { resource_name: name, ad: { app_ad: { images: [] } } },
            update_mask: { paths: ['ad.app_ad.images'] },
          },
        ],
      }),
      'field_error',
      'IMMUTABLE_FIELD',
    );
    const adId = name.split('~')[1];
    await call('AdService', 'MutateAds', {
      operations: [
        {
          update: {
            resource_name: `customers/${cid}/ads/${adId}`,
            app_ad: { images: [{ asset: images[0] }, { asset: images[1] }] },
          },
          update_mask: { paths: ['app_ad.images'] },
        },
      ],
    });
    const r = await rows(
      'SELECT ad_group_ad.ad.app_ad.images, ad_group_ad.policy_summary.approval_status FROM ad_group_ad',
    );
    const adRow = r[0]!.adGroupAd as {
      ad: { appAd: { images: unknown[] } };
      policySummary: { approvalStatus: string };
    };
    assert.equal(adRow.ad.appAd.images.length, 2);
    assert.equal(adRow.policySummary.approvalStatus, 'APPROVED');
    await refused(
      call('AdGroupAdService', 'MutateAdGroupAds', {
        operations: [
          {
            create: {
              ad_group: adGroup,
              ad: { app_ad: { headlines: [{ text: 'x'.repeat(31) }] } },
            },
          },
        ],
      }),
      'resource_count_limit_exceeded_error',
      'AD_GROUP_AD_LIMIT',
    );
  });

  it('shows a policy-rejected asset as DISAPPROVED', async () => {
    const g = (await call('AdGroupService', 'MutateAdGroups', {
      operations: [{ create: { name: 'g-banned', campaign } }],
    })) as { results: Array<{ resource_name: string }> };
    await call('AdGroupAdService', 'MutateAdGroupAds', {
      operations: [
        {
          create: {
            ad_group: g.results[0]!.resource_name,
            ad: {
              app_ad: {
                headlines: [{ text: 'Guaranteed hits' }],
                descriptions: [{ text: 'd' }],
                images: [{ asset: images[1] }],
              },
            },
          },
        },
      ],
    });
    const r = await rows(
      `SELECT ad_group_ad_asset_view.asset, ad_group_ad_asset_view.policy_summary.approval_status, ad_group_ad_asset_view.policy_summary.policy_topic_entries FROM ad_group_ad_asset_view WHERE ad_group.name = 'g-banned'`,
    );
    assert.equal(r.length, 1);
    const v = r[0]!.adGroupAdAssetView as {
      policySummary: { approvalStatus: string; policyTopicEntries: Array<{ type: string }> };
    };
    assert.equal(v.policySummary.approvalStatus, 'DISAPPROVED');
    assert.equal(v.policySummary.policyTopicEntries[0]!.type, 'PROHIBITED');
  });

  it('reports asset metrics by date after the clock moves, over searchStream and gRPC Search', async () => {
    sandbox.clock.set('2026-03-04');
    const query =
      "SELECT ad_group_ad_asset_view.asset, ad_group_ad_asset_view.field_type, ad_group_ad_asset_view.performance_label, segments.date, metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions FROM ad_group_ad_asset_view WHERE segments.date BETWEEN '2026-03-01' AND '2026-03-03' ORDER BY segments.date";
    const r = await rows(query);
    assert.ok(r.length >= 3, `rows: ${r.length}`);
    const assets = new Set(r.map((x) => (x.adGroupAdAssetView as { asset: string }).asset));
    assert.ok(assets.has(images[0]!) && assets.has(videoAsset), [...assets].join(','));
    for (const x of r) {
      const m = x.metrics as { impressions: string; costMicros: string };
      assert.equal(typeof m.impressions, 'string');
      assert.ok(Number(m.impressions) > 0, JSON.stringify(x));
      assert.equal(Number(m.costMicros) % 10_000, 0);
    }
    // The budget (50 a day) is spent over the ad's assets each day.
    const spent = r
      .filter((x) => (x.segments as { date: string }).date === '2026-03-02')
      .reduce((s, x) => s + Number((x.metrics as { costMicros: string }).costMicros), 0);
    assert.ok(spent > 40_000_000 && spent <= 50_000_000, `spent ${spent}`);
    const conv = await rows(
      'SELECT ad_group_ad_asset_view.asset, segments.conversion_action_name, metrics.all_conversions FROM ad_group_ad_asset_view WHERE segments.date DURING LAST_7_DAYS',
    );
    assert.ok(
      conv.some(
        (x) => (x.segments as { conversionActionName: string }).conversionActionName === 'Install',
      ),
      `conversion rows: ${conv.length}`,
    );
    const g = (await call('GoogleAdsService', 'Search', {
      query:
        "SELECT campaign.id, metrics.impressions, segments.date FROM campaign WHERE segments.date = '2026-03-02'",
    })) as { results: Array<{ metrics: { impressions: string } }> };
    assert.ok(Number(g.results[0]?.metrics.impressions) > 0, JSON.stringify(g.results));
    // The MMP sees Google's deliveries too.
    assert.ok(sandbox.google.deliveriesOn('2026-03-02').length > 0, 'deliveries on 2026-03-02');
  });

  it('answers a bad query with the QueryError over REST', async () => {
    const res = await rest('SELECT campaign.nmae FROM campaign');
    assert.equal(res.status, 400);
    const body = (await res.json()) as Array<{
      error: {
        status: string;
        details: Array<{ errors: Array<{ errorCode: Record<string, string> }> }>;
      };
    }>;
    assert.equal(body[0]!.error.status, 'INVALID_ARGUMENT');
    assert.equal(body[0]!.error.details[0]!.errors[0]!.errorCode.queryError, 'UNRECOGNIZED_FIELD');
  });

  it('fails a bad date filter cleanly, and answers a pathological LIKE at once', async () => {
    const failing: Array<[string, string]> = [
      // A date segment selected on rows that carry none unless a finite range is given.
      ['SELECT campaign.id, segments.date FROM campaign', 'EXPECTED_FILTERS_ON_DATE_RANGE'],
      [
        "SELECT campaign.id, segments.date FROM campaign WHERE segments.date > '2026-03-01'",
        'EXPECTED_FILTERS_ON_DATE_RANGE',
      ],
      [
        "SELECT campaign.id, metrics.impressions FROM campaign WHERE segments.date = '2026-02-30'",
        'INVALID_DATE_FORMAT',
      ],
      [
        "SELECT campaign.id FROM campaign WHERE segments.date BETWEEN '2026-03-03' AND '2026-03-01'",
        'DATE_RANGE_TOO_NARROW',
      ],
      [
        'SELECT campaign.id FROM campaign WHERE segments.date DURING LAST_9_DAYS',
        'INVALID_VALUE_WITH_DURING_OPERATOR',
      ],
    ];
    for (const [query, code] of failing) {
      const started = performance.now();
      const res = await rest(query, true, {});
      const body = (await res.json()) as Array<{
        error: { details: Array<{ errors: Array<{ errorCode: Record<string, string> }> }> };
      }>;
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(body)}`);
      assert.equal(body[0]!.error.details[0]!.errors[0]!.errorCode.queryError, code, query);
      assert.ok(performance.now() - started < 2_000, `${query}: answered at once`);
    }
    // A date filter on rows without a date (no metrics): the rows are the attributes, unfiltered.
    const attributes = await rows(
      "SELECT campaign.id FROM campaign WHERE segments.date = '2026-03-02'",
    );
    assert.equal(attributes.length, (await rows('SELECT campaign.id FROM campaign')).length);
    // LIKE as a RegExp backtracked for minutes on this (the sandbox's thread at 100% CPU).
    const started = performance.now();
    const none = await rows(
      `SELECT campaign.id FROM campaign WHERE campaign.name LIKE '${'%a'.repeat(16)}%zz'`,
    );
    assert.deepEqual(none, []);
    assert.ok(performance.now() - started < 2_000, 'LIKE answered at once');
    assert.equal(
      (await rows("SELECT campaign.id FROM campaign WHERE campaign.name LIKE 'adloop SE %'"))
        .length,
      1,
      'LIKE still matches',
    );
  });

  it('refuses a TEST_ACCOUNT token on a production customer, and a BASIC token over its daily limit', async () => {
    const g = sandbox.world.google;
    g.accessLevel = 'TEST_ACCOUNT';
    try {
      await refused(
        call('GoogleAdsService', 'Search', { query: 'SELECT customer.id FROM customer' }),
        'authorization_error',
        'DEVELOPER_TOKEN_NOT_APPROVED',
        grpc.status.PERMISSION_DENIED,
      );
    } finally {
      g.accessLevel = 'BASIC';
    }
    const used = sandbox.google.operationsByDay.get(sandbox.clock.today()) ?? 0;
    g.dailyOperationLimit = used + 2;
    try {
      await call('CampaignBudgetService', 'MutateCampaignBudgets', {
        operations: [
          { create: { name: 'q1', amount_micros: '10000000', explicitly_shared: false } },
          { create: { name: 'q2', amount_micros: '10000000', explicitly_shared: false } },
        ],
      });
      const f = await refused(
        call('CampaignBudgetService', 'MutateCampaignBudgets', {
          operations: [
            { create: { name: 'q3', amount_micros: '10000000', explicitly_shared: false } },
          ],
        }),
        'quota_error',
        'RESOURCE_EXHAUSTED',
        grpc.status.RESOURCE_EXHAUSTED,
      );
      assert.match(f.errors[0]!.message, /Retry in/);
      const res = await rest('SELECT customer.id FROM customer');
      assert.equal(res.status, 429);
    } finally {
      delete g.dailyOperationLimit;
    }
  });

  it('injects faults: down answers UNAVAILABLE, and the request log counts it', async () => {
    sandbox.google.faults.down = true;
    try {
      await refused(
        call('CustomerService', 'ListAccessibleCustomers', {}),
        'internal_error',
        'TRANSIENT_ERROR',
        grpc.status.UNAVAILABLE,
      );
      const res = await rest('SELECT customer.id FROM customer');
      assert.equal(res.status, 503);
    } finally {
      sandbox.google.faults.down = false;
    }
    assert.equal(sandbox.google.requests.filter((r) => r.fault === 'down').length, 2);
  });

  it('keeps removed asset links in ad_group_ad_asset_view and replays each day with its own links', async () => {
    // Day 1 to 5 of a new App campaign; the earlier tests left the clock on 2026-03-04.
    const [day1, day2, day3, day4, day5] = [
      '2026-03-05',
      '2026-03-06',
      '2026-03-07',
      '2026-03-08',
      '2026-03-09',
    ];
    sandbox.clock.set(day1);
    const b = (await call('CampaignBudgetService', 'MutateCampaignBudgets', {
      operations: [
        { create: { name: 'b-links', amount_micros: '30000000', explicitly_shared: false } },
      ],
    })) as { results: Array<{ resource_name: string }> };
    const budgetName = b.results[0]!.resource_name;
    const c = (await call('CampaignService', 'MutateCampaigns', {
      operations: [
        {
          create: {
            name: 'adloop links',
            status: 'ENABLED',
            advertising_channel_type: 'MULTI_CHANNEL',
            advertising_channel_sub_type: 'APP_CAMPAIGN',
            campaign_budget: budgetName,
            app_campaign_setting: {
              app_id: 'com.adloop.music',
              app_store: 'GOOGLE_APP_STORE',
              bidding_strategy_goal_type: 'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
            },
            target_cpa: { target_cpa_micros: '2000000' },
          },
        },
      ],
    })) as { results: Array<{ resource_name: string }> };
    const linksCampaign = c.results[0]!.resource_name;
    await call('CampaignCriterionService', 'MutateCampaignCriteria', {
      operations: [
        {
          create: {
            campaign: linksCampaign,
            location: { geo_target_constant: 'geoTargetConstants/2752' },
          },
        },
      ],
    });
    const g = (await call('AdGroupService', 'MutateAdGroups', {
      operations: [{ create: { name: 'g-links', campaign: linksCampaign, status: 'ENABLED' } }],
    })) as { results: Array<{ resource_name: string }> };
    const a = (await call('AssetService', 'MutateAssets', {
      operations: [
        { create: { name: 'link-0', image_asset: { data: await image(1100, 1100, 'l0') } } },
        { create: { name: 'link-1', image_asset: { data: await image(1000, 1000, 'l1') } } },
        { create: { name: 'link-2', image_asset: { data: await image(900, 900, 'l2') } } },
        { create: { name: 'link-3', image_asset: { data: await image(800, 800, 'l3') } } },
      ],
    })) as { results: Array<{ resource_name: string }> };
    const [i0, i1, i2, i3] = a.results.map((r) => r.resource_name) as [
      string,
      string,
      string,
      string,
    ];
    const created = (await call('AdGroupAdService', 'MutateAdGroupAds', {
      operations: [
        {
          create: {
            ad_group: g.results[0]!.resource_name,
            status: 'ENABLED',
            ad: {
              app_ad: {
                headlines: [{ text: 'Hear l0 now' }],
                descriptions: [{ text: 'New music every day' }],
                images: [{ asset: i0 }, { asset: i1 }, { asset: i2 }],
              },
            },
          },
        },
      ],
    })) as { results: Array<{ resource_name: string }> };
    const adId = created.results[0]!.resource_name.split('~')[1]!;
    const setImages = (names: string[]) =>
      call('AdService', 'MutateAds', {
        operations: [
          {
            update: {
              resource_name: `customers/${cid}/ads/${adId}`,
              app_ad: { images: names.map((asset) => ({ asset })) },
            },
            update_mask: { paths: ['app_ad.images'] },
          },
        ],
      });
    type View = {
      asset: string;
      enabled: boolean;
      fieldType: string;
      policySummary: { approvalStatus: string; reviewStatus: string };
    };
    const view = async () =>
      new Map(
        (
          await rows(
            "SELECT ad_group_ad_asset_view.asset, ad_group_ad_asset_view.enabled, ad_group_ad_asset_view.field_type, ad_group_ad_asset_view.policy_summary.approval_status, ad_group_ad_asset_view.policy_summary.review_status FROM ad_group_ad_asset_view WHERE ad_group.name = 'g-links'",
          )
        ).map((r) => {
          const v = r.adGroupAdAssetView as View;
          return [v.asset, v];
        }),
      );
    /** The assets with impressions on each day, as the asset view reports them today. */
    const servedByDay = async () => {
      const out = new Map<string, Set<string>>();
      for (const r of await rows(
        `SELECT ad_group_ad_asset_view.asset, segments.date, metrics.impressions FROM ad_group_ad_asset_view WHERE ad_group.name = 'g-links' AND segments.date BETWEEN '${day1}' AND '${day5}'`,
      )) {
        const date = (r.segments as { date: string }).date;
        const set = out.get(date) ?? new Set<string>();
        if (Number((r.metrics as { impressions: string }).impressions) > 0)
          set.add((r.adGroupAdAssetView as { asset: string }).asset);
        out.set(date, set);
      }
      return out;
    };
    const servedOn = (date: string) =>
      new Set(
        sandbox.google
          .deliveriesOn(date)
          .filter((d) => d.adGroupName === 'g-links')
          .map((d) => `customers/${cid}/assets/${d.adId}`),
      );
    const stored = () => sandbox.google.account.store.get(adId, 'ad_group_ad')!;
    const reviewsBefore = structuredClone(stored().fields._reviews) as Record<string, unknown>;

    sandbox.clock.set(day2);
    const day2Log = sandbox.google.deliveriesOn(day2);
    assert.deepEqual(servedOn(day2), new Set([i0, i1, i2]), 'day 2 serves the three images');

    // Day 3: two changes; the day's last links (i0, i1, i3) count for the whole day. A headline
    // change leaves the links' history as it is.
    sandbox.clock.set(day3);
    await setImages([i0, i2]);
    await setImages([i0, i1, i3]);
    await call('AdService', 'MutateAds', {
      operations: [
        {
          update: {
            resource_name: `customers/${cid}/ads/${adId}`,
            app_ad: { headlines: [{ text: 'Hear l1 now' }] },
          },
          update_mask: { paths: ['app_ad.headlines'] },
        },
      ],
    });
    let v = await view();
    assert.equal(v.size, 4, JSON.stringify([...v.values()]));
    assert.equal(v.get(i2)!.enabled, false, 'the unlinked image is reported, not enabled');
    assert.equal(v.get(i2)!.fieldType, 'MARKETING_IMAGE');
    assert.equal(v.get(i2)!.policySummary.approvalStatus, 'APPROVED');
    assert.equal(v.get(i2)!.policySummary.reviewStatus, 'REVIEWED');
    for (const name of [i0, i1, i3])
      assert.equal(v.get(name)!.enabled, true, `${name} is linked to the latest version`);
    assert.deepEqual(
      sandbox.google.deliveriesOn(day2),
      day2Log,
      'the unlink does not change day 2',
    );
    assert.deepEqual(servedOn(day3), new Set([i0, i1, i3]), 'day 3 serves its last links');
    assert.ok(!servedOn(day2).has(i3), 'an image linked on day 3 did not serve on day 2');

    // Day 4: the budget changes; earlier days keep their amount.
    sandbox.clock.set(day4);
    const spentOn = (date: string) =>
      sandbox.google
        .deliveriesOn(date)
        .filter((d) => d.adGroupName === 'g-links')
        .reduce((sum, d) => sum + d.delivery.spendMinor, 0);
    const day3Spend = spentOn(day3);
    await call('CampaignBudgetService', 'MutateCampaignBudgets', {
      operations: [
        {
          update: { resource_name: budgetName, amount_micros: '90000000' },
          update_mask: { paths: ['amount_micros'] },
        },
      ],
    });
    assert.equal(spentOn(day3), day3Spend, 'day 3 keeps its budget');
    assert.ok(spentOn(day4) > day3Spend, `day 4 spends the new budget: ${spentOn(day4)}`);
    const served = await servedByDay();
    assert.ok(served.get(day2)?.has(i2), `day 2's metrics include the unlinked image`);
    assert.ok(served.get(day1)?.has(i2), `day 1's metrics include the unlinked image`);
    for (const day of [day3, day4]) {
      assert.ok(served.get(day)?.size, `${day} has metrics`);
      assert.ok(!served.get(day)!.has(i2), `${day}'s metrics exclude the unlinked image`);
    }
    assert.ok(!served.get(day2)!.has(i3), `day 2's metrics exclude the image linked on day 3`);

    // Day 5: relinked, i2 is enabled again with its first review (a new one would be in review).
    sandbox.clock.set(day5);
    const delay = sandbox.google.review.delaySeconds;
    sandbox.google.review.delaySeconds = 3_600;
    try {
      await setImages([i0, i1, i3, i2]);
    } finally {
      sandbox.google.review.delaySeconds = delay;
    }
    v = await view();
    assert.equal(v.size, 4, JSON.stringify([...v.values()]));
    assert.equal(v.get(i2)!.enabled, true, 'the relinked image is enabled again');
    assert.equal(v.get(i2)!.policySummary.reviewStatus, 'REVIEWED', 'no new review');
    assert.equal(v.get(i2)!.policySummary.approvalStatus, 'APPROVED');
    const reviews = stored().fields._reviews as Record<string, unknown>;
    for (const name of [i0, i1, i2])
      assert.deepEqual(reviews[name], reviewsBefore[name], `${name} keeps its review decision`);
    assert.deepEqual(sandbox.google.deliveriesOn(day2), day2Log, 'day 2 is still unchanged');
    assert.ok(!servedOn(day4).has(i2), 'the relink does not reach back to day 4');
    assert.ok(servedOn(day5).has(i2), 'the relinked image serves on day 5');
    const after = await servedByDay();
    assert.deepEqual(after.get(day3), served.get(day3), 'day 3 metrics unchanged by the relink');

    // The histories are persisted with the rest of the state.
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'google.json'), 'utf8')) as {
      objects: Array<{
        id: string;
        type: string;
        fields: Res;
        fieldLog?: Record<string, Array<{ date: string; value: unknown }>>;
      }>;
    };
    const saved = state.objects.find((o) => o.type === 'ad_group_ad' && o.id === adId)!;
    assert.deepEqual(
      (saved.fields._links as Array<{ date: string; images: string[] }>).map((e) => [
        e.date,
        e.images,
      ]),
      [
        [day1, [i0, i1, i2]],
        [day3, [i0, i2]],
        [day3, [i0, i1, i3]],
        [day5, [i0, i1, i3, i2]],
      ],
      "every change is kept, the day's last one counting for it",
    );
    const savedBudget = state.objects.find((o) => o.fields.resource_name === budgetName)!;
    assert.deepEqual(savedBudget.fieldLog?.amount_micros, [
      { date: day1, value: '30000000' },
      { date: day4, value: '90000000' },
    ]);
  });
});
