// Money with its currency and subscriptions on daily metrics; MMP attribution; the model registry;
// templates. Frozen: later changes go in new migrations.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('ad_metrics_daily')
    .addColumn('currency', 'text', (c) => c.notNull().defaultTo('USD'))
    .execute();
  await db.schema
    .alterTable('ad_metrics_daily')
    .addColumn('subscriptions', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  // One row per MMP source, day, campaign, creative and OS. iOS rows are aggregated postbacks:
  // campaign level, ad_group_id and creative_id null, never spread onto creatives.
  await db.schema
    .createTable('mmp_attribution')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('platform', 'text')
    .addColumn('network', 'text', (c) => c.notNull())
    .addColumn('campaign_id', 'text', (c) => c.notNull())
    .addColumn('campaign', 'text', (c) => c.notNull())
    .addColumn('ad_group_id', 'text')
    .addColumn('creative_id', 'text')
    .addColumn('creative', 'text')
    .addColumn('os', 'text', (c) => c.notNull())
    .addColumn('aggregated', 'boolean', (c) => c.notNull())
    .addColumn('installs', 'bigint', (c) => c.notNull())
    .addColumn('registrations', 'bigint', (c) => c.notNull())
    .addColumn('subscriptions', 'bigint', (c) => c.notNull())
    .addColumn('ingested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint(
      'mmp_attribution_key',
      ['source', 'date', 'campaign_id', 'ad_group_id', 'creative_id', 'os'],
      (u) => u.nullsNotDistinct(),
    )
    .execute();
  await db.schema
    .createIndex('mmp_attribution_campaign_date')
    .on('mmp_attribution')
    .columns(['campaign', 'date'])
    .execute();

  await db.schema
    .createTable('models')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('params', 'jsonb', (c) => c.notNull())
    .addColumn('features', 'jsonb', (c) => c.notNull())
    .addColumn('training_from', 'date', (c) => c.notNull())
    .addColumn('training_to', 'date', (c) => c.notNull())
    .addColumn('metrics', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('models_name_version', ['name', 'version'])
    .execute();

  await db.schema
    .createTable('templates')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('theme', 'text', (c) => c.notNull())
    .addColumn('aspect_ratio', 'text', (c) => c.notNull())
    .addColumn('source_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('templates_pk', ['id', 'version'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('templates').execute();
  await db.schema.dropTable('models').execute();
  await db.schema.dropTable('mmp_attribution').execute();
  await db.schema.alterTable('ad_metrics_daily').dropColumn('subscriptions').execute();
  await db.schema.alterTable('ad_metrics_daily').dropColumn('currency').execute();
}
