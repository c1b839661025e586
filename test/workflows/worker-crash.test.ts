// Kill -9 the worker process in the middle of the deploy stage, right after the platform accepted
// an ad, start a fresh worker on the same database, and the loop completes with no duplicate ad.
import { writeSandboxAccounts } from '../../sandbox/environment.ts';
import { sandboxAccounts } from '../../sandbox/accounts.ts';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dailyLoopWorkflowId, marketLoopWorkflowId } from '../../core/ids.ts';
import { openDatabase } from '../../db/database.ts';
import { listStageEvents } from '../../db/runs.repository.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { dailyLoop } from '../../workflows/index.ts';
import { DEMO_WORLD, ROOT, sandboxAds } from '../helpers/stack.ts';
import { freePort } from '../../scripts/lib/ports.ts';
import { testEnvironment, uniqueTaskQueue } from '../helpers/temporal.ts';

const DATE = '2026-04-01';
const MARKETS = ['SE', 'DE', 'BR'];

describe('worker killed mid-deploy', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: Sandbox;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-crash-'));
  const taskQueue = uniqueTaskQueue('crash-test');
  const workers: ChildProcess[] = [];

  function startWorker(name: string, metricsAddress = 'off'): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'workers/loop.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        PGLITE_DIR: path.join(dir, 'pglite'),
        CREATIVES_DIR: path.join(dir, 'creatives'),
        // This worker renders too (the workflow is started with its queue as the render queue).
        RENDER_KINDS: 'static',
        RENDER_RATIOS: '1:1',
        META_GRAPH_URL: sandbox.metaUrl,
        META_ACCESS_TOKEN: sandbox.credentials.accessToken,
        ACCOUNTS_PATH: writeSandboxAccounts(sandboxAccounts(sandbox.world), dir),
        DATABASE_URL: '',
        METRICS_ADDRESS: metricsAddress,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = fs.createWriteStream(path.join(dir, `${name}.log`));
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    workers.push(child);
    return child;
  }
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once('exit', () => resolve()));

  before(async () => {
    env = await testEnvironment();
    sandbox = await startSandbox({ world: DEMO_WORLD, date: DATE });
  });
  after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await sandbox?.close();
    await env?.teardown();
    if (!process.env.KEEP_TEST_FILES) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('completes after a new worker takes over, with every ad created exactly once', async () => {
    const first = startWorker('worker-1');
    let killed = false;
    sandbox.meta.on('request', (e) => {
      // The platform has accepted an ad (ads go out in batch requests); the worker dies before
      // it can record it.
      if (!killed && e.method === 'POST' && e.status === 200 && sandboxAds(sandbox).length > 0) {
        killed = first.kill('SIGKILL');
      }
    });
    const handle = await env.client.workflow.start(dailyLoop, {
      workflowId: dailyLoopWorkflowId(DATE),
      taskQueue,
      args: [{ date: DATE, markets: MARKETS, renderTaskQueue: taskQueue }],
    });
    for (let i = 0; i < 600 && !killed; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(killed, 'the worker reached the deploy stage and was killed');
    await exited(first);
    assert.equal(first.signalCode, 'SIGKILL');
    const adsAtKill = sandboxAds(sandbox).length;

    const metricsPort = await freePort();
    const second = startWorker('worker-2', `127.0.0.1:${metricsPort}`);
    const result = await handle.result();
    // The new worker's Prometheus endpoint: Temporal's runtime metrics and adloop's counters.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^temporal_\w+/m, 'Temporal runtime metrics');
    assert.match(metrics, /^adloop_ads_created\{[^}]*platform="meta"[^}]*\} [1-9]/m);
    assert.match(metrics, /^adloop_platform_writes\{[^}]*result="ok"[^}]*\} [1-9]/m);
    assert.deepEqual(
      result.markets.map((m) => [m.market, m.status]),
      MARKETS.map((m) => [m, 'completed']),
    );
    const ads = sandboxAds(sandbox);
    const names = ads.map((a) => a.name);
    assert.ok(adsAtKill >= 1);
    assert.equal(new Set(names).size, names.length, `no duplicate ads: ${names.join(', ')}`);
    // The production default: an ad set per store (iOS and Android), three ads each.
    for (const market of MARKETS)
      for (const os of ['ios', 'android'])
        assert.equal(
          ads.filter((a) => a.name.startsWith(`adloop/${market}/${os}/`)).length,
          3,
          `${market} ${os}`,
        );
    const creatives = sandbox.world.metaAccounts.flatMap((a) =>
      sandbox.meta.store.list('adcreative', a.id.slice(4)),
    );
    assert.equal(
      new Set(creatives.map((c) => c.fields.name)).size,
      creatives.length,
      'no duplicate creatives',
    );

    second.kill('SIGTERM');
    await exited(second);
    assert.equal(second.exitCode, 0, 'the worker shuts down cleanly on SIGTERM');

    // The killed deploy was retried on the new worker: attempt 2 is in the audit log.
    const db = await openDatabase({ pgliteDir: path.join(dir, 'pglite') });
    try {
      const attempts = await Promise.all(
        MARKETS.map(async (m) =>
          Math.max(
            ...(await listStageEvents(db.db, marketLoopWorkflowId(m, DATE)))
              .filter((e) => e.stage === 'deploy')
              .map((e) => e.attempt),
          ),
        ),
      );
      assert.ok(
        attempts.some((a) => a >= 2),
        `a deploy was retried: ${attempts.join(', ')}`,
      );
    } finally {
      await db.close();
    }
  });
});
