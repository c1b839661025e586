// The daily loop's heuristic as a policy sees it, through the loop's own ranking code: shared by
// the heuristic policy and by the learning policy until its first champion (no simulator here).
import type { ArtistInfo } from '../../ml/features.ts';
import { buildCandidates, registrationShares } from '../../decisions/rank/candidates.ts';
import { rankHeuristic, type HeuristicWeights } from '../../decisions/rank/heuristic.ts';
import { HEURISTIC_DEPTH } from './slate.ts';

export interface HeuristicInput {
  artists: readonly ArtistInfo[];
  templateIds: readonly string[];
  /** Per-creative registrations over the heuristic's lookback window. */
  observed: ReadonlyArray<{ artistId: string; registrations: number }>;
  slots: number;
}

/** The heuristic's ranking, read `HEURISTIC_DEPTH` times the slots deep. */
export function heuristicPicks(ctx: HeuristicInput, weights?: HeuristicWeights) {
  const shares = registrationShares(ctx.observed);
  return rankHeuristic(
    buildCandidates(ctx.artists, ctx.templateIds, shares),
    ctx.slots * HEURISTIC_DEPTH,
    weights,
  );
}
