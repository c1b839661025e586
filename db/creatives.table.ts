import type { ColumnType, Selectable } from 'kysely';

/** A template version the renderer registered (its source hashed, so a change is a new version). */
export interface TemplatesTable {
  id: string;
  version: number;
  theme: string;
  aspect_ratio: string;
  source_hash: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

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
  /** Whether every asset passed QA; null for creatives rendered before QA existed. */
  qa_passed: ColumnType<boolean | null, boolean | null | undefined, boolean | null>;
  /** Platform -> whether the creative may be deployed there. */
  qa_platforms: ColumnType<
    Record<string, boolean> | null,
    string | null | undefined,
    string | null
  >;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** One rendered file of a creative (aspect ratio x static/motion) and its QA verdict. */
export interface CreativeAssetsTable {
  creative_hash: string;
  ratio: string;
  kind: 'static' | 'motion';
  format: string;
  storage_key: string;
  uri: string;
  width: number;
  height: number;
  bytes: number;
  duration_seconds: number | null;
  qa_passed: boolean;
  qa_platforms: ColumnType<Record<string, boolean>, string, string>;
  /** `[{check, platform, slot?, message}]`: why QA failed, shown to people. */
  qa_findings: ColumnType<QaFindingRow[], string, string>;
  render_ms: number;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** The creatives a market's run rendered on a date, in rank order. */
export interface RunCreativesTable {
  market: string;
  date: ColumnType<string, string, string>;
  position: number;
  creative_hash: string;
  /** False when QA kept it from every platform. */
  deployable: boolean;
}

export interface QaFindingRow {
  check: string;
  platform: string | null;
  slot?: string;
  message: string;
}

/** An object adloop created on an ad platform (campaign, budget, ad set, creative, ad). */
export interface PlatformObjectsTable {
  platform: string;
  kind: 'campaign' | 'adset' | 'budget' | 'image' | 'video' | 'creative' | 'ad';
  name: string;
  external_id: string;
  market: string;
  creative_hash: string | null;
  status: string | null;
  /** approved, pending or rejected, as the platform's review last said. */
  review_status: ColumnType<string | null, string | null | undefined, string | null>;
  review_reason: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type Creative = Selectable<CreativesTable>;
export type CreativeAsset = Selectable<CreativeAssetsTable>;
export type PlatformObject = Selectable<PlatformObjectsTable>;
