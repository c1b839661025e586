// The import graph of adloop's own code: which top-level folder imports which, and every cycle
// (between files, and between folders). ESLint keeps each folder's direction
// (eslint.config.js); this shows the whole picture and finds cycles, which no per-file rule can.
// Tests are left out (they may import anything); type-only imports count, since they tie code
// together as much as value imports do.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Relative imports of a source text: static and re-exporting imports (`import x from`,
 * `import { a, type B } from`, `export * from`), side-effect imports (`import './x.ts'`), dynamic
 * `import('./x.ts')` and `require('./x.js')`, in either quote. `import type` and `export type`
 * count only with `types`: TypeScript erases them, so they load no code.
 */
export function relativeImports(src: string, o: { types: boolean }): string[] {
  const out: string[] = [];
  const forms = [
    o.types
      ? /^\s*(?:import|export)\s+[^;'"]*?\bfrom\s*['"](\.[^'"]+)['"]/gm
      : /^\s*(?:import|export)\s+(?!type\b)[^;'"]*?\bfrom\s*['"](\.[^'"]+)['"]/gm,
    /^\s*import\s*['"](\.[^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g,
  ];
  for (const form of forms) for (const m of src.matchAll(form)) out.push(m[1]!);
  return out;
}

export interface ImportGraph {
  /** File -> the files it imports (paths relative to the root). */
  files: Map<string, Set<string>>;
  /** Folder -> the other top-level folders it imports. */
  folders: Map<string, Set<string>>;
}

/** Reads every tracked .ts file outside test/ under `root` and resolves its relative imports. */
export function importGraph(root: string): ImportGraph {
  const tracked = execFileSync('git', ['ls-files', '*.ts'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && !f.startsWith('test/') && !f.endsWith('.d.ts'));
  const files = new Map<string, Set<string>>();
  const folders = new Map<string, Set<string>>();
  for (const file of tracked) {
    const source = fs.readFileSync(path.join(root, file), 'utf8');
    const targets = new Set<string>();
    for (const specifier of relativeImports(source, { types: true })) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      if (target.startsWith('test/') || target.endsWith('.d.ts')) continue;
      targets.add(target);
    }
    files.set(file, targets);
    const from = file.split('/')[0]!;
    const set = folders.get(from) ?? new Set<string>();
    for (const t of targets) if (t.split('/')[0] !== from) set.add(t.split('/')[0]!);
    folders.set(from, set);
  }
  return { files, folders };
}

/** Strongly connected components with more than one member (or a self-import): the cycles. */
export function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}
