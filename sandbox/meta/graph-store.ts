// The sandbox Meta ad account's objects: campaigns, ad sets, images, videos, creatives and ads,
// with each ad's status history and each ad set's dated daily budget (see ../object-store.ts).
import { ObjectStore, type StoredObject } from '../object-store.ts';

export type ObjectType =
  'campaign' | 'adset' | 'adcreative' | 'ad' | 'adimage' | 'advideo' | 'adreportrun';
export type GraphObject = StoredObject<ObjectType>;

export class GraphStore extends ObjectStore<ObjectType> {
  constructor(idBase: number, file: string | null = null) {
    super({
      // Meta ids are large decimal strings; keep that shape, distinct per world.
      newId: (seq) => String(120_000_000_000_000 + (idBase % 1_000_000) * 1_000_000 + seq),
      statusField: 'status',
      defaultStatus: 'ACTIVE',
      statusTypes: ['ad'],
      // A past day spends the budget its ad set had that day.
      datedFields: { adset: ['daily_budget'] },
      file,
    });
  }

  /** Objects carry their id among their fields, as the Graph API returns them. */
  override create(
    type: ObjectType,
    owner: string,
    fields: Record<string, unknown>,
    date: string,
  ): GraphObject {
    // An image's id is the account and the hash of its bytes: uploading it again finds it.
    const id = type === 'adimage' ? `${owner}:${String(fields.hash)}` : undefined;
    const obj = super.create(type, owner, fields, date, id);
    obj.fields.id = obj.id;
    return obj;
  }

  override update(obj: GraphObject, fields: Record<string, unknown>, date: string) {
    super.update(obj, { ...fields, updated_time: new Date().toISOString() }, date);
  }

  static imageHash(bytes: Buffer): string {
    return ObjectStore.md5(bytes);
  }
}
