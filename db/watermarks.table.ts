import type { ColumnType } from 'kysely';

/** The last successful read of a market's source (see the ingest-watermarks migration). */
export interface IngestWatermarksTable {
  market: string;
  source: 'delivery' | 'attribution';
  /** A calendar day, YYYY-MM-DD. */
  read_on: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}
