// Google Ads as a deploy target: App campaigns (platforms/google/google-ads.ts says what they are
// made of). An App campaign promotes one app in one store, so each segment (market × OS ×
// objective) is a campaign with its own budget, holding one ad group with one app ad:
//   adloop's ad set  = the segment's ad group (campaign and budget share its name);
//   adloop's ad      = one creative's image asset linked to the group's app ad, with the
//                      creative's motion as a YouTube video asset beside it when GOOGLE_VIDEO=on.
// Google combines the group's images, videos, headlines and descriptions itself; adloop decides
// which creatives are in the group and learns from per-asset reporting (learn says what it cannot
// know). Pausing an ad unlinks its assets (assets cannot be removed); resuming links them again.
// An app ad holds at most 20 images and 20 videos: only linked assets count, so the cap is on live
// ads (`liveCap`) and nothing rolls over.
//
// Idempotency: Google refuses a second campaign, budget or ad group of the same name
// (CampaignError.DUPLICATE_CAMPAIGN_NAME, CampaignBudgetError.DUPLICATE_NAME,
// AdGroupError.DUPLICATE_ADGROUP_NAME; errors reference of the Google Ads API), so a create that
// landed after its answer was lost is found by name, never made twice; assets are found by name
// the same way, and YouTube uploads by title.
//
// Content: Google's assets carry no link, so each image carries the ad's landing link in its XMP
// metadata (dc:source: where the picture comes from), and each video in its YouTube description.
import sharp from 'sharp';
import { type AppOs } from '../../core/accounts.ts';
import { microsToMinor, minorToMicros } from '../../core/money.ts';
import { pause } from '../../core/cancellation.ts';
import { adSetName, metaCreativeName, parseAdName, type AdSetSegment } from '../../core/ids.ts';
import { getMarket } from '../../db/catalog.repository.ts';
import { listPlatformObjects, savePlatformObject } from '../../db/creatives.repository.ts';
import { PlatformError } from '../../platforms/errors.ts';
import {
  GOOGLE_APP_AD_LIMITS,
  type GoogleAds,
  type GoogleAppAdAssets,
  type YouTubeUploads,
} from '../../platforms/google/google-ads.ts';
import type { CurrentAd } from '../../decisions/deploy/plan.ts';
import {
  adSetBudgetMinor,
  assetBytes,
  createMissing,
  ensureObject,
  knownAdSets,
  type AdSetRef,
  type DeployTarget,
  type NewAd,
  setRecordedStatus,
  type TargetDeps,
} from './target.ts';

/** Most images (and videos) an App ad links (GOOGLE_APP_AD_LIMITS). */
export const GOOGLE_ASSETS_PER_AD = GOOGLE_APP_AD_LIMITS.images;

/**
 * Google's guidance for target costs: a daily budget of at least 50 times the target cost per
 * install, and 10 times the target cost per in-app action ("App campaigns best practices",
 * https://support.google.com/google-ads/answer/6167162). Without a configured target, adloop sets
 * the target so the budget is exactly that multiple.
 */
const BUDGET_TO_TARGET = { installs: 50, registrations: 10 } as const;

/**
 * Longest deploy waits for YouTube to process the day's uploads: a short clip takes about a minute
 * ("Processing can take a while", https://support.google.com/youtube/answer/71674). A video still
 * processing then is left out of today's ad; its image runs alone.
 */
const VIDEO_PROCESSING_MS = 120_000;

/** The name of a creative's video asset beside its image asset (the ad's name). */
export const videoAssetName = (adName: string) => `${adName}/video`;

/**
 * Width of text as Google counts it against headline and description limits: "double-width"
 * characters (Chinese, Japanese, Korean) count twice (Google Ads Help, "Character limits",
 * https://support.google.com/google-ads/answer/1704389).
 */
export function googleTextWidth(text: string): number {
  let w = 0;
  for (const ch of text)
    w +=
      /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(
        ch,
      )
        ? 2
        : 1;
  return w;
}

