// The advertiser's objects as TikTok's Business API creates, lists and changes them: media,
// campaigns, ad groups, ads, their statuses and reviews, and the advertiser itself. Every rule
// names its source in tiktok-rules.ts; the wire (routing, auth, envelope) is in tiktok-server.ts.
import { createHash } from 'node:crypto';
import { countryOfLocationId } from '../../platforms/tiktok/locations.ts';
import type { SandboxClock } from '../contracts.ts';
import { aspectRatio, imageInfo, isMp4, mp4Size, type FormPart } from '../media.ts';
import { reviewAd, reviewState } from '../review.ts';
import type { ReviewPolicy, World } from '../world.ts';
import { tiktokErrors } from './tiktok-errors.ts';
import * as P from './tiktok-params.ts';
import type { Params } from './tiktok-params.ts';
import * as R from './tiktok-rules.ts';
import { TikTokStore, type TikTokObject } from './tiktok-store.ts';

/** TikTok caps an ad group at 50 ads that are not deleted. */
export const MAX_ADS_PER_ADGROUP = 50;
/** TikTok's minimum daily budget of an ad group (USD 20; the sandbox applies it in any currency). */
export const MIN_ADGROUP_DAILY_BUDGET = 20;

/** TikTok renders times as `YYYY-MM-DD HH:MM:SS` (UTC); the date is the sandbox's. */
export function timestamp(date: string): string {
  return `${date} ${new Date().toISOString().slice(11, 19)}`;
}

