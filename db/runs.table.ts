import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** One market loop run; `id` is the workflow id (`market/<market>/<date>`). */
export interface RunsTable {
  id: string;
  market: string;
  date: string;
  status: 'running' | 'completed' | 'failed';
  fallback_used: boolean;
  started_at: ColumnType<Date, Date | undefined, Date>;
  finished_at: Date | null;
  error: string | null;
  /** Why the run is degraded (a platform or MMP down past its retries); empty when it is not. */
  degraded_reasons: ColumnType<string[], string | undefined, string>;
  /** Why the run fell back (no model, previous ranking...), appended by the stage that did. */
  fallback_reasons: ColumnType<string[], string | undefined, string>;
}

/** The audit log of a run: one row each time a stage starts, completes, fails or falls back. */
export interface StageEventsTable {
  id: Generated<number>;
  run_id: string;
  stage: string;
  event: 'started' | 'completed' | 'failed' | 'fallback';
  attempt: number;
  at: ColumnType<Date, Date | undefined, never>;
  detail: ColumnType<Record<string, unknown>, string, never>;
}

export type Run = Selectable<RunsTable>;
export type StageEvent = Selectable<StageEventsTable>;
export type NewStageEvent = Insertable<StageEventsTable>;
