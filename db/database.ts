// Opens the database adloop runs on: PostgreSQL through `pg` when a URL is given, else embedded
// PGlite in a directory owned by this process. Both return the same JS types: bigint and numeric
// as numbers, `date` as the YYYY-MM-DD string it is (never a timezone-shifted Date).
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type {
  ArtistPopularityTable,
  ArtistsTable,
  CatalogItemsTable,
  MarketsTable,
} from './catalog.table.ts';
import type {
  CreativeAssetsTable,
  CreativesTable,
  PlatformObjectsTable,
  RunCreativesTable,
  TemplatesTable,
} from './creatives.table.ts';
import type {
  AdAccountsTable,
  AdMetricsDailyTable,
  MmpAttributionTable,
} from './delivery.table.ts';
import type { ModelsTable } from './models.table.ts';
import type { CreativePerformanceTable } from './performance.table.ts';
import type {
  CreativeRejectionsTable,
  DeployPlansTable,
  PlatformWritesTable,
} from './deploy.table.ts';
import { lockDirectory } from './pglite-lock.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import { startPGliteThread } from './pglite-thread.ts';
import type { RankingItemsTable, RankingsTable } from './rankings.table.ts';
import type { RunsTable, StageEventsTable } from './runs.table.ts';
import type { IngestWatermarksTable } from './watermarks.table.ts';
import type { BudgetAllocationsTable } from './budgets.table.ts';

export interface Database {
  markets: MarketsTable;
  artists: ArtistsTable;
  artist_popularity: ArtistPopularityTable;
  catalog_items: CatalogItemsTable;
  ad_metrics_daily: AdMetricsDailyTable;
  mmp_attribution: MmpAttributionTable;
  ad_accounts: AdAccountsTable;
  models: ModelsTable;
  templates: TemplatesTable;
  creative_performance: CreativePerformanceTable;
  rankings: RankingsTable;
  ranking_items: RankingItemsTable;
  creatives: CreativesTable;
  creative_assets: CreativeAssetsTable;
  run_creatives: RunCreativesTable;
  platform_objects: PlatformObjectsTable;
  platform_writes: PlatformWritesTable;
  creative_rejections: CreativeRejectionsTable;
  deploy_plans: DeployPlansTable;
  runs: RunsTable;
  stage_events: StageEventsTable;
  ingest_watermarks: IngestWatermarksTable;
  budget_allocations: BudgetAllocationsTable;
}

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Human-readable location without credentials, for logs. */
  where: string;
  /** The pg pool on PostgreSQL, for what Kysely does not do (COPY); absent on PGlite. */
  pool?: pg.Pool;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; when absent, PGlite in `pgliteDir`. */
  url?: string | undefined;
  /** PGlite data directory; `memory://` for a throwaway in-memory database. */
  pgliteDir?: string;
}

const OID = { INT8: 20, NUMERIC: 1700, DATE: 1082 } as const;
const asNumber = (v: string) => Number(v);
const asIs = (v: string) => v;

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const url = new URL(options.url);
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 10,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
          if (oid === OID.INT8 || oid === OID.NUMERIC) return asNumber;
          if (oid === OID.DATE) return asIs;
          return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
        }) as typeof pg.types.getTypeParser,
      },
    });
    // An idle connection the server dropped (a restart, a failover, an idle timeout) is an error
    // on the pool; unheard, it would crash the process. The pool discards that connection and the
    // next query opens a new one; a query in flight fails and its activity is retried.
    pool.on('error', (err) => {
      console.warn(`adloop: PostgreSQL dropped an idle connection (${err.message}); reconnecting`);
    });
    // A connection in use that breaks fails its query (and the activity retries); its client also
    // emits 'error', which would crash the process unheard.
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      where: `postgres://${url.host}${url.pathname}`,
      pool,
      close: () => db.destroy(),
    };
  }
  const dir = options.pgliteDir ?? 'memory://';
  const lock = dir.startsWith('memory://') ? null : lockDirectory(dir);
  try {
    // On a thread of its own, so statements do not hold the worker's event loop.
    const pglite = await startPGliteThread(dir);
    const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    return {
      db,
      kind: 'pglite',
      where: dir,
      close: async () => {
        await db.destroy();
        lock?.release();
      },
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}
