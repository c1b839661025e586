// The sandbox Google Ads customer's objects (budgets, campaigns, criteria, ad groups, ad group ads,
// assets) and the YouTube channel's videos, with the status history of campaigns, ad groups and
// ads and the dated history of each budget's amount (see ../object-store.ts), and each app ad's
// dated asset links (`_links`), so delivery can be replayed for any past day as things were
// then. Fields are kept in the resources' proto form (snake_case, int64 as strings, enums by
// name); fields whose names start with `_` are the sandbox's own and never sent.
import { BEFORE_HISTORY, ObjectStore, type Dated, type StoredObject } from '../object-store.ts';

export { datedOn, withDated, type Dated } from '../object-store.ts';

export type GoogleObjectType =
  | 'campaign_budget'
  | 'campaign'
  | 'campaign_criterion'
  | 'ad_group'
  | 'ad_group_ad'
  | 'asset'
  | 'youtube_video';
export type GoogleObject = StoredObject<GoogleObjectType>;

/** One day's asset links of an app ad: the asset resource names in app_ad.images and .youtube_videos. */
export interface AppAdLinks {
  images: string[];
  youtube_videos: string[];
}

/** The asset links an app ad (its stored `app_ad`) holds. */
export function appAdLinks(appAd: Record<string, unknown> | undefined): AppAdLinks {
  const names = (key: keyof AppAdLinks) =>
    ((appAd?.[key] as Array<{ asset?: unknown }> | undefined) ?? []).map((l) => String(l.asset));
  return { images: names('images'), youtube_videos: names('youtube_videos') };
}

/**
 * An app ad's dated link history (`_links`). An ad stored before the history was kept has none:
 * its current links then stand for its whole life, from its creation.
 */
export function linkHistory(ad: GoogleObject): Dated<AppAdLinks> {
  const log = ad.fields._links as Dated<AppAdLinks> | undefined;
  if (log) return log;
  const appAd = (ad.fields.ad as Record<string, unknown> | undefined)?.app_ad as
    Record<string, unknown> | undefined;
  return [{ date: ad.statusLog?.[0]?.date ?? BEFORE_HISTORY, ...appAdLinks(appAd) }];
}

/** A value a field did not have before an update (the key is deleted again on rollback). */
const ABSENT = Symbol('absent');

/**
 * The writes of one atomic GoogleAdsService.Mutate, to take back when an operation fails. Only the
 * request's own writes are logged (see GoogleStore.logging), so another request's writes between
 * two of its operations are kept.
 */
export type UndoLog = Array<
  | { created: string }
  | {
      obj: GoogleObject;
      previous: Record<string, unknown>;
      statusEntries: number | undefined;
      /** The dated fields' histories before (replaced whole on update, never changed in place). */
      fieldLog: GoogleObject['fieldLog'];
    }
>;

export class GoogleStore extends ObjectStore<GoogleObjectType> {
  private undo: UndoLog | null = null;

  constructor(idBase: number, file: string | null = null) {
    super({
      // Google ids are int64; derived from the world so two worlds never share ids and the same
      // calls always give the same ids.
      newId: (seq) => String(10n ** 10n * BigInt(1 + (idBase % 99_999)) + BigInt(seq)),
      statusField: 'status',
      defaultStatus: 'ENABLED',
      statusTypes: ['campaign', 'ad_group', 'ad_group_ad'],
      // A past day spends the amount its budget had that day.
      datedFields: { campaign_budget: ['amount_micros'] },
      file,
    });
  }

  /**
   * A budget stored before the store kept dated fields has its amounts' history in `_amounts` (the
   * sandbox's own field then), which stands for it.
   */
  override fieldHistory(obj: GoogleObject, field: string): Dated<{ value: unknown }> {
    const legacy = obj.fields._amounts as Dated<{ amount_micros: string }> | undefined;
    if (!obj.fieldLog?.[field] && field === 'amount_micros' && legacy)
      return legacy.map(({ date, amount_micros }) => ({ date, value: amount_micros }));
    return super.fieldHistory(obj, field);
  }

  /** ObjectStore's own state, which rollback takes back (it keeps it private). */
  private get internals() {
    return this as unknown as { objects: Map<string, GoogleObject>; save(): void };
  }

  override create(
    type: GoogleObjectType,
    owner: string,
    fields: Record<string, unknown>,
    date: string,
    id?: string,
  ): GoogleObject {
    const obj = super.create(type, owner, fields, date, id);
    this.undo?.push({ created: obj.id });
    return obj;
  }

  override update(obj: GoogleObject, fields: Record<string, unknown>, date: string) {
    // update() replaces top-level fields (Object.assign), so the previous values stay intact.
    this.undo?.push({
      obj,
      previous: Object.fromEntries(
        Object.keys(fields).map((k) => [k, k in obj.fields ? obj.fields[k] : ABSENT]),
      ),
      statusEntries: obj.statusLog?.length,
      fieldLog: obj.fieldLog,
    });
    super.update(obj, fields, date);
  }

  /**
   * Runs `fn` (synchronous: no other request's writes can come in between) with every create and
   * update it makes logged in `log`; without a log, just runs it.
   */
  logging<T>(log: UndoLog | undefined, fn: () => T): T {
    if (!log) return fn();
    const outer = this.undo;
    this.undo = log;
    try {
      return fn();
    } finally {
      this.undo = outer;
    }
  }

  /** Takes back the logged writes, newest first (ids once given are not given again). */
  rollback(log: UndoLog) {
    const { objects } = this.internals;
    for (const entry of [...log].reverse()) {
      if ('created' in entry) {
        objects.delete(entry.created);
        continue;
      }
      for (const [k, v] of Object.entries(entry.previous)) {
        if (v === ABSENT) delete entry.obj.fields[k];
        else entry.obj.fields[k] = v;
      }
      if (entry.obj.statusLog && entry.statusEntries !== undefined)
        entry.obj.statusLog.length = entry.statusEntries;
      if (entry.fieldLog) entry.obj.fieldLog = entry.fieldLog;
      else delete entry.obj.fieldLog;
    }
    log.length = 0;
    this.internals.save();
  }
}
