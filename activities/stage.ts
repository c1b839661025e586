// Records each stage attempt in the audit log (stage_events) around the activity's own work. The
// run id is the calling workflow's id, taken from the activity context, so no workflow has to pass
// bookkeeping arguments.
import { FAILURE } from '../core/failures.ts';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AccountsError } from '../core/accounts.ts';
import { CatalogError } from '../core/catalog.ts';
import { redact } from '../core/redact.ts';
import type { Stage } from '../core/types.ts';
import type { Db } from '../db/database.ts';
import { databaseUnavailable } from '../db/outage.ts';
import { recordStageEvent } from '../db/runs.repository.ts';
import { PlatformError } from '../platforms/errors.ts';
import { CreativeInputError } from '../render/compose.ts';
import { TemplateError } from '../render/template.ts';
import { count } from './counters.ts';
import { withCancellation } from '../core/cancellation.ts';

export function currentRun(): { runId: string; attempt: number } {
  const info = Context.current().info;
  const runId = info.workflowExecution?.workflowId;
  if (!runId) throw new Error(`activity ${info.activityType} must be called from a workflow`);
  return { runId, attempt: info.attempt };
}

/** Secrets out of an error and its causes, in place: their messages and stacks go into histories. */
function redactError(err: unknown, depth = 0): void {
  if (!(err instanceof Error) || depth > 5) return;
  err.message = redact(err.message);
  if (err.stack) err.stack = redact(err.stack);
  redactError(err.cause, depth + 1);
}

/**
 * Converts errors that retrying cannot fix into non-retryable Temporal failures with an ERR_ type;
 * everything else is rethrown as is and retried by the activity's retry policy. Either way with
 * any secret in a URL, an access_token or a bearer token taken out of messages and stacks: they
 * are stored in the workflow's history.
 */
export function toFailure(err: unknown): unknown {
  redactError(err);
  if (err instanceof TemplateError || err instanceof CreativeInputError) {
    // A broken template or an unreadable image renders no better on retry.
    return ApplicationFailure.create({
      type: err instanceof TemplateError ? FAILURE.template : FAILURE.creativeInput,
      message: err.message,
      nonRetryable: true,
    });
  }
  if (err instanceof AccountsError) {
    // The accounts file says something the platforms cannot take: a person must fix it.
    return ApplicationFailure.create({
      type: FAILURE.accounts,
      message: err.message,
      nonRetryable: true,
    });
  }
  if (err instanceof CatalogError) {
    // A catalog that cannot be read will not read better on retry: a person must fix it.
    return ApplicationFailure.create({
      type: FAILURE.catalog,
      message: err.message,
      nonRetryable: true,
    });
  }
  if (
    err instanceof PlatformError &&
    err.retryAfterMs !== null &&
    err.retryAfterMs > QUOTA_OUTLASTS_DAY_MS
  ) {
    // Access returns only after the day's run could wait (a daily quota spent): give the platform
    // up for today, as a platform down all day, instead of an activity asleep for hours.
    const hours = (err.retryAfterMs / 3_600_000).toFixed(1);
    return ApplicationFailure.create({
      type: FAILURE.platformQuota,
      message: `${err.message}; access returns in ${hours} h, so ${err.platform} is not retried today`,
      details: [{ platform: err.platform }],
      nonRetryable: true,
    });
  }
  if (err instanceof PlatformError && err.retryAfterMs !== null) {
    // The platform said when access returns: retry then, not on the policy's schedule.
    return ApplicationFailure.create({
      type: FAILURE.platformThrottled,
      message: err.message,
      nextRetryDelay: err.retryAfterMs,
    });
  }
  if (err instanceof PlatformError && err.kind === 'auth') {
    return ApplicationFailure.create({
      type: FAILURE.platformAuth,
      message: authMessage(err),
      nonRetryable: true,
    });
  }
  if (err instanceof PlatformError && !err.retryable) {
    return ApplicationFailure.create({
      type: FAILURE.platformRequest,
      message: err.message,
      nonRetryable: true,
    });
  }
  if (databaseUnavailable(err)) {
    return ApplicationFailure.create({
      type: FAILURE.databaseUnavailable,
      message: err instanceof Error ? err.message : String(err),
      cause: err instanceof Error ? err : undefined,
    });
  }
  if (err instanceof PlatformError) {
    // Retried by the policy; once retries run out, the workflow knows which platform was down
    // (a deploy to several then goes on with the others).
    return ApplicationFailure.create({
      type: FAILURE.platformTransient,
      message: err.message,
      details: [{ platform: err.platform }],
      cause: err,
    });
  }
  return err;
}

