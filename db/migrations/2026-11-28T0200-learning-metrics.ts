// Learning metrics per creative (funnel, shares, relative CPR, MMP view) and degraded reasons on
// runs. Frozen: later changes go in new migrations.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, type] of [
    ['installs', 'bigint'],
    ['subscriptions', 'bigint'],
    ['mmp_registrations', 'bigint'],
  ] as const) {
    await db.schema
      .alterTable('creative_performance')
      .addColumn(name, type, (c) => c.notNull().defaultTo(0))
      .execute();
  }
  for (const name of [
    'cvr',
    'registration_share',
    'relative_registration_share',
    'relative_cpr',
    'cps_micros',
  ]) {
    await db.schema
      .alterTable('creative_performance')
      .addColumn(name, 'double precision')
      .execute();
  }
  await db.schema
    .alterTable('runs')
    .addColumn('degraded_reasons', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('runs').dropColumn('degraded_reasons').execute();
  for (const name of [
    'installs',
    'subscriptions',
    'mmp_registrations',
    'cvr',
    'registration_share',
    'relative_registration_share',
    'relative_cpr',
    'cps_micros',
  ]) {
    await db.schema.alterTable('creative_performance').dropColumn(name).execute();
  }
}
