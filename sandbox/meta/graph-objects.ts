// The objects of each ad account the sandbox hosts: campaigns, ad sets, ad creatives, ads, images
// and videos. Creates and updates are checked against Meta's specs (graph-spec.ts) and documented
// rules (graph-rules.ts) before anything is stored; reads select spec fields and write datetimes
// as Graph does. Every object belongs to one account; another account never sees it.
import { keyed } from '../../core/random.ts';
import type { SandboxClock } from '../contracts.ts';
import { reviewAd, reviewState, type ReviewContent } from '../review.ts';
import type { ReviewPolicy, VideoProcessing, World } from '../world.ts';
import { mp4Size } from '../media.ts';
import { graphErrors } from './graph-errors.ts';
import {
  checkAppCreative,
  checkAppFeedCreative,
  checkAppPromotion,
  checkAppVideoCreative,
  checkAssetFeed,
  checkBilling,
  checkDailyBudget,
  checkVideoUsable,
  graphTime,
  type AppWorld,
  type VideoLookup,
  type VideoStatusValue,
} from './graph-rules.ts';
import {
  checkParams,
  checkStruct,
  fieldType,
  parseFields,
  requestedFields,
  scalarParam,
  type NodeType,
} from './graph-spec.ts';
import { GraphStore, type GraphObject, type ObjectType } from './graph-store.ts';

export type Params = Record<string, unknown>;

/** An ad account the sandbox hosts (world.metaAccounts), `id` without `act_`. */
export interface HostedAccount {
  id: string;
  currency: string;
  timeZone: string;
  markets: string[];
  /** account_status (AdAccount reference): 1 ACTIVE, 2 DISABLED, 3 UNSETTLED... Default 1. */
  status: number;
}

/** Meta caps an ad set at 50 ads that are not archived or deleted. */
export const MAX_ADS_PER_ADSET = 50;
/** Ad statuses that do not count towards MAX_ADS_PER_ADSET. */
export const RETIRED = new Set(['ARCHIVED', 'DELETED']);
/** Bytes a resumable video upload transfers per chunk (Meta chooses; clients follow its offsets). */
export const DEFAULT_VIDEO_CHUNK = 4 * 1024 * 1024;
/**
 * Most rows one page holds. Graph pages list edges with `limit` (cursor paging,
 * https://developers.facebook.com/docs/graph-api/results); larger limits are cut to this.
 */
export const MAX_PAGE = 500;

export const NODE_OF: Record<ObjectType, NodeType> = {
  campaign: 'Campaign',
  adset: 'AdSet',
  adcreative: 'AdCreative',
  ad: 'Ad',
  adimage: 'AdImage',
  advideo: 'AdVideo',
  adreportrun: 'AdReportRun',
};

/** Default fields of a read without fields= (Graph returns the id and, for most nodes, name). */
const DEFAULT_FIELDS = ['name'];

/**
 * The OS segments an ad set's `targeting.user_os` reaches: ["iOS"], ["Android"] (versions such as
 * "iOS_ver_14.0_and_above" count as the OS); absent means both.
 */
export function targetedOses(userOs: unknown): Array<'ios' | 'android'> | undefined {
  if (userOs === undefined || userOs === null) return undefined;
  if (!Array.isArray(userOs) || userOs.length === 0)
    throw graphErrors.invalidParam('Param targeting[user_os] must be a non-empty array');
  const oses = new Set<'ios' | 'android'>();
  for (const v of userOs) {
    const s = String(v).toLowerCase();
    if (s === 'ios' || s.startsWith('ios_')) oses.add('ios');
    else if (s === 'android' || s.startsWith('android_')) oses.add('android');
    else
      throw graphErrors.invalidParam(
        `Param targeting[user_os]: ${String(v)} is not a valid OS; use iOS or Android`,
      );
  }
  return [...oses];
}

/**
 * An ad video's `format` as Graph reports it: a list of VideoFormat, here the one `native` format
 * with the video's own size (AdVideo.json: format; https://developers.facebook.com/docs/graph-api/reference/video-format/:
 * embed_html, filter, height, picture, width).
 */
function videoFormat(bytes: Buffer): Array<{ filter: 'native'; width: number; height: number }> {
  const size = mp4Size(bytes);
  if (!size)
    throw graphErrors.invalidParam(
      "The video file you selected is in a format that we don't support.",
    );
  return [{ filter: 'native', width: size.width, height: size.height }];
}

/**
 * Graph's error for a video file it cannot process: code 6000, "There was a problem uploading your
 * video file. Please try again with another file." (as Graph answers it, quoted in
 * https://github.com/yikart/AiToEarn/issues/592). A VideoStatusError ({code, message},
 * VideoStatusError.json) in the failed phase's `errors`.
 */
const PROCESSING_FAILED = {
  code: 6000,
  message: 'There was a problem uploading your video file. Please try again with another file.',
};

/** Where a video is: receiving its bytes, processing them, then ready or failed. */
type VideoStage = 'uploading' | 'processing' | 'ready' | 'error';

/**
 * An ad video's `status` (AdVideo.json: status, a VideoStatus): `processing` while its bytes
 * arrive (uploading_phase in_progress, counting bytes_transferred of source_file_size:
 * VideoStatusUploadingPhase.json) and while they are processed (processing_phase in_progress:
 * VideoStatusProcessingPhase.json), then `ready`, or `error` with the processing phase's errors.
 * An ad video is not published as a post, so its publishing_phase (VideoStatusPublishingPhase.json)
 * never starts.
 */
