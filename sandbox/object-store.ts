// The state of one sandbox ad account: its objects (campaigns, ad sets or ad groups, ads, media),
// each with its status history per sandbox date and the dated history of chosen fields (an ad
// set's daily budget), so delivery can be replayed for any past day as things stood then.
// Optionally persisted to a JSON file, written atomically, so a restarted sandbox still knows what
// was created. The platforms' stores differ only in their id shapes, status and dated fields.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ReviewDecision } from './review.ts';

/**
 * A dated history: an entry for each change, stamped with the sandbox date it was made on, in the
 * order made. A day counts with its state at the end of the day: when a value changed several
 * times on one date, the last change made that day counts for the whole day (the earlier ones are
 * kept, so every value it ever had stays known; see `datedOn`).
 */
export type Dated<T> = Array<{ date: string } & T>;

/** The entry in force at the end of `date` (the last one made on or before it), if any. */
export function datedOn<T>(log: Dated<T>, date: string): ({ date: string } & T) | undefined {
  let found: ({ date: string } & T) | undefined;
  for (const entry of log) if (entry.date <= date) found = entry;
  return found;
}

/**
 * A new history with `entry` added, unless it only repeats the last entry's value. The stored
 * history is never changed in place, so a rollback that puts the previous array back (see
 * GoogleStore.rollback) restores it.
 */
export function withDated<T>(log: Dated<T>, entry: { date: string } & T): Dated<T> {
  const value = (e: { date: string }) =>
    JSON.stringify(Object.entries(e).filter(([k]) => k !== 'date'));
  const last = log.at(-1);
  return last && value(last) === value(entry) ? log : [...log, entry];
}

/** Date of the entry standing for an object's whole life when its history was never kept. */
export const BEFORE_HISTORY = '0000-00-00';

export interface StoredObject<T extends string> {
  id: string;
  type: T;
  /** The ad account (Meta, without act_) or advertiser (TikTok) that owns it. */
  owner: string;
  /** The object as the platform returns it (its own field names). */
  fields: Record<string, unknown>;
  /** Creation order, for stable listing. */
  seq: number;
  /** For objects with a status: their status at each sandbox date it changed, in order. */
  statusLog?: Array<{ date: string; status: string }>;
  /**
   * For the fields the store dates (ObjectStoreOptions.datedFields): each value the field took,
   * by the sandbox date it was set on (see `Dated`). Absent in state files written before it was
   * kept: the current value then stands for the object's whole life (ObjectStore.fieldHistory).
   */
  fieldLog?: Record<string, Dated<{ value: unknown }>>;
  /** For ads: the platform's review, decided once at creation (see ../review.ts). */
  review?: ReviewDecision;
}

export interface ObjectStoreOptions<T extends string> {
  /** The platform's id for the n-th object created. */
  newId(seq: number): string;
  /** Field holding the status (`status` on Meta, `operation_status` on TikTok). */
  statusField: string;
  /** Status of a new object that names none. */
  defaultStatus: string;
  /** Types whose status history is kept. */
  statusTypes: readonly T[];
  /**
   * Fields whose values are kept by date, per type (e.g. `{ adset: ['daily_budget'] }`), so a past
   * day can be replayed with the value it had then. Default none.
   */
  datedFields?: Partial<Record<T, readonly string[]>>;
  /** JSON file to persist to; null keeps the state in memory. */
  file: string | null;
}

interface StateFileV1<T extends string> {
  version: 1;
  nextSeq: number;
  objects: Array<Omit<StoredObject<T>, 'owner'>>;
}

interface StateFile<T extends string> {
  version: 2;
  nextSeq: number;
  objects: Array<StoredObject<T>>;
}

export class ObjectStore<T extends string> {
  private readonly objects = new Map<string, StoredObject<T>>();
  private nextSeq = 1;

  constructor(private readonly options: ObjectStoreOptions<T>) {
    if (options.file && fs.existsSync(options.file)) {
      const state = JSON.parse(fs.readFileSync(options.file, 'utf8')) as
        StateFile<T> | StateFileV1<T>;
      if (state.version !== 1 && state.version !== 2) {
        const version = String((state as { version: unknown }).version);
        throw new Error(`${options.file}: unsupported sandbox state version ${version}`);
      }
      for (const o of state.objects) {
        // Version 1 named the owner per platform (accountId, advertiserId).
        const v1 = o as Partial<StoredObject<T>> & { accountId?: string; advertiserId?: string };
        const owner = v1.owner ?? v1.accountId ?? v1.advertiserId ?? '';
        // fieldLog is newer than version 2 itself: files written before it have none.
        const { id, type, fields, seq, statusLog, fieldLog, review } = o;
        this.objects.set(id, {
          id,
          type,
          owner,
          fields,
          seq,
          ...(statusLog ? { statusLog } : {}),
          ...(fieldLog ? { fieldLog } : {}),
          ...(review ? { review } : {}),
        });
      }
      this.nextSeq = state.nextSeq;
    }
  }

