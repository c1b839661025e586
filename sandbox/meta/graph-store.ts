// The sandbox ad account's state: campaigns, ad sets, images, creatives and ads, with every ad's
// status history so delivery can be replayed for any past day. Optionally persisted to a JSON file
// (written atomically) so a restarted sandbox still knows what adloop created.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type ObjectType = 'campaign' | 'adset' | 'adcreative' | 'ad' | 'adimage' | 'advideo';

export interface GraphObject {
  id: string;
  type: ObjectType;
  /** Account id without the act_ prefix. */
  accountId: string;
  fields: Record<string, unknown>;
  /** Creation order, for stable listing. */
  seq: number;
  /** For ads: status per sandbox date, in the order set. */
  statusLog?: Array<{ date: string; status: string }>;
}

interface StateFile {
  version: 1;
  nextSeq: number;
  objects: GraphObject[];
}

export class GraphStore {
  private readonly objects = new Map<string, GraphObject>();
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

  private newId(): string {
    // Meta ids are large decimal strings; keep that shape.
    return String(120_000_000_000_000 + (this.idBase % 1_000_000) * 1_000_000 + this.nextSeq);
  }

  create(type: ObjectType, accountId: string, fields: Record<string, unknown>, date: string) {
    const id = type === 'adimage' ? `${accountId}:${String(fields.hash)}` : this.newId();
    const obj: GraphObject = {
      id,
      type,
      accountId,
      fields: { ...fields, id },
      seq: this.nextSeq++,
    };
    if (type === 'ad')
      obj.statusLog = [
        { date, status: typeof fields.status === 'string' ? fields.status : 'ACTIVE' },
      ];
    this.objects.set(id, obj);
    this.save();
    return obj;
  }

  update(obj: GraphObject, fields: Record<string, unknown>, date: string) {
    Object.assign(obj.fields, fields, { updated_time: new Date().toISOString() });
    if (obj.statusLog && typeof fields.status === 'string') {
      obj.statusLog.push({ date, status: fields.status });
    }
    this.save();
  }

  get(id: string): GraphObject | undefined {
    return this.objects.get(id);
  }

  list(type: ObjectType, accountId: string, where: (o: GraphObject) => boolean = () => true) {
    return [...this.objects.values()]
      .filter((o) => o.type === type && o.accountId === accountId && where(o))
      .sort((a, b) => a.seq - b.seq);
  }

  /** The ad's status at the end of `date` (null if it did not exist yet). */
  statusOn(ad: GraphObject, date: string): string | null {
    let status: string | null = null;
    for (const entry of ad.statusLog ?? []) if (entry.date <= date) status = entry.status;
    return status;
  }

  static imageHash(bytes: Buffer): string {
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