function videoStatus(received: number, size: number, stage: VideoStage) {
  const processing = {
    uploading: { status: 'not_started' },
    processing: { status: 'in_progress' },
    ready: { status: 'complete' },
    error: { status: 'error', errors: [PROCESSING_FAILED] },
  }[stage];
  return {
    video_status: stage === 'ready' ? 'ready' : stage === 'error' ? 'error' : 'processing',
    uploading_phase: {
      status: received === size ? 'complete' : 'in_progress',
      bytes_transferred: received,
      source_file_size: size,
    },
    processing_phase: processing,
    publishing_phase: { status: 'not_started' },
  };
}

/** A video's processing still to come: how many status reads, and how it ends (graph-objects). */
interface PendingProcessing {
  reads: number;
  outcome: 'ready' | 'error';
}

export class GraphObjects {
  videoChunkBytes = DEFAULT_VIDEO_CHUNK;
  /** Resumable video uploads in progress, by upload session id. */
  private readonly uploads = new Map<
    string,
    { account: string; videoId: string; size: number; received: Buffer[]; offset: number }
  >();
  private sessions = 0;
  readonly app: AppWorld;

  constructor(
    private readonly world: World,
    readonly store: GraphStore,
    private readonly clock: SandboxClock,
    private readonly review: ReviewPolicy,
    private readonly baseUrl: () => string,
    /** How uploaded videos process; the server's live copy of world.meta.videoProcessing. */
    private readonly videoProcessing: VideoProcessing = world.meta.videoProcessing,
  ) {
    this.app = {
      applicationId: world.meta.applicationId,
      storeUrls: { ios: world.app.ios.storeUrl, android: world.app.android.storeUrl },
    };
  }

  /** GET /act_X: the account's own fields (spec: AdAccount.json fields). */
  /**
   * debug_token (https://developers.facebook.com/docs/graph-api/reference/debug_token): what a
   * token is. input_token is required; the sandbox's token is a system user token of the world's
   * app that never expires (expires_at 0) with the Marketing API permissions; any other token is
   * reported invalid, as Graph reports a token it cannot parse.
   */
  debugToken(params: Params): unknown {
    const input = params.input_token;
    if (typeof input !== 'string' || input === '')
      throw graphErrors.invalidParam('The parameter input_token is required');
    for (const k of Object.keys(params))
      if (k !== 'input_token' && k !== 'fields')
        throw graphErrors.invalidParam(`Param ${k} is not a valid parameter`);
    if (input !== this.world.meta.accessToken)
      return {
        data: {
          is_valid: false,
          error: { code: 190, message: 'Invalid OAuth access token - Cannot parse access token' },
          scopes: [],
        },
      };
    return {
      data: {
        app_id: this.world.meta.applicationId,
        type: 'SYSTEM_USER',
        application: this.world.app.name,
        data_access_expires_at: 0,
        expires_at: 0,
        is_valid: true,
        issued_at: 1_700_000_000,
        scopes: [
          'ads_management',
          'ads_read',
          'business_management',
          'pages_show_list',
          'pages_read_engagement',
        ],
        user_id: '9000000001',
      },
    };
  }

  /** The world's page (Page spec): the page every account's ads run as. */
  readPage(params: Params): Record<string, unknown> {
    checkParams('Page', 'GET', params);
    const names = requestedFields('Page', params.fields, ['name']);
    return this.pick(this.world.meta.pageId, names, {
      name: `${this.world.app.name}`,
      is_published: true,
      category: 'App page',
    });
  }

  /**
   * The world's app (Application spec): `object_store_urls` holds the store listings it is
   * registered with, keyed by store (itunes, google_play), as in the app's dashboard.
   */
  readApplication(params: Params): Record<string, unknown> {
    checkParams('Application', 'GET', params);
    const names = requestedFields('Application', params.fields, ['name']);
    return this.pick(this.world.meta.applicationId, names, {
      name: this.world.app.name,
      object_store_urls: {
        itunes: this.world.app.ios.storeUrl,
        google_play: this.world.app.android.storeUrl,
      },
    });
  }

  /**
   * GET /<app>/app_event_types (Application spec: no params): the app events the app has logged,
   * which an ad set can optimise for (promoted_object.custom_event_type). The world's app logs
   * activations, registrations and subscriptions, under Meta's standard app event names.
   */
  appEventTypes(params: Params): unknown {
    checkParams('Application', 'GET app_event_types', params, { list: true });
    const events = [
      ['fb_mobile_activate_app', 'Activate App'],
      ['fb_mobile_complete_registration', 'Complete Registration'],
      ['Subscribe', 'Subscribe'],
    ];
    return { data: events.map(([event_name, display_name]) => ({ event_name, display_name })) };
  }

  readAccount(account: HostedAccount, params: Params): Record<string, unknown> {
    checkParams('AdAccount', 'GET', params);
    const names = requestedFields('AdAccount', params.fields, ['account_id']);
    const all: Record<string, unknown> = {
      account_id: account.id,
      currency: account.currency,
      timezone_name: account.timeZone,
      name: `${this.world.name} sandbox account ${account.id}`,
      // 1 = ACTIVE (AdAccount account_status, https://developers.facebook.com/docs/marketing-api/reference/ad-account/).
      account_status: account.status,
    };
    return this.pick(`act_${account.id}`, names, all);
  }

