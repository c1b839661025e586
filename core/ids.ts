// Predictable identifiers. Workflow ids make reruns attach instead of duplicating; platform object
// names make every write look-up-able, so a retried write finds what the lost attempt created.
//
// Platform object names (the same convention on Meta and TikTok):
//   campaign   adloop/<market>
//   ad set     adloop/<market>/default                 all OSes, optimised for installs
//              adloop/<market>/<os>/<objective>         any other segment (ios/android, registrations)
//              <ad set name>#<n>                        TikTok's n-th ad group of a segment (n >= 2),
//                                                       opened when the previous one is full
//   creative   adloop/<market>/creative/<creative hash> (Meta; shared by the market's ad sets)
//   ad         <ad set name>/ad/<date>/<creative hash>  date = the day the ad was first created
// Ads created before the date was part of the name are `adloop/<market>/ad/<hash>`; both parse.
import type { IsoDate, MarketCode } from './types.ts';

/**
 * A market code as an operator types it (` se `) made canonical (`SE`); anything that is not two
 * letters is refused, named by `what` (an option, say) when given. Codes go into workflow ids and
 * visibility queries, so nothing else may pass.
 */
export function parseMarketCode(value: string, what?: string): MarketCode {
  const code = value.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code))
    throw new Error(`${what ? `${what}: ` : ''}"${value}" is not a market code like SE`);
  return code;
}

export const dailyLoopWorkflowId = (date: IsoDate) => `loop/${date}`;
export const marketLoopWorkflowId = (market: MarketCode, date: IsoDate) =>
  `market/${market}/${date}`;

/** `adloop backfill`'s workflow: one id per range, so a second run of a range attaches or re-reads. */
export const backfillWorkflowId = (from: IsoDate, to: IsoDate) => `backfill/${from}/${to}`;
/** One market's part of the backfill `backfillId`. */
export const backfillMarketWorkflowId = (backfillId: string, market: MarketCode) =>
  `${backfillId}/${market}`;

/** Who an ad set delivers to and what the platform optimises it for. */
export interface AdSetSegment {
  os: 'all' | 'ios' | 'android';
  objective: 'installs' | 'registrations';
}

export const DEFAULT_SEGMENT: AdSetSegment = { os: 'all', objective: 'installs' };

export const metaCampaignName = (market: MarketCode) => `adloop/${market}`;

/** The ad set (Meta) or ad group (TikTok) of a market's segment; `generation` >= 2 for rollovers. */
export function adSetName(
  market: MarketCode,
  segment: AdSetSegment = DEFAULT_SEGMENT,
  generation = 1,
): string {
  const base =
    segment.os === 'all' && segment.objective === 'installs'
      ? `adloop/${market}/default`
      : `adloop/${market}/${segment.os}/${segment.objective}`;
  return generation > 1 ? `${base}#${generation}` : base;
}

/** The default segment's ad set: where every market's ads went before segments existed. */
export const metaAdSetName = (market: MarketCode) => adSetName(market);

export const metaCreativeName = (market: MarketCode, creativeHash: string) =>
  `adloop/${market}/creative/${creativeHash}`;

/** An ad's name: its ad set, the day it was created and its creative. */
export const adName = (adSet: string, date: IsoDate, creativeHash: string) =>
  `${adSet}/ad/${date}/${creativeHash}`;

/** The name ads had before the date and ad set were part of it (still parsed). */
export const metaAdName = (market: MarketCode, creativeHash: string) =>
  `adloop/${market}/ad/${creativeHash}`;

export interface ParsedAdName {
  market: string;
  creativeHash: string;
  /** The ad set's name; null for legacy names. */
  adSet: string | null;
  /** The day the ad was created; null for legacy names. */
  date: string | null;
}

/**
 * Parses an ad name adloop wrote (or the name of a Google ad's video asset, the ad's name and
 * `/video`); null for ads adloop does not manage.
 */
export function parseAdName(name: string): ParsedAdName | null {
  const current =
    /^(adloop\/([A-Z]{2})\/[a-z]+(?:\/[a-z]+)?(?:#\d+)?)\/ad\/(\d{4}-\d{2}-\d{2})\/([0-9a-f]{16,64})(?:\/video)?$/.exec(
      name,
    );
  if (current)
    return {
      adSet: current[1]!,
      market: current[2]!,
      date: current[3]!,
      creativeHash: current[4]!,
    };
  const legacy = /^adloop\/([A-Z]{2})\/ad\/([0-9a-f]{16,64})$/.exec(name);
  return legacy ? { market: legacy[1]!, creativeHash: legacy[2]!, adSet: null, date: null } : null;
}

/** One key for an artist x template pair (a NUL cannot occur in either id). */
export const pairKey = (artistId: string, templateId: string) => `${artistId}\u0000${templateId}`;
