// The rest of the catalog (tracks, playlists, podcasts), the model version behind a ranking, and
// creatives' asset URIs. Frozen: later changes go in new migrations.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('catalog_items')
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('track', 'playlist', 'podcast')`),
    )
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('artist_ids', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addPrimaryKeyConstraint('catalog_items_pk', ['kind', 'id'])
    .execute();
  await db.schema.alterTable('rankings').addColumn('model_version', 'text').execute();
  await db.schema.alterTable('creatives').addColumn('asset_uri', 'text').execute();
  await sql`update creatives set asset_uri = 'file://' || path`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('creatives').dropColumn('asset_uri').execute();
  await db.schema.alterTable('rankings').dropColumn('model_version').execute();
  await db.schema.dropTable('catalog_items').execute();
}
