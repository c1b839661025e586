// `npm run bench:budget -- --json [--worlds 8] [--seeds 3] [--days 28]`: does moving budget toward
// what works pay? For each world of the family (bench/policy/family.ts) and seed, the same days run
// three times on the sandbox's simulator with the same ads and the same total daily budget:
//   - equal:  every unit (a market's ad set on one platform) gets the same budget every day;
//   - adloop: the daily loop's allocator (decisions/budget), fed each morning what the platforms
//             report of the days before (partial for recent days, as their reports are);
//   - oracle: the same allocator and bounds, planning with the simulator's true response curves.
// Ads are held fixed across the three (the top artists by popularity, refreshed weekly), so the
// budget is the only difference. Prints one JSON object; progress goes to stderr.
import { Command } from 'commander';
import { addDays } from '../core/dates.ts';
import { allocateBudgets, type ResponseModel } from '../decisions/budget/allocate.ts';
import {
  budgetUnits,
  spendDaysByUnit,
  unitKey,
  type UnitDeliveryRow,
} from '../decisions/budget/units.ts';
import type { BudgetChange, Delivery, PlatformName, SimAd } from '../sandbox/contracts.ts';
import { asReported } from '../sandbox/reporting.ts';
import { Simulator } from '../sandbox/simulator.ts';
import { worldFromSpec, type World } from '../sandbox/world.ts';
import { wholeNumber } from './args.ts';
import { familyWorldSpec } from './policy/family.ts';

const PLATFORMS: PlatformName[] = ['meta', 'tiktok', 'google'];
/** The ratio each platform's ads run in (the one its placements favour). */
const RATIO: Record<PlatformName, string> = { meta: '4:5', tiktok: '9:16', google: '1:1' };
/** TikTok's ad group minimum (USD 20, see sandbox/tiktok); Meta and Google take 1.00 here. */
const MIN_PER_AD_SET: Record<PlatformName, number> = { meta: 100, tiktok: 2000, google: 100 };
const POLICIES = ['equal', 'adloop', 'oracle'] as const;
type PolicyName = (typeof POLICIES)[number];

export interface BudgetBenchOptions {
  worlds: number;
  seeds: number;
  days: number;
  /** Daily budget of each unit under the equal split, in minor units. Default 10,000 (100.00). */
  unitBudgetMinor: number;
  /** Ads per unit. Default 3. */
  slots: number;
  start: string;
  onProgress?: (line: string) => void;
}

interface Unit {
  market: string;
  platform: PlatformName;
  adSetId: string;
}

/** The ads of a market for the week `date` falls in: the next most popular artists each week. */
function slate(
  world: World,
  market: string,
  week: number,
  slots: number,
  start: string,
): SimAd[][] {
  const ranked: Array<{ id: string; pop: number }> = [];
  for (let i = 0; i < world.catalog.artistCount; i++) {
    const a = world.catalog.artistAt(i);
    ranked.push({ id: a.id, pop: world.catalog.popularity(a.id, market) });
  }
  ranked.sort((a, b) => b.pop - a.pop || a.id.localeCompare(b.id));
  const templates = world.templates.map((t) => t.id);
  const picked = ranked.slice(week * slots, week * slots + slots);
  return PLATFORMS.map((platform) =>
    picked.map((a, j) => ({
      id: `${platform}-${market}-w${week}-${j}`,
      platform,
      market,
      artistId: a.id,
      templateId: templates[(week + j) % templates.length] ?? null,
      aspectRatio: RATIO[platform],
      createdDate: addDays(start, 7 * week),
    })),
  );
}

/** The true response of one unit on one day, tabulated: what the oracle plans with. */
function trueModel(
  sim: Simulator,
  ads: SimAd[],
  date: string,
  unit: Unit,
  history: BudgetChange[],
  upToMinor: number,
): ResponseModel {
  const points = 48;
  const xs = Array.from({ length: points + 1 }, (_, i) => (upToMinor * i) / points);
  const ys = xs.map((b) =>
    sim
      .expectedAdSet(b, ads, date, unit.adSetId, undefined, [...history, { date, budgetMinor: b }])
      .reduce((s, d) => s + d.registrations, 0),
  );
  const at = (b: number) => Math.min(points - 1, Math.max(0, Math.floor((b / upToMinor) * points)));
  const slope = (i: number) => (ys[i + 1]! - ys[i]!) / (xs[i + 1]! - xs[i]!);
  return {
    expected: (b) => {
      const i = at(b);
      return ys[i]! + slope(i) * (b - xs[i]!);
    },
    marginal: (b) => slope(at(b)),
    optimisticMarginal: (b) => slope(at(b)),
    uncertainty: 0,
    evidence: Infinity,
    likelyScale: Infinity,
  };
}

