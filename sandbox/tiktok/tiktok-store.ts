// The sandbox TikTok advertiser's objects: campaigns, ad groups, ads, images and videos, with the
// status history of campaigns, ad groups and ads and the dated history of each ad group's budget
// (see ../object-store.ts).
import { ObjectStore, type StoredObject } from '../object-store.ts';

export type TikTokObjectType = 'campaign' | 'adgroup' | 'ad' | 'image' | 'video';
export type TikTokObject = StoredObject<TikTokObjectType>;

export class TikTokStore extends ObjectStore<TikTokObjectType> {
  constructor(idBase: number, file: string | null = null) {
    super({
      // TikTok ids are 19-digit decimal strings (17…); derived from the world so two worlds never
      // share ids and the same calls always give the same ids.
      newId: (seq) =>
        `17${String(idBase % 100_000_000).padStart(8, '0')}${String(seq).padStart(9, '0')}`,
      statusField: 'operation_status',
      defaultStatus: 'ENABLE',
      statusTypes: ['campaign', 'adgroup', 'ad'],
      // A past day spends the budget its ad group had that day.
      datedFields: { adgroup: ['budget'] },
      file,
    });
  }
}
