// What only the operating system can bring, and bringing it. Everything else adloop needs arrives
// with `npm install` (ffmpeg, sharp's libvips, the Temporal SDK's core) or with the repository
// (the fonts). Left are libxgboost (no npm package carries it), and for the tests a PostgreSQL
// server, Debian's xgboost CLI (the binding's cross-check) and Chromium (the browser tests).
//
// `npm start` and `npm test` call ensureSystemDeps(): what is missing is installed with apt-get
// when this process may (root on Debian/Ubuntu, as on CI and these machines), from the
// distribution's own package archive and nothing else; otherwise the single command to run is
// printed. ADLOOP_BOOTSTRAP=print only prints it, =off skips the check.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { lineSplitter } from '../../core/lines.ts';
import { loadConfigPart } from '../../core/config.ts';
import { useXgboostLibrary, xgboostAvailable } from '../../ml/xgboost.ts';
import { findPostgresBin } from './postgres.ts';

export type Purpose = 'start' | 'test';

export interface SystemRequirement {
  id: string;
  /** What it is and what adloop does with it. */
  what: string;
  /** Debian packages that bring it. */
  packages: string[];
  /** Who needs it: `npm start` (and the workers), `npm test`, or both. */
  for: readonly Purpose[];
  /** Whether it is on this machine (or not needed because it is configured elsewhere). */
  present: () => boolean;
  /** What happens without it, when it cannot be installed. */
  without: string;
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The system requirements, in install order. */
export const SYSTEM_REQUIREMENTS: readonly SystemRequirement[] = [
  {
    id: 'libxgboost',
    what: 'libxgboost, the ranking model (ml/xgboost.ts through koffi)',
    packages: ['libxgboost0'],
    for: ['start', 'test'],
    present: () => {
      useXgboostLibrary(loadConfigPart(['XGBOOST_LIBRARY_PATH']).XGBOOST_LIBRARY_PATH);
      return xgboostAvailable();
    },
    without: 'every market ranks with the heuristic, and the run records why',
  },
  {
    id: 'xgboost-cli',
    what: "Debian's xgboost CLI, which the binding's test cross-checks against",
    packages: ['xgboost'],
    for: ['test'],
    present: () => executable('/usr/bin/xgboost'),
    without: 'the cross-check test is skipped',
  },
  {
    id: 'postgresql',
    what: 'PostgreSQL server binaries for the database tests (or TEST_DATABASE_URL)',
    packages: ['postgresql'],
    for: ['test'],
    present: () => Boolean(process.env.TEST_DATABASE_URL) || findPostgresBin() !== null,
    without: 'npm test cannot start its database',
  },
  {
    id: 'chromium',
    what: 'Chromium for the browser tests (or CHROMIUM_PATH)',
    packages: ['chromium'],
    for: ['test'],
    present: () => executable(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'),
    without: 'the browser tests fail',
  },
];

export interface Bootstrap {
  /** Requirements that were missing, by id. */
  missing: string[];
  /** Installed now. */
  installed: string[];
  /** Still missing afterwards, each with the consequence. */
  stillMissing: SystemRequirement[];
  /** The one command that would install what is still missing (null: nothing is). */
  command: string | null;
}

export type Mode = 'install' | 'print' | 'off';

function bootstrapMode(): Mode {
  const v = (process.env.ADLOOP_BOOTSTRAP ?? 'install').trim().toLowerCase();
  if (v === 'install' || v === 'print' || v === 'off') return v;
  throw new Error(`ADLOOP_BOOTSTRAP must be install, print or off (got "${v}")`);
}

const hasApt = () => spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The Debian packages that bring `requirements`, each once. */
const packagesOf = (requirements: readonly SystemRequirement[]) => [
  ...new Set(requirements.flatMap((r) => r.packages)),
];

function installCommand(packages: string[]): string {
  const apt = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  return isRoot() ? `apt-get update && ${apt}` : `sudo apt-get update && sudo ${apt}`;
}

/**
 * Runs apt-get, printing every few seconds how far it is (packages fetched and set up, of the
 * `total` its simulation announced; null: only when it is done) instead of apt's own output,
 * whose end is kept for errors.
 */
function aptGet(
  args: string[],
  log: (line: string) => void,
  total: number | null,
  label: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('apt-get', ['-o', 'Dpkg::Use-Pty=0', ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let fetched = 0;
    let setUp = 0;
    let lastReport = 0;
    let lastCounts = '';
    const started = Date.now();
    const report = (force = false) => {
      const now = Date.now();
      if (total === null || (!force && now - lastReport < 3000)) return;
      const of = total ? `/${total}` : '';
      const counts = `${fetched}${of} fetched, ${setUp}${of} set up`;
      if (force && counts === lastCounts) return;
      lastReport = now;
      lastCounts = counts;
      log(`${label}: ${counts} (${Math.round((now - started) / 1000)} s)`);
    };
    const output = lineSplitter((line) => {
      if (/^(Get|Hit):\d+/.test(line)) fetched++;
      else if (/^Setting up /.test(line)) setUp++;
    });
    const onData = (d: Buffer) => {
      output.push(d);
      report();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        if (total === null) log(`${label}: done (${Math.round((Date.now() - started) / 1000)} s)`);
        else report(true);
        resolve();
      } else
        reject(
          new Error(
            `apt-get ${args.join(' ')} exited with ${code}: ${output.tail.trim().split('\n').slice(-4).join(' | ')}`,
          ),
        );
    });
  });
}