interface RunTotals {
  registrations: number;
  spendMinor: number;
  /** Largest day-to-day budget change of any unit (share of the day before). */
  maxChange: number;
}

function runPolicy(
  world: World,
  policy: PolicyName,
  o: BudgetBenchOptions,
): RunTotals & { byDay: number[] } {
  const sim = new Simulator(world);
  const markets = Object.keys(world.markets).sort();
  const units: Unit[] = markets.flatMap((market) =>
    PLATFORMS.map((platform) => ({ market, platform, adSetId: `${platform}-${market}` })),
  );
  const total = o.unitBudgetMinor * units.length;
  const delay = world.truth.reportingDelayDays;
  const deliveries: Array<{ unit: Unit; delivery: Delivery }> = [];
  const history = new Map<string, BudgetChange[]>(units.map((u) => [u.adSetId, []]));
  const previous = new Map<string, number>();
  let registrations = 0;
  let spendMinor = 0;
  let maxChange = 0;
  const byDay: number[] = [];
  for (let day = 0; day < o.days; day++) {
    const date = addDays(o.start, day);
    const week = Math.floor(day / 7);
    const ads = new Map(markets.map((m) => [m, slate(world, m, week, o.slots, o.start)] as const));
    const adsOf = (u: Unit) => ads.get(u.market)![PLATFORMS.indexOf(u.platform)]!;
    let budgets: number[];
    if (policy === 'equal') budgets = units.map(() => o.unitBudgetMinor);
    else {
      // What the platforms report this morning of every day before: recent days still partial.
      const rows: UnitDeliveryRow[] = deliveries.map(({ unit, delivery }) => {
        const d = asReported(delivery, date, delay);
        return {
          market: unit.market,
          platform: unit.platform,
          date: d.date,
          spendMinor: d.spendMinor,
          results: d.registrations,
        };
      });
      const lines = units.map((u) => ({ market: u.market, platform: u.platform, adSets: 1 }));
      const unitsIn = budgetUnits({
        lines,
        days: spendDaysByUnit(rows, date),
        previous,
        minPerAdSet: (p) => MIN_PER_AD_SET[p as PlatformName],
      });
      const models =
        policy === 'oracle'
          ? units.map((u) => trueModel(sim, adsOf(u), date, u, history.get(u.adSetId)!, total))
          : undefined;
      const allocation = allocateBudgets({
        date,
        totalMinor: total,
        units: unitsIn,
        ...(models ? { models } : {}),
      });
      budgets = allocation.units.map((b) => b.minor);
    }
    let today = 0;
    units.forEach((u, i) => {
      const b = budgets[i]!;
      const key = unitKey(u.market, u.platform);
      const before = previous.get(key);
      if (before !== undefined && before > 0)
        maxChange = Math.max(maxChange, Math.abs(b / before - 1));
      previous.set(key, b);
      const h = history.get(u.adSetId)!;
      if (h.at(-1)?.budgetMinor !== b) h.push({ date, budgetMinor: b });
      for (const delivery of sim.deliverAdSet(b, adsOf(u), date, u.adSetId, undefined, h)) {
        deliveries.push({ unit: u, delivery });
        registrations += delivery.registrations;
        today += delivery.registrations;
        spendMinor += delivery.spendMinor;
      }
    });
    byDay.push(today);
  }
  return { registrations, spendMinor, maxChange, byDay };
}

const round = (x: number, digits = 4) => Number(x.toFixed(digits));

type PerPolicy = Record<PolicyName, number>;

/** One world's result over its seeds. */
export interface WorldResult {
  world: string;
  markets: number;
  units: number;
  registrations: PerPolicy;
  /** Spend in major units (USD). */
  spend: PerPolicy;
  /** Registrations relative to the equal split: 0.12 is 12% more. */
  gain_vs_equal: number;
  oracle_gain_vs_equal: number;
  /** adloop's registrations over the oracle's. */
  share_of_oracle: number;
  /** adloop's gain over the oracle's gain, null when the oracle gains nothing. */
  share_of_oracle_gain: number | null;
  seeds: Array<{
    seed: number;
    registrations: PerPolicy;
    gain_vs_equal: number;
    oracle_gain_vs_equal: number;
    max_daily_change: number;
  }>;
}

