// Google Ads API client over google-ads-api (the Node library Google Ads users use, on the API's
// own protocol buffers, v24). adloop talks to Google Ads only through the GoogleAds interface
// below, so deploy and ingest can be tested against the sandbox (sandbox/google) and the
// library's quirks stay in platforms/google.
//
// What an App campaign is made of (Google Ads API, "App campaigns" guide,
// https://developers.google.com/google-ads/api/docs/app-campaigns/overview):
//   campaign_budget  -> one per campaign (explicitly_shared false), amount_micros in the
//                       customer's currency;
//   campaign         -> advertising_channel_type MULTI_CHANNEL, sub type APP_CAMPAIGN (or
//                       APP_CAMPAIGN_FOR_ENGAGEMENT), app_campaign_setting {app_id, app_store,
//                       bidding_strategy_goal_type}, target CPA bidding, geo and language criteria;
//   ad_group         -> under the campaign; App campaigns have ad groups of one ad;
//   ad_group_ad      -> one ad of type APP_AD whose headlines and descriptions are inline text
//                       assets and whose images and videos are Asset resources (IMAGE, YOUTUBE_VIDEO).
// Google combines the group's assets itself: delivery is reported per asset
// (ad_group_ad_asset_view, with a performance label) and per combination, never per creative.
//
// adloop's "ad" on Google is one creative's asset linked to the group's app ad: its image
// asset, and its video asset when video is on. Pausing an ad unlinks the asset (assets cannot be
// removed: "Assets are immutable and can't be removed", Assets guide), and its name is adloop's
// ad name, so delivery rows map to creatives exactly as on Meta and TikTok.
import { enums, GoogleAdsApi } from 'google-ads-api';
import { pause } from '../../core/cancellation.ts';
import type { DeliveryCounts, ReviewState } from '../../core/types.ts';
import { PlatformError, withRequestRetry } from '../errors.ts';
import { noteRequest } from '../request-log.ts';
import { geoTargetConstant, languageConstant } from './criteria.ts';
import { partialFailureErrors, toGooglePlatformError } from './errors.ts';
import { accessTokens } from './oauth.ts';
import { attachTransport, parseGrpcUrl } from './transport.ts';

/** Google Ads API version of the pinned google-ads-api (24.1.0) and its google-ads-node protos. */
export const GOOGLE_ADS_API_VERSION = 'v24';

/**
 * Per-ad-group limits of an App ad (AppAdInfo reference and the App campaigns asset guide,
 * https://support.google.com/google-ads/answer/9247199): up to 5 headlines of 30 characters,
 * 5 descriptions of 90, 20 images and 20 videos.
 */
export const GOOGLE_APP_AD_LIMITS = {
  headlines: 5,
  headlineChars: 30,
  descriptions: 5,
  descriptionChars: 90,
  images: 20,
  videos: 20,
} as const;

export type GoogleStatus = 'ENABLED' | 'PAUSED' | 'REMOVED';

/** The customer (account) as the API describes it. */
export interface GoogleCustomer {
  /** Ten digits, no dashes. */
  id: string;
  name: string;
  /** ISO 4217: budgets and cost are in micros of it. */
  currency: string;
  /** IANA time zone: segments.date is a calendar day there. */
  timeZone: string;
  /** A test account (only test accounts serve no ads and accept test-access developer tokens). */
  testAccount: boolean;
  /** A manager (MCC) account cannot hold campaigns. */
  manager: boolean;
  /** ENABLED, CANCELED, SUSPENDED, CLOSED. */
  status: string;
}

export interface GoogleConversionAction {
  id: string;
  name: string;
  /** e.g. GOOGLE_PLAY_DOWNLOAD, THIRD_PARTY_APP_ANALYTICS (from an MMP). */
  type: string;
  status: string;
}

/** The app an App campaign promotes. */
export interface GoogleAppCampaignSpec {
  name: string;
  budgetId: string;
  /** The store's app id: the Play package name, or the App Store's numeric id. */
  appId: string;
  appStore: 'GOOGLE_APP_STORE' | 'APPLE_APP_STORE';
  /**
   * OPTIMIZE_INSTALLS_TARGET_INSTALL_COST (installs) or
   * OPTIMIZE_IN_APP_CONVERSIONS_TARGET_CONVERSION_COST (registrations: in-app actions).
   */
  goal:
    'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST' | 'OPTIMIZE_IN_APP_CONVERSIONS_TARGET_CONVERSION_COST';
  /** Target cost per install or per in-app action, in micros of the customer's currency. */
  targetCpaMicros: number;
  /** Conversion action ids the campaign optimises for (in-app goal: required). */
  conversionActionIds?: string[];
  /** ISO 3166 alpha-2 market: a location criterion (geo target constant). */
  country: string;
  /** ISO 639-1 language of the market's ads: a language criterion. */
  language: string;
}