/**
 * A platform's "retry after" longer than this is a quota spent for the day: the activity is not
 * retried (a market's whole run takes minutes; Meta's throttling returns within about an hour).
 */
export const QUOTA_OUTLASTS_DAY_MS = 2 * 3_600_000;

/** The credential each platform's client authenticates with: what an operator rotates. */
const CREDENTIAL: Readonly<Record<string, string>> = {
  meta: 'META_ACCESS_TOKEN',
  tiktok: 'TIKTOK_ACCESS_TOKEN',
  google: 'GOOGLE_ADS_REFRESH_TOKEN (or GOOGLE_ADS_DEVELOPER_TOKEN)',
  adjust: 'ADJUST_API_TOKEN',
  branch: 'BRANCH_KEY and BRANCH_SECRET',
};

/**
 * An auth failure says what to do about it: an expired or revoked token fails every day until a
 * person rotates it, so the run's degraded reason (and the Temporal UI) must say so plainly.
 */
export function authMessage(err: PlatformError): string {
  const variable = CREDENTIAL[err.platform] ?? 'its credentials';
  return `${err.message}. The ${err.platform} token is expired, revoked or lacks a permission: rotate ${variable} (docs/deploy.md, "Rotating a token"), restart the loop worker, and check with \`adloop check\``;
}

/** How often a stage activity heartbeats; the workflow gives stages a 15–30 s heartbeat timeout. */
export const HEARTBEAT_MS = 3000;

/** Sets what a stage's heartbeats carry (shown in the Temporal UI as its progress). */
export type ReportProgress = (details: () => unknown) => void;

/**
 * Runs one attempt of a stage: records it in the audit log and heartbeats every few seconds while
 * it works, whatever it waits on, so a worker that dies mid-stage (SIGKILL, lost machine) is
 * noticed within the heartbeat timeout and the stage resumes on another worker, instead of
 * waiting out the whole start-to-close timeout. Liveness only: it does not depend on progress.
 */
export async function withStage<T>(
  db: Db,
  stage: Stage,
  work: (progress: ReportProgress) => Promise<T>,
  summarize: (result: T) => Record<string, unknown> = () => ({}),
): Promise<T> {
  const { runId, attempt } = currentRun();
  const ctx = Context.current();
  let details: (() => unknown) | null = null;
  const beat = setInterval(() => {
    try {
      ctx.heartbeat(details?.());
    } catch {
      ctx.heartbeat(); // a progress report that fails must not take the worker down
    }
  }, HEARTBEAT_MS);
  try {
    await recordStageEvent(db, { runId, stage, event: 'started', attempt }).catch(
      (err: unknown) => {
        throw toFailure(err); // the database down already: said as such
      },
    );
    return await attemptStage(
      db,
      { runId, stage, attempt },
      // Every wait of the platform clients ends when this attempt is cancelled (core/cancellation.ts).
      () =>
        withCancellation(ctx.cancellationSignal, () =>
          work((d) => {
            details = d;
          }),
        ),
      summarize,
    );
  } finally {
    clearInterval(beat);
  }
}

async function attemptStage<T>(
  db: Db,
  { runId, stage, attempt }: { runId: string; stage: Stage; attempt: number },
  work: () => Promise<T>,
  summarize: (result: T) => Record<string, unknown>,
): Promise<T> {
  try {
    const result = await work();
    await recordStageEvent(db, {
      runId,
      stage,
      event: 'completed',
      attempt,
      detail: summarize(result),
    });
    return result;
  } catch (err) {
    if (err instanceof PlatformError)
      count('adloop_platform_errors', 1, { platform: err.platform, kind: err.kind, stage });
    // toFailure redacts the error in place, so the audit event records what the history gets.
    const failure = toFailure(err);
    const message = err instanceof Error ? err.message : redact(String(err));
    await recordStageEvent(db, {
      runId,
      stage,
      event: 'failed',
      attempt,
      detail: { error: message },
    }).catch(
      () => undefined, // the original error matters more than a failed audit write
    );
    throw failure;
  }
}
