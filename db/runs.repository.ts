// All SQL touching runs and the stage-event audit log.
import { sql } from 'kysely';
import type { Db } from './database.ts';
import type { Run, StageEvent } from './runs.table.ts';

/** Creates the run row, or marks an existing one running again (a rerun or a retried start). */
export async function startRun(db: Db, run: { id: string; market: string; date: string }) {
  await db
    .insertInto('runs')
    .values({ ...run, status: 'running', fallback_used: false, finished_at: null, error: null })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ status: 'running', finished_at: null, error: null }),
    )
    .execute();
}

export async function finishRun(
  db: Db,
  id: string,
  outcome: {
    status: 'completed' | 'failed';
    fallbackUsed: boolean;
    error?: string | null;
    degraded?: string[];
  },
) {
  await db
    .updateTable('runs')
    .set({
      status: outcome.status,
      // A stage may already have recorded a fallback (markFallback): never clear it here.
      fallback_used: sql<boolean>`fallback_used or ${outcome.fallbackUsed}`,
      finished_at: new Date(),
      error: outcome.error ?? null,
      degraded_reasons: JSON.stringify(outcome.degraded ?? []),
    })
    .where('id', '=', id)
    .execute();
}

/** Marks the run as having fallen back, with the reason (kept once however often retried). */
export async function markFallback(db: Db, id: string, reason: string) {
  await db
    .updateTable('runs')
    .set({
      fallback_used: true,
      fallback_reasons: sql`case when fallback_reasons @> ${JSON.stringify([reason])}::jsonb
        then fallback_reasons else fallback_reasons || ${JSON.stringify([reason])}::jsonb end`,
    })
    .where('id', '=', id)
    .execute();
}

export async function recordStageEvent(
  db: Db,
  e: {
    runId: string;
    stage: string;
    event: StageEvent['event'];
    attempt: number;
    detail?: Record<string, unknown>;
  },
) {
  await db
    .insertInto('stage_events')
    .values({
      run_id: e.runId,
      stage: e.stage,
      event: e.event,
      attempt: e.attempt,
      detail: JSON.stringify(e.detail ?? {}),
    })
    .execute();
}

export async function getRun(db: Db, id: string): Promise<Run | undefined> {
  return db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listStageEvents(db: Db, runId: string): Promise<StageEvent[]> {
  return db
    .selectFrom('stage_events')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('id')
    .execute();
}
