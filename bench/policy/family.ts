// A family of plausible worlds for policy evaluation: each drawn from the documented ranges below
// (docs/sandbox.md, "A family of worlds"), so a learner is measured on the worlds it may meet, not
// only on bench.json. A world's parameters are fixed by its index; each seed then generates its own
// catalogue, market economics and hidden truth.
import { createHash } from 'node:crypto';
import { COUNTRIES } from '../../core/countries.ts';
import { prng } from '../../core/random.ts';

/**
 * A stream of uniform numbers for one key. Keyed by SHA-256, not by the sandbox's FNV hash: keys
 * that differ only in a world's index must give unrelated draws (FNV-keyed draws of two parameters
 * correlated at 0.75 across worlds).
 */
const stream = (...parts: Array<string | number>) =>
  prng(createHash('sha256').update(parts.join('/')).digest().readUInt32LE(0));

/** The ranges every family world is drawn from: [low, high]; `log` ranges are drawn log-uniformly. */
export const FAMILY_RANGES = {
  /** Catalogue size (log): small catalogues to ones where most artists are never tried. */
  artists: { low: 200, high: 5_000, log: true },
  /** Markets the loop runs. */
  markets: { low: 4, high: 14 },
  /** Popularity's share of appeal: negative (popular artists appeal less) to strong. */
  popularityWeight: { low: -0.4, high: 0.8 },
  /** Of the rest, the share that follows the market's taste. */
  tasteWeight: { low: 0.2, high: 0.9 },
  /** How much of an artist's own appeal carries into every market. */
  appealCorrelation: { low: 0, high: 0.8 },
  /** Template fit spread around 1. */
  templateSpread: { low: 0.05, high: 0.5 },
  /** Day-to-day delivery noise (log-normal sigma). */
  noise: { low: 0.05, high: 0.6 },
  /** How noisily the platform splits an ad set's budget. */
  learningNoise: { low: 0.2, high: 1.5 },
  /** Daily CTR decay from fatigue: mild to heavy. */
  fatigueRate: { low: 0.01, high: 0.15 },
  /** How far registering is driven apart from clicking. */
  funnelSplit: { low: 0, high: 0.7 },
  /** Days until the platforms' reports of a day are complete: 0, 1 or 2, equally likely. */
  reportingDelayDays: { low: 0, high: 3 },
  /** Share of worlds whose counts carry binomial sampling noise. */
  binomialShare: 0.5,
  /** Market economics around which each seed's markets vary (±30%). */
  cpm: { low: 2, high: 15 },
  baseCtr: { low: 0.005, high: 0.03 },
  installRate: { low: 0.15, high: 0.4 },
  registrationRate: { low: 0.2, high: 0.6 },
  /** Reachable audience (log): small audiences saturate, so more spend buys less. */
  audienceSize: { low: 200_000, high: 10_000_000, log: true },
} as const;

type Range = { low: number; high: number; log?: boolean };

/** One parameter of one world: each drawn from its own stream, so parameters are independent. */
const drawer =
  (index: number) =>
  (name: string, { low, high, log }: Range) => {
    const u = stream('family', index, name)();
    return log
      ? Math.exp(Math.log(low) + (Math.log(high) - Math.log(low)) * u)
      : low + (high - low) * u;
  };

/** The parameters of family world `index` (the same for every seed). */
export function familyParameters(index: number) {
  const draw = drawer(index);
  const R = FAMILY_RANGES;
  const round = (x: number, digits = 3) => Number(x.toFixed(digits));
  return {
    artists: Math.round(draw('artists', R.artists)),
    markets: Math.round(draw('markets', R.markets)),
    popularityWeight: round(draw('popularityWeight', R.popularityWeight)),
    tasteWeight: round(draw('tasteWeight', R.tasteWeight)),
    appealCorrelation: round(draw('appealCorrelation', R.appealCorrelation)),
    templateSpread: round(draw('templateSpread', R.templateSpread)),
    noise: round(draw('noise', R.noise)),
    learningNoise: round(draw('learningNoise', R.learningNoise)),
    fatigueRate: round(draw('fatigueRate', R.fatigueRate)),
    funnelSplit: round(draw('funnelSplit', R.funnelSplit)),
    reportingDelayDays: Math.min(2, Math.floor(draw('reportingDelayDays', R.reportingDelayDays))),
    sampling:
      stream('family', index, 'sampling')() < R.binomialShare
        ? ('binomial' as const)
        : ('expected' as const),
    cpm: round(draw('cpm', R.cpm), 2),
    baseCtr: round(draw('baseCtr', R.baseCtr), 4),
    installRate: round(draw('installRate', R.installRate)),
    registrationRate: round(draw('registrationRate', R.registrationRate)),
    audienceSize: Math.round(draw('audienceSize', R.audienceSize)),
  };
}

export type FamilyParameters = ReturnType<typeof familyParameters>;

/** The world specification (a world file's content) of family world `index` under `seed`. */
export function familyWorldSpec(index: number, seed: number) {
  const p = familyParameters(index);
  // Which markets: drawn per world, so the family covers different sets of countries.
  const pick = stream('family-markets', index);
  const codes = COUNTRIES.map((c) => c.code)
    .map((code) => ({ code, key: pick() }))
    .sort((a, b) => a.key - b.key)
    .slice(0, p.markets)
    .map((c) => c.code);
  return {
    name: `family-${index}`,
    seed: 10_000 * (index + 1) + seed,
    catalog: { generate: { artists: p.artists, genres: 12, markets: codes } },
    templates: [
      { id: 'spotlight', theme: 'portrait' },
      { id: 'duotone', theme: 'graphic' },
      { id: 'lyrics', theme: 'typographic' },
      { id: 'collage', theme: 'graphic' },
    ],
    marketDefaults: {
      cpm: p.cpm,
      baseCtr: p.baseCtr,
      installRate: p.installRate,
      registrationRate: p.registrationRate,
      subscriptionRate: 0.08,
      iosShare: 0.4,
      audienceSize: p.audienceSize,
    },
    meta: {
      accessToken: 'sandbox-meta-token',
      adAccountId: 'act_1000000002',
      pageId: '2000000002',
      currency: 'USD',
    },
    truth: {
      popularityWeight: p.popularityWeight,
      tasteWeight: p.tasteWeight,
      appealCorrelation: p.appealCorrelation,
      templateSpread: p.templateSpread,
      noise: p.noise,
      learningNoise: p.learningNoise,
      fatigueRate: p.fatigueRate,
      funnelSplit: p.funnelSplit,
      reportingDelayDays: p.reportingDelayDays,
      sampling: p.sampling,
    },
  };
}
