import type { ColumnType, Generated, Selectable } from 'kysely';

/** One write adloop made on an ad platform: what, when, the platform's request id, the result. */
export interface PlatformWritesTable {
  id: Generated<number>;
  at: ColumnType<Date, Date | undefined, never>;
  platform: string;
  market: string;
  date: ColumnType<string, string, string>;
  /** e.g. create_ad, pause_ad, upload_image, create_campaign. */
  operation: string;
  object_kind: string;
  object_name: string | null;
  external_id: string | null;
  request_id: string | null;
  /** ok, failed, or lost (no answer: the write may or may not have happened). */
  result: 'ok' | 'failed' | 'lost';
  /** What was asked (without secrets or media bytes). */
  detail: ColumnType<Record<string, unknown>, string | undefined, string>;
  error: string | null;
  duration_ms: number;
}

/** A creative a platform's review rejected in a market: deploy stops offering it there. */
export interface CreativeRejectionsTable {
  platform: string;
  creative_hash: string;
  market: string;
  ad_id: string;
  reason: string;
  rejected_at: ColumnType<Date, Date | undefined, Date>;
}

/** A market's deploy plan for a date, and what became of it. */
export interface DeployPlansTable {
  market: string;
  date: ColumnType<string, string, string>;
  plan: ColumnType<Record<string, unknown>, string, string>;
  /** planned, awaiting-approval, approved, rejected, expired, applied, dry-run. */
  status: string;
  decided_by: string | null;
  decision_note: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type PlatformWrite = Selectable<PlatformWritesTable>;
export type CreativeRejection = Selectable<CreativeRejectionsTable>;
export type DeployPlanRow = Selectable<DeployPlansTable>;