  /** The requested fields a node has values for; a field with no value is left out, as Graph does. */
  private pick(id: string, names: string[], all: Record<string, unknown>) {
    const out: Record<string, unknown> = { id };
    for (const n of names) if (all[n] !== undefined && n !== 'id') out[n] = all[n];
    return out;
  }

  /** An object's fields as Graph answers them: derived statuses, datetimes in Graph's format. */
  derived(account: HostedAccount, obj: GraphObject): Record<string, unknown> {
    const node = NODE_OF[obj.type];
    const fields: Record<string, unknown> = { ...obj.fields };
    for (const [k, v] of Object.entries(fields))
      if (fieldType(node, k) === 'datetime' && typeof v === 'string')
        fields[k] = graphTime(v, account.timeZone);
    if (obj.type !== 'ad' && obj.type !== 'adset' && obj.type !== 'campaign') return fields;
    const own = String(obj.fields.status);
    let effective = own;
    const review = obj.type === 'ad' ? reviewState(obj.review) : 'APPROVED';
    if (RETIRED.has(own)) {
      // Archived and deleted ads say so, whatever their review found.
    } else if (review === 'REJECTED') {
      effective = 'DISAPPROVED';
    } else if (review === 'IN_REVIEW') {
      effective = 'PENDING_REVIEW';
    } else if (own === 'ACTIVE' && obj.type !== 'campaign') {
      const campaign = this.store.get(String(obj.fields.campaign_id));
      const adset = obj.type === 'ad' ? this.store.get(String(obj.fields.adset_id)) : undefined;
      if (campaign && campaign.fields.status !== 'ACTIVE') effective = 'CAMPAIGN_PAUSED';
      else if (adset && adset.fields.status !== 'ACTIVE') effective = 'ADSET_PAUSED';
    }
    const rejection = review === 'REJECTED' ? obj.review?.rejection : null;
    return {
      ...fields,
      configured_status: own,
      effective_status: effective,
      // As Meta reports a disapproval: {"global": {"<policy>": "<why>"}}.
      ...(rejection
        ? { ad_review_feedback: { global: { [rejection.policy]: rejection.reason } } }
        : {}),
    };
  }

  /** GET /<id>: the node's requested fields; unknown names are refused (error 100). */
  read(account: HostedAccount, obj: GraphObject, params: Params): Record<string, unknown> {
    const node = NODE_OF[obj.type];
    if (obj.type !== 'adimage' && obj.type !== 'advideo')
      checkParams(node, 'GET', params, { self: obj.id });
    const names = requestedFields(node, params.fields, DEFAULT_FIELDS);
    if (obj.type === 'advideo' && names.includes('status')) this.readVideoStatus(obj);
    const out = this.expand(
      account,
      params.fields,
      this.pick(obj.id, names, this.derived(account, obj)),
    );
    if (obj.type === 'adimage') out.hash = obj.fields.hash;
    return out;
  }

  /**
   * Nested selections of fields that hold another object, e.g. an ad's `creative{id,name}`:
   * Graph answers them with that object's requested fields (field expansion,
   * https://developers.facebook.com/docs/graph-api/guides/field-expansion/), checked against its
   * node type like any read.
   */
  private expand(account: HostedAccount, fields: unknown, row: Record<string, unknown>) {
    if (typeof fields !== 'string') return row;
    for (const { name, nested } of parseFields(fields)) {
      const ref = row[name] as { id?: unknown } | undefined;
      if (nested === null || typeof ref?.id !== 'string') continue;
      const target = this.store.get(ref.id);
      if (!target || target.owner !== account.id) continue;
      const node = NODE_OF[target.type];
      row[name] = this.pick(
        target.id,
        requestedFields(node, nested, DEFAULT_FIELDS),
        this.derived(account, target),
      );
    }
    return row;
  }

  /**
   * One read of a video's status: while it processes, each read brings it closer to its end
   * (world.meta.videoProcessing.statusReads reads), which the read after the last one shows.
   */
  private readVideoStatus(video: GraphObject) {
    const pending = video.fields.processing_pending as PendingProcessing | undefined;
    if (!pending) return;
    if (pending.reads > 0) {
      this.store.update(
        video,
        { processing_pending: { ...pending, reads: pending.reads - 1 } },
        this.clock.today(),
      );
      return;
    }
    const size = Number(
      (video.fields.status as { uploading_phase?: { source_file_size?: number } }).uploading_phase
        ?.source_file_size ?? 0,
    );
    this.store.update(
      video,
      { status: videoStatus(size, size, pending.outcome), processing_pending: undefined },
      this.clock.today(),
    );
  }

  /** What the creative rules need of a video of the account (without reading its status). */
  private videoOf(account: HostedAccount, id: string): VideoLookup | undefined {
    const v = this.store.get(id);
    if (v?.type !== 'advideo' || v.owner !== account.id) return undefined;
    const format = (v.fields.format as Array<{ width: number; height: number }> | undefined)?.[0];
    return {
      status: String(
        (v.fields.status as { video_status?: string } | undefined)?.video_status,
      ) as VideoStatusValue,
      ...(format ? { width: format.width, height: format.height } : {}),
    };
  }

