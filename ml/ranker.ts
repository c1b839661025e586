// Ranking a market's candidates with the model: build every artist x template candidate's features,
// predict, combine the predictions into one score per objective, then pick a diverse slate with a
// share of exploration. Pure apart from the model: the daily loop and the policy benchmark share it.
import {
  FEATURE_COUNT,
  MarketFeatures,
  artistSimilarity,
  type ArtistInfo,
  type CreativeDay,
  type Objective,
  type TemplateInfo,
} from './features.ts';
import type { RankModel } from './rank-model.ts';
import { selectSlate, topK, type SelectOptions } from './select.ts';
import { pairKey } from '../core/ids.ts';

/** Candidates the share model scores after the rate model's first pass. */
const SHORTLIST = 2000;

/** How the two predictions make one score. */
export interface ScoreWeights {
  /** Weight of the relative conversion rate (the inverse of relative CPR). */
  rate: number;
  /** Weight of the relative share of the ad set's conversions. */
  share: number;
}

/** Default weights per objective; both objectives value cheap conversions most. */
export const DEFAULT_SCORE_WEIGHTS: Record<Objective, ScoreWeights> = {
  registrations: { rate: 0.75, share: 0.25 },
  subscriptions: { rate: 0.75, share: 0.25 },
};

export interface ModelRankInput {
  artists: readonly ArtistInfo[];
  templates: readonly TemplateInfo[];
  /** The market's creative-days over the lookback window before the ranked day. */
  lookback: readonly CreativeDay[];
  /** Creatives running now, by pairKey, with the days each will have been live on the ranked day. */
  live: ReadonlyMap<string, number>;
  model: RankModel;
  objective?: Objective;
  weights?: ScoreWeights;
  select: SelectOptions;
}

export interface ModelRankedItem {
  artistId: string;
  templateId: string;
  score: number;
  sigma: number;
  mode: 'exploit' | 'explore';
  probability: number;
  /** Feature contributions to the rate prediction, plus the diversity term. */
  reasons: Record<string, number>;
}

/** Features of every artist x template candidate of a market, in artist-major order. */
export function candidateFeatures(
  mf: MarketFeatures,
  templates: readonly TemplateInfo[],
  live: ReadonlyMap<string, number>,
): Float32Array {
  const out = new Float32Array(mf.artists.length * templates.length * FEATURE_COUNT);
  mf.fillCandidates(out, templates, live);
  return out;
}

export function rankWithModel(input: ModelRankInput): ModelRankedItem[] {
  return rankMarket(input).items;
}

/** What a model-ranked policy would do on a market-day, for off-policy evaluation. */
export interface PolicyView {
  /** Every candidate the policy could put on the slate, with its probability of being there. */
  inclusion: Array<{ artistId: string; templateId: string; probability: number }>;
  /**
   * The model's expected conversions per unit of spend for any candidate of the market: its
   * predicted rate relative to the market's baseline times that baseline (NaN without one).
   */
  expectedRate(artistId: string, templateId: string): number;
}

/** The slate's inclusion probabilities and the model's reward predictions (ml/off-policy.ts). */
export function policyView(input: ModelRankInput): PolicyView {
  const inclusion = new Map<number, number>();
  const run = rankMarket({ ...input, select: { ...input.select, inclusion } }, false);
  const nt = input.templates.length;
  const artistRow = new Map(input.artists.map((a, i) => [a.id, i]));
  const templateCol = new Map(input.templates.map((t, i) => [t.id, i]));
  return {
    inclusion: [...inclusion].map(([k, probability]) => ({
      artistId: run.artistOf(k).id,
      templateId: run.templateOf(k),
      probability,
    })),
    expectedRate(artistId, templateId) {
      const a = artistRow.get(artistId);
      const t = templateCol.get(templateId);
      if (a === undefined || t === undefined) return NaN;
      return Math.exp(run.rate[a * nt + t]!) * run.baseRate;
    },
  };
}

/** Artists with a record a market needs before its prior's variance is measured from them. */
export const MIN_PRIOR_ARTISTS = 8;

