// Which ranked candidates are rendered for deploy. Each platform's review judges creatives on its
// own: one TikTok rejects may run on Meta. Taking the top ADS_PER_MARKET + DEPLOY_SPARES for every
// platform alike left a platform short once its rejections used up the spares (a demo market ran
// five ads instead of six for three days after one TikTok rejection), so the walk down the ranking
// goes on until every platform has its slots and spares among candidates it has not rejected. Pure.
import type { RankedItem } from '../../core/types.ts';
import { pairKey } from '../../core/ids.ts';

/** What selection reads of a ranked item: its artist and template. */
export type Selectable = Pick<RankedItem, 'artistId' | 'templateId'>;

export interface DeploySelectionInput<T extends Selectable = RankedItem> {
  /** The ranking, best first. */
  items: readonly T[];
  /** Platform -> artist x template pairs (pairKey) its review rejected in this market. */
  rejected: ReadonlyMap<string, ReadonlySet<string>>;
  /** The platforms deploy writes to. */
  platforms: readonly string[];
  /** Live ads wanted per ad set (ADS_PER_MARKET). */
  slots: number;
  /** Extra candidates per platform for rejections and QA failures still to come (DEPLOY_SPARES). */
  spares: number;
  /** Most live ads of one artist per ad set (ADS_PER_ARTIST). Default 1. */
  perArtist?: number;
  /** Most candidates rendered, however many were rejected. Default 3 x (slots + spares). */
  max?: number;
}

/** The ranked items to render, in rank order. */
export function selectForDeploy<T extends Selectable>(o: DeploySelectionInput<T>): T[] {
  const want = o.slots + o.spares;
  const max = o.max ?? 3 * want;
  const perArtist = o.perArtist ?? 1;
  const have = new Map(o.platforms.map((p) => [p, 0]));
  // Per platform, how many of each artist's creatives count toward its slots: past `perArtist`
  // an artist's further creatives cannot go live next to the others (the plan skips them).
  const byArtist = new Map(o.platforms.map((p) => [p, new Map<string, number>()]));
  const done = () => [...have.values()].every((n) => n >= want);
  const out: T[] = [];
  for (const item of o.items) {
    if (out.length >= max || (out.length >= want && done())) break;
    const key = pairKey(item.artistId, item.templateId);
    const room = o.platforms.filter((p) => (byArtist.get(p)!.get(item.artistId) ?? 0) < perArtist);
    // An artist with its share of every ad set already: its further creatives are passed over.
    if (o.platforms.length > 0 && room.length === 0) continue;
    const usable = room.filter((p) => !o.rejected.get(p)?.has(key));
    // Past the first `want`, an item is taken only if some platform still short can use it.
    if (out.length >= want && !usable.some((p) => have.get(p)! < want)) continue;
    out.push(item);
    for (const p of usable) {
      have.set(p, have.get(p)! + 1);
      byArtist.get(p)!.set(item.artistId, (byArtist.get(p)!.get(item.artistId) ?? 0) + 1);
    }
  }
  return out;
}
