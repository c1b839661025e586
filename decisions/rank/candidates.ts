// Building the heuristic's inputs from what the loop observes: catalog popularity and learned
// registrations. Pure, so the daily loop and the policy benchmark rank with the very same code.
import type { Candidate } from './heuristic.ts';

export interface ArtistView {
  id: string;
  genre: string;
  popularity: number;
}

/** Each artist's share of the market's registrations, from per-creative results. */
export function registrationShares(
  results: ReadonlyArray<{ artistId: string; registrations: number }>,
): Map<string, number> {
  const total = results.reduce((s, r) => s + r.registrations, 0);
  const shares = new Map<string, number>();
  if (total <= 0) return shares;
  for (const r of results) {
    shares.set(r.artistId, (shares.get(r.artistId) ?? 0) + r.registrations / total);
  }
  return shares;
}

/** Every artist x template pair; artists without results get a null share (never shown). */
export function buildCandidates(
  artists: readonly ArtistView[],
  templateIds: readonly string[],
  shares: ReadonlyMap<string, number>,
): Candidate[] {
  const out: Candidate[] = [];
  for (const a of artists) {
    const share = shares.get(a.id) ?? null;
    for (const templateId of templateIds) {
      out.push({
        artistId: a.id,
        genre: a.genre,
        templateId,
        popularity: a.popularity,
        registrationShare: share,
      });
    }
  }
  return out;
}
