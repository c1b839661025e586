// Twins: two ads of one ad set under one adloop name. adloop names every ad deterministically and
// looks it up before creating it, so a twin can only come from a write that landed after its
// look-up: sent, unanswered, looked up (not there yet), created again, and then landed late. Deploy
// keeps one of each name and removes the rest before anything is switched on.

export interface NamedAd {
  id: string;
  name: string;
  status: 'active' | 'paused' | 'archived';
}

/** Platform ids grow with time: numeric strings compared as numbers, others as text. */
function olderId(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b))
    return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Splits an ad set's ads into one per name (`ads`, in the order given) and the twins to remove.
 * Of a name's ads it keeps, in this order of preference: one that is live (it is delivering, and
 * switching it off would restart its learning), the one adloop recorded (`recorded`: its ids), the
 * oldest.
 */
export function splitTwins<T extends NamedAd>(
  ads: readonly T[],
  recorded: ReadonlySet<string>,
): { ads: T[]; twins: T[] } {
  const keep = new Map<string, T>();
  const rank = (a: T) => (a.status === 'active' ? 0 : recorded.has(a.id) ? 1 : 2);
  for (const ad of ads) {
    const held = keep.get(ad.name);
    if (!held || rank(ad) < rank(held) || (rank(ad) === rank(held) && olderId(ad.id, held.id) < 0))
      keep.set(ad.name, ad);
  }
  const kept = new Set([...keep.values()].map((a) => a.id));
  return {
    ads: ads.filter((a) => kept.has(a.id)),
    twins: ads.filter((a) => !kept.has(a.id)),
  };
}

/**
 * Campaigns or ad sets under one adloop name on a platform that allows duplicate names (Meta
 * does; TikTok refuses a second create of a name under the same request_id): the one adloop
 * recorded and builds on is kept, every other one is a twin. Without the recorded one among them
 * nothing is a twin: which one is adloop's is not known.
 */
export function objectTwins<T extends { id: string }>(
  found: readonly T[],
  recordedId: string | undefined,
): T[] {
  if (recordedId === undefined || !found.some((o) => o.id === recordedId)) return [];
  return found.filter((o) => o.id !== recordedId);
}