/** The app ad's content: text inline, images and videos as asset ids. */
export interface GoogleAppAdAssets {
  headlines: string[];
  descriptions: string[];
  /** Image asset ids. */
  images: string[];
  /** YouTube video asset ids. */
  videos: string[];
}

export interface GoogleAppAd {
  /** The ad_group_ad's ad id (resource customers/{c}/adGroupAds/{adGroupId}~{adId}). */
  adId: string;
  adGroupId: string;
  status: GoogleStatus;
  assets: GoogleAppAdAssets;
}

/** One asset of an ad group's app ad, as ad_group_ad_asset_view reports it. */
export interface GoogleLinkedAsset {
  assetId: string;
  /** The asset's name (adloop's ad name for images and videos it made). */
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- the usual values, as documentation
  fieldType: 'MARKETING_IMAGE' | 'YOUTUBE_VIDEO' | 'HEADLINE' | 'DESCRIPTION' | string;
  /** Policy review of the asset in this ad (policy_summary.approval_status). */
  review: ReviewState;
  /** Why it was disapproved (policy topics), empty unless rejected. */
  reasons: string[];
  /** PENDING, LEARNING, LOW, GOOD or BEST (Google's own comparison within the group). */
  performanceLabel: string;
  /** Whether the asset is linked now (ENABLED) or was unlinked (REMOVED). */
  enabled: boolean;
}

/** One asset's day in one ad group; `spendMicros` in micros of `currency`, the customer's. */
export interface GoogleInsightRow extends DeliveryCounts {
  /** The asset's id: adloop's ad id on Google. */
  adId: string;
  /** The asset's name. */
  adName: string;
  adGroupId: string;
  date: string;
  currency: string;
  /** The asset's performance label that day's report gave, when one. */
  performanceLabel?: string;
}

/** Conversion actions whose conversions count as each funnel stage, by name. */
export interface GoogleConversionNames {
  installs: string[];
  registrations: string[];
  subscriptions: string[];
}

export interface GoogleAds {
  readonly customerId: string;
  /** currency, time zone, test account: from the customer resource, asked once per client. */
  customer(): Promise<GoogleCustomer>;
  /** Customers the OAuth user can reach (CustomerService.ListAccessibleCustomers): ids. */
  accessibleCustomers(): Promise<string[]>;
  conversionActions(): Promise<GoogleConversionAction[]>;
  /** The first object of that exact name that is not REMOVED, or null. */
  findByName(
    kind: 'campaign' | 'campaign_budget' | 'ad_group',
    name: string,
  ): Promise<{ id: string; status: string; campaignId?: string } | null>;
  /** A daily budget in micros of the customer's currency (not shared, standard delivery). */
  createBudget(p: { name: string; amountMicros: number }): Promise<string>;
  /** The budget of a campaign in micros, from campaign_budget.amount_micros. */
  campaignBudgetMicros(campaignId: string): Promise<number>;
  /** A campaign's budget: its id (for setBudgetAmount) and its daily amount in micros. */
  campaignBudget(campaignId: string): Promise<{ budgetId: string; amountMicros: number }>;
  /**
   * Sets a budget's daily amount, in micros of the customer's currency, from now on
   * (CampaignBudgetService update, mask amount_micros). Sending it again sets the same amount.
   */
  setBudgetAmount(budgetId: string, amountMicros: number): Promise<void>;
  /** An App campaign, created PAUSED, with its location and language criteria. */
  createAppCampaign(p: GoogleAppCampaignSpec): Promise<string>;
  /** An ad group of the campaign, created PAUSED. */
  createAdGroup(p: { campaignId: string; name: string }): Promise<string>;
  setStatus(
    kind: 'campaign' | 'ad_group',
    ids: string[],
    status: 'ENABLED' | 'PAUSED',
  ): Promise<void>;
  /**
   * Image assets, one mutate with partial failure: a refused image (wrong size, policy) is
   * returned as its PlatformError while the others are created.
   */
  createImageAssets(
    items: Array<{ name: string; bytes: Buffer }>,
  ): Promise<Map<string, string | PlatformError>>;
  /** YouTube video assets of videos already uploaded (their YouTube ids), partial failure too. */
  createVideoAssets(
    items: Array<{ name: string; youtubeVideoId: string }>,
  ): Promise<Map<string, string | PlatformError>>;
  /** Assets of those exact names: name -> id (assets are customer-wide and never removed). */
  findAssetsByName(names: string[]): Promise<Map<string, string>>;
  /** The ad group's app ad (not REMOVED), or null before one is made. */
  appAd(adGroupId: string): Promise<GoogleAppAd | null>;
  /** The ad group's app ad, created PAUSED (an ad group of an App campaign holds one). */
  createAppAd(adGroupId: string, assets: GoogleAppAdAssets): Promise<string>;
  /** Replaces the app ad's lists that are given (update with a field mask); the rest stay. */
  updateAppAd(adGroupId: string, adId: string, assets: Partial<GoogleAppAdAssets>): Promise<void>;
  setAppAdStatus(adGroupId: string, adId: string, status: 'ENABLED' | 'PAUSED'): Promise<void>;
  /** The assets of the ad group's app ad with their review and performance label. */
  linkedAssets(adGroupId: string): Promise<GoogleLinkedAsset[]>;
  /**
   * Daily per-asset delivery over [since, until] (calendar days of the customer's time zone),
   * of one ad group when `adGroupId` is given: cost, impressions and clicks from
   * ad_group_ad_asset_view, conversions by conversion action mapped to funnel stages by name.
   */
  insights(range: {
    since: string;
    until: string;
    adGroupId?: string;
    conversions: GoogleConversionNames;
  }): Promise<GoogleInsightRow[]>;
}

