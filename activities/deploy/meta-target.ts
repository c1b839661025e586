// Meta as a deploy target: one OUTCOME_APP_PROMOTION campaign per market, one app-install ad set
// per segment (one store: iOS or Android), one ad creative per creative and store (it links to
// that store with an install call to action and opens the artist in the app), and ads. Campaigns,
// ad sets and ads are created PAUSED; activateAdSet switches an ad set and its campaign on. Creates and status changes go out as batch
// requests of at most 50 calls; the client paces them by the account's usage header.
import { artistDeepLink, budgetMinor, type PromotedApp } from '../../core/accounts.ts';
import {
  adSetName,
  metaCampaignName,
  metaCreativeName,
  parseAdName,
  type AdSetSegment,
} from '../../core/ids.ts';
import { listPlatformObjects, savePlatformObject } from '../../db/creatives.repository.ts';
import { PlatformError, REQUEST_TRIES } from '../../platforms/errors.ts';
import { META_MAX_BATCH, type BatchResult, type MetaAds } from '../../platforms/meta/meta-ads.ts';
import { writeOutcome, type WriteEntry } from './audit.ts';
import type { CurrentAd } from '../../decisions/deploy/plan.ts';
import { objectTwins } from '../../decisions/deploy/twins.ts';
import {
  assetBytes,
  backOff,
  createMissing,
  ensureObject,
  knownAdSets,
  type AdSetRef,
  type DeployTarget,
  type NewAd,
  type TargetDeps,
} from './target.ts';

/** Meta's cap on ads in an ad set that are not archived or deleted. */
export const META_ADS_PER_ADSET = 50;