/** Fits text into `limit` as Google counts it, cutting at a word where one is near. */
export function fitGoogleText(text: string, limit: number): string {
  const t = text.trim();
  if (googleTextWidth(t) <= limit) return t;
  let cut = '';
  for (const ch of t) {
    if (googleTextWidth(cut + ch) > limit - 1) break;
    cut += ch;
  }
  const space = cut.lastIndexOf(' ');
  return `${space > cut.length * 0.6 ? cut.slice(0, space) : cut}…`;
}

/**
 * The app ad's text: Google pairs any headline with any image of the group, so only text that
 * fits every creative goes in: the app's name and the templates' own copy (never an artist's
 * name). Up to 5 headlines of 30 and 5 descriptions of 90 (GOOGLE_APP_AD_LIMITS), distinct.
 */
export function appAdText(
  appName: string,
  ads: ReadonlyArray<Pick<NewAd, 'headline' | 'message'>>,
): Pick<GoogleAppAdAssets, 'headlines' | 'descriptions'> {
  const L = GOOGLE_APP_AD_LIMITS;
  const distinct = (xs: string[], n: number, limit: number) =>
    [...new Set(xs.filter((x) => x.trim() !== '').map((x) => fitGoogleText(x, limit)))].slice(0, n);
  // An ad's message is "<artist> · <copy>": only the copy after the artist is shared text.
  const copy = ads.map((a) => a.message.split(' · ').slice(1).join(' · '));
  const headlines = distinct(
    [appName, ...ads.map((a) => a.headline)],
    L.headlines,
    L.headlineChars,
  );
  const descriptions = distinct(copy, L.descriptions, L.descriptionChars);
  return {
    headlines,
    descriptions:
      descriptions.length > 0 ? descriptions : [fitGoogleText(appName, L.descriptionChars)],
  };
}

/** The image with the ad's landing link as its XMP dc:source (where the picture comes from). */
export async function withSourceLink(bytes: Buffer, link: string): Promise<Buffer> {
  const esc = link.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const xmp =
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">' +
    `<dc:source>${esc}</dc:source></rdf:Description></rdf:RDF></x:xmpmeta>`;
  return sharp(bytes).withXmp(xmp).toBuffer();
}

/** How one item of a partial-failure mutate is audited: its id, or why it was refused. */
const itemOf = (r: string | PlatformError | undefined) =>
  typeof r === 'string'
    ? { externalId: r }
    : { externalId: null, error: r?.message ?? 'no result', lost: r === undefined };

const STORE: Record<AppOs, 'APPLE_APP_STORE' | 'GOOGLE_APP_STORE'> = {
  ios: 'APPLE_APP_STORE',
  android: 'GOOGLE_APP_STORE',
};