/** Uploads of motion creatives to the advertiser's YouTube channel (platforms/google/youtube.ts). */
export interface YouTubeUploads {
  /**
   * Uploads an MP4 as an unlisted video with the resumable protocol, or finds the one already
   * uploaded under that title (so a lost answer does not upload twice). Resolves to the video id.
   */
  upload(p: { title: string; description: string; bytes: Buffer }): Promise<string>;
  /** The channel's video of that exact title, or null. */
  findByTitle(title: string): Promise<string | null>;
  /** The video's processing status (processing, processed, failed, rejected). */
  status(videoId: string): Promise<{ upload: string; privacy: string }>;
}

// ---------------------------------------------------------------------------------------------
// The client over google-ads-api. Queries (GAQL) go over REST, mutates over gRPC; both to the
// configured endpoints (platforms/google/transport.ts). Every object is created PAUSED; deploy
// switches it on once complete. Creates are not sent again after a transient failure (the answer
// may be lost while the object exists): deploy looks objects up by name first.

export interface GoogleAdsConfig {
  /** REST base of the Google Ads API (queries), e.g. https://googleads.googleapis.com. */
  restUrl: string;
  /**
   * gRPC endpoint (mutates) as a URL: https://googleads.googleapis.com:443, or http:// for a
   * plaintext server on this machine (refused for any other host).
   */
  grpcUrl: string;
  /** OAuth token endpoint, e.g. https://oauth2.googleapis.com/token. */
  tokenUrl: string;
  developerToken: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** The customer campaigns are in: ten digits (dashes are taken out). */
  customerId: string;
  /** The manager account the access goes through, when one (login-customer-id). */
  loginCustomerId?: string | null;
  /** Longest one request may take, in ms. Default 60000 (DEFAULT_GOOGLE_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Tries of one request that may be sent again (see withRequestRetry). Default 4. */
  requestTries?: number;
}

/** Default of GoogleAdsConfig.timeoutMs. */
export const DEFAULT_GOOGLE_TIMEOUT_MS = 60_000;

/** Longest an on-the-spot retry waits for a QuotaError's retry delay; longer ones go up. */
const MAX_SPOT_WAIT_MS = 60_000;

/** Names per `IN (...)` list of one query. */
const NAMES_PER_QUERY = 200;

/**
 * A GAQL string literal: single-quoted, with backslashes and single quotes escaped by a
 * backslash (GAQL grammar, https://developers.google.com/google-ads/api/docs/query/grammar).
 */
export function gaqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** An id put into a query or a resource name: digits only, so nothing else can get in. */
export function googleId(id: string, what = 'id'): string {
  if (!/^\d+$/.test(id))
    throw new PlatformError(
      'google',
      'invalid',
      `${what} ${JSON.stringify(id)} is not a Google Ads id`,
    );
  return id;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The id at the end of a resource name (`customers/1/adGroupAds/2~3` -> `3`). */
export const idOfResource = (resourceName: string) =>
  resourceName
    .slice(resourceName.lastIndexOf('/') + 1)
    .split('~')
    .at(-1) ?? '';

type Row = Record<string, unknown>;

/** A field of a row by its GAQL path (`ad_group_ad_asset_view.policy_summary.approval_status`). */
function field(row: Row, path: string): unknown {
  let v: unknown = row;
  for (const key of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Row)[key];
  }
  return v;
}
/** A scalar as text ('' for anything else). */
const str = (v: unknown) =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : '';
const text = (row: Row, path: string) => str(field(row, path));
/**
 * An enum field by its value's name: google-ads-api's REST parser turns enum names into their
 * numbers (`campaign.status` 'PAUSED' -> 3); this turns them back (`enums.CampaignStatus[3]`).
 */
