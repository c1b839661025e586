// Meta as a deploy target: one campaign per market, one ad set per segment, one ad creative per
// creative (shared by the market's ad sets), and ads. Creates and status changes go out as batch
// requests of at most 50 calls; the client paces them by the account's usage header.
import fs from 'node:fs';
import {
  adSetName,
  metaCampaignName,
  metaCreativeName,
  parseAdName,
  type AdSetSegment,
} from '../../core/ids.ts';
import type { RenderedCreative } from '../../core/types.ts';
import { savePlatformObject } from '../../db/creatives.repository.ts';
import type { PlatformError } from '../../platforms/errors.ts';
import type { BatchResult, MetaAds } from '../../platforms/meta/meta-ads.ts';
import type { CreativeStore } from '../../render/storage.ts';
import type { CurrentAd } from './plan.ts';
import {
  createMissing,
  ensureObject,
  knownAdSets,
  type AdSetRef,
  type DeployTarget,
  type TargetDeps,
} from './target.ts';

/** Meta's cap on ads in an ad set that are not archived or deleted. */
export const META_ADS_PER_ADSET = 50;

const STATUS = { active: 'ACTIVE', paused: 'PAUSED', archived: 'ARCHIVED' } as const;

/** Bytes of the asset a platform gets (runs from before per-platform assets used `assetKey`). */
export async function assetBytes(
  store: CreativeStore,
  c: RenderedCreative,
  platform: 'meta' | 'tiktok',
): Promise<{ bytes: Buffer; format: string; kind: 'static' | 'motion' }> {
  const asset = c.platformAssets?.[platform];
  if (asset) return { bytes: await store.get(asset.key), format: asset.format, kind: asset.kind };
  const bytes = c.assetKey ? await store.get(c.assetKey) : await fs.promises.readFile(c.path);
  return { bytes, format: c.format ?? 'png', kind: 'static' };
}

function batchItems(results: BatchResult[]) {
  return results.map((r) => ({
    externalId: r.id ?? null,
    ...(r.error ? { error: r.error.message } : {}),
  }));
}

