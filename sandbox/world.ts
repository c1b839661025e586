// A sandbox world: the markets, the catalog, the ad account adloop talks to, and the hidden truth
// the simulator draws delivery from. Validated with errors that name the field.
import path from 'node:path';
import { z } from 'zod';
import { readCatalogFile } from '../core/catalog.ts';
import { keyed } from '../core/random.ts';
import { issueLines, readJsonFile } from '../core/validation.ts';
import { fileCatalog, generatedCatalogSource, type WorldCatalog } from './catalog-source.ts';
import { COUNTRIES, COUNTRY_BY_CODE } from '../core/countries.ts';

const marketEconomics = z.strictObject({
  /** Cost per 1000 impressions in the account currency. */
  cpm: z.number().positive(),
  /** Click-through rate of an average creative. */
  baseCtr: z.number().gt(0).lt(1),
  /** Installs per click. */
  installRate: z.number().gt(0).lte(1),
  /** Registrations per install for an average creative. */
  registrationRate: z.number().gt(0).lte(1),
  /** Premium subscriptions per registration for an average creative. Default 0.08. */
  subscriptionRate: z.number().gt(0).lte(1).default(0.08),
  /** Share of the audience on iOS (the rest is Android). Default 0.4. */
  iosShare: z.number().min(0).max(1).default(0.4),
  /** Reachable audience; delivery saturates as spend approaches it. Default 5,000,000. */
  audienceSize: z.number().int().positive().default(5_000_000),
});

const platformFaults = z.strictObject({
  /** Sandbox dates on which every call fails (the platform is down all day). */
  downDates: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).default([]),
  /** Share of calls answered with a transient 5xx. */
  errorRate: z.number().min(0).max(1).default(0),
  /** Share of calls answered with a rate-limit error (Meta code 17, TikTok 40100). */
  throttleRate: z.number().min(0).max(1).default(0),
  /** Milliseconds added to every response. */
  latencyMs: z.number().int().min(0).max(60_000).default(0),
  /** Share of list and report pages sent back truncated (malformed JSON). */
  malformedRate: z.number().min(0).max(1).default(0),
  /** Calls per rolling hour per account before usage-based throttling (Meta code 80004). */
  hourlyCallLimit: z.number().int().min(1).default(100_000),
  /**
   * Share of successful write calls (Meta: POST requests, a batch counting once; TikTok: POST
   * endpoints) whose response is lost: the write is carried out, then the connection is dropped
   * without an answer, as a response lost in transit. Default 0.
   */
  lostResponseRate: z.number().min(0).max(1).default(0),
  /**
   * Share of calls (any method; a Meta batch counts once) that get no answer in time: the request
   * is received and held for `hangMs` without being carried out, then the connection is dropped
   * without a response. Drawn before any other fault. Default 0.
   */
  timeoutRate: z.number().min(0).max(1).default(0),
  /**
   * How long a call drawn by `timeoutRate` is held before its connection is dropped, in ms. A
   * client whose own timeout is shorter gives up first. Default 30000.
   */
  hangMs: z.number().int().min(0).max(600_000).default(30_000),
  /**
   * Share of write calls (Meta: POST requests, a batch counting once; TikTok: POST endpoints)
   * carried out late: the request is received and held for `lateWriteMs`, then carried out. Its
   * answer goes back only if the client is still waiting; one that gave up (its timeout is
   * shorter) never hears of the write, which has landed all the same. Drawn after `timeoutRate`.
   * Default 0.
   */
  lateWriteRate: z.number().min(0).max(1).default(0),
  /** How long a call drawn by `lateWriteRate` is held before it is carried out, in ms. */
  lateWriteMs: z.number().int().min(0).max(600_000).default(30_000),
});
/** A live change of a platform's faults (the control endpoint): any of its fields, no defaults. */
export const platformFaultsChangeSchema = z
  .object(
    // The same fields and bounds as platformFaults, without the defaults (partial() would fill
    // them in and so reset every fault not named in the change).
    Object.fromEntries(Object.entries(platformFaults.shape).map(([k, v]) => [k, v.unwrap()])) as {
      [K in keyof typeof platformFaults.shape]: ReturnType<
        (typeof platformFaults.shape)[K]['unwrap']
      >;
    },
  )
  .partial()
  .strict();
