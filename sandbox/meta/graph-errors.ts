// Graph API error objects as Meta sends them: HTTP status plus {"error": {message, type, code,
// error_subcode?, is_transient?, fbtrace_id}}.
import { randomBytes } from 'node:crypto';

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly type = 'OAuthException',
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  toBody() {
    return {
      error: {
        message: this.message,
        type: this.type,
        code: this.code,
        ...this.extra,
        fbtrace_id: randomBytes(9).toString('base64url'),
      },
    };
  }
}

export const graphErrors = {
  missingToken: () =>
    new GraphError(400, 104, 'An access token is required to request this resource.'),
  /**
   * An expired token (https://developers.facebook.com/docs/facebook-login/guides/access-tokens/debugging:
   * code 190, subcode 463).
   */
  expiredToken: (day: string) =>
    new GraphError(
      400,
      190,
      `Error validating access token: Session has expired on ${day}.`,
      'OAuthException',
      { error_subcode: 463 },
    ),
  badToken: () =>
    new GraphError(
      400,
      190,
      'Invalid OAuth access token - Cannot parse access token',
      'OAuthException',
      {
        error_subcode: 463,
      },
    ),
  missingParam: (name: string) =>
    new GraphError(400, 100, `(#100) The parameter ${name} is required`),
  invalidParam: (message: string) => new GraphError(400, 100, `(#100) ${message}`),
  /**
   * A body over the sandbox's limit (graph-rules.ts). Meta documents no error for it: HTTP 413, as
   * a front end sends, with a Graph error object naming the limit.
   */
  bodyTooLarge: (e: { status: number; maxBytes: number }) =>
    new GraphError(e.status, 100, `(#100) Request body is larger than ${e.maxBytes} bytes`),
  /** A fields= name the node type does not have (spec: api_specs/specs/<Node>.json fields). */
  nonexistingField: (field: string, node: string) =>
    new GraphError(
      400,
      100,
      `(#100) Tried accessing nonexisting field (${field}) on node type (${node})`,
    ),
  /** A param its endpoint does not define (spec: api_specs/specs/<Node>.json apis[].params). */
  unknownParam: (name: string) =>
    new GraphError(400, 100, `(#100) Param ${name} is not a valid parameter`),
  /** A fields= value whose braces or parentheses do not balance. */
  parseError: (value: string) =>
    new GraphError(400, 2500, `Syntax error "Expected end of string instead of "${value}"."`),
  /**
   * Insights reach back 37 months at most (error 3018, listed among the insights error codes of
   * https://developers.facebook.com/docs/marketing-api/insights/best-practices/).
   */
  rangeTooOld: () =>
    new GraphError(
      400,
      3018,
      '(#3018) The start date of the time range cannot be beyond 37 months from the current date',
    ),
  /**
   * An ad set of an app promotion campaign without its promoted object (subcode 1815430,
   * "Please select a promoted object for your ad set"; requirement documented at
   * https://developers.facebook.com/docs/marketing-api/reference/ad-promoted-object/).
   */
  promotedObjectMissing: () =>
    new GraphError(400, 100, 'Invalid parameter', 'OAuthException', {
      error_subcode: 1815430,
      is_transient: false,
      error_user_title: 'Promoted Object Missing',
      error_user_msg: 'Please select a promoted object for your ad set.',
    }),
  /**
   * A documented rule of the platform that the request breaks, as Graph words such refusals
   * (message "Invalid parameter" with a user title and message); the subcode is left out where no
   * public source gives it.
   */
  invalidWithUserMsg: (title: string, msg: string) =>
    new GraphError(400, 100, 'Invalid parameter', 'OAuthException', {
      is_transient: false,
      error_user_title: title,
      error_user_msg: msg,
    }),
  /**
   * A video in a creative without its thumbnail: subcode 1443226, "Please specify one of
   * image_hash or image_url in the video_data field of object_story_spec". Meta answers so for
   * video_data without image_hash / image_url and for asset_feed_spec videos without
   * thumbnail_hash / thumbnail_url alike (Graph v24, as quoted in
   * https://github.com/pipeboard-co/meta-ads-mcp/pull/88 and /pull/130); `where` names the asset.
   */
  videoThumbnailMissing: (where: string) =>
    new GraphError(400, 100, 'Invalid parameter', 'OAuthException', {
      error_subcode: 1443226,
      is_transient: false,
      error_user_title: 'Video Thumbnail Missing',
      error_user_msg: `Please specify one of image_hash or image_url in the video_data field of object_story_spec (${where}).`,
    }),
  /**
   * An asset customization rule whose label names no asset of the feed: subcode 2446173, "Target
   * rule label does not refer to any of the asset labels" (Graph v24, as quoted in
   * https://github.com/pipeboard-co/meta-ads-mcp/pull/94).
   */
  ruleLabelUnknown: (where: string, label: string) =>
    new GraphError(400, 100, 'Invalid parameter', 'OAuthException', {
      error_subcode: 2446173,
      is_transient: false,
      error_user_title: 'Invalid Asset Label',
      error_user_msg: `Target rule label does not refer to any of the asset labels: ${where} is "${label}".`,
    }),
  unknownPath: (p: string) =>
    new GraphError(
      400,
      100,
      `Unsupported get request. Object with ID '${p}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      'GraphMethodException',
      { error_subcode: 33 },
    ),
  unsupportedPost: (p: string) =>
    new GraphError(
      400,
      100,
      `Unsupported post request. Object with ID '${p}' does not exist.`,
      'GraphMethodException',
      {
        error_subcode: 33,
      },
    ),
  /** An ad set already holds MAX_ADS_PER_ADSET ads that are not archived or deleted. */
  adSetFull: (max: number) =>
    new GraphError(
      400,
      100,
      `The ad set has reached the maximum of ${max} ads that are not archived`,
      'OAuthException',
      {
        error_subcode: 1885183,
        is_transient: false,
        error_user_title: 'Too Many Ads in Ad Set',
        error_user_msg: `An ad set can have at most ${max} ads that are not archived. Archive or delete ads to make room.`,
      },
    ),
  unknown: () =>
    new GraphError(500, 1, 'An unknown error occurred', 'OAuthException', { is_transient: true }),
  /** Application- or user-level rate limit (code 17: user request limit reached). */
  userThrottled: () =>
    new GraphError(400, 17, 'User request limit reached', 'OAuthException', { is_transient: true }),
  /** Ad-account usage throttle, as the Business Use Case rate limits answer. */
  accountThrottled: (minutes: number) =>
    new GraphError(
      400,
      80004,
      'There have been too many calls to this ad-account. Wait a bit and try again.',
      'OAuthException',
      {
        error_subcode: 2446079,
        is_transient: true,
        error_user_msg: `Try again in ${minutes} minutes.`,
      },
    ),
  unavailable: () =>
    new GraphError(
      503,
      2,
      'An unexpected error has occurred. Please retry your request later.',
      'OAuthException',
      {
        is_transient: true,
      },
    ),
};
