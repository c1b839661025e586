// TikTok as a deploy target: one campaign per market, ad groups per segment, ads carrying their
// media directly (TikTok has no separate creative object). An ad group holds at most 50 ads that
// are not deleted, disabled ones included, so a full one is rolled over to the segment's next
// ad group (see plan.ts). Up to 20 ads go out per ad/create call and 100 ids per status update;
// the client's token buckets keep the calls under TikTok's per-second and per-minute quotas.
import { adSetName, metaCampaignName, parseAdName, type AdSetSegment } from '../../core/ids.ts';
import { savePlatformObject } from '../../db/creatives.repository.ts';
import { PlatformError } from '../../platforms/errors.ts';
import {
  TIKTOK_MAX_ADS_PER_CREATE,
  type TikTokAdCreative,
  type TikTokAds,
} from '../../platforms/tiktok/tiktok-ads.ts';
import type { CurrentAd } from './plan.ts';
import {
  assetBytes,
  createMissing,
  ensureObject,
  knownAdSets,
  type AdSetRef,
  type DeployTarget,
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

export function tiktokTarget(deps: TargetDeps & { tiktok: TikTokAds }): DeployTarget {
  const { tiktok, db, audit } = deps;

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
      status: 'ENABLE',
    });

  return {
    platform: 'tiktok',
    capacity: TIKTOK_ADS_PER_ADGROUP,
    canArchive: false,

    findAdSets(market, segment) {
      const base = adSetName(market, segment);
      return knownAdSets(db, {
        platform: 'tiktok',
        market,
        base,
        find: () => tiktok.findByName('adgroup', base),
      });
    },

    async ensureAdSet(
      market: string,
      segment: AdSetSegment,
      generation: number,
    ): Promise<AdSetRef> {
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
          dailyBudget: deps.dailyBudget,
          ...(segment.os !== 'all' ? { os: segment.os } : {}),
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
      const byName = new Map(ads.map((a) => [a.name, a]));
      const media = new Map<string, { imageId: string } | { videoId: string }>();
      const listAds = async () =>
        new Map(
          (await tiktok.listAds(adSet.id))
            .filter((a) => byName.has(a.name))
            .map((a) => [a.name, a.id]),
        );
      return createMissing([...byName.keys()], listAds, async (missing) => {
        const creatives: TikTokAdCreative[] = [];
        for (const name of missing) {
          const ad = byName.get(name)!;
          const hash = ad.creative.hash;
          let m = media.get(hash);
          if (!m) {
            const { bytes, format, kind } = await assetBytes(deps.store, ad.creative, 'tiktok');
            const file = `${hash}.${kind === 'motion' ? 'mp4' : format === 'jpeg' ? 'jpg' : format}`;
            const uploaded: { imageId: string } | { videoId: string } =
              kind === 'motion'
                ? await audit.write(
                    {
                      platform: 'tiktok',
                      operation: 'upload_video',
                      kind: 'video',
                      name: hash,
                      detail: { bytes: bytes.length },
                    },
                    async () => ({ videoId: (await tiktok.uploadVideo(bytes, file)).videoId }),
                    (r) => r.videoId,
                  )
                : await audit.write(
                    {
                      platform: 'tiktok',
                      operation: 'upload_image',
                      kind: 'image',
                      name: hash,
                      detail: { bytes: bytes.length },
                    },
                    async () => ({ imageId: (await tiktok.uploadImage(bytes, file)).imageId }),
                    (r) => r.imageId,
                  );
            media.set(hash, uploaded);
            m = uploaded;
          }
          creatives.push({ name, landingPageUrl: ad.link, text: tiktokAdText(ad.message), ...m });
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
      });
    },

    async setStatus(ads, status) {
      if (ads.length === 0) return;
      if (status === 'archived')
        throw new Error('TikTok ads cannot be archived; ad groups roll over instead');
      await audit.many(
        ads.map((a) => ({
          platform: 'tiktok' as const,
          operation: status === 'active' ? 'resume_ad' : 'pause_ad',
          kind: 'ad',
          name: a.name,
          detail: { status: status === 'active' ? 'ENABLE' : 'DISABLE' },
        })),
        () =>
          tiktok.setAdStatuses(
            ads.map((a) => a.id),
            status === 'active' ? 'ENABLE' : 'DISABLE',
          ),
        () => ads.map((a) => ({ externalId: a.id })),
      );
    },

    async disableAdSets(market, adSets) {
      if (adSets.length === 0) return;
      await audit.many(
        adSets.map((g) => ({
          platform: 'tiktok' as const,
          operation: 'disable_adgroup',
          kind: 'adset',
          name: g.name,
        })),
        () =>
          tiktok.setAdGroupStatus(
            adSets.map((g) => g.id),
            'DISABLE',
          ),
        () => adSets.map((g) => ({ externalId: g.id })),
      );
      for (const g of adSets)
        await savePlatformObject(db, {
          platform: 'tiktok',
          kind: 'adset',
          name: g.name,
          externalId: g.id,
          market,
          status: 'DISABLE',
        });
    },
  };
}
