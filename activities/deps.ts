// What activities need from the outside world, injected by the worker (or a test).
import { marketAccounts, type AccountsFile } from '../core/accounts.ts';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../core/config.ts';
import { FAILURE } from '../core/failures.ts';
import type { AdSetSegment } from '../core/ids.ts';
import type { MarketCode, MarketPause } from '../core/types.ts';
import type { FxTable } from '../core/money.ts';
import type { Db } from '../db/database.ts';
import type { DeliveryWriter } from '../db/delivery-writer.ts';
import type { MetaAds } from '../platforms/meta/meta-ads.ts';
import type { Mmp } from '../platforms/mmp/mmp.ts';
import type { TikTokAds } from '../platforms/tiktok/tiktok-ads.ts';
import type { GoogleAds, YouTubeUploads } from '../platforms/google/google-ads.ts';
import type { RendererDeps } from '../render/renderer.ts';

/** What an activity factory needs: the shared parts, and the settings `S` it reads. */
export interface StageDeps<S> {
  db: Db;
  /** Bulk, idempotent writes of daily metrics (COPY on PostgreSQL). */
  delivery: DeliveryWriter;
  /** Which accounts run each market, the app, budgets and caps (core/accounts.ts). */
  accounts: AccountsFile;
  /** The Meta client of an ad account (the worker makes one per account, once). */
  meta: (adAccountId: string) => MetaAds;
  /** The TikTok client of an advertiser, or null when TikTok is not configured. */
  tiktok: ((advertiserId: string) => TikTokAds) | null;
  /** The Google Ads client of a customer; null or absent when Google is not configured. */
  google?: ((customerId: string) => GoogleAds) | null;
  /**
   * YouTube uploads for Google's video assets; null or absent when Google is not configured or
   * GOOGLE_VIDEO=off (App ads then carry images only).
   */
  youtube?: YouTubeUploads | null;
  /**
   * The wall clock (what time it is now, not the business date being run). Default the system
   * clock; tests fix it.
   */
  clock?: () => Date;
  /** Exchange rates into the reporting currency. */
  fx: FxTable;
  /** The mobile measurement partner, or null when none is configured. */
  mmp: Mmp | null;
  /** Templates, fonts and the creative store. */
  renderer: RendererDeps;
  /**
   * Where an operator's pause of a market is kept (its Temporal Schedule, ops/schedules.ts);
   * absent: markets are never paused at start (a running loop still takes pause signals).
   */
  control?: { pauseOf(market: MarketCode): Promise<MarketPause | null> };
  /**
   * The settings this consumer reads, and only those: each stage declares its own (`RankSettings`
   * in rank/rank.ts and so on); the worker passes its whole, already parsed configuration.
   */
  config: S;
}

/** Which platforms deploy writes to. */
export type PlatformSettings = Pick<Config, 'DEPLOY_PLATFORMS'>;

/**
 * A market's accounts (core/accounts.ts) and the clients that reach them: `meta`, `tiktok` or
 * `google` is null when no account of that platform runs the market (or the platform is not
 * configured).
 */
export function marketPlatforms(
  deps: Pick<StageDeps<PlatformSettings>, 'accounts' | 'meta' | 'tiktok' | 'google' | 'config'>,
  market: string,
) {
  const accounts = marketAccounts(deps.accounts, market);
  const meta = accounts.meta ? deps.meta(accounts.meta.adAccountId) : null;
  const tiktok = accounts.tiktok && deps.tiktok ? deps.tiktok(accounts.tiktok.advertiserId) : null;
  const google = accounts.google && deps.google ? deps.google(accounts.google.customerId) : null;
  const configured = deps.config.DEPLOY_PLATFORMS;
  return {
    accounts,
    meta,
    tiktok,
    google,
    /** The platforms deploy writes to: DEPLOY_PLATFORMS, or (auto) every one whose accounts run the market. */
    deployTo:
      configured === 'auto'
        ? [
            ...(meta ? ['meta' as const] : []),
            ...(tiktok ? ['tiktok' as const] : []),
            ...(google ? ['google' as const] : []),
          ]
        : configured,
  };
}

/**
 * One ad set per store the market's ads promote: DEPLOY_OS, of the stores the app is in (an
 * app-install ad set promotes one store). Refused for good (nothing written) when there is none.
 */
export function marketSegments(
  deps: Pick<StageDeps<Pick<Config, 'DEPLOY_OS' | 'DEPLOY_OBJECTIVE'>>, 'accounts' | 'config'>,
  market: string,
): AdSetSegment[] {
  const accounts = marketAccounts(deps.accounts, market);
  const oses = deps.config.DEPLOY_OS.filter((os) => accounts.apps[os]);
  if (oses.length === 0)
    throw ApplicationFailure.create({
      type: FAILURE.deployConfig,
      message: `DEPLOY_OS is ${deps.config.DEPLOY_OS.join(',')}, but ACCOUNTS_PATH names the app in no such store (app.ios, app.android)`,
      nonRetryable: true,
    });
  return oses.map((os) => ({ os, objective: deps.config.DEPLOY_OBJECTIVE }));
}
