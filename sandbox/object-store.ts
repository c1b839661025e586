// The state of one sandbox ad account: its objects (campaigns, ad sets or ad groups, ads, media),
// each with its status history per sandbox date so delivery can be replayed for any past day.
// Optionally persisted to a JSON file, written atomically, so a restarted sandbox still knows what
// was created. The Meta and TikTok stores differ only in their id shapes and status fields.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ReviewDecision } from './review.ts';

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
        const { id, type, fields, seq, statusLog, review } = o;
        this.objects.set(id, {
          id,
          type,
          owner,
          fields,
          seq,
          ...(statusLog ? { statusLog } : {}),
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
    this.objects.set(objectId, obj);
    this.save();
    return obj;
  }

  update(obj: StoredObject<T>, fields: Record<string, unknown>, date: string) {
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
