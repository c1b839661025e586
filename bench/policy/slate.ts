// The slate deploy makes of a policy's picks, as production's deploy does (no simulator here: the
// learning policy imports this and must not reach the hidden truth).
import { selectForDeploy } from '../../decisions/rank/deploy-selection.ts';
import { pairKey } from '../../core/ids.ts';

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
 * The slate deploy makes of a policy's picks, with production's selection
 * (decisions/rank/deploy-selection.ts, one ad set, no spares): the first `slots` in order,
 * passing over an artist's picks once it has `perArtist` and over pairs review has rejected
 * (`rejected`, by pairKey).
 */
export function slateOf<T extends Pick>(
  picks: readonly T[],
  slots: number,
  perArtist: number,
  rejected: ReadonlySet<string> = new Set(),
): T[] {
  return selectForDeploy({
    // Production's deploy plan skips a rejected creative; selection alone would still render it.
    items: picks.filter((p) => !rejected.has(pairKey(p.artistId, p.templateId))),
    rejected: new Map(),
    platforms: ['sandbox'],
    slots,
    spares: 0,
    perArtist,
  });
}
