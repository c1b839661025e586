// What `adloop check` asks the platforms about each account of the accounts file, read-only. A
// read that fails is kept as the platform's own words (never a token), so the judgement
// (preflight.ts) can say which account, page or app is wrong instead of stopping at the first.
import type { AccountsFile } from '../core/accounts.ts';
import { redact } from '../core/redact.ts';
import { PlatformError } from '../platforms/errors.ts';
import type { MetaAds } from '../platforms/meta/meta-ads.ts';
import type { TikTokAds } from '../platforms/tiktok/tiktok-ads.ts';
import type { GoogleAds } from '../platforms/google/google-ads.ts';
import type { PreflightFacts, Unreadable } from './preflight.ts';

/** Clients of each account, made the way the worker makes them. */
export interface PreflightClients {
  meta: (adAccountId: string) => MetaAds;
  tiktok: ((advertiserId: string) => TikTokAds) | null;
  google?: ((customerId: string) => GoogleAds) | null;
}

// Platform errors come redacted already; anything else (an SDK's own error) may quote a URL.
const asUnreadable = (err: unknown): Unreadable => ({
  error: redact(err instanceof Error ? err.message : String(err)),
});

async function read<T>(f: () => Promise<T>): Promise<T | Unreadable> {
  try {
    return await f();
  } catch (err) {
    return asUnreadable(err);
  }
}

/** Reads every fact the judgement needs; calls run one account at a time, within rate limits. */
export async function gatherPreflightFacts(
  file: AccountsFile,
  clients: PreflightClients,
): Promise<PreflightFacts> {
  const facts: PreflightFacts = {
    meta: null,
    tiktok: null,
    tiktokConfigured: Boolean(clients.tiktok),
    google: null,
    googleConfigured: Boolean(clients.google),
  };
  const metaAccounts = file.meta?.accounts ?? [];
  if (metaAccounts.length > 0) {
    // Token, page and app are read through the first account's client: one token serves all.
    const first = clients.meta(metaAccounts[0]!.id);
    const meta: NonNullable<PreflightFacts['meta']> = {
      token: await read(async () => {
        try {
          return await first.debugToken();
        } catch (err) {
          // Graph refuses an expired or revoked token even when asked about itself.
          if (err instanceof PlatformError && err.kind === 'auth')
            return { valid: false, expiresAt: null, scopes: [] };
          throw err;
        }
      }),
      accounts: {},
      pages: {},
      app: file.app.metaApplicationId
        ? await read(async () => ({
            ...(await first.application(file.app.metaApplicationId!)),
            events: await first.appEvents(file.app.metaApplicationId!),
          }))
        : null,
    };
    for (const a of metaAccounts) {
      meta.accounts[a.id] = await read(async () => {
        const info = await clients.meta(a.id).describeAccount();
        return { id: a.id, status: info.status, currency: info.currency, timeZone: info.timeZone };
      });
      meta.pages[a.pageId] ??= await read(() => clients.meta(a.id).page(a.pageId));
    }
    facts.meta = meta;
  }
  const advertisers = file.tiktok?.advertisers ?? [];
  if (clients.tiktok && advertisers.length > 0) {
    const tiktok: NonNullable<PreflightFacts['tiktok']> = { advertisers: {} };
    for (const a of advertisers) {
      const client = clients.tiktok(a.id);
      tiktok.advertisers[a.id] = await read(async () => {
        const info = await client.advertiser();
        return {
          id: a.id,
          status: info.status,
          currency: info.currency,
          timeZone: info.timeZone,
          identities: await client.identities(),
          apps: await client.apps(),
        };
      });
    }
    facts.tiktok = tiktok;
  }
  const customers = file.google?.customers ?? [];
  if (clients.google && customers.length > 0) {
    const google: NonNullable<PreflightFacts['google']> = { customers: {} };
    for (const c of customers) {
      const client = clients.google(c.id);
      google.customers[c.id] = await read(async () => {
        const info = await client.customer();
        return {
          ...info,
          conversionActions: (await client.conversionActions()).map((a) => ({
            name: a.name,
            status: a.status,
          })),
        };
      });
    }
    facts.google = google;
  }
  return facts;
}