/** Material ids are decimal strings; derive one from the file's MD5. */
function materialId(md5: string): string {
  return String(BigInt(`0x${md5.slice(0, 15)}`));
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** page / page_size paging with TikTok's page_info; `fields` picks the returned fields. */
export function page(rows: Array<Record<string, unknown>>, p: Params) {
  const n = P.int(p, 'page', 1, 1, 1_000_000);
  const size = P.int(p, 'page_size', R.PAGE_SIZE.fallback, 1, R.PAGE_SIZE.max);
  const fields = P.strings(p, 'fields');
  const slice = rows.slice((n - 1) * size, n * size);
  const list = fields
    ? slice.map((r) => Object.fromEntries(fields.filter((f) => f in r).map((f) => [f, r[f]])))
    : slice;
  return {
    list,
    page_info: {
      page: n,
      page_size: size,
      total_number: rows.length,
      total_page: Math.ceil(rows.length / size),
    },
  };
}

/**
 * Whether an object's secondary status passes a primary_status filter. [page Ad Groups/Get_ad_groups]
 * "The default value is STATUS_NOT_DELETE, which returns ad groups in all statuses excluding
 * STATUS_DELETE"; the same default holds for campaigns and ads.
 */
function passes(primary: string, secondary: string): boolean {
  const deleted = secondary.endsWith('_DELETE');
  switch (primary) {
    case 'STATUS_ALL':
      return true;
    case 'STATUS_DELETE':
      return deleted;
    case 'STATUS_DELIVERY_OK':
      return secondary.endsWith('_DELIVERY_OK') || secondary === 'CAMPAIGN_STATUS_ENABLE';
    case 'STATUS_DISABLE':
      return secondary.endsWith('_DISABLE');
    case 'STATUS_NOT_DELIVERY':
      return (
        !deleted && !secondary.endsWith('_DELIVERY_OK') && secondary !== 'CAMPAIGN_STATUS_ENABLE'
      );
    default:
      return !deleted;
  }
}

interface Remembered {
  at: number;
  data: unknown;
}

export class TikTokAccount {
  /** request_id -> the answer given, per endpoint, for the idempotency window. */
  private readonly requestIds = new Map<string, Remembered>();

  constructor(
    private readonly world: World,
    readonly store: TikTokStore,
    private readonly clock: SandboxClock,
    private readonly review: ReviewPolicy,
    private readonly baseUrl: () => string,
    private readonly now: () => number,
  ) {}

  get advertiserId(): string {
    return this.world.tiktok.advertiserId;
  }

  // ---- the advertiser ----

  /**
   * advertiser/info: [page Ad Accounts/Get_ad_account_details__9091dc63.json] advertiser_ids
   * (required), fields (currency, timezone, status, name, ...); [spec advertiser_info.yml].
   */
  advertiserInfo(ids: string[], p: Params): unknown {
    const list = ids.map((id) => {
      const all: Record<string, unknown> = {
        advertiser_id: id,
        name: `${this.world.app.name} (sandbox)`,
        currency: this.world.tiktok.currency,
        timezone: this.world.tiktok.timeZone,
        display_timezone: this.world.tiktok.timeZone,
        status: 'STATUS_ENABLE',
        role: 'ROLE_ADVERTISER',
        country: 'US',
        create_time: 1_700_000_000,
      };
      const fields = P.strings(p, 'fields');
      return fields
        ? Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]]))
        : all;
    });
    return { list };
  }

  /**
   * identity/get: [page Identity/Get_the_identity_list__bb360e39.json] identity_type optional
   * (CUSTOMIZED_USER, AUTH_CODE, TT_USER, BC_AUTH_TT; absent: all), page_size 1-100 (default 20).
   * The advertiser has one custom identity, the world's.
   */
  identities(p: Params): unknown {
    const type =
      p.identity_type === undefined ? undefined : P.oneOf(p, 'identity_type', R.IDENTITY_TYPES);
    const pageSize = P.int(p, 'page_size', 20, 1, 100);
    const page = P.int(p, 'page', 1, 1, 1_000_000);
    const all = [
      {
        identity_id: this.world.tiktok.identityId,
        identity_type: 'CUSTOMIZED_USER',
        display_name: this.world.app.name,
        can_push_video: false,
      },
    ].filter((i) => type === undefined || i.identity_type === type);
    return {
      identity_list: all.slice((page - 1) * pageSize, page * pageSize),
      page_info: {
        page,
        page_size: pageSize,
        total_number: all.length,
        total_page: Math.ceil(all.length / pageSize),
      },
    };
  }

  /**
   * app/list: [spec yml_files/app_list.yml] advertiser_id required; the data's shape is documented
   * only on the portal page (https://business-api.tiktok.com/portal/docs?id=1740859313270786): a
   * list `apps` of the advertiser's app management entries with app_id, app_name, platform
   * (IOS, ANDROID) and download_url.
   */
  apps(): unknown {
    const { appIds } = this.world.tiktok;
    return {
      apps: [
        {
          app_id: appIds.ios,
          app_name: this.world.app.name,
          platform: 'IOS',
          download_url: this.world.app.ios.storeUrl,
        },
        {
          app_id: appIds.android,
          app_name: this.world.app.name,
          platform: 'ANDROID',
          download_url: this.world.app.android.storeUrl,
        },
      ],
    };
  }

  // ---- media ----

  async uploadImage(params: Params, files: Map<string, FormPart>): Promise<unknown> {
    const uploadType = P.oneOf(params, 'upload_type', R.IMAGE_UPLOAD_TYPES, 'UPLOAD_BY_FILE');
    if (uploadType !== 'UPLOAD_BY_FILE')
      throw tiktokErrors.invalidField(
        'upload_type',
        'The sandbox cannot fetch files from elsewhere; upload with UPLOAD_BY_FILE.',
      );
    const file = files.get('image_file');
    if (!file) throw tiktokErrors.missingField('image_file');
    if (file.data.length > R.MAX_IMAGE_BYTES)
      throw tiktokErrors.invalidField('image_file', 'The image is larger than 50 MB.');
    const md5 = TikTokStore.md5(file.data);
    if (P.str(params, 'image_signature').toLowerCase() !== md5)
      throw tiktokErrors.invalidField('image_signature', 'Does not match the MD5 of image_file.');
    const info = await imageInfo(file.data);
    if (!info || !R.IMAGE_FORMATS.has(info.format))
      throw tiktokErrors.invalidField('image_file', 'Unsupported image format; use JPG or PNG.');
    if (info.width * info.height > R.MAX_IMAGE_PIXELS)
      throw tiktokErrors.invalidField(
        'image_file',
        `The image has ${info.width * info.height} pixels; at most ${R.MAX_IMAGE_PIXELS} (1440 x 2560).`,
      );
    const name = P.str(params, 'file_name', file.filename ?? `${md5}.${info.format}`);
    if (name.length > R.MAX_FILE_NAME)
      throw tiktokErrors.invalidField('file_name', `Longer than ${R.MAX_FILE_NAME} characters.`);
    // TikTok's image ids are derived from the content: the same bytes give the same image.
    const id = `ad-site-i18n-sg/${md5}`;
    const existing = this.store.get(id, 'image');
    if (existing) return existing.fields;
    // [page Images/Upload_an_image] "Images under the same advertiser_id cannot have duplicated
    // file names."
    if (this.store.list('image', this.advertiserId, (i) => i.fields.file_name === name).length > 0)
      throw tiktokErrors.invalidField('file_name', `An image named ${name} already exists.`);
    const today = this.clock.today();
    const now = timestamp(today);
    return this.store.create(
      'image',
      this.advertiserId,
      {
        image_id: id,
        material_id: materialId(md5),
        file_name: name,
        width: info.width,
        height: info.height,
        format: info.format,
        size: file.data.length,
        signature: md5,
        image_url: `${this.baseUrl()}/sandbox-media/images/${md5}.${info.format}`,
        displayable: true,
        is_carousel_usable: true,
        create_time: now,
        modify_time: now,
      },
      today,
      id,
    ).fields;
  }

  /**
   * file/video/ad/upload: every upload is a new video with its own video_id, even of bytes
   * uploaded before (unlike images, whose id is their MD5).
   */
  uploadVideo(params: Params, files: Map<string, FormPart>): unknown {
    const uploadType = P.oneOf(params, 'upload_type', R.VIDEO_UPLOAD_TYPES, 'UPLOAD_BY_FILE');
    if (uploadType !== 'UPLOAD_BY_FILE')
      throw tiktokErrors.invalidField(
        'upload_type',
        'The sandbox cannot fetch files from elsewhere; upload with UPLOAD_BY_FILE.',
      );
    const file = files.get('video_file');
    if (!file) throw tiktokErrors.missingField('video_file');
    const md5 = TikTokStore.md5(file.data);
    if (P.str(params, 'video_signature').toLowerCase() !== md5)
      throw tiktokErrors.invalidField('video_signature', 'Does not match the MD5 of video_file.');
    if (!isMp4(file.data))
      throw tiktokErrors.invalidField('video_file', 'Unsupported video format; use MP4 or MOV.');
    const uploads = this.store.list('video', this.advertiserId).length;
    const unique = createHash('md5').update(`${this.advertiserId}/${uploads}/${md5}`).digest('hex');
    const id = `v10033g50000${unique.slice(0, 20)}`;
    const size = mp4Size(file.data);
    const today = this.clock.today();
    const now = timestamp(today);
    const video = this.store.create(
      'video',
      this.advertiserId,
      {
        video_id: id,
        material_id: materialId(unique),
        file_name: P.str(params, 'file_name', file.filename ?? `${md5}.mp4`),
        width: size?.width ?? null,
        height: size?.height ?? null,
        format: 'mp4',
        size: file.data.length,
        signature: md5,
        video_cover_url: `${this.baseUrl()}/sandbox-media/covers/${md5}.jpg`,
        preview_url: `${this.baseUrl()}/sandbox-media/videos/${md5}.mp4`,
        displayable: true,
        create_time: now,
        modify_time: now,
      },
      today,
      id,
    );
    // The video upload answers with a list of the uploaded videos.
    return [video.fields];
  }

  /** file/video/ad/info: [page Video/Get_info_about_videos] video_ids "Max size: 60". */
  videoInfo(p: Params): unknown {
    const wanted = P.strings(p, 'video_ids', { required: true, max: R.MAX_VIDEO_INFO_IDS })!;
    // "If the video cannot be used in ads, the video ID will be ignored."
    const list = wanted
      .map((v) => this.store.get(v, 'video'))
      .filter((v): v is TikTokObject => v !== undefined && v.owner === this.advertiserId)
      .map((v) => v.fields);
    return { list };
  }

  // ---- request_id ----

  /**
   * [page Campaign/Create_a_campaign; Ad Groups/Create_an_ad_group] request_id: a 64-bit integer
   * as a string; a request sent again with it within 10 seconds is carried out once (the repeat
   * gets the first answer); outside the window it is a new request.
   */
  private requestId(p: Params): string | undefined {
    const v = p.request_id;
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string' || !R.REQUEST_ID.test(v) || BigInt(v) > 2n ** 63n - 1n)
      throw tiktokErrors.invalidField('request_id', 'Must be a 64-bit integer as a string.');
    return v;
  }

  private idempotent<T>(endpoint: string, p: Params, create: (requestId?: string) => T): T {
    const rid = this.requestId(p);
    if (rid === undefined) return create();
    const key = `${endpoint}/${rid}`;
    const t = this.now();
    for (const [k, r] of this.requestIds)
      if (r.at <= t - R.REQUEST_ID_WINDOW_MS) this.requestIds.delete(k);
    const seen = this.requestIds.get(key);
    if (seen) return seen.data as T;
    const data = create(rid);
    this.requestIds.set(key, { at: t, data });
    return data;
  }

  /**
   * Names are unique unless both creates carry different request_ids ([page Campaign/Create_a
   * _campaign] request_id: "with which you can create campaigns with duplicate names").
   */
  private checkUniqueName(
    kind: 'campaign' | 'adgroup',
    name: string,
    rid: string | undefined,
    where: (o: TikTokObject) => boolean = () => true,
  ) {
    const field = `${kind}_name`;
    const clash = this.store.list(
      kind,
      this.advertiserId,
      (o) =>
        o.fields[field] === name &&
        o.fields.operation_status !== 'DELETE' &&
        where(o) &&
        (rid === undefined || o.fields.request_id === undefined || o.fields.request_id === rid),
    );
    if (clash.length > 0)
      throw tiktokErrors.invalidField(
        field,
        `${kind === 'campaign' ? 'Campaign' : 'Ad group'} name already exists: ${name}.`,
      );
  }

  // ---- campaigns ----

  createCampaign(p: Params): unknown {
    return this.idempotent('campaign/create', p, (rid) => {
      // [page Campaign/Create_a_campaign] campaign_name, objective_type required.
      const name = P.str(p, 'campaign_name');
      if (name.length > R.MAX_NAME)
        throw tiktokErrors.invalidField('campaign_name', 'Longer than 512.');
      const objective = P.oneOf(p, 'objective_type', R.OBJECTIVES);
      // "app_promotion_type: Required when objective_type is APP_PROMOTION".
      const appPromotion =
        objective === 'APP_PROMOTION'
          ? P.oneOf(p, 'app_promotion_type', R.APP_PROMOTION_TYPES)
          : undefined;
      if (objective !== 'APP_PROMOTION' && p.app_promotion_type !== undefined)
        throw tiktokErrors.invalidField(
          'app_promotion_type',
          'Only valid when objective_type is APP_PROMOTION.',
        );
      // "budget_mode: Required when objective_type is NOT RF_REACH"; "budget: Required when
      // budget_mode is BUDGET_MODE_DAY or BUDGET_MODE_DYNAMIC_DAILY_BUDGET or BUDGET_MODE_TOTAL".
      const budgetMode = P.oneOf(p, 'budget_mode', R.CAMPAIGN_BUDGET_MODES);
      const budget = budgetMode === 'BUDGET_MODE_INFINITE' ? 0 : P.num(p, 'budget');
      if (budgetMode !== 'BUDGET_MODE_INFINITE' && budget <= 0)
        throw tiktokErrors.invalidField('budget', 'Must be greater than 0.');
      const cbo = P.bool(p, 'budget_optimize_on', false);
      if (cbo && budgetMode === 'BUDGET_MODE_INFINITE')
        throw tiktokErrors.invalidField(
          'budget_mode',
          'BUDGET_MODE_INFINITE is not supported with CBO.',
        );
      this.checkUniqueName('campaign', name, rid);
      const today = this.clock.today();
      const now = timestamp(today);
      const c = this.store.create(
        'campaign',
        this.advertiserId,
        {
          advertiser_id: this.advertiserId,
          campaign_name: name,
          objective_type: objective,
          app_promotion_type: appPromotion,
          budget_mode: budgetMode,
          budget,
          budget_optimize_on: cbo,
          operation_status: P.oneOf(p, 'operation_status', R.CREATE_STATUSES, 'ENABLE'),
          request_id: rid,
          create_time: now,
          modify_time: now,
        },
        today,
      );
      this.store.update(c, { campaign_id: c.id }, today);
      return this.campaignView(c);
    });
  }

  campaignView(c: TikTokObject): Record<string, unknown> {
    const fields = { ...c.fields };
    delete fields.request_id;
    const own = c.fields.operation_status;
    return {
      ...fields,
      secondary_status:
        own === 'DELETE'
          ? 'CAMPAIGN_STATUS_DELETE'
          : own === 'ENABLE'
            ? 'CAMPAIGN_STATUS_ENABLE'
            : 'CAMPAIGN_STATUS_DISABLE',
    };
  }

  getCampaigns(p: Params): unknown {
    const f = P.obj(p, 'filtering');
    const ids = P.strings(f, 'campaign_ids', { ids: true, max: 100 });
    const name = P.optStr(f, 'campaign_name');
    const primary = P.oneOf(f, 'primary_status', R.PRIMARY_STATUSES, 'STATUS_NOT_DELETE');
    const rows = this.store
      .list(
        'campaign',
        this.advertiserId,
        (c) =>
          (!ids || ids.includes(c.id)) &&
          // TikTok's name filters are fuzzy: they match any name containing the text.
          (name === undefined || String(c.fields.campaign_name).includes(name)),
      )
      .map((c) => this.campaignView(c))
      .filter((c) => passes(primary, String(c.secondary_status)));
    return page(rows, p);
  }

  // ---- ad groups ----

  createAdGroup(p: Params): unknown {
    return this.idempotent('adgroup/create', p, (rid) => this.newAdGroup(p, rid));
  }

  private newAdGroup(p: Params, rid: string | undefined): unknown {
    // [page Ad Groups/Create_an_ad_group] unless noted.
    const campaignId = P.id(p, 'campaign_id');
    const campaign = this.store.get(campaignId, 'campaign');
    if (!campaign || campaign.owner !== this.advertiserId)
      throw tiktokErrors.invalidField('campaign_id', `Campaign ${campaignId} does not exist.`);
    if (campaign.fields.operation_status === 'DELETE')
      throw tiktokErrors.invalidField('campaign_id', `Campaign ${campaignId} is deleted.`);
    const objective = String(campaign.fields.objective_type);
    const appCampaign = objective === 'APP_PROMOTION';
    const name = P.str(p, 'adgroup_name');
    if (name.length > R.MAX_NAME)
      throw tiktokErrors.invalidField('adgroup_name', 'Longer than 512.');
    this.checkUniqueName('adgroup', name, rid, (g) => g.fields.campaign_id === campaignId);

    // operating_systems: "Only one value is allowed"; required for APP_PROMOTION.
    const systems = P.strings(p, 'operating_systems', { required: appCampaign }) ?? [];
    if (systems.length > 1)
      throw tiktokErrors.invalidField('operating_systems', 'Only one value is allowed.');
    for (const os of systems)
      if (!R.OPERATING_SYSTEMS.has(os))
        throw tiktokErrors.invalidField('operating_systems', `${os} is not one of: IOS, ANDROID.`);
    const os = systems[0];

    // promotion_type: to be specified unless the objective is REACH, VIDEO_VIEWS or ENGAGEMENT;
    // for an app it is the store's (Enumeration - Promotion Type: APP_IOS, APP_ANDROID).
    const needsPromotion = !['REACH', 'VIDEO_VIEWS', 'ENGAGEMENT'].includes(objective);
    const promotionType = needsPromotion
      ? P.str(p, 'promotion_type')
      : P.optStr(p, 'promotion_type');
    if (appCampaign && promotionType !== R.APP_PROMOTION_TYPE_OF_OS[os!])
      throw tiktokErrors.invalidField(
        'promotion_type',
        `Must be ${R.APP_PROMOTION_TYPE_OF_OS[os!]} for an app promoted on ${os}.`,
      );

    // app_id: required for APP_PROMOTION (APP_INSTALL outside iOS 14 dedicated campaigns); the
    // app must be one of the advertiser's (/app/list/) and of the targeted OS.
    let appId: string | undefined;
    if (appCampaign) {
      appId = P.id(p, 'app_id');
      const apps = this.world.tiktok.appIds;
      const appOs = appId === apps.ios ? 'IOS' : appId === apps.android ? 'ANDROID' : null;
      if (!appOs)
        throw tiktokErrors.invalidField(
          'app_id',
          `App ${appId} does not exist in this ad account.`,
        );
      if (appOs !== os)
        throw tiktokErrors.invalidField(
          'app_id',
          `App ${appId} is an ${appOs} app; operating_systems is ${os}.`,
        );
    } else if (p.app_id !== undefined) appId = P.id(p, 'app_id');

    const placementType = P.oneOf(p, 'placement_type', R.PLACEMENT_TYPES, 'PLACEMENT_TYPE_NORMAL');
    // placements: "When placement_type is PLACEMENT_TYPE_NORMAL, this field is required."
    let placements = ['PLACEMENT_TIKTOK'];
    if (placementType === 'PLACEMENT_TYPE_NORMAL') {
      placements = P.strings(p, 'placements', { required: true })!;
      for (const pl of placements)
        if (!R.PLACEMENTS.has(pl))
          throw tiktokErrors.invalidField('placements', `${pl} is not a supported placement.`);
    }
    // location_ids: "Max size: 3,000".
    const locationIds = P.strings(p, 'location_ids', { required: true, max: 3000, ids: true })!;
    for (const l of locationIds)
      if (!countryOfLocationId(l))
        throw tiktokErrors.invalidField(
          'location_ids',
          `${l} is not a country location id the sandbox knows.`,
        );

    const budgetMode = P.oneOf(p, 'budget_mode', R.ADGROUP_BUDGET_MODES);
    const budget = P.num(p, 'budget');
    if (budget < MIN_ADGROUP_DAILY_BUDGET)
      throw tiktokErrors.invalidField(
        'budget',
        `The daily budget must be at least ${MIN_ADGROUP_DAILY_BUDGET} ${this.world.tiktok.currency}.`,
      );
    const scheduleType = P.oneOf(p, 'schedule_type', R.SCHEDULE_TYPES);
    const start = P.dateTime(p, 'schedule_start_time');
    if (start > R.LATEST_START)
      throw tiktokErrors.invalidField(
        'schedule_start_time',
        `Cannot be later than ${R.LATEST_START}.`,
      );
    let end: string | undefined;
    if (scheduleType === 'SCHEDULE_START_END') {
      end = P.dateTime(p, 'schedule_end_time');
      if (end <= start)
        throw tiktokErrors.invalidField('schedule_end_time', 'Must be after schedule_start_time.');
    }
    const goal = P.oneOf(p, 'optimization_goal', new Set(Object.keys(R.BILLING_EVENT_OF_GOAL)));
    const billing = P.str(p, 'billing_event');
    if (!R.BILLING_EVENT_OF_GOAL[goal]!.includes(billing))
      throw tiktokErrors.invalidField(
        'billing_event',
        `${billing} does not go with optimization_goal ${goal}; use ${R.BILLING_EVENT_OF_GOAL[goal]!.join(' or ')}.`,
      );
    const event = R.GOALS_WITH_EVENT.has(goal)
      ? P.str(p, 'optimization_event')
      : P.optStr(p, 'optimization_event');
    if (appId !== undefined && event !== undefined && !R.APP_OPTIMIZATION_EVENTS.has(event))
      throw tiktokErrors.invalidField(
        'optimization_event',
        `${event} is not an event app ${appId} reports; use one of ${[...R.APP_OPTIMIZATION_EVENTS].join(', ')}.`,
      );
    const cbo = campaign.fields.budget_optimize_on === true;
    // pacing: "When Campaign Budget Optimization is on, your setting will be ignored ...
    // Otherwise, this field is required."
    const pacing = cbo ? 'PACING_MODE_SMOOTH' : P.oneOf(p, 'pacing', R.PACING_MODES);
    // bid_type: "Required when Campaign Budget Optimization (CBO) is enabled".
    const bidType = cbo
      ? P.oneOf(p, 'bid_type', R.BID_TYPES)
      : P.oneOf(p, 'bid_type', R.BID_TYPES, 'BID_TYPE_NO_BID');

    const today = this.clock.today();
    const now = timestamp(today);
    const g = this.store.create(
      'adgroup',
      this.advertiserId,
      {
        advertiser_id: this.advertiserId,
        campaign_id: campaignId,
        campaign_name: campaign.fields.campaign_name,
        adgroup_name: name,
        promotion_type: promotionType,
        app_id: appId,
        placement_type: placementType,
        placements,
        location_ids: locationIds,
        // TikTok answers [] for "all operating systems".
        operating_systems: systems,
        budget_mode: budgetMode,
        budget,
        schedule_type: scheduleType,
        schedule_start_time: start,
        schedule_end_time: end,
        optimization_goal: goal,
        optimization_event: event,
        billing_event: billing,
        bid_type: bidType,
        pacing,
        operation_status: P.oneOf(p, 'operation_status', R.CREATE_STATUSES, 'ENABLE'),
        request_id: rid,
        create_time: now,
        modify_time: now,
      },
      today,
    );
    this.store.update(g, { adgroup_id: g.id }, today);
    return this.adGroupView(g);
  }

  adGroupView(g: TikTokObject): Record<string, unknown> {
    const campaign = this.store.get(String(g.fields.campaign_id), 'campaign');
    const own = String(g.fields.operation_status);
    const secondary =
      own === 'DELETE'
        ? 'ADGROUP_STATUS_DELETE'
        : campaign?.fields.operation_status === 'DELETE'
          ? 'ADGROUP_STATUS_CAMPAIGN_DELETE'
          : campaign?.fields.operation_status !== 'ENABLE'
            ? 'ADGROUP_STATUS_CAMPAIGN_DISABLE'
            : own === 'ENABLE'
              ? 'ADGROUP_STATUS_DELIVERY_OK'
              : 'ADGROUP_STATUS_DISABLE';
    const fields = { ...g.fields };
    delete fields.request_id;
    return { ...fields, secondary_status: secondary };
  }

  /**
   * adgroup/update ([page Ad Groups/Update_an_ad_group__ea6618b0.json]): the ad group's new daily
   * budget (tiktok-rules.ts ADGROUP_UPDATE_FIELDS), within the minimum an ad group is created
   * with. It counts from the sandbox's current day (the store keeps each budget by date, so days
   * already past keep theirs). Answers the ad group, as the page's example does.
   */
  updateAdGroup(p: Params): unknown {
    const adGroupId = P.id(p, 'adgroup_id');
    for (const k of Object.keys(p))
      if (!R.ADGROUP_UPDATE_FIELDS.has(k))
        throw tiktokErrors.invalidField(k, 'The sandbox changes only the budget of an ad group.');
    const g = this.store.get(adGroupId, 'adgroup');
    if (!g || g.owner !== this.advertiserId)
      throw tiktokErrors.invalidField('adgroup_id', `Ad group ${adGroupId} does not exist.`);
    const campaign = this.store.get(String(g.fields.campaign_id), 'campaign');
    if (g.fields.operation_status === 'DELETE' || campaign?.fields.operation_status === 'DELETE')
      throw tiktokErrors.invalidField(
        'adgroup_id',
        `Ad group ${adGroupId} is deleted and cannot be changed.`,
      );
    const today = this.clock.today();
    if (p.budget !== undefined && p.budget !== null && p.budget !== '') {
      // budget: "It cannot be updated when Campaign Budget Optimization (budget_optimize_on) is on."
      if (campaign?.fields.budget_optimize_on === true)
        throw tiktokErrors.invalidField(
          'budget',
          'It cannot be updated when Campaign Budget Optimization (budget_optimize_on) is on.',
        );
      const budget = P.num(p, 'budget');
      if (budget < MIN_ADGROUP_DAILY_BUDGET)
        throw tiktokErrors.invalidField(
          'budget',
          `The daily budget must be at least ${MIN_ADGROUP_DAILY_BUDGET} ${this.world.tiktok.currency}.`,
        );
      this.store.update(g, { budget, modify_time: timestamp(today) }, today);
    }
    return this.adGroupView(g);
  }

  getAdGroups(p: Params): unknown {
    const f = P.obj(p, 'filtering');
    const ids = P.strings(f, 'adgroup_ids', { ids: true, max: 100 });
    const campaignIds = P.strings(f, 'campaign_ids', { ids: true, max: 100 });
    const name = P.optStr(f, 'adgroup_name');
    const primary = P.oneOf(f, 'primary_status', R.PRIMARY_STATUSES, 'STATUS_NOT_DELETE');
    const rows = this.store
      .list(
        'adgroup',
        this.advertiserId,
        (g) =>
          (!ids || ids.includes(g.id)) &&
          (!campaignIds || campaignIds.includes(String(g.fields.campaign_id))) &&
          (name === undefined || String(g.fields.adgroup_name).includes(name)),
      )
      .map((g) => this.adGroupView(g))
      .filter((g) => passes(primary, String(g.secondary_status)));
    return page(rows, p);
  }

  // ---- ads ----

  createAds(p: Params): unknown {
    // [page Ads/Create_ads__66f9a37f.json] unless noted.
    const adGroupId = P.id(p, 'adgroup_id');
    const group = this.store.get(adGroupId, 'adgroup');
    if (!group || group.owner !== this.advertiserId)
      throw tiktokErrors.invalidField('adgroup_id', `Ad group ${adGroupId} does not exist.`);
    if (group.fields.operation_status === 'DELETE')
      throw tiktokErrors.invalidField('adgroup_id', `Ad group ${adGroupId} is deleted.`);
    const creatives = p.creatives;
    if (creatives === undefined || creatives === null) throw tiktokErrors.missingField('creatives');
    if (!Array.isArray(creatives) || creatives.length === 0)
      throw tiktokErrors.invalidField('creatives', 'Must be a non-empty list of creatives.');
    if (creatives.length > R.MAX_CREATIVES_PER_CREATE)
      throw tiktokErrors.invalidField(
        'creatives',
        `Longer than maximum length ${R.MAX_CREATIVES_PER_CREATE}.`,
      );
    const live = this.store.list(
      'ad',
      this.advertiserId,
      (a) => a.fields.adgroup_id === adGroupId && a.fields.operation_status !== 'DELETE',
    ).length;
    if (live + creatives.length > MAX_ADS_PER_ADGROUP)
      throw tiktokErrors.invalidField(
        'creatives',
        `An ad group can hold at most ${MAX_ADS_PER_ADGROUP} ads; it has ${live}.`,
      );
    // Validate every creative before creating any, so a bad one creates nothing.
    const specs = creatives.map((c: unknown, i) => this.creative(c, `creatives[${i}]`, group));
    const today = this.clock.today();
    const now = timestamp(today);
    const ads = specs.map((spec) => {
      const ad = this.store.create(
        'ad',
        this.advertiserId,
        {
          advertiser_id: this.advertiserId,
          campaign_id: group.fields.campaign_id,
          campaign_name: group.fields.campaign_name,
          adgroup_id: adGroupId,
          adgroup_name: group.fields.adgroup_name,
          ...spec,
          create_time: now,
          modify_time: now,
        },
        today,
      );
      // ad_name "" makes the name the ad id.
      this.store.update(ad, { ad_id: ad.id, ad_name: spec.ad_name || ad.id }, today);
      const media =
        typeof spec.video_id === 'string' ? spec.video_id : (spec.image_ids as string[]).join(',');
      this.store.setReview(
        ad,
        reviewAd(this.world.seed, 'tiktok', this.review, {
          media,
          texts: [spec.ad_text as string],
        }),
      );
      return ad;
    });
    return { ad_ids: ads.map((a) => a.id), creatives: ads.map((a) => this.adView(a)) };
  }

  private creative(c: unknown, at: string, group: TikTokObject): Record<string, unknown> {
    if (typeof c !== 'object' || c === null || Array.isArray(c))
      throw tiktokErrors.invalidField(at, 'Not a valid creative object.');
    const p = c as Params;
    const field = (name: string) => `${at}.${name}`;
    const req = (name: string) => {
      const v = p[name];
      if (v === undefined || v === null || v === '') throw tiktokErrors.missingField(field(name));
      if (typeof v !== 'string')
        throw tiktokErrors.invalidField(field(name), 'Not a valid string.');
      return v;
    };
    const opt = (name: string) =>
      p[name] === undefined || p[name] === null ? undefined : req(name);
    const oneOf = (name: string, allowed: ReadonlySet<string>, v: string) => {
      if (!allowed.has(v))
        throw tiktokErrors.invalidField(field(name), `Must be one of: ${[...allowed].join(', ')}.`);
      return v;
    };
    // ad_name: required, "" for a generated name; "Length limit: 512".
    if (p.ad_name === undefined || p.ad_name === null)
      throw tiktokErrors.missingField(field('ad_name'));
    if (typeof p.ad_name !== 'string')
      throw tiktokErrors.invalidField(field('ad_name'), 'Not a valid string.');
    const adName = p.ad_name;
    if (adName.length > R.MAX_NAME)
      throw tiktokErrors.invalidField(field('ad_name'), 'Longer than 512.');
    // identity_type and identity_id: required; a custom identity must be the advertiser's.
    const identityType = oneOf('identity_type', R.IDENTITY_TYPES, req('identity_type'));
    const identityId = req('identity_id');
    if (identityType === 'CUSTOMIZED_USER' && identityId !== this.world.tiktok.identityId)
      throw tiktokErrors.invalidField(
        field('identity_id'),
        `Identity ${identityId} does not exist.`,
      );
    // ad_format: required.
    const format = oneOf('ad_format', R.AD_FORMATS, req('ad_format'));
    // ad_text: required for non-Spark ads (or ad_texts); "100 characters".
    const adText = req('ad_text');
    if ([...adText].length > R.MAX_AD_TEXT)
      throw tiktokErrors.invalidField(field('ad_text'), 'Longer than 100 characters.');
    // call_to_action: "either this field or call_to_action_id must be specified".
    const cta =
      p.call_to_action_id !== undefined && p.call_to_action === undefined
        ? undefined
        : oneOf('call_to_action', R.CALLS_TO_ACTION, req('call_to_action'));
    const videoId = opt('video_id');
    const imageIds = p.image_ids;
    if (imageIds !== undefined && (!Array.isArray(imageIds) || !imageIds.every(isString)))
      throw tiktokErrors.invalidField(field('image_ids'), 'Not a valid list of strings.');
    const images = imageIds ?? [];
    if (format === 'SINGLE_VIDEO') {
      // video_id: "Required when ad_format is SINGLE_VIDEO and identity_type is CUSTOMIZED_USER".
      if (!videoId) throw tiktokErrors.missingField(field('video_id'));
      // image_ids: required for video non-Spark ads, the cover, "only one value is allowed, and
      // the aspect ratio of the image should be the same as the video".
      if (images.length === 0) throw tiktokErrors.missingField(field('image_ids'));
      if (images.length > 1)
        throw tiktokErrors.invalidField(
          field('image_ids'),
          'Only one cover image is allowed for SINGLE_VIDEO.',
        );
    } else {
      // video_id: "Not supported when ad_format is SINGLE_IMAGE".
      if (videoId)
        throw tiktokErrors.invalidField(
          field('video_id'),
          'Not supported when ad_format is SINGLE_IMAGE.',
        );
      if (images.length === 0) throw tiktokErrors.missingField(field('image_ids'));
    }
    const video = videoId ? this.store.get(videoId, 'video') : undefined;
    if (videoId && (!video || video.owner !== this.advertiserId))
      throw tiktokErrors.invalidField(field('video_id'), `Video ${videoId} does not exist.`);
    for (const i of images) {
      const image = this.store.get(i, 'image');
      if (!image || image.owner !== this.advertiserId)
        throw tiktokErrors.invalidField(field('image_ids'), `Image ${i} does not exist.`);
      if (video) {
        const vr = aspectRatio(Number(video.fields.width), Number(video.fields.height));
        const ir = aspectRatio(Number(image.fields.width), Number(image.fields.height));
        if (vr && ir && vr !== ir)
          throw tiktokErrors.invalidField(
            field('image_ids'),
            `The cover's aspect ratio ${ir} is not the video's ${vr}.`,
          );
      }
    }
    const appGroup = typeof group.fields.app_id === 'string';
    // landing_page_url: an app's ads lead to its store (the ad group's app_id); other ads need one.
    const landing = appGroup ? opt('landing_page_url') : req('landing_page_url');
    if (landing !== undefined && !URL.canParse(landing))
      throw tiktokErrors.invalidField(field('landing_page_url'), 'Not a valid URL.');
    const deeplink = opt('deeplink');
    if (deeplink !== undefined && !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(deeplink))
      throw tiktokErrors.invalidField(field('deeplink'), 'Not a valid deeplink.');
    const deeplinkType =
      p.deeplink_type === undefined
        ? undefined
        : oneOf('deeplink_type', R.DEEPLINK_TYPES, req('deeplink_type'));
    if (deeplinkType && !deeplink)
      throw tiktokErrors.invalidField(field('deeplink_type'), 'deeplink_type needs a deeplink.');
    for (const name of ['click_tracking_url', 'impression_tracking_url']) {
      const u = opt(name);
      if (u !== undefined && !/^https?:\/\//.test(u))
        throw tiktokErrors.invalidField(field(name), 'Not a valid URL.');
    }
    // display_name: "required when the promotion type is landing page or pure exposure", 1-40.
    const displayName = appGroup ? opt('display_name') : req('display_name');
    if (displayName !== undefined && [...displayName].length > 40)
      throw tiktokErrors.invalidField(field('display_name'), 'Longer than 40 characters.');
    const appName = opt('app_name');
    if (appName !== undefined && [...appName].length > 40)
      throw tiktokErrors.invalidField(field('app_name'), 'Longer than 40 characters.');
    const status =
      p.operation_status === undefined
        ? 'ENABLE'
        : oneOf('operation_status', R.CREATE_STATUSES, req('operation_status'));
    return {
      ad_name: adName,
      ad_format: format,
      ad_text: adText,
      identity_type: identityType,
      identity_id: identityId,
      call_to_action: cta,
      landing_page_url: landing,
      deeplink,
      deeplink_type: deeplink ? (deeplinkType ?? 'NORMAL') : undefined,
      click_tracking_url: opt('click_tracking_url'),
      impression_tracking_url: opt('impression_tracking_url'),
      display_name: displayName,
      app_name: appName,
      image_ids: images,
      video_id: videoId ?? null,
      operation_status: status,
    };
  }

  /**
   * An ad as ad/get returns it, with `secondary_status` following its ad group and campaign, and
   * its review (AD_STATUS_AUDIT, AD_STATUS_NOT_APPROVE) when it would otherwise deliver.
   */
  adView(ad: TikTokObject): Record<string, unknown> {
    const group = this.store.get(String(ad.fields.adgroup_id), 'adgroup');
    const campaign = this.store.get(String(ad.fields.campaign_id), 'campaign');
    const own = String(ad.fields.operation_status);
    const review = reviewState(ad.review);
    const secondary =
      own === 'DELETE'
        ? 'AD_STATUS_DELETE'
        : campaign?.fields.operation_status === 'DELETE'
          ? 'AD_STATUS_CAMPAIGN_DELETE'
          : group?.fields.operation_status === 'DELETE'
            ? 'AD_STATUS_ADGROUP_DELETE'
            : campaign?.fields.operation_status !== 'ENABLE'
              ? 'AD_STATUS_CAMPAIGN_DISABLE'
              : group?.fields.operation_status !== 'ENABLE'
                ? 'AD_STATUS_ADGROUP_DISABLE'
                : own !== 'ENABLE'
                  ? 'AD_STATUS_DISABLE'
                  : review === 'IN_REVIEW'
                    ? 'AD_STATUS_AUDIT'
                    : review === 'REJECTED'
                      ? 'AD_STATUS_NOT_APPROVE'
                      : 'AD_STATUS_DELIVERY_OK';
    return { ...ad.fields, secondary_status: secondary };
  }

  getAds(p: Params): unknown {
    const f = P.obj(p, 'filtering');
    const ids = P.strings(f, 'ad_ids', { ids: true, max: 100 });
    const groupIds = P.strings(f, 'adgroup_ids', { ids: true, max: 100 });
    const campaignIds = P.strings(f, 'campaign_ids', { ids: true, max: 100 });
    const name = P.optStr(f, 'ad_name');
    const primary = P.oneOf(f, 'primary_status', R.PRIMARY_STATUSES, 'STATUS_NOT_DELETE');
    const rows = this.store
      .list(
        'ad',
        this.advertiserId,
        (a) =>
          (!ids || ids.includes(a.id)) &&
          (!groupIds || groupIds.includes(String(a.fields.adgroup_id))) &&
          (!campaignIds || campaignIds.includes(String(a.fields.campaign_id))) &&
          (name === undefined || String(a.fields.ad_name).includes(name)),
      )
      .map((a) => this.adView(a))
      .filter((a) => passes(primary, String(a.secondary_status)));
    return page(rows, p);
  }

  /** ad/review_info: where each ad's review stands, with the reasons of a rejection. */
  reviewInfo(p: Params): unknown {
    const adIds = P.ids(p, 'ad_ids', R.MAX_REVIEW_IDS);
    const map: Record<string, unknown> = {};
    for (const adId of adIds) {
      const ad = this.store.get(adId, 'ad');
      if (!ad || ad.owner !== this.advertiserId)
        throw tiktokErrors.invalidField('ad_ids', `Ad ${adId} does not exist.`);
      const state = reviewState(ad.review);
      const rejection = state === 'REJECTED' ? ad.review?.rejection : null;
      map[adId] = {
        ad_id: adId,
        review_status: state,
        reject_info: rejection
          ? [{ reasons: [rejection.reason], suggestion: rejection.suggestion }]
          : [],
      };
    }
    return { ad_review_map: map };
  }

  /**
   * campaign/, adgroup/ and ad/status/update: ENABLE, DISABLE or DELETE, at most 20 ids
   * (tiktok-rules.ts); "The status of deleted ads or ads in deleted campaigns or ad groups cannot
   * be modified" ([page Ads/Update_the_statuses_of_ads]).
   */
  updateStatus(type: 'campaign' | 'adgroup' | 'ad', p: Params): unknown {
    const field = `${type}_ids`;
    const max =
      type === 'ad'
        ? R.MAX_AD_IDS_PER_STATUS_UPDATE
        : type === 'adgroup'
          ? R.MAX_ADGROUP_IDS_PER_STATUS_UPDATE
          : R.MAX_CAMPAIGN_IDS_PER_STATUS_UPDATE;
    const noun = { campaign: 'Campaign', adgroup: 'Ad group', ad: 'Ad' }[type];
    const list = P.ids(p, field, max);
    const status = P.oneOf(p, 'operation_status', R.STATUS_UPDATES);
    const deleted = (id: unknown, t: 'campaign' | 'adgroup') =>
      this.store.get(String(id), t)?.fields.operation_status === 'DELETE';
    // Check every id before changing any, so a bad one changes nothing.
    const objects = list.map((oid) => {
      const o = this.store.get(oid, type);
      if (!o || o.owner !== this.advertiserId)
        throw tiktokErrors.invalidField(field, `${noun} ${oid} does not exist.`);
      if (
        o.fields.operation_status === 'DELETE' ||
        (type !== 'campaign' && deleted(o.fields.campaign_id, 'campaign')) ||
        (type === 'ad' && deleted(o.fields.adgroup_id, 'adgroup'))
      )
        throw tiktokErrors.invalidField(field, `${noun} ${oid} is deleted and cannot be changed.`);
      return o;
    });
    const today = this.clock.today();
    for (const o of objects)
      this.store.update(o, { operation_status: status, modify_time: timestamp(today) }, today);
    return { [field]: list, status };
  }
}
