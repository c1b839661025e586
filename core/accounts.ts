// Which ad accounts run which markets, and what an app-install campaign needs besides tokens: the
// app in each store, its deep link, the page or identity ads run as, tracking links and budgets.
// Read once from a JSON file (ACCOUNTS_PATH), validated with errors that name the field, then
// resolved per market. Secrets never live here: tokens stay in the environment.
//
// Budgets and caps are written in major units (`"50"`, `"49.90"`); a budget is in the currency of
// the account that spends it, which the platform reports (never configured here), so it is turned
// into minor units only once that currency is known (core/money.ts toMinorUnits).
import fs from 'node:fs';
import { z } from 'zod';
import { FxError, toMinorUnits } from './money.ts';
import { issueLines, readJsonFile } from './validation.ts';

export type AppOs = 'ios' | 'android';
export const APP_OSES: readonly AppOs[] = ['ios', 'android'];

const amount = z
  .union([z.string(), z.number().nonnegative()])
  .transform((v) => String(v).trim())
  .refine((v) => /^\d+(\.\d+)?$/.test(v), 'must be an amount like 50 or 49.90');
const marketCode = z.string().regex(/^[A-Z]{2}$/, 'must be a market code like SE');
const digits = (what: string) => z.string().regex(/^\d+$/, `${what} must be digits`);
const httpsUrl = z
  .string()
  .url()
  .refine((u) => u.startsWith('https://'), 'must be an https URL');

/**
 * A store listing. Meta's promoted_object.object_store_url must be the app's store URL
 * (https://developers.facebook.com/docs/marketing-api/reference/ad-promoted-object/).
 */
const storeApp = z.object({
  /** `https://apps.apple.com/app/id<digits>` or `https://play.google.com/store/apps/details?id=<package>`. */
  storeUrl: httpsUrl,
  /**
   * Where an ad opens the app: a URI with `{artist_id}` in it (`adloop://artist/{artist_id}`);
   * Meta sends it as the creative's app link, TikTok as the ad's deeplink.
   */
  deepLink: z
    .string()
    .regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/i, 'must be a URI like myapp://artist/{artist_id}')
    .refine((v) => v.includes('{artist_id}'), 'must contain {artist_id}'),
});

const IOS_STORE = /^https:\/\/apps\.apple\.com\/(?:[a-z]{2}\/)?app\/(?:[^/]+\/)?id\d+/;
const ANDROID_STORE = /^https:\/\/play\.google\.com\/store\/apps\/details\?id=[\w.]+/;

const metaAccount = z.object({
  /** The ad account, `act_<digits>`. */
  id: z.string().regex(/^act_\d+$/, 'must look like act_<digits>'),
  /** The Facebook page its ads run as. */
  pageId: digits('pageId'),
  /** Markets this account runs. */
  markets: z.array(marketCode).min(1),
});

const tiktokAdvertiser = z.object({
  id: digits('id'),
  /**
   * Who the ads are posted as (ad/create identity_type and identity_id): a custom identity made
   * in TikTok Ads Manager, or an authorised TikTok account.
   */
  identity: z.object({
    type: z.enum(['CUSTOMIZED_USER', 'AUTH_CODE', 'TT_USER', 'BC_AUTH_TT']),
    id: z.string().min(1),
  }),
  /** The app's id in this advertiser's TikTok app management, per OS (adgroup/create app_id). */
  appIds: z.object({ ios: digits('appIds.ios'), android: digits('appIds.android') }).partial(),
  markets: z.array(marketCode).min(1),
});

/**
 * A Google Ads customer (account) and what its App campaigns promote. The customer id is the ten
 * digits Google Ads shows as 123-456-7890 (dashes allowed here, removed); `loginCustomerId` is the
 * manager account the OAuth user reaches it through, when one (the API's login-customer-id header).
 */
