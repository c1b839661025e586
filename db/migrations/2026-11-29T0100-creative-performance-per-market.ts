// A creative's performance is kept per market. Creatives are content-addressed, so markets that
// get the same copy (the same language, or a template's fallback language) and rank the same
// artist share one creative hash; its performance rows (one per market and day) collided on the
// primary key (creative_hash, platform, as_of), and the second market's learn stage failed.
// Frozen: later changes go in new migrations.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('creative_performance')
    .dropConstraint('creative_performance_pk')
    .execute();
  await db.schema
    .alterTable('creative_performance')
    .addPrimaryKeyConstraint('creative_performance_pk', [
      'creative_hash',
      'platform',
      'as_of',
      'market',
    ])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('creative_performance')
    .dropConstraint('creative_performance_pk')
    .execute();
  await db.schema
    .alterTable('creative_performance')
    .addPrimaryKeyConstraint('creative_performance_pk', ['creative_hash', 'platform', 'as_of'])
    .execute();
}
