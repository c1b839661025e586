// The last day each market's sources were read in full (the ingest's catch-up: see
// decisions/ingest/catch-up.ts).
import { sql } from 'kysely';
import type { Db } from './database.ts';
import type { IngestWatermarksTable } from './watermarks.table.ts';

type Source = IngestWatermarksTable['source'];

/** The run date of the last successful read of `source` for `market`, or null if never. */
export async function lastReadOn(db: Db, market: string, source: Source): Promise<string | null> {
  const row = await db
    .selectFrom('ingest_watermarks')
    .select(sql<string>`read_on::text`.as('read_on'))
    .where('market', '=', market)
    .where('source', '=', source)
    .executeTakeFirst();
  return row?.read_on ?? null;
}

/** Records a successful read on `date`; an older date (a rerun of a past day) never moves it back. */
export async function recordRead(
  db: Db,
  market: string,
  source: Source,
  date: string,
): Promise<void> {
  await db
    .insertInto('ingest_watermarks')
    .values({ market, source, read_on: date, updated_at: new Date() })
    .onConflict((oc) =>
      oc.columns(['market', 'source']).doUpdateSet({
        read_on: sql`greatest(ingest_watermarks.read_on, excluded.read_on)`,
        updated_at: new Date(),
      }),
    )
    .execute();
}