const googleCustomer = z.object({
  id: z
    .string()
    .transform((v) => v.replaceAll('-', ''))
    .refine((v) => /^\d{10}$/.test(v), 'must be a customer id like 123-456-7890'),
  loginCustomerId: z
    .string()
    .transform((v) => v.replaceAll('-', ''))
    .refine((v) => /^\d{10}$/.test(v), 'must be a customer id like 123-456-7890')
    .optional(),
  /**
   * The app's id per store as App campaigns name it (app_campaign_setting.app_id): the App
   * Store's numeric id for iOS, the Play package name for Android.
   */
  appIds: z
    .object({
      ios: digits('appIds.ios'),
      android: z
        .string()
        .regex(/^[A-Za-z][\w]*(\.[A-Za-z][\w]*)+$/, 'must be a package name like com.example.app'),
    })
    .partial(),
  /**
   * The customer's conversion actions, by name, that count as each funnel stage (the MMP's
   * imported app events, or Firebase's). Registrations also name what an in-app campaign
   * optimises for.
   */
  conversions: z.object({
    installs: z.array(z.string().min(1)).min(1),
    registrations: z.array(z.string().min(1)).min(1),
    subscriptions: z.array(z.string().min(1)).default([]),
  }),
  markets: z.array(marketCode).min(1),
});

const marketSettings = z.object({
  /** Daily budget of each ad set / ad group / campaign, per platform, in the account's currency. */
  dailyBudget: z.object({ meta: amount, tiktok: amount, google: amount }).partial().default({}),
  /** Most the market may spend in a day over every platform, in the reporting currency. */
  spendCap: amount.optional(),
  /**
   * Least the budget allocator gives the market in a day over every platform, in the reporting
   * currency (only with a top-level `dailyBudget`). Default none.
   */
  minDaily: amount.optional(),
  /**
   * The MMP's click tracking link per OS (e.g. an Adjust tracker URL), sent to TikTok as the
   * ad's tracking_url; Meta attributes through the MMP's own integration and needs none.
   */
  trackingLinks: z.object({ ios: httpsUrl, android: httpsUrl }).partial().default({}),
});

const accountsSchema = z
  .object({
    app: z
      .object({
        name: z.string().min(1).max(100),
        /** The app's Facebook application id (promoted_object.application_id). */
        metaApplicationId: digits('metaApplicationId').optional(),
        ios: storeApp.optional(),
        android: storeApp.optional(),
      })
      .refine((a) => a.ios || a.android, 'must name the app in at least one store (ios, android)'),
    meta: z.object({ accounts: z.array(metaAccount).min(1) }).optional(),
    tiktok: z.object({ advertisers: z.array(tiktokAdvertiser).min(1) }).optional(),
    google: z.object({ customers: z.array(googleCustomer).min(1) }).optional(),
    /**
     * Per market; `*` gives defaults, field by field: a market's entry overrides only what it
     * names (`"SE": {"spendCap": "900"}` keeps the `*` budgets and links).
     */
    markets: z.record(z.union([marketCode, z.literal('*')]), marketSettings).default({}),
    /** Most every market together may spend in a day, in the reporting currency. */
    spendCap: amount.optional(),
    /**
     * The daily budget adloop allocates over every market, platform and ad set by expected
     * marginal results (decisions/budget), in the reporting currency. Without it, every ad set
     * runs on its market's fixed `dailyBudget`. Held under `spendCap` when both are given.
     */
    dailyBudget: amount.optional(),
  })
  .superRefine((f, ctx) => {
    if (f.app.ios && !IOS_STORE.test(f.app.ios.storeUrl))
      ctx.addIssue({
        code: 'custom',
        path: ['app', 'ios', 'storeUrl'],
        message: 'must be an App Store URL like https://apps.apple.com/app/id1234567890',
      });
    if (f.app.android && !ANDROID_STORE.test(f.app.android.storeUrl))
      ctx.addIssue({
        code: 'custom',
        path: ['app', 'android', 'storeUrl'],
        message:
          'must be a Google Play URL like https://play.google.com/store/apps/details?id=com.example.app',
      });
    if (f.meta && !f.app.metaApplicationId)
      ctx.addIssue({
        code: 'custom',
        path: ['app', 'metaApplicationId'],
        message: 'required when Meta accounts are configured (Meta promotes an app by its id)',
      });
    // A market is run by one account per platform: two would bid against each other.
    const listName = { meta: 'accounts', tiktok: 'advertisers', google: 'customers' } as const;
    const once = (platform: 'meta' | 'tiktok' | 'google', lists: Array<{ markets: string[] }>) => {
      const seen = new Map<string, number>();
      lists.forEach((a, i) =>
        a.markets.forEach((m, j) => {
          const first = seen.get(m);
          if (first !== undefined)
            ctx.addIssue({
              code: 'custom',
              path: [platform, listName[platform], i, 'markets', j],
              message: `${m} is already run by ${listName[platform]}[${first}]`,
            });
          else seen.set(m, i);
        }),
      );
    };
    once('meta', f.meta?.accounts ?? []);
    once('tiktok', f.tiktok?.advertisers ?? []);
    once('google', f.google?.customers ?? []);
    const appIdsNeeded = (path: Array<string | number>, ids: Partial<Record<AppOs, string>>) => {
      for (const os of ['ios', 'android'] as const)
        if (f.app[os] && !ids[os])
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'appIds', os],
            message: `required: the app is in the ${os === 'ios' ? 'App Store' : 'Play Store'} (app.${os})`,
          });
    };
    for (const [i, a] of (f.tiktok?.advertisers ?? []).entries())
      appIdsNeeded(['tiktok', 'advertisers', i], a.appIds);
    for (const [i, c] of (f.google?.customers ?? []).entries())
      appIdsNeeded(['google', 'customers', i], c.appIds);
  });

