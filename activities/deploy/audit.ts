// The audit of platform writes: every create, status change and upload deploy makes is stored with
// when, what, the platform's request id and the result (ok, failed, or lost: sent without an
// answer, so it may or may not have happened). Rows are written in batches as deploy goes, and
// whatever is pending is written even when deploy fails.
import { Context } from '@temporalio/activity';
import type { Db } from '../../db/database.ts';
import { recordPlatformWrites, type NewPlatformWrite } from '../../db/deploy.repository.ts';
import { PlatformError } from '../../platforms/errors.ts';
import { withRequestLog } from '../../platforms/request-log.ts';
import type { DeployPlatform } from './plan.ts';

export interface WriteEntry {
  platform: DeployPlatform;
  operation: string;
  kind: string;
  name?: string | null;
  detail?: Record<string, unknown>;
}

/** How a failed write ended: lost when the platform never answered. */
export function writeOutcome(err: unknown): 'failed' | 'lost' {
  return err instanceof PlatformError &&
    err.kind === 'transient' &&
    err.httpStatus === null &&
    err.code === null
    ? 'lost'
    : 'failed';
}

export class WriteAudit {
  private pending: NewPlatformWrite[] = [];
  /** Writes recorded so far (all results). */
  count = 0;

  constructor(
    private readonly db: Db,
    private readonly where: { market: string; date: string },
    /** Rows held before they are written. */
    private readonly flushEvery = 100,
  ) {}

  /** Runs one write and records it; `idOf` names the object it created or changed. */
  write<T>(
    entry: WriteEntry,
    fn: () => Promise<T>,
    idOf: (r: T) => string | null = () => null,
  ): Promise<T> {
    return this.many([entry], fn, (r) => [{ externalId: idOf(r) }]);
  }

  /**
   * Runs one request that makes several writes (a Meta batch, a TikTok multi-ad create) and
   * records each item by what `itemsOf` says of it; when the request fails, every item is recorded
   * with that failure.
   */
  async many<T>(
    entries: WriteEntry[],
    fn: () => Promise<T>,
    itemsOf: (r: T) => Array<{ externalId: string | null; error?: string }>,
  ): Promise<T> {
    const log = { requestIds: [] as string[] };
    const started = performance.now();
    try {
      const result = await withRequestLog(log, fn);
      const items = itemsOf(result);
      for (const [i, entry] of entries.entries()) {
        const item = items[i];
        await this.add(entry, {
          result: item?.error ? 'failed' : 'ok',
          externalId: item?.externalId ?? null,
          ...(item?.error ? { error: item.error } : {}),
          requestIds: log.requestIds,
          started,
        });
      }
      return result;
    } catch (err) {
      for (const entry of entries)
        await this.add(entry, {
          result: writeOutcome(err),
          error: err instanceof Error ? err.message : String(err),
          requestIds: log.requestIds,
          started,
        });
      throw err;
    }
  }

  private async add(
    entry: WriteEntry,
    r: {
      result: 'ok' | 'failed' | 'lost';
      externalId?: string | null;
      error?: string;
      requestIds: string[];
      started: number;
    },
  ) {
    this.count++;
    this.pending.push({
      platform: entry.platform,
      market: this.where.market,
      date: this.where.date,
      operation: entry.operation,
      object_kind: entry.kind,
      object_name: entry.name ?? null,
      external_id: r.externalId ?? null,
      request_id: r.requestIds.at(-1) ?? null,
      result: r.result,
      detail: entry.detail ?? {},
      error: r.error ?? null,
      duration_ms: Math.round(performance.now() - r.started),
    });
    if (this.pending.length >= this.flushEvery) await this.flush();
  }

  async flush(): Promise<void> {
    const rows = this.pending;
    this.pending = [];
    await recordPlatformWrites(this.db, rows);
    if (rows.length > 0) {
      try {
        Context.current().heartbeat({ writes: this.count });
      } catch {
        // Not inside an activity (a script's dry run or a test): nothing to heartbeat.
      }
    }
  }
}