/**
 * The variance of artists' true relative rates around the model's prior for them, by the
 * (unweighted) method of moments: the mean squared gap between each artist's record and its
 * prior, less the part its record's own noise explains (`noise` per day over its days). The gap
 * is measured on the artists the policy chose to run (so it includes the optimism of having chosen
 * them) with a model that trained on their days (so it is how far the model still is from their
 * records, and understates its uncertainty about an artist it never saw: often nothing is left
 * over the noise, and the result is the floor). Null below MIN_PRIOR_ARTISTS artists.
 */
export function priorVarianceFromRecords(
  artists: ReadonlyArray<{ record: { days: number; logRelRate: number }; prior: number }>,
  noise: number,
): number | null {
  const usable = artists.filter((a) => a.record.days > 0 && Number.isFinite(a.prior));
  if (usable.length < MIN_PRIOR_ARTISTS) return null;
  let excess = 0;
  for (const { record, prior } of usable) {
    excess += (record.logRelRate - prior) ** 2 - noise / record.days;
  }
  return Math.max(1e-4, excess / usable.length);
}

/**
 * Candidates whose artist has run are scored from that record too, by empirical Bayes. The prior
 * is what the model says of the same candidate had its artist never been shown; its variance is
 * measured from the market's own records where enough artists ran (priorVarianceFromRecords),
 * else the model's held-out uncertainty about unseen artists. The evidence is the creative's own
 * relative rate over the window, or for a template the artist has not run in, the artist's; either
 * is moved to the candidate's template and age by the model's own template and age effects, and
 * is worth its days over the model's per-day noise floor. Low-noise worlds then trust a record,
 * noisy ones the model. Rewrites `first` in place; returns each updated row's change.
 */
function updateWithOwnRecord(
  input: ModelRankInput,
  mf: MarketFeatures,
  first: { rate: Float32Array; sigma: Float32Array },
): Map<number, number> {
  const changed = new Map<number, number>();
  const noise = input.model.meta.noiseFloor;
  const unseen = input.model.meta.sigmaByEvidence[0];
  if (noise === undefined || !(noise > 0) || unseen === undefined) return changed;
  const modelVariance = Math.max(unseen * unseen, 1e-4);
  const nt = input.templates.length;
  // Every template of every artist that ran: its record (the creative's own, else the artist's),
  // with a row for the unseen prior at the candidate's age and, for a creative that ran, one at
  // the mean age it ran at.
  const rows: Array<{ row: number; days: number; rate: number; at: number; ran: number | null }> =
    [];
  const ages: Array<[artist: string, template: string, age: number]> = [];
  const artistRecords = new Map<number, { days: number; logRelRate: number }>();
  input.artists.forEach((a, k) => {
    const artist = mf.artistRecord(a.id);
    if (!artist) return;
    artistRecords.set(k, artist);
    input.templates.forEach((t, j) => {
      const pair = mf.pairRecord(a.id, t.id);
      const at = ages.push([a.id, t.id, input.live.get(pairKey(a.id, t.id)) ?? 0]) - 1;
      const ran = pair ? ages.push([a.id, t.id, pair.meanAge]) - 1 : null;
      const record = pair ?? artist;
      rows.push({ row: k * nt + j, days: record.days, rate: record.logRelRate, at, ran });
    });
  });
  if (rows.length === 0) return changed;
  const x = new Float32Array(ages.length * FEATURE_COUNT);
  ages.forEach(([artist, template, age], i) => mf.fillUnseen(x, i, artist, template, age));
  const prior = input.model.predictRate(x, ages.length).rate;
  // Per artist, the prior of what it ran, weighted by days: where its own record stands.
  const ranPrior = new Map<number, { sum: number; days: number }>();
  for (const r of rows) {
    if (r.ran === null) continue;
    const k = Math.floor(r.row / nt);
    const acc = ranPrior.get(k) ?? { sum: 0, days: 0 };
    acc.sum += r.days * prior[r.ran]!;
    acc.days += r.days;
    ranPrior.set(k, acc);
  }
  // How far artists' records stand from what the model says of them, beyond their records' own
  // noise: the prior's variance, measured in this market today. Artists that never ran explore
  // with that spread (the model's held-out spread for them explored more and earned less; see
  // docs/ranking.md); those that ran get their posterior's below.
  const measured = priorVarianceFromRecords(
    [...ranPrior].map(([k, p]) => ({ record: artistRecords.get(k)!, prior: p.sum / p.days })),
    noise,
  );
  if (measured !== null) first.sigma.fill(Math.sqrt(measured));
  const priorVariance = measured ?? modelVariance;
  for (const r of rows) {
    const atAge = prior[r.at]!;
    const ranAll = ranPrior.get(Math.floor(r.row / nt));
    const base = r.ran !== null ? prior[r.ran]! : ranAll ? ranAll.sum / ranAll.days : atAge;
    const observed = r.rate + (atAge - base);
    const precision = 1 / priorVariance + r.days / noise;
    const rate = (atAge / priorVariance + (r.days * observed) / noise) / precision;
    changed.set(r.row, rate - first.rate[r.row]!);
    first.rate[r.row] = rate;
    first.sigma[r.row] = Math.sqrt(1 / precision);
  }
  return changed;
}

