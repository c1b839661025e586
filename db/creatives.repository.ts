// All SQL touching rendered creatives and the platform objects created from them.
import type { Db } from './database.ts';
import type {
  Creative,
  CreativeAsset,
  CreativeAssetsTable,
  CreativesTable,
  PlatformObject,
  QaFindingRow,
} from './creatives.table.ts';
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
    /** Left as stored when not given. */
    reviewStatus?: string | null;
    reviewReason?: string | null;
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
      review_status: o.reviewStatus ?? null,
      review_reason: o.reviewReason ?? null,
    })
    .onConflict((oc) =>
      oc.columns(['platform', 'kind', 'name']).doUpdateSet((eb) => ({
        external_id: eb.ref('excluded.external_id'),
        status: eb.ref('excluded.status'),
        ...(o.reviewStatus !== undefined
          ? {
              review_status: eb.ref('excluded.review_status'),
              review_reason: eb.ref('excluded.review_reason'),
            }
          : {}),
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

export interface CreativeAssetInput {
  ratio: string;
  kind: 'static' | 'motion';
  format: string;
  storageKey: string;
  uri: string;
  width: number;
  height: number;
  bytes: number;
  durationSeconds: number | null;
  qaPassed: boolean;
  qaPlatforms: Record<string, boolean>;
  qaFindings: QaFindingRow[];
  renderMs: number;
}

/**
 * A rendered creative with all its assets and their QA verdicts, in one transaction: a crash
 * leaves either the whole creative or nothing. Re-recording the same creative updates the records
 * of the assets it names (the files are content-addressed, so they are the same); assets it does
 * not name (another RENDER_RATIOS earlier) keep theirs.
 */
export async function saveRenderedCreative(
  db: Db,
  creative: Insertable<CreativesTable>,
  assets: readonly CreativeAssetInput[],
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('creatives')
      .values(creative)
      .onConflict((oc) =>
        oc.column('hash').doUpdateSet((eb) => ({
          path: eb.ref('excluded.path'),
          asset_uri: eb.ref('excluded.asset_uri'),
          bytes: eb.ref('excluded.bytes'),
          qa_passed: eb.ref('excluded.qa_passed'),
          qa_platforms: eb.ref('excluded.qa_platforms'),
        })),
      )
      .execute();
    if (assets.length === 0) return;
    const rows: Array<Insertable<CreativeAssetsTable>> = assets.map((a) => ({
      creative_hash: creative.hash,
      ratio: a.ratio,
      kind: a.kind,
      format: a.format,
      storage_key: a.storageKey,
      uri: a.uri,
      width: a.width,
      height: a.height,
      bytes: a.bytes,
      duration_seconds: a.durationSeconds,
      qa_passed: a.qaPassed,
      qa_platforms: JSON.stringify(a.qaPlatforms),
      qa_findings: JSON.stringify(a.qaFindings),
      render_ms: a.renderMs,
    }));
    await tx
      .insertInto('creative_assets')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['creative_hash', 'ratio', 'kind']).doUpdateSet((eb) => ({
          format: eb.ref('excluded.format'),
          storage_key: eb.ref('excluded.storage_key'),
          uri: eb.ref('excluded.uri'),
          width: eb.ref('excluded.width'),
          height: eb.ref('excluded.height'),
          bytes: eb.ref('excluded.bytes'),
          duration_seconds: eb.ref('excluded.duration_seconds'),
          qa_passed: eb.ref('excluded.qa_passed'),
          qa_platforms: eb.ref('excluded.qa_platforms'),
          qa_findings: eb.ref('excluded.qa_findings'),
          render_ms: eb.ref('excluded.render_ms'),
        })),
      )
      .execute();
  });
}

export async function getCreativeAssets(
  db: Db,
  hashes: readonly string[],
): Promise<CreativeAsset[]> {
  if (hashes.length === 0) return [];
  return db
    .selectFrom('creative_assets')
    .selectAll()
    .where('creative_hash', 'in', hashes)
    .orderBy('creative_hash')
    .orderBy('ratio')
    .orderBy('kind')
    .execute();
}

/** Replaces the list of creatives a market's run rendered on a date (idempotent per run). */
export async function setRunCreatives(
  db: Db,
  market: string,
  date: string,
  creatives: ReadonlyArray<{ hash: string; deployable: boolean }>,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx
      .deleteFrom('run_creatives')
      .where('market', '=', market)
      .where('date', '=', date)
      .execute();
    if (creatives.length === 0) return;
    await tx
      .insertInto('run_creatives')
      .values(
        creatives.map((c, i) => ({
          market,
          date,
          position: i + 1,
          creative_hash: c.hash,
          deployable: c.deployable,
        })),
      )
      .execute();
  });
}

export interface RunCreativeRow extends Creative {
  position: number;
  deployable: boolean;
  artist_name: string;
}

/** A date's rendered creatives, per market in rank order (every market when `markets` is empty). */
export async function listRunCreatives(
  db: Db,
  date: string,
  markets: readonly string[] = [],
): Promise<RunCreativeRow[]> {
  let q = db
    .selectFrom('run_creatives as r')
    .innerJoin('creatives as c', 'c.hash', 'r.creative_hash')
    .innerJoin('artists as a', 'a.id', 'c.artist_id')
    // The run's own market: a creative shared by two markets (same language and copy) has one row.
    .select([
      'c.hash',
      'c.artist_id',
      'c.template_id',
      'c.template_version',
      'c.language',
      'c.aspect_ratio',
      'c.path',
      'c.asset_uri',
      'c.bytes',
      'c.qa_passed',
      'c.qa_platforms',
      'c.created_at',
      'r.market',
      'r.position',
      'r.deployable',
      'a.name as artist_name',
    ])
    .where('r.date', '=', date);
  if (markets.length) q = q.where('r.market', 'in', markets);
  return q.orderBy('r.market').orderBy('r.position').execute();
}
