// The catalog at scale (100,000 artists x 50 markets: 5,000,000 popularity rows a day).
// - artist_popularity loses its two foreign keys: each was checked by a trigger per inserted row
//   (locking the referenced artist and market row), three quarters of a 100,000-row import on
//   PGlite. upsertCatalog writes the artists and markets in the same transaction and checks the
//   ids it did not write itself in one set-based query, so an import stays all or nothing.
// - The rank stage reads one market's latest popularity per artist; the primary key led with the
//   artist, so that read went through every market's rows. The key now leads with the market (the
//   same columns, so the same rows are unique): a market's rows are read, and a market's import
//   appended, in key order. Training reads by artist within its markets, which the key serves too.
// - artists.source_digest: a digest of what the catalog last said of the artist, so an import
//   sends and writes only the artists that are new or changed (every market of a day repeats
//   the same artists).
// Frozen: later changes go in new migrations.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('artist_popularity')
    .dropConstraint('artist_popularity_artist_id_fkey')
    .execute();
  await db.schema
    .alterTable('artist_popularity')
    .dropConstraint('artist_popularity_market_fkey')
    .execute();
  await db.schema.alterTable('artist_popularity').dropConstraint('artist_popularity_pk').execute();
  await db.schema
    .alterTable('artist_popularity')
    .addPrimaryKeyConstraint('artist_popularity_pk', ['market', 'artist_id', 'date'])
    .execute();
  await db.schema.alterTable('artists').addColumn('source_digest', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('artists').dropColumn('source_digest').execute();
  await db.schema.alterTable('artist_popularity').dropConstraint('artist_popularity_pk').execute();
  await db.schema
    .alterTable('artist_popularity')
    .addPrimaryKeyConstraint('artist_popularity_pk', ['artist_id', 'market', 'date'])
    .execute();
  await db.schema
    .alterTable('artist_popularity')
    .addForeignKeyConstraint('artist_popularity_artist_id_fkey', ['artist_id'], 'artists', ['id'])
    .execute();
  await db.schema
    .alterTable('artist_popularity')
    .addForeignKeyConstraint('artist_popularity_market_fkey', ['market'], 'markets', ['code'])
    .execute();
}
