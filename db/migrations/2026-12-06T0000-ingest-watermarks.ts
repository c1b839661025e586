// When each market's sources were last read successfully: the next read goes back to cover what
// the runs in between could not read (a platform or MMP down for days, the database down), not
// only its fixed lookback. Frozen: later changes go in new migrations.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ingest_watermarks')
    .addColumn('market', 'text', (c) => c.notNull())
    // 'delivery' (the ad platforms) or 'attribution' (the MMP).
    .addColumn('source', 'text', (c) => c.notNull())
    // The run date of the last read that succeeded: it read every day before it in its lookback.
    .addColumn('read_on', 'date', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('ingest_watermarks_pk', ['market', 'source'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ingest_watermarks').execute();
}
