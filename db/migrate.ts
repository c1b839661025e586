// Runs the migrations in db/migrations/. They are listed here explicitly (not read from disk) so
// the same code works from tsx, a bundle, or a test, and the order is reviewable in one place.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/2026-11-28T0000-initial.ts';
import * as attributionModels from './migrations/2026-11-28T0100-attribution-models.ts';
import * as learningMetrics from './migrations/2026-11-28T0200-learning-metrics.ts';
import * as adAccounts from './migrations/2026-11-28T0300-ad-accounts.ts';
import * as catalogContent from './migrations/2026-11-28T0400-catalog-content-model-version.ts';
import * as modelRegistry from './migrations/2026-11-28T0500-model-registry-exploration.ts';
import * as artistEmbeddings from './migrations/2026-11-28T0600-artist-embeddings.ts';
import * as creativeAssets from './migrations/2026-11-28T0700-creative-assets.ts';
import * as deploy from './migrations/2026-11-28T0800-deploy.ts';
import * as catalogAtScale from './migrations/2026-11-29T0000-catalog-at-scale.ts';
import * as performancePerMarket from './migrations/2026-11-29T0100-creative-performance-per-market.ts';
import * as ingestWatermarks from './migrations/2026-12-06T0000-ingest-watermarks.ts';
import * as budgetAllocations from './migrations/2026-12-06T0100-budget-allocations.ts';

const migrations: Record<string, Migration> = {
  '2026-11-28T0000-initial': initial,
  '2026-11-28T0100-attribution-models': attributionModels,
  '2026-11-28T0200-learning-metrics': learningMetrics,
  '2026-11-28T0300-ad-accounts': adAccounts,
  '2026-11-28T0400-catalog-content-model-version': catalogContent,
  '2026-11-28T0500-model-registry-exploration': modelRegistry,
  '2026-11-28T0600-artist-embeddings': artistEmbeddings,
  '2026-11-28T0700-creative-assets': creativeAssets,
  '2026-11-28T0800-deploy': deploy,
  '2026-11-29T0000-catalog-at-scale': catalogAtScale,
  '2026-11-29T0100-creative-performance-per-market': performancePerMarket,
  '2026-12-06T0000-ingest-watermarks': ingestWatermarks,
  '2026-12-06T0100-budget-allocations': budgetAllocations,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

/** Brings the schema to the latest migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const name = failed ? ` (${failed.migrationName})` : '';
    throw new Error(`database migration failed${name}: ${String(error)}`, { cause: error });
  }
  return (results ?? []).map((r) => r.migrationName);
}
