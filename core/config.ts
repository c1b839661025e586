// Configuration is read once from the environment into a frozen, typed object. A missing or
// malformed value fails fast with the variable's name. Secrets (tokens) only ever come from here,
// never from workflow arguments, so they never reach a workflow history.
import path from 'node:path';
import { z } from 'zod';
import {
  ASPECT_RATIOS,
  CREATIVE_KINDS,
  DEFAULT_RENDER_TASK_QUEUE,
  type HeuristicWeights,
  type RankingPolicy,
} from './types.ts';
import { DEPLOY_PLATFORMS, type DeployPlatform } from './types.ts';
import { issueLines } from './validation.ts';

const port = z.coerce.number().int().min(1).max(65535);
/**
 * How long one request to a platform may wait for its answer, in ms: 100 ms to 10 minutes. A
 * request that times out fails as transient and is retried; a write that timed out may still have
 * been carried out, which deploy's lookup by name before every create absorbs.
 */
const requestTimeout = z.coerce.number().int().min(100).max(600_000).default(60_000);

/** The members of `all` a comma list names, in `all`'s order (the list is validated before). */
const inOrder = <T extends string>(all: readonly T[], list: string): T[] => {
  const named = list.split(',');
  return all.filter((x) => named.includes(x));
};

const schema = z.object({
  /** Temporal frontend (gRPC) address. Default `127.0.0.1:7233`. */
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  /**
   * TLS to Temporal (mTLS with a client certificate), with the names Temporal's own clients read
   * (the temporal CLI, the SDKs' envconfig): `true` for TLS with the system's roots; any of the
   * paths below turns it on too. The client certificate and key go together.
   */
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  /** CA that signed the Temporal frontend's certificate; unset: the system's roots. */
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
  /** Name to check the frontend's certificate against (SNI), when it is not the address's host. */
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  /** Temporal namespace. Default `default`. */
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** Task queue of the loop worker. Default `adloop-loop`. */
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('adloop-loop'),
  /** PostgreSQL URL. When unset, adloop uses embedded PGlite in `PGLITE_DIR`. */
  DATABASE_URL: z.string().url().optional(),
  /** Directory of the embedded PGlite database. Default `.data/pglite`. */
  PGLITE_DIR: z.string().default('.data/pglite'),
  /** Where rendered creatives are written. Default `.data/creatives`. */
  CREATIVES_DIR: z.string().default('.data/creatives'),
  /**
   * Catalog (markets and artists): a file, or an http(s) URL of a JSONL catalog source; a
   * `{market}` in it is replaced by the market being ingested. Default the shipped demo catalog.
   */
  CATALOG_PATH: z.string().default('catalog/demo/catalog.json'),
  /** Longest fetching a catalog URL may take, body included, in ms (100..600000). Default 60000. */
  CATALOG_FETCH_TIMEOUT_MS: requestTimeout,
  /** Directory of creative templates. Default `templates`. */
  TEMPLATES_DIR: z.string().default('templates'),
  /** The fonts templates may use (families -> files). Default `templates/fonts.json`. */
  FONTS_MANIFEST: z.string().default('templates/fonts.json'),
  /** Task queue of the render workers. Default `adloop-render`. */
  RENDER_TASK_QUEUE: z.string().min(1).default(DEFAULT_RENDER_TASK_QUEUE),
  /** Renders one render worker runs at once. Default 0: the number of CPUs. */
  RENDER_CONCURRENCY: z.coerce.number().int().min(0).max(256).default(0),
  /** What each creative is rendered as: `static`, `motion` or both. Default `static,motion`. */
  RENDER_KINDS: z
    .string()
    .regex(/^(static|motion)(,(static|motion))?$/, 'must be static, motion or static,motion')
    .default('static,motion')
    .transform((v) => inOrder(CREATIVE_KINDS, v)),
  /** Aspect ratios rendered. Default all four: `1:1,4:5,9:16,16:9`. */
  RENDER_RATIOS: z
    .string()
    .regex(/^(1:1|4:5|9:16|16:9)(,(1:1|4:5|9:16|16:9))*$/, 'must list 1:1, 4:5, 9:16, 16:9')
    .default('1:1,4:5,9:16,16:9')
    .transform((v) => inOrder(ASPECT_RATIOS, v)),
  /** Format of static creatives: jpeg or png. Default jpeg. */
  STATIC_FORMAT: z.enum(['jpeg', 'png']).default('jpeg'),
  /** Where rendered creatives are stored: local (CREATIVES_DIR) or s3. Default local. */
  CREATIVE_STORE: z.enum(['local', 's3']).default('local'),
  /** S3-compatible storage for CREATIVE_STORE=s3: bucket, key prefix, endpoint (for non-AWS), region. */
  S3_BUCKET: z.string().min(1).optional(),
  S3_PREFIX: z.string().optional(),
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().min(1).optional(),
  /** Path-style URLs (most S3-compatible servers need them). Default true when S3_ENDPOINT is set. */
  S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  /** S3 credentials (the secret is a secret); unset: the AWS default credential chain. */
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /**
   * A nexrender server (After Effects render farm). When set, motion assets of templates with a
   * `nexrender` section render there; everything else stays on the built-in renderer. Default unset.
   */
  NEXRENDER_URL: z.string().url().optional(),
  /** The nexrender server's secret (a secret). */
  NEXRENDER_SECRET: z.string().min(1).optional(),
  /** A folder both the nexrender workers and the render workers see, for finished videos. */
  NEXRENDER_OUTPUT_DIR: z.string().optional(),
  /** Graph API base URL (no version). Default the local sandbox on port 4010. */
  META_GRAPH_URL: z.string().url().default('http://127.0.0.1:4010'),
  /** Meta access token (secret); it must reach every ad account ACCOUNTS_PATH names. */
  META_ACCESS_TOKEN: z.string().min(1),
  /**
   * Which ad accounts and advertisers run which markets, the app in each store, pages and
   * identities, tracking links, budgets and spend caps (core/accounts.ts;
   * config/accounts.example.json). Default config/accounts.json.
   */
  ACCOUNTS_PATH: z.string().default('config/accounts.json'),
  /** Longest one Graph API request waits for its answer, in ms (100..600000). Default 60000. */
  META_REQUEST_TIMEOUT_MS: requestTimeout,
  /** TikTok Business API base URL; TikTok is used when TIKTOK_ACCESS_TOKEN is set. */
  TIKTOK_BASE_URL: z.string().url().default('http://127.0.0.1:4011'),
  /** TikTok access token (secret); TikTok is used when it is set. */
  TIKTOK_ACCESS_TOKEN: z.string().min(1).optional(),
  /** Longest one TikTok API request waits for its answer, in ms (100..600000). Default 60000. */
  TIKTOK_REQUEST_TIMEOUT_MS: requestTimeout,
  /**
   * Google Ads API developer token (secret); Google is used when it is set. Its access level
   * (test, explorer, basic, standard) decides which customers and how many operations a day it
   * may use; `adloop check` says which it has.
   */
  GOOGLE_ADS_DEVELOPER_TOKEN: z.string().min(1).optional(),
  /** OAuth client of the Google Cloud project (the secret and the refresh token are secrets). */
  GOOGLE_ADS_CLIENT_ID: z.string().min(1).optional(),
  GOOGLE_ADS_CLIENT_SECRET: z.string().min(1).optional(),
  /** Refresh token of a user with access to the customers (scopes adwords and youtube.upload). */
  GOOGLE_ADS_REFRESH_TOKEN: z.string().min(1).optional(),
  /** Google Ads API REST base (queries). Default the sandbox's. */
  GOOGLE_ADS_REST_URL: z.string().url().default('http://127.0.0.1:4014'),
  /**
   * Google Ads API gRPC endpoint (mutates), as a URL: https://googleads.googleapis.com:443, or
   * http:// for a plaintext sandbox on this machine (refused for any other host). Default the
   * sandbox's.
   */
  GOOGLE_ADS_GRPC_URL: z.string().url().default('http://127.0.0.1:4015'),
  /** Google's OAuth token endpoint. Default the sandbox's (https://oauth2.googleapis.com/token). */
  GOOGLE_OAUTH_TOKEN_URL: z.string().url().default('http://127.0.0.1:4014/token'),
  /** YouTube Data API root (uploads go to {root}upload/youtube/v3/videos). Default the sandbox's. */
  GOOGLE_YOUTUBE_URL: z.string().url().default('http://127.0.0.1:4014/'),
  /**
   * Whether Google App ads carry the motion creatives as YouTube videos (uploaded to the
   * channel of the OAuth user) besides the images. on or off. Default on.
   */
  GOOGLE_VIDEO: z.enum(['on', 'off']).default('on'),
  /** Longest one Google Ads or YouTube request waits for its answer, in ms. Default 60000. */
  GOOGLE_REQUEST_TIMEOUT_MS: requestTimeout,
  /** Mobile measurement partner to read attribution from: adjust, branch or none. Default none. */
  MMP_PROVIDER: z.enum(['adjust', 'branch', 'none']).default('none'),
  /** Longest one Adjust or Branch request waits, in ms (100..600000). Default 60000. */
  MMP_REQUEST_TIMEOUT_MS: requestTimeout,
  /** Adjust Report Service base URL. Default the sandbox's. */
  ADJUST_BASE_URL: z.string().url().default('http://127.0.0.1:4012'),
  /** Adjust API token (secret), and the app token. */
  ADJUST_API_TOKEN: z.string().min(1).optional(),
  ADJUST_APP_TOKEN: z.string().min(1).optional(),
  /** Branch Query API base URL. Default the sandbox's. */
  BRANCH_BASE_URL: z.string().url().default('http://127.0.0.1:4013'),
  /** Branch key and secret (secret). */
  BRANCH_KEY: z.string().min(1).optional(),
  BRANCH_SECRET: z.string().min(1).optional(),
  /** Days of platform metrics re-read on every ingest, for late-arriving data. Default 3. */
  METRICS_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(30).default(3),
  /** Days of attribution re-read on every ingest, for late and iOS-delayed data. Default 3. */
  ATTRIBUTION_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(30).default(3),
  /** Currency reports compare markets in (ISO 4217). Default USD. */
  REPORTING_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code')
    .default('USD'),
  /** Exchange-rate table (see config/fx-rates.json). Default config/fx-rates.json. */
  FX_RATES_PATH: z.string().default('config/fx-rates.json'),
  /** Live ads per market and ad set: the top ranked creatives deployed. Default 3. */
  ADS_PER_MARKET: z.coerce.number().int().min(1).max(50).default(3),
  /**
   * Most live ads one artist may have in one ad set (in different templates). Default 1: a slate
   * of three ads is three artists, so one artist's appeal is not bet on three times.
   */
  ADS_PER_ARTIST: z.coerce.number().int().min(1).max(50).default(1),
  /**
   * Ranked creatives rendered beyond ADS_PER_MARKET, to take the slot of one a platform rejects
   * or that fatigued. Default 1.
   */
  DEPLOY_SPARES: z.coerce.number().int().min(0).max(20).default(1),
  /** Platforms deploy writes to: auto (Meta, and TikTok and Google when configured) or a list. Default auto. */
  DEPLOY_PLATFORMS: z
    .string()
    .default('auto')
    .transform((v, ctx) => {
      if (v === 'auto') return 'auto' as const;
      const list = v.split(',').map((s) => s.trim());
      const known: readonly string[] = DEPLOY_PLATFORMS;
      const bad = list.filter((p) => !known.includes(p));
      if (bad.length > 0 || list.length === 0)
        ctx.addIssue({
          code: 'custom',
          message: `must be auto or a list of ${DEPLOY_PLATFORMS.join(', ')} (got ${bad.join(', ')})`,
        });
      return list as DeployPlatform[];
    }),
  /**
   * The stores each market's ads promote: one ad set per OS, since an app-install ad set promotes
   * one store (Meta's promoted_object, TikTok's app_id). `ios`, `android` or `ios,android`; only
   * stores the accounts file names the app in are used. Default ios,android.
   */
  DEPLOY_OS: z
    .string()
    .default('ios,android')
    .transform((v, ctx) => {
      const list = [...new Set(v.split(',').map((s) => s.trim()))];
      if (list.length === 0 || list.some((o) => o !== 'ios' && o !== 'android')) {
        ctx.addIssue({
          code: 'custom',
          message: `must be ios, android or ios,android (an app-install ad set promotes one store; got ${v})`,
        });
        return [];
      }
      return list as Array<'ios' | 'android'>;
    }),
  /** What ad sets optimise for: installs or registrations. Default installs. */
  DEPLOY_OBJECTIVE: z.enum(['installs', 'registrations']).default('installs'),
  /**
   * What the budget allocator maximises (with a `dailyBudget` in ACCOUNTS_PATH): registrations or
   * subscriptions, as the platforms report them. Default registrations.
   */
  BUDGET_OBJECTIVE: z.enum(['registrations', 'subscriptions']).default('registrations'),
  /** Days of delivery each unit's spend-response model learns from. Default 28. */
  BUDGET_LOOKBACK_DAYS: z.coerce.number().int().min(3).max(120).default(28),
  /**
   * Most a unit's budget may move in a day, as a share of the day before: large changes restart
   * the platforms' learning phase. Default 0.2.
   */
  BUDGET_MAX_DAILY_CHANGE: z.coerce.number().min(0.01).max(1).default(0.2),
  /**
   * How strongly allocation explores units it is unsure of, in standard deviations of their rate
   * (0: none). Default 1.
   */
  BUDGET_EXPLORE: z.coerce.number().min(0).max(5).default(1),
  /**
   * live writes to the platforms; dry-run only computes and prints the plan. Default live against
   * the sandbox (loopback endpoints) and dry-run against real platforms: spending real money is
   * asked for explicitly, with DEPLOY_MODE=live.
   */
  DEPLOY_MODE: z.enum(['live', 'dry-run']).optional(),
  /** Markets whose deploy waits for approval: a comma list, * for all, empty for none. */
  DEPLOY_APPROVAL_MARKETS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /** How long a market waits for approval before keeping yesterday's ads (e.g. 30m, 12h). Default 12h. */
  DEPLOY_APPROVAL_TIMEOUT: z
    .string()
    .default('12h')
    .transform((v, ctx) => {
      const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(v.trim());
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration like 90s, 30m, 12h or 1d' });
        return 0;
      }
      const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
      return Math.round(Number(m[1]) * unit);
    }),
  /** Share of its best CTR a creative must lose to count as fatigued. Default 0.3. */
  DEPLOY_FATIGUE_DROP: z.coerce.number().gt(0).lt(1).default(0.3),
  /** How many days back `learn` aggregates performance. Default 7. */
  LEARN_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  /** Ranking policy of every market not named in RANKING_POLICY_BY_MARKET: ml or heuristic. Default ml. */
  RANKING_POLICY: z.enum(['ml', 'heuristic']).default('ml'),
  /**
   * Champion / challenger arms by market, e.g. `BR=heuristic,EG=heuristic`: those markets rank
   * with the named policy, every other with RANKING_POLICY. Default none.
   */
  RANKING_POLICY_BY_MARKET: z
    .string()
    .regex(
      /^([A-Z]{2}=(ml|heuristic))(,[A-Z]{2}=(ml|heuristic))*$/,
      'must look like SE=ml,BR=heuristic (market=ml|heuristic, comma separated)',
    )
    .optional()
    .transform((v): Readonly<Record<string, RankingPolicy>> => {
      const arms: Record<string, RankingPolicy> = {};
      for (const pair of v ? v.split(',') : []) {
        const [market, policy] = pair.split('=') as [string, RankingPolicy];
        arms[market] = policy;
      }
      return arms;
    }),
  /** What the model optimises: registrations or subscriptions (premium). Default registrations. */
  RANKING_OBJECTIVE: z.enum(['registrations', 'subscriptions']).default('registrations'),
  /** Share of each market's deployed ads chosen by exploration (Thompson sampling). Default 0.34. */
  EXPLORATION_SHARE: z.coerce.number().min(0).max(1).default(0.34),
  /** Weight of diversity against predicted value when picking a market's ads, 0..1. Default 0.15. */
  DIVERSITY_WEIGHT: z.coerce.number().min(0).max(1).default(0.15),
  /** Heuristic weights `popularity,registrationShare,diversity`, normalised. Default 1,1,1. */
  HEURISTIC_WEIGHTS: z
    .string()
    .regex(/^\d+(\.\d+)?,\d+(\.\d+)?,\d+(\.\d+)?$/, 'must be three numbers like 1,1,1')
    .default('1,1,1')
    .transform((v): HeuristicWeights => {
      const [p, r, d] = v.split(',').map(Number) as [number, number, number];
      const sum = p + r + d;
      // 0,0,0 says no preference: equal weights.
      if (!(sum > 0)) return { popularity: 1 / 3, registrationShare: 1 / 3, diversity: 1 / 3 };
      return { popularity: p / sum, registrationShare: r / sum, diversity: d / sum };
    }),
  /** Days of delivery the ranking model trains on. Default 90. */
  TRAINING_WINDOW_DAYS: z.coerce.number().int().min(7).max(730).default(90),
  /** Port of the sandbox Graph API when `npm start` runs it (TikTok, Adjust, Branch take the next three). Default 4010. */
  /**
   * AES-256 key (base64, 32 bytes) that encrypts every Temporal payload (secret: env only). Unset:
   * payloads are not encrypted. Make one with `openssl rand -base64 32`.
   */
  PAYLOAD_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .optional(),
  /** Id stored with each encrypted payload, so keys can be rotated. Default default. */
  PAYLOAD_KEY_ID: z
    .string()
    .regex(/^[\w.-]+$/, 'letters, digits, . _ -')
    .default('default'),
  /** Older keys still accepted for decoding: a comma list of id:base64key. */
  PAYLOAD_KEYS_PREVIOUS: z.string().optional(),
  /** Port of the codec server npm start runs for the Temporal UI when PAYLOAD_KEY is set. Default 8888. */
  CODEC_SERVER_PORT: port.default(8888),
  /**
   * Bearer tokens the codec server accepts (secret: env only), comma-separated, each at least 32
   * characters (`openssl rand -hex 32`): for `temporal --codec-auth 'Bearer …'` and scripts.
   */
  CODEC_TOKENS: z
    .string()
    .refine(
      (v) => v.split(',').every((t) => t.trim().length >= 32),
      'each token must be at least 32 characters',
    )
    .optional(),
  /**
   * OpenID Connect issuer whose access tokens the codec server accepts: the Temporal UI behind
   * single sign-on passes its user's (`TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true`). With the audience.
   */
  CODEC_OIDC_ISSUER: z.string().url().optional(),
  CODEC_OIDC_AUDIENCE: z.string().min(1).optional(),
  /** The issuer's signing keys (JWKS); default: the jwks_uri its discovery document names. */
  CODEC_OIDC_JWKS_URL: z.string().url().optional(),
  /** Host headers the codec server answers to besides localhost:<port>, comma-separated host:port. */
  CODEC_ALLOWED_HOSTS: z.string().optional(),
  /**
   * Where a worker process serves Prometheus metrics (Temporal's runtime metrics and adloop's own
   * counters) under /metrics, as host:port; off turns it off. Default 127.0.0.1:9464.
   */
  METRICS_ADDRESS: z
    .string()
    .regex(/^(off|[^\s:]+:\d{1,5})$/, 'must be host:port or off')
    .default('127.0.0.1:9464'),
  /** Temporal SDK log level of worker processes: warn, info or debug. Default warn. */
  ADLOOP_LOG_LEVEL: z.enum(['warn', 'info', 'debug']).default('warn'),
  /**
   * The libxgboost to load (a file path). Unset: the system's (Debian's libxgboost0). An explicit
   * path never falls back to another copy: that would hide a misconfiguration.
   */
  XGBOOST_LIBRARY_PATH: z.string().min(1).optional(),
  /** The ffmpeg (with libx264) and ffprobe to run. Unset: the npm packages' builds, then PATH. */
  FFMPEG_PATH: z.string().min(1).optional(),
  FFPROBE_PATH: z.string().min(1).optional(),
  SANDBOX_META_PORT: port.default(4010),
  /**
   * Token the sandbox's control endpoints (/__sandbox/ on the Meta port) require as
   * `Authorization: Bearer <token>` (secret: env only), at least 32 characters (`openssl rand -hex
   * 32`). Required when the sandbox binds beyond loopback (`npm run sandbox -- --host 0.0.0.0`),
   * which it refuses to do without one; enforced on loopback too when set. Default none.
   */
  SANDBOX_CONTROL_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Web UI port of the Temporal dev server `npm start` runs. Default 8233. */
  TEMPORAL_UI_PORT: port.default(8233),
});

