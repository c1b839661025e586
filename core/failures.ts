// Every failure type adloop's activities raise (Temporal's ApplicationFailure `type`), defined
// once, as workflows/messages.ts defines the messages: activities create failures with these,
// workflows and tests match them by these, never by a literal. The values are what committed
// workflow histories hold, so they never change.
export const FAILURE = {
  /** A template cannot render (non-retryable): fix the template. */
  template: 'ERR_TEMPLATE',
  /** A creative's input (an image, a text) cannot be used (non-retryable). */
  creativeInput: 'ERR_CREATIVE_INPUT',
  /** The accounts file says what the platforms cannot take (non-retryable). */
  accounts: 'ERR_ACCOUNTS',
  /** The catalog cannot be read (non-retryable). */
  catalog: 'ERR_CATALOG',
  /** The platform said when access returns: retried then. */
  platformThrottled: 'ERR_PLATFORM_THROTTLED',
  /**
   * The platform's quota is spent for longer than a day's run can wait (Google's daily operations
   * of a developer token's access level): not retried today; its details name the platform, and a
   * deploy to several goes on with the others.
   */
  platformQuota: 'ERR_PLATFORM_QUOTA',
  /** The platform refused the credential: a person must rotate it (non-retryable). */
  platformAuth: 'ERR_PLATFORM_AUTH',
  /** The platform refused the request itself (non-retryable). */
  platformRequest: 'ERR_PLATFORM_REQUEST',
  /**
   * A transient platform failure (5xx, timeout, lost answer), retried by the activity's retry
   * policy; its details name the platform. The type is the error class's name, as Temporal named
   * such failures before they carried details.
   */
  platformTransient: 'PlatformError',
  /**
   * The database could not be reached (down, restarting): retried, and once the retries are spent
   * the workflow waits for it before it gives a stage up.
   */
  databaseUnavailable: 'ERR_DATABASE_UNAVAILABLE',
  /** DEPLOY_* settings or the accounts leave a market nothing to deploy to (non-retryable). */
  deployConfig: 'ERR_DEPLOY_CONFIG',
  /** A write would take spend past a configured cap (non-retryable). */
  spendCap: 'ERR_SPEND_CAP',
  /** The approved deploy plan no longer matches what would be written (non-retryable). */
  planChanged: 'ERR_PLAN_CHANGED',
  /** A report request names bad input (non-retryable). */
  reportInput: 'ERR_REPORT_INPUT',
  /** A report needs an exchange rate the FX table lacks (non-retryable). */
  reportFx: 'ERR_REPORT_FX',
  /** A report would exceed the payload limit (non-retryable). */
  reportTooLarge: 'ERR_REPORT_TOO_LARGE',
  /** A backfill names a bad range, source or market (non-retryable). */
  backfillInput: 'ERR_BACKFILL_INPUT',
} as const;

export type FailureType = (typeof FAILURE)[keyof typeof FAILURE];
