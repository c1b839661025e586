// `adloop check`: before anything is written, is every account of the accounts file ready to run
// app-install campaigns? The facts are read from the platforms (preflight-facts.ts); this file only
// judges them, one finding per line with the fix, so a broken configuration is named before a run
// spends a day failing on it. Pure.
import {
  AccountsError,
  APP_OSES,
  budgetMinor,
  runMarkets,
  type AccountsFile,
  type AppOs,
} from '../core/accounts.ts';

export type FindingLevel = 'ok' | 'warn' | 'fail';

export interface Finding {
  level: FindingLevel;
  /** What it is about: `meta act_1 (SE, DE)`, `tiktok 7000… (SE)`, `accounts file`. */
  subject: string;
  message: string;
  /** What to do about it (absent for ok). */
  fix?: string;
}

/** A read that failed: the platform's own words (never a token). */
export interface Unreadable {
  error: string;
}

export interface MetaTokenFacts {
  valid: boolean;
  /** When it expires; null when it never does (system user tokens). */
  expiresAt: string | null;
  scopes: string[];
}

export interface MetaAccountFacts {
  id: string;
  /** Graph's account_status: 1 active, 2 disabled, 3 unsettled, 7 pending risk review... */
  status: number;
  currency: string;
  timeZone: string;
}

export interface MetaAppFacts {
  id: string;
  /** The store URLs the app is registered with in Meta's app dashboard. */
  storeUrls: string[];
  /** The app events it has logged (app_event_types). */
  events: string[];
}

/**
 * The app event a registrations ad set optimises for: Meta's standard CompleteRegistration app
 * event (https://developers.facebook.com/docs/app-events/reference), promoted_object
 * custom_event_type COMPLETE_REGISTRATION.
 */
export const META_REGISTRATION_EVENT = 'fb_mobile_complete_registration';

export interface TikTokAdvertiserFacts {
  id: string;
  /** STATUS_ENABLE when it can run ads. */
  status: string;
  currency: string;
  timeZone: string;
  identities: Array<{ type: string; id: string }>;
  /** The apps of its app management: id and platform (IOS, ANDROID). */
  apps: Array<{ id: string; platform: string }>;
}

/** A Google Ads customer as the API describes it, with its conversion actions. */
export interface GoogleCustomerFacts {
  id: string;
  name: string;
  status: string;
  currency: string;
  timeZone: string;
  testAccount: boolean;
  manager: boolean;
  conversionActions: Array<{ name: string; status: string }>;
}

export interface PreflightFacts {
  meta: {
    token: MetaTokenFacts | Unreadable;
    accounts: Record<string, MetaAccountFacts | Unreadable>;
    pages: Record<string, { id: string; name: string } | Unreadable>;
    app: MetaAppFacts | Unreadable | null;
  } | null;
  tiktok: { advertisers: Record<string, TikTokAdvertiserFacts | Unreadable> } | null;
  /** Whether TikTok is configured (TIKTOK_ACCESS_TOKEN). */
  tiktokConfigured: boolean;
  google?: { customers: Record<string, GoogleCustomerFacts | Unreadable> } | null;
  /** Whether Google is configured (GOOGLE_ADS_DEVELOPER_TOKEN and its OAuth client). */
  googleConfigured?: boolean;
}

/**
 * What a developer token may do, by access level ("Access levels and permissible use",
 * https://developers.google.com/google-ads/api/docs/api-policy/access-levels): Test Account access
 * reaches test accounts only and a production customer answers
 * AuthorizationError.DEVELOPER_TOKEN_NOT_APPROVED; Explorer allows 2,880 operations a day on
 * production accounts, Basic 15,000, Standard has no daily limit. The API does not say which level
 * a token has (the API Center does): adloop tells test-only from production access by that error.
 */
export const GOOGLE_TEST_ONLY_ERROR = 'DEVELOPER_TOKEN_NOT_APPROVED';

/** Permissions adloop's Meta calls need (https://developers.facebook.com/docs/permissions). */
export const META_SCOPES = [
  'ads_management',
  'ads_read',
  'pages_show_list',
  'pages_read_engagement',
];
/** Warn when a token expires within this many days. */
export const EXPIRY_WARNING_DAYS = 14;

const META_STATUS: Record<number, string> = {
  1: 'active',
  2: 'disabled',
  3: 'unsettled (a payment failed)',
  7: 'pending risk review',
  8: 'pending settlement',
  9: 'in grace period',
  100: 'pending closure',
  101: 'closed',
};

const unreadable = (x: object | null): x is Unreadable => x !== null && 'error' in x;
const DAY_MS = 86_400_000;

