// The sandbox TikTok advertiser's state: campaigns, ad groups, ads, images and videos, with each
// campaign's, ad group's and ad's status history per sandbox date so delivery can be replayed for
// any past day. Optionally persisted to a JSON file (written atomically) so a restarted sandbox
// still knows what adloop created.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type TikTokObjectType = 'campaign' | 'adgroup' | 'ad' | 'image' | 'video';

export interface TikTokObject {
  id: string;
  type: TikTokObjectType;
  advertiserId: string;
  /** The object as ad/get, adgroup/get… return it (TikTok field names). */
  fields: Record<string, unknown>;
  /** Creation order, for stable listing. */
  seq: number;
  /** For campaigns, ad groups and ads: operation_status per sandbox date, in the order set. */
  statusLog?: Array<{ date: string; status: string }>;
}

interface StateFile {
  version: 1;
  nextSeq: number;
  objects: TikTokObject[];
}

export class TikTokStore {
  private readonly objects = new Map<string, TikTokObject>();
  private nextSeq = 1;

  constructor(
    private readonly idBase: number,
    private readonly file: string | null = null,
  ) {
    if (file && fs.existsSync(file)) {
      const state = JSON.parse(fs.readFileSync(file, 'utf8')) as StateFile;
      for (const o of state.objects) this.objects.set(o.id, o);
      this.nextSeq = state.nextSeq;
    }
  }

  /**
   * TikTok ids are 19-digit decimal strings (1780…); keep that shape, derived from the world so two
   * worlds never share ids and the same calls always give the same ids.
   */
  private newId(): string {
    const base = String(this.idBase % 100_000_000).padStart(8, '0');
    return `17${base}${String(this.nextSeq).padStart(9, '0')}`;
  }

  /** Creates an object; `id` is given for media (derived from their bytes), generated otherwise. */
  create(
    type: TikTokObjectType,
    advertiserId: string,
    fields: Record<string, unknown>,
    date: string,
    id: string = this.newId(),
  ): TikTokObject {
    const obj: TikTokObject = {
      id,
      type,
      advertiserId,
      fields: { ...fields },
      seq: this.nextSeq++,
    };
    if (type === 'campaign' || type === 'adgroup' || type === 'ad') {
      const status =
        typeof fields.operation_status === 'string' ? fields.operation_status : 'ENABLE';
      obj.statusLog = [{ date, status }];
    }
    this.objects.set(id, obj);
    this.save();
    return obj;
  }

  update(obj: TikTokObject, fields: Record<string, unknown>, date: string) {
    Object.assign(obj.fields, fields);
    if (obj.statusLog && typeof fields.operation_status === 'string') {
      obj.statusLog.push({ date, status: fields.operation_status });
    }
    this.save();
  }

  get(id: string, type?: TikTokObjectType): TikTokObject | undefined {
    const obj = this.objects.get(id);
    return type && obj?.type !== type ? undefined : obj;
  }

  list(
    type: TikTokObjectType,
    advertiserId: string,
    where: (o: TikTokObject) => boolean = () => true,
  ): TikTokObject[] {
    return [...this.objects.values()]
      .filter((o) => o.type === type && o.advertiserId === advertiserId && where(o))
      .sort((a, b) => a.seq - b.seq);
  }

  /** The object's operation_status at the end of `date` (null if it did not exist yet). */
  statusOn(obj: TikTokObject, date: string): string | null {
    let status: string | null = null;
    for (const entry of obj.statusLog ?? []) if (entry.date <= date) status = entry.status;
    return status;
  }

  static md5(bytes: Buffer): string {
    return createHash('md5').update(bytes).digest('hex');
  }

  private save() {
    if (!this.file) return;
    const state: StateFile = {
      version: 1,
      nextSeq: this.nextSeq,
      objects: [...this.objects.values()],
    };
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(state));
    fs.renameSync(tmp, this.file);
  }
}
