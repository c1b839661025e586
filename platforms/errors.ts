// One error type for every ad platform and MMP, classified the way the loop must react:
//   auth      - token or permission problem: retrying will not help, a human must act;
//   invalid   - the request itself is wrong: retrying will not help;
//   throttled - the platform asked us to slow down: retry later;
//   transient - outage, 5xx, network: retry.
// Messages never include URLs or tokens, so they are safe to put in workflow histories and logs.

export type PlatformErrorKind = 'auth' | 'invalid' | 'throttled' | 'transient';

export class PlatformError extends Error {
  override name = 'PlatformError';
  constructor(
    readonly platform: string,
    readonly kind: PlatformErrorKind,
    message: string,
    readonly code: number | null = null,
    readonly httpStatus: number | null = null,
    /** When the platform said how long until access returns (Meta's usage headers), in ms. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(`${platform} ${kind} error${code !== null ? ` (code ${code})` : ''}: ${message}`);
  }

  get retryable(): boolean {
    return this.kind === 'throttled' || this.kind === 'transient';
  }
}

/** Removes anything that looks like a credential from a string. */
export function redact(text: string): string {
  return text
    .replace(/(access_token=)[^&\s"]+/gi, '$1[redacted]')
    .replace(/(Bearer\s+)[^\s"]+/gi, '$1[redacted]');
}