/** The store an ad set promotes, from its name (adloop/<market>/<os>/<objective>). */
const osOfAdSet = (name: string): 'ios' | 'android' | null =>
  (/\/(ios|android)\//.exec(name)?.[1] as 'ios' | 'android' | undefined) ?? null;

const STATUS = {
  active: 'ACTIVE',
  paused: 'PAUSED',
  archived: 'ARCHIVED',
  deleted: 'DELETED',
} as const;
const VERB = { active: 'resume', paused: 'pause', archived: 'archive', deleted: 'delete' } as const;

function batchItems(results: BatchResult[]) {
  return results.map((r) => ({
    externalId: r.id ?? null,
    ...(r.error
      ? { error: r.error.message, ...(writeOutcome(r.error) === 'lost' ? { lost: true } : {}) }
      : {}),
  }));
}

export function metaTarget(deps: TargetDeps & { meta: MetaAds }): DeployTarget {
  const { meta, db, audit, accounts } = deps;

  /** The market's Meta account and the app in the segment's store, or a clear error. */
  function appOf(os: string): PromotedApp {
    if (os !== 'ios' && os !== 'android')
      throw new PlatformError(
        'meta',
        'invalid',
        `segment os '${os}': an app-install ad set promotes one store; use ios or android`,
      );
    const app = accounts.apps[os];
    if (!app)
      throw new PlatformError(
        'meta',
        'invalid',
        `accounts: no ${os} app is configured (app.${os})`,
      );
    return app;
  }
  /** Each ad set's daily budget, in the ad account's currency as Meta reports it. */
  async function budget(market: string): Promise<{ minor: number; currency: string }> {
    const { currency } = await meta.describeAccount();
    const where = `markets.${market}.dailyBudget.meta`;
    return { minor: budgetMinor(metaAccount().dailyBudget, currency, where), currency };
  }

  function metaAccount() {
    if (!accounts.meta)
      throw new PlatformError(
        'meta',
        'invalid',
        `accounts: no Meta account runs ${accounts.market}`,
      );
    return accounts.meta;
  }

  const ensure = (
    kind: 'campaign' | 'adset',
    name: string,
    market: string,
    create: () => Promise<string>,
  ) =>
    ensureObject(deps, {
      platform: 'meta',
      kind,
      operation: `create_${kind}`,
      name,
      market,
      find: () => meta.findByName(kind === 'campaign' ? 'campaigns' : 'adsets', name),
      create,
      status: 'PAUSED',
    });

  // Uploaded stills by creative hash, shared by every ad set of this deploy (the iOS and the
  // Android ad set show the same creatives): each is uploaded once.
  const imageHashes = new Map<string, string>();

  /** Uploads a creative's still; the same bytes give the same hash, so this is idempotent. */
  async function uploadImage(ad: NewAd): Promise<string> {
    const { bytes, format } = await assetBytes(deps.store, ad.creative, 'meta');
    const file = `${ad.creative.hash}.${format === 'jpeg' ? 'jpg' : format}`;
    const { hash } = await audit.write(
      {
        platform: 'meta',
        operation: 'upload_image',
        kind: 'image',
        name: ad.creative.hash,
        detail: { bytes: bytes.length },
      },
      () => meta.uploadImage(bytes, file),
      (r) => r.hash,
    );
    return hash;
  }

  /**
   * Sends writes in batch requests of at most 50, each request audited as the writes it carries
   * (so every row gets its own request's id). Results are in the order of `items`.
   */
  async function auditedBatches<T>(
    items: T[],
    entryOf: (item: T) => WriteEntry,
    send: (chunk: T[]) => Promise<BatchResult[]>,
  ): Promise<BatchResult[]> {
    const out: BatchResult[] = [];
    for (let i = 0; i < items.length; i += META_MAX_BATCH) {
      const chunk = items.slice(i, i + META_MAX_BATCH);
      out.push(...(await audit.many(chunk.map(entryOf), () => send(chunk), batchItems)));
    }
    return out;
  }

  /** Creates ad creatives or ads; name -> id, or why Meta did not create it. */
  async function batchCreate(
    edge: 'adcreatives' | 'ads',
    operation: string,
    kind: string,
    items: Array<{
      name: string;
      params: Record<string, unknown>;
      detail?: Record<string, unknown>;
    }>,
  ): Promise<Map<string, string | PlatformError>> {
    const results = await auditedBatches(
      items,
      (it) => ({
        platform: 'meta',
        operation,
        kind,
        name: it.name,
        ...(it.detail ? { detail: it.detail } : {}),
      }),
      (chunk) =>
        meta.createMany(
          edge,
          chunk.map((it) => it.params),
        ),
    );
    return new Map(items.map((it, j) => [it.name, results[j]!.id ?? results[j]!.error]));
  }

  /**
   * Sets the status of many objects. Setting a status is idempotent, so the items whose write
   * failed transiently (alone, or with their whole batch) are sent again, backing off, a few
   * times; a permanent failure is thrown at once, and so is the last transient one.
   */
  async function setStatuses(
    objects: Array<{ id: string; name: string }>,
    status: keyof typeof STATUS,
    kind = 'ad',
  ) {
    const verb = VERB[status];
    let pending = objects;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const results = await auditedBatches(
        pending,
        (o) => ({
          platform: 'meta',
          operation: `${verb}_${kind}`,
          kind,
          name: o.name,
          detail: { status: STATUS[status] },
        }),
        (chunk) =>
          meta.setStatuses(
            chunk.map((o) => o.id),
            STATUS[status],
          ),
      );
      const failed = pending.flatMap((o, j) => {
        const error = results[j]!.error;
        return error ? [{ o, error }] : [];
      });
      const permanent = failed.find((f) => !f.error.retryable);
      if (permanent) throw permanent.error;
      if (failed.length > 0 && attempt >= REQUEST_TRIES) throw failed[0]!.error;
      if (failed.length > 0) await backOff(attempt);
      pending = failed.map((f) => f.o);
    }
  }

  return {
    platform: 'meta',
    capacity: META_ADS_PER_ADSET,
    canArchive: true,
    settleMs: deps.settleMs,

    findAdSets(market, segment) {
      const base = adSetName(market, segment);
      return knownAdSets(db, {
        platform: 'meta',
        market,
        base,
        find: () => meta.findByName('adsets', base),
      });
    },

    dailyBudget: (market) => budget(market),

    async ensureAdSet(market: string, segment: AdSetSegment): Promise<AdSetRef> {
      const app = appOf(segment.os);
      const account = metaAccount();
      const campaignName = metaCampaignName(market);
      const campaignId = await ensure('campaign', campaignName, market, () =>
        meta.createCampaign({ name: campaignName }),
      );
      const name = adSetName(market, segment);
      const id = await ensure('adset', name, market, async () => {
        const { minor } = await budget(market);
        return meta.createAdSet({
          name,
          campaignId,
          country: market,
          dailyBudgetMinor: minor,
          os: app.os,
          objective: segment.objective,
          app: { applicationId: account.applicationId, storeUrl: app.storeUrl },
        });
      });
      return { id, name, generation: 1 };
    },

    async activateAdSet(market, adSet) {
      // The campaign the ad set belongs to, not whichever one answers to the campaign's name.
      const campaignId = (await meta.findAllByName('adsets', adSet.name)).find(
        (a) => a.id === adSet.id,
      )?.campaignId;
      if (!campaignId)
        throw new PlatformError('meta', 'invalid', `ad set ${adSet.name} (${adSet.id}) not found`);
      const objects = [
        { id: campaignId, name: metaCampaignName(market), kind: 'campaign' },
        { id: adSet.id, name: adSet.name, kind: 'adset' },
      ];
      // Idempotent: what is already on is left alone (and not written).
      const off = [];
      for (const o of objects) if ((await meta.readStatus(o.id)).status !== 'ACTIVE') off.push(o);
      for (const o of off) await setStatuses([o], 'active', o.kind);
      await savePlatformObject(db, {
        platform: 'meta',
        kind: 'adset',
        name: adSet.name,
        externalId: adSet.id,
        market,
        status: 'ACTIVE',
      });
    },

    async removeObjectTwins(market, adSets) {
      const twins: Array<{ id: string; name: string; kind: 'campaign' | 'adset' }> = [];
      for (const adSet of adSets)
        for (const t of objectTwins(await meta.findAllByName('adsets', adSet.name), adSet.id))
          if ((await meta.listAds(t.id)).length === 0)
            twins.push({ id: t.id, name: adSet.name, kind: 'adset' });
      const campaignName = metaCampaignName(market);
      const recorded = (
        await listPlatformObjects(db, { platform: 'meta', kind: 'campaign', market })
      ).find((c) => c.name === campaignName)?.external_id;
      const campaigns = objectTwins(await meta.findAllByName('campaigns', campaignName), recorded);
      if (campaigns.length > 0) {
        const parents = new Set(
          (await meta.listByName('adsets', `${campaignName}/`))
            .filter((a) => a.status !== 'DELETED' && !twins.some((t) => t.id === a.id))
            .map((a) => a.campaignId),
        );
        for (const c of campaigns)
          if (!parents.has(c.id)) twins.push({ id: c.id, name: campaignName, kind: 'campaign' });
      }
      // Ad sets first: a campaign is deleted once nothing of adloop's is in it.
      for (const kind of ['adset', 'campaign'] as const) {
        const of = twins.filter((t) => t.kind === kind);
        if (of.length > 0) await setStatuses(of, 'deleted', kind);
      }
      return twins.length;
    },

    async listAds(adSet) {
      const out: CurrentAd[] = [];
      for (const ad of await meta.listAds(adSet.id)) {
        const parsed = parseAdName(ad.name);
        if (!parsed) continue; // not adloop's: left alone
        out.push({
          id: ad.id,
          name: ad.name,
          creativeHash: parsed.creativeHash,
          createdDate: parsed.date,
          status:
            ad.status === 'ACTIVE' ? 'active' : ad.status === 'PAUSED' ? 'paused' : 'archived',
          review: ad.review,
          reviewReason: ad.reviewReason,
        });
      }
      return out;
    },

    async createAds(adSet, market, ads) {
      // Ad creatives first: one per creative and store, found by name when an earlier attempt
      // made it (the store link and the call to action differ between stores).
      const os = osOfAdSet(adSet.name) ?? 'all';
      const app = appOf(os);
      const creativeName = (hash: string) => `${metaCreativeName(market, hash)}/${os}`;
      const byCreative = new Map(ads.map((a) => [creativeName(a.creative.hash), a]));
      const listCreatives = async () =>
        new Map(
          (await meta.listByName('adcreatives', `adloop/${market}/creative/`))
            .filter((c) => byCreative.has(c.name))
            .map((c) => [c.name, c.id]),
        );
      const creatives = await createMissing(
        [...byCreative.keys()],
        listCreatives,
        async (missing) => {
          const items = [];
          for (const name of missing) {
            const ad = byCreative.get(name)!;
            const imageHash = imageHashes.get(ad.creative.hash) ?? (await uploadImage(ad));
            imageHashes.set(ad.creative.hash, imageHash);
            const { message, headline } = ad;
            // The deep link opens the artist; it keeps the ad's tracking parameters.
            const appLink = new URL(artistDeepLink(app, ad.creative.artistId));
            for (const [k, v] of new URL(ad.link).searchParams) appLink.searchParams.set(k, v);
            items.push({
              name,
              params: meta.creativeParams({
                name,
                imageHash,
                storeUrl: app.storeUrl,
                appLink: appLink.toString(),
                message,
                headline,
              }),
            });
          }
          return batchCreate('adcreatives', 'create_creative', 'creative', items);
        },
        deps,
      );
      for (const [name, id] of creatives.ids)
        await savePlatformObject(db, {
          platform: 'meta',
          kind: 'creative',
          name,
          externalId: id,
          market,
          creativeHash: byCreative.get(name)!.creative.hash,
        });

      // Then the ads of the creatives Meta took, looked up in the ad set by name.
      const creativeOf = (ad: NewAd) => creativeName(ad.creative.hash);
      const refused = new Map<string, string>();
      for (const ad of ads) {
        const why = creatives.refused.get(creativeOf(ad));
        if (why) refused.set(ad.name, why);
      }
      const byName = new Map(ads.filter((a) => !refused.has(a.name)).map((a) => [a.name, a]));
      const listAds = async () =>
        new Map(
          (await meta.listAds(adSet.id))
            .filter((a) => byName.has(a.name))
            .map((a) => [a.name, a.id]),
        );
      const created = await createMissing(
        [...byName.keys()],
        listAds,
        (missing) =>
          batchCreate(
            'ads',
            'create_ad',
            'ad',
            missing.map((name) => {
              const ad = byName.get(name)!;
              return {
                name,
                params: meta.adParams({
                  name,
                  adsetId: adSet.id,
                  creativeId: creatives.ids.get(creativeOf(ad))!,
                }),
                detail: { adSet: adSet.name, creative: ad.creative.hash },
              };
            }),
          ),
        deps,
      );
      return { ids: created.ids, refused: new Map([...refused, ...created.refused]) };
    },

    setStatus: (ads, status) => setStatuses(ads, status),

    async disableAdSets(market, adSets) {
      await setStatuses(adSets, 'paused', 'adset');
      for (const a of adSets)
        await savePlatformObject(db, {
          platform: 'meta',
          kind: 'adset',
          name: a.name,
          externalId: a.id,
          market,
          status: 'PAUSED',
        });
    },
  };
}