const NO_FAULTS = {
  downDates: [],
  errorRate: 0,
  throttleRate: 0,
  latencyMs: 0,
  malformedRate: 0,
  hourlyCallLimit: 100_000,
  lostResponseRate: 0,
  timeoutRate: 0,
  hangMs: 30_000,
  lateWriteRate: 0,
  lateWriteMs: 30_000,
};
export type PlatformFaults = z.infer<typeof platformFaults>;

/**
 * The platforms' ad review, a hidden policy: each new ad is judged once, at creation, on its content
 * (media and text). Each platform server keeps a live-changeable copy (`server.review`).
 */
export const reviewSchema = z.strictObject({
  /**
   * Share of new ads rejected for a policy reason, decided by the seed and the creative's content
   * (media hash or video id plus text), so the same content is always judged the same. Default 0.02.
   */
  rejectionRate: z.number().min(0).max(1).default(0.02),
  /** Terms an ad's text must not contain (case-insensitive); an ad containing one is rejected. */
  bannedTerms: z.array(z.string().min(1)).default(['guaranteed', 'risk-free', '100% free']),
  /** Wall-clock seconds after creation during which a new ad is still in review. Default 0. */
  delaySeconds: z.number().min(0).max(86_400).default(0),
});
/** A live change of a platform's review (the control endpoint): any of its fields, no defaults. */
export const reviewChangeSchema = z
  .object({
    rejectionRate: z.number().min(0).max(1),
    bannedTerms: z.array(z.string().min(1)),
    delaySeconds: z.number().min(0).max(86_400),
  })
  .partial()
  .strict();
export type ReviewPolicy = z.infer<typeof reviewSchema>;
const DEFAULT_REVIEW: ReviewPolicy = {
  rejectionRate: 0.02,
  bannedTerms: ['guaranteed', 'risk-free', '100% free'],
  delaySeconds: 0,
};

/** The demo app every world promotes unless it names its own. */
const SANDBOX_APP = {
  name: 'Adloop Music',
  ios: {
    storeUrl: 'https://apps.apple.com/app/id1500000001',
    deepLink: 'adloopmusic://artist/{artist_id}',
  },
  android: {
    storeUrl: 'https://play.google.com/store/apps/details?id=com.adloop.music',
    deepLink: 'adloopmusic://artist/{artist_id}',
  },
};

/**
 * Conversion action types an app's actions take
 * (google/ads/googleads/v24/enums/conversion_action_type.proto): Play installs, and the app
 * events an MMP (third-party app analytics) or Firebase imports.
 */
const GOOGLE_CONVERSION_ACTION_TYPES = [
  'GOOGLE_PLAY_DOWNLOAD',
  'GOOGLE_PLAY_IN_APP_PURCHASE',
  'FIREBASE_ANDROID_FIRST_OPEN',
  'FIREBASE_ANDROID_CUSTOM',
  'FIREBASE_IOS_FIRST_OPEN',
  'FIREBASE_IOS_CUSTOM',
  'THIRD_PARTY_APP_ANALYTICS_ANDROID_FIRST_OPEN',
  'THIRD_PARTY_APP_ANALYTICS_ANDROID_IN_APP_PURCHASE',
  'THIRD_PARTY_APP_ANALYTICS_ANDROID_CUSTOM',
  'THIRD_PARTY_APP_ANALYTICS_IOS_FIRST_OPEN',
  'THIRD_PARTY_APP_ANALYTICS_IOS_IN_APP_PURCHASE',
  'THIRD_PARTY_APP_ANALYTICS_IOS_CUSTOM',
] as const;
const DEFAULT_GOOGLE_CONVERSIONS = [
  {
    name: 'Install',
    type: 'GOOGLE_PLAY_DOWNLOAD' as const,
    category: 'DOWNLOAD' as const,
    counts: 'installs' as const,
  },
  {
    name: 'sign_up',
    type: 'THIRD_PARTY_APP_ANALYTICS_ANDROID_CUSTOM' as const,
    category: 'SIGNUP' as const,
    counts: 'registrations' as const,
  },
  {
    name: 'subscribe',
    type: 'THIRD_PARTY_APP_ANALYTICS_ANDROID_IN_APP_PURCHASE' as const,
    category: 'PURCHASE' as const,
    counts: 'subscriptions' as const,
  },
];
/** The sandbox's Google Ads customer: the demo app's ids (SANDBOX_APP's store URLs). */
const DEFAULT_GOOGLE = {
  customerId: '1234567890',
  managerId: '9876543210',
  developerToken: 'sandbox-google-developer-token',
  accessLevel: 'BASIC' as const,
  testAccount: false,
  currency: 'USD',
  timeZone: 'UTC',
  oauth: {
    clientId: 'sandbox-client.apps.googleusercontent.com',
    clientSecret: 'sandbox-google-client-secret',
    refreshToken: 'sandbox-google-refresh-token',
  },
  appIds: { ios: '1500000001', android: 'com.adloop.music' },
  conversionActions: DEFAULT_GOOGLE_CONVERSIONS,
  // The sandbox's project has had its YouTube quota extended, as a project that uploads every
  // day must (YouTube API Services audit and quota extension form): 6 uploads a day fit in the
  // default 10,000 units, a few markets' daily creatives do not.
  youtubeDailyQuota: 1_000_000,
};