  /**
   * GET /<video>/thumbnails (AdVideo.json GET thumbnails, a list of VideoThumbnail: id, uri,
   * is_preferred, width, height, scale, name): the frames Meta picked while processing the video,
   * the first preferred. A video still processing (or failed) has none yet.
   */
  thumbnails(account: HostedAccount, video: GraphObject, params: Params, url: URL): unknown {
    checkParams('AdVideo', 'GET thumbnails', params, { list: true });
    const names = requestedFields('VideoThumbnail', params.fields, ['id', 'uri', 'is_preferred']);
    const format = (
      video.fields.format as Array<{ width: number; height: number }> | undefined
    )?.[0];
    const ready = this.videoOf(account, video.id)?.status === 'ready';
    const rows =
      ready && format
        ? [0, 1, 2].map((n) =>
            this.pick(`${video.id}${n + 1}`, names, {
              uri: `${this.baseUrl()}/videos/${video.id}/thumbnails/${n + 1}.jpg`,
              is_preferred: n === 0,
              width: format.width,
              height: format.height,
              scale: 1,
              name: `thumbnail ${n + 1}`,
            }),
          )
        : [];
    return paginate(rows, params, url, this.baseUrl());
  }

  /** A list edge: filtered, then one page of the requested fields. */
  list(
    account: HostedAccount,
    node: NodeType,
    endpoint: [string, string],
    objects: GraphObject[],
    params: Params,
    url: URL,
  ): unknown {
    checkParams(endpoint[0], endpoint[1], params, { list: true });
    const names = requestedFields(node, params.fields, ['id']);
    // GET act_<id>/advideos?title=: the account's videos of that title (AdAccount.json GET
    // advideos, param title).
    const title = node === 'AdVideo' ? scalarParam(params, 'title') : undefined;
    const rows = objects
      .filter((o) => title === undefined || o.fields.title === title)
      .filter((o) => this.matches(account, o, params))
      .map((o) => {
        if (node === 'AdVideo' && names.includes('status')) this.readVideoStatus(o);
        return this.expand(
          account,
          params.fields,
          this.pick(o.id, names, this.derived(account, o)),
        );
      });
    return paginate(rows, params, url, this.baseUrl());
  }

  private matches(account: HostedAccount, obj: GraphObject, params: Params): boolean {
    const fields = this.derived(account, obj);
    const filtering = params.filtering;
    if (filtering !== undefined) {
      if (!Array.isArray(filtering))
        throw graphErrors.invalidParam('Param filtering must be an array');
      for (const f of filtering as Array<{ field?: string; operator?: string; value?: unknown }>) {
        if (!f.field || !f.operator)
          throw graphErrors.invalidParam('Each filter needs field and operator');
        // `adset.id` style filters name the parent's field; plain names the object's own.
        const field = f.field.replace(/^(adset|campaign)\.id$/, '$1_id').replace(/^ad\./, '');
        const v = fields[field];
        const want = f.value;
        let ok: boolean;
        switch (f.operator) {
          case 'EQUAL':
            ok = String(v) === String(want);
            break;
          case 'NOT_EQUAL':
            ok = String(v) !== String(want);
            break;
          case 'IN':
            ok = Array.isArray(want) && want.map(String).includes(String(v));
            break;
          case 'NOT_IN':
            ok = Array.isArray(want) && !want.map(String).includes(String(v));
            break;
          case 'CONTAIN':
            ok = String(v).includes(String(want));
            break;
          default:
            throw graphErrors.invalidParam(`Filter operator ${f.operator} is not supported`);
        }
        if (!ok) return false;
      }
    }
    const eff = params.effective_status;
    if (Array.isArray(eff) && !eff.map(String).includes(String(fields.effective_status)))
      return false;
    return true;
  }

  /** An object of `account` by id, or Graph's error for an id it cannot see. */
  owned(account: HostedAccount, id: string, type: ObjectType, param: string): GraphObject {
    const o = this.store.get(id);
    if (o?.type !== type || o.owner !== account.id)
      throw graphErrors.invalidParam(`Param ${param} must be a valid ${type} id of this account`);
    return o;
  }

  create(account: HostedAccount, type: ObjectType, p: Params): unknown {
    const now = new Date().toISOString();
    const today = this.clock.today();
    const base = { account_id: account.id, created_time: now, updated_time: now };
    switch (type) {
      case 'adimage': {
        checkParams('AdAccount', 'POST adimages', p, { self: `act_${account.id}` });
        const bytes = requireString(p, 'bytes');
        const buf = Buffer.from(bytes, 'base64');
        if (buf.length === 0)
          throw graphErrors.invalidParam('Param bytes must be base64 image data');
        const hash = GraphStore.imageHash(buf);
        const name = typeof p.name === 'string' ? p.name : 'bytes';
        const url = `${this.baseUrl()}/images/${hash}.png`;
        if (!this.store.get(`${account.id}:${hash}`))
          this.store.create(
            'adimage',
            account.id,
            { ...base, hash, name, url, status: 'ACTIVE' },
            today,
          );
        return { images: { [name]: { hash, url } } };
      }
      case 'campaign': {
        checkParams('AdAccount', 'POST campaigns', p, { self: `act_${account.id}` });
        const name = requireString(p, 'name');
        // AdAccount.json does not mark objective required (only special_ad_categories), and no
        // Meta page found says Graph refuses a campaign without one: the sandbox's own choice,
        // since a campaign without an objective cannot be validated against its ad sets and
        // adloop always sends one. New campaigns take the ODAX OUTCOME_ objectives only
        // (https://developers.facebook.com/docs/marketing-api/adgroup/objective-simplification).
        const objective = requireString(p, 'objective');
        if (!objective.startsWith('OUTCOME_'))
          throw graphErrors.invalidParam(
            `Param objective ${objective} is a legacy objective; use an OUTCOME_ objective`,
          );
        const o = this.store.create(
          'campaign',
          account.id,
          {
            ...base,
            name,
            objective,
            special_ad_categories: p.special_ad_categories,
            status: p.status ?? 'ACTIVE',
          },
          today,
        );
        return { id: o.id };
      }
      case 'adset':
        return this.createAdSet(account, p, base, today);
      case 'adcreative':
        return this.createCreative(account, p, base, today);
      case 'ad':
        return this.createAd(account, p, base, today);
      default:
        throw graphErrors.unsupportedPost(`act_${account.id}`);
    }
  }

