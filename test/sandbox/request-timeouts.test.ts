// The loop worker's platform clients take their request timeouts from the configuration
// (META_REQUEST_TIMEOUT_MS, TIKTOK_REQUEST_TIMEOUT_MS, MMP_REQUEST_TIMEOUT_MS): against calls the
// sandbox never answers (faults.*.timeoutRate), each fails as a transient timeout after its own.
import { writeSandboxAccounts } from '../../sandbox/environment.ts';
import { sandboxAccounts } from '../../sandbox/accounts.ts';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../core/config.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import { PlatformError, REQUEST_TRIES } from '../../platforms/errors.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { activityDeps } from '../../workers/loop-worker.ts';
import { DEMO_WORLD, ROOT } from '../helpers/stack.ts';

/** How long `call` took to fail, and with what. */
async function failure(call: () => Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  const started = performance.now();
  try {
    await call();
  } catch (err) {
    return { ms: performance.now() - started, err };
  }
  assert.fail('the call was answered');
}

/** A read is tried REQUEST_TRIES times (backing off 250 ms, 500 ms, 1 s, ±25%) before it fails. */
function assertTimedOut(
  { ms, err }: { ms: number; err: unknown },
  platform: string,
  message: RegExp,
  timeoutMs: number,
  tries = 1,
) {
  assert.ok(err instanceof PlatformError, `a PlatformError, got ${String(err)}`);
  assert.equal(err.platform, platform);
  assert.equal(err.kind, 'transient');
  assert.match(err.message, message);
  const backoff = tries > 1 ? 250 * (2 ** (tries - 1) - 1) : 0;
  const least = tries * timeoutMs + backoff * 0.75;
  assert.ok(
    ms >= least - 10 && ms < tries * timeoutMs + backoff * 1.25 + 700,
    `${platform} failed after ${ms} ms`,
  );
}

describe('request timeouts from the configuration', () => {
  let sandbox: Sandbox;
  /** An "MMP" that accepts connections and never answers. */
  let silent: http.Server;
  let silentUrl: string;
  const creativesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-timeouts-'));

  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: '2026-03-01' });
    silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  after(async () => {
    silent?.closeAllConnections();
    await new Promise((resolve) => silent?.close(resolve));
    await sandbox?.close();
    fs.rmSync(creativesDir, { recursive: true, force: true });
  });

  it('gives Meta, TikTok and the MMP the configured timeouts', async () => {
    const config = loadConfig(
      {
        META_GRAPH_URL: sandbox.metaUrl,
        META_ACCESS_TOKEN: sandbox.credentials.accessToken,
        ACCOUNTS_PATH: writeSandboxAccounts(sandboxAccounts(sandbox.world), creativesDir),
        META_REQUEST_TIMEOUT_MS: '200',
        TIKTOK_BASE_URL: sandbox.tiktokUrl,
        TIKTOK_ACCESS_TOKEN: sandbox.tiktokCredentials.accessToken,
        TIKTOK_REQUEST_TIMEOUT_MS: '300',
        MMP_PROVIDER: 'adjust',
        ADJUST_BASE_URL: silentUrl,
        ADJUST_API_TOKEN: sandbox.world.mmp.adjust.apiToken,
        ADJUST_APP_TOKEN: sandbox.world.mmp.adjust.appToken,
        MMP_REQUEST_TIMEOUT_MS: '250',
        CREATIVES_DIR: creativesDir,
      },
      ROOT,
    );
    // Building the clients touches no database.
    const deps = activityDeps(config, {} as DatabaseHandle);
    for (const faults of [sandbox.meta.faults, sandbox.tiktok.faults]) {
      faults.timeoutRate = 1;
      faults.hangMs = 3_000;
    }
    try {
      assertTimedOut(
        await failure(() =>
          deps.meta(sandbox.credentials.adAccountId).findByName('campaigns', 'x'),
        ),
        'meta',
        /^meta transient error: request timed out after 200 ms$/,
        200,
        REQUEST_TRIES,
      );
      assertTimedOut(
        await failure(() =>
          deps.tiktok!(sandbox.tiktokCredentials.advertiserId).findByName('campaign', 'x'),
        ),
        'tiktok',
        /^tiktok transient error: request timed out after 300 ms$/,
        300,
        REQUEST_TRIES,
      );
      assertTimedOut(
        await failure(() => deps.mmp!.attribution({ since: '2026-03-01', until: '2026-03-01' })),
        'adjust',
        /timed out/,
        250,
      );
    } finally {
      sandbox.meta.faults.timeoutRate = 0;
      sandbox.tiktok.faults.timeoutRate = 0;
    }
  });
});
