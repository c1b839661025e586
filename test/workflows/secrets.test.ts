// Secrets never leave the process that uses them: with distinctive tokens for Meta, TikTok and
// Adjust, a real loop worker and render worker (child processes, debug logging) run two days of
// the loop (the second with Meta's reporting down, so failures and their messages are recorded
// too); then no token appears in any workflow history (payloads decoded), in any line either
// worker printed, in the operator CLI's output, or in the report and its CSV and JSON exports.
import { writeSandboxAccounts } from '../../sandbox/environment.ts';
import { sandboxAccounts } from '../../sandbox/accounts.ts';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dailyLoopWorkflowId } from '../../core/ids.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { dailyLoop } from '../../workflows/index.ts';
import { DEMO_WORLD, ROOT } from '../helpers/stack.ts';
import { testEnvironment, uniqueTaskQueue } from '../helpers/temporal.ts';

const MARKETS = ['SE', 'EG'];
const secret = (name: string) => `${name}-${randomBytes(12).toString('hex')}`;

/** Every payload in a history JSON, decoded (they are base64 there, so a plain search misses). */
function decodedPayloads(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) decodedPayloads(v, out);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.data === 'string' && o.metadata && typeof o.metadata === 'object')
      out.push(Buffer.from(o.data, 'base64').toString('utf8'));
    for (const v of Object.values(o)) decodedPayloads(v, out);
  }
  return out;
}

describe('no access token in histories, logs or reports', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: Sandbox;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-secrets-'));
  const taskQueue = uniqueTaskQueue('secrets');
  const renderTaskQueue = uniqueTaskQueue('secrets-render');
  const tokens = {
    meta: secret('meta-token'),
    tiktok: secret('tiktok-token'),
    adjust: secret('adjust-token'),
  };
  const children: ChildProcess[] = [];
  const output: string[] = [];
  let workerEnv: NodeJS.ProcessEnv;

  function startChild(entry: string) {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
      cwd: ROOT,
      env: workerEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (b: Buffer) => output.push(b.toString()));
    child.stderr.on('data', (b: Buffer) => output.push(b.toString()));
    children.push(child);
  }

  before(async () => {
    env = await testEnvironment();
    // The demo world with this test's own tokens: the sandbox accepts only these.
    const world = JSON.parse(fs.readFileSync(DEMO_WORLD, 'utf8')) as {
      catalog: string;
      meta: { accessToken: string };
      [key: string]: unknown;
    };
    world.catalog = path.resolve(path.dirname(DEMO_WORLD), world.catalog);
    world.meta.accessToken = tokens.meta;
    world.tiktok = {
      accessToken: tokens.tiktok,
      advertiserId: '7000000000000000001',
      currency: 'USD',
    };
    world.mmp = { adjust: { apiToken: tokens.adjust, appToken: 'adloopapp' } };
    const worldFile = path.join(dir, 'world.json');
    fs.writeFileSync(worldFile, JSON.stringify(world));
    sandbox = await startSandbox({ world: worldFile, date: '2026-05-01' });
    sandbox.meta.review.rejectionRate = 0;
    sandbox.tiktok.review.rejectionRate = 0;

    workerEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      RENDER_TASK_QUEUE: renderTaskQueue,
      DATABASE_URL: '',
      PGLITE_DIR: path.join(dir, 'pglite'),
      CREATIVES_DIR: path.join(dir, 'creatives'),
      RENDER_KINDS: 'static',
      RENDER_RATIOS: '1:1',
      META_GRAPH_URL: sandbox.metaUrl,
      META_ACCESS_TOKEN: tokens.meta,
      ACCOUNTS_PATH: writeSandboxAccounts(sandboxAccounts(sandbox.world), dir),
      TIKTOK_BASE_URL: sandbox.tiktokUrl,
      TIKTOK_ACCESS_TOKEN: tokens.tiktok,
      MMP_PROVIDER: 'adjust',
      ADJUST_BASE_URL: sandbox.adjustUrl,
      ADJUST_API_TOKEN: tokens.adjust,
      ADJUST_APP_TOKEN: 'adloopapp',
      METRICS_ADDRESS: 'off',
      // Everything the Temporal runtime and the workers can say.
      ADLOOP_LOG_LEVEL: 'debug',
    };
    startChild('workers/loop.ts');
    startChild('workers/render.ts');
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await sandbox?.close();
    await env?.teardown();
    if (!process.env.KEEP_TEST_FILES) fs.rmSync(dir, { recursive: true, force: true });
  });

  const leaks = (text: string) =>
    Object.entries(tokens)
      .filter(([, t]) => text.includes(t))
      .map(([name]) => name);

  it('keeps every token out of histories, worker logs and the CLI', async () => {
    for (const date of ['2026-05-01', '2026-05-02']) {
      sandbox.clock.set(date);
      // Day two: Meta's reporting is down, so failed attempts and their messages are recorded.
      sandbox.meta.faults.insightsDown = date === '2026-05-02';
      const result = await env.client.workflow.execute(dailyLoop, {
        workflowId: dailyLoopWorkflowId(date),
        taskQueue,
        args: [{ date, markets: MARKETS, renderTaskQueue }],
      });
      assert.deepEqual(
        result.markets.map((m) => m.status),
        ['completed', 'completed'],
      );
      if (date === '2026-05-02') assert.ok(result.markets.every((m) => m.fallbackUsed));
    }

    // Every workflow of this test: the two days and their market loops.
    const histories: string[] = [];
    for await (const w of env.client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
      const history = await env.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      const json = historyToJSON(history);
      histories.push(json, ...decodedPayloads(JSON.parse(json)));
    }
    const all = histories.join('\n');
    assert.ok(histories.length > 6, 'histories of the loops and their market loops were read');
    // The decoded payloads are really searched: today's inputs and a failure message are there.
    assert.match(all, /"market":"EG"/);
    assert.match(all, /insights|report/i);
    assert.deepEqual(leaks(all), [], 'a token is in a workflow history');

    // The CLI, against the running workers.
    const status = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'cli/adloop.ts'), 'status', 'SE', 'EG'],
      { cwd: ROOT, env: workerEnv, encoding: 'utf8' },
    );
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /last success: 2026-05-02/);
    output.push(status.stdout, status.stderr);

    // The report, asked of the running worker (it owns the embedded database), and its exports.
    const out = {
      html: path.join(dir, 'r.html'),
      csv: path.join(dir, 'r.csv'),
      json: path.join(dir, 'r.json'),
    };
    const report = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'cli/adloop.ts'),
        'report',
        '--from',
        '2026-04-25',
        '--to',
        '2026-05-02',
        '--out',
        out.html,
        '--csv',
        out.csv,
        '--json',
        out.json,
      ],
      { cwd: ROOT, env: workerEnv, encoding: 'utf8' },
    );
    assert.equal(report.status, 0, report.stderr);
    assert.match(report.stderr, /through Temporal/);
    output.push(report.stdout, report.stderr);
    const html = fs.readFileSync(out.html, 'utf8');
    assert.match(html, /data-market="EG"/);
    for (const file of Object.values(out))
      assert.deepEqual(leaks(fs.readFileSync(file, 'utf8')), [], `a token is in ${file}`);

    const logs = output.join('');
    assert.ok(logs.split('\n').length > 5, 'the workers printed their log lines');
    assert.deepEqual(leaks(logs), [], 'a token is in a log line');
  });
});