  /**
   * POST act_<id>/adcreatives (AdAccount.json POST adcreatives). The creative's page story
   * (object_story_spec, AdCreativeObjectStorySpec.json) carries a link ad (link_data) or a video ad
   * (video_data); or the page alone, with the ad's assets in an asset feed (asset_feed_spec,
   * AdAssetFeedSpec.json), as placement asset customisation makes them.
   */
  private createCreative(account: HostedAccount, p: Params, base: Params, today: string) {
    checkParams('AdAccount', 'POST adcreatives', p, { self: `act_${account.id}` });
    const name = typeof p.name === 'string' ? p.name : `Creative ${String(base.created_time)}`;
    if (p.object_story_spec === undefined) throw graphErrors.missingParam('object_story_spec');
    const spec = checkStruct('object_story_spec', 'AdCreativeObjectStorySpec', p.object_story_spec);
    if (String(spec.page_id) !== this.world.meta.pageId)
      throw graphErrors.invalidParam(
        'Param object_story_spec[page_id] must be a page the account may advertise for',
      );
    const image = (hash: string) => Boolean(this.store.get(`${account.id}:${hash}`));
    const struct = (where: string, node: string, value: unknown) => checkStruct(where, node, value);
    const stored: Record<string, unknown> = { ...base, name, status: 'ACTIVE' };
    if (p.asset_feed_spec !== undefined) {
      // The sandbox's own choice: the assets are in the feed, so the page story carries none
      // (Meta's placement asset customisation examples send object_story_spec with the page
      // only); a creative that sends both is refused rather than guessed at.
      for (const k of ['link_data', 'video_data', 'photo_data', 'template_data'])
        if (spec[k] !== undefined)
          throw graphErrors.invalidParam(
            `Param object_story_spec[${k}] cannot be sent with asset_feed_spec: the ad's assets go in the asset feed`,
          );
      const feed = checkStruct('asset_feed_spec', 'AdAssetFeedSpec', p.asset_feed_spec);
      checkAssetFeed(feed, { struct, video: (id) => this.videoOf(account, id), image });
      stored.object_story_spec = spec;
      stored.asset_feed_spec = feed;
    } else if (spec.video_data !== undefined) {
      const where = 'object_story_spec[video_data]';
      const video = checkStruct(where, 'AdCreativeVideoData', spec.video_data);
      if (video.call_to_action !== undefined)
        this.checkCallToAction(`${where}[call_to_action]`, video.call_to_action);
      const id = scalarParam(video, 'video_id', `${where}[video_id]`);
      if (!id) throw graphErrors.missingParam(`${where}[video_id]`);
      checkVideoUsable(this.videoOf(account, id), id, `${where}[video_id]`);
      // The thumbnail: "image_hash: Hash of an image in your image library with Facebook to use as
      // thumbnail; image_url: URL of image to use as thumbnail" (Ad Creative Video Data,
      // https://developers.facebook.com/docs/marketing-api/reference/ad-creative-video-data); one
      // of them is required (error 1443226, graph-errors.ts).
      const hash = scalarParam(video, 'image_hash', `${where}[image_hash]`);
      if (!hash && !scalarParam(video, 'image_url', `${where}[image_url]`))
        throw graphErrors.videoThumbnailMissing(`${where} has no thumbnail`);
      if (hash && !image(hash))
        throw graphErrors.invalidParam(`Image with hash ${hash} not found in the ad account`);
      stored.object_story_spec = spec;
      stored.video_id = id;
    } else {
      if (spec.link_data === undefined)
        throw graphErrors.missingParam('object_story_spec[link_data]');
      const link = checkStruct(
        'object_story_spec[link_data]',
        'AdCreativeLinkData',
        spec.link_data,
      );
      if (link.call_to_action !== undefined)
        this.checkCallToAction('object_story_spec[link_data][call_to_action]', link.call_to_action);
      const hash = scalarParam(link, 'image_hash', 'object_story_spec[link_data][image_hash]');
      if (!hash || !image(hash))
        throw graphErrors.invalidParam(`Image with hash ${hash} not found in the ad account`);
      if (!link.link) throw graphErrors.missingParam('object_story_spec[link_data][link]');
      stored.object_story_spec = spec;
      stored.image_hash = hash;
    }
    const o = this.store.create('adcreative', account.id, stored, today);
    return { id: o.id };
  }

