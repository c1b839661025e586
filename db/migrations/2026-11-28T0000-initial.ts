// Initial schema. Frozen: later changes go in new migrations. Written against Kysely<any> so it
// does not move when the table types in db/*.table.ts do.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('markets')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('right_to_left', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();

  await db.schema
    .createTable('artists')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('genre', 'text', (c) => c.notNull())
    .addColumn('image_path', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('artist_popularity')
    .addColumn('artist_id', 'text', (c) => c.notNull().references('artists.id'))
    .addColumn('market', 'text', (c) => c.notNull().references('markets.code'))
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('popularity', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('artist_popularity_pk', ['artist_id', 'market', 'date'])
    .execute();

  await db.schema
    .createTable('ad_metrics_daily')
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('ad_id', 'text', (c) => c.notNull())
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('creative_hash', 'text')
    .addColumn('impressions', 'bigint', (c) => c.notNull())
    .addColumn('clicks', 'bigint', (c) => c.notNull())
    .addColumn('spend_micros', 'bigint', (c) => c.notNull())
    .addColumn('installs', 'bigint', (c) => c.notNull())
    .addColumn('registrations', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('ad_metrics_daily_pk', ['platform', 'ad_id', 'date'])
    .execute();
  await db.schema
    .createIndex('ad_metrics_daily_market_date')
    .on('ad_metrics_daily')
    .columns(['market', 'date'])
    .execute();

  await db.schema
    .createTable('creative_performance')
    .addColumn('creative_hash', 'text', (c) => c.notNull())
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('as_of', 'date', (c) => c.notNull())
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('artist_id', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull())
    .addColumn('impressions', 'bigint', (c) => c.notNull())
    .addColumn('clicks', 'bigint', (c) => c.notNull())
    .addColumn('spend_micros', 'bigint', (c) => c.notNull())
    .addColumn('registrations', 'bigint', (c) => c.notNull())
    .addColumn('ctr', 'double precision')
    .addColumn('cpr_micros', 'double precision')
    .addPrimaryKeyConstraint('creative_performance_pk', ['creative_hash', 'platform', 'as_of'])
    .execute();
  await db.schema
    .createIndex('creative_performance_market_as_of')
    .on('creative_performance')
    .columns(['market', 'as_of'])
    .execute();

  await db.schema
    .createTable('rankings')
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('based_on', 'date')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('rankings_pk', ['market', 'date'])
    .execute();

  await db.schema
    .createTable('ranking_items')
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('rank', 'integer', (c) => c.notNull())
    .addColumn('artist_id', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('reasons', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('ranking_items_pk', ['market', 'date', 'rank'])
    .addForeignKeyConstraint(
      'ranking_items_ranking_fk',
      ['market', 'date'],
      'rankings',
      ['market', 'date'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('creatives')
    .addColumn('hash', 'text', (c) => c.primaryKey())
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('artist_id', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull())
    .addColumn('template_version', 'integer', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('aspect_ratio', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('platform_objects')
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('creative_hash', 'text')
    .addColumn('status', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('platform_objects_pk', ['platform', 'kind', 'name'])
    .execute();

  await db.schema
    .createTable('runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('fallback_used', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addColumn('error', 'text')
    .execute();

  await db.schema
    .createTable('stage_events')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('detail', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema.createIndex('stage_events_run').on('stage_events').column('run_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'stage_events',
    'runs',
    'platform_objects',
    'creatives',
    'ranking_items',
    'rankings',
    'creative_performance',
    'ad_metrics_daily',
    'artist_popularity',
    'artists',
    'markets',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