export type AccountsFile = z.infer<typeof accountsSchema>;
export type AccountsInput = z.input<typeof accountsSchema>;

export class AccountsError extends Error {
  override name = 'AccountsError';
}

export function parseAccounts(raw: unknown, source = 'accounts'): AccountsFile {
  const parsed = accountsSchema.safeParse(raw);
  if (!parsed.success)
    throw new AccountsError(`${source} is invalid:\n${issueLines(parsed.error).join('\n')}`);
  return Object.freeze(parsed.data);
}

export function loadAccounts(file: string): AccountsFile {
  if (!fs.existsSync(file))
    throw new AccountsError(
      `no accounts file at ${file} (ACCOUNTS_PATH): copy config/accounts.example.json there and fill in your ad accounts, app and budgets (docs/deploy.md, "Real accounts, step by step")`,
    );
  return parseAccounts(readJsonFile(file, 'accounts', AccountsError), file);
}

/** The app in one store, as a market's ads promote it. */
export interface PromotedApp {
  os: AppOs;
  storeUrl: string;
  /** Deep link template with `{artist_id}`. */
  deepLink: string;
}

export interface MetaMarketAccount {
  adAccountId: string;
  pageId: string;
  applicationId: string;
  /** Budget of each ad set in major units of the account's currency. */
  dailyBudget: string | null;
}

export interface TikTokMarketAdvertiser {
  advertiserId: string;
  identity: { type: string; id: string };
  appIds: Partial<Record<AppOs, string>>;
  /** Budget of each ad group in major units of the advertiser's currency. */
  dailyBudget: string | null;
}

export interface GoogleMarketCustomer {
  customerId: string;
  loginCustomerId: string | null;
  appIds: Partial<Record<AppOs, string>>;
  conversions: { installs: string[]; registrations: string[]; subscriptions: string[] };
  /** Budget of each campaign in major units of the customer's currency. */
  dailyBudget: string | null;
}

/** Everything about one market's accounts that deploy and ingest need. */
export interface MarketAccounts {
  market: string;
  /** The app's name (accounts app.name): Google's app ads use it as a headline. */
  appName: string;
  apps: Partial<Record<AppOs, PromotedApp>>;
  meta: MetaMarketAccount | null;
  tiktok: TikTokMarketAdvertiser | null;
  google: GoogleMarketCustomer | null;
  trackingLinks: Partial<Record<AppOs, string>>;
  /** The market's daily spend cap in the reporting currency (major units), or null. */
  spendCap: string | null;
  /** The least the allocator gives the market a day, in the reporting currency, or null. */
  minDaily: string | null;
}

