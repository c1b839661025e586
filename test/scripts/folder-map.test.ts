// The README's folder map is the architecture's front page: it must name every top-level folder
// the repository has, and none it does not.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/stack.ts';

describe('README folder map', () => {
  it('names exactly the top-level folders in the repository', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.split('## Folder map')[1]?.split('\n## ')[0] ?? '';
    const block = section.split('```')[1] ?? '';
    const mapped = new Set(
      [...block.matchAll(/^([.\w-]+)\/\S*\s/gm)].map((m) => m[1]!).filter((f) => f !== '.ci'),
    );
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.includes('/'))
      .map((f) => f.split('/')[0]!)
      .filter((f) => f !== '.ci');
    const folders = new Set(tracked);
    assert.deepEqual([...mapped].sort(), [...folders].sort());
  });
});
