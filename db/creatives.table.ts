import type { ColumnType, Selectable } from 'kysely';

/** A rendered creative, addressed by the hash of its template version and inputs. */
export interface CreativesTable {
  hash: string;
  market: string;
  artist_id: string;
  template_id: string;
  template_version: number;
  language: string;
  aspect_ratio: string;
  path: string;
  /** Where the asset lives: file:// locally, s3:// when stored remotely. */
  asset_uri: ColumnType<string | null, string | null | undefined, string | null>;
  bytes: number;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** An object adloop created on an ad platform (campaign, ad set, creative, ad). */
export interface PlatformObjectsTable {
  platform: string;
  kind: 'campaign' | 'adset' | 'image' | 'creative' | 'ad';
  name: string;
  external_id: string;
  market: string;
  creative_hash: string | null;
  status: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type Creative = Selectable<CreativesTable>;
export type PlatformObject = Selectable<PlatformObjectsTable>;