/**
 * How the sandbox's Meta ad accounts process uploaded videos. After its upload's finish phase a
 * video is `processing` (status.processing_phase in_progress) for `statusReads` reads of its
 * status, then `ready`, or, for a seeded share `failShare` of video files (drawn from the world's
 * seed and the file's bytes, so the same file fails alike on every run), `error` with the
 * processing phase's error. Meta: "Due to video processing wait till the video status is ready. It
 * may take several seconds, or even minutes" (https://developers.facebook.com/docs/marketing-api/advideo/).
 */
export const videoProcessingSchema = z.strictObject({
  /** Share of uploaded video files whose processing fails (video_status error). Default 0. */
  failShare: z.number().min(0).max(1).default(0),
  /**
   * Reads of a video's status that still answer `processing` after its upload finished, before
   * it is ready (or has failed). Counting reads rather than seconds keeps runs deterministic and
   * fast. Default 2.
   */
  statusReads: z.number().int().min(0).max(1000).default(2),
});
export type VideoProcessing = z.infer<typeof videoProcessingSchema>;
const DEFAULT_VIDEO_PROCESSING: VideoProcessing = { failShare: 0, statusReads: 2 };

const generatedCatalog = z.strictObject({
  generate: z.strictObject({
    /** Number of artists. */
    artists: z.number().int().min(1).max(2_000_000),
    /** Number of genres the artists fall into. Default 12. */
    genres: z.number().int().min(1).max(200).default(12),
    /** Market codes (from core/countries.ts), or how many of its countries to take. */
    markets: z.union([
      z.array(z.string().regex(/^[A-Z]{2}$/)).min(1),
      z.number().int().min(1).max(COUNTRIES.length),
    ]),
  }),
});

