// The production-like stack one chaos scenario runs on, every part real and each one breakable:
// - its own Temporal dev server, persisted in SQLite, so it can be killed and started again;
// - the sandbox platforms in this process, so faults are switched live between requests;
// - its own database on a PostgreSQL server (shared by the scenarios; restartable);
// - the loop worker as a child process (it renders too), so it can be SIGKILLed and replaced.
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { CONFIG_KEYS } from '../../core/config.ts';
import { dailyLoopWorkflowId } from '../../core/ids.ts';
import type { BackfillResult, DailyLoopResult } from '../../core/types.ts';
import { openDatabase, type DatabaseHandle } from '../../db/database.ts';
import { sandboxAccounts } from '../../sandbox/accounts.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { writeSandboxAccounts } from '../../sandbox/environment.ts';
import { dailyLoop } from '../../workflows/index.ts';
import { freePort } from '../../scripts/lib/ports.ts';
import type { TempPostgres } from '../../scripts/lib/postgres.ts';
import { startDevServer, type DevServer } from '../../scripts/lib/temporal-cli.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Lookbacks the chaos workers run with; the audit compares exactly these days. */
export const METRICS_LOOKBACK_DAYS = 3;
export const ATTRIBUTION_LOOKBACK_DAYS = 3;
/** Client timeouts of the chaos workers: a hung request is cut after this. */
export const REQUEST_TIMEOUT_MS = 5000;

export interface ChaosStackOptions {
  /** The scenario's folder: Temporal's SQLite, worker logs, creatives. */
  dir: string;
  world: string;
  markets: string[];
  /** The day the sandbox starts on. */
  date: string;
  postgres: TempPostgres;
  /** Temporal CLI binary. */
  cli: string;
}

export interface ChaosStack {
  sandbox: Sandbox;
  client: Client;
  database: DatabaseHandle;
  taskQueue: string;
  /** The worker running now, if any. */
  readonly worker: ChildProcess | null;
  /**
   * Workers that exited on their own (not killed by the scenario): a supervisor (compose's
   * restart policy, systemd) would start another, and so does this stack, but each is a bug.
   */
  readonly crashes: string[];
  /** Starts a loop worker process (replacing none: kill the old one first). */
  startWorker(): ChildProcess;
  /** SIGKILLs the worker and waits until it is gone. */
  killWorker(): Promise<void>;
  /** Kills the Temporal dev server (SIGKILL) and starts it again on the same port and file. */
  restartTemporal(downMs: number): Promise<void>;
  /**
   * Runs `adloop backfill --from --to` for the stack's markets as an operator would (the CLI, on
   * the stack's Temporal and worker); resolves with its summary line, rejects when it fails.
   */
  backfill(from: string, to: string): Promise<string>;
  /** Runs the daily loop for `date`; waits through outages of the Temporal server. */
  runDay(date: string, timeoutMs: number): Promise<DailyLoopResult>;
  close(): Promise<void>;
}

