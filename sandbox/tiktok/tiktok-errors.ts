// TikTok Business API errors as the platform sends them: almost always HTTP 200 with a non-zero
// `code` in the usual envelope {code, message, request_id, data: {}}. The codes are TikTok's
// published return codes; the sandbox uses these:
//   40001 no permission on the advertiser      40002 parameter error (the message names the field)
//   40100 too many requests (QPS / QPM limit)  40104 access token missing
//   40105 access token incorrect or revoked    50000 system error, retry later
export class TikTokError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** HTTP status; TikTok answers 200 for nearly every error. */
    readonly status = 200,
  ) {
    super(message);
  }
}

export const tiktokErrors = {
  missingToken: () => new TikTokError(40104, 'Access token is null, please check it.'),
  badToken: () => new TikTokError(40105, 'Access token is incorrect or has been revoked.'),
  noPermission: (advertiserId: string) =>
    new TikTokError(
      40001,
      `No permission to operate advertiser ${advertiserId}. Please check the authorization.`,
    ),
  missingField: (field: string) =>
    new TikTokError(40002, `${field}: Missing data for required field.`),
  invalidField: (field: string, why: string) => new TikTokError(40002, `${field}: ${why}`),
  tooManyRequests: () => new TikTokError(40100, 'Too many requests. Please retry in some time.'),
  unknownPath: (p: string) => new TikTokError(40002, `Invalid request path: ${p}`, 404),
  wrongMethod: (method: string) =>
    new TikTokError(40002, `Request method ${method} is not supported by this endpoint`, 405),
  systemError: () => new TikTokError(50000, 'System error, please try again later.'),
  /**
   * A body over the sandbox's limit (tiktok-rules.ts). TikTok documents no error for it: HTTP 413,
   * as a front end sends, in the usual envelope with the parameter-error code, naming the limit.
   */
  bodyTooLarge: (e: { status: number; maxBytes: number }) =>
    new TikTokError(40002, `body: Request body larger than ${e.maxBytes} bytes.`, e.status),
  /** A gateway outage: the platform is down (HTTP 503), not just one call failing. */
  unavailable: () =>
    new TikTokError(50002, 'Service is temporarily unavailable, please try again later.', 503),
};
