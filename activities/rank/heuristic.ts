// The heuristic ranker: popularity, share of registrations and diversity, weighted (one third
// each by default). Pure: the same inputs always give the same ranking.

export interface Candidate {
  artistId: string;
  genre: string;
  templateId: string;
  /** Artist popularity in the market, 0..1. */
  popularity: number;
  /** Share of the market's registrations the artist's creatives brought; null when never shown. */
  registrationShare: number | null;
}

export interface HeuristicWeights {
  popularity: number;
  registrationShare: number;
  diversity: number;
}

export const DEFAULT_WEIGHTS: HeuristicWeights = {
  popularity: 1 / 3,
  registrationShare: 1 / 3,
  diversity: 1 / 3,
};

export interface Scored {
  artistId: string;
  templateId: string;
  score: number;
  reasons: { popularity: number; registrationShare: number; diversity: number };
}

/** Similarity of two candidates: same artist counts most, then same genre, then same template. */
export function similarity(a: Candidate, b: Candidate): number {
  const artist = a.artistId === b.artistId ? 1 : a.genre === b.genre ? 0.5 : 0;
  const template = a.templateId === b.templateId ? 1 : 0;
  return 0.75 * artist + 0.25 * template;
}

/**
 * Greedy ranking: at each step pick the candidate with the best weighted score, where diversity
 * is 1 minus its greatest similarity to anything already picked (maximal marginal relevance).
 * Popularity and registration share are scaled to the best candidate's; an artist never shown
 * gets the mean observed share, so exploration is neither punished nor favoured.
 */
export function rankHeuristic(
  candidates: Candidate[],
  limit: number,
  weights: HeuristicWeights = DEFAULT_WEIGHTS,
): Scored[] {
  if (candidates.length === 0 || limit <= 0) return [];
  // Loops, not Math.max(...spread): a large market has more candidates than the call stack allows.
  const maxPop = candidates.reduce((m, c) => Math.max(m, c.popularity), 0) || 1;
  const observed = candidates.flatMap((c) =>
    c.registrationShare === null ? [] : [c.registrationShare],
  );
  const maxShare = observed.reduce((m, v) => Math.max(m, v), 0);
  const prior =
    observed.length > 0 && maxShare > 0
      ? observed.reduce((s, v) => s + v, 0) / observed.length / maxShare
      : 0.5;
  const base = candidates.map((c) => ({
    c,
    popularity: c.popularity / maxPop,
    registrationShare:
      c.registrationShare === null || maxShare === 0 ? prior : c.registrationShare / maxShare,
  }));
  const picked: Scored[] = [];
  const pickedCandidates: Candidate[] = [];
  const remaining = new Set(base.keys());
  while (picked.length < limit && remaining.size > 0) {
    let best: { i: number; score: number; diversity: number } | null = null;
    for (const i of remaining) {
      const b = base[i]!;
      const diversity = 1 - Math.max(0, ...pickedCandidates.map((p) => similarity(b.c, p)));
      const score =
        weights.popularity * b.popularity +
        weights.registrationShare * b.registrationShare +
        weights.diversity * diversity;
      // Ties break on ids so the order never depends on input order.
      if (
        !best ||
        score > best.score + 1e-12 ||
        (Math.abs(score - best.score) <= 1e-12 &&
          `${b.c.artistId}/${b.c.templateId}` <
            `${base[best.i]!.c.artistId}/${base[best.i]!.c.templateId}`)
      ) {
        best = { i, score, diversity };
      }
    }
    const b = base[best!.i]!;
    remaining.delete(best!.i);
    pickedCandidates.push(b.c);
    picked.push({
      artistId: b.c.artistId,
      templateId: b.c.templateId,
      score: best!.score,
      reasons: {
        popularity: b.popularity,
        registrationShare: b.registrationShare,
        diversity: best!.diversity,
      },
    });
  }
  return picked;
}