  /** A call_to_action and its value, against their specs (AdCreativeLinkDataCallToAction*.json). */
  private checkCallToAction(where: string, value: unknown) {
    const cta = checkStruct(where, 'AdCreativeLinkDataCallToAction', value);
    if (cta.value !== undefined)
      checkStruct(`${where}[value]`, 'AdCreativeLinkDataCallToActionValue', cta.value);
  }

  /**
   * An ad's creative must be able to run in its ad set: an app promotion ad set's ads link to its
   * store listing (graph-rules.ts checkAppCreative and its asset feed and video variants).
   */
  private checkCreativeFits(adset: GraphObject, creative: GraphObject) {
    const promoted = adset.fields.promoted_object as { object_store_url?: string } | undefined;
    const store = promoted?.object_store_url;
    if (!store) return;
    const feed = creative.fields.asset_feed_spec as Record<string, unknown> | undefined;
    const story = creative.fields.object_story_spec as {
      link_data?: Record<string, unknown>;
      video_data?: Record<string, unknown>;
    };
    if (feed) checkAppFeedCreative(feed, store);
    else if (story.video_data) checkAppVideoCreative(story.video_data, store);
    else checkAppCreative(story.link_data, store);
  }

  /**
   * What the review judges of an ad: its media (the image's hash, or the videos' content hashes, so
   * the same file is judged alike whatever its id) and its texts.
   */
  private reviewContent(creative: GraphObject): ReviewContent {
    const feed = creative.fields.asset_feed_spec as
      | {
          videos?: Array<{ video_id?: string }>;
          images?: Array<{ hash?: string }>;
          bodies?: Array<{ text?: string }>;
          titles?: Array<{ text?: string }>;
        }
      | undefined;
    const media = (videoId: unknown) =>
      String(this.store.get(String(videoId))?.fields.content_md5 ?? videoId);
    if (feed)
      return {
        media: [
          ...(feed.videos ?? []).map((v) => media(v.video_id)),
          ...(feed.images ?? []).map((i) => String(i.hash)),
        ].join('+'),
        texts: [...(feed.bodies ?? []), ...(feed.titles ?? [])].map((t) => t.text),
      };
    const story = creative.fields.object_story_spec as {
      link_data?: { image_hash?: string; message?: string; name?: string };
      video_data?: { video_id?: string; message?: string; title?: string };
    };
    if (story.video_data)
      return {
        media: media(story.video_data.video_id),
        texts: [story.video_data.message, story.video_data.title],
      };
    return {
      media: String(story.link_data?.image_hash ?? ''),
      texts: [story.link_data?.message, story.link_data?.name],
    };
  }

  private createAdSet(account: HostedAccount, p: Params, base: Params, today: string) {
    checkParams('AdAccount', 'POST adsets', p, { self: `act_${account.id}` });
    const name = requireString(p, 'name');
    const campaign = this.owned(
      account,
      requireString(p, 'campaign_id'),
      'campaign',
      'campaign_id',
    );
    // Documented as required for a new ad set (https://developers.facebook.com/docs/marketing-api/reference/ad-campaign/#Creating).
    const billing = requireString(p, 'billing_event');
    const goal = requireString(p, 'optimization_goal');
    const budget = requireString(p, 'daily_budget');
    if (Number(budget) <= 0) throw graphErrors.invalidParam('Param daily_budget must be positive');
    if (p.targeting === undefined) throw graphErrors.missingParam('targeting');
    const targeting = checkStruct('targeting', 'Targeting', p.targeting);
    const geo = targeting.geo_locations as { countries?: unknown } | undefined;
    const countries = geo?.countries;
    if (!Array.isArray(countries) || countries.length === 0)
      throw graphErrors.invalidParam('Param targeting must include geo_locations[countries]');
    for (const c of countries)
      if (!account.markets.includes(String(c)))
        throw graphErrors.invalidWithUserMsg(
          'Country Not Served by This Account',
          `This sandbox account runs ${account.markets.join(', ')}; ${String(c)} belongs to another account.`,
        );
    const oses = targetedOses(targeting.user_os);
    if (p.promoted_object !== undefined)
      checkStruct('promoted_object', 'AdPromotedObject', p.promoted_object);
    checkBilling(goal, billing);
    checkDailyBudget(Number(budget), account.currency, billing);
    if (campaign.fields.objective === 'OUTCOME_APP_PROMOTION')
      checkAppPromotion(
        { promoted_object: p.promoted_object, optimization_goal: goal, userOs: oses ?? [] },
        this.app,
      );
    const o = this.store.create(
      'adset',
      account.id,
      {
        ...base,
        name,
        campaign_id: campaign.id,
        daily_budget: budget,
        billing_event: billing,
        optimization_goal: goal,
        targeting,
        promoted_object: p.promoted_object,
        status: p.status ?? 'ACTIVE',
      },
      today,
    );
    return { id: o.id };
  }

