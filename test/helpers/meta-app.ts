// The demo world's app as Meta tests promote it, and shortcuts for objects that deliver: adloop
// creates campaigns, ad sets and ads PAUSED, so a test that wants delivery switches them on.
import type { MetaAds, MetaAdSetSpec } from '../../platforms/meta/meta-ads.ts';

/** The world's application id and iOS store listing (sandbox/world.ts defaults). */
export const TEST_APP = {
  applicationId: '3000000001',
  storeUrl: 'https://apps.apple.com/app/id1500000001',
};

/**
 * The same app's Google Play listing. Meta promotes one store per ad set (promoted_object's
 * object_store_url, with user_os to match), so Android delivery needs an ad set of its own.
 */
export const TEST_APP_ANDROID = {
  applicationId: TEST_APP.applicationId,
  storeUrl: 'https://play.google.com/store/apps/details?id=com.adloop.music',
};

/** The app link of a tracking link: adloopmusic://artist/<id> with its utm parameters. */
export function appLinkOf(link: string): string {
  const u = new URL(link);
  const artist = /\/artist\/([^/]+)/.exec(u.pathname)?.[1] ?? 'unknown';
  const a = new URL(`adloopmusic://artist/${artist}`);
  u.searchParams.forEach((v, k) => a.searchParams.set(k, v));
  return a.toString();
}

/** An ad set switched on with its campaign. */
export async function liveAdSet(meta: MetaAds, p: MetaAdSetSpec): Promise<string> {
  const id = await meta.createAdSet(p);
  for (const r of await meta.setStatuses([p.campaignId, id], 'ACTIVE')) if (r.error) throw r.error;
  return id;
}

/** An ad switched on. */
export async function liveAd(
  meta: MetaAds,
  p: { name: string; adsetId: string; creativeId: string },
): Promise<string> {
  const id = await meta.createAd(p);
  for (const r of await meta.setStatuses([id], 'ACTIVE')) if (r.error) throw r.error;
  return id;
}
