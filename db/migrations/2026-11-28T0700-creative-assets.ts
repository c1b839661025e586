// A creative now has several assets (aspect ratio x static/motion), each checked by QA before it
// may ship. Assets and their QA verdicts are kept per creative; the creative keeps a summary
// (passed, and the platforms it may go to) so deploy and reports need not read every asset.
// Frozen: later changes go in new migrations.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('creative_assets')
    .addColumn('creative_hash', 'text', (c) => c.notNull().references('creatives.hash'))
    .addColumn('ratio', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull())
    .addColumn('uri', 'text', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('duration_seconds', 'double precision')
    .addColumn('qa_passed', 'boolean', (c) => c.notNull())
    .addColumn('qa_platforms', 'jsonb', (c) => c.notNull())
    .addColumn('qa_findings', 'jsonb', (c) => c.notNull())
    .addColumn('render_ms', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('creative_assets_pk', ['creative_hash', 'ratio', 'kind'])
    .execute();
  // Which creatives a market's run rendered on a date (for the gallery and rotation), in rank order.
  await db.schema
    .createTable('run_creatives')
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('creative_hash', 'text', (c) => c.notNull().references('creatives.hash'))
    .addColumn('deployable', 'boolean', (c) => c.notNull())
    .addPrimaryKeyConstraint('run_creatives_pk', ['market', 'date', 'position'])
    .execute();
  await db.schema
    .alterTable('creatives')
    .addColumn('qa_passed', 'boolean')
    .addColumn('qa_platforms', 'jsonb')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('creatives')
    .dropColumn('qa_passed')
    .dropColumn('qa_platforms')
    .execute();
  await db.schema.dropTable('run_creatives').execute();
  await db.schema.dropTable('creative_assets').execute();
}
