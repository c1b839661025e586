// `npm run bench:policy -- --json --world FILE --days N --seeds K`: simulate N days of the loop on
// a world for each policy (random, heuristic, ml, oracle) and print one JSON object comparing them.
// `--family N` instead draws N worlds from the documented ranges (bench/policy/family.ts) and
// reports each, the median and the worst; `--only 4,11` measures just those worlds of the family
// (the same worlds, by index, as in the whole run). Progress goes to stderr; stdout stays one JSON
// object.
import { Command } from 'commander';
import { indexList, wholeNumber } from './args.ts';
import fs from 'node:fs';
import path from 'node:path';
import { familyParameters, familyWorldSpec } from './policy/family.ts';
import { mlPolicy } from './policy/ml-policy.ts';
import {
  evaluatePolicies,
  heuristicPolicy,
  offPolicyAccuracy,
  type PolicyTotals,
  type ScoredEvaluation,
} from './policy/policy-eval.ts';
import { oraclePolicy, randomPolicy } from './policy/policies.ts';
import { loadWorld, worldFromSpec, type World } from '../sandbox/world.ts';
import { lineChart } from '../reports/line-chart.ts';

/** The steady state: days 15 to 28 of a run. */
const STEADY_FROM = 15;
const STEADY_TO = 28;
const LEARNERS = ['random', 'heuristic', 'ml'] as const;

const opts = new Command()
  .name('npm run bench:policy --')
  .description('Compare ranking policies on a sandbox world, or on a family of worlds.')
  .option('--world <file>', 'world file', 'sandbox/worlds/bench.json')
  .option(
    '--family <n>',
    'draw N worlds from the documented ranges instead',
    wholeNumber('--family'),
  )
  .option(
    '--only <i,j,...>',
    'with --family, measure only these worlds (0-based indices below N)',
    indexList('--only'),
  )
  .option('--days <n>', 'days to simulate', wholeNumber('--days'), 28)
  .option('--seeds <n>', 'hidden truths to average over', wholeNumber('--seeds'))
  .option('--slots <n>', 'ads per market per day', wholeNumber('--slots'), 3)
  .option('--json', 'print only the JSON result on stdout')
  .option('--plot <file.svg>', 'also draw each policy day by day (the worst world of a family)')
  .parse()
  .opts<{
    world: string;
    family?: number;
    only?: number[];
    days: number;
    seeds?: number;
    slots: number;
    json?: boolean;
    plot?: string;
  }>();

type Daily = Map<string, Map<string, { reg: number; spend: number }>>;

interface Measured {
  policies: Record<string, PolicyTotals>;
  /** Per policy and date, summed over seeds. */
  daily: Daily;
  /** The learning policy's off-policy evaluations of its challengers, each with the true value. */
  ope: ScoredEvaluation[];
}

/** Runs every policy on `world` over `seeds` hidden truths. */
function measure(
  world: World,
  seeds: number,
  progress: (done: number, total: number) => void,
): Measured {
  const daily: Daily = new Map();
  const ope: ScoredEvaluation[] = [];
  const policies = evaluatePolicies({
    world,
    days: opts.days,
    seeds,
    slots: opts.slots,
    policies: [randomPolicy, () => heuristicPolicy, (_sim, seed) => mlPolicy(seed), oraclePolicy],
    onDay: (d) => {
      const byDate = daily.get(d.policy) ?? new Map<string, { reg: number; spend: number }>();
      const t = byDate.get(d.date) ?? { reg: 0, spend: 0 };
      t.reg += d.registrations;
      t.spend += d.spendMinor;
      byDate.set(d.date, t);
      daily.set(d.policy, byDate);
    },
    onOffPolicy: (e) => ope.push({ truth: e.truth, estimates: e.estimates }),
    onProgress: progress,
  });
  return { policies, daily, ope };
}