  private createAd(account: HostedAccount, p: Params, base: Params, today: string) {
    checkParams('AdAccount', 'POST ads', p, { self: `act_${account.id}` });
    const name = requireString(p, 'name');
    const adset = this.owned(account, requireString(p, 'adset_id'), 'adset', 'adset_id');
    // creative is required and a JSON object (checkParams, AdAccount.json POST ads).
    const creativeId = scalarParam(p.creative as Params, 'creative_id', 'creative[creative_id]');
    if (!creativeId) throw graphErrors.missingParam('creative[creative_id]');
    const creative = this.owned(account, creativeId, 'adcreative', 'creative');
    this.checkCreativeFits(adset, creative);
    const status = scalarParam(p, 'status') ?? 'ACTIVE';
    if (!RETIRED.has(status)) this.checkAdSetRoom(account, adset.id);
    const o = this.store.create(
      'ad',
      account.id,
      {
        ...base,
        name,
        adset_id: adset.id,
        campaign_id: adset.fields.campaign_id,
        creative: { id: creative.id },
        status,
      },
      today,
    );
    this.store.setReview(
      o,
      reviewAd(this.world.seed, 'meta', this.review, this.reviewContent(creative)),
    );
    return { id: o.id };
  }

  /** Throws Meta's limit error when an ad set already holds its maximum of live ads. */
  private checkAdSetRoom(account: HostedAccount, adsetId: string) {
    const live = this.store.list(
      'ad',
      account.id,
      (a) => a.fields.adset_id === adsetId && !RETIRED.has(String(a.fields.status)),
    ).length;
    if (live >= MAX_ADS_PER_ADSET) throw graphErrors.adSetFull(MAX_ADS_PER_ADSET);
  }

  /** POST /<id>: the node's update params (spec: <Node>.json POST), then the change. */
  update(account: HostedAccount, obj: GraphObject, p: Params): unknown {
    if (
      obj.type !== 'ad' &&
      obj.type !== 'adset' &&
      obj.type !== 'campaign' &&
      obj.type !== 'adcreative'
    )
      throw graphErrors.unsupportedPost(obj.id);
    checkParams(NODE_OF[obj.type], 'POST', p, { self: obj.id });
    const changes: Record<string, unknown> = {};
    const status = scalarParam(p, 'status');
    if (status !== undefined) changes.status = status;
    if (
      obj.type === 'ad' &&
      typeof changes.status === 'string' &&
      !RETIRED.has(changes.status) &&
      RETIRED.has(String(obj.fields.status))
    ) {
      // Bringing an archived ad back counts towards its ad set's limit again.
      this.checkAdSetRoom(account, String(obj.fields.adset_id));
    }
    if (typeof p.name === 'string') changes.name = p.name;
    let review: ReviewContent | null = null;
    if (p.creative !== undefined && obj.type === 'ad') {
      // An ad's creative may be changed (Ad.json POST: creative); the changed ad goes through
      // review again: "all ads are subject to re-review at any time ... ads may be reviewed again,
      // including after they are live" (About ads in review,
      // https://www.facebook.com/business/help/204798856225114), and a new creative is new content.
      const id = scalarParam(p.creative as Params, 'creative_id', 'creative[creative_id]');
      if (!id) throw graphErrors.missingParam('creative[creative_id]');
      const creative = this.owned(account, id, 'adcreative', 'creative');
      const adset = this.store.get(String(obj.fields.adset_id));
      if (adset) this.checkCreativeFits(adset, creative);
      changes.creative = { id: creative.id };
      review = this.reviewContent(creative);
    }
    const budget = scalarParam(p, 'daily_budget');
    if (budget !== undefined && obj.type === 'adset') {
      // A new budget meets the ad set's minimum as a first one does, and counts from the sandbox's
      // current day: the store dates it, so the days already past keep the budget they had.
      checkDailyBudget(Number(budget), account.currency, String(obj.fields.billing_event));
      changes.daily_budget = budget;
    }
    if (p.promoted_object !== undefined && obj.type === 'adset')
      // https://developers.facebook.com/docs/marketing-api/reference/ad-promoted-object/: immutable.
      throw graphErrors.invalidWithUserMsg(
        'Promoted Object Cannot Change',
        'The promoted object of an ad set is set when it is created and cannot be changed.',
      );
    this.store.update(obj, changes, this.clock.today());
    if (review) this.store.setReview(obj, reviewAd(this.world.seed, 'meta', this.review, review));
    return { success: true };
  }

  /**
   * Ad video upload, both ways the Graph API offers: one request with the file in `source`, or a
   * resumable session (upload_phase start -> transfer chunks at the offsets the server names ->
   * finish). Once its bytes are in, a video processes (processing); see `processed`.
   */
  /**
   * The fields of a video whose bytes are all in: processing for
   * world.meta.videoProcessing.statusReads reads of its status, then ready, or failed for a
   * seeded share (failShare) of files, drawn from the world's seed and the file's content so the
   * same file fails alike on every run (world.ts videoProcessingSchema). Its content hash is kept
   * for the review, which judges what an ad shows.
   */
  private processed(bytes: Buffer) {
    const md5 = GraphStore.imageHash(bytes);
    const { failShare, statusReads } = this.videoProcessing;
    const fails = keyed(this.world.seed, 'meta-video-processing', md5)() < failShare;
    const pending: PendingProcessing = { reads: statusReads, outcome: fails ? 'error' : 'ready' };
    return {
      content_md5: md5,
      status: videoStatus(
        bytes.length,
        bytes.length,
        statusReads > 0 ? 'processing' : pending.outcome,
      ),
      processing_pending: statusReads > 0 ? pending : undefined,
    };
  }

