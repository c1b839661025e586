import type { ColumnType, Selectable } from 'kysely';

/** One unit of a day's budget allocation (see the budget-allocations migration). */
export interface BudgetAllocationsTable {
  /** The day the budgets are for, YYYY-MM-DD. */
  date: string;
  market: string;
  platform: string;
  ad_sets: number;
  /** Micros of `currency`, the reporting currency. */
  budget_micros: number;
  previous_micros: number | null;
  currency: string;
  expected_results: number;
  marginal_cost_micros: number | null;
  uncertainty: number;
  exploring: boolean;
  bound: string | null;
  reason: string;
  created_at: ColumnType<Date, Date | undefined, Date>;
}

export type BudgetAllocationRow = Selectable<BudgetAllocationsTable>;