/** Judges the facts; findings in the order an operator fixes them (token first). */
export function judgePreflight(
  file: AccountsFile,
  facts: PreflightFacts,
  now: Date,
  /** What ad sets optimise for (DEPLOY_OBJECTIVE): registrations need the app's event. */
  objective: 'installs' | 'registrations' = 'installs',
): Finding[] {
  const out: Finding[] = [];
  const marketsOf = (list: { markets: string[] }) => list.markets.join(', ');
  if (runMarkets(file).length === 0)
    out.push({
      level: 'fail',
      subject: 'accounts file',
      message: 'no account runs any market',
      fix: 'add markets to meta.accounts[].markets or tiktok.advertisers[].markets',
    });

  if (!file.spendCap)
    out.push({
      level: 'warn',
      subject: 'accounts file',
      message: "sets no global daily spend cap: only each ad set's budget bounds spend",
      fix: 'set spendCap (in REPORTING_CURRENCY) to the most every market together may spend in a day',
    });

  if (file.meta && facts.meta) {
    const { token } = facts.meta;
    const subject = 'meta token';
    if (unreadable(token))
      out.push({
        level: 'fail',
        subject,
        message: `cannot be checked: ${token.error}`,
        fix: 'set META_ACCESS_TOKEN to a system user token of the business that owns the ad accounts',
      });
    else if (!token.valid)
      out.push({
        level: 'fail',
        subject,
        message: 'is expired or revoked',
        fix: 'make a new system user token in Business Settings and rotate META_ACCESS_TOKEN (docs/deploy.md, "Rotating a token")',
      });
    else {
      const missing = META_SCOPES.filter((s) => !token.scopes.includes(s));
      if (missing.length > 0)
        out.push({
          level: 'fail',
          subject,
          message: `lacks the permission${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
          fix: 'grant them to the system user token (docs/deploy.md, "Meta")',
        });
      const days = token.expiresAt ? (Date.parse(token.expiresAt) - now.getTime()) / DAY_MS : null;
      if (days !== null && days < EXPIRY_WARNING_DAYS)
        out.push({
          level: days <= 0 ? 'fail' : 'warn',
          subject,
          message:
            days <= 0
              ? `expired on ${token.expiresAt}`
              : `expires in ${Math.floor(days)} days (${token.expiresAt})`,
          fix: 'use a system user token that never expires, or rotate META_ACCESS_TOKEN before then',
        });
      if (missing.length === 0 && (days === null || days >= EXPIRY_WARNING_DAYS))
        out.push({
          level: 'ok',
          subject,
          message: `valid${token.expiresAt ? ` until ${token.expiresAt}` : ', never expires'}; has ${META_SCOPES.join(', ')}`,
        });
    }

    const app = facts.meta.app;
    if (unreadable(app))
      out.push({
        level: 'fail',
        subject: `meta app ${file.app.metaApplicationId}`,
        message: `cannot be read: ${app.error}`,
        fix: 'set app.metaApplicationId to the app registered in Meta for Developers, and give the token access to it',
      });
    else if (app && objective === 'registrations')
      out.push(
        app.events.includes(META_REGISTRATION_EVENT)
          ? {
              level: 'ok',
              subject: `meta app ${app.id}`,
              message: `logs ${META_REGISTRATION_EVENT}`,
            }
          : {
              level: 'fail',
              subject: `meta app ${app.id}`,
              message: `has never logged ${META_REGISTRATION_EVENT}, which ad sets optimising for registrations need`,
              fix: 'send the CompleteRegistration app event from the app (Meta SDK or the MMP) first, or set DEPLOY_OBJECTIVE=installs',
            },
      );
    if (app && !unreadable(app))
      for (const os of APP_OSES) {
        const store = file.app[os]?.storeUrl;
        if (!store) continue;
        out.push(
          app.storeUrls.includes(store)
            ? { level: 'ok', subject: `meta app ${app.id}`, message: `lists ${store}` }
            : {
                level: 'fail',
                subject: `meta app ${app.id}`,
                message: `does not list ${store} (it lists ${app.storeUrls.join(', ') || 'no store'})`,
                fix: `add the ${os === 'ios' ? 'App Store' : 'Google Play'} URL in the app's settings (Basic, platforms), or fix app.${os}.storeUrl`,
              },
        );
      }

    for (const account of file.meta.accounts) {
      const subject = `meta ${account.id} (${marketsOf(account)})`;
      const a = facts.meta.accounts[account.id];
      if (!a || unreadable(a)) {
        out.push({
          level: 'fail',
          subject,
          message: `cannot be read: ${a ? a.error : 'not checked'}`,
          fix: 'assign the ad account to the system user (Business Settings, ad accounts, tasks ADVERTISE and ANALYZE)',
        });
        continue;
      }
      out.push(
        a.status === 1
          ? {
              level: 'ok',
              subject,
              message: `active, ${a.currency}, ${a.timeZone} (report days are its calendar days)`,
            }
          : {
              level: 'fail',
              subject,
              message: `is ${META_STATUS[a.status] ?? `in status ${a.status}`}`,
              fix: 'resolve it in Ads Manager (billing, account quality) before adloop writes to it',
            },
      );
      out.push(...budgetFindings(file, account.markets, 'meta', a.currency, subject));
      const page = facts.meta.pages[account.pageId];
      if (!page || unreadable(page))
        out.push({
          level: 'fail',
          subject,
          message: `page ${account.pageId} cannot be read: ${page ? page.error : 'not checked'}`,
          fix: "set the account's pageId to a page the business owns and assign it to the system user (task ADVERTISE)",
        });
      else
        out.push({ level: 'ok', subject, message: `runs ads as page ${page.id} (${page.name})` });
    }
  }

  if (file.tiktok && !facts.tiktokConfigured)
    out.push({
      level: 'warn',
      subject: 'tiktok',
      message:
        'the accounts file names advertisers, but TIKTOK_ACCESS_TOKEN is not set: TikTok is not deployed to',
      fix: 'set TIKTOK_ACCESS_TOKEN, or remove tiktok from the accounts file',
    });
  if (file.tiktok && facts.tiktok)
    for (const adv of file.tiktok.advertisers) {
      const subject = `tiktok ${adv.id} (${marketsOf(adv)})`;
      const a = facts.tiktok.advertisers[adv.id];
      if (!a || unreadable(a)) {
        out.push({
          level: 'fail',
          subject,
          message: `cannot be read: ${a ? a.error : 'not checked'}`,
          fix: 'authorise the advertiser for adloop\'s developer app and rotate TIKTOK_ACCESS_TOKEN (docs/deploy.md, "TikTok")',
        });
        continue;
      }
      out.push(
        a.status === 'STATUS_ENABLE'
          ? { level: 'ok', subject, message: `enabled, ${a.currency}, ${a.timeZone}` }
          : {
              level: 'fail',
              subject,
              message: `is ${a.status}`,
              fix: "resolve the advertiser's status in TikTok Ads Manager before adloop writes to it",
            },
      );
      out.push(...budgetFindings(file, adv.markets, 'tiktok', a.currency, subject));
      const identity = a.identities.find(
        (i) => i.id === adv.identity.id && i.type === adv.identity.type,
      );
      out.push(
        identity
          ? { level: 'ok', subject, message: `posts as ${adv.identity.type} ${adv.identity.id}` }
          : {
              level: 'fail',
              subject,
              message: `has no identity ${adv.identity.type} ${adv.identity.id}`,
              fix: 'create it in Ads Manager (Assets, Identities) or fix identity in the accounts file',
            },
      );
      for (const os of APP_OSES) {
        if (!file.app[os]) continue;
        const id = adv.appIds[os];
        const app = a.apps.find((x) => x.id === id);
        out.push(appFinding(subject, os, id, app));
      }
    }
  out.push(...googleFindings(file, facts, objective));
  return out;
}