/** True for errors of reaching the Temporal server (down, restarting), not of the workflow. */
function isConnectionError(err: unknown): boolean {
  if (err instanceof WorkflowFailedError) return false;
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? ''}`;
  return /unavailable|connect|ECONNREFUSED|ECONNRESET|deadline|transport|socket|closed|14 /i.test(
    text,
  );
}

export async function startChaosStack(o: ChaosStackOptions): Promise<ChaosStack> {
  fs.mkdirSync(o.dir, { recursive: true });
  const parts: Array<() => Promise<void> | void> = [];
  let closing = false;
  const close = async () => {
    closing = true;
    for (const stop of parts.reverse()) {
      try {
        await stop();
      } catch {
        // best effort: the next part still stops
      }
    }
  };
  try {
    // A database of its own on the shared server.
    const dbName = `adloop_chaos_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: o.postgres.url });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const url = new URL(o.postgres.url);
    url.pathname = `/${dbName}`;
    const databaseUrl = url.toString();

    const port = await freePort();
    const temporalOptions = {
      cli: o.cli,
      port,
      uiPort: null,
      dbFile: path.join(o.dir, 'temporal.db'),
      logFile: path.join(o.dir, 'temporal.log'),
    };
    let temporal: DevServer = await startDevServer(temporalOptions);
    parts.push(() => temporal.stop());

    const sandbox = await startSandbox({ world: o.world, date: o.date });
    parts.push(() => sandbox.close());

    const connection = await Connection.connect({ address: temporal.address });
    parts.push(() => connection.close());
    const client = new Client({ connection });

    // The driver's own view of the database (the audit, stage triggers).
    const database = await openDatabase({ url: databaseUrl });
    parts.push(() => database.close());

    const taskQueue = 'adloop-chaos';
    let worker: ChildProcess | null = null;
    let workers = 0;
    const crashes: string[] = [];
    // The worker gets this process's environment (PATH, HOME, locale) but none of adloop's own
    // settings from it: the scenario sets those, so a DEPLOY_MODE or token in the shell cannot
    // change or stall the runs.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) => !(CONFIG_KEYS as readonly string[]).includes(key),
      ),
    );
    const exited = (child: ChildProcess) =>
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stopWorker = async () => {
      if (!worker) return;
      const w = worker;
      worker = null;
      w.removeAllListeners('exit');
      if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
      await exited(w);
    };
    parts.push(stopWorker);

    /** The settings every adloop process of the stack runs with (the worker, the CLI). */
    const processEnv = (): NodeJS.ProcessEnv => ({
      ...inherited,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATABASE_URL: databaseUrl,
      CREATIVES_DIR: path.join(o.dir, 'creatives'),
      // A large catalog is served one market at a time.
      CATALOG_PATH: `${sandbox.metaUrl}/__sandbox/catalog.jsonl?market={market}`,
      // Stills only: Google's ads carry images, no YouTube videos (GOOGLE_VIDEO has no motion).
      RENDER_KINDS: 'static',
      RENDER_RATIOS: '1:1',
      ADS_PER_MARKET: '3',
      META_GRAPH_URL: sandbox.metaUrl,
      META_ACCESS_TOKEN: sandbox.credentials.accessToken,
      ACCOUNTS_PATH: writeSandboxAccounts(sandboxAccounts(sandbox.world), o.dir),
      META_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      TIKTOK_BASE_URL: sandbox.tiktokUrl,
      TIKTOK_ACCESS_TOKEN: sandbox.tiktokCredentials.accessToken,
      TIKTOK_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      // Google Ads (App campaigns) and YouTube: the sandbox's customer, reached through its
      // manager as the accounts file says (sandbox/accounts.ts).
      GOOGLE_ADS_DEVELOPER_TOKEN: sandbox.googleCredentials.developerToken,
      GOOGLE_ADS_CLIENT_ID: sandbox.googleCredentials.clientId,
      GOOGLE_ADS_CLIENT_SECRET: sandbox.googleCredentials.clientSecret,
      GOOGLE_ADS_REFRESH_TOKEN: sandbox.googleCredentials.refreshToken,
      GOOGLE_ADS_REST_URL: sandbox.googleUrls.rest,
      GOOGLE_ADS_GRPC_URL: sandbox.googleUrls.grpc,
      GOOGLE_OAUTH_TOKEN_URL: sandbox.googleUrls.token,
      GOOGLE_YOUTUBE_URL: sandbox.googleUrls.youtube,
      GOOGLE_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      MMP_PROVIDER: 'adjust',
      ADJUST_BASE_URL: sandbox.adjustUrl,
      ADJUST_API_TOKEN: sandbox.world.mmp.adjust.apiToken,
      ADJUST_APP_TOKEN: sandbox.world.mmp.adjust.appToken,
      METRICS_LOOKBACK_DAYS: String(METRICS_LOOKBACK_DAYS),
      ATTRIBUTION_LOOKBACK_DAYS: String(ATTRIBUTION_LOOKBACK_DAYS),
      METRICS_ADDRESS: 'off',
    });
    const stack: ChaosStack = {
      sandbox,
      client,
      database,
      taskQueue,
      get worker() {
        return worker;
      },
      crashes,
      startWorker() {
        workers += 1;
        const log = fs.openSync(path.join(o.dir, `worker-${workers}.log`), 'a');
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', path.join(ROOT, 'workers/loop.ts')],
          {
            cwd: ROOT,
            env: processEnv(),
            stdio: ['ignore', log, log],
          },
        );
        fs.closeSync(log);
        worker = child;
        const n = workers;
        child.once('exit', (code, signal) => {
          if (closing || worker !== child) return;
          crashes.push(
            `worker ${n} exited by itself (${signal ?? `code ${code}`}); see worker-${n}.log`,
          );
          worker = null;
          setTimeout(() => {
            if (!closing && !worker) stack.startWorker();
          }, 1000);
        });
        return child;
      },
      killWorker: stopWorker,
      async backfill(from, to) {
        const args = ['backfill', '--from', from, '--to', to, '--markets', o.markets.join(',')];
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', path.join(ROOT, 'cli/adloop.ts'), ...args, '--json'],
          { cwd: ROOT, env: processEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const code = await new Promise<number | null>((r) => child.once('exit', r));
        fs.writeFileSync(path.join(o.dir, 'backfill.log'), `${err}\n${out}`);
        if (code !== 0)
          throw new Error(
            `adloop ${args.join(' ')} exited ${code}: ${err.trim().split('\n').at(-1)}`,
          );
        const { totals: t } = JSON.parse(out) as BackfillResult;
        return `adloop ${args.join(' ')}: ${t.added} rows added, ${t.changed} changed, ${t.unchanged} unchanged`;
      },
      async restartTemporal(downMs) {
        temporal.process.kill('SIGKILL');
        await temporal.stop();
        await new Promise((r) => setTimeout(r, downMs));
        temporal = await startDevServer(temporalOptions);
      },
      async runDay(date, timeoutMs) {
        sandbox.clock.set(date);
        const deadline = Date.now() + timeoutMs;
        const handle = await client.workflow.start(dailyLoop, {
          workflowId: dailyLoopWorkflowId(date),
          taskQueue,
          args: [{ date, markets: o.markets, renderTaskQueue: taskQueue }],
        });
        const wait = async (): Promise<DailyLoopResult> => {
          for (;;) {
            try {
              return await handle.result();
            } catch (err) {
              if (!isConnectionError(err) || Date.now() > deadline) throw err;
              await new Promise((r) => setTimeout(r, 1000));
            }
          }
        };
        let timer: NodeJS.Timeout | undefined;
        try {
          return await Promise.race([
            wait(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () =>
                  reject(
                    new Error(`the loop of ${date} did not finish within ${timeoutMs / 1000} s`),
                  ),
                timeoutMs,
              );
            }),
          ]);
        } finally {
          clearTimeout(timer);
        }
      },
      close,
    };
    return stack;
  } catch (err) {
    await close();
    throw err;
  }
}
