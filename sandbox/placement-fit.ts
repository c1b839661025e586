// How well an ad fits Meta's placements when each placement group shows a ratio of its own
// (placement asset customisation): part of the simulator's hidden truth (sandbox/simulator.ts,
// trueRates), kept apart so the simulator reads one number.
import type { SimAd } from './contracts.ts';

type Group = 'feed' | 'story' | 'reels';

/**
 * Meta's placements in three groups, with the share of an ad's impressions each takes and how
 * well each aspect ratio fits there: feeds (Facebook feed, Instagram stream, explore...) show up
 * to 4:5 and crop taller video to it; stories and reels play 9:16 full screen and letterbox wider
 * ones. Blended (0.6 × feed + 0.2 × story + 0.2 × reels) they give the simulator's PLACEMENT_FIT
 * for Meta (1:1 1, 4:5 1.05, 9:16 0.97, 16:9 0.85), the fit of an ad showing one ratio everywhere.
 */
const META_GROUPS: Record<Group, { share: number; fit: Record<string, number> }> = {
  feed: { share: 0.6, fit: { '1:1': 1.1, '4:5': 1.15, '9:16': 0.9, '16:9': 0.95 } },
  story: { share: 0.2, fit: { '1:1': 0.85, '4:5': 0.9, '9:16': 1.075, '16:9': 0.7 } },
  reels: { share: 0.2, fit: { '1:1': 0.85, '4:5': 0.9, '9:16': 1.075, '16:9': 0.7 } },
};

/**
 * The placement fit of a Meta ad whose placement groups show their own ratios
 * (SimAd.placementRatios; a group it does not name shows `aspectRatio`); null for any other ad,
 * whose fit is its one ratio's.
 */
export function customisedPlacementFit(ad: SimAd): number | null {
  if (ad.platform !== 'meta' || !ad.placementRatios) return null;
  let fit = 0;
  for (const [group, { share, fit: byRatio }] of Object.entries(META_GROUPS)) {
    const ratio = ad.placementRatios[group as Group] ?? ad.aspectRatio ?? '';
    fit += share * (byRatio[ratio] ?? 0.9);
  }
  return fit;
}
