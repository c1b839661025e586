// Predictable identifiers. Workflow ids make reruns attach instead of duplicating; platform object
// names make every write look-up-able, so a retried write finds what the lost attempt created.
import type { IsoDate, MarketCode } from './types.ts';

export const dailyLoopWorkflowId = (date: IsoDate) => `loop/${date}`;
export const marketLoopWorkflowId = (market: MarketCode, date: IsoDate) =>
  `market/${market}/${date}`;

export const metaCampaignName = (market: MarketCode) => `adloop/${market}`;
export const metaAdSetName = (market: MarketCode) => `adloop/${market}/default`;
export const metaCreativeName = (market: MarketCode, creativeHash: string) =>
  `adloop/${market}/creative/${creativeHash}`;
export const metaAdName = (market: MarketCode, creativeHash: string) =>
  `adloop/${market}/ad/${creativeHash}`;

/** Parses an ad name written by {@link metaAdName}; null for ads adloop does not manage. */
export function parseMetaAdName(name: string): { market: string; creativeHash: string } | null {
  const m = /^adloop\/([A-Z]{2})\/ad\/([0-9a-f]{16,64})$/.exec(name);
  return m ? { market: m[1]!, creativeHash: m[2]! } : null;
}
