// Meta as a deploy target: one OUTCOME_APP_PROMOTION campaign per market, one app-install ad set
// per segment (one store: iOS or Android), one ad creative per creative and store (it links to
// that store with an install call to action and opens the artist in the app), and ads. Campaigns,
// ad sets and ads are created PAUSED; activateAdSet switches an ad set and its campaign on. Creates
// and status changes go out as batch requests of at most 50 calls; the client paces them by the
// account's usage header.
//
// Motion: a creative rendered in motion in 9:16 and in 4:5 (or 1:1) runs as a video ad whose
// placements each get their cut (placement asset customisation: feeds the 4:5, stories and reels
// the 9:16), each video's thumbnail being adloop's own still of its ratio (the video's last frame).
// Each cut is uploaded once per market, under a title naming the creative and ratio, recorded in
// platform_objects and found by that title after a lost answer, so it is never uploaded twice;
// deploy waits for Meta to process the videos. The still stays the fallback: a video that fails
// or does not finish processing, a video creative Meta refuses, and a video ad its review
// disapproves each leave the creative running as its still ad, and each such fall back is audited
// (`fallback_to_still`).
import { Context } from '@temporalio/activity';
import { artistDeepLink, type PromotedApp } from '../../core/accounts.ts';
import type { DeployAsset, RenderedCreative } from '../../core/types.ts';
import { count } from '../counters.ts';
import {
  adSetName,
  metaCampaignName,
  metaCreativeName,
  parseAdName,
  type AdSetSegment,
} from '../../core/ids.ts';
import { listPlatformObjects, savePlatformObject } from '../../db/creatives.repository.ts';
import { PlatformError, REQUEST_TRIES } from '../../platforms/errors.ts';
import {
  META_MAX_BATCH,
  uploadFinished,
  videoProblem,
  type BatchResult,
  type MetaAds,
  type MetaCreativeVideo,
  type MetaVideoState,
} from '../../platforms/meta/meta-ads.ts';
import { pause } from '../../core/cancellation.ts';
import { writeOutcome, type WriteEntry } from './audit.ts';
import { videoCover } from './video-cover.ts';
import type { CurrentAd } from '../../decisions/deploy/plan.ts';
import { objectTwins } from '../../decisions/deploy/twins.ts';
import {
  adSetBudgetMinor,
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

/** The cuts of a Meta video ad and the deploy slot each comes from (activities/render/render.ts). */
type Cut = 'vertical' | 'feed';
const CUTS: readonly Cut[] = ['vertical', 'feed'];
const CUT_SLOT = { vertical: 'meta-video-vertical', feed: 'meta-video-feed' } as const;

/** A creative's two video cuts, or null when it lacks one (it then runs as its still). */
export function metaVideoCuts(c: RenderedCreative): Record<Cut, DeployAsset> | null {
  const vertical = c.platformAssets?.['meta-video-vertical'];
  const feed = c.platformAssets?.['meta-video-feed'];
  return vertical && feed ? { vertical, feed } : null;
}

/** The title a creative's cut is uploaded under, once per market: creative name and ratio. */
export const metaVideoTitle = (market: string, hash: string, ratio: string) =>
  `${metaCreativeName(market, hash)}/${ratio}`;

/** A creative's video creative is named as its still creative in the same store, plus this. */
export const VIDEO_CREATIVE_SUFFIX = '/video';

/** Tries to get one cut uploaded (each try looks the title up first). */
const UPLOAD_TRIES = 3;

/** Tells Temporal the activity is alive while it waits; outside an activity, nothing. */
function heartbeat(details: unknown) {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not inside an activity (scripts, tests): nobody to tell
  }
}

type FallbackWhy = 'upload' | 'processing' | 'timeout' | 'refused' | 'disapproved';

