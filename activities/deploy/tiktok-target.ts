// TikTok as a deploy target: one campaign per market, ad groups per segment, ads carrying their
// media directly (TikTok has no separate creative object). An ad group holds at most 50 ads that
// are not deleted, disabled ones included, so a full one is rolled over to the segment's next
// ad group (see plan.ts). Up to 20 ads go out per ad/create call and 20 ids per status update;
// the client's token buckets keep the calls under TikTok's per-second and per-minute quotas.
// Everything is app install: an ad group promotes one store's app (segments are ios or android),
// its ads carry the advertiser's identity, the artist's deep link and the MMP's tracking link, and
// a video ad a cover image made from the video. Campaign, ad groups and ads are created paused;
// activateAdSet switches the ad group and campaign on once deploy is done.
import { artistDeepLink, type AppOs } from '../../core/accounts.ts';
import { adSetName, metaCampaignName, parseAdName, type AdSetSegment } from '../../core/ids.ts';
import { PlatformError } from '../../platforms/errors.ts';
import {
  TIKTOK_MAX_ADS_PER_CREATE,
  type TikTokAdCreative,
  type TikTokAds,
} from '../../platforms/tiktok/tiktok-ads.ts';
import type { CurrentAd } from '../../decisions/deploy/plan.ts';
import { videoCover } from './video-cover.ts';
import {
  adSetBudgetMinor,
  assetBytes,
  createMissing,
  ensureObject,
  knownAdSets,
  type AdSetRef,
  type DeployTarget,
  setRecordedStatus,
  type TargetDeps,
} from './target.ts';

/** TikTok's cap on ads in an ad group that are not deleted. */
export const TIKTOK_ADS_PER_ADGROUP = 50;
/** TikTok's limit on ad text. */
const MAX_AD_TEXT = 100;

