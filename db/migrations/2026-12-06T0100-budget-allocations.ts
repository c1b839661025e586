// Each day's budget allocation: what every market's ad sets on each platform get, and why (the
// allocator's reason, its expectation and uncertainty). Deploy applies a day's rows; the report
// shows them. Frozen: later changes go in new migrations.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('budget_allocations')
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('market', 'text', (c) => c.notNull())
    .addColumn('platform', 'text', (c) => c.notNull())
    // Ad sets (ad groups, campaigns) that share the budget equally.
    .addColumn('ad_sets', 'integer', (c) => c.notNull())
    // The unit's daily budget and yesterday's, in micros of `currency` (the reporting currency).
    .addColumn('budget_micros', 'bigint', (c) => c.notNull())
    .addColumn('previous_micros', 'bigint')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('expected_results', 'double precision', (c) => c.notNull())
    .addColumn('marginal_cost_micros', 'bigint')
    .addColumn('uncertainty', 'double precision', (c) => c.notNull())
    .addColumn('exploring', 'boolean', (c) => c.notNull())
    .addColumn('bound', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('budget_allocations_pk', ['date', 'market', 'platform'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('budget_allocations').execute();
}