export function googleTarget(
  deps: TargetDeps & {
    google: GoogleAds;
    /** YouTube uploads of the OAuth user's channel; null: Google ads carry images only. */
    youtube: YouTubeUploads | null;
  },
): DeployTarget {
  const { google, youtube, db, audit, accounts } = deps;
  const market = accounts.market;
  const customer = () => {
    if (!accounts.google)
      throw new PlatformError(
        'google',
        'invalid',
        `no Google Ads customer runs ${market} (accounts)`,
      );
    return accounts.google;
  };

  async function budget(m: string): Promise<{ minor: number; currency: string }> {
    const { currency } = await google.customer();
    const where = `markets.${m}.dailyBudget.google`;
    return {
      minor: adSetBudgetMinor(deps.allocated, customer().dailyBudget, currency, where),
      currency,
    };
  }

  /** The ad group of an ad set adloop recorded (by the ad's ad set name). */
  async function adGroupOf(adName: string): Promise<{ id: string; name: string }> {
    const setName = parseAdName(adName)?.adSet;
    const known = (
      await listPlatformObjects(db, { platform: 'google', kind: 'adset', market })
    ).find((o) => o.name === setName);
    if (setName && known) return { id: known.external_id, name: setName };
    const found = setName ? await google.findByName('ad_group', setName) : null;
    if (!found) throw new PlatformError('google', 'invalid', `no ad group for ad ${adName}`);
    return { id: found.id, name: setName! };
  }

  /**
   * Links (or unlinks) assets in the group's app ad: one update of its image and video lists, or
   * the app ad itself when the group has none yet (it needs text: `text`).
   */
  async function relink(
    adGroup: { id: string; name: string },
    change: { add: { images: string[]; videos: string[] }; remove: Set<string> },
    text: () => Pick<GoogleAppAdAssets, 'headlines' | 'descriptions'>,
    operation: string,
  ): Promise<void> {
    const ad = await google.appAd(adGroup.id);
    const keep = (ids: string[], add: string[]) => [
      ...new Set([...ids.filter((id) => !change.remove.has(id)), ...add]),
    ];
    const images = keep(ad?.assets.images ?? [], change.add.images);
    const videos = keep(ad?.assets.videos ?? [], change.add.videos);
    if (images.length > GOOGLE_ASSETS_PER_AD || videos.length > GOOGLE_ASSETS_PER_AD)
      throw new PlatformError(
        'google',
        'invalid',
        `app ad of ${adGroup.name} would link ${images.length} images and ${videos.length} videos; Google allows ${GOOGLE_ASSETS_PER_AD} of each`,
      );
    if (!ad) {
      if (images.length === 0 && videos.length === 0) return;
      await audit.write(
        {
          platform: 'google',
          operation: 'create_app_ad',
          kind: 'ad_group_ad',
          name: adGroup.name,
          detail: { images: images.length, videos: videos.length },
        },
        () => google.createAppAd(adGroup.id, { ...text(), images, videos }),
        (id) => id,
      );
      return;
    }
    const same = (a: string[], b: string[]) =>
      a.length === b.length && a.every((x, i) => x === b[i]);
    if (same(images, ad.assets.images) && same(videos, ad.assets.videos)) return;
    await audit.write(
      {
        platform: 'google',
        operation,
        kind: 'ad_group_ad',
        name: adGroup.name,
        detail: { images: images.length, videos: videos.length },
      },
      () => google.updateAppAd(adGroup.id, ad.adId, { images, videos }),
      () => ad.adId,
    );
  }

  /**
   * The creative's YouTube video id: as recorded when it was uploaded, or uploaded once
   * (resumable; the client looks the title up first, so an upload whose answer was lost is found,
   * not made twice). Recorded, so later deploys spend no quota on finding it: YouTube charges
   * 100 units for a search and 1,600 for an upload, of 10,000 a day by default.
   */
  async function youtubeVideo(ad: NewAd): Promise<string | null> {
    if (!youtube || !ad.creative.platformAssets?.['google-video']) return null;
    const title = metaCreativeName(market, ad.creative.hash);
    const known = (
      await listPlatformObjects(db, { platform: 'google', kind: 'video', market })
    ).find((o) => o.name === title);
    if (known) return known.external_id;
    const { bytes } = await assetBytes(deps.store, ad.creative, 'google-video');
    const id = await audit.write(
      {
        platform: 'google',
        operation: 'upload_youtube_video',
        kind: 'video',
        name: title,
        detail: { bytes: bytes.length },
      },
      // The description's link tells what the video shows (as the image's dc:source does).
      () => youtube.upload({ title, description: ad.link, bytes }),
      (videoId) => videoId,
    );
    await savePlatformObject(db, {
      platform: 'google',
      kind: 'video',
      name: title,
      externalId: id,
      market,
      status: null,
      creativeHash: ad.creative.hash,
    });
    return id;
  }

  /**
   * Of the uploaded videos (asset name -> YouTube id), those YouTube has processed, waited for
   * together up to VIDEO_PROCESSING_MS; failed or rejected ones, and ones still processing then,
   * are left out (their creatives run as images).
   */
  async function processedVideos(uploaded: Map<string, string>): Promise<Map<string, string>> {
    const done = new Map<string, string>();
    const waiting = new Map(uploaded);
    const deadline = Date.now() + VIDEO_PROCESSING_MS;
    for (let wait = 500; waiting.size > 0; wait = Math.min(wait * 2, 8000)) {
      for (const [name, id] of waiting) {
        const { upload } = await youtube!.status(id);
        if (upload === 'processed') done.set(name, id);
        if (upload !== 'uploaded') waiting.delete(name);
      }
      if (waiting.size === 0 || Date.now() + wait > deadline) break;
      await pause(wait);
    }
    return done;
  }

  return {
    platform: 'google',
    capacity: GOOGLE_ASSETS_PER_AD,
    canArchive: true,
    liveCap: true,
    settleMs: deps.settleMs,

    findAdSets: (m, segment) =>
      knownAdSets(db, {
        platform: 'google',
        market: m,
        segment,
        find: (name) => google.findByName('ad_group', name),
      }),

    dailyBudget: (m) => budget(m),

    // The ad group's campaign and budget share its name (one budget per campaign, not shared).
    async readBudget(adSet) {
      const campaign = await google.findByName('campaign', adSet.name);
      if (!campaign)
        throw new PlatformError('google', 'invalid', `campaign ${adSet.name} not found`);
      const { currency } = await google.customer();
      return microsToMinor(await google.campaignBudgetMicros(campaign.id), currency);
    },

    async setBudget(m, adSet, minor) {
      const found = await google.findByName('campaign_budget', adSet.name);
      if (!found)
        throw new PlatformError('google', 'invalid', `campaign budget ${adSet.name} not found`);
      const { currency } = await google.customer();
      await deps.audit.write(
        {
          platform: 'google',
          operation: 'update_campaign_budget',
          kind: 'budget',
          name: adSet.name,
          detail: {
            dailyBudgetMinor: minor,
            ...(deps.allocated && { reason: deps.allocated.reason }),
          },
        },
        () => google.setBudgetAmount(found.id, minorToMicros(minor, currency)),
        () => found.id,
      );
    },

    async ensureAdSet(m: string, segment: AdSetSegment, generation: number): Promise<AdSetRef> {
      if (segment.os === 'all')
        throw new PlatformError(
          'google',
          'invalid',
          `an App campaign promotes one store: deploy ${m} with segments ios and android, not all`,
        );
      const os = segment.os;
      const c = customer();
      const appId = c.appIds[os];
      if (!appId)
        throw new PlatformError(
          'google',
          'invalid',
          `no Google app id for ${os} in customer ${c.customerId} (accounts appIds.${os})`,
        );
      const name = adSetName(m, segment, generation);
      const language = (await getMarket(db, m))?.language ?? 'en';
      const { minor, currency } = await budget(m);
      const micros = minorToMicros(minor, currency);
      // Budget, then campaign, then ad group: each found by its unique name or created once.
      const budgetId = await ensureObject(deps, {
        platform: 'google',
        kind: 'budget',
        operation: 'create_campaign_budget',
        name,
        market: m,
        find: () => google.findByName('campaign_budget', name),
        create: () => google.createBudget({ name, amountMicros: micros }),
        status: 'ENABLED',
      });
      const conversionActionIds =
        segment.objective === 'registrations'
          ? (await google.conversionActions())
              .filter((a) => c.conversions.registrations.includes(a.name))
              .map((a) => a.id)
          : [];
      if (segment.objective === 'registrations' && conversionActionIds.length === 0)
        throw new PlatformError(
          'google',
          'invalid',
          `customer ${c.customerId} has none of the conversion actions ${c.conversions.registrations.join(', ')} (accounts conversions.registrations)`,
        );
      const campaignId = await ensureObject(deps, {
        platform: 'google',
        kind: 'campaign',
        operation: 'create_campaign',
        name,
        market: m,
        find: () => google.findByName('campaign', name),
        create: () =>
          google.createAppCampaign({
            name,
            budgetId,
            appId,
            appStore: STORE[os],
            goal:
              segment.objective === 'registrations'
                ? 'OPTIMIZE_IN_APP_CONVERSIONS_TARGET_CONVERSION_COST'
                : 'OPTIMIZE_INSTALLS_TARGET_INSTALL_COST',
            targetCpaMicros: Math.max(
              10_000,
              Math.round(micros / BUDGET_TO_TARGET[segment.objective] / 10_000) * 10_000,
            ),
            ...(conversionActionIds.length > 0 ? { conversionActionIds } : {}),
            country: m,
            language,
          }),
        // Created paused: activateAdSet switches it on.
        status: 'PAUSED',
      });
      const id = await ensureObject(deps, {
        platform: 'google',
        kind: 'adset',
        operation: 'create_ad_group',
        name,
        market: m,
        find: () => google.findByName('ad_group', name),
        create: () => google.createAdGroup({ campaignId, name }),
        status: 'PAUSED',
      });
      return { id, name, generation };
    },

    async listAds(adSet) {
      const linked = await google.linkedAssets(adSet.id);
      return linked
        .filter((a) => a.fieldType === 'MARKETING_IMAGE' && parseAdName(a.name))
        .map((a): CurrentAd => {
          const parsed = parseAdName(a.name)!;
          return {
            id: a.assetId,
            name: a.name,
            creativeHash: parsed.creativeHash,
            createdDate: parsed.date,
            status: a.enabled ? 'active' : 'paused',
            review: a.review,
            reviewReason: a.review === 'rejected' ? a.reasons.join('; ') || 'disapproved' : null,
          };
        });
    },

    async createAds(adSet, _market, ads) {
      const byName = new Map(ads.map((a) => [a.name, a]));
      const images = await createMissing(
        [...byName.keys()],
        () => google.findAssetsByName([...byName.keys()]),
        async (missing) => {
          const items: Array<{ name: string; bytes: Buffer }> = [];
          for (const name of missing) {
            const ad = byName.get(name)!;
            const { bytes } = await assetBytes(deps.store, ad.creative, 'google');
            items.push({ name, bytes: await withSourceLink(bytes, ad.link) });
          }
          return audit.many(
            items.map((i) => ({
              platform: 'google' as const,
              operation: 'create_image_asset',
              kind: 'asset',
              name: i.name,
              detail: { adGroup: adSet.name, bytes: i.bytes.length },
            })),
            () => google.createImageAssets(items),
            (r) => items.map((i) => itemOf(r.get(i.name))),
          );
        },
        deps,
      );
      await relink(
        { id: adSet.id, name: adSet.name },
        {
          add: { images: [...byName.keys()].flatMap((n) => images.ids.get(n) ?? []), videos: [] },
          remove: new Set(),
        },
        () => appAdText(accounts.appName, ads),
        'link_assets',
      );
      return images;
    },

    /**
     * Links each live ad's video beside its image, where it is not yet: uploaded (or found) and
     * waited for together, since Google takes a YouTube video only once YouTube has processed it.
     * Run for every ad the plan keeps, resumes or creates, so a video that could not be linked
     * on the day its ad was made (an upload or processing that failed, a deploy retried after
     * its images were linked) is linked on a later run. A video that fails leaves the image, the
     * still, to run alone.
     */
    async completeAds(adSet, _market, ads) {
      if (!youtube || ads.length === 0) return;
      const linked = await google.linkedAssets(adSet.id);
      const live = (type: string) =>
        new Set(linked.filter((a) => a.enabled && a.fieldType === type).map((a) => a.name));
      const images = live('MARKETING_IMAGE');
      const videos = live('YOUTUBE_VIDEO');
      // A video Google's review disapproved serves nowhere: it is unlinked, and not offered again
      // (its creative runs as its image).
      const disapproved = linked.filter(
        (a) => a.fieldType === 'YOUTUBE_VIDEO' && a.review === 'rejected',
      );
      for (const v of disapproved) videos.add(v.name);
      const refused = new Set(disapproved.filter((v) => v.enabled).map((v) => v.assetId));
      const uploaded = new Map<string, string>();
      for (const ad of ads) {
        if (!images.has(ad.name) || videos.has(videoAssetName(ad.name))) continue;
        try {
          const videoId = await youtubeVideo(ad);
          if (videoId) uploaded.set(videoAssetName(ad.name), videoId);
        } catch (err) {
          // The failed upload is in the audit (upload_youtube_video); the image still runs.
          if (!(err instanceof PlatformError) || err.kind === 'auth') throw err;
          // YouTube's quota is spent for the day: the rest wait for a later deploy.
          if (err.kind === 'throttled') break;
        }
      }
      const ready = await processedVideos(uploaded);
      if (ready.size === 0 && refused.size === 0) return;
      const made =
        ready.size === 0
          ? { ids: new Map<string, string>() }
          : await createMissing(
              [...ready.keys()],
              () => google.findAssetsByName([...ready.keys()]),
              (missing) =>
                audit.many(
                  missing.map((name) => ({
                    platform: 'google' as const,
                    operation: 'create_video_asset',
                    kind: 'asset',
                    name,
                  })),
                  () =>
                    google.createVideoAssets(
                      missing.map((name) => ({ name, youtubeVideoId: ready.get(name)! })),
                    ),
                  (r) => missing.map((n) => itemOf(r.get(n))),
                ),
              deps,
            );
      await relink(
        { id: adSet.id, name: adSet.name },
        {
          add: { images: [], videos: [...ready.keys()].flatMap((n) => made.ids.get(n) ?? []) },
          remove: refused,
        },
        () => appAdText(accounts.appName, ads),
        'link_videos',
      );
    },

    async setStatus(ads, status) {
      if (ads.length === 0) return;
      // Per ad group: one update of its app ad's lists.
      const groups = new Map<string, { group: { id: string; name: string }; ads: typeof ads }>();
      for (const a of ads) {
        const group = await adGroupOf(a.name);
        const g = groups.get(group.id) ?? { group, ads: [] };
        g.ads.push(a);
        groups.set(group.id, g);
      }
      for (const { group, ads: mine } of groups.values()) {
        const videos = await google.findAssetsByName(mine.map((a) => videoAssetName(a.name)));
        const ids = mine.flatMap((a) => [
          a.id,
          ...(videos.has(videoAssetName(a.name)) ? [videos.get(videoAssetName(a.name))!] : []),
        ]);
        const on = status === 'active';
        const videoIds = new Set(videos.values());
        await relink(
          group,
          on
            ? {
                add: { images: mine.map((a) => a.id), videos: ids.filter((i) => videoIds.has(i)) },
                remove: new Set(),
              }
            : { add: { images: [], videos: [] }, remove: new Set(ids) },
          () => ({
            headlines: [fitGoogleText(accounts.appName, 30)],
            descriptions: [fitGoogleText(accounts.appName, 90)],
          }),
          on ? 'link_assets' : 'unlink_assets',
        );
      }
    },

    // Google refuses a second campaign, budget or ad group of one name (see the top of the file):
    // there are no twins to remove.
    removeObjectTwins: () => Promise.resolve(0),

    async activateAdSet(m, adSet) {
      const group = await google.findByName('ad_group', adSet.name);
      if (!group?.campaignId)
        throw new PlatformError('google', 'invalid', `ad group ${adSet.name} not found`);
      const ad = await google.appAd(adSet.id);
      if (ad && ad.status !== 'ENABLED')
        await audit.write(
          { platform: 'google', operation: 'enable_app_ad', kind: 'ad_group_ad', name: adSet.name },
          () => google.setAppAdStatus(adSet.id, ad.adId, 'ENABLED'),
          () => ad.adId,
        );
      await setRecordedStatus(deps, {
        platform: 'google',
        kind: 'adset',
        operation: 'enable_ad_group',
        market: m,
        objects: [adSet],
        status: 'ENABLED',
        write: () => google.setStatus('ad_group', [adSet.id], 'ENABLED'),
        already: group.status === 'ENABLED',
      });
      const campaign = await google.findByName('campaign', adSet.name);
      if (!campaign || campaign.id !== group.campaignId)
        throw new PlatformError('google', 'invalid', `campaign ${adSet.name} not found`);
      await setRecordedStatus(deps, {
        platform: 'google',
        kind: 'campaign',
        operation: 'enable_campaign',
        market: m,
        objects: [{ id: campaign.id, name: adSet.name }],
        status: 'ENABLED',
        write: () => google.setStatus('campaign', [campaign.id], 'ENABLED'),
        already: campaign.status === 'ENABLED',
      });
    },

    disableAdSets: (m, adSets) =>
      setRecordedStatus(deps, {
        platform: 'google',
        kind: 'adset',
        operation: 'pause_ad_group',
        market: m,
        objects: adSets,
        status: 'PAUSED',
        write: () =>
          google.setStatus(
            'ad_group',
            adSets.map((g) => g.id),
            'PAUSED',
          ),
      }),
  };
}