const worldSchema = z.strictObject({
  name: z.string().min(1),
  seed: z.number().int(),
  /** A catalog file (relative to the world file), or generator parameters. */
  catalog: z.union([z.string().min(1), generatedCatalog]),
  /** Templates the world knows a hidden fit for; the benchmark's candidate space. */
  templates: z
    .array(z.strictObject({ id: z.string().min(1), theme: z.string().min(1) }))
    .min(1)
    .default([
      { id: 'spotlight', theme: 'portrait' },
      { id: 'duotone', theme: 'graphic' },
    ]),
  /** Economics every market starts from; a generated market varies them by up to ±30%. */
  marketDefaults: marketEconomics.default({
    cpm: 5,
    baseCtr: 0.012,
    installRate: 0.25,
    registrationRate: 0.4,
    subscriptionRate: 0.08,
    iosShare: 0.4,
    audienceSize: 5_000_000,
  }),
  meta: z.strictObject({
    accessToken: z.string().min(8),
    /** The first ad account (the only one when `accounts` is absent). */
    adAccountId: z.string().regex(/^act_\d+$/),
    pageId: z.string().regex(/^\d+$/),
    currency: z.string().regex(/^[A-Z]{3}$/),
    /** The ad account's time zone: its reports' days are calendar days there. Default UTC. */
    timeZone: z.string().min(1).default('UTC'),
    /** The app's Facebook application id (promoted_object.application_id). */
    applicationId: z.string().regex(/^\d+$/).default('3000000001'),
    /**
     * Every ad account the token may use, each with its own currency, time zone and the markets
     * it runs (absent: the one account above runs every market).
     */
    accounts: z
      .array(
        z.strictObject({
          id: z.string().regex(/^act_\d+$/),
          currency: z.string().regex(/^[A-Z]{3}$/),
          timeZone: z.string().min(1).default('UTC'),
          markets: z.array(z.string().regex(/^[A-Z]{2}$/)).min(1),
        }),
      )
      .min(1)
      .optional(),
    /** How uploaded ad videos process (videoProcessingSchema): failShare 0, statusReads 2. */
    videoProcessing: videoProcessingSchema.default(DEFAULT_VIDEO_PROCESSING),
  }),
  /** The app being promoted, in each store (what the accounts config must name). */
  app: z
    .object({
      name: z.string().min(1),
      ios: z.strictObject({ storeUrl: z.string().url(), deepLink: z.string().min(1) }),
      android: z.strictObject({ storeUrl: z.string().url(), deepLink: z.string().min(1) }),
    })
    .default(SANDBOX_APP),
  /** Economics per market code, overriding the defaults field by field. */
  markets: z.record(z.string().regex(/^[A-Z]{2}$/), marketEconomics.partial()).default({}),
  truth: z.strictObject({
    /**
     * How much of an artist's hidden appeal is explained by its popularity, -1..1. Negative: the
     * more popular an artist, the less its ads appeal (an audience that knows it already).
     */
    popularityWeight: z.number().min(-1).max(1),
    /**
     * How far registering (after the click) is driven apart from clicking, 0..1. 0: one appeal
     * drives every funnel stage; 1: an artist's after-click appeal is its own, unrelated to what
     * makes people click (high click-through with few registrations). Default 0.
     */
    funnelSplit: z.number().min(0).max(1).default(0),
    /**
     * How counts are drawn from rates: `expected` rounds each expected count (the day-to-day
     * noise is then all in `noise`); `binomial` draws each stage's count, so small counts carry
     * real sampling noise. Default expected.
     */
    sampling: z.enum(['expected', 'binomial']).default('expected'),
    /**
     * Of the appeal popularity does not explain, the share that follows the market's taste over
     * the artist similarity space (similar artists appeal alike in a market); the rest is each
     * artist's own. Default 0.6.
     */
    tasteWeight: z.number().min(0).max(1).default(0.6),
    /**
     * How much of an artist's own appeal it carries into every market, 0..1: 0, each market's is
     * unrelated; 1, the same everywhere (a global star appeals everywhere). Default 0.
     */
    appealCorrelation: z.number().min(0).max(1).default(0),
    /** Spread of the template x market fit around 1 (0.25 means 0.75..1.25). */
    templateSpread: z.number().min(0).max(0.9),
    /** Day-to-day multiplicative noise on delivery (log-normal sigma). */
    noise: z.number().min(0).max(2),
    /** How noisily the platform estimates each ad's quality when it splits an ad set's budget. */
    learningNoise: z.number().min(0).max(3),
    /** Daily CTR decay of a creative from fatigue (0.04: -4% per day live). Default 0.04. */
    fatigueRate: z.number().min(0).max(1).default(0.04),
    /** Extra CTR of a brand-new creative, fading over its first days. Default 0.15. */
    noveltyBoost: z.number().min(0).max(2).default(0.15),
    /** Spread of the template x OS-segment interaction around 1. Default 0.2. */
    segmentSpread: z.number().min(0).max(0.9).default(0.2),
    /** Days until a platform's report for a day is final; earlier reads are partial. Default 0. */
    reportingDelayDays: z.number().int().min(0).max(14).default(0),
    /** How much likelier an iOS registration is to subscribe than an Android one. Default 1.5. */
    iosSubscriptionLift: z.number().positive().max(5).default(1.5),
    /**
     * CTR multiplier of an ad that plays in motion (a video ad) over the same creative as a still:
     * moving pictures stop the scroll more often. Applies to ads a platform server reports as
     * motion (today Meta's video ads); 1 turns it off. Default 1.15.
     */
    motionLift: z.number().min(0.5).max(3).default(1.15),
    /**
     * The platforms' learning phase after a large budget change: an ad set whose daily budget moves
     * by more than `threshold` (0.5: by half, up or down) relearns for `days` days, converting a
     * `penalty` share fewer of its clicks meanwhile. Meta names a budget change among the
     * "significant edits" that restart learning, with less stable, costlier delivery until it ends
     * (https://www.facebook.com/business/help/112167992830700); how large a change counts is
     * Meta's secret, so it is hidden truth here. Default 0.5, 3 days, 0.3.
     */
    learningPhase: z
      .strictObject({
        threshold: z.number().positive().max(10).default(0.5),
        days: z.number().int().min(0).max(14).default(3),
        penalty: z.number().min(0).max(0.9).default(0.3),
      })
      .default({ threshold: 0.5, days: 3, penalty: 0.3 }),
  }),
  tiktok: z
    .object({
      accessToken: z.string().min(8),
      advertiserId: z.string().regex(/^\d+$/),
      currency: z.string().regex(/^[A-Z]{3}$/),
      /** The advertiser's time zone (advertiser/info `timezone`). Default UTC. */
      timeZone: z.string().min(1).default('UTC'),
      /** The advertiser's custom identity ads are posted as (identity_type CUSTOMIZED_USER). */
      identityId: z.string().regex(/^\d+$/).default('7300000000000000001'),
      /** The app's ids in the advertiser's app management, per OS. */
      appIds: z
        .object({ ios: z.string().regex(/^\d+$/), android: z.string().regex(/^\d+$/) })
        .default({ ios: '7200000000000000001', android: '7200000000000000002' }),
    })
    .default({
      accessToken: 'sandbox-tiktok-token',
      advertiserId: '7000000000000000001',
      currency: 'USD',
      timeZone: 'UTC',
      identityId: '7300000000000000001',
      appIds: { ios: '7200000000000000001', android: '7200000000000000002' },
    }),
  /**
   * The Google Ads customer adloop's App campaigns run in, the OAuth client and developer token
   * that reach it, and the YouTube channel videos are uploaded to (the same OAuth user).
   */
  google: z
    .object({
      /** The customer's ten-digit id (123-456-7890 without dashes). */
      customerId: z.string().regex(/^\d{10}$/),
      /** A manager account (MCC) the OAuth user reaches the customer through, when one. */
      managerId: z
        .string()
        .regex(/^\d{10}$/)
        .optional(),
      developerToken: z.string().min(8),
      /**
       * The developer token's access level
       * (https://developers.google.com/google-ads/api/docs/api-policy/access-levels). Default BASIC.
       */
      accessLevel: z.enum(['TEST_ACCOUNT', 'EXPLORER', 'BASIC', 'STANDARD']).default('BASIC'),
      /**
       * Operations per day the token may make on production accounts; absent: the access level's
       * (EXPLORER 2,880, BASIC 15,000, STANDARD unlimited). Tests lower it to provoke the limit.
       */
      dailyOperationLimit: z.number().int().min(1).optional(),
      /** Whether the customer is a test account (what a TEST_ACCOUNT token may touch). Default false. */
      testAccount: z.boolean().default(false),
      currency: z.string().regex(/^[A-Z]{3}$/),
      /** The customer's time zone: its reports' days. Default UTC. */
      timeZone: z.string().min(1).default('UTC'),
      oauth: z.strictObject({
        clientId: z.string().min(8),
        clientSecret: z.string().min(8),
        refreshToken: z.string().min(8),
      }),
      /**
       * The app's ids as App campaigns name them (app_campaign_setting.app_id): the App Store's
       * numeric id and the Play package name, as in the world's store URLs.
       */
      appIds: z.strictObject({
        ios: z.string().regex(/^\d+$/),
        android: z.string().regex(/^[A-Za-z][\w]*(\.[A-Za-z][\w]*)+$/),
      }),
      /**
       * The Google Cloud project's YouTube Data API quota, units a day: "10,000 units per day" by
       * default (https://developers.google.com/youtube/v3/determine_quota_cost); an upload costs
       * 1,600, a search 100. Default 10,000.
       */
      youtubeDailyQuota: z.number().int().min(1).default(10_000),
      /** The customer's conversion actions and the funnel stage each counts. */
      conversionActions: z
        .array(
          z.strictObject({
            name: z.string().min(1),
            type: z.enum(GOOGLE_CONVERSION_ACTION_TYPES),
            category: z.enum(['DOWNLOAD', 'SIGNUP', 'PURCHASE', 'SUBSCRIBE_PAID', 'DEFAULT']),
            counts: z.enum(['installs', 'registrations', 'subscriptions']),
          }),
        )
        .min(1)
        .default(DEFAULT_GOOGLE_CONVERSIONS),
    })
    .default(DEFAULT_GOOGLE),
  /** Ad review (rejection share, banned terms, review delay); see reviewSchema. */
  review: reviewSchema.default(DEFAULT_REVIEW),
  /** Faults to inject; all off by default. Each can also be changed live through the sandbox. */
  faults: z
    .object({
      meta: platformFaults.default(NO_FAULTS),
      tiktok: platformFaults.default(NO_FAULTS),
      google: platformFaults.default(NO_FAULTS),
    })
    .default({ meta: NO_FAULTS, tiktok: NO_FAULTS, google: NO_FAULTS }),
  mmp: z
    .object({
      adjust: z
        .object({ apiToken: z.string().min(8), appToken: z.string().min(4) })
        .default({ apiToken: 'sandbox-adjust-token', appToken: 'adloopapp' }),
      branch: z
        .object({ branchKey: z.string().min(8), branchSecret: z.string().min(8) })
        .default({ branchKey: 'key_live_sandbox', branchSecret: 'secret_live_sandbox' }),
      /** Share of conversions the MMP never attributes. Default 0.1. */
      lossRate: z.number().min(0).max(1).default(0.1),
      /** Days after which a day's attribution is complete (earlier reads are partial). Default 1. */
      delayDays: z.number().int().min(0).max(14).default(1),
      /** iOS postbacks arrive aggregated per campaign after this many days. Default 2. */
      iosPostbackDelayDays: z.number().int().min(0).max(14).default(2),
      /** Multiplicative noise on iOS aggregated postbacks (log-normal sigma). Default 0.2. */
      iosNoise: z.number().min(0).max(2).default(0.2),
    })
    .default({
      adjust: { apiToken: 'sandbox-adjust-token', appToken: 'adloopapp' },
      branch: { branchKey: 'key_live_sandbox', branchSecret: 'secret_live_sandbox' },
      lossRate: 0.1,
      delayDays: 1,
      iosPostbackDelayDays: 2,
      iosNoise: 0.2,
    }),
});

