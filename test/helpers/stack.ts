// Everything the loop's activities need, on real parts: a sandbox ad platform (in memory, on a
// free port, with a fixed date), a fresh database and a temporary creatives folder.
import { loadConfigPart } from '../../core/config.ts';
import { perAccount } from '../../workers/loop-worker.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ActivityDeps } from '../../activities/index.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import { createDeliveryWriter } from '../../db/delivery-writer.ts';
import { loadFxTable } from '../../core/money.ts';
import { marketAccounts, parseAccounts } from '../../core/accounts.ts';
import { createMetaAds, type MetaAds } from '../../platforms/meta/meta-ads.ts';
import { createMmp } from '../../platforms/mmp/index.ts';
import { createTikTokAds, type TikTokAds } from '../../platforms/tiktok/tiktok-ads.ts';
import { createGoogleAds } from '../../platforms/google/google-ads.ts';
import { createYouTubeUploads } from '../../platforms/google/youtube.ts';
import { sandboxAccounts } from '../../sandbox/accounts.ts';
import { loadRenderer } from '../../render/renderer.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { freshDatabase, type DbKind } from './db.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const DEMO_WORLD = path.join(ROOT, 'sandbox/worlds/demo.json');

export interface TestStack {
  sandbox: Sandbox;
  database: DatabaseHandle;
  deps: ActivityDeps;
  /** The Meta client of the ad account that runs `market`. */
  metaOf(market: string): MetaAds;
  /** The TikTok client of the advertiser that runs `market`. */
  tiktokOf(market: string): TikTokAds;
  creativesDir: string;
  close(): Promise<void>;
}

/**
 * The platform clients' request timeout in tests, and so how long deploy lets an unanswered write
 * settle before it looks it up again (production: 60 s).
 */
export const REQUEST_TIMEOUT_MS = 5000;

