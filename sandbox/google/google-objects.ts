// The sandbox Google Ads customer's objects and the mutate operations on them: campaign budgets,
// App campaigns, their location and language criteria, ad groups, app ads (AdGroupAdService for
// the ad group ad, AdService for the ad's content) and image and YouTube video assets. Every
// operation is checked in full before any is carried out, so a request without partial_failure
// either lands whole or not at all; validate_only checks and writes nothing. Each rule cites its
// source in google-rules.ts or next to it.
import sharp, { type Metadata } from 'sharp';
import { minorDigits } from '../../core/money.ts';
import { geoTargetId } from '../../platforms/google/criteria.ts';
import type { SandboxClock } from '../contracts.ts';
import { contentFromLink } from '../deep-link.ts';
import { ObjectStore } from '../object-store.ts';
import { reviewAd, type ReviewDecision } from '../review.ts';
import type { ReviewPolicy, World } from '../world.ts';
import { adsError, GoogleAdsFault, text, type PathElement } from './google-errors.ts';
import * as R from './google-rules.ts';
import {
  appAdLinks,
  linkHistory,
  withDated,
  type GoogleObject,
  type GoogleObjectType,
  type GoogleStore,
  type UndoLog,
} from './google-store.ts';

export type Resource = Record<string, unknown>;

/** One operation of a mutate request, as the services' *Operation messages carry it. */
export interface Operation {
  create?: Resource;
  update?: Resource;
  remove?: string;
  update_mask?: { paths?: string[] };
}

export type MutableType =
  | 'campaign_budget'
  | 'campaign'
  | 'campaign_criterion'
  | 'ad_group'
  | 'ad_group_ad'
  | 'ad'
  | 'asset';

/** What a checked operation will do, once every operation of the request passed. */
interface Plan {
  commit(): { resource_name: string; resource: Resource };
}

/** Names reserved by earlier operations of the same request (duplicates across operations). */
interface RequestScope {
  names: Set<string>;
  /** Ad groups given an ad by an earlier operation. */
  adGroupsWithAd: Set<string>;
  imageHashes: Set<string>;
}

export interface MutateOptions {
  partialFailure: boolean;
  validateOnly: boolean;
  /** Whether results carry the mutated resource (response_content_type MUTABLE_RESOURCE). */
  mutableResource: boolean;
  /** Log of the writes, for GoogleAdsService.Mutate to take them back (GoogleStore.rollback). */
  undo?: UndoLog;
  /**
   * Images uploaded by earlier operations of the same request, when the request spans several
   * calls (GoogleAdsService.Mutate): AssetError.DUPLICATE_ASSET holds across them.
   */
  imageHashes?: Set<string>;
}

export interface MutateOutcome {
  /** One per operation: the resource name (and resource), or null for a failed one. */
  results: Array<{ resource_name: string; resource?: Resource } | null>;
  /** The failed operations' errors, each located at operations[i] (partial failure). */
  failure: GoogleAdsFault | null;
}

/** Lookup of YouTube videos for YOUTUBE_VIDEO assets (the sandbox's YouTube). */
export interface VideoCatalog {
  video(id: string): {
    processed: boolean;
    title: string;
    width: number;
    height: number;
    description: string;
  } | null;
}

const segment: Record<Exclude<GoogleObjectType, 'youtube_video'>, string> = {
  campaign_budget: 'campaignBudgets',
  campaign: 'campaigns',
  campaign_criterion: 'campaignCriteria',
  ad_group: 'adGroups',
  ad_group_ad: 'adGroupAds',
  asset: 'assets',
};

/** Only the sandbox's own (`_`-prefixed) fields removed: the resource as Google returns it. */
export function publicFields(fields: Resource): Resource {
  return Object.fromEntries(Object.entries(fields).filter(([k]) => !k.startsWith('_')));
}

const get = (o: Resource | undefined, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v as Resource | undefined)?.[k], o);

