// adloop's import graph has no cycle, between files or folders (npm run import-graph prints it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cycles, importGraph, relativeImports } from '../../scripts/lib/import-graph.ts';
import { ROOT } from '../helpers/stack.ts';

describe('import graph', () => {
  it('finds cycles of any length, and self-imports', () => {
    const g = (edges: Record<string, string[]>) =>
      new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));
    assert.deepEqual(cycles(g({ a: ['b'], b: ['c'], c: [] })), []);
    assert.deepEqual(cycles(g({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] })), [['a', 'b', 'c']]);
    assert.deepEqual(cycles(g({ a: ['a'] })), [['a']]);
  });

  it('counts type-only imports too: they tie code together as much as value imports', () => {
    const src = "import type { T } from './types.ts';\nimport { a } from './a.ts';";
    assert.deepEqual(relativeImports(src, { types: true }), ['./types.ts', './a.ts']);
    assert.deepEqual(relativeImports(src, { types: false }), ['./a.ts']);
  });

  it('reads the real tree: every folder, no cycle between files or folders', () => {
    const graph = importGraph(ROOT);
    assert.ok(graph.files.size > 150, `only ${graph.files.size} files read`);
    assert.deepEqual([...(graph.folders.get('decisions') ?? [])], ['core']);
    assert.ok(graph.files.get('workflows/market-loop.ts')?.has('workflows/deploy-stage.ts'));
    assert.deepEqual(cycles(graph.files), []);
    assert.deepEqual(cycles(graph.folders), []);
  });
});