/** Each Google Ads customer: reachable with the developer token's access, ready for App campaigns. */
function googleFindings(
  file: AccountsFile,
  facts: PreflightFacts,
  objective: 'installs' | 'registrations',
): Finding[] {
  const out: Finding[] = [];
  if (!file.google) return out;
  if (!facts.googleConfigured) {
    out.push({
      level: 'warn',
      subject: 'google',
      message:
        'the accounts file names customers, but GOOGLE_ADS_DEVELOPER_TOKEN is not set: Google is not deployed to',
      fix: 'set GOOGLE_ADS_DEVELOPER_TOKEN, GOOGLE_ADS_CLIENT_ID, GOOGLE_ADS_CLIENT_SECRET and GOOGLE_ADS_REFRESH_TOKEN (docs/deploy.md, "Google Ads"), or remove google from the accounts file',
    });
    return out;
  }
  for (const c of file.google.customers) {
    const subject = `google ${c.id.replace(/(\d{3})(\d{3})(\d{4})/, '$1-$2-$3')} (${c.markets.join(', ')})`;
    const f = facts.google?.customers[c.id];
    if (!f || unreadable(f)) {
      const testOnly = f?.error.includes(GOOGLE_TEST_ONLY_ERROR);
      out.push({
        level: 'fail',
        subject,
        message: testOnly
          ? 'the developer token has Test Account access only: it cannot reach this production customer'
          : `cannot be read: ${f ? f.error : 'not checked'}`,
        fix: testOnly
          ? 'apply for Basic access in the Google Ads API Center of the manager account (docs/deploy.md, "Google Ads"), or use a test account'
          : 'give the OAuth user access to the customer (or set loginCustomerId to the manager it is reached through) and check GOOGLE_ADS_REFRESH_TOKEN',
      });
      continue;
    }
    if (f.manager)
      out.push({
        level: 'fail',
        subject,
        message: 'is a manager account: it cannot hold campaigns',
        fix: 'name the client account under it, and the manager as loginCustomerId',
      });
    else if (f.status !== 'ENABLED')
      out.push({
        level: 'fail',
        subject,
        message: `is ${f.status}`,
        fix: "resolve the customer's status (billing, policy) in Google Ads before adloop writes to it",
      });
    else
      out.push({
        level: f.testAccount ? 'warn' : 'ok',
        subject,
        message: f.testAccount
          ? `a test account (${f.currency}, ${f.timeZone}): the token reaches it, but test accounts serve no ads`
          : `enabled, ${f.currency}, ${f.timeZone}; the developer token reaches production accounts (Explorer, Basic or Standard access: the API Center says which and its daily operations)`,
        ...(f.testAccount ? { fix: 'name a production customer to run real ads' } : {}),
      });
    out.push(...budgetFindings(file, c.markets, 'google', f.currency, subject));
    const enabled = new Set(
      f.conversionActions.filter((a) => a.status === 'ENABLED').map((a) => a.name),
    );
    const stages =
      objective === 'registrations'
        ? (['installs', 'registrations'] as const)
        : (['installs'] as const);
    for (const stage of stages) {
      const names = c.conversions[stage];
      const found = names.filter((n) => enabled.has(n));
      out.push(
        found.length > 0
          ? { level: 'ok', subject, message: `counts ${stage} from ${found.join(', ')}` }
          : {
              level: 'fail',
              subject,
              message: `has no enabled conversion action named ${names.join(' or ')} for ${stage}`,
              fix: `link the app and import its ${stage === 'installs' ? 'first opens' : 'registration event'} from the MMP (Tools, Conversions), or fix conversions.${stage} in the accounts file`,
            },
      );
    }
  }
  return out;
}

