// The ranking code (heuristic, model, features, exploration, training) may only see what the loop
// observes. This walks its value imports and fails if any reaches sandbox/, where the simulator's
// hidden truth lives. Only the oracle and the benchmark harness may read it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ENTRIES = [
  'activities/rank/rank.ts',
  'activities/learn/train.ts',
  'bench/policy/ml-policy.ts',
  'ml/ranker.ts',
  'ml/rank-model.ts',
  'ml/features.ts',
];

/** Relative value imports of a file (`import type` is erased and cannot reach anything). */
function valueImports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*(import|export)\s+(?!type\b)[^;]*?from\s+'(\.[^']+)'/gms)) {
    out.push(path.resolve(path.dirname(file), m[2]!));
  }
  return out;
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

  it('the walker does see a sandbox import where there is one', () => {
    const files = [...reachable('bench/policy/policy-eval.ts')].map((f) => path.relative(ROOT, f));
    assert.ok(files.includes('sandbox/simulator.ts'));
  });
});
