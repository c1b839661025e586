// Deploy at production depth: every platform write is audited, ad review outcomes are kept per
// platform object and per creative (a rejected creative is not offered to that platform again),
// and each market's deploy plan is stored with its approval decision.
// Frozen: later changes go in new migrations.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('platform_writes')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('object_kind', 'text', (c) => c.notNull())
    .addColumn('object_name', 'text')
    .addColumn('external_id', 'text')
    .addColumn('request_id', 'text')
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('detail', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('platform_writes_market_date')
    .on('platform_writes')
    .columns(['market', 'date'])
    .execute();

  await db.schema
    .alterTable('platform_objects')
    .addColumn('review_status', 'text')
    .addColumn('review_reason', 'text')
    .execute();

  await db.schema
    .createTable('creative_rejections')
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('creative_hash', 'text', (c) => c.notNull())
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('ad_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('rejected_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('creative_rejections_pk', ['platform', 'creative_hash', 'market'])
    .execute();

  await db.schema
    .createTable('deploy_plans')
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('plan', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decision_note', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('deploy_plans_pk', ['market', 'date'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('deploy_plans').execute();
  await db.schema.dropTable('creative_rejections').execute();
  await db.schema
    .alterTable('platform_objects')
    .dropColumn('review_status')
    .dropColumn('review_reason')
    .execute();
  await db.schema.dropTable('platform_writes').execute();
}