  /** Creates an object; `id` is given for media (derived from their bytes), generated otherwise. */
  create(
    type: T,
    owner: string,
    fields: Record<string, unknown>,
    date: string,
    id?: string,
  ): StoredObject<T> {
    const seq = this.nextSeq++;
    const objectId = id ?? this.options.newId(seq);
    const obj: StoredObject<T> = { id: objectId, type, owner, fields: { ...fields }, seq };
    if (this.options.statusTypes.includes(type)) {
      const s = fields[this.options.statusField];
      obj.statusLog = [{ date, status: typeof s === 'string' ? s : this.options.defaultStatus }];
    }
    for (const field of this.options.datedFields?.[type] ?? [])
      if (fields[field] !== undefined)
        obj.fieldLog = { ...obj.fieldLog, [field]: [{ date, value: fields[field] }] };
    this.objects.set(objectId, obj);
    this.save();
    return obj;
  }

  update(obj: StoredObject<T>, fields: Record<string, unknown>, date: string) {
    // The dated fields' histories first: one kept from before has the previous value for its past.
    for (const field of this.options.datedFields?.[obj.type] ?? []) {
      if (fields[field] === undefined) continue;
      const log = withDated(this.fieldHistory(obj, field), { date, value: fields[field] });
      // A new record and array, never changed in place: a rollback puts the previous one back.
      obj.fieldLog = { ...obj.fieldLog, [field]: log };
    }
    Object.assign(obj.fields, fields);
    const s = fields[this.options.statusField];
    if (obj.statusLog && typeof s === 'string') obj.statusLog.push({ date, status: s });
    this.save();
  }

  /** Stores an ad's review decision (made once, at creation). */
  setReview(obj: StoredObject<T>, review: ReviewDecision) {
    obj.review = review;
    this.save();
  }

  get(id: string, type?: T): StoredObject<T> | undefined {
    const obj = this.objects.get(id);
    return type && obj?.type !== type ? undefined : obj;
  }

  list(
    type: T,
    owner: string,
    where: (o: StoredObject<T>) => boolean = () => true,
  ): Array<StoredObject<T>> {
    return [...this.objects.values()]
      .filter((o) => o.type === type && o.owner === owner && where(o))
      .sort((a, b) => a.seq - b.seq);
  }

  /** The object's status at the end of `date` (null if it did not exist yet). */
  statusOn(obj: StoredObject<T>, date: string): string | null {
    let status: string | null = null;
    for (const entry of obj.statusLog ?? []) if (entry.date <= date) status = entry.status;
    return status;
  }

  /**
   * Every value a dated field took, in the order set. An object stored before its history was
   * kept has its current value for its whole life (one entry dated BEFORE_HISTORY).
   */
  fieldHistory(obj: StoredObject<T>, field: string): Dated<{ value: unknown }> {
    return obj.fieldLog?.[field] ?? [{ date: BEFORE_HISTORY, value: obj.fields[field] }];
  }

  /**
   * A dated field's value at the end of `date`; before the object existed, its first value (a day
   * it did not exist on delivers nothing anyway).
   */
  fieldOn(obj: StoredObject<T>, field: string, date: string): unknown {
    const log = this.fieldHistory(obj, field);
    return (datedOn(log, date) ?? log[0])?.value;
  }

  /**
   * A dated field's value at the end of each date it changed on, in date order: one entry a day,
   * the day's last change (what the day is replayed with). A day whose changes end where they
   * began repeats the day before's value: consumers compare neighbouring entries themselves.
   */
  dailyValues(obj: StoredObject<T>, field: string): Dated<{ value: unknown }> {
    const out: Dated<{ value: unknown }> = [];
    for (const entry of this.fieldHistory(obj, field)) {
      if (out.at(-1)?.date === entry.date) out[out.length - 1] = entry;
      else out.push(entry);
    }
    return out;
  }

  static md5(bytes: Buffer): string {
    return createHash('md5').update(bytes).digest('hex');
  }

  private save() {
    const file = this.options.file;
    if (!file) return;
    const state: StateFile<T> = {
      version: 2,
      nextSeq: this.nextSeq,
      objects: [...this.objects.values()],
    };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(state));
    fs.renameSync(tmp, file);
  }
}