export async function startTestStack(
  o: {
    db?: DbKind;
    date?: string;
    adsPerMarket?: number;
    /** Default policy of every market (RANKING_POLICY). Default ml. */
    rankingPolicy?: 'ml' | 'heuristic';
    /** Champion / challenger arms (RANKING_POLICY_BY_MARKET). */
    rankingPolicyByMarket?: string;
    accessToken?: string;
    /** MMP the activities read; default Adjust. */
    mmp?: 'adjust' | 'branch' | 'none';
    /** RENDER_KINDS and RENDER_RATIOS; default statics in 1:1 and 9:16. */
    renderKinds?: string;
    renderRatios?: string;
    /** Keep the world's random ad review rejections (default: off, so ad counts are exact). */
    worldReview?: boolean;
    /** The platform clients' request timeout (and deploy's settle time). Default 5 s. */
    requestTimeoutMs?: number;
    /** Deploy (or any other) settings over the defaults: both platforms, no spares, live, no approval. */
    deploy?: Partial<ActivityDeps['config']>;
    /**
     * Deploy to and ingest from Google Ads too (the sandbox's customer), with YouTube videos
     * unless `images`. Default off: the other tests count Meta's and TikTok's ads.
     */
    google?: boolean | 'images';
    /** Give the accounts file a daily budget to allocate (budgets follow results). Default off. */
    allocate?: boolean;
  } = {},
): Promise<TestStack> {
  const sandbox = await startSandbox({ world: DEMO_WORLD, date: o.date ?? '2026-03-01' });
  const timeoutMs = o.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  // The world's review rejects a few ads at random; tests that count ads turn that off, and the
  // review tests turn it on explicitly.
  if (!o.worldReview) {
    sandbox.meta.review.rejectionRate = 0;
    sandbox.tiktok.review.rejectionRate = 0;
    sandbox.google.review.rejectionRate = 0;
  }
  const database = await freshDatabase(o.db ?? 'pglite');
  const creativesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-creatives-'));
  const accounts = parseAccounts(
    sandboxAccounts(sandbox.world, { allocate: o.allocate ?? false }),
    'the sandbox accounts',
  );
  const meta = perAccount((adAccountId) =>
    createMetaAds({
      graphUrl: sandbox.metaUrl,
      ...sandbox.credentials,
      requestTimeoutMs: timeoutMs,
      // The sandbox processes a video over reads of its status, not seconds: poll briskly, and
      // never wait long for one that will not end.
      videoPollMs: 20,
      videoTimeoutMs: 30_000,
      adAccountId,
      ...(o.accessToken ? { accessToken: o.accessToken } : {}),
    }),
  );
  const tiktokClient = createTikTokAds({
    baseUrl: sandbox.tiktokUrl,
    ...sandbox.tiktokCredentials,
    timeoutMs,
  });
  const tiktok = (advertiserId: string) => {
    if (advertiserId !== sandbox.tiktokCredentials.advertiserId)
      throw new Error(`the sandbox has no TikTok advertiser ${advertiserId}`);
    return tiktokClient;
  };
  const g = sandbox.googleCredentials;
  const googleAuth = {
    tokenUrl: sandbox.googleUrls.token,
    clientId: g.clientId,
    clientSecret: g.clientSecret,
    refreshToken: g.refreshToken,
  };
  const google = o.google
    ? perAccount((customerId) =>
        createGoogleAds({
          ...googleAuth,
          restUrl: sandbox.googleUrls.rest,
          grpcUrl: sandbox.googleUrls.grpc,
          developerToken: g.developerToken,
          customerId,
          loginCustomerId: g.loginCustomerId,
          timeoutMs,
        }),
      )
    : null;
  const youtube =
    o.google === true
      ? createYouTubeUploads({ ...googleAuth, rootUrl: sandbox.googleUrls.youtube, timeoutMs })
      : null;
  // Settings written as an operator writes them, parsed by the configuration's own rules.
  const parsed = loadConfigPart(
    ['RENDER_KINDS', 'RENDER_RATIOS', 'RANKING_POLICY_BY_MARKET', 'HEURISTIC_WEIGHTS'],
    {
      RENDER_KINDS: o.renderKinds ?? 'static',
      RENDER_RATIOS: o.renderRatios ?? '1:1,9:16',
      RANKING_POLICY_BY_MARKET: o.rankingPolicyByMarket,
      HEURISTIC_WEIGHTS: '1,1,1',
    },
  );
  const deps: ActivityDeps = {
    db: database.db,
    delivery: createDeliveryWriter(database),
    accounts,
    meta,
    tiktok,
    google,
    youtube,
    fx: loadFxTable(path.join(ROOT, 'config/fx-rates.json')),
    mmp:
      o.mmp === 'none'
        ? null
        : o.mmp === 'branch'
          ? createMmp({
              provider: 'branch',
              baseUrl: sandbox.branchUrl,
              ...sandbox.world.mmp.branch,
            })
          : createMmp({
              provider: 'adjust',
              baseUrl: sandbox.adjustUrl,
              ...sandbox.world.mmp.adjust,
            }),
    renderer: loadRenderer({
      TEMPLATES_DIR: path.join(ROOT, 'templates'),
      FONTS_MANIFEST: path.join(ROOT, 'templates/fonts.json'),
      CREATIVE_STORE: 'local',
      CREATIVES_DIR: creativesDir,
    }),
    config: {
      CATALOG_PATH: path.join(ROOT, 'catalog/demo/catalog.json'),
      // Statics in two ratios keep the stage tests fast; test/render covers every kind and ratio.
      ...parsed,
      STATIC_FORMAT: 'jpeg',
      ADS_PER_MARKET: o.adsPerMarket ?? 3,
      ADS_PER_ARTIST: 1,
      DEPLOY_SPARES: 0,
      DEPLOY_PLATFORMS: 'auto',
      // One store keeps ad counts per market as simple as one ad set per platform; the deploy
      // tests that need both stores say so.
      DEPLOY_OS: ['android'],
      DEPLOY_OBJECTIVE: 'installs',
      DEPLOY_MODE: 'live',
      DEPLOY_APPROVAL_MARKETS: [],
      DEPLOY_APPROVAL_TIMEOUT: 60_000,
      DEPLOY_FATIGUE_DROP: 0.3,
      BUDGET_OBJECTIVE: 'registrations',
      BUDGET_LOOKBACK_DAYS: 28,
      BUDGET_MAX_DAILY_CHANGE: 0.2,
      BUDGET_EXPLORE: 1,
      ...o.deploy,
      LEARN_LOOKBACK_DAYS: 7,
      ATTRIBUTION_LOOKBACK_DAYS: 3,
      METRICS_LOOKBACK_DAYS: 3,
      REPORTING_CURRENCY: 'EUR',
      RANKING_POLICY: o.rankingPolicy ?? 'ml',
      RANKING_OBJECTIVE: 'registrations',
      EXPLORATION_SHARE: 0.34,
      DIVERSITY_WEIGHT: 0.15,
      TRAINING_WINDOW_DAYS: 90,
      META_REQUEST_TIMEOUT_MS: timeoutMs,
      TIKTOK_REQUEST_TIMEOUT_MS: timeoutMs,
      GOOGLE_REQUEST_TIMEOUT_MS: timeoutMs,
    },
  };
  return {
    sandbox,
    database,
    deps,
    metaOf: (market) => meta(marketAccounts(accounts, market).meta!.adAccountId),
    tiktokOf: (market) => tiktok(marketAccounts(accounts, market).tiktok!.advertiserId),
    creativesDir,
    async close() {
      await sandbox.close();
      await database.close();
      fs.rmSync(creativesDir, { recursive: true, force: true });
    },
  };
}

/**
 * The sandbox store's key of the Meta ad account that runs `market` (its id without `act_`): the
 * demo world has two, and `sandbox.credentials.adAccountId` is only the first.
 */
export function sandboxMetaAccount(sandbox: Sandbox, market: string): string {
  const account = sandbox.world.metaAccounts.find((a) => a.markets.includes(market));
  if (!account) throw new Error(`no Meta ad account of the sandbox runs ${market}`);
  return account.id.slice(4);
}

/** Ads in every Meta ad account of the sandbox, straight from its store (the platform's truth). */
export function sandboxAds(sandbox: Sandbox) {
  return sandbox.world.metaAccounts
    .flatMap((account) => sandbox.meta.store.list('ad', account.id.slice(4)))
    .map((a) => ({ id: a.id, name: String(a.fields.name), status: String(a.fields.status) }));
}