export type WorldSpec = z.infer<typeof worldSchema>;
export type MarketEconomics = z.infer<typeof marketEconomics>;
export interface World extends Omit<WorldSpec, 'markets' | 'catalog'> {
  file: string;
  catalog: WorldCatalog;
  /** Resolved economics of every catalog market. */
  markets: Record<string, MarketEconomics>;
  /** Every Meta ad account, each running its markets (every catalog market exactly once). */
  metaAccounts: MetaWorldAccount[];
}

export interface MetaWorldAccount {
  id: string;
  currency: string;
  timeZone: string;
  markets: string[];
}

export class WorldError extends Error {
  override name = 'WorldError';
}

export function loadWorld(file: string): World {
  return worldFromSpec(readJsonFile(file, 'world', WorldError), file);
}

/**
 * A world from its specification as a JSON value (what a world file holds); `file` names it in
 * errors and anchors a catalog file path.
 */
export function worldFromSpec(value: unknown, file: string): World {
  const parsed = worldSchema.safeParse(value);
  if (!parsed.success) {
    throw new WorldError(`world ${file} is invalid:\n${issueLines(parsed.error).join('\n')}`);
  }
  const spec = parsed.data;
  let catalog: WorldCatalog;
  if (typeof spec.catalog === 'string') {
    catalog = fileCatalog(readCatalogFile(path.resolve(path.dirname(file), spec.catalog)));
  } else {
    const g = spec.catalog.generate;
    const codes = Array.isArray(g.markets)
      ? g.markets
      : COUNTRIES.slice(0, g.markets).map((c) => c.code);
    const unknown = codes.filter((c) => !COUNTRY_BY_CODE.has(c));
    if (unknown.length > 0) {
      throw new WorldError(
        `world ${file} is invalid:\n  catalog.generate.markets: unknown country ${unknown.join(', ')} (see core/countries.ts)`,
      );
    }
    catalog = generatedCatalogSource(spec.seed, g.artists, g.genres, codes, path.dirname(file));
  }
  const extra = Object.keys(spec.markets).filter(
    (code) => !catalog.markets.some((m) => m.code === code),
  );
  if (extra.length > 0) {
    throw new WorldError(
      `world ${file} is invalid:\n${extra.map((c) => `  markets.${c}: not a market of the catalog`).join('\n')}`,
    );
  }
  const markets: Record<string, MarketEconomics> = {};
  for (const m of catalog.markets) {
    const explicit = spec.markets[m.code];
    // Catalog-file worlds take the defaults as they are; generated markets differ from each other.
    const rand = typeof spec.catalog === 'string' ? null : keyed(spec.seed, 'economics', m.code);
    const v = () => (rand ? 0.7 + 0.6 * rand() : 1);
    const d = spec.marketDefaults;
    markets[m.code] = {
      cpm: explicit?.cpm ?? d.cpm * v(),
      baseCtr: explicit?.baseCtr ?? Math.min(0.2, d.baseCtr * v()),
      installRate: explicit?.installRate ?? Math.min(1, d.installRate * v()),
      registrationRate: explicit?.registrationRate ?? Math.min(1, d.registrationRate * v()),
      subscriptionRate: explicit?.subscriptionRate ?? Math.min(1, d.subscriptionRate * v()),
      iosShare: explicit?.iosShare ?? Math.min(0.95, d.iosShare * v()),
      audienceSize: explicit?.audienceSize ?? Math.round(d.audienceSize * v()),
    };
  }
  return { ...spec, file, catalog, markets, metaAccounts: metaAccountsOf(file, spec, markets) };
}