export function runBudgetBench(o: BudgetBenchOptions) {
  const started = Date.now();
  const worlds: WorldResult[] = [];
  for (let w = 0; w < o.worlds; w++) {
    const seeds = [];
    const sums = { equal: 0, adloop: 0, oracle: 0 };
    const spend = { equal: 0, adloop: 0, oracle: 0 };
    let markets = 0;
    for (let s = 1; s <= o.seeds; s++) {
      const world = worldFromSpec(familyWorldSpec(w, s), `family-${w}`);
      markets = Object.keys(world.markets).length;
      const r = Object.fromEntries(POLICIES.map((p) => [p, runPolicy(world, p, o)])) as Record<
        PolicyName,
        ReturnType<typeof runPolicy>
      >;
      for (const p of POLICIES) {
        sums[p] += r[p].registrations;
        spend[p] += r[p].spendMinor;
      }
      seeds.push({
        seed: s,
        registrations: {
          equal: r.equal.registrations,
          adloop: r.adloop.registrations,
          oracle: r.oracle.registrations,
        },
        gain_vs_equal: round(r.adloop.registrations / Math.max(1, r.equal.registrations) - 1),
        oracle_gain_vs_equal: round(
          r.oracle.registrations / Math.max(1, r.equal.registrations) - 1,
        ),
        max_daily_change: round(r.adloop.maxChange, 3),
      });
      o.onProgress?.(
        `world ${w} seed ${s}: equal ${r.equal.registrations}, adloop ${r.adloop.registrations}, oracle ${r.oracle.registrations} registrations`,
      );
    }
    const gain = sums.adloop / Math.max(1, sums.equal) - 1;
    const oracleGain = sums.oracle / Math.max(1, sums.equal) - 1;
    worlds.push({
      world: `family-${w}`,
      markets,
      units: markets * PLATFORMS.length,
      registrations: sums,
      spend: {
        equal: spend.equal / 100,
        adloop: spend.adloop / 100,
        oracle: spend.oracle / 100,
      },
      gain_vs_equal: round(gain),
      oracle_gain_vs_equal: round(oracleGain),
      share_of_oracle: round(sums.adloop / Math.max(1, sums.oracle)),
      share_of_oracle_gain: oracleGain > 0 ? round(gain / oracleGain) : null,
      seeds,
    });
  }
  const gains = worlds.map((x) => x.gain_vs_equal).sort((a, b) => a - b);
  const median = (xs: number[]) =>
    xs.length % 2 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2;
  const total = (p: PolicyName) => worlds.reduce((s, x) => s + x.registrations[p], 0);
  return {
    worlds_count: worlds.length,
    seeds: o.seeds,
    days: o.days,
    platforms: PLATFORMS,
    unit_budget: o.unitBudgetMinor / 100,
    median_gain_vs_equal: round(median(gains)),
    min_gain_vs_equal: round(gains[0] ?? 0),
    share_of_oracle: round(total('adloop') / Math.max(1, total('oracle'))),
    share_of_oracle_gain: round(
      (total('adloop') - total('equal')) / Math.max(1, total('oracle') - total('equal')),
    ),
    passed: median(gains) >= 0.1 && (gains[0] ?? 0) >= 0,
    seconds: round((Date.now() - started) / 1000, 1),
    worlds,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const program = new Command('bench:budget')
    .description('budget allocation against an equal split and an oracle, over family worlds')
    .option('--json', 'print only the JSON result on stdout')
    .option('--worlds <n>', 'family worlds (0..n-1)', wholeNumber('--worlds'), 8)
    .option('--seeds <n>', 'seeds per world', wholeNumber('--seeds'), 3)
    .option('--days <n>', 'days simulated', wholeNumber('--days'), 28)
    .option(
      '--unit-budget <minor>',
      'equal split per unit, minor units',
      wholeNumber('--unit-budget'),
      10_000,
    )
    .parse();
  const opts = program.opts<{
    json?: boolean;
    worlds: number;
    seeds: number;
    days: number;
    unitBudget: number;
  }>();
  const result = runBudgetBench({
    worlds: opts.worlds,
    seeds: opts.seeds,
    days: opts.days,
    unitBudgetMinor: opts.unitBudget,
    slots: 3,
    start: '2026-03-02',
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