/** Scores every candidate and picks the slate; `explain` adds each pick's feature contributions. */
function rankMarket(input: ModelRankInput, explain = true) {
  const objective = input.objective ?? 'registrations';
  const w = input.weights ?? DEFAULT_SCORE_WEIGHTS[objective];
  const mf = new MarketFeatures(input.artists, input.templates, input.lookback, objective);
  const features = candidateFeatures(mf, input.templates, input.live);
  const nt = input.templates.length;
  const rows = input.artists.length * nt;
  // Two passes: the rate model over every candidate, then the share model only over those the
  // rate could put on the slate (a market can have a million candidates).
  const first = input.model.predictRate(features, rows);
  const record = updateWithOwnRecord(input, mf, first);
  const optimistic = new Float32Array(rows);
  for (let r = 0; r < rows; r++) optimistic[r] = first.rate[r]! + 2 * first.sigma[r]!;
  const shortlist = topK(optimistic, Math.min(rows, SHORTLIST));
  const shortFeatures = new Float32Array(shortlist.length * FEATURE_COUNT);
  shortlist.forEach((r, k) =>
    shortFeatures.set(
      features.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT),
      k * FEATURE_COUNT,
    ),
  );
  const share = input.model.predictShare(shortFeatures, shortlist.length);
  const score = new Float32Array(shortlist.length);
  const sigma = new Float32Array(shortlist.length);
  shortlist.forEach((r, k) => {
    const rate = Math.exp(first.rate[r]!);
    score[k] = w.rate * rate + w.share * Math.max(0, share[k]!);
    // Delta method: the rate term's spread on the score's scale.
    sigma[k] = w.rate * rate * first.sigma[r]!;
  });
  const artistOf = (k: number) => input.artists[Math.floor(shortlist[k]! / nt)]!;
  const templateOf = (k: number) => input.templates[shortlist[k]! % nt]!.id;
  const slate = selectSlate(
    {
      score,
      sigma,
      // The same artist counts most, then similar artists, then the same template.
      similarity: (i, j) =>
        0.75 * artistSimilarity(artistOf(i), artistOf(j)) +
        0.25 * (templateOf(i) === templateOf(j) ? 1 : 0),
      group: (i) => Math.floor(shortlist[i]! / nt),
    },
    input.select,
  );
  // Explain only what was picked: contributions cost far more than predictions.
  const picked = new Float32Array(slate.length * FEATURE_COUNT);
  slate.forEach((s, k) =>
    picked.set(
      shortFeatures.subarray(s.index * FEATURE_COUNT, (s.index + 1) * FEATURE_COUNT),
      k * FEATURE_COUNT,
    ),
  );
  const reasons = explain && slate.length > 0 ? input.model.explain(picked, slate.length) : [];
  const items = slate.map((s, k) => ({
    artistId: artistOf(s.index).id,
    templateId: templateOf(s.index),
    score: score[s.index]!,
    sigma: sigma[s.index]!,
    mode: s.mode,
    probability: s.probability,
    reasons: {
      ...reasons[k],
      ...(record.has(shortlist[s.index]!) && { own_record: record.get(shortlist[s.index]!)! }),
      diversity: s.diversity,
    },
  }));
  return { items, artistOf, templateOf, rate: first.rate, baseRate: mf.window.baseRate };
}