export class GoogleAdsAccount {
  constructor(
    private readonly world: World,
    readonly store: GoogleStore,
    private readonly clock: SandboxClock,
    private readonly review: ReviewPolicy,
    private readonly videos: VideoCatalog,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get customerId(): string {
    return this.world.google.customerId;
  }

  resourceName(type: Exclude<GoogleObjectType, 'youtube_video'>, id: string): string {
    return `customers/${this.customerId}/${segment[type]}/${id}`;
  }

  /** The live (not removed) object a resource name names, or the fault that says it is not there. */
  find(
    type: Exclude<GoogleObjectType, 'youtube_video'>,
    name: unknown,
    path: string | PathElement[],
  ): GoogleObject {
    const m =
      typeof name === 'string' ? /^customers\/(\d+)\/([A-Za-z]+)\/([\d~]+)$/.exec(name) : null;
    if (!m || m[2] !== segment[type])
      throw adsError(
        'request_error',
        'RESOURCE_NAME_MALFORMED',
        `Malformed resource name: ${String(name)}.`,
        { path, trigger: name },
      );
    const obj = this.store.list(type, this.customerId).find((o) => o.fields.resource_name === name);
    if (m[1] !== this.customerId || !obj || obj.fields._removed === true)
      throw adsError(
        'mutate_error',
        'RESOURCE_NOT_FOUND',
        `Resource was not found: ${text(name)}.`,
        {
          path,
          trigger: name,
        },
      );
    return obj;
  }

  /** Carries out one mutate request on `type` (see MutateOptions). */
  async mutate(
    type: MutableType,
    operations: Operation[],
    o: MutateOptions,
  ): Promise<MutateOutcome> {
    if (operations.length === 0)
      throw adsError('request_error', 'OPERATION_REQUIRED', 'At least one operation is required.', {
        path: 'operations',
      });
    if (operations.length > R.MAX_OPERATIONS_PER_REQUEST)
      throw adsError(
        'request_error',
        'TOO_MANY_MUTATE_OPERATIONS',
        `At most ${R.MAX_OPERATIONS_PER_REQUEST} operations are allowed in one request.`,
        { path: 'operations' },
      );
    const scope: RequestScope = {
      names: new Set(),
      adGroupsWithAd: new Set(),
      imageHashes: o.imageHashes ?? new Set(),
    };
    const plans: Array<Plan | null> = [];
    const errors: GoogleAdsFault[] = [];
    for (const [i, op] of operations.entries()) {
      try {
        plans.push(await this.plan(type, op, scope));
      } catch (err) {
        if (!(err instanceof GoogleAdsFault)) throw err;
        errors.push(err.within([{ field_name: 'operations', index: i }]));
        plans.push(null);
      }
    }
    const failure =
      errors.length > 0
        ? new GoogleAdsFault(
            errors.flatMap((e) => e.errors),
            errors[0]!.grpcCode,
          )
        : null;
    if (failure && !o.partialFailure) throw failure;
    if (o.validateOnly) return { results: plans.map(() => null), failure };
    // The commits are synchronous: no other request writes in between.
    const results = this.store.logging(o.undo, () =>
      plans.map((p) => {
        if (!p) return null;
        const r = p.commit();
        return o.mutableResource
          ? { resource_name: r.resource_name, resource: publicFields(r.resource) }
          : { resource_name: r.resource_name };
      }),
    );
    return { results, failure };
  }

  private async plan(type: MutableType, op: Operation, scope: RequestScope): Promise<Plan> {
    const kinds = (['create', 'update', 'remove'] as const).filter((k) => op[k] !== undefined);
    if (kinds.length !== 1)
      throw adsError(
        'request_error',
        'OPERATION_REQUIRED',
        'The operation is empty: set create, update or remove.',
      );
    const kind = kinds[0]!;
    if (kind === 'update') {
      const paths = op.update_mask?.paths ?? [];
      if (paths.length === 0)
        throw adsError(
          'field_mask_error',
          'FIELD_MASK_MISSING',
          'The field mask is missing for an update.',
          { path: 'update_mask' },
        );
      // The resource name says which resource is updated, not what changes: google-ads-api's
      // getFieldMask (utils.js, the library adloop uses against Google) puts `resource_name` in
      // the mask of every update it builds, and Google takes those updates.
      op = { ...op, update_mask: { paths: paths.filter((p) => p !== 'resource_name') } };
    }
    switch (type) {
      case 'campaign_budget':
        return kind === 'create'
          ? this.createBudget(op.create!, scope)
          : kind === 'update'
            ? this.updateBudget(op)
            : this.removeBudget(op.remove!);
      case 'campaign':
        return kind === 'create'
          ? this.createCampaign(op.create!, scope)
          : kind === 'update'
            ? this.updateCampaign(op)
            : this.removeStatus('campaign', op.remove!);
      case 'campaign_criterion':
        if (kind === 'update')
          throw adsError(
            'operation_access_denied_error',
            'UPDATE_OPERATION_NOT_PERMITTED',
            'Location and language criteria cannot be updated; remove and create them.',
          );
        return kind === 'create'
          ? this.createCriterion(op.create!, scope)
          : this.removeCriterion(op.remove!);
      case 'ad_group':
        return kind === 'create'
          ? this.createAdGroup(op.create!, scope)
          : kind === 'update'
            ? this.updateStatusOnly('ad_group', op, ['status', 'name'])
            : this.removeStatus('ad_group', op.remove!);
      case 'ad_group_ad':
        return kind === 'create'
          ? this.createAdGroupAd(op.create!, scope)
          : kind === 'update'
            ? this.updateAdGroupAd(op)
            : this.removeStatus('ad_group_ad', op.remove!);
      case 'ad':
        // [proto services/ad_service.proto] AdOperation has only `update`.
        if (kind !== 'update')
          throw adsError(
            'request_error',
            'OPERATION_REQUIRED',
            'AdService takes update operations only.',
          );
        return this.updateAd(op);
      case 'asset':
        // [proto services/asset_service.proto] AssetOperation has create and update, no remove:
        // assets are never deleted, only unlinked.
        if (kind === 'remove')
          throw adsError('request_error', 'OPERATION_REQUIRED', 'Assets cannot be removed.');
        return kind === 'create' ? this.createAsset(op.create!, scope) : this.updateAsset(op);
    }
  }

  private date() {
    return this.clock.today();
  }

  private created(
    type: Exclude<GoogleObjectType, 'youtube_video'>,
    fields: Resource,
    named = (id: string) => id,
  ) {
    const extra = type === 'asset' ? { _created: this.date() } : {};
    const obj = this.store.create(type, this.customerId, { ...fields, ...extra }, this.date());
    this.store.update(
      obj,
      { resource_name: this.resourceName(type, named(obj.id)), id: obj.id },
      this.date(),
    );
    return { resource_name: String(obj.fields.resource_name), resource: obj.fields };
  }

  private checkStatus(status: unknown, path: string) {
    if (status === undefined) return;
    // [proto enums/*_status.proto] REMOVED only by a remove operation.
    if (status === 'REMOVED')
      throw adsError(
        'operation_access_denied_error',
        'CREATE_AS_REMOVED_NOT_PERMITTED',
        'Creating a resource as REMOVED is not permitted.',
        { path },
      );
    if (!R.CREATE_STATUSES.has(text(status)))
      throw adsError('field_error', 'INVALID_VALUE', `Invalid status ${text(status)}.`, {
        path,
        trigger: status,
      });
  }

  private checkName(name: unknown, max: number, path: string) {
    R.required(name, path);
    if (typeof name !== 'string' || name.trim() === '')
      throw adsError('string_length_error', 'EMPTY', 'The name must not be empty.', { path });
    if ([...name].length > max)
      throw adsError(
        'string_length_error',
        'TOO_LONG',
        `The name is longer than ${max} characters.`,
        { path, trigger: name },
      );
  }

  private live(
    type: Exclude<GoogleObjectType, 'youtube_video'>,
    where: (o: GoogleObject) => boolean = () => true,
  ) {
    return this.store.list(
      type,
      this.customerId,
      (o) => o.fields._removed !== true && o.fields.status !== 'REMOVED' && where(o),
    );
  }

  // Campaign budgets ----------------------------------------------------------------------------

  private checkAmount(amount: unknown, path: string) {
    R.required(amount, path);
    const micros = Number(amount);
    if (!Number.isFinite(micros) || micros < 0)
      throw adsError(
        'campaign_budget_error',
        'NEGATIVE_MONEY_AMOUNT',
        'The budget amount must not be negative.',
        { path, trigger: amount },
      );
    // [proto resources/campaign_budget.proto] amount_micros "must be greater than 0" for a daily budget.
    if (micros === 0)
      throw adsError('range_error', 'TOO_LOW', 'The budget amount must be greater than 0.', {
        path,
        trigger: amount,
      });
    const unit = R.minimumUnitMicros(minorDigits(this.world.google.currency));
    if (micros % unit !== 0)
      throw adsError(
        'campaign_budget_error',
        'NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT',
        `The amount must be a multiple of ${unit} micros, the smallest unit of ${this.world.google.currency}.`,
        { path, trigger: amount },
      );
  }

  private createBudget(c: Resource, scope: RequestScope): Plan {
    this.checkAmount(c.amount_micros, 'create.amount_micros');
    // [proto resources/campaign_budget.proto] explicitly_shared: "If this field is not set ... it
    // defaults to true" (a shared budget), so an App campaign's budget must say false.
    const shared = c.explicitly_shared === undefined ? true : c.explicitly_shared === true;
    if (shared) R.required(c.name, 'create.name');
    if (c.name !== undefined) {
      this.checkName(c.name, R.MAX_CAMPAIGN_NAME, 'create.name');
      // CampaignBudgetError.DUPLICATE_NAME: "Budget name is already in use."
      const key = `budget:${text(c.name)}`;
      if (
        scope.names.has(key) ||
        this.live('campaign_budget', (b) => b.fields.name === c.name).length > 0
      )
        throw adsError(
          'campaign_budget_error',
          'DUPLICATE_NAME',
          'Budget name is already in use.',
          { path: 'create.name', trigger: c.name },
        );
      scope.names.add(key);
    }
    // CampaignBudgetError.CANNOT_USE_ACCELERATED_DELIVERY_MODE: accelerated delivery is retired.
    if (c.delivery_method === 'ACCELERATED')
      throw adsError(
        'campaign_budget_error',
        'CANNOT_USE_ACCELERATED_DELIVERY_MODE',
        'Accelerated delivery is no longer available.',
        { path: 'create.delivery_method' },
      );
    const fields: Resource = {
      ...(c.name !== undefined ? { name: c.name } : {}),
      amount_micros: String(c.amount_micros),
      status: 'ENABLED',
      explicitly_shared: shared,
      delivery_method: c.delivery_method ?? 'STANDARD',
    };
    // The store dates the amount (GoogleStore datedFields): a past day spends that day's amount.
    return { commit: () => this.created('campaign_budget', fields) };
  }

  private updateBudget(op: Operation): Plan {
    const u = op.update!;
    const budget = this.find('campaign_budget', u.resource_name, 'update.resource_name');
    const change: Resource = {};
    for (const p of op.update_mask!.paths!) {
      if (p === 'amount_micros') {
        this.checkAmount(u.amount_micros, 'update.amount_micros');
        change.amount_micros = String(u.amount_micros);
      } else if (p === 'name') {
        this.checkName(u.name, R.MAX_CAMPAIGN_NAME, 'update.name');
        if (
          this.live('campaign_budget', (b) => b.fields.name === u.name && b.id !== budget.id)
            .length > 0
        )
          throw adsError(
            'campaign_budget_error',
            'DUPLICATE_NAME',
            'Budget name is already in use.',
            { path: 'update.name', trigger: u.name },
          );
        change.name = u.name;
      } else throw this.maskError(p);
    }
    return { commit: () => this.updated(budget, change) };
  }

  private removeBudget(name: string): Plan {
    const budget = this.find('campaign_budget', name, 'remove');
    if (this.live('campaign', (c) => c.fields.campaign_budget === name).length > 0)
      throw adsError(
        'campaign_budget_error',
        'CAMPAIGN_BUDGET_IN_USE',
        'The budget is used by a campaign that is not removed.',
        { path: 'remove' },
      );
    return { commit: () => this.updated(budget, { status: 'REMOVED', _removed: true }) };
  }

  private maskError(path: string) {
    return adsError(
      'field_mask_error',
      'FIELD_NOT_FOUND',
      `The field mask names a field that cannot be updated here: ${path}.`,
      { path: 'update_mask', trigger: path },
    );
  }

  private updated(obj: GoogleObject, change: Resource) {
    this.store.update(obj, change, this.date());
    return { resource_name: String(obj.fields.resource_name), resource: obj.fields };
  }

  // Campaigns ----------------------------------------------------------------------------------

  private createCampaign(c: Resource, scope: RequestScope): Plan {
    this.checkName(c.name, R.MAX_CAMPAIGN_NAME, 'create.name');
    const key = `campaign:${text(c.name)}`;
    // CampaignError.DUPLICATE_CAMPAIGN_NAME: names are unique among the customer's campaigns
    // that are not removed.
    if (scope.names.has(key) || this.live('campaign', (x) => x.fields.name === c.name).length > 0)
      throw adsError(
        'campaign_error',
        'DUPLICATE_CAMPAIGN_NAME',
        'A campaign with this name already exists.',
        { path: 'create.name', trigger: c.name },
      );
    this.checkStatus(c.status, 'create.status');
    R.required(c.advertising_channel_type, 'create.advertising_channel_type');
    if (c.advertising_channel_type !== R.APP_CHANNEL)
      throw adsError(
        'campaign_error',
        'ADVERTISING_CHANNEL_TYPE_NOT_AVAILABLE_FOR_ACCOUNT_TYPE',
        'The sandbox customer runs App campaigns (MULTI_CHANNEL) only.',
        { path: 'create.advertising_channel_type', trigger: c.advertising_channel_type },
      );
    if (!R.APP_SUB_TYPES.has(String(c.advertising_channel_sub_type)))
      throw adsError(
        'campaign_error',
        'INVALID_ADVERTISING_CHANNEL_SUB_TYPE',
        'MULTI_CHANNEL campaigns need sub type APP_CAMPAIGN or APP_CAMPAIGN_FOR_ENGAGEMENT.',
        { path: 'create.advertising_channel_sub_type', trigger: c.advertising_channel_sub_type },
      );
    const setting = c.app_campaign_setting as Resource | undefined;
    R.required(setting, 'create.app_campaign_setting');
    R.required(setting!.app_id, 'create.app_campaign_setting.app_id');
    R.required(setting!.app_store, 'create.app_campaign_setting.app_store');
    if (!R.APP_STORES.has(text(setting!.app_store)))
      throw adsError('field_error', 'INVALID_VALUE', 'Invalid app store.', {
        path: 'create.app_campaign_setting.app_store',
        trigger: setting!.app_store,
      });
    // CampaignError.APP_NOT_FOUND: "The app ... could not be found" in its store.
    const known =
      setting!.app_store === 'APPLE_APP_STORE'
        ? this.world.google.appIds.ios
        : this.world.google.appIds.android;
    if (setting!.app_id !== known)
      throw adsError(
        'campaign_error',
        'APP_NOT_FOUND',
        `App ${text(setting!.app_id)} was not found in ${text(setting!.app_store)}.`,
        { path: 'create.app_campaign_setting.app_id', trigger: setting!.app_id },
      );
    const goal = setting!.bidding_strategy_goal_type;
    R.required(goal, 'create.app_campaign_setting.bidding_strategy_goal_type');
    if (!R.BIDDING_GOALS.has(String(goal)))
      throw adsError('field_error', 'INVALID_VALUE', 'Invalid bidding strategy goal type.', {
        path: 'create.app_campaign_setting.bidding_strategy_goal_type',
        trigger: goal,
      });
    const cpa = get(c, 'target_cpa.target_cpa_micros');
    if (R.GOALS_WITH_TARGET_CPA.has(String(goal))) {
      R.required(cpa, 'create.target_cpa.target_cpa_micros');
      if (!(Number(cpa) > 0))
        throw adsError('range_error', 'TOO_LOW', 'The target CPA must be greater than 0.', {
          path: 'create.target_cpa.target_cpa_micros',
          trigger: cpa,
        });
    }
    const actions =
      (get(c, 'selective_optimization.conversion_actions') as string[] | undefined) ?? [];
    for (const [i, a] of actions.entries())
      if (!this.conversionActions().some((x) => x.resource_name === a))
        throw adsError(
          'mutate_error',
          'RESOURCE_NOT_FOUND',
          `Conversion action ${a} was not found.`,
          {
            path: [
              { field_name: 'create' },
              { field_name: 'selective_optimization' },
              { field_name: 'conversion_actions', index: i },
            ],
            trigger: a,
          },
        );
    R.required(c.campaign_budget, 'create.campaign_budget');
    const budget = this.find('campaign_budget', c.campaign_budget, 'create.campaign_budget');
    // [doc campaigns/app-campaigns] App campaigns cannot use a shared budget.
    if (budget.fields.explicitly_shared === true)
      throw adsError(
        'campaign_error',
        'CAMPAIGN_CANNOT_USE_SHARED_BUDGET',
        'App campaigns cannot use a shared budget: create it with explicitly_shared false.',
        { path: 'create.campaign_budget', trigger: c.campaign_budget },
      );
    const usedBy = `budget-used:${String(c.campaign_budget)}`;
    if (
      scope.names.has(usedBy) ||
      this.live('campaign', (x) => x.fields.campaign_budget === c.campaign_budget).length > 0
    )
      throw adsError(
        'campaign_budget_error',
        'CANNOT_USE_IMPLICITLY_SHARED_CAMPAIGN_BUDGET_WITH_MULTIPLE_CAMPAIGNS',
        'A budget that is not shared can serve one campaign only.',
        { path: 'create.campaign_budget' },
      );
    scope.names.add(key);
    scope.names.add(usedBy);
    const fields: Resource = {
      name: c.name,
      status: c.status ?? 'ENABLED',
      advertising_channel_type: c.advertising_channel_type,
      advertising_channel_sub_type: c.advertising_channel_sub_type,
      campaign_budget: c.campaign_budget,
      app_campaign_setting: {
        app_id: setting!.app_id,
        app_store: setting!.app_store,
        bidding_strategy_goal_type: goal,
      },
      ...(cpa !== undefined ? { target_cpa: { target_cpa_micros: text(cpa) } } : {}),
      ...(actions.length > 0 ? { selective_optimization: { conversion_actions: actions } } : {}),
      serving_status: 'SERVING',
    };
    return { commit: () => this.created('campaign', fields) };
  }

  private updateCampaign(op: Operation): Plan {
    const u = op.update!;
    const campaign = this.find('campaign', u.resource_name, 'update.resource_name');
    const change: Resource = {};
    for (const p of op.update_mask!.paths!) {
      if (p === 'status') {
        this.checkUpdateStatus(u.status);
        change.status = u.status;
      } else if (p === 'name') {
        this.checkName(u.name, R.MAX_CAMPAIGN_NAME, 'update.name');
        if (
          this.live('campaign', (x) => x.fields.name === u.name && x.id !== campaign.id).length > 0
        )
          throw adsError(
            'campaign_error',
            'DUPLICATE_CAMPAIGN_NAME',
            'A campaign with this name already exists.',
            { path: 'update.name', trigger: u.name },
          );
        change.name = u.name;
      } else if (p === 'target_cpa.target_cpa_micros') {
        const cpa = get(u, 'target_cpa.target_cpa_micros');
        if (!(Number(cpa) > 0))
          throw adsError('range_error', 'TOO_LOW', 'The target CPA must be greater than 0.', {
            path: 'update.target_cpa.target_cpa_micros',
            trigger: cpa,
          });
        change.target_cpa = { target_cpa_micros: text(cpa) };
      } else if (
        p.startsWith('app_campaign_setting') ||
        p === 'advertising_channel_type' ||
        p === 'advertising_channel_sub_type'
      ) {
        // [proto resources/campaign.proto] these are IMMUTABLE.
        throw adsError('field_error', 'IMMUTABLE_FIELD', `${p} cannot be changed after creation.`, {
          path: `update.${p}`,
        });
      } else throw this.maskError(p);
    }
    return { commit: () => this.updated(campaign, change) };
  }

  private checkUpdateStatus(status: unknown) {
    R.required(status, 'update.status');
    // A status update is ENABLED or PAUSED; REMOVED is the remove operation's.
    if (!R.CREATE_STATUSES.has(text(status)))
      throw adsError(
        'field_error',
        'INVALID_VALUE',
        `Invalid status ${text(status)}: use ENABLED or PAUSED, or a remove operation.`,
        { path: 'update.status', trigger: status },
      );
  }

  private removeStatus(type: 'campaign' | 'ad_group' | 'ad_group_ad', name: string): Plan {
    const obj = this.find(type, name, 'remove');
    return { commit: () => this.updated(obj, { status: 'REMOVED' }) };
  }

  private updateStatusOnly(type: 'ad_group', op: Operation, allowed: string[]): Plan {
    const u = op.update!;
    const obj = this.find(type, u.resource_name, 'update.resource_name');
    const change: Resource = {};
    for (const p of op.update_mask!.paths!) {
      if (!allowed.includes(p)) throw this.maskError(p);
      if (p === 'status') {
        this.checkUpdateStatus(u.status);
        change.status = u.status;
      } else if (p === 'name') {
        this.checkName(u.name, R.MAX_AD_GROUP_NAME, 'update.name');
        if (
          this.live(
            'ad_group',
            (g) =>
              g.fields.campaign === obj.fields.campaign &&
              g.fields.name === u.name &&
              g.id !== obj.id,
          ).length > 0
        )
          throw adsError(
            'ad_group_error',
            'DUPLICATE_ADGROUP_NAME',
            'An ad group with this name already exists in the campaign.',
            { path: 'update.name', trigger: u.name },
          );
        change.name = u.name;
      }
    }
    return { commit: () => this.updated(obj, change) };
  }

  // Campaign criteria ---------------------------------------------------------------------------

  private createCriterion(c: Resource, scope: RequestScope): Plan {
    R.required(c.campaign, 'create.campaign');
    const campaign = this.find('campaign', c.campaign, 'create.campaign');
    const geo = get(c, 'location.geo_target_constant');
    const language = get(c, 'language.language_constant');
    // CampaignCriterionError.CONCRETE_TYPE_REQUIRED: "Concrete type of criterion ... is required".
    if ((geo === undefined) === (language === undefined))
      throw adsError(
        'campaign_criterion_error',
        'CONCRETE_TYPE_REQUIRED',
        'Set exactly one of location or language.',
        { path: 'create' },
      );
    const [type, constant, path] =
      geo !== undefined
        ? ['LOCATION', geo, 'create.location.geo_target_constant']
        : ['LANGUAGE', language, 'create.language.language_constant'];
    const m = /^(geoTargetConstants|languageConstants)\/(\d+)$/.exec(text(constant));
    if (!m || (type === 'LOCATION') !== (m[1] === 'geoTargetConstants'))
      throw adsError(
        'request_error',
        'RESOURCE_NAME_MALFORMED',
        `Malformed resource name: ${text(constant)}.`,
        { path, trigger: constant },
      );
    const criterionId = m[2]!;
    const key = `criterion:${campaign.id}~${criterionId}`;
    if (
      scope.names.has(key) ||
      this.live(
        'campaign_criterion',
        (x) => x.fields.campaign === c.campaign && x.fields.criterion_id === criterionId,
      ).length > 0
    )
      throw adsError(
        'mutate_error',
        'RESOURCE_ALREADY_EXISTS',
        'The campaign already has this criterion.',
        { path, trigger: constant },
      );
    scope.names.add(key);
    const fields: Resource = {
      campaign: c.campaign,
      criterion_id: criterionId,
      type,
      ...(type === 'LOCATION'
        ? { location: { geo_target_constant: constant } }
        : { language: { language_constant: constant } }),
      negative: c.negative === true,
    };
    return {
      commit: () => {
        const r = this.created('campaign_criterion', fields, () => `${campaign.id}~${criterionId}`);
        delete r.resource.id;
        return r;
      },
    };
  }

  private removeCriterion(name: string): Plan {
    const obj = this.find('campaign_criterion', name, 'remove');
    return { commit: () => this.updated(obj, { _removed: true }) };
  }

  /** The market a campaign targets: its first positive country criterion. */
  marketOf(campaignName: string): string {
    for (const c of this.live(
      'campaign_criterion',
      (x) =>
        x.fields.campaign === campaignName &&
        x.fields.type === 'LOCATION' &&
        x.fields.negative !== true,
    )) {
      const id = Number(c.fields.criterion_id);
      for (const m of this.world.catalog.markets) {
        try {
          if (geoTargetId(m.code) === id) return m.code;
        } catch {
          // A market Google has no geo target for.
        }
      }
    }
    return '';
  }

  // Ad groups ----------------------------------------------------------------------------------

  private createAdGroup(c: Resource, scope: RequestScope): Plan {
    this.checkName(c.name, R.MAX_AD_GROUP_NAME, 'create.name');
    R.required(c.campaign, 'create.campaign');
    this.find('campaign', c.campaign, 'create.campaign');
    this.checkStatus(c.status, 'create.status');
    const key = `ad_group:${text(c.campaign)}:${text(c.name)}`;
    // AdGroupError.DUPLICATE_ADGROUP_NAME: unique among the campaign's ad groups.
    if (
      scope.names.has(key) ||
      this.live('ad_group', (g) => g.fields.campaign === c.campaign && g.fields.name === c.name)
        .length > 0
    )
      throw adsError(
        'ad_group_error',
        'DUPLICATE_ADGROUP_NAME',
        'An ad group with this name already exists in the campaign.',
        { path: 'create.name', trigger: c.name },
      );
    // [proto resources/ad_group.proto] type: App campaign ad groups have none.
    if (c.type !== undefined && c.type !== 'UNSPECIFIED')
      throw adsError(
        'ad_group_error',
        'AD_GROUP_TYPE_NOT_VALID_FOR_ADVERTISING_CHANNEL_TYPE',
        'App campaign ad groups take no type.',
        { path: 'create.type', trigger: c.type },
      );
    scope.names.add(key);
    const fields: Resource = { name: c.name, status: c.status ?? 'ENABLED', campaign: c.campaign };
    return { commit: () => this.created('ad_group', fields) };
  }

  // Ads -----------------------------------------------------------------------------------------

  private createAdGroupAd(c: Resource, scope: RequestScope): Plan {
    R.required(c.ad_group, 'create.ad_group');
    const group = this.find('ad_group', c.ad_group, 'create.ad_group');
    this.checkStatus(c.status, 'create.status');
    const ad = c.ad as Resource | undefined;
    R.required(ad, 'create.ad');
    if (!ad!.app_ad)
      throw adsError(
        'ad_error',
        'INVALID_AD_TYPE',
        'App campaign ad groups take app ads (ad.app_ad).',
        { path: 'create.ad' },
      );
    // [help 9247199] one app ad per App campaign ad group.
    if (
      scope.adGroupsWithAd.has(group.id) ||
      this.live('ad_group_ad', (a) => a.fields.ad_group === c.ad_group).length >=
        R.APP_ADS_PER_AD_GROUP
    )
      throw adsError(
        'resource_count_limit_exceeded_error',
        'AD_GROUP_AD_LIMIT',
        'An App campaign ad group holds one app ad.',
        { path: 'create.ad_group', trigger: c.ad_group },
      );
    const appAd = this.checkAppAd(ad!.app_ad as Resource, 'create.ad.app_ad', true);
    scope.adGroupsWithAd.add(group.id);
    const fields: Resource = {
      status: c.status ?? 'ENABLED',
      ad_group: c.ad_group,
      ad: {
        type: 'APP_AD',
        ...(ad!.name !== undefined ? { name: ad!.name } : {}),
        ...(Array.isArray(ad!.final_urls) ? { final_urls: ad!.final_urls } : {}),
        app_ad: appAd,
      },
    };
    return {
      commit: () => {
        const obj = this.store.create('ad_group_ad', this.customerId, fields, this.date());
        const adFields = {
          ...(obj.fields.ad as Resource),
          id: obj.id,
          resource_name: `customers/${this.customerId}/ads/${obj.id}`,
        };
        this.store.update(
          obj,
          {
            ad: adFields,
            resource_name: this.resourceName('ad_group_ad', `${group.id}~${obj.id}`),
            _reviews: this.reviews(appAd, {}),
            // The links' dated history, so a past day's delivery uses that day's links.
            _links: [{ date: this.date(), ...appAdLinks(appAd) }],
          },
          this.date(),
        );
        return { resource_name: String(obj.fields.resource_name), resource: obj.fields };
      },
    };
  }

  private updateAdGroupAd(op: Operation): Plan {
    const u = op.update!;
    const obj = this.find('ad_group_ad', u.resource_name, 'update.resource_name');
    const change: Resource = {};
    for (const p of op.update_mask!.paths!) {
      if (p === 'status') {
        this.checkUpdateStatus(u.status);
        change.status = u.status;
      } else if (p === 'ad' || p.startsWith('ad.')) {
        // [proto resources/ad_group_ad.proto] ad: IMMUTABLE. The ad's content is updated with
        // AdService.MutateAds ([proto services/ad_service.proto]).
        throw adsError(
          'field_error',
          'IMMUTABLE_FIELD',
          'The ad of an ad group ad cannot be changed here: update it with AdService.MutateAds.',
          { path: `update.${p}` },
        );
      } else throw this.maskError(p);
    }
    return { commit: () => this.updated(obj, change) };
  }

  private updateAd(op: Operation): Plan {
    const u = op.update!;
    const m = /^customers\/(\d+)\/ads\/(\d+)$/.exec(text(u.resource_name));
    if (!m)
      throw adsError(
        'request_error',
        'RESOURCE_NAME_MALFORMED',
        `Malformed resource name: ${text(u.resource_name)}.`,
        { path: 'update.resource_name' },
      );
    const obj = this.store.get(m[2]!, 'ad_group_ad');
    if (m[1] !== this.customerId || !obj)
      throw adsError(
        'mutate_error',
        'RESOURCE_NOT_FOUND',
        `Resource was not found: ${text(u.resource_name)}.`,
        { path: 'update.resource_name' },
      );
    if (obj.fields.status === 'REMOVED')
      throw adsError(
        'operation_access_denied_error',
        'OPERATION_NOT_PERMITTED_FOR_REMOVED_RESOURCE',
        'The ad was removed.',
        { path: 'update.resource_name' },
      );
    const ad = structuredClone(obj.fields.ad as Resource);
    const appAd = { ...(ad.app_ad as Resource) };
    for (const p of op.update_mask!.paths!) {
      if (!R.AD_UPDATABLE.has(p)) {
        if (p === 'type' || p === 'id')
          throw adsError('field_error', 'IMMUTABLE_FIELD', `${p} cannot be changed.`, {
            path: `update.${p}`,
          });
        throw this.maskError(p);
      }
      if (p.startsWith('app_ad.')) appAd[p.slice(7)] = get(u, p) ?? [];
      else ad[p] = u[p];
    }
    const checked = this.checkAppAd(appAd, 'update.app_ad', false);
    ad.app_ad = checked;
    const reviews = this.reviews(
      checked,
      (obj.fields._reviews as Record<string, ReviewDecision>) ?? {},
    );
    return {
      commit: () => {
        const date = this.date();
        const links = withDated(linkHistory(obj), { date, ...appAdLinks(checked) });
        this.store.update(obj, { ad, _reviews: reviews, _links: links }, date);
        return { resource_name: String(ad.resource_name), resource: ad };
      },
    };
  }

  /** Checks an app ad's texts and asset links (AppAdInfo); returns it in stored form. */
  private checkAppAd(a: Resource, at: string, creating: boolean): Resource {
    const texts = (key: 'headlines' | 'descriptions') => {
      const list = (a[key] as Resource[] | undefined) ?? [];
      const limit = R.APP_AD_LIMITS[key];
      if (list.length === 0 && creating)
        throw key === 'headlines'
          ? adsError('ad_error', 'MISSING_HEADLINE', 'An app ad needs at least one headline.', {
              path: `${at}.headlines`,
            })
          : adsError(
              'collection_size_error',
              'TOO_FEW',
              'An app ad needs at least one description.',
              { path: `${at}.descriptions` },
            );
      if (list.length > limit.max)
        throw adsError(
          'collection_size_error',
          'TOO_MANY',
          `An app ad takes at most ${limit.max} ${key}.`,
          { path: `${at}.${key}` },
        );
      return list.map((t, i) => {
        const text = typeof t?.text === 'string' ? t.text : '';
        const path: PathElement[] = [
          ...at.split('.').map((field_name) => ({ field_name })),
          { field_name: key, index: i },
          { field_name: 'text' },
        ];
        if (text.trim() === '')
          throw adsError('ad_error', 'EMPTY_FIELD', 'The text must not be empty.', { path });
        if ([...text].length > limit.chars)
          throw adsError(
            'ad_error',
            'TOO_LONG',
            `The text is longer than ${limit.chars} characters.`,
            { path, trigger: text },
          );
        return { text };
      });
    };
    const links = (key: 'images' | 'youtube_videos', assetType: string) => {
      const list = (a[key] as Resource[] | undefined) ?? [];
      if (list.length > R.APP_AD_LIMITS[key].max)
        throw adsError(
          'collection_size_error',
          'TOO_MANY',
          `An app ad takes at most ${R.APP_AD_LIMITS[key].max} ${key}.`,
          { path: `${at}.${key}` },
        );
      const seen = new Set<string>();
      return list.map((l, i) => {
        const path: PathElement[] = [
          ...at.split('.').map((field_name) => ({ field_name })),
          { field_name: key, index: i },
          { field_name: 'asset' },
        ];
        const asset = this.find('asset', l?.asset, path);
        if (asset.fields.type !== assetType)
          throw adsError(
            'asset_link_error',
            'FIELD_TYPE_INCOMPATIBLE_WITH_ASSET_TYPE',
            `${key} takes ${assetType} assets; ${text(l.asset)} is ${text(asset.fields.type)}.`,
            { path, trigger: l.asset },
          );
        if (seen.has(text(l.asset)))
          throw adsError('distinct_error', 'DUPLICATE_ELEMENT', 'The asset is linked twice.', {
            path,
            trigger: l.asset,
          });
        seen.add(text(l.asset));
        return { asset: l.asset };
      });
    };
    const out: Resource = {
      headlines: texts('headlines'),
      descriptions: texts('descriptions'),
      images: links('images', 'IMAGE'),
      youtube_videos: links('youtube_videos', 'YOUTUBE_VIDEO'),
    };
    if (
      (out.images as unknown[]).length + (out.youtube_videos as unknown[]).length === 0 &&
      creating
    )
      throw adsError('ad_error', 'MISSING_IMAGE', 'An app ad needs at least one image or video.', {
        path: at,
      });
    return out;
  }

  /**
   * The policy review of each image and video an ad links, made once per asset and ad: on the
   * asset's content and the ad's texts (../review.ts), kept across updates, also for assets the
   * ad no longer links (ad_group_ad_asset_view reports those links, removed, with their policy
   * summary), so an asset linked again keeps its decision and is not reviewed anew.
   */
  private reviews(
    appAd: Resource,
    previous: Record<string, ReviewDecision>,
  ): Record<string, ReviewDecision> {
    const texts = [
      ...((appAd.headlines as Resource[]) ?? []),
      ...((appAd.descriptions as Resource[]) ?? []),
    ].map((t) => String(t.text));
    const out: Record<string, ReviewDecision> = { ...previous };
    for (const l of [
      ...((appAd.images as Resource[]) ?? []),
      ...((appAd.youtube_videos as Resource[]) ?? []),
    ]) {
      const name = text(l.asset);
      const asset = this.store
        .list('asset', this.customerId)
        .find((x) => x.fields.resource_name === name);
      const media = text(
        asset?.fields._md5 ?? get(asset?.fields, 'youtube_video_asset.youtube_video_id') ?? name,
      );
      out[name] =
        previous[name] ??
        reviewAd(this.world.seed, 'google', this.review, { media, texts }, this.now());
    }
    return out;
  }

  // Assets --------------------------------------------------------------------------------------

  private async createAsset(c: Resource, scope: RequestScope): Promise<Plan> {
    const image = c.image_asset as Resource | undefined;
    const video = c.youtube_video_asset as Resource | undefined;
    if (!image && !video)
      throw adsError(
        'asset_error',
        'ASSET_DATA_IS_MISSING',
        'The asset has no data: set image_asset or youtube_video_asset.',
        { path: 'create' },
      );
    if (c.type !== undefined && c.type !== (image ? 'IMAGE' : 'YOUTUBE_VIDEO'))
      throw adsError(
        'asset_error',
        'FIELD_INCOMPATIBLE_WITH_ASSET_TYPE',
        'The type does not match the asset data.',
        { path: 'create.type', trigger: c.type },
      );
    if (c.name !== undefined) {
      const key = `asset:${text(c.name)}`;
      // AssetError.DUPLICATE_ASSET_NAME: "The asset name is duplicated, either across operations
      // or with an existing asset."
      if (scope.names.has(key) || this.live('asset', (a) => a.fields.name === c.name).length > 0)
        throw adsError(
          'asset_error',
          'DUPLICATE_ASSET_NAME',
          'An asset with this name already exists.',
          { path: 'create.name', trigger: c.name },
        );
      scope.names.add(key);
    }
    if (image) {
      const fields = await this.checkImage(image, scope);
      return {
        commit: () =>
          this.created('asset', {
            ...(c.name !== undefined ? { name: c.name } : {}),
            type: 'IMAGE',
            ...fields,
          }),
      };
    }
    const id = video!.youtube_video_id;
    R.required(id, 'create.youtube_video_asset.youtube_video_id');
    const v = this.videos.video(text(id));
    // MediaFileError.YOU_TUBE_VIDEO_NOT_FOUND: the id names no playable video (none, or one whose
    // processing failed or has not finished).
    if (!v || !v.processed)
      throw adsError(
        'media_file_error',
        'YOU_TUBE_VIDEO_NOT_FOUND',
        `YouTube video ${text(id)} was not found.`,
        { path: 'create.youtube_video_asset.youtube_video_id', trigger: id },
      );
    const fields: Resource = {
      ...(c.name !== undefined ? { name: c.name } : {}),
      type: 'YOUTUBE_VIDEO',
      youtube_video_asset: { youtube_video_id: id, youtube_video_title: v.title },
    };
    return { commit: () => this.created('asset', fields) };
  }

  private async checkImage(image: Resource, scope: RequestScope): Promise<Resource> {
    const data = image.data;
    if (!Buffer.isBuffer(data) || data.length === 0)
      throw adsError('asset_error', 'ASSET_DATA_IS_MISSING', 'The image asset has no data.', {
        path: 'create.image_asset.data',
      });
    const mime = R.imageFormat(data);
    if (!mime)
      throw adsError('image_error', 'FORMAT_NOT_ALLOWED', 'The image is not a PNG, JPEG or GIF.', {
        path: 'create.image_asset.data',
      });
    if (data.length > R.IMAGE_MAX_BYTES)
      throw adsError(
        'image_error',
        'FILE_TOO_LARGE',
        `The image is larger than ${R.IMAGE_MAX_BYTES / 1024} KB.`,
        { path: 'create.image_asset.data' },
      );
    let meta: Metadata;
    try {
      meta = await sharp(data).metadata();
    } catch {
      throw adsError('image_error', 'INVALID_IMAGE', 'The image could not be read.', {
        path: 'create.image_asset.data',
      });
    }
    if (!meta.width || !meta.height)
      throw adsError('image_error', 'INVALID_IMAGE', 'The image could not be read.', {
        path: 'create.image_asset.data',
      });
    if ((meta.pages ?? 1) > 1)
      throw adsError('image_error', 'ANIMATED_NOT_ALLOWED', 'Animated images are not allowed.', {
        path: 'create.image_asset.data',
      });
    const ratio = R.checkImageSize(meta.width, meta.height);
    const md5 = ObjectStore.md5(data);
    // AssetError.DUPLICATE_ASSET: "Assets are duplicated across operations."
    if (scope.imageHashes.has(md5))
      throw adsError(
        'asset_error',
        'DUPLICATE_ASSET',
        'The same image is uploaded twice in this request.',
        { path: 'create.image_asset.data' },
      );
    scope.imageHashes.add(md5);
    return {
      image_asset: {
        file_size: String(data.length),
        mime_type: mime,
        full_size: { width_pixels: String(meta.width), height_pixels: String(meta.height) },
      },
      _md5: md5,
      _ratio: ratio,
      // What the image shows, from the landing link adloop writes into its XMP dc:source.
      _content: contentFromLink(xmpSource(meta.xmp)),
    };
  }

  private updateAsset(op: Operation): Plan {
    const u = op.update!;
    const asset = this.find('asset', u.resource_name, 'update.resource_name');
    const change: Resource = {};
    for (const p of op.update_mask!.paths!) {
      if (p === 'name') {
        if (this.live('asset', (a) => a.fields.name === u.name && a.id !== asset.id).length > 0)
          throw adsError(
            'asset_error',
            'DUPLICATE_ASSET_NAME',
            'An asset with this name already exists.',
            { path: 'update.name', trigger: u.name },
          );
        change.name = u.name;
      } else if (
        p.startsWith('image_asset') ||
        p.startsWith('youtube_video_asset') ||
        p === 'type'
      ) {
        // [proto resources/asset.proto] the asset data is IMMUTABLE.
        throw adsError('field_error', 'IMMUTABLE_FIELD', `${p} cannot be changed after creation.`, {
          path: `update.${p}`,
        });
      } else throw this.maskError(p);
    }
    return { commit: () => this.updated(asset, change) };
  }

  // Conversion actions ---------------------------------------------------------------------------

  /** The customer's conversion actions (the world's), as resources; ids follow their order. */
  conversionActions(): Array<Resource & { resource_name: string; counts: string; name: string }> {
    return this.world.google.conversionActions.map((a, i) => {
      const id = String(700_000_000 + i + 1);
      return {
        resource_name: `customers/${this.customerId}/conversionActions/${id}`,
        id,
        name: a.name,
        type: a.type,
        category: a.category,
        status: 'ENABLED',
        counts: a.counts,
      };
    });
  }
}

/** The first https link in an XMP packet's dc:source (what adloop writes into its images). */
export function xmpSource(xmp: Buffer | undefined): string | null {
  if (!xmp) return null;
  const text = xmp.toString('utf8');
  const m =
    /<dc:source>\s*(?:<rdf:[^>]+>\s*<rdf:li[^>]*>)?\s*([^<\s]+)/.exec(text) ??
    /dc:source="([^"]+)"/.exec(text);
  return m?.[1]?.replaceAll('&amp;', '&') ?? null;
}
