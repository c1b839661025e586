// Features for the ranking model, built only from what the loop observes: the catalog as ingested
// and each creative's daily delivery as the platforms and the MMP reported it. Everything is
// relative to the market's own baseline over the lookback window, so one model serves markets whose
// prices differ several-fold, and a market-wide swing does not look like a creative's merit.
// Pure and allocation-light: the same code builds training rows and scores a million candidates.
import { addDays } from '../core/dates.ts';
import { pairKey } from '../core/ids.ts';
import type { Objective } from '../core/types.ts';

/** One creative's delivery on one day, as ingested. */
export interface CreativeDay {
  market: string;
  date: string;
  artistId: string;
  templateId: string;
  /** Days the creative had been live on `date` (0 on its first day). */
  daysLive: number;
  impressions: number;
  clicks: number;
  /** Spend in any unit that is the same across one market (the account's currency). */
  spend: number;
  registrations: number;
  subscriptions: number;
}

export interface ArtistInfo {
  id: string;
  genre: string;
  /** Popularity in the market, 0..1. */
  popularity: number;
  /** Popularity change per day in the market; 0 when unknown. */
  trend: number;
  /** Place in the catalog's similarity space; null when the catalog has none. */
  embedding: readonly number[] | null;
}

export interface TemplateInfo {
  id: string;
  theme: string;
}

export type { Objective } from '../core/types.ts';

export const FEATURE_NAMES = [
  'popularity',
  'trend',
  'artist_log_rel_rate',
  'artist_evidence',
  'artist_log_rel_ctr',
  'artist_log_rel_cvr',
  'pair_log_rel_rate',
  'pair_evidence',
  'days_live',
  'template_log_rel_rate',
  'template_evidence',
  'genre_log_rel_rate',
  'theme',
  'market_evidence',
  'artist_posterior',
  'taste_fit',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

/**
 * Direction each feature may move a prediction (+1 up, -1 down, 0 free), passed to XGBoost as
 * monotone constraints: an artist that performed better never scores lower, an older creative
 * never scores higher. With a few hundred noisy rows this keeps the model from learning nonsense
 * outside what it has seen. Only directions no world can reverse are constrained: popularity is
 * free, since an audience can tire of what it already knows (a world's popularity effect can be
 * negative) and the data says which way it goes.
 */
export const FEATURE_MONOTONE: Record<FeatureName, -1 | 0 | 1> = {
  popularity: 0,
  trend: 0,
  artist_log_rel_rate: 1,
  artist_evidence: 0,
  artist_log_rel_ctr: 1,
  artist_log_rel_cvr: 1,
  pair_log_rel_rate: 1,
  pair_evidence: 0,
  days_live: -1,
  template_log_rel_rate: 1,
  template_evidence: 0,
  genre_log_rel_rate: 1,
  theme: 0,
  market_evidence: 0,
  artist_posterior: 1,
  taste_fit: 1,
};
export const FEATURE_COUNT = FEATURE_NAMES.length;
const F = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i])) as Record<FeatureName, number>;

/** Observed creative-days an artist's prior counts as (see MarketFeatures.posterior). */
const PRIOR_DAYS = 2;

/** Observed artists a market needs before its taste over the embedding space is fitted. */
const MIN_TASTE_ARTISTS = 8;
/** Embedding dimensions past which the taste fit is skipped (its cost grows with their cube). */
const TASTE_MAX_DIMS = 64;
/** Ridge penalty of the taste fit, in units of evidence (log1p baseline conversions). */
const TASTE_RIDGE = 4;

/** Default days of delivery the features look back over. */
export const DEFAULT_LOOKBACK_DAYS = 28;

interface Totals {
  /** Creative-days summed. */
  days: number;
  /** Days live summed over those creative-days (their mean age is ageDays / days). */
  ageDays: number;
  impressions: number;
  clicks: number;
  spend: number;
  conversions: number;
}

const emptyTotals = (): Totals => ({
  days: 0,
  ageDays: 0,
  impressions: 0,
  clicks: 0,
  spend: 0,
  conversions: 0,
});

function add(t: Totals, d: CreativeDay, objective: Objective) {
  t.days += 1;
  t.ageDays += d.daysLive;
  t.impressions += d.impressions;
  t.clicks += d.clicks;
  t.spend += d.spend;
  t.conversions += objective === 'subscriptions' ? d.subscriptions : d.registrations;
}

/**
 * A market's delivery over the lookback window before one date, summarised per artist, template,
 * pair and genre. Rates are smoothed log ratios to the market's baseline with one expected
 * conversion of pseudo-evidence, so a creative with little delivery sits near the baseline.
 */
export class MarketWindow {
  /** Conversions per unit of spend over the whole market and window; NaN with no conversions. */
  readonly baseRate: number;
  readonly baseCtr: number;
  readonly baseCvr: number;
  readonly totals = emptyTotals();
  readonly byArtist = new Map<string, Totals>();
  readonly byTemplate = new Map<string, Totals>();
  readonly byPair = new Map<string, Totals>();
  readonly byGenre = new Map<string, Totals>();

  constructor(
    rows: readonly CreativeDay[],
    genreOf: (artistId: string) => string | undefined,
    readonly objective: Objective = 'registrations',
  ) {
    const bucket = <K>(m: Map<K, Totals>, k: K) => {
      let t = m.get(k);
      if (!t) m.set(k, (t = emptyTotals()));
      return t;
    };
    for (const r of rows) {
      add(this.totals, r, objective);
      add(bucket(this.byArtist, r.artistId), r, objective);
      add(bucket(this.byTemplate, r.templateId), r, objective);
      add(bucket(this.byPair, pairKey(r.artistId, r.templateId)), r, objective);
      const genre = genreOf(r.artistId);
      if (genre !== undefined) add(bucket(this.byGenre, genre), r, objective);
    }
    const t = this.totals;
    this.baseRate = t.conversions > 0 && t.spend > 0 ? t.conversions / t.spend : NaN;
    this.baseCtr = t.clicks > 0 ? t.clicks / t.impressions : NaN;
    this.baseCvr = t.conversions > 0 ? t.conversions / t.clicks : NaN;
  }

  get usable(): boolean {
    return Number.isFinite(this.baseRate);
  }

  /** log((conversions + 1) / (expected conversions at the baseline + 1)); NaN when unobserved. */
  logRelRate(t: Totals | undefined): number {
    if (!t || t.spend <= 0 || !this.usable) return NaN;
    return Math.log((t.conversions + 1) / (t.spend * this.baseRate + 1));
  }

  /** Conversions the baseline would have bought with this spend: how much evidence there is. */
  evidence(t: Totals | undefined): number {
    return t && this.usable ? Math.log1p(t.spend * this.baseRate) : 0;
  }

  logRelCtr(t: Totals | undefined): number {
    if (!t || t.impressions <= 0 || !Number.isFinite(this.baseCtr)) return NaN;
    return Math.log((t.clicks + 1) / (t.impressions * this.baseCtr + 1));
  }

  logRelCvr(t: Totals | undefined): number {
    if (!t || t.clicks <= 0 || !Number.isFinite(this.baseCvr)) return NaN;
    return Math.log((t.conversions + 1) / (t.clicks * this.baseCvr + 1));
  }
}

/** Stable small integer for a categorical value (themes): the same string gives the same code. */
export function categoryCode(value: string): number {
  let h = 0;
  for (let i = 0; i < value.length; i++) h = (Math.imul(h, 31) + value.charCodeAt(i)) | 0;
  return (h >>> 0) % 1024;
}

/**
 * Everything about one market on one date that does not depend on the candidate: the window and the
 * market's taste over the artist embedding space. Build once, then fill rows.
 */
export class MarketFeatures {
  readonly window: MarketWindow;
  /** Each artist's rate as the market's taste over the embedding space predicts it, by index. */
  private readonly taste: Float32Array;
  /** Each artist's totals over the window, by index; undefined when it was not shown. */
  private readonly observed: Array<Totals | undefined>;
  private readonly genreRate = new Map<string, number>();
  private readonly marketEvidence: number;
  private readonly themeCode = new Map<string, number>();
  private readonly templateCache = new Map<string, [number, number, number]>();
  private index: Map<string, number> | null = null;

  constructor(
    readonly artists: readonly ArtistInfo[],
    templates: readonly TemplateInfo[],
    lookbackRows: readonly CreativeDay[],
    objective: Objective = 'registrations',
  ) {
    // Only the window's artists need their genre looked up: a market can have 100,000 artists.
    const shown = new Set(lookbackRows.map((r) => r.artistId));
    const genreOf = new Map<string, string>();
    for (const a of artists) if (shown.has(a.id)) genreOf.set(a.id, a.genre);
    const w = (this.window = new MarketWindow(lookbackRows, (id) => genreOf.get(id), objective));
    this.observed = artists.map((a) => (genreOf.has(a.id) ? w.byArtist.get(a.id) : undefined));
    for (const [genre, t] of w.byGenre) this.genreRate.set(genre, w.logRelRate(t));
    this.marketEvidence = w.evidence(w.totals);
    for (const t of templates) this.themeCode.set(t.id, categoryCode(t.theme));
    this.taste = this.fitTaste();
  }

  /**
   * The market's taste as a direction in the catalog's similarity space: a weighted ridge
   * regression of the observed artists' rates on popularity and their unit embeddings, predicted
   * for every artist: how artists like this one did. It generalises across genres and to regions
   * of the space nobody has tried yet. Costs O(artists x dims + observed x dims² + dims³). NaN for
   * every artist when the catalog has no embeddings, more than TASTE_MAX_DIMS of them, or too few
   * artists have been observed. The fit is in-sample, so an observed artist's own rate is part of
   * the prior its posterior shrinks towards: leave-one-out priors measured slightly worse on
   * bench:policy (0.785 of the oracle against 0.794, 5 seeds).
   */
  private fitTaste(): Float32Array {
    const n = this.artists.length;
    const out = new Float32Array(n).fill(NaN);
    const dims = this.artists.find((a) => a.embedding)?.embedding?.length ?? 0;
    if (dims === 0 || dims > TASTE_MAX_DIMS || !this.window.usable) return out;
    const p = dims + 2; // intercept, popularity, the unit embedding
    const x = new Float64Array(p);
    const design = (a: ArtistInfo) => {
      const e = a.embedding;
      if (!e || e.length !== dims) return false;
      let norm = 0;
      for (let i = 0; i < dims; i++) norm += e[i]! * e[i]!;
      norm = Math.sqrt(norm) || 1;
      x[0] = 1;
      x[1] = a.popularity;
      for (let i = 0; i < dims; i++) x[i + 2] = e[i]! / norm;
      return true;
    };
    const xtx = new Float64Array(p * p);
    const xty = new Float64Array(p);
    let observed = 0;
    this.artists.forEach((a, k) => {
      const t = this.observed[k];
      const y = this.window.logRelRate(t);
      if (!Number.isFinite(y) || !design(a)) return;
      const w = this.window.evidence(t);
      for (let i = 0; i < p; i++) {
        xty[i]! += w * x[i]! * y;
        for (let j = 0; j < p; j++) xtx[i * p + j]! += w * x[i]! * x[j]!;
      }
      observed++;
    });
    if (observed < MIN_TASTE_ARTISTS) return out;
    // The intercept is free; every slope is shrunk towards zero.
    for (let i = 1; i < p; i++) xtx[i * p + i]! += TASTE_RIDGE;
    const beta = solveSymmetric(xtx, xty, p);
    if (!beta) return out;
    this.artists.forEach((a, k) => {
      if (!design(a)) return;
      let v = 0;
      for (let i = 0; i < p; i++) v += beta[i]! * x[i]!;
      out[k] = v;
    });
    return out;
  }

  /**
   * The artist's rate shrunk towards what the market's taste predicts for it (else its genre's
   * rate, else the market's), as in empirical Bayes: each observed day counts as much as
   * `PRIOR_DAYS` of the prior.
   */
  private posterior(k: number, t: Totals | undefined): number {
    const w = this.window;
    if (!w.usable) return NaN;
    const prior = this.prior(k);
    const own = w.logRelRate(t);
    if (!t || !Number.isFinite(own)) return prior;
    return (t.days * own + PRIOR_DAYS * prior) / (t.days + PRIOR_DAYS);
  }

  /** What the market's taste predicts for artist k, else its genre's rate, else the baseline. */
  private prior(k: number): number {
    const taste = this.taste[k]!;
    if (Number.isFinite(taste)) return taste;
    const genre = this.genreRate.get(this.artists[k]!.genre) ?? NaN;
    return Number.isFinite(genre) ? genre : 0;
  }

  /** An artist's record over the window, every template together; null when it has not run. */
  artistRecord(artistId: string): { days: number; logRelRate: number } | null {
    const t = this.window.byArtist.get(artistId);
    const rate = this.window.logRelRate(t);
    if (!t || t.days === 0 || !Number.isFinite(rate)) return null;
    return { days: t.days, logRelRate: rate };
  }

  /**
   * A creative's own record over the window: its days, their mean age (days live) and its
   * relative rate; null when it has not run.
   */
  pairRecord(
    artistId: string,
    templateId: string,
  ): { days: number; meanAge: number; logRelRate: number } | null {
    const t = this.window.byPair.get(pairKey(artistId, templateId));
    const rate = this.window.logRelRate(t);
    if (!t || t.days === 0 || !Number.isFinite(rate)) return null;
    return { days: t.days, meanAge: t.ageDays / t.days, logRelRate: rate };
  }

  /**
   * Writes the features a candidate would have if its artist had never been shown in the market
   * (its catalog data, the market's taste and the template's record, none of its own delivery):
   * what the model says of artists like it, the prior its own record updates.
   */
  fillUnseen(
    out: Float32Array,
    row: number,
    artistId: string,
    templateId: string,
    daysLive: number,
  ) {
    const k = this.indexOf().get(artistId);
    if (k === undefined) throw new Error(`artist ${artistId} is not in this market's catalog`);
    this.fillArtist(out, row, k, false);
    this.fillPair(out, row, artistId, templateId, daysLive, false);
  }

  /**
   * Writes one candidate's features into `out` at row `row`. `daysLive` is how long the creative
   * will have been live on the scored day: its age when it is running now, else 0 (a new ad).
   * Throws for an artist the market does not have.
   */
  fill(out: Float32Array, row: number, artistId: string, templateId: string, daysLive: number) {
    const k = this.indexOf().get(artistId);
    if (k === undefined) throw new Error(`artist ${artistId} is not in this market's catalog`);
    this.fillArtist(out, row, k);
    this.fillPair(out, row, artistId, templateId, daysLive);
  }

  /** Artist id to index, built on first use: ranking a whole market never needs it. */
  private indexOf(): Map<string, number> {
    return (this.index ??= new Map(this.artists.map((a, k) => [a.id, k])));
  }

  /** Whether the market's catalog has the artist. */
  has(artistId: string): boolean {
    return this.indexOf().has(artistId);
  }

  /** Features of every artist x template candidate, artist-major, with the live ads' ages. */
  fillCandidates(
    out: Float32Array,
    templates: readonly TemplateInfo[],
    live: ReadonlyMap<string, number>,
  ) {
    const liveArtists = new Set([...live.keys()].map((k) => k.slice(0, k.indexOf('\u0000'))));
    const nt = templates.length;
    const tpl = templates.map((t) => this.templateFeatures(t.id));
    for (let k = 0, row = 0; k < this.artists.length; k++, row += nt) {
      // The artist's part once, copied to its other templates' rows.
      this.fillArtist(out, row, k);
      const from = row * FEATURE_COUNT;
      for (let t = 1, o = from + FEATURE_COUNT; t < nt; t++) {
        for (let f = 0; f < FEATURE_COUNT; f++, o++) out[o] = out[from + f]!;
      }
      const id = this.artists[k]!.id;
      const seen = this.observed[k] !== undefined || (live.size > 0 && liveArtists.has(id));
      for (let t = 0; t < nt; t++) {
        if (seen) {
          this.fillPair(
            out,
            row + t,
            id,
            templates[t]!.id,
            live.get(pairKey(id, templates[t]!.id)) ?? 0,
          );
        } else {
          const o = (row + t) * FEATURE_COUNT;
          const v = tpl[t]!;
          out[o + F.pair_log_rel_rate] = NaN;
          out[o + F.pair_evidence] = 0;
          out[o + F.days_live] = 0;
          out[o + F.template_log_rel_rate] = v[0];
          out[o + F.template_evidence] = v[1];
          out[o + F.theme] = v[2];
        }
      }
    }
  }

  /** The artist's part of a row; `seen` false writes it as for an artist never shown. */
  private fillArtist(out: Float32Array, row: number, k: number, seen = true) {
    const w = this.window;
    const o = row * FEATURE_COUNT;
    const artist = this.artists[k]!;
    const at = seen ? this.observed[k] : undefined;
    out[o + F.popularity] = artist.popularity;
    out[o + F.trend] = artist.trend;
    out[o + F.artist_log_rel_rate] = w.logRelRate(at);
    out[o + F.artist_evidence] = w.evidence(at);
    out[o + F.artist_log_rel_ctr] = w.logRelCtr(at);
    out[o + F.artist_log_rel_cvr] = w.logRelCvr(at);
    out[o + F.genre_log_rel_rate] = this.genreRate.get(artist.genre) ?? NaN;
    out[o + F.market_evidence] = this.marketEvidence;
    out[o + F.artist_posterior] = this.posterior(k, at);
    out[o + F.taste_fit] = this.taste[k]!;
  }

  /** A template's rate, evidence and theme code over the window. */
  private templateFeatures(templateId: string): [number, number, number] {
    let t = this.templateCache.get(templateId);
    if (!t) {
      const tt = this.window.byTemplate.get(templateId);
      t = [
        this.window.logRelRate(tt),
        this.window.evidence(tt),
        this.themeCode.get(templateId) ?? NaN,
      ];
      this.templateCache.set(templateId, t);
    }
    return t;
  }

  /** The creative's part of a row; `seen` false writes it as for a creative that never ran. */
  private fillPair(
    out: Float32Array,
    row: number,
    artistId: string,
    templateId: string,
    daysLive: number,
    seen = true,
  ) {
    const w = this.window;
    const o = row * FEATURE_COUNT;
    const t = this.templateFeatures(templateId);
    out[o + F.template_log_rel_rate] = t[0];
    out[o + F.template_evidence] = t[1];
    out[o + F.theme] = t[2];
    const pt = seen ? w.byPair.get(pairKey(artistId, templateId)) : undefined;
    out[o + F.pair_log_rel_rate] = w.logRelRate(pt);
    out[o + F.pair_evidence] = w.evidence(pt);
    out[o + F.days_live] = daysLive;
  }
}

/** Solves A·x = b for a small symmetric positive definite A (row-major) by Cholesky; null if singular. */
export function solveSymmetric(a: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (sum <= 1e-12) return null;
        l[i * n + i] = Math.sqrt(sum);
      } else l[i * n + j] = sum / l[j * n + j]!;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i * n + k]! * y[k]!;
    y[i] = sum / l[i * n + i]!;
  }
  const out = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i]! * out[k]!;
    out[i] = sum / l[i * n + i]!;
  }
  return out;
}

/** Cosine similarity of two artists' embeddings; genre equality when either has none. */
export function artistSimilarity(a: ArtistInfo, b: ArtistInfo): number {
  if (a.id === b.id) return 1;
  if (a.embedding && b.embedding && a.embedding.length === b.embedding.length) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.embedding.length; i++) {
      dot += a.embedding[i]! * b.embedding[i]!;
      na += a.embedding[i]! ** 2;
      nb += b.embedding[i]! ** 2;
    }
    return na > 0 && nb > 0 ? Math.max(0, dot / Math.sqrt(na * nb)) : 0;
  }
  return a.genre === b.genre ? 0.5 : 0;
}

export interface TrainingSet {
  features: Float32Array;
  rows: number;
  /** −log of the relative cost per conversion: log(conversions / (spend × baseline rate)). */
  relRate: Float32Array;
  /** The creative's share of its ad set's conversions that day, times the number of ads. */
  relShare: Float32Array;
  /** Baseline conversions its spend would have bought: noisy rows count less. */
  weights: Float32Array;
  /** Day of each row (for held-out splits by day). */
  dates: string[];
  /** Which creative each row is (market, artist and template): its days together form its record. */
  creatives: string[];
}

export interface TrainingOptions {
  lookbackDays?: number;
  objective?: Objective;
  /** Artists of a market as of a date (popularity then), from the catalog as ingested. */
  artistsAt: (market: string, date: string) => readonly ArtistInfo[];
  templates: readonly TemplateInfo[];
}

/**
 * Training rows of one market and day: each creative's features as they stood that morning (`mf`
 * is built from earlier days only) and what the creative then did. Empty when the market has no
 * baseline yet (its first day).
 */
export function dayTrainingRows(
  mf: MarketFeatures,
  date: string,
  today: readonly CreativeDay[],
): TrainingSet {
  const objective = mf.window.objective;
  const rows = mf.window.usable ? today.filter((r) => r.spend > 0 && mf.has(r.artistId)) : [];
  const features = new Float32Array(rows.length * FEATURE_COUNT);
  const relRate = new Float32Array(rows.length);
  const relShare = new Float32Array(rows.length);
  const weights = new Float32Array(rows.length);
  const dayConversions = today.reduce((s, r) => s + conv(r, objective), 0);
  rows.forEach((r, i) => {
    mf.fill(features, i, r.artistId, r.templateId, r.daysLive);
    const expected = r.spend * mf.window.baseRate;
    relRate[i] = Math.log((conv(r, objective) + 1) / (expected + 1));
    relShare[i] = dayConversions > 0 ? (conv(r, objective) / dayConversions) * today.length : 1;
    weights[i] = Math.log1p(expected);
  });
  return {
    features,
    rows: rows.length,
    relRate,
    relShare,
    weights,
    dates: rows.map(() => date),
    creatives: rows.map((r) => `${r.market}\u0000${pairKey(r.artistId, r.templateId)}`),
  };
}

/** The rows of `set` whose day passes `keep` (a split by day, e.g. held-out days). */
export function trainingRowsWhere(set: TrainingSet, keep: (date: string) => boolean): TrainingSet {
  const idx = set.dates.flatMap((d, i) => (keep(d) ? [i] : []));
  const features = new Float32Array(idx.length * FEATURE_COUNT);
  idx.forEach((r, k) =>
    features.set(
      set.features.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT),
      k * FEATURE_COUNT,
    ),
  );
  const pick = (a: Float32Array) => Float32Array.from(idx, (i) => a[i]!);
  return {
    features,
    rows: idx.length,
    relRate: pick(set.relRate),
    relShare: pick(set.relShare),
    weights: pick(set.weights),
    dates: idx.map((i) => set.dates[i]!),
    creatives: idx.map((i) => set.creatives[i]!),
  };
}

export function concatTrainingSets(sets: readonly TrainingSet[]): TrainingSet {
  const rows = sets.reduce((s, t) => s + t.rows, 0);
  const out: TrainingSet = {
    features: new Float32Array(rows * FEATURE_COUNT),
    rows,
    relRate: new Float32Array(rows),
    relShare: new Float32Array(rows),
    weights: new Float32Array(rows),
    dates: [],
    creatives: [],
  };
  let at = 0;
  for (const t of sets) {
    out.features.set(t.features, at * FEATURE_COUNT);
    out.relRate.set(t.relRate, at);
    out.relShare.set(t.relShare, at);
    out.weights.set(t.weights, at);
    out.dates.push(...t.dates);
    out.creatives.push(...t.creatives);
    at += t.rows;
  }
  return out;
}

/** Training rows for every market and day of `history`, each from the days before it. */
export function buildTrainingSet(history: readonly CreativeDay[], o: TrainingOptions): TrainingSet {
  const lookback = o.lookbackDays ?? DEFAULT_LOOKBACK_DAYS;
  const byMarketDay = new Map<string, Map<string, CreativeDay[]>>();
  for (const r of history) {
    let days = byMarketDay.get(r.market);
    if (!days) byMarketDay.set(r.market, (days = new Map<string, CreativeDay[]>()));
    const list = days.get(r.date) ?? [];
    list.push(r);
    days.set(r.date, list);
  }
  const sets: TrainingSet[] = [];
  for (const [market, days] of byMarketDay) {
    const sortedDays = [...days.keys()].sort();
    for (const date of sortedDays) {
      const from = addDays(date, -lookback);
      const window = sortedDays.filter((d) => d >= from && d < date).flatMap((d) => days.get(d)!);
      const mf = new MarketFeatures(o.artistsAt(market, date), o.templates, window, o.objective);
      sets.push(dayTrainingRows(mf, date, days.get(date)!));
    }
  }
  return concatTrainingSets(sets);
}

const conv = (r: CreativeDay, objective: Objective) =>
  objective === 'subscriptions' ? r.subscriptions : r.registrations;
