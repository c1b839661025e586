// `npm start`: the whole adloop on one machine, embedded defaults. It builds the Temporal CLI if
// it is missing, starts the Temporal dev server (SQLite under .data/, UI on :8233), the sandbox ad
// platform, the worker (which owns the PGlite database) and runs today's loop for every demo
// market, printing each market's stages. Running it again the same day attaches or no-ops.
import { Client, Connection } from '@temporalio/client';
import { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../core/config.ts';
import { formatFindings } from '../ops/preflight.ts';
import { runPreflight } from '../workers/preflight.ts';
import { parseIsoDate, todayUtc } from '../core/dates.ts';
import { readCatalogFile } from '../core/catalog.ts';
import type { Sandbox } from '../sandbox/index.ts';
import { startLoopWorker, type LoopWorker } from '../workers/loop-worker.ts';
import { installRuntime } from '../workers/runtime.ts';
import { codecAccessFrom, startCodecServer } from '../ops/codec-server.ts';
import { dataConverterOptions, payloadCodecFrom } from '../core/payload-codec.ts';
import { startRenderWorker } from '../workers/render-worker.ts';
import { formatResult, startDailyLoop, watchMarkets } from '../cli/daily-loop-client.ts';
import { isListening } from './lib/ports.ts';
import { DEFAULT_WORLD, startSandboxEnv, usesSandbox } from '../sandbox/environment.ts';
import { ensureSearchAttributes } from './lib/register-search-attributes.ts';
import { ensureTemporalCli, startDevServer, type DevServer } from './lib/temporal-cli.ts';
import { ensureSystemDeps } from './lib/system-deps.ts';
import { expectedRanker, policyFor, RANK_MODEL_NAME } from '../activities/rank/model-inputs.ts';
import { championModel } from '../db/models.repository.ts';
import { useXgboostLibrary, xgboostVersion } from '../ml/xgboost.ts';
import { temporalConnectionOptions } from '../core/temporal-connection.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const DATA = path.join(ROOT, '.data');

const program = new Command()
  .name('npm start --')
  .description('Run today’s adloop for every demo market on the embedded stack.')
  .option('--date <YYYY-MM-DD>', 'business date to run (default: today, UTC)')
  .option('--markets <codes>', 'comma-separated market codes (default: every catalog market)')
  .option('--world <file>', 'sandbox world', DEFAULT_WORLD)
  .option(
    '--serve',
    'keep the Temporal UI and worker up after the loop until Ctrl-C (default when run in a terminal)',
  )
  .option('--no-serve', 'exit when the loop has finished (default when not in a terminal)')
  .parse();
const opts = program.opts<{ date?: string; markets?: string; world: string; serve?: boolean }>();

const stack: Array<{ name: string; stop: () => Promise<void> }> = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const part of stack.reverse()) {
      try {
        await part.stop();
      } catch (err) {
        console.error(`  stopping ${part.name} failed: ${(err as Error).message}`);
      }
    }
  }
  process.exit(code);
}
// Output piped into a pager or `head` that exits: stop cleanly instead of dying on EPIPE and
// leaving the dev server behind.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') void stopAll(0);
});
process.on('uncaughtException', (err) => {
  console.error(`adloop start: ${err.message}`);
  void stopAll(1);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping the worker, the sandbox and the Temporal dev server…`);
    void stopAll(130);
  });
}

const step = (msg: string) => console.log(`▸ ${msg}`);

try {
  if (fs.existsSync(path.join(ROOT, '.env'))) process.loadEnvFile(path.join(ROOT, '.env'));
  const date = parseIsoDate(opts.date ?? todayUtc(), '--date');
  fs.mkdirSync(DATA, { recursive: true });

  // 0. What only the system can bring (libxgboost): installed now when this process may.
  await ensureSystemDeps('start', step);

  // 1. Temporal: reuse a server already listening, else start the dev server on SQLite.
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const [host, portText] = address.split(':');
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
  let devServer: DevServer | null = null;
  if (await isListening(Number(portText), host)) {
    step(`Temporal: using the server already at ${address}`);
  } else {
    const cli = await ensureTemporalCli(step);
    step(
      `Temporal: starting the dev server on ${address} (UI :${uiPort}, history in .data/temporal.db)`,
    );
    devServer = await startDevServer({
      cli,
      port: Number(portText),
      uiPort,
      // With encrypted payloads the UI decodes them through the codec server started below.
      codecEndpoint: process.env.PAYLOAD_KEY
        ? `http://localhost:${process.env.CODEC_SERVER_PORT ?? 8888}`
        : null,
      dbFile: path.join(DATA, 'temporal.db'),
      logFile: path.join(DATA, 'temporal.log'),
    });
    const server = devServer;
    stack.push({ name: 'Temporal dev server', stop: () => server.stop() });
  }

  // 2. Sandbox ad platform, unless a real Graph API is configured.
  let sandbox: Sandbox | null = null;
  if (usesSandbox()) {
    sandbox = await startSandboxEnv({
      world: opts.world,
      // A given --date is simulated; otherwise the sandbox follows the wall clock, so scheduled
      // runs on later days (adloop schedule create) see their own day.
      date: opts.date ? date : undefined,
      port: Number(process.env.SANDBOX_META_PORT ?? 4010),
    });
    const sb = sandbox;
    stack.push({ name: 'sandbox', stop: () => sb.close() });
    step(
      `Sandbox: world "${sandbox.world.name}": Meta ${sandbox.metaUrl}, TikTok ${sandbox.tiktokUrl}, Google Ads ${sandbox.googleUrls.rest} (gRPC ${sandbox.googleUrls.grpc}), Adjust ${sandbox.adjustUrl}, Branch ${sandbox.branchUrl}`,
    );
  }

  // 3. The preflight (adloop check): every account ready before anything is written.
  const config = loadConfig();
  const findings = await runPreflight();
  const failing = findings.filter((f) => f.level === 'fail');
  step(
    `Accounts (${config.ACCOUNTS_PATH}): ${findings.length - failing.length} of ${findings.length} checks pass; deploy mode ${config.DEPLOY_MODE}`,
  );
  for (const line of formatFindings(findings.filter((f) => f.level !== 'ok')))
    console.log(`  ${line}`);
  if (failing.length > 0)
    throw new Error(
      `the accounts are not ready (${failing.length} problem${failing.length > 1 ? 's' : ''} above): fix them, then npm run adloop -- check`,
    );

  // 4. The worker, in this process: it owns the embedded database.
  const { metricsUrl } = installRuntime(config);
  const codec = payloadCodecFrom(config);
  if (codec) {
    const codecServer = await startCodecServer(codec, {
      port: config.CODEC_SERVER_PORT,
      origins: [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`],
      access: codecAccessFrom(config),
    });
    stack.push({ name: 'codec server', stop: () => codecServer.close() });
    step(
      `Payloads: encrypted (AES-GCM, key ${config.PAYLOAD_KEY_ID}); the UI decodes them through ${codecServer.url}`,
    );
  }
  const worker: LoopWorker = await startLoopWorker(config);
  stack.push({ name: 'worker', stop: () => worker.shutdown() });
  step(`Worker: task queue ${config.TEMPORAL_TASK_QUEUE}, database ${worker.database.where}`);
  // Render workers need no database, so in production they run apart (`npm run worker:render`);
  // here one runs in this process.
  const render = await startRenderWorker(config);
  stack.push({ name: 'render worker', stop: () => render.shutdown() });
  step(
    `Render worker: task queue ${config.RENDER_TASK_QUEUE}, ${render.concurrency} at once, ${config.RENDER_KINDS.join(',')} in ${config.RENDER_RATIOS.join(',')}`,
  );

  // 5. The loop. First, which ranker each market will use and why, so that a missing library or
  //    model is said here and not only found later in a run's degraded reasons.
  const markets = opts.markets
    ? opts.markets.split(',').map((m) => m.trim().toUpperCase())
    : readCatalogFile(config.CATALOG_PATH).markets.map((m) => m.code);
  let xgboost: Parameters<typeof expectedRanker>[0]['xgboost'];
  try {
    useXgboostLibrary(config.XGBOOST_LIBRARY_PATH);
    xgboost = { loads: true, version: xgboostVersion() };
  } catch (err) {
    xgboost = { loads: false, error: err instanceof Error ? err.message : String(err) };
  }
  const champion = await championModel(worker.database.db, RANK_MODEL_NAME);
  for (const market of markets) {
    const outlook = expectedRanker({
      policy: policyFor(config, market),
      xgboost,
      champion: champion?.artifact
        ? { version: champion.version, trainingTo: champion.training_to }
        : null,
    });
    step(`Ranking ${market}: ${outlook.ranker}; ${outlook.why}`);
  }
  const connection = await Connection.connect(temporalConnectionOptions(config));
  stack.push({ name: 'client', stop: () => connection.close() });
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    ...dataConverterOptions(codec),
  });
  const added = await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
  if (added.length > 0) step(`Temporal: registered search attributes ${added.join(', ')}`);
  const { handle, how } = await startDailyLoop(client, {
    date,
    markets,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    renderTaskQueue: config.RENDER_TASK_QUEUE,
  });
  step(
    how === 'started'
      ? `Loop ${handle.workflowId}: started for ${markets.join(', ')}`
      : how === 'attached'
        ? `Loop ${handle.workflowId}: already running, attached`
        : `Loop ${handle.workflowId}: already completed for this date; nothing to do (use --date to run another day)`,
  );
  const result = handle.result();
  if (how !== 'already-completed') {
    const printedPlans = new Set<string>();
    const printedStage = new Map<string, string>();
    await watchMarkets(client, date, markets, result, (s) => {
      const stage = `${s.stage}${s.fallbackUsed ? ' (fallback: previous ranking)' : ''}`;
      if (printedStage.get(s.market) !== stage) {
        printedStage.set(s.market, stage);
        console.log(`  [${s.market}] ${stage}`);
      }
      // The first render of a template takes a while (every ratio, static and motion).
      if (s.stage === 'render' && s.render && s.render.total > 0)
        console.log(`  [${s.market}]   creatives rendered: ${s.render.done}/${s.render.total}`);
      // The deploy plan's diff, once per market, and how to answer when it waits for approval.
      if (s.deployPlan && !printedPlans.has(s.market)) {
        printedPlans.add(s.market);
        for (const line of s.deployPlan.lines) console.log(`  [${s.market}]   ${line}`);
      }
      if (s.stage === 'paused' && s.paused)
        console.log(
          `  [${s.market}]   paused by ${s.paused.by}: holding before its next platform write; npm run adloop -- resume ${s.market}`,
        );
      if (s.stage === 'awaiting-approval')
        console.log(
          `  [${s.market}]   waiting for approval until ${s.deployPlan?.awaitingApprovalUntil}: npm run deploy:approve -- --market ${s.market} --date ${date} --by <you> [--reject]`,
        );
    });
  }
  const outcome = await result;
  console.log(`\nResult for ${date}:`);
  for (const line of formatResult(outcome)) console.log(line);
  const failed = outcome.markets.filter((m) => m.status === 'failed').length;

  console.log('\nWhere to look:');
  if (devServer)
    console.log(
      `  Temporal UI:  http://localhost:${uiPort}/namespaces/default/workflows  (filter: Market = "SE")`,
    );
  console.log(
    `  Creatives:    ${config.CREATIVES_DIR}  (contact sheet: npm run gallery -- --date ${date})`,
  );
  console.log(`  Database:     ${worker.database.where}`);
  if (metricsUrl) console.log(`  Metrics:      ${metricsUrl}  (Prometheus)`);
  if (sandbox)
    console.log(
      `  Sandbox API:  ${sandbox.metaUrl}/v24.0/${sandbox.credentials.adAccountId}/ads?access_token=…`,
    );

  const serve = opts.serve ?? Boolean(process.stdin.isTTY);
  if (serve && devServer) {
    console.log('\nServing the Temporal UI and the worker. Press Ctrl-C to stop.');
    await new Promise(() => undefined);
  }
  await stopAll(failed > 0 ? 1 : 0);
} catch (err) {
  console.error(`\nadloop start failed: ${err instanceof Error ? err.message : String(err)}`);
  await stopAll(1);
}
