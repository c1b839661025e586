// What deploy needs of an ad platform, whichever it is. meta-target.ts and tiktok-target.ts adapt
// the platform clients to it; every write they make goes through the audit, and every create is
// made idempotent the same way: look up by name, create what is missing, and after any failure look
// up again before retrying, so a write the platform accepted but whose answer was lost is found
// instead of made twice. A write that got no answer at all may still be in the platform's queue:
// the look-up waits for it to settle first (TargetDeps.settleMs), and deploy's last read-back
// removes any twin a write landing later still made (reconcile in deploy.ts).
import fs from 'node:fs';
import { budgetMinor, type MarketAccounts } from '../../core/accounts.ts';
import { convertMicros, microsToMinor, type FxTable } from '../../core/money.ts';
import { adSetName, type AdSetSegment } from '../../core/ids.ts';
import type { DeploySlot, RenderedCreative } from '../../core/types.ts';
import { listPlatformObjects, savePlatformObject } from '../../db/creatives.repository.ts';
import type { Db } from '../../db/database.ts';
import { PlatformError } from '../../platforms/errors.ts';
import type { CreativeStore } from '../../render/storage.ts';
import { pause } from '../../core/cancellation.ts';
import { writeOutcome, type WriteAudit } from './audit.ts';
import type { CurrentAd, DeployPlatform } from '../../decisions/deploy/plan.ts';

/** What a target needs besides its platform's client. */
export interface TargetDeps {
  db: Db;
  audit: WriteAudit;
  /** Where the rendered assets are. */
  store: CreativeStore;
  /**
   * The market's accounts (core/accounts.ts): which ad account or advertiser, the app in each
   * store with its deep link, the page or identity, tracking links, and the daily budget of each
   * ad set in major units of the account's currency (which the target reads from the platform).
   */
  accounts: MarketAccounts;
  /**
   * How long a write that got no answer (timed out, connection dropped) may still land: a create
   * that went unanswered is looked up again only after this, so a late write is found, not made
   * twice. The platform client's request timeout.
   */
  settleMs: number;
  /** Today's allocated budget of each of the platform's ad sets in the market; null: fixed. */
  allocated?: AllocatedBudget | null;
}

/** One platform's allocated budget per ad set in a market (activities/budget). */
export interface AllocatedBudget {
  /** Each ad set's daily budget in micros of `currency` (the reporting currency). */
  perAdSetMicros: number;
  currency: string;
  fx: FxTable;
  /** Why the market got this budget on the platform (the allocator's reason). */
  reason: string;
}

/**
 * Each ad set's daily budget in minor units of the account's `currency`: the allocated one,
 * converted at the day's rates and rounded down (never above what was allocated), else the fixed
 * one from the accounts file (`where` names it in errors).
 */
export function adSetBudgetMinor(
  allocated: AllocatedBudget | null | undefined,
  configured: string | null,
  currency: string,
  where: string,
): number {
  if (!allocated) return budgetMinor(configured, currency, where);
  return microsToMinor(
    convertMicros(allocated.perAdSetMicros, allocated.currency, currency, allocated.fx),
    currency,
  );
}

