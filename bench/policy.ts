// `npm run bench:policy -- --json --world FILE --days N --seeds K`: simulate N days of the loop on
// a world for each policy (random, heuristic, oracle) and print one JSON object comparing them.
// Progress goes to stderr, so stdout stays one JSON object.
import { Command, InvalidArgumentError } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { mlPolicy } from './policy/ml-policy.ts';
import { evaluatePolicies, heuristicPolicy } from './policy/policy-eval.ts';
import { oraclePolicy, randomPolicy } from './policy/policies.ts';
import { loadWorld } from '../sandbox/world.ts';
import { lineChart } from '../reports/line-chart.ts';

/** The steady state: days 15 to 28 of a run. */
const STEADY_FROM = 15;
const STEADY_TO = 28;

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${name} must be a whole number >= 1`);
  return n;
};

const opts = new Command()
  .name('npm run bench:policy --')
  .description('Compare ranking policies on a sandbox world.')
  .option('--world <file>', 'world file', 'sandbox/worlds/bench.json')
  .option('--days <n>', 'days to simulate', positiveInt('--days'), 28)
  .option('--seeds <n>', 'hidden truths to average over', positiveInt('--seeds'), 5)
  .option('--slots <n>', 'ads per market per day', positiveInt('--slots'), 3)
  .option('--json', 'print only the JSON result on stdout')
  .option('--plot <file.svg>', 'also draw each policy day by day, relative to the oracle')
  .parse()
  .opts<{
    world: string;
    days: number;
    seeds: number;
    slots: number;
    json?: boolean;
    plot?: string;
  }>();

try {
  const world = loadWorld(path.resolve(opts.world));
  const started = Date.now();
  // Per policy and day, summed over seeds: what the plot draws.
  const daily = new Map<string, Map<string, { reg: number; spend: number }>>();
  const policies = evaluatePolicies({
    world,
    days: opts.days,
    seeds: opts.seeds,
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
    onProgress: (done, total) =>
      process.stderr.write(
        `\rbench:policy ${world.name}: ${done}/${total} policy runs, ${((Date.now() - started) / 1000).toFixed(1)} s`,
      ),
  });
  process.stderr.write('\n');
  const rps = (p: string) => policies[p]!.registrations / Math.max(policies[p]!.spend, 1e-9);
  const dayTotals = (p: string, from: number, to: number) =>
    [...(daily.get(p) ?? new Map<string, { reg: number; spend: number }>()).values()].slice(
      from - 1,
      to,
    );
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
  const cpr = (p: string) => policies[p]!.cpr;
  const change = (p: string) => {
    const base = cpr('heuristic');
    const v = cpr(p);
    return base && v ? v / base - 1 : null;
  };
  const result = {
    world: world.name,
    days: opts.days,
    seeds: opts.seeds,
    policies,
    cpr_change_vs_heuristic: {
      random: change('random'),
      ml: change('ml'),
      oracle: change('oracle'),
    },
    registrations_per_spend_share_of_oracle: {
      random: rps('random') / rps('oracle'),
      heuristic: rps('heuristic') / rps('oracle'),
      ml: rps('ml') / rps('oracle'),
    },
    // Days 15 to 28: once every learner has had two weeks, what it settles at.
    steady_share_of_oracle: Object.fromEntries(
      ['random', 'heuristic', 'ml'].map((p) => [p, shareOfOracle(p, STEADY_FROM, STEADY_TO)]),
    ),
    // Days 1 to 7, each day's registrations per spend against the heuristic's, averaged: a learner
    // must not pay for its first week.
    first_week_ml_vs_heuristic: meanDailyRatio('ml', 'heuristic', 1, 7),
    seconds: (Date.now() - started) / 1000,
  };
  if (opts.plot) {
    const dates = [...(daily.get('oracle')?.keys() ?? [])];
    const rpsOn = (p: string, date: string) => {
      const t = daily.get(p)?.get(date);
      return t && t.spend > 0 ? t.reg / t.spend : null;
    };
    const svg = lineChart({
      title: `Registrations per spend relative to the oracle: ${world.name}, ${opts.seeds} seed(s)`,
      x: dates,
      yLabel: 'share of the oracle',
      series: ['random', 'heuristic', 'ml'].map((p) => ({
        name: p,
        values: dates.map((date) => {
          const v = rpsOn(p, date);
          const o = rpsOn('oracle', date);
          return v !== null && o ? v / o : null;
        }),
      })),
    });
    fs.writeFileSync(path.resolve(opts.plot), svg);
    process.stderr.write(`bench:policy: wrote ${opts.plot}\n`);
  }
  console.log(opts.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
} catch (err) {
  console.error(`bench:policy failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