/** Adds `b` into `a` (totals and days), for a world measured seed by seed. */
function merge(a: Measured | null, b: Measured): Measured {
  if (!a) return b;
  a.ope.push(...b.ope);
  for (const [name, t] of Object.entries(b.policies)) {
    const s = a.policies[name]!;
    const reg = s.registrations + t.registrations;
    const spend = s.spend + t.spend;
    // Impressions are not kept per seed, so no combined CTR: a family reports per spend.
    a.policies[name] = { registrations: reg, spend, cpr: reg > 0 ? spend / reg : null, ctr: null };
  }
  for (const [name, days] of b.daily) {
    const mine = a.daily.get(name)!;
    for (const [date, t] of days) {
      const m = mine.get(date) ?? { reg: 0, spend: 0 };
      m.reg += t.reg;
      m.spend += t.spend;
      mine.set(date, m);
    }
  }
  return a;
}

/** The figures reported for one world (or one world over several seeds). */
function summarize({ policies, daily, ope }: Measured) {
  const rps = (p: string) => policies[p]!.registrations / Math.max(policies[p]!.spend, 1e-9);
  const change = (p: string) => {
    const base = policies.heuristic!.cpr;
    const v = policies[p]!.cpr;
    return base && v ? v / base - 1 : null;
  };
  const dayTotals = (p: string, from: number, to: number) =>
    [...(daily.get(p)?.values() ?? [])].slice(from - 1, to);
  /** Registrations per spend of days `from`..`to` (1-based), as a share of the oracle's. */
  const shareOfOracle = (p: string, from: number, to: number) => {
    const rate = (q: string) => {
      const days = dayTotals(q, from, to);
      const spend = days.reduce((n, d) => n + d.spend, 0);
      return spend > 0 ? days.reduce((n, d) => n + d.reg, 0) / spend : null;
    };
    const mine = rate(p);
    const oracle = rate('oracle');
    return mine !== null && oracle ? mine / oracle : null;
  };
  /** Mean over days `from`..`to` of policy `p`'s daily registrations per spend over `q`'s. */
  const meanDailyRatio = (p: string, q: string, from: number, to: number) => {
    const a = dayTotals(p, from, to);
    const b = dayTotals(q, from, to);
    const ratios = a.flatMap((d, i) => {
      const o = b[i];
      return o && o.reg > 0 && d.spend > 0 ? [d.reg / d.spend / (o.reg / o.spend)] : [];
    });
    return ratios.length > 0 ? ratios.reduce((n, r) => n + r, 0) / ratios.length : null;
  };
  return {
    cpr_change_vs_heuristic: {
      random: change('random'),
      ml: change('ml'),
      oracle: change('oracle'),
    },
    // Over all the days.
    registrations_per_spend_share_of_oracle: Object.fromEntries(
      LEARNERS.map((p) => [p, rps(p) / rps('oracle')]),
    ),
    // Days 15 to 28: once every learner has had two weeks, what it settles at.
    steady_share_of_oracle: Object.fromEntries(
      LEARNERS.map((p) => [p, shareOfOracle(p, STEADY_FROM, STEADY_TO)]),
    ),
    // Days 1 to 7, each day's registrations per spend against the heuristic's, averaged: a learner
    // must not pay for its first week.
    first_week_ml_vs_heuristic: meanDailyRatio('ml', 'heuristic', 1, 7),
    // ml's challengers estimated off-policy on their held-out days, against the simulator's truth.
    off_policy: offPolicyAccuracy(ope),
  };
}

/** Each policy day by day relative to the oracle, as an SVG line chart. */
function plot({ daily }: Measured, title: string, file: string) {
  const dates = [...(daily.get('oracle')?.keys() ?? [])];
  const rpsOn = (p: string, date: string) => {
    const t = daily.get(p)?.get(date);
    return t && t.spend > 0 ? t.reg / t.spend : null;
  };
  const svg = lineChart({
    title,
    x: dates,
    yLabel: 'share of the oracle',
    series: LEARNERS.map((p) => ({
      name: p,
      values: dates.map((date) => {
        const v = rpsOn(p, date);
        const o = rpsOn('oracle', date);
        return v !== null && o ? v / o : null;
      }),
    })),
  });
  fs.writeFileSync(path.resolve(file), svg);
  process.stderr.write(`bench:policy: wrote ${file}\n`);
}

