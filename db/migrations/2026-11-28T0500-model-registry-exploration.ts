// The trained ranking model itself in the registry (so any worker can load the champion), how
// each ranked item was chosen (exploit or explore, with its probability, for off-policy
// evaluation), and why a run fell back. Frozen: later changes go in new migrations.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('models')
    .addColumn('artifact', 'text')
    .addColumn('promoted_at', 'timestamptz')
    .execute();
  await db.schema
    .alterTable('ranking_items')
    .addColumn('selection', 'text', (c) => c.notNull().defaultTo('exploit'))
    .addColumn('propensity', 'double precision', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .alterTable('runs')
    .addColumn('fallback_reasons', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('fallback_reasons').execute();
  await db.schema
    .alterTable('ranking_items')
    .dropColumn('selection')
    .dropColumn('propensity')
    .execute();
  await db.schema.alterTable('models').dropColumn('artifact').dropColumn('promoted_at').execute();
}
