// Deploy stage: put each rendered creative live as an ad in the market's ad set, and pause the
// adloop ads that fell out of the ranking. Every write is keyed by a deterministic name and looked
// up before it is made, in our database first and then on the platform, so a retry (even after
// the platform accepted a write whose response was lost) never creates a second object.
import { Context } from '@temporalio/activity';
import fs from 'node:fs';
import {
  metaAdName,
  metaAdSetName,
  metaCampaignName,
  metaCreativeName,
  parseMetaAdName,
} from '../../core/ids.ts';
import { deepLink } from '../../core/tracking.ts';
import type { DeployResult, MarketLoopInput, RenderedCreative } from '../../core/types.ts';
import { getArtists, getMarket } from '../../db/catalog.repository.ts';
import { findPlatformObject, savePlatformObject } from '../../db/creatives.repository.ts';
import type { PlatformObject } from '../../db/creatives.table.ts';
import type { ActivityDeps } from '../deps.ts';
import { withStage } from '../stage.ts';

export interface DeployInput extends MarketLoopInput {
  creatives: RenderedCreative[];
}

export function createDeployActivities({ db, meta, config, renderer }: ActivityDeps) {
  /** Finds a platform object by name (DB, then platform) or creates it; records it in the DB. */
  async function ensure(
    kind: PlatformObject['kind'] & ('campaign' | 'adset' | 'creative' | 'ad'),
    name: string,
    market: string,
    create: () => Promise<string>,
    creativeHash: string | null = null,
  ): Promise<{ id: string; created: boolean; status?: string | undefined }> {
    const known = await findPlatformObject(db, { platform: 'meta', kind, name });
    if (known) return { id: known.external_id, created: false, status: known.status ?? undefined };
    const edge = (
      { campaign: 'campaigns', adset: 'adsets', creative: 'adcreatives', ad: 'ads' } as const
    )[kind];
    const found = await meta.findByName(edge, name);
    const id = found?.id ?? (await create());
    await savePlatformObject(db, {
      platform: 'meta',
      kind,
      name,
      externalId: id,
      market,
      creativeHash,
      status: found?.status ?? 'ACTIVE',
    });
    return { id, created: !found, status: found?.status };
  }

  return {
    async deployCreatives({ market, creatives }: DeployInput): Promise<DeployResult> {
      return withStage(
        db,
        'deploy',
        async () => {
          const m = await getMarket(db, market);
          if (!m)
            throw new Error(`market ${market} is not in the database; ingest the catalog first`);
          const artists = new Map(
            (
              await getArtists(
                db,
                creatives.map((c) => c.artistId),
              )
            ).map((a) => [a.id, a]),
          );
          const campaign = await ensure('campaign', metaCampaignName(market), market, () =>
            meta.createCampaign({ name: metaCampaignName(market) }),
          );
          const adset = await ensure('adset', metaAdSetName(market), market, () =>
            meta.createAdSet({
              name: metaAdSetName(market),
              campaignId: campaign.id,
              country: market,
              dailyBudget: config.META_DAILY_BUDGET,
            }),
          );
          let created = 0;
          let reused = 0;
          for (const [n, c] of creatives.entries()) {
            Context.current().heartbeat({ deployed: n });
            const artist = artists.get(c.artistId);
            if (!artist)
              throw new Error(`artist ${c.artistId} of creative ${c.hash} is not in the catalog`);
            const ad = await ensure(
              'ad',
              metaAdName(market, c.hash),
              market,
              async () => {
                // From the creative store (local or S3); runs from before the store read the path.
                const bytes = c.assetKey
                  ? await renderer.store.get(c.assetKey)
                  : await fs.promises.readFile(c.path);
                const ext = c.format === 'png' ? 'png' : c.assetKey ? 'jpg' : 'png';
                const { hash: imageHash } = await meta.uploadImage(bytes, `${c.hash}.${ext}`);
                const creative = await ensure(
                  'creative',
                  metaCreativeName(market, c.hash),
                  market,
                  () =>
                    meta.createCreative({
                      name: metaCreativeName(market, c.hash),
                      imageHash,
                      link: deepLink({
                        platform: 'meta',
                        market,
                        artistId: c.artistId,
                        templateId: c.templateId,
                      }),
                      message: c.adText?.message ?? artist.name,
                      headline: c.adText?.headline ?? artist.name,
                    }),
                  c.hash,
                );
                return meta.createAd({
                  name: metaAdName(market, c.hash),
                  adsetId: adset.id,
                  creativeId: creative.id,
                });
              },
              c.hash,
            );
            if (ad.created) created++;
            else reused++;
          }

          // Rotation: the ad set's adloop ads are exactly today's creatives; others are paused.
          const wanted = new Set(creatives.map((c) => c.hash));
          let paused = 0;
          const adIds: string[] = [];
          for (const live of await meta.listAds(adset.id)) {
            const parsed = parseMetaAdName(live.name);
            if (!parsed || parsed.market !== market) continue; // not ours: leave it alone
            const want = wanted.has(parsed.creativeHash) ? 'ACTIVE' : 'PAUSED';
            if (want === 'ACTIVE') adIds.push(live.id);
            if (live.status !== want) {
              await meta.setAdStatus(live.id, want);
              if (want === 'PAUSED') paused++;
            }
            await savePlatformObject(db, {
              platform: 'meta',
              kind: 'ad',
              name: live.name,
              externalId: live.id,
              market,
              creativeHash: parsed.creativeHash,
              status: want,
            });
          }
          return { created, reused, paused, adIds: adIds.sort() };
        },
        (r) => ({ created: r.created, reused: r.reused, paused: r.paused }),
      );
    },
  };
}