/** Resolves one market's accounts; a market no account runs has `meta`/`tiktok` null. */
export function marketAccounts(file: AccountsFile, market: string): MarketAccounts {
  const d = file.markets['*'];
  const m = file.markets[market];
  const settings = {
    dailyBudget: { ...d?.dailyBudget, ...m?.dailyBudget },
    trackingLinks: { ...d?.trackingLinks, ...m?.trackingLinks },
    spendCap: m?.spendCap ?? d?.spendCap,
    minDaily: m?.minDaily ?? d?.minDaily,
  };
  const meta = file.meta?.accounts.find((a) => a.markets.includes(market));
  const tiktok = file.tiktok?.advertisers.find((a) => a.markets.includes(market));
  const google = file.google?.customers.find((a) => a.markets.includes(market));
  const apps: Partial<Record<AppOs, PromotedApp>> = {};
  for (const os of APP_OSES) {
    const app = file.app[os];
    if (app) apps[os] = { os, storeUrl: app.storeUrl, deepLink: app.deepLink };
  }
  return {
    market,
    appName: file.app.name,
    apps,
    meta: meta
      ? {
          adAccountId: meta.id,
          pageId: meta.pageId,
          applicationId: file.app.metaApplicationId!,
          dailyBudget: settings.dailyBudget.meta ?? null,
        }
      : null,
    tiktok: tiktok
      ? {
          advertiserId: tiktok.id,
          identity: tiktok.identity,
          appIds: tiktok.appIds,
          dailyBudget: settings.dailyBudget.tiktok ?? null,
        }
      : null,
    google: google
      ? {
          customerId: google.id,
          loginCustomerId: google.loginCustomerId ?? null,
          appIds: google.appIds,
          conversions: google.conversions,
          dailyBudget: settings.dailyBudget.google ?? null,
        }
      : null,
    trackingLinks: settings.trackingLinks,
    spendCap: settings.spendCap ?? null,
    minDaily: settings.minDaily ?? null,
  };
}

/** The deep link of an artist: the app's template with `{artist_id}` filled in. */
export const artistDeepLink = (app: PromotedApp, artistId: string) =>
  app.deepLink.replaceAll('{artist_id}', encodeURIComponent(artistId));

/**
 * A market's budget in minor units of the account's currency, checked against what the currency
 * can express; `where` names the field in errors (a budget the file does not give is one).
 */
export function budgetMinor(budget: string | null, currency: string, where: string): number {
  if (budget === null)
    throw new AccountsError(`${where}: no daily budget (set it, or the markets["*"] default)`);
  try {
    return toMinorUnits(budget, currency);
  } catch (err) {
    if (err instanceof FxError) throw new AccountsError(`${where}: ${err.message}`);
    throw err;
  }
}

/** Every Meta ad account, TikTok advertiser and Google Ads customer the file names, each once. */
export function accountIds(file: AccountsFile): {
  meta: string[];
  tiktok: string[];
  google: string[];
} {
  return {
    meta: (file.meta?.accounts ?? []).map((a) => a.id),
    tiktok: (file.tiktok?.advertisers ?? []).map((a) => a.id),
    google: (file.google?.customers ?? []).map((a) => a.id),
  };
}

/** Every market some account runs, each once, in the order the file names them. */
export function runMarkets(file: AccountsFile): string[] {
  const all = [
    ...(file.meta?.accounts ?? []).flatMap((a) => a.markets),
    ...(file.tiktok?.advertisers ?? []).flatMap((a) => a.markets),
    ...(file.google?.customers ?? []).flatMap((a) => a.markets),
  ];
  return [...new Set(all)];
}

/** The manager account a Google Ads customer is reached through, or null. */
export function googleLoginCustomerOf(file: AccountsFile, customerId: string): string | null {
  return file.google?.customers.find((c) => c.id === customerId)?.loginCustomerId ?? null;
}

/** The page a Meta ad account's ads run as. */
export function metaPageOf(file: AccountsFile, adAccountId: string): string {
  const account = file.meta?.accounts.find((a) => a.id === adAccountId);
  if (!account) throw new AccountsError(`no Meta ad account ${adAccountId} in the accounts file`);
  return account.pageId;
}
