// All SQL touching the model registry. A model name has numbered versions; at most one is the
// champion (the one rankings use), the others are candidates that lost or retired champions.
import type { Db } from './database.ts';
import type { ModelsTable } from './models.table.ts';
import type { Selectable } from 'kysely';

export type ModelRow = Selectable<ModelsTable>;

export interface NewModel {
  name: string;
  params: Record<string, unknown>;
  features: readonly string[];
  trainingFrom: string;
  trainingTo: string;
  metrics: Record<string, number>;
  artifact: string;
}

/** Stores a new candidate version and returns it. */
export async function saveCandidateModel(db: Db, m: NewModel): Promise<ModelRow> {
  return db.transaction().execute(async (trx) => {
    const last = await trx
      .selectFrom('models')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('name', '=', m.name)
      .executeTakeFirst();
    return trx
      .insertInto('models')
      .values({
        name: m.name,
        version: Number(last?.v ?? 0) + 1,
        params: JSON.stringify(m.params),
        features: JSON.stringify(m.features),
        training_from: m.trainingFrom,
        training_to: m.trainingTo,
        metrics: JSON.stringify(m.metrics),
        status: 'candidate',
        artifact: m.artifact,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

export async function championModel(db: Db, name: string): Promise<ModelRow | undefined> {
  return db
    .selectFrom('models')
    .selectAll()
    .where('name', '=', name)
    .where('status', '=', 'champion')
    .executeTakeFirst();
}

/** The model trained on data up to `trainingTo` (a rerun of a day finds its own). */
export async function modelTrainedTo(
  db: Db,
  name: string,
  trainingTo: string,
): Promise<ModelRow | undefined> {
  return db
    .selectFrom('models')
    .selectAll()
    .where('name', '=', name)
    .where('training_to', '=', trainingTo)
    .orderBy('version', 'desc')
    .executeTakeFirst();
}

/** Makes `id` the champion and retires the previous one, in one transaction. */
export async function promoteModel(db: Db, name: string, id: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('models')
      .set({ status: 'retired' })
      .where('name', '=', name)
      .where('status', '=', 'champion')
      .execute();
    await trx
      .updateTable('models')
      .set({ status: 'champion', promoted_at: new Date() })
      .where('id', '=', id)
      .execute();
  });
}

export async function setModelMetrics(db: Db, id: number, metrics: Record<string, number>) {
  await db
    .updateTable('models')
    .set({ metrics: JSON.stringify(metrics) })
    .where('id', '=', id)
    .execute();
}

export async function listModels(db: Db, name: string): Promise<Omit<ModelRow, 'artifact'>[]> {
  return db
    .selectFrom('models')
    .select([
      'id',
      'name',
      'version',
      'params',
      'features',
      'training_from',
      'training_to',
      'metrics',
      'status',
      'promoted_at',
      'created_at',
    ])
    .where('name', '=', name)
    .orderBy('version')
    .execute();
}
