// What deploy needs of an ad platform, whichever it is. meta-target.ts and tiktok-target.ts adapt
// the platform clients to it; every write they make goes through the audit, and every create is
// made idempotent the same way: look up by name, create what is missing, and after any failure look
// up again before retrying, so a write the platform accepted but whose answer was lost is found
// instead of made twice.
import type { AdSetSegment } from '../../core/ids.ts';
import type { RenderedCreative } from '../../core/types.ts';
import { listPlatformObjects, savePlatformObject } from '../../db/creatives.repository.ts';
import type { Db } from '../../db/database.ts';
import { PlatformError } from '../../platforms/errors.ts';
import type { CreativeStore } from '../../render/storage.ts';
import type { WriteAudit } from './audit.ts';
import type { CurrentAd, DeployPlatform } from './plan.ts';

/** What a target needs besides its platform's client. */
export interface TargetDeps {
  db: Db;
  audit: WriteAudit;
  /** Where the rendered assets are. */
  store: CreativeStore;
  /** Daily budget of each ad set it creates, in minor units of the account currency. */
  dailyBudget: number;
}

export interface AdSetRef {
  id: string;
  name: string;
  generation: number;
}

export interface NewAd {
  name: string;
  creative: RenderedCreative;
  /** Landing link with adloop's tracking parameters. */
  link: string;
  message: string;
  headline: string;
}

export interface DeployTarget {
  platform: DeployPlatform;
  /** Ads an ad set may hold (not counting archived ones where `canArchive`). */
  capacity: number;
  canArchive: boolean;
  /** The segment's ad sets adloop knows, oldest generation first (none before the first deploy). */
  findAdSets(market: string, segment: AdSetSegment): Promise<AdSetRef[]>;
  /** Finds or creates the campaign and the segment's ad set of that generation. */
  ensureAdSet(market: string, segment: AdSetSegment, generation: number): Promise<AdSetRef>;
  /** adloop's ads in the ad set, with their review outcome. */
  listAds(adSet: AdSetRef): Promise<CurrentAd[]>;
  /** Creates the ads (and whatever they need: media, creatives); name -> ad id. */
  createAds(adSet: AdSetRef, market: string, ads: NewAd[]): Promise<Map<string, string>>;
  setStatus(
    ads: Array<{ id: string; name: string }>,
    status: 'active' | 'paused' | 'archived',
  ): Promise<void>;
  disableAdSets(adSets: Array<{ id: string; name: string }>): Promise<void>;
}

const retryable = (err: unknown) => !(err instanceof PlatformError) || err.retryable;

/**
 * Creates every named object that `list` does not show yet. After a failed attempt (including an
 * answer lost in transit) it lists again, so what the platform did accept is found, and retries
 * only what is still missing. Failures the platform calls permanent are thrown at once.
 */
export async function createMissing(
  names: string[],
  list: () => Promise<Map<string, string>>,
  create: (missing: string[]) => Promise<Map<string, string | PlatformError>>,
  attempts = 4,
): Promise<Map<string, string>> {
  let known = await list();
  let last: unknown = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const missing = names.filter((n) => !known.has(n));
    if (missing.length === 0) return known;
    try {
      const results = await create(missing);
      let failed = false;
      for (const [name, r] of results) {
        if (typeof r === 'string') known.set(name, r);
        else if (!retryable(r)) throw r;
        else {
          failed = true;
          last = r;
        }
      }
      if (!failed && missing.every((n) => known.has(n))) return known;
    } catch (err) {
      if (!retryable(err)) throw err;
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
    known = new Map([...known, ...(await list())]);
  }
  const missing = names.filter((n) => !known.has(n));
  if (missing.length === 0) return known;
  throw last instanceof Error
    ? last
    : new PlatformError('meta', 'transient', `could not create ${missing.join(', ')}`);
}

/**
 * Finds a campaign or ad set by name (in the database, then on the platform) or creates it once,
 * audited, and records it. `operation` names the write in the audit (create_adgroup on TikTok).
 */
export async function ensureObject(
  deps: { db: Db; audit: WriteAudit },
  o: {
    platform: DeployPlatform;
    kind: 'campaign' | 'adset';
    operation: string;
    name: string;
    market: string;
    find: () => Promise<{ id: string } | null>;
    create: () => Promise<string>;
    status: string;
  },
): Promise<string> {
  const { platform, kind, name, market } = o;
  const known = (await listPlatformObjects(deps.db, { platform, kind, market })).find(
    (x) => x.name === name,
  );
  if (known) return known.external_id;
  const ids = await createMissing(
    [name],
    async () => {
      const found = await o.find();
      return new Map(found ? [[name, found.id]] : []);
    },
    async () =>
      new Map([
        [
          name,
          await deps.audit.write(
            { platform, operation: o.operation, kind, name },
            o.create,
            (id) => id,
          ),
        ],
      ]),
  );
  const id = ids.get(name)!;
  await savePlatformObject(deps.db, {
    platform,
    kind,
    name,
    externalId: id,
    market,
    status: o.status,
  });
  return id;
}

const generationOf = (name: string) => Number(/#(\d+)$/.exec(name)?.[1] ?? 1);

/**
 * A segment's ad sets adloop recorded (`base`, and `base#n` for rollovers), oldest first; when
 * none is recorded, the base one found on the platform by name (then recorded).
 */
export async function knownAdSets(
  db: Db,
  o: {
    platform: DeployPlatform;
    market: string;
    base: string;
    find: () => Promise<{ id: string; status?: string } | null>;
  },
): Promise<AdSetRef[]> {
  const known = (
    await listPlatformObjects(db, { platform: o.platform, kind: 'adset', market: o.market })
  )
    .filter((x) => x.name === o.base || x.name.startsWith(`${o.base}#`))
    .map((x) => ({ id: x.external_id, name: x.name, generation: generationOf(x.name) }))
    .sort((a, b) => a.generation - b.generation);
  if (known.length > 0) return known;
  const found = await o.find();
  if (!found) return [];
  await savePlatformObject(db, {
    platform: o.platform,
    kind: 'adset',
    name: o.base,
    externalId: found.id,
    market: o.market,
    status: found.status ?? null,
  });
  return [{ id: found.id, name: o.base, generation: 1 }];
}
