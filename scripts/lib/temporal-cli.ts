// Finds or installs the Temporal CLI and runs its dev server. The binary is looked up on PATH and
// in .tools/bin; otherwise it is built from source with Go (v1.5.1: the newest tag without a
// `replace` directive, so `go install` works). Nothing is downloaded as a prebuilt binary.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lineSplitter } from '../../core/lines.ts';
import { SEARCH_ATTRIBUTES } from '../../core/search-attributes.ts';
import { waitForPort } from './ports.ts';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const ROOT = path.resolve(import.meta.dirname, '../..');
export const TOOLS_BIN = path.join(ROOT, '.tools', 'bin');

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return null;
}

export function findTemporalCli(): string | null {
  if (process.env.TEMPORAL_CLI_PATH && fs.existsSync(process.env.TEMPORAL_CLI_PATH)) {
    return process.env.TEMPORAL_CLI_PATH;
  }
  const local = path.join(TOOLS_BIN, 'temporal');
  if (fs.existsSync(local)) return local;
  return onPath('temporal');
}

/**
 * Packages a cold `go install` of the CLI compiles (measured: go install -v with empty caches),
 * for the progress line (1,297 with Go 1.26, in 3m39s on 2 cores); other Go versions compile
 * about as many.
 */
const CLI_BUILD_PACKAGES = 1300;

/** Runs `go install -v`, reporting modules fetched and packages compiled every few seconds. */
function goInstall(
  go: string,
  log: (line: string) => void,
  everyMs = 10_000,
): Promise<{ code: number | null; tail: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      go,
      ['install', '-v', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`],
      {
        env: { ...process.env, GOBIN: TOOLS_BIN, GOFLAGS: '-mod=mod' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const started = Date.now();
    let downloaded = 0;
    let compiled = 0;

    const timer = setInterval(() => {
      const secs = Math.round((Date.now() - started) / 1000);
      const pct = Math.min(99, Math.round((100 * compiled) / CLI_BUILD_PACKAGES));
      log(
        `Temporal CLI build: ${downloaded} modules fetched, ${compiled} packages compiled ` +
          `(~${pct}%), ${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, '0')}s`,
      );
    }, everyMs);
    const output = lineSplitter((line) => {
      if (line.startsWith('go: downloading ')) downloaded++;
      else if (line && !line.startsWith('go: ') && !line.startsWith('#')) compiled++;
    });
    child.stderr.on('data', (d: Buffer) => output.push(d));
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, tail: output.tail });
    });
  });
}

/** Returns the CLI's path, building it with Go into .tools/bin when it is missing. */
export async function ensureTemporalCli(
  log: (line: string) => void = console.log,
): Promise<string> {
  const found = findTemporalCli();
  if (found) return found;
  const go =
    onPath('go') ?? (fs.existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
  if (!go) {
    throw new Error(
      'The Temporal CLI is not installed and Go is not available to build it.\n' +
        '  Install it one of these ways, then run again:\n' +
        `  - with Go >= 1.23: GOBIN=${TOOLS_BIN} go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}\n` +
        '  - or from https://docs.temporal.io/cli (put `temporal` on PATH or set TEMPORAL_CLI_PATH)',
    );
  }
  log(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${TOOLS_BIN} (one time: about 4 minutes on 2 cores, ~2 GB of memory)…`,
  );
  fs.mkdirSync(TOOLS_BIN, { recursive: true });
  const { code, tail } = await goInstall(go, log);
  const built = path.join(TOOLS_BIN, 'temporal');
  if (code !== 0 || !fs.existsSync(built)) {
    throw new Error(
      `building the Temporal CLI failed (go install exited ${code}): ${tail.trim().split('\n').slice(-5).join(' | ')}`,
    );
  }
  log(`Temporal CLI built: ${built}`);
  return built;
}

export interface DevServerOptions {
  cli: string;
  port: number;
  /** Web UI port; null runs headless. */
  uiPort: number | null;
  /** SQLite file for persistence; null keeps everything in memory. */
  dbFile: string | null;
  /** Where the server's output goes; null discards it. */
  logFile?: string | null;
  /** Codec server the UI decodes payloads with (the browser calls it); none when absent. */
  codecEndpoint?: string | null;
}

export interface DevServer {
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--log-level',
    'warn',
  ];
  if (o.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort));
  if (o.codecEndpoint) args.push('--ui-codec-endpoint', o.codecEndpoint);
  if (o.dbFile) {
    fs.mkdirSync(path.dirname(o.dbFile), { recursive: true });
    args.push('--db-filename', o.dbFile);
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES))
    args.push('--search-attribute', `${name}=${type}`);
  const out = o.logFile ? fs.openSync(o.logFile, 'a') : 'ignore';
  // With util-linux's setpriv the kernel kills the server when this process dies, however it
  // dies (even SIGKILL), so a crashed `npm start` never leaves a server holding the ports.
  const setpriv = fs.existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : null;
  const [cmd, argv] = setpriv
    ? [setpriv, ['--pdeathsig', 'KILL', '--', o.cli, ...args]]
    : [o.cli, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', out, out], detached: false });
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => ((exited = true), resolve())),
  );
  try {
    await Promise.race([
      waitForPort(o.port, 60_000),
      exit.then(() => {
        throw new Error(
          `the Temporal dev server exited at start${o.logFile ? `; see ${o.logFile}` : ''}`,
        );
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    address: `127.0.0.1:${o.port}`,
    process: child,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
