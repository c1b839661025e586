import type { ColumnType, Selectable } from 'kysely';

export interface RankingsTable {
  market: string;
  date: string;
  policy: string;
  source: string;
  based_on: string | null;
  /** The model behind the ranking; null for the heuristic. */
  model_version: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface RankingItemsTable {
  market: string;
  date: string;
  rank: number;
  artist_id: string;
  template_id: string;
  score: number;
  reasons: ColumnType<Record<string, number>, string, string>;
  /** How the item was chosen: 'exploit' (best predicted) or 'explore' (Thompson sampling). */
  selection: ColumnType<string, string | undefined, string>;
  /** Probability that the policy chose this item given the items ranked above it. */
  propensity: ColumnType<number, number | undefined, number>;
}

export type Ranking = Selectable<RankingsTable>;
export type RankingItem = Selectable<RankingItemsTable>;