/** How many packages apt would install for `packages` (its simulation), or null. */
function plannedCount(packages: string[]): number | null {
  const res = spawnSync(
    'apt-get',
    ['install', '-s', '-y', '--no-install-recommends', ...packages],
    { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } },
  );
  if (res.status !== 0) return null;
  return res.stdout.split('\n').filter((l) => l.startsWith('Inst ')).length;
}

/**
 * Checks the requirements of `purpose` (one or several) and brings what is missing (see the top of this file).
 * Never throws for a missing requirement: the caller decides what it cannot do without.
 */
export async function ensureSystemDeps(
  purpose: Purpose | readonly Purpose[],
  log: (line: string) => void = console.log,
  o: { requirements?: readonly SystemRequirement[]; mode?: Mode } = {},
): Promise<Bootstrap> {
  const nothing: Bootstrap = { missing: [], installed: [], stillMissing: [], command: null };
  const mode = o.mode ?? bootstrapMode();
  if (mode === 'off') return nothing;
  const purposes: readonly Purpose[] = typeof purpose === 'string' ? [purpose] : purpose;
  const missing = (o.requirements ?? SYSTEM_REQUIREMENTS).filter(
    (r) => purposes.some((p) => r.for.includes(p)) && !r.present(),
  );
  if (missing.length === 0) return nothing;
  const packages = packagesOf(missing);
  log(`System packages missing: ${missing.map((r) => r.what).join('; ')}`);
  if (mode === 'install' && isRoot() && hasApt()) {
    try {
      log(`Installing with apt-get: ${packages.join(' ')} (from the distribution's archive)`);
      await aptGet(['update', '-q'], log, null, 'apt-get update');
      await aptGet(
        ['install', '-y', '-q', '--no-install-recommends', ...packages],
        log,
        plannedCount(packages),
        'apt-get install',
      );
    } catch (err) {
      log(`Installing failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const stillMissing = missing.filter((r) => !r.present());
  const installed = missing.filter((r) => !stillMissing.includes(r)).map((r) => r.id);
  if (installed.length > 0) log(`Installed: ${installed.join(', ')}`);
  const command =
    stillMissing.length > 0 && hasApt() ? installCommand(packagesOf(stillMissing)) : null;
  for (const r of stillMissing) log(`Still missing: ${r.what}; without it ${r.without}`);
  if (stillMissing.length > 0)
    log(
      command
        ? `To install: ${command}`
        : `Install ${stillMissing.map((r) => r.what).join('; ')} with your system's package manager`,
    );
  return { missing: missing.map((r) => r.id), installed, stillMissing, command };
}