/** Fits text into TikTok's 100 characters, cutting at a word where one is near. */
export function tiktokAdText(text: string): string {
  const chars = [...text];
  if (chars.length <= MAX_AD_TEXT) return text;
  const cut = chars.slice(0, MAX_AD_TEXT - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${space > MAX_AD_TEXT * 0.6 ? cut.slice(0, space) : cut}…`;
}

/** The OS of an ad group from its name (adloop/<market>/<os>/<objective>[#n]). */
const osOfAdSet = (name: string): AppOs | null =>
  (/^adloop\/[A-Z]{2}\/(ios|android)\//.exec(name)?.[1] as AppOs | undefined) ?? null;

type Media = { imageId: string } | { videoId: string; coverImageId: string };

export function tiktokTarget(deps: TargetDeps & { tiktok: TikTokAds }): DeployTarget {
  const { tiktok, db, audit, accounts } = deps;
  const market = accounts.market;
  const advertiser = () => {
    if (!accounts.tiktok)
      throw new PlatformError(
        'tiktok',
        'invalid',
        `no TikTok advertiser runs ${market} (accounts)`,
      );
    return accounts.tiktok;
  };

  // Uploaded media by creative hash, shared by every ad group of this deploy (the iOS and the
  // Android ad group show the same creatives): each file is uploaded once.
  const media = new Map<string, Media>();

  const ensure = (
    kind: 'campaign' | 'adset',
    name: string,
    market: string,
    create: () => Promise<string>,
  ) =>
    ensureObject(deps, {
      platform: 'tiktok',
      kind,
      operation: kind === 'campaign' ? 'create_campaign' : 'create_adgroup',
      name,
      market,
      find: () => tiktok.findByName(kind === 'campaign' ? 'campaign' : 'adgroup', name),
      create,
      // Created paused: activateAdSet switches them on.
      status: 'DISABLE',
    });

  /** Each ad group's daily budget, in the advertiser's currency as TikTok reports it. */
  async function budget(market: string): Promise<{ minor: number; currency: string }> {
    const { currency } = await tiktok.advertiser();
    const where = `markets.${market}.dailyBudget.tiktok`;
    return {
      minor: adSetBudgetMinor(deps.allocated, advertiser().dailyBudget, currency, where),
      currency,
    };
  }

  return {
    platform: 'tiktok',
    capacity: TIKTOK_ADS_PER_ADGROUP,
    canArchive: false,
    settleMs: deps.settleMs,

    findAdSets: (market, segment) =>
      knownAdSets(db, {
        platform: 'tiktok',
        market,
        segment,
        find: (name) => tiktok.findByName('adgroup', name),
      }),

    dailyBudget: (market) => budget(market),

    async readBudget(adSet) {
      const group = await tiktok.getAdGroup(adSet.id);
      if (!group)
        throw new PlatformError(
          'tiktok',
          'invalid',
          `ad group ${adSet.name} (${adSet.id}) not found`,
        );
      return group.dailyBudget;
    },

    setBudget: (_market, adSet, minor) =>
      deps.audit.write(
        {
          platform: 'tiktok',
          operation: 'update_adgroup_budget',
          kind: 'adset',
          name: adSet.name,
          detail: {
            dailyBudgetMinor: minor,
            ...(deps.allocated && { reason: deps.allocated.reason }),
          },
        },
        () => tiktok.updateAdGroupBudget(adSet.id, minor),
        () => adSet.id,
      ),

    async ensureAdSet(
      market: string,
      segment: AdSetSegment,
      generation: number,
    ): Promise<AdSetRef> {
      if (segment.os === 'all')
        throw new PlatformError(
          'tiktok',
          'invalid',
          `TikTok app-install ad groups promote one store: deploy ${market} with segments ios and android, not all`,
        );
      const os = segment.os;
      const account = advertiser();
      const appId = account.appIds[os];
      if (!appId)
        throw new PlatformError(
          'tiktok',
          'invalid',
          `no TikTok app id for ${os} in advertiser ${account.advertiserId} (accounts appIds.${os})`,
        );
      const { minor: dailyBudget } = await budget(market);
      const campaignName = metaCampaignName(market);
      const campaignId = await ensure('campaign', campaignName, market, () =>
        tiktok.createCampaign({ name: campaignName }),
      );
      const name = adSetName(market, segment, generation);
      const id = await ensure('adset', name, market, () =>
        tiktok.createAdGroup({
          name,
          campaignId,
          country: market,
          dailyBudget,
          os,
          appId,
          objective: segment.objective,
        }),
      );
      return { id, name, generation };
    },

    async listAds(adSet) {
      const rows = (await tiktok.listAds(adSet.id)).filter((r) => parseAdName(r.name));
      const rejected = rows.filter((r) => r.review === 'rejected').map((r) => r.id);
      const reasons =
        rejected.length > 0 ? await tiktok.rejectReasons(rejected) : new Map<string, string>();
      return rows.map((r): CurrentAd => {
        const parsed = parseAdName(r.name)!;
        return {
          id: r.id,
          name: r.name,
          creativeHash: parsed.creativeHash,
          createdDate: parsed.date,
          status: r.status === 'ENABLE' ? 'active' : 'paused',
          review: r.review,
          reviewReason: r.review === 'rejected' ? (reasons.get(r.id) ?? 'not approved') : null,
        };
      });
    },

    async createAds(adSet, _market, ads) {
      const os = osOfAdSet(adSet.name);
      if (!os)
        throw new PlatformError(
          'tiktok',
          'invalid',
          `${adSet.name} is not an ios or android ad group`,
        );
      const app = accounts.apps[os];
      const identity = advertiser().identity;
      const byName = new Map(ads.map((a) => [a.name, a]));
      const uploadImage = (name: string, bytes: Buffer, file: string) =>
        audit.write(
          {
            platform: 'tiktok',
            operation: 'upload_image',
            kind: 'image',
            name,
            detail: { bytes: bytes.length },
          },
          async () => (await tiktok.uploadImage(bytes, file)).imageId,
          (id) => id,
        );
      const listAds = async () =>
        new Map(
          (await tiktok.listAds(adSet.id))
            .filter((a) => byName.has(a.name))
            .map((a) => [a.name, a.id]),
        );
      return createMissing(
        [...byName.keys()],
        listAds,
        async (missing) => {
          const creatives: TikTokAdCreative[] = [];
          for (const name of missing) {
            const ad = byName.get(name)!;
            const hash = ad.creative.hash;
            let m = media.get(hash);
            if (!m) {
              const { bytes, format, kind } = await assetBytes(deps.store, ad.creative, 'tiktok');
              const file = `${hash}.${kind === 'motion' ? 'mp4' : format === 'jpeg' ? 'jpg' : format}`;
              let uploaded: Media;
              if (kind === 'motion') {
                const videoId = await audit.write(
                  {
                    platform: 'tiktok',
                    operation: 'upload_video',
                    kind: 'video',
                    name: hash,
                    detail: { bytes: bytes.length },
                  },
                  async () => (await tiktok.uploadVideo(bytes, file)).videoId,
                  (id) => id,
                );
                // The cover: the video's last frame (its still), at the video's own ratio.
                const cover = await videoCover(bytes);
                const coverImageId = await uploadImage(`${hash}/cover`, cover, `${hash}-cover.jpg`);
                uploaded = { videoId, coverImageId };
              } else uploaded = { imageId: await uploadImage(hash, bytes, file) };
              media.set(hash, uploaded);
              m = uploaded;
            }
            creatives.push({
              name,
              // An app ad opens the store (the ad group's app_id) or, installed, the deep link: no web
              // landing page (Ads/Create_ads requires one only outside app ad groups).
              text: tiktokAdText(ad.message),
              identity,
              ...(app ? { deepLink: artistDeepLink(app, ad.creative.artistId) } : {}),
              ...(accounts.trackingLinks[os] ? { trackingUrl: accounts.trackingLinks[os] } : {}),
              callToAction: 'INSTALL_NOW',
              ...m,
            });
          }
          // Up to 20 ads per ad/create call, each call audited on its own; a call that fails in
          // transit fails only its own ads (createMissing looks them up before retrying).
          const out = new Map<string, string | PlatformError>();
          for (let i = 0; i < missing.length; i += TIKTOK_MAX_ADS_PER_CREATE) {
            const names = missing.slice(i, i + TIKTOK_MAX_ADS_PER_CREATE);
            try {
              const ids = await audit.many(
                names.map((name) => ({
                  platform: 'tiktok' as const,
                  operation: 'create_ad',
                  kind: 'ad',
                  name,
                  detail: { adGroup: adSet.name, creative: byName.get(name)!.creative.hash },
                })),
                () => tiktok.createAds(adSet.id, creatives.slice(i, i + TIKTOK_MAX_ADS_PER_CREATE)),
                (r) => r.map((id) => ({ externalId: id })),
              );
              names.forEach((name, j) => out.set(name, ids[j]!));
            } catch (err) {
              if (!(err instanceof PlatformError) || !err.retryable) throw err;
              for (const name of names) out.set(name, err);
            }
          }
          return out;
        },
        deps,
      );
    },

    async setStatus(ads, status) {
      if (ads.length === 0) return;
      if (status === 'archived')
        throw new Error('TikTok ads cannot be archived; ad groups roll over instead');
      const to = ({ active: 'ENABLE', paused: 'DISABLE', deleted: 'DELETE' } as const)[status];
      const verb = ({ active: 'resume', paused: 'pause', deleted: 'delete' } as const)[status];
      await audit.many(
        ads.map((a) => ({
          platform: 'tiktok' as const,
          operation: `${verb}_ad`,
          kind: 'ad',
          name: a.name,
          detail: { status: to },
        })),
        () =>
          tiktok.setAdStatuses(
            ads.map((a) => a.id),
            to,
          ),
        () => ads.map((a) => ({ externalId: a.id })),
      );
    },

    // TikTok has no twins of these: adloop creates each with a request_id derived from its name,
    // and TikTok refuses a second create of a name under the same request_id ("Campaign name
    // already exists", [page Campaign/Create_a_campaign] request_id; sandbox checkUniqueName).
    removeObjectTwins: () => Promise.resolve(0),

    async activateAdSet(market, adSet) {
      const group = await tiktok.getAdGroup(adSet.id);
      if (!group) throw new PlatformError('tiktok', 'invalid', `ad group ${adSet.name} not found`);
      await setRecordedStatus(deps, {
        platform: 'tiktok',
        kind: 'adset',
        operation: 'enable_adgroup',
        market,
        objects: [adSet],
        status: 'ENABLE',
        write: () => tiktok.setAdGroupStatus([adSet.id], 'ENABLE'),
        already: group.status === 'ENABLE',
      });
      const campaignName = metaCampaignName(market);
      const campaign = await tiktok.findByName('campaign', campaignName);
      if (!campaign || campaign.id !== group.campaignId)
        throw new PlatformError('tiktok', 'invalid', `campaign ${campaignName} not found`);
      await setRecordedStatus(deps, {
        platform: 'tiktok',
        kind: 'campaign',
        operation: 'enable_campaign',
        market,
        objects: [{ id: campaign.id, name: campaignName }],
        status: 'ENABLE',
        write: () => tiktok.setCampaignStatus([campaign.id], 'ENABLE'),
        already: campaign.status === 'ENABLE',
      });
    },

    disableAdSets: (market, adSets) =>
      setRecordedStatus(deps, {
        platform: 'tiktok',
        kind: 'adset',
        operation: 'disable_adgroup',
        market,
        objects: adSets,
        status: 'DISABLE',
        write: () =>
          tiktok.setAdGroupStatus(
            adSets.map((g) => g.id),
            'DISABLE',
          ),
      }),
  };
}