/** The world's Meta ad accounts; each catalog market must be run by exactly one. */
function metaAccountsOf(
  file: string,
  spec: WorldSpec,
  markets: Record<string, MarketEconomics>,
): MetaWorldAccount[] {
  const all = Object.keys(markets);
  const accounts = spec.meta.accounts ?? [
    {
      id: spec.meta.adAccountId,
      currency: spec.meta.currency,
      timeZone: spec.meta.timeZone,
      markets: all,
    },
  ];
  const problems: string[] = [];
  const owner = new Map<string, number>();
  accounts.forEach((a, i) =>
    a.markets.forEach((m, j) => {
      if (!markets[m])
        problems.push(`  meta.accounts[${i}].markets[${j}]: ${m} is not a market of the catalog`);
      else if (owner.has(m))
        problems.push(
          `  meta.accounts[${i}].markets[${j}]: ${m} is already run by meta.accounts[${owner.get(m)}]`,
        );
      else owner.set(m, i);
    }),
  );
  const orphans = all.filter((m) => !owner.has(m));
  if (orphans.length > 0) problems.push(`  meta.accounts: no account runs ${orphans.join(', ')}`);
  if (spec.meta.accounts && !spec.meta.accounts.some((a) => a.id === spec.meta.adAccountId))
    problems.push(`  meta.adAccountId: ${spec.meta.adAccountId} is not one of meta.accounts`);
  if (problems.length > 0)
    throw new WorldError(`world ${file} is invalid:\n${problems.join('\n')}`);
  return accounts;
}