type Parsed = z.infer<typeof schema>;
export type Config = Readonly<Omit<Parsed, 'DEPLOY_MODE'> & { DEPLOY_MODE: 'live' | 'dry-run' }>;

/** Every setting adloop reads from the environment. */
export const CONFIG_KEYS = Object.keys(schema.shape) as ReadonlyArray<keyof Config>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

// An empty variable (`DATABASE_URL=` in an env file) means "not set", as in most tools.
const presentIn = (env: NodeJS.ProcessEnv) =>
  Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));

/** Settings of the creative store (render/storage.ts). */
export const STORE_KEYS = [
  'CREATIVE_STORE',
  'CREATIVES_DIR',
  'S3_BUCKET',
  'S3_PREFIX',
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_FORCE_PATH_STYLE',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
] as const satisfies ReadonlyArray<keyof Config>;

/** Settings that are paths: resolved against the working directory when loaded (URLs are kept). */
const PATH_KEYS = [
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'PGLITE_DIR',
  'CREATIVES_DIR',
  'CATALOG_PATH',
  'TEMPLATES_DIR',
  'FONTS_MANIFEST',
  'FX_RATES_PATH',
  'NEXRENDER_OUTPUT_DIR',
  'ACCOUNTS_PATH',
] as const satisfies ReadonlyArray<keyof Config>;

