// docker-compose.yml repeats a few facts the code owns: the search attributes, the task queues'
// defaults and the entrypoints. CI validates the file's syntax (`docker-compose config -q`); this
// keeps those facts from drifting away from the code.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigPart } from '../../core/config.ts';
import { SEARCH_ATTRIBUTES } from '../../core/search-attributes.ts';
import { TEMPORAL_CONNECTION_SETTINGS } from '../../core/temporal-connection.ts';
import { CODEC_ACCESS_SETTINGS } from '../../ops/codec-server.ts';
import { ROOT } from '../helpers/stack.ts';

const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const mtls = fs.readFileSync(path.join(ROOT, 'docker-compose.mtls.yml'), 'utf8');

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

  it('passes the codec server every setting that says who may call it', () => {
    const codec = compose.slice(compose.indexOf('  codec-server:'));
    for (const setting of CODEC_ACCESS_SETTINGS) assert.match(codec, new RegExp(`${setting}: `));
  });

  it('gives every adloop service that reaches Temporal the TLS settings it reads, in the mTLS file', () => {
    const block = /x-tls-client-env: &tls-client-env\n((?: {2}.+\n)+)/.exec(mtls)?.[1];
    assert.ok(block, 'the mTLS file defines the client settings once');
    const names = [...block.matchAll(/^ {2}(\w+):/gm)].map((m) => m[1]);
    assert.deepEqual(
      names.sort(),
      TEMPORAL_CONNECTION_SETTINGS.filter((s) => s.startsWith('TEMPORAL_TLS_')).sort(),
    );
    for (const service of ['worker-loop', 'worker-render', 'setup', 'temporal-admin']) {
      const at = mtls.indexOf(`\n  ${service}:`);
      assert.ok(at > 0, service);
      assert.match(mtls.slice(at, at + 300), /<<: \*tls-client-env/, service);
    }
    // Only the files ops/temporal-certs.sh makes.
    const script = fs.readFileSync(path.join(ROOT, 'ops/temporal-certs.sh'), 'utf8');
    for (const [, file = ''] of mtls.matchAll(/\/etc\/temporal-tls\/([\w.]+)/g)) {
      const made = file === 'ca.crt' || new RegExp(`sign ${file.split('.')[0]} `).test(script);
      assert.ok(made, `${file} is made by ops/temporal-certs.sh`);
    }
  });
});