type WorldReport = { name: string; parameters: ReturnType<typeof familyParameters> } & ReturnType<
  typeof summarize
>;

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

try {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  if (opts.only && !opts.family)
    throw new Error('--only picks worlds of a family: give --family N');
  if (opts.family) {
    const seeds = opts.seeds ?? 3;
    const worlds: WorldReport[] = [];
    let worst: { name: string; measured: Measured; change: number } | null = null;
    const indices = opts.only ?? Array.from({ length: opts.family }, (_, i) => i);
    const outside = indices.find((i) => i >= opts.family!);
    if (outside !== undefined)
      throw new Error(
        `--only ${outside}: a family of ${opts.family} has worlds 0 to ${opts.family - 1}`,
      );
    for (const [n, i] of indices.entries()) {
      let measured: Measured | null = null;
      for (let s = 0; s < seeds; s++) {
        // Each seed generates its own catalogue and economics, not only its own hidden truth.
        const world = worldFromSpec(familyWorldSpec(i, s), `family-${i}`);
        measured = merge(
          measured,
          measure(world, 1, (done, total) =>
            process.stderr.write(
              `\rbench:policy family: world ${n + 1}/${indices.length} (family-${i}), seed ${s + 1}/${seeds}, ${done}/${total} policies, ${elapsed()}`,
            ),
          ),
        );
      }
      const summary = summarize(measured!);
      worlds.push({ name: `family-${i}`, parameters: familyParameters(i), ...summary });
      const change = summary.cpr_change_vs_heuristic.ml ?? Infinity;
      if (!worst || change > worst.change)
        worst = { name: `family-${i}`, measured: measured!, change };
    }
    process.stderr.write('\n');
    const pick = (f: (w: WorldReport) => number | null | undefined) =>
      worlds.map(f).filter((v): v is number => typeof v === 'number');
    const result = {
      family: opts.family,
      ...(opts.only && { only: opts.only }),
      seeds,
      days: opts.days,
      worlds,
      median: {
        ml_cpr_change_vs_heuristic: median(pick((w) => w.cpr_change_vs_heuristic.ml)),
        ml_share_of_oracle: median(pick((w) => w.registrations_per_spend_share_of_oracle.ml)),
        ml_steady_share_of_oracle: median(pick((w) => w.steady_share_of_oracle.ml)),
        first_week_ml_vs_heuristic: median(pick((w) => w.first_week_ml_vs_heuristic)),
      },
      // Over the family's worlds, the average of each world's mean absolute error.
      off_policy_mean_abs_relative_error: Object.fromEntries(
        (['ips', 'snips', 'dr'] as const).map((e) => [
          e,
          mean(pick((w) => w.off_policy.estimators[e].mean_abs_relative_error)),
        ]),
      ),
      worst: worlds.find((w) => w.name === worst?.name) ?? null,
      worlds_where_ml_loses_to_heuristic: worlds
        .filter((w) => (w.cpr_change_vs_heuristic.ml ?? 0) > 0)
        .map((w) => w.name),
      seconds: (Date.now() - started) / 1000,
    };
    if (opts.plot && worst)
      plot(
        worst.measured,
        `Registrations per spend relative to the oracle: ${worst.name} (the worst world), ${seeds} seed(s)`,
        opts.plot,
      );
    console.log(opts.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  } else {
    const world = loadWorld(path.resolve(opts.world));
    const seeds = opts.seeds ?? 5;
    const measured = measure(world, seeds, (done, total) =>
      process.stderr.write(
        `\rbench:policy ${world.name}: ${done}/${total} policy runs, ${elapsed()}`,
      ),
    );
    process.stderr.write('\n');
    const result = {
      world: world.name,
      days: opts.days,
      seeds,
      policies: measured.policies,
      ...summarize(measured),
      seconds: (Date.now() - started) / 1000,
    };
    if (opts.plot)
      plot(
        measured,
        `Registrations per spend relative to the oracle: ${world.name}, ${seeds} seed(s)`,
        opts.plot,
      );
    console.log(opts.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  }
} catch (err) {
  console.error(`bench:policy failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
