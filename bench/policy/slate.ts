// The slate deploy makes of a policy's picks, as production's deploy does (no simulator here: the
// learning policy imports this and must not reach the hidden truth).
/** One ad a policy picks: an artist in a template. */
export interface Pick {
  artistId: string;
  templateId: string;
}

/**
 * How far down its ranking the heuristic is read: deploy passes over an artist's further
 * templates (ADS_PER_ARTIST), so the slate may need more than `slots` ranked items.
 */
export const HEURISTIC_DEPTH = 4;

/**
 * The slate deploy makes of a policy's picks, as the deploy plan does: the first `slots` in order,
 * passing over an artist's picks once it has `perArtist` (decisions/deploy/plan.ts).
 */
export function slateOf(picks: readonly Pick[], slots: number, perArtist: number): Pick[] {
  const out: Pick[] = [];
  const count = new Map<string, number>();
  for (const p of picks) {
    if (out.length >= slots) break;
    const n = count.get(p.artistId) ?? 0;
    if (n >= perArtist) continue;
    count.set(p.artistId, n + 1);
    out.push(p);
  }
  return out;
}