function appFinding(
  subject: string,
  os: AppOs,
  id: string | undefined,
  app: { id: string; platform: string } | undefined,
): Finding {
  const platform = os === 'ios' ? 'IOS' : 'ANDROID';
  if (!app)
    return {
      level: 'fail',
      subject,
      message: `has no ${os} app ${id ?? '(none given)'} in its app management`,
      fix: `add the app in TikTok Ads Manager (Assets, App management) and put its id in appIds.${os}`,
    };
  if (app.platform !== platform)
    return {
      level: 'fail',
      subject,
      message: `app ${app.id} is a ${app.platform} app, given for ${os}`,
      fix: `put the ${platform} app's id in appIds.${os}`,
    };
  return { level: 'ok', subject, message: `promotes ${os} app ${app.id}` };
}

/** Each market's budget on the platform, as the account's currency can express it. */
function budgetFindings(
  file: AccountsFile,
  markets: string[],
  platform: 'meta' | 'tiktok' | 'google',
  currency: string,
  subject: string,
): Finding[] {
  const out: Finding[] = [];
  for (const market of markets) {
    const budget =
      file.markets[market]?.dailyBudget?.[platform] ?? file.markets['*']?.dailyBudget?.[platform];
    const where = `markets.${file.markets[market]?.dailyBudget?.[platform] ? market : '*'}.dailyBudget.${platform}`;
    if (budget === undefined) {
      out.push({
        level: 'fail',
        subject,
        message: `${market} has no daily budget`,
        fix: `set markets.${market}.dailyBudget.${platform} (or markets["*"]) in ${currency}`,
      });
      continue;
    }
    try {
      budgetMinor(budget, currency, where);
    } catch (err) {
      if (!(err instanceof AccountsError)) throw err;
      out.push({
        level: 'fail',
        subject,
        message: err.message,
        fix: `write the budget in ${currency} as ${currency} allows`,
      });
    }
  }
  return out;
}

/** `ok`, `warn` or `fail` per line, then a fix indented under what it fixes. */
export function formatFindings(findings: Finding[]): string[] {
  return findings.flatMap((f) => [
    `${f.level.padEnd(4)}  ${f.subject}: ${f.message}`,
    ...(f.fix ? [`      fix: ${f.fix}`] : []),
  ]);
}
