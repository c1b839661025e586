// The heuristic ranker: popularity, share of registrations and diversity, weighted (one third
// each by default). Pure: the same inputs always give the same ranking.
import type { HeuristicWeights } from '../../core/types.ts';

export interface Candidate {
  artistId: string;
  genre: string;
  templateId: string;
  /** Artist popularity in the market, 0..1. */
  popularity: number;
  /** Share of the market's registrations the artist's creatives brought; null when never shown. */
  registrationShare: number | null;
}

export type { HeuristicWeights };

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
  const observed: number[] = [];
  for (const c of candidates) if (c.registrationShare !== null) observed.push(c.registrationShare);
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
  // The weighted popularity and share do not change between steps; only diversity does. Each
  // candidate keeps its greatest similarity to what was picked so far, updated once per pick, so a
  // step costs one pass over the candidates however many were picked (a market has 100,000 artists
  // times the templates).
  const fixed = base.map(
    (b) => weights.popularity * b.popularity + weights.registrationShare * b.registrationShare,
  );
  const closest = new Float64Array(base.length); // greatest similarity to a pick; 0 before any
  const taken = new Uint8Array(base.length);
  const picked: Scored[] = [];
  while (picked.length < limit && picked.length < base.length) {
    let best: { i: number; score: number; diversity: number } | null = null;
    for (let i = 0; i < base.length; i++) {
      if (taken[i]) continue;
      const b = base[i]!;
      const diversity = 1 - closest[i]!;
      const score = fixed[i]! + weights.diversity * diversity;
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
    taken[best!.i] = 1;
    for (let i = 0; i < base.length; i++) {
      if (taken[i]) continue;
      const sim = similarity(base[i]!.c, b.c);
      if (sim > closest[i]!) closest[i] = sim;
    }
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