export function metaTarget(deps: TargetDeps & { meta: MetaAds }): DeployTarget {
  const { meta, db, audit } = deps;

  const ensure = (
    kind: 'campaign' | 'adset',
    name: string,
    market: string,
    create: () => Promise<string>,
  ) =>
    ensureObject(deps, {
      platform: 'meta',
      kind,
      operation: `create_${kind}`,
      name,
      market,
      find: () => meta.findByName(kind === 'campaign' ? 'campaigns' : 'adsets', name),
      create,
      status: 'ACTIVE',
    });

  async function setStatuses(
    ads: Array<{ id: string; name: string }>,
    status: keyof typeof STATUS,
    kind = 'ad',
  ) {
    if (ads.length === 0) return;
    const results = await audit.many(
      ads.map((a) => ({
        platform: 'meta' as const,
        operation: `${status === 'active' ? 'resume' : status === 'paused' ? 'pause' : 'archive'}_${kind}`,
        kind,
        name: a.name,
        detail: { status: STATUS[status] },
      })),
      () =>
        meta.setStatuses(
          ads.map((a) => a.id),
          STATUS[status],
        ),
      batchItems,
    );
    const failed = results.find((r) => r.error);
    if (failed?.error) throw failed.error;
  }

  return {
    platform: 'meta',
    capacity: META_ADS_PER_ADSET,
    canArchive: true,

    findAdSets(market, segment) {
      const base = adSetName(market, segment);
      return knownAdSets(db, {
        platform: 'meta',
        market,
        base,
        find: () => meta.findByName('adsets', base),
      });
    },

    async ensureAdSet(market: string, segment: AdSetSegment): Promise<AdSetRef> {
      const campaignName = metaCampaignName(market);
      const campaignId = await ensure('campaign', campaignName, market, () =>
        meta.createCampaign({ name: campaignName }),
      );
      const name = adSetName(market, segment);
      const id = await ensure('adset', name, market, () =>
        meta.createAdSet({
          name,
          campaignId,
          country: market,
          dailyBudget: deps.dailyBudget,
          ...(segment.os !== 'all' ? { os: segment.os } : {}),
          objective: segment.objective,
        }),
      );
      return { id, name, generation: 1 };
    },

    async listAds(adSet) {
      const out: CurrentAd[] = [];
      for (const ad of await meta.listAds(adSet.id)) {
        const parsed = parseAdName(ad.name);
        if (!parsed) continue; // not adloop's: left alone
        out.push({
          id: ad.id,
          name: ad.name,
          creativeHash: parsed.creativeHash,
          createdDate: parsed.date,
          status:
            ad.status === 'ACTIVE' ? 'active' : ad.status === 'PAUSED' ? 'paused' : 'archived',
          review: ad.review,
          reviewReason: ad.reviewReason,
        });
      }
      return out;
    },

    async createAds(adSet, market, ads) {
      // Ad creatives first: one per creative, found by name when an earlier attempt made it.
      const byCreative = new Map(ads.map((a) => [metaCreativeName(market, a.creative.hash), a]));
      const listCreatives = async () =>
        new Map(
          (await meta.listByName('adcreatives', `adloop/${market}/creative/`))
            .filter((c) => byCreative.has(c.name))
            .map((c) => [c.name, c.id]),
        );
      const imageHashes = new Map<string, string>();
      const creativeIds = await createMissing(
        [...byCreative.keys()],
        listCreatives,
        async (missing) => {
          const params: Array<Record<string, unknown>> = [];
          for (const name of missing) {
            const ad = byCreative.get(name)!;
            let imageHash = imageHashes.get(name);
            if (!imageHash) {
              const { bytes, format } = await assetBytes(deps.store, ad.creative, 'meta');
              // Uploading the same bytes again gives the same hash: the upload is idempotent.
              imageHash = (
                await audit.write(
                  {
                    platform: 'meta',
                    operation: 'upload_image',
                    kind: 'image',
                    name: ad.creative.hash,
                    detail: { bytes: bytes.length },
                  },
                  () =>
                    meta.uploadImage(
                      bytes,
                      `${ad.creative.hash}.${format === 'jpeg' ? 'jpg' : format}`,
                    ),
                  (r) => r.hash,
                )
              ).hash;
              imageHashes.set(name, imageHash);
            }
            params.push(
              meta.creativeParams({
                name,
                imageHash,
                link: ad.link,
                message: ad.message,
                headline: ad.headline,
              }),
            );
          }
          const results = await audit.many(
            missing.map((name) => ({
              platform: 'meta' as const,
              operation: 'create_creative',
              kind: 'creative',
              name,
            })),
            () => meta.createMany('adcreatives', params),
            batchItems,
          );
          return new Map(missing.map((name, i) => [name, results[i]!.id ?? results[i]!.error]));
        },
      );
      for (const [name, id] of creativeIds)
        await savePlatformObject(db, {
          platform: 'meta',
          kind: 'creative',
          name,
          externalId: id,
          market,
          creativeHash: byCreative.get(name)!.creative.hash,
        });

      // Then the ads, looked up in the ad set by name.
      const byName = new Map(ads.map((a) => [a.name, a]));
      const listAds = async () =>
        new Map(
          (await meta.listAds(adSet.id))
            .filter((a) => byName.has(a.name))
            .map((a) => [a.name, a.id]),
        );
      return createMissing([...byName.keys()], listAds, async (missing) => {
        const results = await audit.many(
          missing.map((name) => ({
            platform: 'meta' as const,
            operation: 'create_ad',
            kind: 'ad',
            name,
            detail: { adSet: adSet.name, creative: byName.get(name)!.creative.hash },
          })),
          () =>
            meta.createMany(
              'ads',
              missing.map((name) =>
                meta.adParams({
                  name,
                  adsetId: adSet.id,
                  creativeId: creativeIds.get(
                    metaCreativeName(market, byName.get(name)!.creative.hash),
                  )!,
                }),
              ),
            ),
          batchItems,
        );
        return new Map<string, string | PlatformError>(
          missing.map((name, i) => [name, results[i]!.id ?? results[i]!.error]),
        );
      });
    },

    setStatus: (ads, status) => setStatuses(ads, status),

    disableAdSets: (adSets) => setStatuses(adSets, 'paused', 'adset'),
  };
}