  uploadVideo(account: HostedAccount, p: Params): unknown {
    checkParams('AdAccount', 'POST advideos', p, { self: `act_${account.id}` });
    const now = new Date().toISOString();
    const today = this.clock.today();
    const base = { account_id: account.id, created_time: now, updated_time: now };
    const phase = typeof p.upload_phase === 'string' ? p.upload_phase : null;
    if (phase === null) {
      if (!Buffer.isBuffer(p.source)) throw graphErrors.missingParam('source');
      const video = this.store.create(
        'advideo',
        account.id,
        {
          ...base,
          format: videoFormat(p.source),
          title: typeof p.title === 'string' ? p.title : '',
          ...this.processed(p.source),
        },
        today,
      );
      return { id: video.id };
    }
    const chunkEnd = (s: { size: number; offset: number }) =>
      String(Math.min(s.size, s.offset + this.videoChunkBytes));
    if (phase === 'start') {
      const size = Number(requireString(p, 'file_size'));
      if (!Number.isInteger(size) || size <= 0)
        throw graphErrors.invalidParam('Param file_size must be a positive integer');
      const video = this.store.create(
        'advideo',
        account.id,
        {
          ...base,
          // A title sent at start names the video from its first moment, so an upload whose
          // later answers were lost can be found by it (GET advideos?title=).
          ...(typeof p.title === 'string' ? { title: p.title } : {}),
          status: videoStatus(0, size, 'uploading'),
        },
        today,
      );
      const session = `${video.id}${String(++this.sessions).padStart(6, '0')}`;
      this.uploads.set(session, {
        account: account.id,
        videoId: video.id,
        size,
        received: [],
        offset: 0,
      });
      return {
        video_id: video.id,
        upload_session_id: session,
        start_offset: '0',
        end_offset: chunkEnd({ size, offset: 0 }),
      };
    }
    const sessionId = requireString(p, 'upload_session_id');
    const session = this.uploads.get(sessionId);
    if (!session || session.account !== account.id)
      throw graphErrors.invalidParam('Param upload_session_id is not a valid upload session');
    if (phase === 'transfer') {
      const start = Number(requireString(p, 'start_offset'));
      const chunk = p.video_file_chunk;
      if (!Buffer.isBuffer(chunk)) throw graphErrors.missingParam('video_file_chunk');
      // A chunk resent after a lost response is acknowledged again, not appended twice.
      if (start + chunk.length <= session.offset)
        return { start_offset: String(session.offset), end_offset: chunkEnd(session) };
      if (start !== session.offset)
        throw graphErrors.invalidParam(`Param start_offset must be ${session.offset}`);
      if (start + chunk.length > session.size)
        throw graphErrors.invalidParam('The chunk goes past file_size');
      session.received.push(chunk);
      session.offset += chunk.length;
      this.store.update(
        this.store.get(session.videoId)!,
        { status: videoStatus(session.offset, session.size, 'uploading') },
        today,
      );
      return { start_offset: String(session.offset), end_offset: chunkEnd(session) };
    }
    if (phase === 'finish') {
      if (session.offset !== session.size)
        throw graphErrors.invalidParam(
          `Upload incomplete: ${session.offset} of ${session.size} bytes received`,
        );
      const video = this.store.get(session.videoId)!;
      const bytes = Buffer.concat(session.received);
      this.store.update(
        video,
        {
          format: videoFormat(bytes),
          title: typeof p.title === 'string' ? p.title : (video.fields.title ?? ''),
          ...this.processed(bytes),
        },
        today,
      );
      this.uploads.delete(sessionId);
      return { success: true };
    }
    throw graphErrors.invalidParam('Param upload_phase must be one of {start, transfer, finish}');
  }
}

export function requireString(params: Params, name: string): string {
  const v = scalarParam(params, name);
  if (v === undefined) throw graphErrors.missingParam(name);
  return v;
}

/**
 * One page of rows with cursors and an absolute `paging.next` URL (the SDK follows it as is).
 * `limit` must be a positive integer; larger than MAX_PAGE is cut to it.
 */
export function paginate(rows: unknown[], params: Params, url: URL, baseUrl: string) {
  const raw = params.limit ?? 25;
  const asked = Number(raw);
  if (!Number.isInteger(asked) || asked < 1)
    throw graphErrors.invalidParam('Param limit must be a positive integer');
  const limit = Math.min(asked, MAX_PAGE);
  const after =
    typeof params.after === 'string'
      ? Number(Buffer.from(params.after, 'base64url').toString())
      : 0;
  if (!Number.isInteger(after) || after < 0)
    throw graphErrors.invalidParam('Param after is not a valid cursor');
  const data = rows.slice(after, after + limit);
  const cursor = (n: number) => Buffer.from(String(n)).toString('base64url');
  const paging: Record<string, unknown> = {
    cursors: { before: cursor(after), after: cursor(after + data.length) },
  };
  if (after + limit < rows.length) {
    const next = new URL(url.pathname, baseUrl);
    for (const [k, v] of url.searchParams) next.searchParams.set(k, v);
    next.searchParams.set('limit', String(limit));
    next.searchParams.set('after', cursor(after + limit));
    paging.next = next.toString();
  }
  return { data, paging };
}