/** What a creative's video ad has: both cuts processed, or why it runs as its still. */
type PreparedVideo =
  | { cuts: Record<Cut, { videoId: string; asset: DeployAsset }> }
  | { fallback: string; why: FallbackWhy };

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

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
    return {
      minor: adSetBudgetMinor(deps.allocated, metaAccount().dailyBudget, currency, where),
      currency,
    };
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

  /** A video's thumbnail image: uploaded like a still, and as idempotent (content-addressed). */
  async function uploadThumbnail(title: string, cover: Buffer): Promise<string> {
    const { hash } = await audit.write(
      {
        platform: 'meta',
        operation: 'upload_image',
        kind: 'image',
        name: `${title}/thumbnail`,
        detail: { bytes: cover.length },
      },
      () => meta.uploadImage(cover, `${title.replace(/[^\w.-]+/g, '_')}.jpg`),
      (r) => r.hash,
    );
    return hash;
  }

  /** Records a video's id and how far it is (processing, ready, error) for later deploys. */
  const recordVideo = (market: string, title: string, id: string, hash: string, status: string) =>
    savePlatformObject(db, {
      platform: 'meta',
      kind: 'video',
      name: title,
      externalId: id,
      market,
      creativeHash: hash,
      status,
    });

  /** A video's recorded status from what Meta says of it. */
  const statusOf = (v: MetaVideoState) =>
    videoProblem(v) ? 'error' : v.videoStatus === 'ready' ? 'ready' : 'processing';

  /**
   * A creative's cut on Meta: found under its title (an upload whose answer was lost, or an
   * earlier deploy's), or uploaded once (resumable, audited) and recorded. A video whose file Meta
   * could not process is returned too (recorded as error): uploading the same file again would not
   * help. Transient failures are tried again, looking the title up first; after a write that got no
   * answer, once it had time to land (settleMs).
   */
  async function ensureVideo(
    market: string,
    creative: RenderedCreative,
    cut: Cut,
    title: string,
  ): Promise<{ videoId: string; status: string }> {
    let last: unknown = null;
    for (let attempt = 1; attempt <= UPLOAD_TRIES; attempt++) {
      // Only uploads that were finished: one whose finish never landed never processes.
      const found = (await meta.findVideos(title)).filter(uploadFinished);
      const best = found.find((v) => !videoProblem(v)) ?? found[0];
      if (best) {
        const status = statusOf(best);
        await recordVideo(market, title, best.videoId, creative.hash, status);
        return { videoId: best.videoId, status };
      }
      try {
        const { bytes } = await assetBytes(deps.store, creative, CUT_SLOT[cut]);
        const { videoId } = await audit.write(
          {
            platform: 'meta',
            operation: 'upload_video',
            kind: 'video',
            name: title,
            detail: { bytes: bytes.length, creative: creative.hash },
          },
          () => meta.uploadVideo(bytes, title),
          (r) => r.videoId,
        );
        await recordVideo(market, title, videoId, creative.hash, 'processing');
        return { videoId, status: 'processing' };
      } catch (err) {
        if (!(err instanceof PlatformError) || !err.retryable) throw err;
        last = err;
        await (writeOutcome(err) === 'lost' ? pause(deps.settleMs) : backOff(attempt));
      }
    }
    throw last;
  }

  /**
   * Gets the creatives' cuts onto Meta and processed: each cut uploaded once (or found by title,
   * or known from platform_objects), then all waited for together, heartbeating. A creative with
   * a cut that cannot be uploaded, failed processing or was still processing when the wait ended
   * runs as its still (`fallback` says why); the others have both cuts ready.
   */
  async function prepareVideos(
    market: string,
    creatives: RenderedCreative[],
  ): Promise<Map<string, PreparedVideo>> {
    const out = new Map<string, PreparedVideo>();
    const recorded = new Map(
      (await listPlatformObjects(db, { platform: 'meta', kind: 'video', market })).map((o) => [
        o.name,
        { videoId: o.external_id, status: o.status ?? 'processing' },
      ]),
    );
    const cuts: Array<{
      hash: string;
      cut: Cut;
      title: string;
      videoId: string;
      asset: DeployAsset;
    }> = [];
    for (const c of creatives) {
      const assets = metaVideoCuts(c);
      if (!assets) continue;
      for (const cut of CUTS) {
        const asset = assets[cut];
        const title = metaVideoTitle(market, c.hash, asset.ratio);
        let known = recorded.get(title);
        if (!known) {
          try {
            known = await ensureVideo(market, c, cut, title);
          } catch (err) {
            // A token that no longer works stops deploy; anything else leaves the still to run.
            if (err instanceof PlatformError && err.kind === 'auth') throw err;
            out.set(c.hash, {
              fallback: `its ${asset.ratio} video could not be uploaded: ${messageOf(err)}`,
              why: 'upload',
            });
            break;
          }
          recorded.set(title, known);
        }
        if (known.status === 'error') {
          out.set(c.hash, {
            fallback: `its ${asset.ratio} video ${known.videoId} failed processing on Meta`,
            why: 'processing',
          });
          break;
        }
        cuts.push({ hash: c.hash, cut, title, videoId: known.videoId, asset });
      }
    }
    const waiting = cuts.filter(
      (p) => !out.has(p.hash) && recorded.get(p.title)?.status !== 'ready',
    );
    const states = waiting.length
      ? await meta.waitForVideos(
          waiting.map((p) => p.videoId),
          { onWait: (n) => heartbeat({ metaVideosProcessing: n }) },
        )
      : new Map<string, MetaVideoState | PlatformError>();
    for (const p of waiting) {
      const state = states.get(p.videoId);
      if (!state) continue;
      if (state instanceof PlatformError) {
        const timedOut = state.kind === 'transient';
        await recordVideo(market, p.title, p.videoId, p.hash, timedOut ? 'processing' : 'error');
        if (!out.has(p.hash))
          out.set(p.hash, { fallback: state.message, why: timedOut ? 'timeout' : 'processing' });
      } else await recordVideo(market, p.title, p.videoId, p.hash, 'ready');
    }
    for (const c of creatives) {
      if (out.has(c.hash) || !metaVideoCuts(c)) continue;
      const mine = cuts.filter((p) => p.hash === c.hash);
      out.set(c.hash, {
        cuts: Object.fromEntries(
          mine.map((p) => [p.cut, { videoId: p.videoId, asset: p.asset }]),
        ) as Record<Cut, { videoId: string; asset: DeployAsset }>,
      });
    }
    return out;
  }

  /**
   * A cut with its thumbnail: adloop's own still of the video's ratio (its last frame, as TikTok's
   * cover: video-cover.ts), uploaded as an image; when that frame cannot be made, the thumbnail
   * Meta prefers of those it made while processing (VideoThumbnail.is_preferred).
   */
  async function withThumbnail(
    market: string,
    creative: RenderedCreative,
    cut: Cut,
    v: { videoId: string; asset: DeployAsset },
  ): Promise<MetaCreativeVideo> {
    const title = metaVideoTitle(market, creative.hash, v.asset.ratio);
    let cover: Buffer;
    try {
      cover = await videoCover((await assetBytes(deps.store, creative, CUT_SLOT[cut])).bytes);
    } catch (err) {
      if (err instanceof PlatformError) throw err;
      const [preferred] = await meta.videoThumbnails(v.videoId);
      if (!preferred)
        throw new PlatformError(
          'meta',
          'invalid',
          `video ${v.videoId} (${title}) has no thumbnail: its still could not be made (${messageOf(err)}) and Meta made none`,
        );
      return { videoId: v.videoId, thumbnailUrl: preferred.uri };
    }
    return { videoId: v.videoId, thumbnailHash: await uploadThumbnail(title, cover) };
  }

  /** Records that a creative runs as its still where a video ad was meant, and why. */
  async function fallBack(name: string, hash: string, reason: string, why: FallbackWhy) {
    count('adloop_video_fallbacks', 1, { platform: 'meta', why });
    await audit.decision({
      platform: 'meta',
      operation: 'fallback_to_still',
      kind: 'creative',
      name,
      detail: { creative: hash, why },
      reason,
    });
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

  /** The name of a creative's still creative in a store's ad sets. */
  const stillName = (market: string, os: string, hash: string) =>
    `${metaCreativeName(market, hash)}/${os}`;

  /** The deep link of an ad: it opens the artist and keeps the ad's tracking parameters. */
  function appLinkOf(app: PromotedApp, ad: NewAd): string {
    const appLink = new URL(artistDeepLink(app, ad.creative.artistId));
    for (const [k, v] of new URL(ad.link).searchParams) appLink.searchParams.set(k, v);
    return appLink.toString();
  }

  /** adloop's ad creatives of the market among `names`: name -> id. */
  const listCreatives = async (market: string, names: ReadonlySet<string>) =>
    new Map(
      (await meta.listByName('adcreatives', `adloop/${market}/creative/`))
        .filter((c) => names.has(c.name))
        .map((c) => [c.name, c.id]),
    );

  /** The ads' still creatives in the store's ad sets, found or created (and recorded). */
  async function stillCreatives(market: string, os: string, app: PromotedApp, ads: NewAd[]) {
    const byCreative = new Map(ads.map((a) => [stillName(market, os, a.creative.hash), a]));
    const names = new Set(byCreative.keys());
    const creatives = await createMissing(
      [...names],
      () => listCreatives(market, names),
      async (missing) => {
        const items = [];
        for (const name of missing) {
          const ad = byCreative.get(name)!;
          const imageHash = imageHashes.get(ad.creative.hash) ?? (await uploadImage(ad));
          imageHashes.set(ad.creative.hash, imageHash);
          items.push({
            name,
            params: meta.creativeParams({
              name,
              imageHash,
              storeUrl: app.storeUrl,
              appLink: appLinkOf(app, ad),
              message: ad.message,
              headline: ad.headline,
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
    return creatives;
  }

  /**
   * The video creatives of the ads whose creative has both cuts, found or created (and recorded):
   * creative hash -> id; and, for the others of them, why they run as their still.
   */
  async function videoCreatives(market: string, os: string, app: PromotedApp, ads: NewAd[]) {
    const ids = new Map<string, string>();
    const fallbacks = new Map<string, { reason: string; why: FallbackWhy }>();
    const byName = new Map(
      ads
        .filter((a) => metaVideoCuts(a.creative))
        .map((a) => [`${stillName(market, os, a.creative.hash)}${VIDEO_CREATIVE_SUFFIX}`, a]),
    );
    if (byName.size === 0) return { ids, fallbacks };
    const names = new Set(byName.keys());
    const existing = await listCreatives(market, names);
    const prepared = await prepareVideos(
      market,
      [...byName].filter(([n]) => !existing.has(n)).map(([, a]) => a.creative),
    );
    for (const [hash, p] of prepared)
      if ('fallback' in p) fallbacks.set(hash, { reason: p.fallback, why: p.why });
    const creatable = [...names].filter((n) => {
      const p = prepared.get(byName.get(n)!.creative.hash);
      return existing.has(n) || (p !== undefined && 'cuts' in p);
    });
    const created = await createMissing(
      creatable,
      () => listCreatives(market, names),
      async (missing) => {
        const out = new Map<string, string | PlatformError>();
        const items = [];
        for (const name of missing) {
          const ad = byName.get(name)!;
          const p = prepared.get(ad.creative.hash);
          if (!p || !('cuts' in p)) continue;
          try {
            const [vertical, feed] = await Promise.all(
              CUTS.map((cut) => withThumbnail(market, ad.creative, cut, p.cuts[cut])),
            );
            items.push({
              name,
              params: meta.videoCreativeParams({
                name,
                vertical: vertical!,
                feed: feed!,
                storeUrl: app.storeUrl,
                appLink: appLinkOf(app, ad),
                message: ad.message,
                headline: ad.headline,
              }),
              detail: {
                creative: ad.creative.hash,
                videos: { vertical: p.cuts.vertical.videoId, feed: p.cuts.feed.videoId },
              },
            });
          } catch (err) {
            // No thumbnail can be had: the creative cannot be made (refused below).
            if (!(err instanceof PlatformError) || err.kind !== 'invalid') throw err;
            out.set(name, err);
          }
        }
        if (items.length > 0)
          for (const [n, r] of await batchCreate(
            'adcreatives',
            'create_video_creative',
            'creative',
            items,
          ))
            out.set(n, r);
        return out;
      },
      deps,
    );
    for (const [name, id] of created.ids) {
      const hash = byName.get(name)!.creative.hash;
      ids.set(hash, id);
      await savePlatformObject(db, {
        platform: 'meta',
        kind: 'creative',
        name,
        externalId: id,
        market,
        creativeHash: hash,
      });
    }
    for (const [name, why] of created.refused)
      fallbacks.set(byName.get(name)!.creative.hash, {
        reason: `its video creative was refused: ${why}`,
        why: 'refused',
      });
    return { ids, fallbacks };
  }

  return {
    platform: 'meta',
    capacity: META_ADS_PER_ADSET,
    canArchive: true,
    settleMs: deps.settleMs,

    findAdSets: (market, segment) =>
      knownAdSets(db, {
        platform: 'meta',
        market,
        segment,
        find: (name) => meta.findByName('adsets', name),
      }),

    dailyBudget: (market) => budget(market),

    readBudget: (adSet) => meta.adSetBudgetMinor(adSet.id),

    setBudget: (_market, adSet, minor) =>
      deps.audit.write(
        {
          platform: 'meta',
          operation: 'update_adset_budget',
          kind: 'adset',
          name: adSet.name,
          detail: {
            dailyBudgetMinor: minor,
            ...(deps.allocated && { reason: deps.allocated.reason }),
          },
        },
        () => meta.setAdSetBudget(adSet.id, minor),
        () => adSet.id,
      ),

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
        const media =
          ad.creativeName === null
            ? undefined
            : ad.creativeName.endsWith(VIDEO_CREATIVE_SUFFIX)
              ? ('video' as const)
              : ('still' as const);
        // A video ad the review disapproved is not the creative's end on Meta: it runs as its
        // still (completeAds switches it), which the review then judges. Until then it is pending.
        const fallsBack = media === 'video' && ad.review === 'rejected';
        out.push({
          id: ad.id,
          name: ad.name,
          creativeHash: parsed.creativeHash,
          createdDate: parsed.date,
          status:
            ad.status === 'ACTIVE' ? 'active' : ad.status === 'PAUSED' ? 'paused' : 'archived',
          review: fallsBack ? 'pending' : ad.review,
          reviewReason: fallsBack
            ? `video ad disapproved (${ad.reviewReason ?? 'no reason given'}): runs as its still`
            : ad.reviewReason,
          ...(media ? { media } : {}),
        });
      }
      return out;
    },

    async mediaPlan(market, creative) {
      const cuts = metaVideoCuts(creative);
      if (!cuts) return null;
      const recorded = new Map(
        (await listPlatformObjects(db, { platform: 'meta', kind: 'video', market })).map((o) => [
          o.name,
          o.status,
        ]),
      );
      const titles = CUTS.map((c) => metaVideoTitle(market, creative.hash, cuts[c].ratio));
      if (titles.some((t) => recorded.get(t) === 'error'))
        return 'still: its video failed processing on Meta';
      const uploads = titles.filter((t) => !recorded.has(t)).length;
      return (
        `video ${cuts.vertical.ratio} (stories, reels) + ${cuts.feed.ratio} (feeds): ` +
        `${uploads === 0 ? 'videos uploaded already' : `${uploads} video upload${uploads === 1 ? '' : 's'} (once per market)`}, ` +
        'a placement-customised video creative; the still if the video cannot run'
      );
    },

    async createAds(adSet, market, ads) {
      // Ad creatives first: one per creative and store, found by name when an earlier attempt
      // made it (the store link and the call to action differ between stores). A creative with
      // both video cuts gets a video creative; the others, and those whose video cannot run, get
      // their still creative.
      const os = osOfAdSet(adSet.name) ?? 'all';
      const app = appOf(os);
      const video = await videoCreatives(market, os, app, ads);
      for (const [hash, f] of video.fallbacks)
        await fallBack(
          `${stillName(market, os, hash)}${VIDEO_CREATIVE_SUFFIX}`,
          hash,
          f.reason,
          f.why,
        );
      const stillAds = ads.filter((a) => !video.ids.has(a.creative.hash));
      const stills = await stillCreatives(market, os, app, stillAds);

      // Then the ads of the creatives Meta took, looked up in the ad set by name.
      const creativeOf = (ad: NewAd) =>
        video.ids.get(ad.creative.hash) ?? stills.ids.get(stillName(market, os, ad.creative.hash));
      const refused = new Map<string, string>();
      for (const ad of stillAds) {
        const why = stills.refused.get(stillName(market, os, ad.creative.hash));
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
                params: meta.adParams({ name, adsetId: adSet.id, creativeId: creativeOf(ad)! }),
                detail: {
                  adSet: adSet.name,
                  creative: ad.creative.hash,
                  media: video.ids.has(ad.creative.hash) ? 'video' : 'still',
                },
              };
            }),
          ),
        deps,
      );
      return { ids: created.ids, refused: new Map([...refused, ...created.refused]) };
    },

    /**
     * Switches each of these ads whose video version the review disapproved to its still creative
     * (made now if it does not exist yet): the creative runs as its still, which the review then
     * judges as it judges any still ad. Audited, with the fall back.
     */
    async completeAds(adSet, market, ads) {
      const byName = new Map(ads.map((a) => [a.name, a]));
      const disapproved = (await meta.listAds(adSet.id)).filter(
        (r) =>
          byName.has(r.name) &&
          r.review === 'rejected' &&
          (r.creativeName ?? '').endsWith(VIDEO_CREATIVE_SUFFIX),
      );
      if (disapproved.length === 0) return;
      const os = osOfAdSet(adSet.name) ?? 'all';
      const app = appOf(os);
      const stills = await stillCreatives(
        market,
        os,
        app,
        disapproved.map((r) => byName.get(r.name)!),
      );
      for (const row of disapproved) {
        const hash = byName.get(row.name)!.creative.hash;
        const name = stillName(market, os, hash);
        const id = stills.ids.get(name);
        const reason = `video ad disapproved by review: ${row.reviewReason ?? 'no reason given'}`;
        const video = `${name}${VIDEO_CREATIVE_SUFFIX}`;
        if (!id) {
          // Its still cannot be made either: the ad stays as the review left it (and, shown as
          // pending, holds its slot until rotation), recorded so a person can see why.
          await audit.decision({
            platform: 'meta',
            operation: 'fallback_to_still_refused',
            kind: 'creative',
            name: video,
            detail: { creative: hash },
            reason: `${reason}; its still creative was refused: ${stills.refused.get(name)}`,
          });
          continue;
        }
        await audit.write(
          {
            platform: 'meta',
            operation: 'set_ad_creative',
            kind: 'ad',
            name: row.name,
            detail: { creative: name, from: row.creativeName },
          },
          () => meta.setAdCreative(row.id, id),
          () => row.id,
        );
        await fallBack(video, hash, reason, 'disapproved');
      }
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
