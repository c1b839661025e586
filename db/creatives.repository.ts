// All SQL touching rendered creatives and the platform objects created from them.
import type { Db } from './database.ts';
import type { Creative, CreativesTable, PlatformObject } from './creatives.table.ts';
import type { Insertable } from 'kysely';

export async function upsertCreative(db: Db, c: Insertable<CreativesTable>): Promise<void> {
  await db
    .insertInto('creatives')
    .values(c)
    .onConflict((oc) =>
      oc.column('hash').doUpdateSet((eb) => ({
        path: eb.ref('excluded.path'),
        bytes: eb.ref('excluded.bytes'),
      })),
    )
    .execute();
}

export async function getCreatives(db: Db, hashes: string[]): Promise<Creative[]> {
  if (hashes.length === 0) return [];
  return db.selectFrom('creatives').selectAll().where('hash', 'in', hashes).execute();
}

export async function findPlatformObject(
  db: Db,
  key: { platform: string; kind: PlatformObject['kind']; name: string },
): Promise<PlatformObject | undefined> {
  return db
    .selectFrom('platform_objects')
    .selectAll()
    .where('platform', '=', key.platform)
    .where('kind', '=', key.kind)
    .where('name', '=', key.name)
    .executeTakeFirst();
}

export async function savePlatformObject(
  db: Db,
  o: {
    platform: string;
    kind: PlatformObject['kind'];
    name: string;
    externalId: string;
    market: string;
    creativeHash?: string | null;
    status?: string | null;
  },
): Promise<void> {
  await db
    .insertInto('platform_objects')
    .values({
      platform: o.platform,
      kind: o.kind,
      name: o.name,
      external_id: o.externalId,
      market: o.market,
      creative_hash: o.creativeHash ?? null,
      status: o.status ?? null,
    })
    .onConflict((oc) =>
      oc.columns(['platform', 'kind', 'name']).doUpdateSet((eb) => ({
        external_id: eb.ref('excluded.external_id'),
        status: eb.ref('excluded.status'),
        updated_at: new Date(),
      })),
    )
    .execute();
}

export async function listPlatformObjects(
  db: Db,
  filter: { platform: string; kind: PlatformObject['kind']; market: string },
): Promise<PlatformObject[]> {
  return db
    .selectFrom('platform_objects')
    .selectAll()
    .where('platform', '=', filter.platform)
    .where('kind', '=', filter.kind)
    .where('market', '=', filter.market)
    .orderBy('name')
    .execute();
}

/** Records a template version the first time a creative is rendered from it (never changes it). */
export async function recordTemplate(
  db: Db,
  t: { id: string; version: number; theme: string; aspectRatio: string; sourceHash: string },
): Promise<void> {
  await db
    .insertInto('templates')
    .values({
      id: t.id,
      version: t.version,
      theme: t.theme,
      aspect_ratio: t.aspectRatio,
      source_hash: t.sourceHash,
    })
    .onConflict((oc) => oc.columns(['id', 'version']).doNothing())
    .execute();
}
