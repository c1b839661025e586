// The audit of platform writes: every create, status change and upload deploy makes is stored with
// when, what, the platform's request id and the result (ok, failed, or lost: sent without an
// answer, so it may or may not have happened). A request's rows are written as soon as it is
// answered (or fails), one insert per request.
import { Context } from '@temporalio/activity';
import { count } from '../counters.ts';
import type { Db } from '../../db/database.ts';
import { recordPlatformWrites, type NewPlatformWrite } from '../../db/deploy.repository.ts';
import { PlatformError } from '../../platforms/errors.ts';
import { withRequestLog } from '../../platforms/request-log.ts';
import type { DeployPlatform } from '../../decisions/deploy/plan.ts';

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

/**
 * Throws when the activity was cancelled (say, it timed out and another attempt took over), so
 * a superseded attempt never writes next to its successor. Outside an activity: nothing to check.
 */
function stopIfCancelled() {
  let signal: AbortSignal;
  try {
    signal = Context.current().cancellationSignal;
  } catch {
    return;
  }
  signal.throwIfAborted();
}

export class WriteAudit {
  /** Writes recorded so far (all results). */
  count = 0;
  /** Of them, writes sent without an answer: they may have happened, or may still (late). */
  lost = 0;

  constructor(
    private readonly db: Db,
    private readonly where: { market: string; date: string },
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
   * with that failure. The request's rows are stored as soon as it is answered, in one insert.
   */
  async many<T>(
    entries: WriteEntry[],
    fn: () => Promise<T>,
    itemsOf: (r: T) => Array<{ externalId: string | null; error?: string; lost?: boolean }>,
  ): Promise<T> {
    stopIfCancelled();
    const log = { requestIds: [] as string[] };
    const started = performance.now();
    let result: T;
    try {
      result = await withRequestLog(log, fn);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      const outcome = writeOutcome(err);
      await this.record(
        entries.map((entry) => this.row(entry, outcome, null, error, log, started)),
      );
      throw err;
    }
    const items = itemsOf(result);
    await this.record(
      entries.map((entry, i) => {
        const item = items[i];
        return this.row(
          entry,
          item?.lost ? 'lost' : item?.error ? 'failed' : 'ok',
          item?.externalId ?? null,
          item?.error ?? null,
          log,
          started,
        );
      }),
    );
    return result;
  }

  /**
   * Records a decision that changes what a platform gets without being a write of its own (a video
   * ad that runs as its still: `fallback_to_still`), beside the writes, with `reason` in its
   * detail. Not counted among the writes.
   */
  async decision(entry: WriteEntry & { reason: string }): Promise<void> {
    stopIfCancelled();
    const row = this.row(
      { ...entry, detail: { ...entry.detail, reason: entry.reason } },
      'ok',
      null,
      null,
      { requestIds: [] },
      performance.now(),
    );
    await recordPlatformWrites(this.db, [row]);
  }

  private row(
    entry: WriteEntry,
    result: 'ok' | 'failed' | 'lost',
    externalId: string | null,
    error: string | null,
    log: { requestIds: string[] },
    started: number,
  ): NewPlatformWrite {
    return {
      platform: entry.platform,
      market: this.where.market,
      date: this.where.date,
      operation: entry.operation,
      object_kind: entry.kind,
      object_name: entry.name ?? null,
      external_id: externalId,
      request_id: log.requestIds.at(-1) ?? null,
      result,
      detail: entry.detail ?? {},
      error,
      duration_ms: Math.round(performance.now() - started),
    };
  }

  private async record(rows: NewPlatformWrite[]) {
    this.count += rows.length;
    this.lost += rows.filter((r) => r.result === 'lost').length;
    for (const r of rows)
      count('adloop_platform_writes', 1, { platform: r.platform, result: r.result });
    await recordPlatformWrites(this.db, rows);
  }
}
