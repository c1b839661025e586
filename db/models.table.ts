// The model registry: every trained ranking model, its training window, validation metrics and
// status (candidate, champion, retired), with the model itself.
import type { ColumnType, Generated } from 'kysely';

/** A trained model: `metrics` are its validation scores, not ad delivery. */
export interface ModelsTable {
  id: Generated<number>;
  name: string;
  version: number;
  params: ColumnType<Record<string, unknown>, string, string>;
  features: ColumnType<string[], string, string>;
  training_from: string;
  training_to: string;
  metrics: ColumnType<Record<string, number>, string, string>;
  status: 'candidate' | 'champion' | 'retired';
  /** The model itself (ml/rank-model.ts JSON); null for registry rows of external models. */
  artifact: ColumnType<string | null, string | null | undefined, string | null>;
  promoted_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: ColumnType<Date, Date | undefined, never>;
}
