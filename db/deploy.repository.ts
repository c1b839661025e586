// All SQL of the deploy stage: the audit of platform writes, review rejections, and deploy plans.
import type { Insertable } from 'kysely';
import type { Db } from './database.ts';
import type {
  CreativeRejection,
  DeployPlanRow,
  PlatformWrite,
  PlatformWritesTable,
} from './deploy.table.ts';

export type NewPlatformWrite = Omit<Insertable<PlatformWritesTable>, 'detail'> & {
  detail?: Record<string, unknown>;
};

/** Appends audit rows (one per platform write), in one statement. */
export async function recordPlatformWrites(db: Db, rows: NewPlatformWrite[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('platform_writes')
    .values(rows.map((r) => ({ ...r, detail: JSON.stringify(r.detail ?? {}) })))
    .execute();
}

export async function listPlatformWrites(
  db: Db,
  filter: { market?: string; date?: string; platform?: string } = {},
): Promise<PlatformWrite[]> {
  let q = db.selectFrom('platform_writes').selectAll();
  if (filter.market) q = q.where('market', '=', filter.market);
  if (filter.date) q = q.where('date', '=', filter.date);
  if (filter.platform) q = q.where('platform', '=', filter.platform);
  return q.orderBy('id').execute();
}

/** Records that a platform rejected a creative in a market; the first reason is kept. */
export async function recordRejection(
  db: Db,
  r: { platform: string; creativeHash: string; market: string; adId: string; reason: string },
): Promise<void> {
  await db
    .insertInto('creative_rejections')
    .values({
      platform: r.platform,
      creative_hash: r.creativeHash,
      market: r.market,
      ad_id: r.adId,
      reason: r.reason,
    })
    .onConflict((oc) => oc.columns(['platform', 'creative_hash', 'market']).doNothing())
    .execute();
}

export async function listRejections(
  db: Db,
  filter: { platform?: string; market: string },
): Promise<CreativeRejection[]> {
  let q = db.selectFrom('creative_rejections').selectAll().where('market', '=', filter.market);
  if (filter.platform) q = q.where('platform', '=', filter.platform);
  return q.orderBy('rejected_at').execute();
}

/** Stores (or replaces) a market's plan for a date with its status. */
export async function saveDeployPlan(
  db: Db,
  p: { market: string; date: string; plan: object; status: string },
): Promise<void> {
  await db
    .insertInto('deploy_plans')
    .values({ market: p.market, date: p.date, plan: JSON.stringify(p.plan), status: p.status })
    .onConflict((oc) =>
      oc.columns(['market', 'date']).doUpdateSet((eb) => ({
        plan: eb.ref('excluded.plan'),
        status: eb.ref('excluded.status'),
        decided_by: null,
        decision_note: null,
        updated_at: new Date(),
      })),
    )
    .execute();
}

export async function setDeployPlanStatus(
  db: Db,
  p: { market: string; date: string; status: string; by?: string | null; note?: string | null },
): Promise<void> {
  await db
    .updateTable('deploy_plans')
    .set({
      status: p.status,
      ...(p.by !== undefined ? { decided_by: p.by } : {}),
      ...(p.note !== undefined ? { decision_note: p.note } : {}),
      updated_at: new Date(),
    })
    .where('market', '=', p.market)
    .where('date', '=', p.date)
    .execute();
}

export async function getDeployPlan(
  db: Db,
  key: { market: string; date: string },
): Promise<DeployPlanRow | undefined> {
  return db
    .selectFrom('deploy_plans')
    .selectAll()
    .where('market', '=', key.market)
    .where('date', '=', key.date)
    .executeTakeFirst();
}

/**
 * The latest date after `date` whose plan was applied in `market`, or null: when there is one, the
 * ads live now are that day's, and an older day (a backfill, a rerun) must not replace them.
 */
export async function laterAppliedPlan(
  db: Db,
  key: { market: string; date: string },
): Promise<string | null> {
  const row = await db
    .selectFrom('deploy_plans')
    .select('date')
    .where('market', '=', key.market)
    .where('date', '>', key.date)
    .where('status', '=', 'applied')
    .orderBy('date', 'desc')
    .executeTakeFirst();
  return row?.date ?? null;
}

/** Impressions and clicks per creative and day on one platform in a market (for fatigue). */
export async function dailyCreativeDelivery(
  db: Db,
  filter: { market: string; platform: string; from: string; to: string },
): Promise<Array<{ creativeHash: string; date: string; impressions: number; clicks: number }>> {
  const rows = await db
    .selectFrom('ad_metrics_daily')
    .select((eb) => [
      'creative_hash',
      'date',
      eb.fn.sum<number>('impressions').as('impressions'),
      eb.fn.sum<number>('clicks').as('clicks'),
    ])
    .where('market', '=', filter.market)
    .where('platform', '=', filter.platform)
    .where('date', '>=', filter.from)
    .where('date', '<=', filter.to)
    .where('creative_hash', 'is not', null)
    .groupBy(['creative_hash', 'date'])
    .orderBy('creative_hash')
    .orderBy('date')
    .execute();
  return rows.map((r) => ({
    creativeHash: r.creative_hash!,
    date: String(r.date),
    impressions: Number(r.impressions),
    clicks: Number(r.clicks),
  }));
}
