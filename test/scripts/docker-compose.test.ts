// docker-compose.yml repeats a few facts the code owns: the search attributes, the task queues'
// defaults and the entrypoints. CI validates the file's syntax (`docker-compose config -q`); this
// keeps those facts from drifting away from the code.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigPart } from '../../core/config.ts';
import { SEARCH_ATTRIBUTES } from '../../core/search-attributes.ts';
import { ROOT } from '../helpers/stack.ts';

const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');

describe('docker-compose.yml', () => {
  it('registers every search attribute adloop sets, with its type', () => {
    const list = /for attribute in ([^;]+); do/.exec(compose)?.[1];
    assert.ok(list, 'the temporal-admin service loops over the search attributes');
    assert.deepEqual(
      list.trim().split(/\s+/).sort(),
      Object.entries(SEARCH_ATTRIBUTES)
        .map(([name, type]) => `${name}:${type}`)
        .sort(),
    );
  });

  it('defaults the task queues to what the code defaults them to', () => {
    const defaults = loadConfigPart(['TEMPORAL_TASK_QUEUE', 'RENDER_TASK_QUEUE'], {});
    assert.match(
      compose,
      new RegExp(
        `TEMPORAL_TASK_QUEUE: \\$\\{TEMPORAL_TASK_QUEUE:-${defaults.TEMPORAL_TASK_QUEUE}\\}`,
      ),
    );
    assert.match(
      compose,
      new RegExp(`RENDER_TASK_QUEUE: \\$\\{RENDER_TASK_QUEUE:-${defaults.RENDER_TASK_QUEUE}\\}`),
    );
  });

  it('starts files that exist, with metrics reachable from outside the container', () => {
    const started = [
      ...compose.matchAll(/'tsx', '([^']+\.ts)'|- ((?:scripts|cli)\/[\w-]+\.ts)/g),
    ].map((m) => m[1] ?? m[2]!);
    assert.deepEqual(started.sort(), ['cli/adloop.ts', 'workers/loop.ts', 'workers/render.ts']);
    for (const file of started) assert.ok(fs.existsSync(path.join(ROOT, file)), file);
    assert.equal([...compose.matchAll(/METRICS_ADDRESS: 0\.0\.0\.0:9464/g)].length, 2);
  });
});
