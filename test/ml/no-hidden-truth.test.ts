// The ranking code (heuristic, model, features, exploration, training) may only see what the loop
// observes. This walks its imports (every form that loads code) and fails if any reaches sandbox/,
// where the simulator's hidden truth lives; and it checks what the benchmark harness hands the
// learning policy at run time. Only the oracle and the harness itself may read the truth.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { mlPolicy } from '../../bench/policy/ml-policy.ts';
import { relativeImports } from '../../scripts/lib/import-graph.ts';
import { evaluatePolicies, type Policy } from '../../bench/policy/policy-eval.ts';
import { Simulator } from '../../sandbox/simulator.ts';
import { loadWorld } from '../../sandbox/world.ts';

/** Fields an artist, a creative-day or a template may show a policy: what the loop observes. */
const OBSERVED = new Set([
  'id',
  'genre',
  'popularity',
  'trend',
  'embedding',
  'theme',
  'market',
  'date',
  'artistId',
  'templateId',
  'daysLive',
  'impressions',
  'clicks',
  'spend',
  'spendMinor',
  'registrations',
  'subscriptions',
  'createdDate',
  'slots',
  'artists',
  'templateIds',
  'templates',
  'observed',
  'history',
  'live',
]);

/** Fails when `value` holds the simulator, a world, or any field the loop could not observe. */
function assertObservationsOnly(value: unknown, where: string, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  assert.ok(!(value instanceof Simulator), `${where} is the simulator`);
  if (Array.isArray(value)) {
    // Rows of one shape: the first few tell.
    value.slice(0, 3).forEach((v, i) => assertObservationsOnly(v, `${where}[${i}]`, seen));
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    assert.ok(OBSERVED.has(k), `${where}.${k} is not something the loop observes`);
    if (typeof v !== 'function') assertObservationsOnly(v, `${where}.${k}`, seen);
  }
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const ENTRIES = [
  'activities/rank/rank.ts',
  'activities/learn/train.ts',
  'bench/policy/ml-policy.ts',
  'ml/ranker.ts',
  'ml/rank-model.ts',
  'ml/features.ts',
];

function valueImports(file: string): string[] {
  return relativeImports(fs.readFileSync(file, 'utf8'), { types: false }).map((s) =>
    path.resolve(path.dirname(file), s),
  );
}

function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [path.join(ROOT, entry)];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const dep of valueImports(f)) if (dep.endsWith('.ts')) stack.push(dep);
  }
  return seen;
}

describe('ranking cannot reach the hidden truth', () => {
  for (const entry of ENTRIES) {
    it(`${entry} imports nothing from sandbox/`, () => {
      const files = [...reachable(entry)].map((f) => path.relative(ROOT, f));
      assert.ok(files.length > 1, 'the walker found the imports');
      assert.deepEqual(
        files.filter((f) => f.startsWith('sandbox/')),
        [],
      );
    });
  }

  it('reads every import form that loads code, and no type-only one', () => {
    const src = [
      "import { a } from './static.ts';",
      'import b, { type C } from "./mixed.ts";',
      "import {\n  d,\n  e,\n} from './multiline.ts';",
      "export * from './reexport.ts';",
      "export { f } from './named-reexport.ts';",
      "import './side-effect.ts';",
      "const g = await import('./dynamic.ts');",
      "const h = require('./required.js');",
      "import type { T } from './type-only.ts';",
      "export type { U } from './type-reexport.ts';",
    ].join('\n');
    assert.deepEqual(relativeImports(src, { types: false }).sort(), [
      './dynamic.ts',
      './mixed.ts',
      './multiline.ts',
      './named-reexport.ts',
      './reexport.ts',
      './required.js',
      './side-effect.ts',
      './static.ts',
    ]);
  });

  it('the harness hands the learning policy observations only, never the simulator or the truth', () => {
    const world = loadWorld(path.join(ROOT, 'sandbox/worlds/bench.json'));
    let checked = 0;
    const spy = (seed: number): Policy => {
      const inner = mlPolicy(seed);
      return {
        name: inner.name,
        prepare(day) {
          assertObservationsOnly(day, 'day');
          for (const m of world.catalog.markets)
            assertObservationsOnly(day.artists(m.code), 'artists');
          inner.prepare?.(day);
        },
        choose(ctx) {
          assertObservationsOnly(ctx, 'ctx');
          checked += 1;
          return inner.choose(ctx);
        },
        close: () => inner.close?.(),
      };
    };
    evaluatePolicies({ world, days: 5, seeds: 1, policies: [(_sim, seed) => spy(seed)] });
    assert.ok(checked >= 5 * world.catalog.markets.length, `${checked} contexts checked`);
  });

  it('the walker does see a sandbox import where there is one', () => {
    const files = [...reachable('bench/policy/policy-eval.ts')].map((f) => path.relative(ROOT, f));
    assert.ok(files.includes('sandbox/simulator.ts'));
  });
});
