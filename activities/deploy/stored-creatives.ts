// A run's deployable creatives as deploy receives them, rebuilt from what the render stage stored
// (for tools that plan a deploy outside the workflow, like `npm run deploy:plan`).
import type { RenderedCreative } from '../../core/types.ts';
import { getCreativeAssets, listRunCreatives } from '../../db/creatives.repository.ts';
import type { Db } from '../../db/database.ts';
import { deployAssets } from '../render/render.ts';

export async function storedRunCreatives(
  db: Db,
  market: string,
  date: string,
): Promise<RenderedCreative[]> {
  const rows = (await listRunCreatives(db, date, [market])).filter((r) => r.deployable);
  const assets = await getCreativeAssets(
    db,
    rows.map((r) => r.hash),
  );
  return rows.map((r) => {
    const mine = assets
      .filter((a) => a.creative_hash === r.hash)
      .map((a) => ({
        asset: { key: a.storage_key, format: a.format, kind: a.kind, ratio: a.ratio },
        platforms: a.qa_platforms,
      }));
    const slots = deployAssets(mine);
    const first = slots.meta ?? slots.tiktok ?? slots.google ?? slots['google-video'];
    return {
      hash: r.hash,
      artistId: r.artist_id,
      templateId: r.template_id,
      path: r.path,
      ...(first ? { assetKey: first.key, format: first.format } : {}),
      platformAssets: slots,
    };
  });
}