export interface AdSetRef {
  id: string;
  name: string;
  generation: number;
  /** As adloop last recorded it (ENABLE/ACTIVE, DISABLE/PAUSED), when known. */
  status?: string | null;
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
  /**
   * The cap counts live ads only: paused ones hold no place (Google: an unlinked asset is not in
   * the app ad). Default false.
   */
  liveCap?: boolean;
  /** How long a write that got no answer may still land (TargetDeps.settleMs). */
  settleMs: number;
  /** The segment's ad sets adloop knows, oldest generation first (none before the first deploy). */
  findAdSets(market: string, segment: AdSetSegment): Promise<AdSetRef[]>;
  /**
   * Finds or creates the campaign and the segment's ad set of that generation. Campaigns, ad sets
   * and ads are created paused, so nothing spends before the ad set holds reviewed ads; segments
   * are per OS (an app-install ad set promotes one store), never `all`.
   */
  ensureAdSet(market: string, segment: AdSetSegment, generation: number): Promise<AdSetRef>;
  /** adloop's ads in the ad set, with their review outcome. */
  listAds(adSet: AdSetRef): Promise<CurrentAd[]>;
  /** Creates the ads (and whatever they need: media, creatives); ids, and what was refused. */
  createAds(adSet: AdSetRef, market: string, ads: NewAd[]): Promise<Created>;
  /**
   * What creating an ad of `creative` would make besides the ad, for the dry-run diff (Meta: the
   * video uploads and the video creative, the still as fallback); null when only the usual.
   * Reads only. Optional: the other platforms' ads carry their one asset.
   */
  mediaPlan?(market: string, creative: RenderedCreative): Promise<string | null>;
  /**
   * Brings the ad set's live ads up to date with what they should carry besides themselves, for
   * every ad the plan keeps, resumes or creates (Google: the creative's YouTube video beside its
   * image; Meta: a video ad the review disapproved switched to its still). Optional: TikTok's ads
   * are whole once created.
   */
  completeAds?(adSet: AdSetRef, market: string, ads: NewAd[]): Promise<void>;
  /** Sets ads' status; `deleted` removes them for good (twins: see decisions/deploy/twins.ts). */
  setStatus(
    ads: Array<{ id: string; name: string }>,
    status: 'active' | 'paused' | 'archived' | 'deleted',
  ): Promise<void>;
  /**
   * The daily budget of each ad set it creates for the market, in minor units of the account's
   * currency as the platform reports it (what the spend caps are checked against).
   */
  dailyBudget(market: string): Promise<{ minor: number; currency: string }>;
  /** The ad set's daily budget on the platform now, in minor units of the account's currency. */
  readBudget(adSet: AdSetRef): Promise<number>;
  /** Sets the ad set's daily budget (minor units of the account's currency), audited. */
  setBudget(market: string, adSet: AdSetRef, minor: number): Promise<void>;
  /**
   * Switches the ad set and its campaign on (idempotent: a no-op when already on). Deploy calls it
   * last, once the ad set holds ads that passed review, and only in live mode.
   */
  activateAdSet(market: string, adSet: AdSetRef): Promise<void>;
  /**
   * Deletes twins of the market's campaign and of these ad sets: objects under the same name that
   * a create landing after its look-up made (decisions/deploy/twins.ts objectTwins). A twin that
   * holds anything (ads, ad sets) is left alone. Returns how many it deleted.
   */
  removeObjectTwins(market: string, adSets: AdSetRef[]): Promise<number>;
  /** Stops older ad sets of a segment (TikTok rollover), recording them as stopped. */
  disableAdSets(market: string, adSets: Array<{ id: string; name: string }>): Promise<void>;
}

/**
 * The pause before try `attempt + 1` of writes that failed transiently: 250 ms, 500 ms, 1 s…
 * Cut short (and thrown) when the activity is cancelled.
 */
export const backOff = (attempt: number) => pause(250 * 2 ** (attempt - 1));

const retryable = (err: unknown) => !(err instanceof PlatformError) || err.retryable;
/** The platform refused this object itself (bad content, policy at creation): not the request. */
const refusal = (err: unknown): boolean => err instanceof PlatformError && err.kind === 'invalid';
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export interface Created {
  /** Name -> id of every object that exists now. */
  ids: Map<string, string>;
  /** Name -> why the platform refused to create it (retrying will not help). */
  refused: Map<string, string>;
}

/**
 * Creates every named object that `list` does not show yet. After a failed attempt (including an
 * answer lost in transit) it lists again, so what the platform did accept is found, and retries
 * only what is still missing. After a write that got no answer at all it first waits `settleMs`:
 * the write may still be queued on the platform and land late, and a look-up before it lands
 * would create it twice. An object the platform refuses is reported, not retried; when a request
 * that carried several is refused as a whole, each is tried alone to find which. Other permanent
 * failures (auth) are thrown.
 */