const enumText = (row: Row, path: string, enumName: keyof typeof enums) => {
  const v = field(row, path);
  if (v === undefined || v === null || v === '') return '';
  const values = enums[enumName] as unknown as Record<string | number, string | number>;
  const name = /^\d+$/.test(str(v)) ? values[Number(v)] : undefined;
  return typeof name === 'string' ? name : str(v);
};
const num = (row: Row, path: string) => {
  const v = Number(field(row, path) ?? 0);
  return Number.isFinite(v) ? v : 0;
};

/** Policy approval of an asset in an ad (PolicyApprovalStatus, PolicyReviewStatus) as adloop's. */
export function reviewOf(approval: string, review: string): ReviewState {
  if (approval === 'DISAPPROVED') return 'rejected';
  if (
    approval === 'APPROVED' ||
    approval === 'APPROVED_LIMITED' ||
    approval === 'AREA_OF_INTEREST_ONLY'
  )
    return review === 'REVIEW_IN_PROGRESS' ? 'pending' : 'approved';
  return 'pending';
}

function checkAppAd(assets: Partial<GoogleAppAdAssets>): void {
  const L = GOOGLE_APP_AD_LIMITS;
  const refuse = (m: string) => {
    throw new PlatformError('google', 'invalid', `app ad: ${m}`);
  };
  if (assets.headlines) {
    if (assets.headlines.length > L.headlines) refuse(`at most ${L.headlines} headlines`);
    for (const h of assets.headlines)
      if ([...h].length > L.headlineChars)
        refuse(`headline ${JSON.stringify(h)} is longer than ${L.headlineChars} characters`);
  }
  if (assets.descriptions) {
    if (assets.descriptions.length > L.descriptions)
      refuse(`at most ${L.descriptions} descriptions`);
    for (const d of assets.descriptions)
      if ([...d].length > L.descriptionChars)
        refuse(`description ${JSON.stringify(d)} is longer than ${L.descriptionChars} characters`);
  }
  if (assets.images && assets.images.length > L.images) refuse(`at most ${L.images} images`);
  if (assets.videos && assets.videos.length > L.videos) refuse(`at most ${L.videos} videos`);
}

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- google-ads-api's service methods are typed
   loosely (protected members, array responses); this client reads them through narrow shapes. */
