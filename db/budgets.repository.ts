// Budget allocations (decisions/budget): each day's rows, written whole, and the delivery the
// allocator learns from.
import { sql } from 'kysely';
import type { Db } from './database.ts';
import type { BudgetAllocationRow, BudgetAllocationsTable } from './budgets.table.ts';

export type NewBudgetAllocation = Omit<BudgetAllocationsTable, 'date' | 'created_at'>;

const columns = [
  sql<string>`date::text`.as('date'),
  'market',
  'platform',
  'ad_sets',
  'budget_micros',
  'previous_micros',
  'currency',
  'expected_results',
  'marginal_cost_micros',
  'uncertainty',
  'exploring',
  'bound',
  'reason',
  'created_at',
] as const;

const asRow = (r: BudgetAllocationRow): BudgetAllocationRow => ({
  ...r,
  budget_micros: Number(r.budget_micros),
  previous_micros: r.previous_micros === null ? null : Number(r.previous_micros),
  marginal_cost_micros: r.marginal_cost_micros === null ? null : Number(r.marginal_cost_micros),
});

/**
 * Stores `date`'s allocation whole, in one transaction, unless the day has one already: the first
 * writer wins (markets plan concurrently), so every market of a day reads one allocation. Returns
 * whether these rows were stored.
 */
export async function saveAllocation(
  db: Db,
  date: string,
  rows: NewBudgetAllocation[],
): Promise<boolean> {
  if (rows.length === 0) return false;
  const partial = new Error('the day has part of an allocation already');
  try {
    return await db.transaction().execute(async (tx) => {
      const inserted = await tx
        .insertInto('budget_allocations')
        .values(rows.map((r) => ({ ...r, date })))
        .onConflict((oc) => oc.columns(['date', 'market', 'platform']).doNothing())
        .returning('market')
        .execute();
      // Some of the day's rows were there: roll back, keep the day as the first writer made it.
      if (inserted.length > 0 && inserted.length < rows.length) throw partial;
      return inserted.length === rows.length;
    });
  } catch (err) {
    if (err === partial) return false;
    throw err;
  }
}

/** The allocation of exactly `date` (every market), in market and platform order. */
export async function allocationOn(db: Db, date: string): Promise<BudgetAllocationRow[]> {
  const rows = await db
    .selectFrom('budget_allocations')
    .select(columns)
    .where('date', '=', date)
    .orderBy('market')
    .orderBy('platform')
    .execute();
  return rows.map(asRow);
}

/**
 * The latest allocation on or before `date` (strictly before with `before`), optionally of one
 * market: what is in force when today's could not be made.
 */
export async function latestAllocation(
  db: Db,
  o: { date: string; before?: boolean; market?: string },
): Promise<BudgetAllocationRow[]> {
  let latest = db
    .selectFrom('budget_allocations')
    .select(sql<string>`max(date)::text`.as('date'))
    .where('date', o.before ? '<' : '<=', o.date);
  if (o.market) latest = latest.where('market', '=', o.market);
  const found = (await latest.executeTakeFirst())?.date;
  if (!found) return [];
  let q = db.selectFrom('budget_allocations').select(columns).where('date', '=', found);
  if (o.market) q = q.where('market', '=', o.market);
  return (await q.orderBy('market').orderBy('platform').execute()).map(asRow);
}

/** Every allocation row from `from` to `to`, by date, market and platform (the report's). */
export async function allocationsBetween(
  db: Db,
  o: { from: string; to: string; market?: string },
): Promise<BudgetAllocationRow[]> {
  let q = db
    .selectFrom('budget_allocations')
    .select(columns)
    .where('date', '>=', o.from)
    .where('date', '<=', o.to);
  if (o.market) q = q.where('market', '=', o.market);
  return (await q.orderBy('date').orderBy('market').orderBy('platform').execute()).map(asRow);
}

/** Each market's and platform's daily delivery from `from` to `to`, in each account's currency. */
export async function unitDelivery(
  db: Db,
  o: { from: string; to: string },
): Promise<
  Array<{
    market: string;
    platform: string;
    date: string;
    currency: string;
    spendMicros: number;
    registrations: number;
    subscriptions: number;
  }>
> {
  const rows = await db
    .selectFrom('ad_metrics_daily')
    .select((eb) => [
      'market',
      'platform',
      sql<string>`date::text`.as('date'),
      'currency',
      eb.fn.sum<number>('spend_micros').as('spend_micros'),
      eb.fn.sum<number>('registrations').as('registrations'),
      eb.fn.sum<number>('subscriptions').as('subscriptions'),
    ])
    .where('date', '>=', o.from)
    .where('date', '<=', o.to)
    .groupBy(['market', 'platform', 'date', 'currency'])
    .orderBy('date')
    .execute();
  return rows.map((r) => ({
    market: r.market,
    platform: r.platform,
    date: r.date,
    currency: r.currency,
    spendMicros: Number(r.spend_micros),
    registrations: Number(r.registrations),
    subscriptions: Number(r.subscriptions),
  }));
}