export async function createMissing(
  names: string[],
  list: () => Promise<Map<string, string>>,
  create: (missing: string[]) => Promise<Map<string, string | PlatformError>>,
  o: { settleMs: number; attempts?: number },
): Promise<Created> {
  const attempts = o.attempts ?? 4;
  let unanswered = false;
  const failedWith = (err: unknown) => {
    if (writeOutcome(err) === 'lost') unanswered = true;
  };
  let known = await list();
  const refused = new Map<string, string>();
  const pending = () => names.filter((n) => !known.has(n) && !refused.has(n));
  let last: unknown = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const missing = pending();
    if (missing.length === 0) return { ids: known, refused };
    let failed = false;
    try {
      const results = await create(missing);
      for (const [name, r] of results) {
        if (typeof r === 'string') known.set(name, r);
        else if (refusal(r)) refused.set(name, messageOf(r));
        else if (!retryable(r)) throw r;
        else {
          failed = true;
          last = r;
          failedWith(r);
        }
      }
    } catch (err) {
      if (refusal(err) && missing.length > 1) {
        // One bad object refuses the whole request: find which, one at a time (after looking
        // up what parts of the request the platform did carry out).
        known = new Map([...known, ...(await list())]);
        for (const name of missing.filter((n) => !known.has(n))) {
          try {
            const r = (await create([name])).get(name);
            if (typeof r === 'string') known.set(name, r);
            else if (r) throw r;
          } catch (one) {
            if (refusal(one)) refused.set(name, messageOf(one));
            else if (!retryable(one)) throw one;
            else {
              failed = true;
              last = one;
              failedWith(one);
            }
          }
        }
      } else if (refusal(err)) refused.set(missing[0]!, messageOf(err));
      else if (!retryable(err)) throw err;
      else {
        failed = true;
        last = err;
        failedWith(err);
      }
    }
    if (!failed && pending().length === 0) return { ids: known, refused };
    await (unanswered ? pause(o.settleMs) : backOff(attempt));
    unanswered = false;
    known = new Map([...known, ...(await list())]);
  }
  if (pending().length === 0) return { ids: known, refused };
  throw last instanceof Error
    ? last
    : new PlatformError('meta', 'transient', `could not create ${pending().join(', ')}`);
}

/**
 * Finds a campaign or ad set by name (in the database, then on the platform) or creates it once,
 * audited, and records it. `operation` names the write in the audit (create_adgroup on TikTok).
 */
export async function ensureObject(
  deps: { db: Db; audit: WriteAudit; settleMs: number },
  o: {
    platform: DeployPlatform;
    kind: 'campaign' | 'adset' | 'budget';
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
  const created = await createMissing(
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
    { settleMs: deps.settleMs },
  );
  const id = created.ids.get(name);
  if (!id)
    throw new PlatformError(
      platform,
      'invalid',
      created.refused.get(name) ?? `${name} not created`,
    );
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

/**
 * Sets campaigns' or ad sets' status in one audited request (`write`; skipped when `already`:
 * the platform shows them so) and records each with that status. Empty `objects`: nothing.
 */
export async function setRecordedStatus(
  deps: { db: Db; audit: WriteAudit },
  o: {
    platform: DeployPlatform;
    kind: 'campaign' | 'adset';
    operation: string;
    market: string;
    objects: Array<{ id: string; name: string }>;
    status: string;
    write: () => Promise<unknown>;
    already?: boolean;
  },
): Promise<void> {
  if (o.objects.length === 0) return;
  if (!o.already)
    await deps.audit.many(
      o.objects.map((x) => ({
        platform: o.platform,
        operation: o.operation,
        kind: o.kind,
        name: x.name,
      })),
      o.write,
      () => o.objects.map((x) => ({ externalId: x.id })),
    );
  for (const x of o.objects)
    await savePlatformObject(deps.db, {
      platform: o.platform,
      kind: o.kind,
      name: x.name,
      externalId: x.id,
      market: o.market,
      status: o.status,
    });
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
    segment: AdSetSegment;
    /** The platform's ad set (ad group) of that exact name, if any. */
    find: (name: string) => Promise<{ id: string; status?: string } | null>;
  },
): Promise<AdSetRef[]> {
  const base = adSetName(o.market, o.segment);
  const known = (
    await listPlatformObjects(db, { platform: o.platform, kind: 'adset', market: o.market })
  )
    .filter((x) => x.name === base || x.name.startsWith(`${base}#`))
    .map((x) => ({
      id: x.external_id,
      name: x.name,
      generation: generationOf(x.name),
      status: x.status,
    }))
    .sort((a, b) => a.generation - b.generation);
  if (known.length > 0) return known;
  const found = await o.find(base);
  if (!found) return [];
  await savePlatformObject(db, {
    platform: o.platform,
    kind: 'adset',
    name: base,
    externalId: found.id,
    market: o.market,
    status: found.status ?? null,
  });
  return [{ id: found.id, name: base, generation: 1 }];
}

/** Bytes of the asset a platform gets (runs from before per-platform assets used `assetKey`). */
export async function assetBytes(
  store: CreativeStore,
  c: RenderedCreative,
  platform: DeploySlot,
): Promise<{ bytes: Buffer; format: string; kind: 'static' | 'motion' }> {
  const asset = c.platformAssets?.[platform];
  if (asset) return { bytes: await store.get(asset.key), format: asset.format, kind: asset.kind };
  const bytes = c.assetKey ? await store.get(c.assetKey) : await fs.promises.readFile(c.path);
  return { bytes, format: c.format ?? 'png', kind: 'static' };
}
