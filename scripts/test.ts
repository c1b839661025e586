// `npm test` runner: provides the real services the tests need, then runs every test file with
// node's test runner. A Temporal dev server (in memory, on free ports, with its Web UI) and a
// PostgreSQL server (TEST_DATABASE_URL if set, else a throwaway one from this machine's
// binaries) are started once and shared by all test files. What only the system can bring
// (libxgboost, PostgreSQL, the xgboost CLI, Chromium) is installed first when missing
// (scripts/lib/system-deps.ts).
//   npm test                      # everything
//   npm run test:only -- test/core  # a folder or files
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './lib/ports.ts';
import { startTempPostgres, type TempPostgres } from './lib/postgres.ts';
import { ensureSystemDeps } from './lib/system-deps.ts';
import { ensureTemporalCli, startDevServer } from './lib/temporal-cli.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

function testFiles(targets: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const stat = fs.statSync(p);
    if (stat.isDirectory()) {
      for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
    } else if (p.endsWith('.test.ts')) out.push(p);
  };
  for (const t of targets.length ? targets : ['test']) walk(path.resolve(ROOT, t));
  return out;
}

const files = testFiles(process.argv.slice(2));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const step = (msg: string) => console.log(`▸ ${msg}`);
await ensureSystemDeps('test', step);
const cli = await ensureTemporalCli(step);
// With its Web UI on a free port: the browser tests (test/browser) look at runs through it.
const uiPort = await freePort();
const temporal = await startDevServer({ cli, port: await freePort(), uiPort, dbFile: null });
let pg: TempPostgres | null = null;
let code: number;
try {
  let databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl) {
    pg = await startTempPostgres();
    databaseUrl = pg.url;
  }
  console.log(
    `test services: Temporal ${temporal.address}, PostgreSQL ${new URL(databaseUrl).host}`,
  );
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=1',
      // No test waits forever: one that hangs fails after 10 minutes and the rest still run.
      '--test-timeout=600000',
      '--test-reporter=spec',
      ...files,
    ],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        TEMPORAL_TEST_ADDRESS: temporal.address,
        TEMPORAL_TEST_UI_URL: `http://127.0.0.1:${uiPort}`,
        TEMPORAL_CLI_PATH: cli,
        TEST_DATABASE_URL: databaseUrl,
      },
    },
  );
  const stop = () => child.kill('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  code = await new Promise<number>((resolve) =>
    child.once('exit', (c, s) => resolve(c ?? (s ? 1 : 0))),
  );
} finally {
  await temporal.stop();
  pg?.stop();
}
process.exit(code);
