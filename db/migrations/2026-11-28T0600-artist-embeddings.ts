// Artists' embeddings from the catalog: the ranking model fits each market's taste over them.
// Frozen: later changes go in new migrations.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('artists').addColumn('embedding', 'jsonb').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('artists').dropColumn('embedding').execute();
}