const resolvePath = (cwd: string, value: string) =>
  /^https?:\/\//i.test(value) ? value : path.resolve(cwd, value);

/**
 * Only the named settings, validated as `loadConfig` would, for tools that need a few of them
 * (a report needs the database, not ad-platform tokens).
 */
export function loadConfigPart<K extends keyof Config>(
  keys: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Readonly<Pick<Config, K>> {
  const mask = Object.fromEntries(keys.map((k) => [k, true])) as { [P in keyof Config]?: true };
  const parsed = schema.pick(mask).safeParse(presentIn(env));
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration:\n${issueLines(parsed.error).join('\n')}`);
  }
  const out: Record<string, unknown> = { ...parsed.data };
  for (const k of PATH_KEYS) if (typeof out[k] === 'string') out[k] = resolvePath(cwd, out[k]);
  return Object.freeze(out) as Pick<Config, K>;
}

/** True for a URL on this machine: the sandbox, never a real platform. */
export const isLoopbackUrl = (url: string) =>
  ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

/**
 * Live against the sandbox; dry-run as soon as any platform endpoint is a real one, so the first
 * run against real accounts spends nothing unless DEPLOY_MODE=live says so.
 */
function defaultDeployMode(c: Parsed): 'live' | 'dry-run' {
  const endpoints = [
    c.META_GRAPH_URL,
    ...(c.TIKTOK_ACCESS_TOKEN ? [c.TIKTOK_BASE_URL] : []),
    ...(c.GOOGLE_ADS_DEVELOPER_TOKEN ? [c.GOOGLE_ADS_REST_URL, c.GOOGLE_ADS_GRPC_URL] : []),
  ];
  return endpoints.every(isLoopbackUrl) ? 'live' : 'dry-run';
}

/** Validates `env` (default `process.env`) and returns a frozen config with absolute paths. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const parsed = schema.safeParse(presentIn(env));
  if (!parsed.success) {
    const problems = issueLines(parsed.error);
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  const c = parsed.data;
  const missing = [
    ...(c.MMP_PROVIDER === 'adjust' ? (['ADJUST_API_TOKEN', 'ADJUST_APP_TOKEN'] as const) : []),
    ...(c.MMP_PROVIDER === 'branch' ? (['BRANCH_KEY', 'BRANCH_SECRET'] as const) : []),
    ...(c.GOOGLE_ADS_DEVELOPER_TOKEN
      ? (['GOOGLE_ADS_CLIENT_ID', 'GOOGLE_ADS_CLIENT_SECRET', 'GOOGLE_ADS_REFRESH_TOKEN'] as const)
      : []),
  ].filter((k) => !c[k]);
  if (missing.length > 0) {
    throw new ConfigError(
      `invalid configuration:\n${missing.map((k) => `  ${k}: required when ${k.startsWith('GOOGLE_') ? 'GOOGLE_ADS_DEVELOPER_TOKEN is set' : `MMP_PROVIDER=${c.MMP_PROVIDER}`}`).join('\n')}`,
    );
  }
  return Object.freeze({
    ...c,
    DEPLOY_MODE: c.DEPLOY_MODE ?? defaultDeployMode(c),
    ...Object.fromEntries(
      PATH_KEYS.filter((k) => c[k] !== undefined).map((k) => [k, resolvePath(cwd, c[k]!)]),
    ),
  });
}