export function createGoogleAds(c: GoogleAdsConfig): GoogleAds {
  const customerId = googleId(c.customerId.replace(/-/g, ''), 'customer id');
  const loginCustomerId = c.loginCustomerId
    ? googleId(c.loginCustomerId.replace(/-/g, ''), 'login customer id')
    : undefined;
  const timeoutMs = c.timeoutMs ?? DEFAULT_GOOGLE_TIMEOUT_MS;
  const grpcTarget = parseGrpcUrl(c.grpcUrl);
  const tokens = accessTokens({
    tokenUrl: c.tokenUrl,
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    refreshToken: c.refreshToken,
    timeoutMs,
  });
  const api = new GoogleAdsApi({
    client_id: c.clientId,
    client_secret: c.clientSecret,
    developer_token: c.developerToken,
  });
  const customer = api.Customer({
    customer_id: customerId,
    refresh_token: c.refreshToken,
    ...(loginCustomerId ? { login_customer_id: loginCustomerId } : {}),
  });
  attachTransport(customer, {
    restUrl: c.restUrl,
    grpc: grpcTarget,
    timeoutMs,
    accessToken: () => tokens.get(),
    currentToken: () => tokens.current(),
  });
  const lib = customer as any;
  const secrets = () => [c.developerToken, c.clientSecret, c.refreshToken, tokens.current() ?? ''];
  const rn = (collection: string, id: string) =>
    `customers/${customerId}/${collection}/${googleId(id)}`;

  /** One library call: the token first (the gRPC metadata reads it), failures as PlatformErrors. */
  async function once<T>(fn: () => Promise<T>): Promise<T> {
    await tokens.get();
    try {
      return await fn();
    } catch (err) {
      const e = toGooglePlatformError(err, secrets());
      const requestId = (err as { request_id?: unknown }).request_id;
      noteRequest(typeof requestId === 'string' ? requestId : null);
      throw e;
    }
  }

  /**
   * `fn` tried again on the spot when throttled (not carried out: waiting the QuotaError's retry
   * delay when it gives one) or, when `idempotent` (a read, a write that sets a state), after a
   * transient failure. A create goes up instead (withRequestRetry).
   */
  function send<T>(fn: () => Promise<T>, idempotent: boolean): Promise<T> {
    let last: PlatformError | null = null;
    return withRequestRetry(() => once(fn), {
      idempotent,
      toError: (err) => (last = toGooglePlatformError(err, secrets())),
      // A quota that returns later than a spot wait (a developer token's daily operations) is
      // not waited for here: it goes up at once, and the activity gives Google up for the day.
      sleep: (ms) => {
        const wait = last?.retryAfterMs ?? 0;
        if (wait > MAX_SPOT_WAIT_MS && last) return Promise.reject(last);
        return pause(Math.max(ms, wait));
      },
      ...(c.requestTries ? { tries: c.requestTries } : {}),
    });
  }

  const query = (gaql: string): Promise<Row[]> =>
    send(async () => (await lib.query(gaql)) as Row[], true);

  /** The created resource names of a mutate (throws when the whole request failed). */
  const created = (response: any): string[] =>
    ((response?.results ?? []) as Array<{ resource_name?: string | null }>).map(
      (r) => r.resource_name ?? '',
    );

  /** A mutate through one service with an explicit field mask (clearing a list needs one). */
  async function updateWithMask(
    serviceName: string,
    method: string,
    resource: Row,
    paths: string[],
  ): Promise<void> {
    await send(async () => {
      const service = lib.loadService(serviceName);
      try {
        await service[method](
          {
            customer_id: customerId,
            operations: [{ update: resource, update_mask: { paths } }],
          },
          { otherArgs: { headers: lib.callHeaders } },
        );
      } catch (err) {
        throw lib.getGoogleAdsError(err);
      }
    }, true);
  }

  /** Assets created one mutate with partial failure: name -> id, or the operation's error. */
  async function createAssets(
    names: string[],
    resources: Row[],
  ): Promise<Map<string, string | PlatformError>> {
    const out = new Map<string, string | PlatformError>();
    if (resources.length === 0) return out;
    const response = await send(
      () => lib.assets.create(resources, { partial_failure: true }),
      false,
    );
    const failed = partialFailureErrors(
      (response as any)?.partial_failure_error,
      resources.length,
      secrets(),
    );
    const results = created(response);
    names.forEach((name, i) => {
      const error = failed.get(i);
      const id = results[i] ? idOfResource(results[i]) : '';
      out.set(
        name,
        error ??
          (id ||
            new PlatformError(
              'google',
              'transient',
              `asset ${name}: the answer carried no result`,
            )),
      );
    });
    return out;
  }

  let customerInfo: Promise<GoogleCustomer> | null = null;

  const client: GoogleAds = {
    customerId,

    customer() {
      customerInfo ??= query(
        'SELECT customer.id, customer.descriptive_name, customer.currency_code, customer.time_zone, ' +
          'customer.test_account, customer.manager, customer.status FROM customer LIMIT 1',
      ).then(
        (rows) => {
          const row = rows[0];
          if (!row)
            throw new PlatformError('google', 'invalid', `customer ${customerId} not found`);
          return {
            id: text(row, 'customer.id'),
            name: text(row, 'customer.descriptive_name'),
            currency: text(row, 'customer.currency_code'),
            timeZone: text(row, 'customer.time_zone'),
            testAccount: field(row, 'customer.test_account') === true,
            manager: field(row, 'customer.manager') === true,
            status: enumText(row, 'customer.status', 'CustomerStatus'),
          };
        },
        (err: unknown) => {
          customerInfo = null;
          throw err;
        },
      );
      return customerInfo;
    },

    async accessibleCustomers() {
      const response = await send(() => lib.customers.listAccessibleCustomers({}), true);
      return ((response as any)?.resource_names ?? []).map((r: string) => idOfResource(r));
    },

    async conversionActions() {
      const rows = await query(
        'SELECT conversion_action.id, conversion_action.name, conversion_action.type, ' +
          'conversion_action.status FROM conversion_action',
      );
      return rows.map((row) => ({
        id: text(row, 'conversion_action.id'),
        name: text(row, 'conversion_action.name'),
        type: enumText(row, 'conversion_action.type', 'ConversionActionType'),
        status: enumText(row, 'conversion_action.status', 'ConversionActionStatus'),
      }));
    },

    async findByName(kind, name) {
      const extra = kind === 'ad_group' ? ', ad_group.campaign' : '';
      const rows = await query(
        `SELECT ${kind}.id, ${kind}.status${extra} FROM ${kind} ` +
          `WHERE ${kind}.name = ${gaqlString(name)} AND ${kind}.status != 'REMOVED' LIMIT 1`,
      );
      const row = rows[0];
      if (!row) return null;
      const campaign = text(row, 'ad_group.campaign');
      return {
        id: text(row, `${kind}.id`),
        status: enumText(
          row,
          `${kind}.status`,
          kind === 'campaign'
            ? 'CampaignStatus'
            : kind === 'ad_group'
              ? 'AdGroupStatus'
              : 'BudgetStatus',
        ),
        ...(kind === 'ad_group' && campaign ? { campaignId: idOfResource(campaign) } : {}),
      };
    },

    async createBudget(p) {
      const response = await send(
        () =>
          lib.campaignBudgets.create([
            {
              name: p.name,
              amount_micros: p.amountMicros,
              delivery_method: enums.BudgetDeliveryMethod.STANDARD,
              explicitly_shared: false,
            },
          ]),
        false,
      );
      return idOfResource(created(response)[0] ?? '');
    },

    async campaignBudgetMicros(campaignId) {
      return (await client.campaignBudget(campaignId)).amountMicros;
    },

    async campaignBudget(campaignId) {
      const rows = await query(
        'SELECT campaign.id, campaign_budget.id, campaign_budget.amount_micros FROM campaign ' +
          `WHERE campaign.id = ${googleId(campaignId)}`,
      );
      if (!rows[0])
        throw new PlatformError('google', 'invalid', `campaign ${campaignId} not found`);
      return {
        budgetId: text(rows[0], 'campaign_budget.id'),
        amountMicros: num(rows[0], 'campaign_budget.amount_micros'),
      };
    },

    async setBudgetAmount(budgetId, amountMicros) {
      // Google checks the amount (above 0, whole cents); int64 micros cannot carry a fraction.
      if (!Number.isSafeInteger(amountMicros))
        throw new PlatformError(
          'google',
          'invalid',
          `budget ${budgetId}: an amount is a whole number of micros, not ${amountMicros}`,
        );
      // An explicit mask: only the amount changes, whatever else the resource would carry.
      await updateWithMask(
        'CampaignBudgetServiceClient',
        'mutateCampaignBudgets',
        { resource_name: rn('campaignBudgets', budgetId), amount_micros: amountMicros },
        ['amount_micros'],
      );
    },

    async createAppCampaign(p) {
      let location: string;
      let language: string;
      try {
        location = geoTargetConstant(p.country);
        language = languageConstant(p.language);
      } catch (err) {
        throw new PlatformError('google', 'invalid', (err as Error).message);
      }
      if (
        p.goal === 'OPTIMIZE_IN_APP_CONVERSIONS_TARGET_CONVERSION_COST' &&
        !p.conversionActionIds?.length
      )
        throw new PlatformError(
          'google',
          'invalid',
          `campaign ${p.name}: an in-app conversions goal needs the conversion actions to optimise for`,
        );
      // The campaign and its criteria in one atomic mutate, the criteria naming the campaign by
      // a temporary id (Google Ads API, "Mutates": temporary resource names): a campaign never
      // exists without its targeting, which would serve everywhere once enabled.
      const campaign = `customers/${customerId}/campaigns/-1`;
      const response = await send(
        () =>
          lib.mutateResources([
            {
              entity: 'campaign',
              operation: 'create',
              resource: {
                resource_name: campaign,
                name: p.name,
                status: enums.CampaignStatus.PAUSED,
                campaign_budget: rn('campaignBudgets', p.budgetId),
                advertising_channel_type: enums.AdvertisingChannelType.MULTI_CHANNEL,
                advertising_channel_sub_type: enums.AdvertisingChannelSubType.APP_CAMPAIGN,
                app_campaign_setting: {
                  app_id: p.appId,
                  app_store: enums.AppCampaignAppStore[p.appStore],
                  bidding_strategy_goal_type: enums.AppCampaignBiddingStrategyGoalType[p.goal],
                },
                target_cpa: { target_cpa_micros: p.targetCpaMicros },
                ...(p.conversionActionIds?.length
                  ? {
                      selective_optimization: {
                        conversion_actions: p.conversionActionIds.map((id) =>
                          rn('conversionActions', id),
                        ),
                      },
                    }
                  : {}),
                contains_eu_political_advertising:
                  enums.EuPoliticalAdvertisingStatus.DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING,
              },
            },
            {
              entity: 'campaign_criterion',
              operation: 'create',
              resource: { campaign, location: { geo_target_constant: location } },
            },
            {
              entity: 'campaign_criterion',
              operation: 'create',
              resource: { campaign, language: { language_constant: language } },
            },
          ]),
        false,
      );
      const first = (response as any)?.mutate_operation_responses?.[0]?.campaign_result
        ?.resource_name as string | undefined;
      if (!first)
        throw new PlatformError(
          'google',
          'transient',
          `campaign ${p.name}: the answer carried no result`,
        );
      return idOfResource(first);
    },

    async createAdGroup(p) {
      const response = await send(
        () =>
          lib.adGroups.create([
            {
              name: p.name,
              campaign: rn('campaigns', p.campaignId),
              status: enums.AdGroupStatus.PAUSED,
            },
          ]),
        false,
      );
      return idOfResource(created(response)[0] ?? '');
    },

    async setStatus(kind, ids, status) {
      if (ids.length === 0) return;
      const resources = ids.map((id) => ({
        resource_name: rn(kind === 'campaign' ? 'campaigns' : 'adGroups', id),
        status: kind === 'campaign' ? enums.CampaignStatus[status] : enums.AdGroupStatus[status],
      }));
      const service = kind === 'campaign' ? 'campaigns' : 'adGroups';
      await send(() => lib[service].update(resources), true);
    },

    createImageAssets(items) {
      return createAssets(
        items.map((i) => i.name),
        items.map((i) => ({
          name: i.name,
          type: enums.AssetType.IMAGE,
          image_asset: { data: i.bytes },
        })),
      );
    },

    createVideoAssets(items) {
      return createAssets(
        items.map((i) => i.name),
        items.map((i) => ({
          name: i.name,
          type: enums.AssetType.YOUTUBE_VIDEO,
          youtube_video_asset: { youtube_video_id: i.youtubeVideoId },
        })),
      );
    },

    async findAssetsByName(names) {
      const out = new Map<string, string>();
      const unique = [...new Set(names)];
      for (let i = 0; i < unique.length; i += NAMES_PER_QUERY) {
        const list = unique
          .slice(i, i + NAMES_PER_QUERY)
          .map(gaqlString)
          .join(', ');
        const rows = await query(
          `SELECT asset.id, asset.name FROM asset WHERE asset.name IN (${list})`,
        );
        for (const row of rows) {
          const name = text(row, 'asset.name');
          if (!out.has(name)) out.set(name, text(row, 'asset.id'));
        }
      }
      return out;
    },

    async appAd(adGroupId) {
      const rows = await query(
        'SELECT ad_group_ad.ad.id, ad_group_ad.status, ad_group_ad.ad.app_ad.headlines, ' +
          'ad_group_ad.ad.app_ad.descriptions, ad_group_ad.ad.app_ad.images, ' +
          'ad_group_ad.ad.app_ad.youtube_videos FROM ad_group_ad ' +
          `WHERE ad_group_ad.ad_group = ${gaqlString(rn('adGroups', adGroupId))} ` +
          "AND ad_group_ad.status != 'REMOVED' LIMIT 1",
      );
      const row = rows[0];
      if (!row) return null;
      const list = (path: string, key: string) =>
        ((field(row, path) ?? []) as Row[]).map((x) => str(x[key]));
      return {
        adId: text(row, 'ad_group_ad.ad.id'),
        adGroupId,
        status: enumText(row, 'ad_group_ad.status', 'AdGroupAdStatus') as GoogleStatus,
        assets: {
          headlines: list('ad_group_ad.ad.app_ad.headlines', 'text'),
          descriptions: list('ad_group_ad.ad.app_ad.descriptions', 'text'),
          images: list('ad_group_ad.ad.app_ad.images', 'asset').map(idOfResource),
          videos: list('ad_group_ad.ad.app_ad.youtube_videos', 'asset').map(idOfResource),
        },
      };
    },

    async createAppAd(adGroupId, assets) {
      checkAppAd(assets);
      const response = await send(
        () =>
          lib.adGroupAds.create([
            {
              ad_group: rn('adGroups', adGroupId),
              status: enums.AdGroupAdStatus.PAUSED,
              ad: { app_ad: appAdInfo(assets) },
            },
          ]),
        false,
      );
      return idOfResource(created(response)[0] ?? '');
    },

    async updateAppAd(_adGroupId, adId, assets) {
      checkAppAd(assets);
      const info = appAdInfo(assets);
      const paths = Object.keys(info).map((k) => `app_ad.${k}`);
      if (paths.length === 0) return;
      // An ad's content is changed through AdService (AdGroupAdService changes only its status).
      await updateWithMask(
        'AdServiceClient',
        'mutateAds',
        { resource_name: rn('ads', adId), app_ad: info },
        paths,
      );
    },

    async setAppAdStatus(adGroupId, adId, status) {
      await send(
        () =>
          lib.adGroupAds.update([
            {
              resource_name: `customers/${customerId}/adGroupAds/${googleId(adGroupId)}~${googleId(adId)}`,
              status: enums.AdGroupAdStatus[status],
            },
          ]),
        true,
      );
    },

    async linkedAssets(adGroupId) {
      const rows = await query(
        'SELECT asset.id, asset.name, ad_group_ad_asset_view.field_type, ' +
          'ad_group_ad_asset_view.enabled, ad_group_ad_asset_view.performance_label, ' +
          'ad_group_ad_asset_view.policy_summary.approval_status, ' +
          'ad_group_ad_asset_view.policy_summary.review_status, ' +
          'ad_group_ad_asset_view.policy_summary.policy_topic_entries ' +
          `FROM ad_group_ad_asset_view WHERE ad_group.id = ${googleId(adGroupId)}`,
      );
      return rows.map((row) => {
        const review = reviewOf(
          enumText(
            row,
            'ad_group_ad_asset_view.policy_summary.approval_status',
            'PolicyApprovalStatus',
          ),
          enumText(
            row,
            'ad_group_ad_asset_view.policy_summary.review_status',
            'PolicyReviewStatus',
          ),
        );
        const topics = (field(row, 'ad_group_ad_asset_view.policy_summary.policy_topic_entries') ??
          []) as Row[];
        return {
          assetId: text(row, 'asset.id'),
          name: text(row, 'asset.name'),
          fieldType: enumText(row, 'ad_group_ad_asset_view.field_type', 'AssetFieldType'),
          review,
          reasons: review === 'rejected' ? topics.map((t) => str(t.topic)).filter(Boolean) : [],
          performanceLabel: enumText(
            row,
            'ad_group_ad_asset_view.performance_label',
            'AssetPerformanceLabel',
          ),
          enabled: field(row, 'ad_group_ad_asset_view.enabled') !== false,
        };
      });
    },

    async insights(range) {
      if (!DATE.test(range.since) || !DATE.test(range.until))
        throw new PlatformError(
          'google',
          'invalid',
          `insights: dates must be YYYY-MM-DD (${range.since}..${range.until})`,
        );
      const where =
        "WHERE ad_group_ad_asset_view.field_type IN ('MARKETING_IMAGE', 'YOUTUBE_VIDEO') " +
        `AND segments.date BETWEEN '${range.since}' AND '${range.until}'` +
        (range.adGroupId ? ` AND ad_group.id = ${googleId(range.adGroupId)}` : '');
      const { currency } = await client.customer();
      // Conversion segments cannot be selected with cost metrics: two queries, joined by asset,
      // ad group and day.
      const delivery = await query(
        'SELECT asset.id, asset.name, ad_group.id, segments.date, ' +
          'ad_group_ad_asset_view.performance_label, metrics.impressions, metrics.clicks, ' +
          `metrics.cost_micros FROM ad_group_ad_asset_view ${where}`,
      );
      const conversions = await query(
        'SELECT asset.id, asset.name, ad_group.id, segments.date, ' +
          'segments.conversion_action_name, metrics.all_conversions ' +
          `FROM ad_group_ad_asset_view ${where}`,
      );
      const rows = new Map<string, GoogleInsightRow & { fractional: [number, number, number] }>();
      const rowOf = (r: Row) => {
        const key = [text(r, 'asset.id'), text(r, 'ad_group.id'), text(r, 'segments.date')].join(
          '|',
        );
        let out = rows.get(key);
        if (!out) {
          out = {
            adId: text(r, 'asset.id'),
            adName: text(r, 'asset.name'),
            adGroupId: text(r, 'ad_group.id'),
            date: text(r, 'segments.date'),
            currency,
            impressions: 0,
            clicks: 0,
            spendMicros: 0,
            installs: 0,
            registrations: 0,
            subscriptions: 0,
            fractional: [0, 0, 0],
          };
          rows.set(key, out);
        }
        return out;
      };
      for (const r of delivery) {
        const out = rowOf(r);
        out.impressions += num(r, 'metrics.impressions');
        out.clicks += num(r, 'metrics.clicks');
        out.spendMicros += num(r, 'metrics.cost_micros');
        const label = enumText(
          r,
          'ad_group_ad_asset_view.performance_label',
          'AssetPerformanceLabel',
        );
        if (label) out.performanceLabel = label;
      }
      const stages = [
        new Set(range.conversions.installs),
        new Set(range.conversions.registrations),
        new Set(range.conversions.subscriptions),
      ];
      for (const r of conversions) {
        const action = text(r, 'segments.conversion_action_name');
        const value = num(r, 'metrics.all_conversions');
        const out = rowOf(r);
        stages.forEach((names, i) => {
          if (names.has(action)) out.fractional[i]! += value;
        });
      }
      return [...rows.values()]
        .map(({ fractional, ...row }) => ({
          ...row,
          // Google models conversions (fractions); adloop counts whole ones.
          installs: Math.round(fractional[0]),
          registrations: Math.round(fractional[1]),
          subscriptions: Math.round(fractional[2]),
        }))
        .sort((a, b) =>
          a.date !== b.date
            ? a.date < b.date
              ? -1
              : 1
            : a.adGroupId !== b.adGroupId
              ? a.adGroupId < b.adGroupId
                ? -1
                : 1
              : a.adId < b.adId
                ? -1
                : a.adId > b.adId
                  ? 1
                  : 0,
        );
    },
  };

  /** AppAdInfo of the lists given: text inline, images and videos by asset resource name. */
  function appAdInfo(assets: Partial<GoogleAppAdAssets>): Row {
    const info: Row = {};
    if (assets.headlines) info.headlines = assets.headlines.map((t) => ({ text: t }));
    if (assets.descriptions) info.descriptions = assets.descriptions.map((t) => ({ text: t }));
    if (assets.images) info.images = assets.images.map((id) => ({ asset: rn('assets', id) }));
    if (assets.videos)
      info.youtube_videos = assets.videos.map((id) => ({ asset: rn('assets', id) }));
    return info;
  }

  return client;
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument */
