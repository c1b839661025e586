// Policy evaluation on the sandbox: simulate N days of the loop's decisions for every market of a
// world, for each policy, and measure registrations, spend, CPR and CTR. Rendering and HTTP are
// bypassed; ranking and learning use the same code as the daily loop (activities/rank), and the
// policies see only what the loop would observe, except the oracle, which is the yardstick.
import { addDays, daysBetween } from '../../core/dates.ts';
import type { SimAd } from '../../sandbox/contracts.ts';
import { Simulator } from '../../sandbox/simulator.ts';
import { completeness } from '../../sandbox/reporting.ts';
import { reviewAd } from '../../sandbox/review.ts';
import { pairKey } from '../../core/ids.ts';
import { heuristicPicks } from './heuristic-picks.ts';
import { slateOf, type Pick } from './slate.ts';
import type { World } from '../../sandbox/world.ts';
import type { ArtistInfo, CreativeDay, TemplateInfo } from '../../ml/features.ts';
import type { OffPolicyEstimates } from '../../ml/off-policy.ts';
import type { PolicyView } from '../../ml/ranker.ts';

export type { Pick };

/** What the loop has observed about one creative over the lookback window. */
export interface Observation extends Pick {
  impressions: number;
  clicks: number;
  spendMinor: number;
  registrations: number;
}

export interface PolicyContext {
  market: string;
  date: string;
  slots: number;
  /** The market's artists as the catalog ingest shows them. */
  artists: readonly ArtistInfo[];
  templateIds: readonly string[];
  templates: readonly TemplateInfo[];
  /** Per-creative totals over the heuristic's lookback window. */
  observed: readonly Observation[];
  /** Every creative-day of this market before `date`, as the platforms reported it. */
  history: readonly CreativeDay[];
  /** Ads live going into the day, with the day each was created. */
  live: ReadonlyArray<Pick & { createdDate: string }>;
}

export interface DayContext {
  date: string;
  /** Every market's creative-days before `date`. */
  history: readonly CreativeDay[];
  artists: (market: string) => readonly ArtistInfo[];
  templates: readonly TemplateInfo[];
}

/** A challenger's off-policy evaluation, with what the harness needs to score it against truth. */
export interface OffPolicyReport {
  /** The last day the challenger's data reaches. */
  trainedThrough: string;
  estimates: OffPolicyEstimates;
  units: Array<{
    market: string;
    date: string;
    /** Creatives that ran with spend: the slate size the estimates average over. */
    slots: number;
    /** What was live that morning (a kept creative keeps its age). */
    live: PolicyContext['live'];
    inclusion: PolicyView['inclusion'];
  }>;
}

export interface Policy {
  name: string;
  /** Off-policy evaluations made since the last call (a learning policy's challengers). */
  evaluations?(): OffPolicyReport[];
  /** Called once a day before any market chooses: where a learning policy retrains. */
  prepare?(day: DayContext): void;
  choose(ctx: PolicyContext): Pick[];
  /** Releases what the policy holds (models). */
  close?(): void;
}

/** The daily loop's heuristic, through the loop's own ranking code. */
export const heuristicPolicy: Policy = {
  name: 'heuristic',
  choose: (ctx) => heuristicPicks(ctx),
};

export interface EvalOptions {
  world: World;
  policies: Array<(simulator: Simulator, seed: number) => Policy>;
  days: number;
  seeds: number;
  /** First simulated day. Default 2026-01-01. */
  start?: string;
  /** Ads per market per day. Default 3. */
  slots?: number;
  /** Daily budget per market in minor units. Default 50,000 (500.00). */
  budgetMinor?: number;
  /** Days of observations a policy sees. Default 7. */
  lookbackDays?: number;
  /** Most live ads of one artist per market (ADS_PER_ARTIST). Default 1. */
  perArtist?: number;
  onProgress?: (done: number, total: number) => void;
  /** Each policy's totals over all markets for each simulated day (for plots and diagnostics). */
  onDay?: (day: { policy: string; seed: number; date: string } & DayTotals) => void;
  /** Each off-policy evaluation a policy made, with the simulator's true value. */
  onOffPolicy?: (
    e: { policy: string; seed: number; report: OffPolicyReport } & ScoredEvaluation,
  ) => void;
}

export interface DayTotals {
  registrations: number;
  spendMinor: number;
}

export interface PolicyTotals {
  registrations: number;
  spend: number;
  cpr: number | null;
  ctr: number | null;
}

const ESTIMATORS = ['ips', 'snips', 'dr'] as const;
type Estimator = (typeof ESTIMATORS)[number];

/** Estimates against truth over every challenger evaluated. */
export interface OffPolicyAccuracy {
  evaluations: number;
  /** Per estimator: mean signed and mean absolute error relative to the true value, and how often
   * the 95% interval held the true value. */
  estimators: Record<
    Estimator,
    {
      estimates: number;
      mean_relative_error: number;
      mean_abs_relative_error: number;
      coverage: number;
    }
  >;
}

/** One evaluation scored: each estimate's value and the challenger's true value. */
export interface ScoredEvaluation {
  truth: number;
  estimates: OffPolicyEstimates;
}

/**
 * The challenger's true value on the evaluated market-days, from the hidden truth: the mean over
 * market-days of Σ_j P(j on the slate) × the creative's expected registrations per spend, over
 * the slate's size (the quantity ml/off-policy.ts estimates).
 */
export function trueValue(simulator: Simulator, report: OffPolicyReport): number {
  let sum = 0;
  let n = 0;
  for (const u of report.units) {
    if (u.slots === 0) continue;
    const created = new Map(u.live.map((l) => [key(l), l.createdDate]));
    let v = 0;
    for (const j of u.inclusion) {
      v +=
        j.probability *
        simulator.expectedRegistrationsPerSpend(
          {
            id: 'evaluated',
            platform: 'meta',
            market: u.market,
            artistId: j.artistId,
            templateId: j.templateId,
            aspectRatio: '1:1',
            createdDate: created.get(key(j)) ?? u.date,
          },
          u.date,
        );
    }
    // The simulator's rate is per major unit of spend; the history's spend is in minor units.
    sum += v / 100 / u.slots;
    n++;
  }
  return n > 0 ? sum / n : NaN;
}

/** The accuracy summary of scored evaluations. */
export function offPolicyAccuracy(scored: readonly ScoredEvaluation[]): OffPolicyAccuracy {
  const usable = scored.filter((s) => Number.isFinite(s.truth) && s.truth > 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const estimators = {} as OffPolicyAccuracy['estimators'];
  for (const e of ESTIMATORS) {
    // An estimator without support on an evaluation (SNIPS with no weight) gives no estimate.
    const made = usable.filter((s) => Number.isFinite(s.estimates[e].value));
    const errors = made.map((s) => (s.estimates[e].value - s.truth) / s.truth);
    estimators[e] = {
      estimates: made.length,
      mean_relative_error: mean(errors),
      mean_abs_relative_error: mean(errors.map(Math.abs)),
      coverage: mean(
        made.map((s) => (s.estimates[e].low <= s.truth && s.truth <= s.estimates[e].high ? 1 : 0)),
      ),
    };
  }
  return { evaluations: usable.length, estimators };
}

const key = (p: Pick) => pairKey(p.artistId, p.templateId);

/** Per-creative totals of the days on or after `from`: what the heuristic's lookback shows. */
function windowTotals(history: readonly CreativeDay[], from: string): Observation[] {
  const window = new Map<string, Observation>();
  for (const h of history) {
    if (h.date < from) continue;
    const w = window.get(key(h)) ?? {
      artistId: h.artistId,
      templateId: h.templateId,
      impressions: 0,
      clicks: 0,
      spendMinor: 0,
      registrations: 0,
    };
    w.impressions += h.impressions;
    w.clicks += h.clicks;
    w.spendMinor += h.spend;
    w.registrations += h.registrations;
    window.set(key(h), w);
  }
  return [...window.values()];
}

/**
 * Creative-days as the platforms report them on the morning of `today`: a day younger than the
 * reporting delay is still partial (sandbox/reporting.ts, the platform servers' own rule) and
 * grows to its complete value on later reads, as the daily ingest re-reads it. Rows in date order.
 */
export function asReportedOn(
  rows: readonly CreativeDay[],
  today: string,
  delayDays: number,
): readonly CreativeDay[] {
  if (delayDays === 0) return rows;
  let i = rows.length;
  while (i > 0 && completeness(rows[i - 1]!.date, today, delayDays) < 1) i--;
  if (i === rows.length) return rows;
  const partial = rows.slice(i).map((r) => {
    const f = (n: number) => Math.floor(n * completeness(r.date, today, delayDays));
    return {
      ...r,
      impressions: f(r.impressions),
      clicks: f(r.clicks),
      spend: f(r.spend),
      registrations: f(r.registrations),
      subscriptions: f(r.subscriptions),
    };
  });
  return rows.slice(0, i).concat(partial);
}

/** Rounds of create, read review, replace the rejected (activities/deploy/deploy.ts). */
const REVIEW_ROUNDS = 3;

/**
 * Whether the platform's review rejects a new ad of this pick: the sandbox's own rule on the
 * world's review policy. The ad's content stands for its rendered media (one per market, artist
 * and template), so the same creative is always judged the same.
 */
export function rejectedByReview(world: World, market: string, p: Pick): boolean {
  return (
    reviewAd(world.seed, 'meta', world.review, {
      media: `${market}/${p.artistId}/${p.templateId}`,
      texts: [],
    }).rejection !== null
  );
}

export function evaluatePolicies(o: EvalOptions): Record<string, PolicyTotals> {
  const start = o.start ?? '2026-01-01';
  const slots = o.slots ?? 3;
  const budget = o.budgetMinor ?? 50_000;
  const lookback = o.lookbackDays ?? 7;
  const perArtist = o.perArtist ?? 1;
  const markets = o.world.catalog.markets.map((m) => m.code);
  const templates: TemplateInfo[] = o.world.templates.map((t) => ({ id: t.id, theme: t.theme }));
  const templateIds = templates.map((t) => t.id);
  const sums = new Map<string, { reg: number; spend: number; clicks: number; imps: number }>();
  const total = o.seeds * o.policies.length;
  let done = 0;

  for (let s = 0; s < o.seeds; s++) {
    // Each seed is a different hidden truth over the same catalog shape.
    const world: World = { ...o.world, seed: o.world.seed + 1000 * s };
    const simulator = new Simulator(world);
    const artistsByMarket = new Map<string, ArtistInfo[]>();
    for (const m of markets) {
      const list: ArtistInfo[] = [];
      for (let i = 0; i < world.catalog.artistCount; i++) {
        const a = world.catalog.artistAt(i);
        const popularity = world.catalog.popularity(a.id, m);
        if (popularity > 0) {
          list.push({
            id: a.id,
            genre: a.genre,
            popularity,
            trend: world.catalog.trend(a.id, m),
            embedding: world.catalog.embedding(a.id),
          });
        }
      }
      artistsByMarket.set(m, list);
    }
    for (const makePolicy of o.policies) {
      const policy = makePolicy(simulator, world.seed);
      const acc = sums.get(policy.name) ?? { reg: 0, spend: 0, clicks: 0, imps: 0 };
      const state = new Map(
        markets.map((m) => [
          m,
          {
            live: new Map<string, Pick & { createdDate: string; id: string }>(),
            history: [] as CreativeDay[],
            nextId: 0,
            /** Pairs the platform's review rejected in this market (production's rejections table). */
            rejected: new Set<string>(),
          },
        ]),
      );
      const allHistory: CreativeDay[] = [];
      // Day by day across all markets, as the daily loop runs: a learning policy retrains on every
      // market's results each morning.
      for (let d = 0; d < o.days; d++) {
        const date = addDays(start, d);
        // What the platforms report of the days so far, read this morning (the loop's ingest).
        const reported = asReportedOn(allHistory, date, world.truth.reportingDelayDays);
        policy.prepare?.({
          date,
          history: reported,
          artists: (m) => artistsByMarket.get(m) ?? [],
          templates,
        });
        for (const report of policy.evaluations?.() ?? []) {
          const truth = trueValue(simulator, report);
          o.onOffPolicy?.({
            policy: policy.name,
            seed: s,
            report,
            truth,
            estimates: report.estimates,
          });
        }
        const today: CreativeDay[] = [];
        for (const market of markets) {
          const st = state.get(market)!;
          const history = asReportedOn(st.history, date, world.truth.reportingDelayDays);
          const picks = policy.choose({
            market,
            date,
            slots,
            artists: artistsByMarket.get(market)!,
            templateIds,
            templates,
            observed: windowTotals(history, addDays(date, -lookback)),
            history,
            live: [...st.live.values()],
          });
          // Deploy: keep ads that stay picked, create the new ones, pause the rest. Each new ad is
          // reviewed at creation under the world's review policy (sandbox/review.ts, as the
          // platform servers judge it); a rejected one never runs and the next pick takes its
          // place, for as many rounds as production's deploy makes (REVIEW_ROUNDS).
          let slate: Pick[] = [];
          for (let round = 0; round < REVIEW_ROUNDS; round++) {
            slate = slateOf(picks, slots, perArtist, st.rejected);
            const refused = slate.filter(
              (p) => !st.live.has(key(p)) && rejectedByReview(world, market, p),
            );
            if (refused.length === 0) break;
            for (const p of refused) st.rejected.add(key(p));
          }
          const next = new Map<string, Pick & { createdDate: string; id: string }>();
          // After the last round, a slot whose ad review rejected stays empty.
          for (const p of slate.filter((p) => !st.rejected.has(key(p)))) {
            next.set(
              key(p),
              // Only what the platform knows of an ad: a policy's own notes on its pick (its score,
              // or the oracle's true value) do not travel into the next day's context.
              st.live.get(key(p)) ?? {
                artistId: p.artistId,
                templateId: p.templateId,
                createdDate: date,
                id: `${market}-${st.nextId++}`,
              },
            );
          }
          st.live = next;
          const liveList = [...st.live.values()];
          const ads: SimAd[] = liveList.map((a) => ({
            id: a.id,
            platform: 'meta',
            market,
            artistId: a.artistId,
            templateId: a.templateId,
            aspectRatio: '1:1',
            createdDate: a.createdDate,
          }));
          const deliveries = simulator.deliverAdSet(budget, ads, date, `adset-${market}`);
          deliveries.forEach((dl, i) => {
            const ad = liveList[i]!;
            acc.reg += dl.registrations;
            acc.spend += dl.spendMinor;
            acc.clicks += dl.clicks;
            acc.imps += dl.impressions;
            const row: CreativeDay = {
              market,
              date,
              artistId: ad.artistId,
              templateId: ad.templateId,
              daysLive: daysBetween(ad.createdDate, date),
              impressions: dl.impressions,
              clicks: dl.clicks,
              spend: dl.spendMinor,
              registrations: dl.registrations,
              subscriptions: dl.subscriptions,
            };
            st.history.push(row);
            today.push(row);
          });
        }
        allHistory.push(...today);
        o.onDay?.({
          policy: policy.name,
          seed: s,
          date,
          registrations: today.reduce((n, r) => n + r.registrations, 0),
          spendMinor: today.reduce((n, r) => n + r.spend, 0),
        });
      }
      policy.close?.();
      sums.set(policy.name, acc);
      o.onProgress?.(++done, total);
    }
  }
  const out: Record<string, PolicyTotals> = {};
  for (const [name, a] of sums) {
    out[name] = {
      registrations: a.reg,
      spend: a.spend / 100,
      cpr: a.reg > 0 ? a.spend / 100 / a.reg : null,
      ctr: a.imps > 0 ? a.clicks / a.imps : null,
    };
  }
  return out;
}
