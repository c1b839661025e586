// A throwaway PostgreSQL server for tests, started from the server binaries on this machine
// (Debian: /usr/lib/postgresql/<version>/bin). initdb refuses to run as root, so as root the
// server runs as the `postgres` user on a data directory handed to it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';

export function findPostgresBin(): string | null {
  if (process.env.PG_BIN && fs.existsSync(path.join(process.env.PG_BIN, 'initdb')))
    return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

export interface TempPostgres {
  url: string;
  /**
   * Stops the server as a crash would (immediate: connections dropped, no checkpoint) and starts
   * it again on the same port and data, as a database restarted under a running system.
   */
  restart(o?: { downMs?: number }): Promise<void>;
  stop(): void;
}

function run(cmd: string, args: string[], asUser: string | null) {
  const [bin, argv] = asUser ? ['runuser', ['-u', asUser, '--', cmd, ...args]] : [cmd, args];
  const res = spawnSync(bin, argv, { encoding: 'utf8' });
  if (res.status !== 0) {
    throw new Error(
      `${path.basename(cmd)} failed (${res.status ?? res.signal}): ${res.stderr || res.stdout}`,
    );
  }
}

/**
 * `durable: false` (the default, for tests) turns fsync off; benchmarks pass `durable: true` so
 * their numbers hold for a real server.
 */
export async function startTempPostgres(o: { durable?: boolean } = {}): Promise<TempPostgres> {
  const bin = findPostgresBin();
  if (!bin) {
    throw new Error(
      'PostgreSQL server binaries were not found. Install them (Debian: apt-get install postgresql-15) ' +
        'or set TEST_DATABASE_URL to a PostgreSQL database the tests may create databases in.',
    );
  }
  const isRoot = process.getuid?.() === 0;
  const user = isRoot ? 'postgres' : null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-pg-'));
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  if (user) run('chown', ['-R', `${user}:${user}`, dir], null);
  const port = await freePort();
  run(
    path.join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    user,
  );
  const start = () =>
    run(
      path.join(bin, 'pg_ctl'),
      [
        '-D',
        data,
        '-l',
        path.join(dir, 'server.log'),
        '-w',
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${o.durable ? '' : ' -c fsync=off'}`,
        'start',
      ],
      user,
    );
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart({ downMs = 0 } = {}) {
      run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], user);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      start();
    },
    stop() {
      try {
        run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], user);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
