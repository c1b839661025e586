// Databases for tests: a fresh in-memory PGlite, or a fresh database on the test PostgreSQL
// server (TEST_DATABASE_URL, provided by `npm test`; started here when missing).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseHandle } from '../../db/database.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { startTempPostgres, type TempPostgres } from '../../scripts/lib/postgres.ts';

let ownServer: Promise<TempPostgres> | null = null;

async function adminUrl(): Promise<string> {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  if (!ownServer) {
    ownServer = startTempPostgres();
    const server = await ownServer;
    process.once('exit', () => server.stop());
  }
  return (await ownServer).url;
}

/** Creates an empty database on the test server and returns its URL. */
export async function createPostgresDatabase(): Promise<string> {
  const admin = await adminUrl();
  const name = `adloop_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export type DbKind = 'pglite' | 'postgres';
export const DB_KINDS: DbKind[] = ['pglite', 'postgres'];

/** A migrated, empty database of the given kind. */
export async function freshDatabase(kind: DbKind): Promise<DatabaseHandle> {
  const handle =
    kind === 'pglite'
      ? await openDatabase({ pgliteDir: 'memory://' })
      : await openDatabase({ url: await createPostgresDatabase() });
  await migrateToLatest(handle.db);
  return handle;
}
