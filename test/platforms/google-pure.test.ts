// The pure parts of the Google Ads client: error mapping from a GoogleAdsFailure (both shapes the
// library hands over), partial failures by operation, targeting tables, GAQL escaping, URLs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors } from 'google-ads-api';
import { COUNTRIES } from '../../core/countries.ts';
import { PlatformError } from '../../platforms/errors.ts';
import { geoTargetId, languageConstant, languageId } from '../../platforms/google/criteria.ts';
import {
  failureEntries,
  kindOfError,
  partialFailureErrors,
  toGooglePlatformError,
} from '../../platforms/google/errors.ts';
import { gaqlString, googleId, idOfResource, reviewOf } from '../../platforms/google/google-ads.ts';
import { tokenError } from '../../platforms/google/oauth.ts';
import { parseGrpcUrl } from '../../platforms/google/transport.ts';
import { nextOffset, youtubeError, youtubeTitleProblem } from '../../platforms/google/youtube.ts';

/** A failure as gRPC delivers it: encoded, then decoded (enum values become numbers). */
const overGrpc = (o: object) =>
  errors.GoogleAdsFailure.decode(
    errors.GoogleAdsFailure.encode(errors.GoogleAdsFailure.fromObject(o)).finish(),
  );

describe('Google Ads errors', () => {
  it('maps a gRPC GoogleAdsFailure by its error codes, with the request id', () => {
    const quota = toGooglePlatformError(
      overGrpc({
        errors: [
          {
            error_code: { quota_error: 2 },
            message: 'Too many requests.',
            details: { quota_error_details: { retry_delay: { seconds: 30 } } },
          },
        ],
        request_id: 'abc123',
      }),
    );
    assert.equal(quota.kind, 'throttled');
    assert.equal(quota.retryAfterMs, 30_000);
    assert.match(
      quota.message,
      /QuotaError\.RESOURCE_EXHAUSTED: Too many requests\..*request id abc123/,
    );

    const cases: Array<[object, PlatformError['kind'], RegExp]> = [
      [
        { authentication_error: 'OAUTH_TOKEN_EXPIRED' },
        'auth',
        /AuthenticationError\.OAUTH_TOKEN_EXPIRED/,
      ],
      [{ authorization_error: 'USER_PERMISSION_DENIED' }, 'auth', /AuthorizationError/],
      [{ internal_error: 'TRANSIENT_ERROR' }, 'transient', /InternalError\.TRANSIENT_ERROR/],
      [{ quota_error: 'RESOURCE_TEMPORARILY_EXHAUSTED' }, 'throttled', /RESOURCE_TEMPORARILY/],
      [{ field_error: 'REQUIRED' }, 'invalid', /FieldError\.REQUIRED/],
      [{ campaign_error: 'DUPLICATE_CAMPAIGN_NAME' }, 'invalid', /CampaignError/],
      [{ policy_finding_error: 'POLICY_FINDING' }, 'invalid', /PolicyFindingError/],
    ];
    for (const [code, kind, text] of cases) {
      const e = toGooglePlatformError(overGrpc({ errors: [{ error_code: code, message: 'm' }] }));
      assert.equal(e.kind, kind, e.message);
      assert.match(e.message, text);
      assert.equal(e.platform, 'google');
    }
  });

  it('maps a REST GoogleAdsFailure (enum names) the same way', () => {
    const failure = new errors.GoogleAdsFailure({
      errors: [
        {
          error_code: { query_error: 'INVALID_RESOURCE_NAME' } as never,
          message: "'bogus' is not a valid resource.",
        },
      ],
      request_id: 'rest-1',
    });
    const e = toGooglePlatformError(failure);
    assert.equal(e.kind, 'invalid');
    assert.match(e.message, /QueryError\.INVALID_RESOURCE_NAME: 'bogus'.*request id rest-1/);
  });

  it('maps gRPC, HTTP and network failures without a GoogleAdsFailure, keeping secrets out', () => {
    assert.equal(toGooglePlatformError({ code: 14, details: 'unavailable' }).kind, 'transient');
    assert.equal(toGooglePlatformError({ code: 4, details: 'deadline' }).kind, 'transient');
    assert.equal(toGooglePlatformError({ code: 16, details: 'no' }).kind, 'auth');
    assert.equal(toGooglePlatformError({ code: 8, details: 'slow down' }).kind, 'throttled');
    const http = toGooglePlatformError({ message: 'failed', response: { status: 503 } });
    assert.equal(http.kind, 'transient');
    const net = toGooglePlatformError(new Error('connect ECONNREFUSED, token SECRET-AT'), [
      'SECRET-AT',
    ]);
    assert.equal(net.kind, 'transient');
    assert.doesNotMatch(net.message, /SECRET-AT/);
  });

  it('reads error codes, operations, fields and kinds', () => {
    const [entry] = failureEntries(
      overGrpc({
        errors: [
          {
            error_code: { image_error: 'ASPECT_RATIO_NOT_ALLOWED' },
            message: 'bad ratio',
            location: {
              field_path_elements: [
                { field_name: 'operations', index: 2 },
                { field_name: 'create' },
                { field_name: 'image_asset' },
              ],
            },
          },
        ],
      }),
    );
    assert.deepEqual(entry, {
      category: 'ImageError',
      code: 'ASPECT_RATIO_NOT_ALLOWED',
      message: 'bad ratio',
      operation: 2,
      field: 'operations[2].create.image_asset',
      retryDelayMs: null,
    });
    assert.equal(kindOfError('QuotaError', 'ACCESS_PROHIBITED'), 'auth');
    assert.equal(kindOfError('DatabaseError', 'CONCURRENT_MODIFICATION'), 'transient');
  });

  it('splits a partial failure into one error per failed operation', () => {
    const failure = overGrpc({
      errors: [1, 3].map((i) => ({
        error_code: { image_error: 'INVALID_IMAGE' },
        message: `image ${i}`,
        location: { field_path_elements: [{ field_name: 'operations', index: i }] },
      })),
      request_id: 'pf-1',
    });
    const byOp = partialFailureErrors(failure, 4);
    assert.deepEqual([...byOp.keys()], [1, 3]);
    assert.equal(byOp.get(1)!.kind, 'invalid');
    assert.match(byOp.get(3)!.message, /ImageError\.INVALID_IMAGE: image 3.*request id pf-1/);
    assert.equal(partialFailureErrors(null, 4).size, 0);
  });
});

describe('Google targeting tables', () => {
  it('has a geo target (2000 + ISO numeric) and a language for every catalog market', () => {
    assert.equal(geoTargetId('US'), 2840);
    assert.equal(geoTargetId('GB'), 2826);
    assert.equal(geoTargetId('DE'), 2276);
    assert.equal(geoTargetId('BR'), 2076);
    assert.equal(geoTargetId('JP'), 2392);
    assert.equal(geoTargetId('EG'), 2818);
    for (const c of COUNTRIES) {
      assert.ok(geoTargetId(c.code) > 2000, c.code);
      assert.ok(languageId(c.language) >= 1000, `${c.code} ${c.language}`);
    }
    assert.equal(new Set(COUNTRIES.map((c) => geoTargetId(c.code))).size, COUNTRIES.length);
  });

  it("uses Google's codes and refuses unknown ones", () => {
    assert.equal(languageConstant('en'), 'languageConstants/1000');
    assert.equal(languageId('ja'), 1005);
    assert.equal(languageId('he'), 1027, "Google's iw");
    assert.equal(languageId('nb'), 1013, "Google's no");
    assert.throws(() => languageId('xx'), /no Google language constant for language "xx"/);
    assert.throws(() => geoTargetId('ZZ'), /no Google geo target for country "ZZ"/);
  });
});

describe('GAQL and ids', () => {
  it('escapes quotes and backslashes in string literals', () => {
    assert.equal(gaqlString('Artist\'s "Best"'), "'Artist\\'s \"Best\"'");
    assert.equal(gaqlString('a\\b'), "'a\\\\b'");
    assert.equal(gaqlString("x' OR '1'='1"), "'x\\' OR \\'1\\'=\\'1'");
  });

  it('takes ids only as digits, and from resource names', () => {
    assert.equal(googleId('123'), '123');
    assert.throws(() => googleId('1 OR 1=1'), PlatformError);
    assert.equal(idOfResource('customers/1/adGroupAds/22~333'), '333');
    assert.equal(idOfResource('customers/1/assets/9'), '9');
  });

  it('reads policy review states', () => {
    assert.equal(reviewOf('DISAPPROVED', 'REVIEWED'), 'rejected');
    assert.equal(reviewOf('APPROVED', 'REVIEWED'), 'approved');
    assert.equal(reviewOf('APPROVED_LIMITED', 'REVIEWED'), 'approved');
    assert.equal(reviewOf('UNKNOWN', 'REVIEW_IN_PROGRESS'), 'pending');
  });
});

describe('Google endpoints and tokens', () => {
  it('allows plaintext gRPC only on this machine', () => {
    assert.deepEqual(parseGrpcUrl('https://googleads.googleapis.com'), {
      host: 'googleads.googleapis.com',
      port: 443,
      secure: true,
    });
    assert.deepEqual(parseGrpcUrl('http://127.0.0.1:4015'), {
      host: '127.0.0.1',
      port: 4015,
      secure: false,
    });
    assert.equal(parseGrpcUrl('http://[::1]:9').host, '[::1]');
    assert.equal(parseGrpcUrl('http://localhost:9').secure, false);
    assert.throws(
      () => parseGrpcUrl('http://10.0.0.2:4015'),
      /plaintext gRPC.*refused for 10\.0\.0\.2/,
    );
    assert.throws(() => parseGrpcUrl('ftp://x'), /https:\/\/ or http:\/\//);
  });

  it('describes token failures without secrets', () => {
    const e = tokenError({ response: { status: 400, data: { error: 'invalid_grant' } } }, ['RT']);
    assert.equal(e.kind, 'auth');
    assert.match(e.message, /HTTP 400 invalid_grant/);
    assert.equal(tokenError({ code: 'ECONNREFUSED' }, []).kind, 'transient');
    assert.equal(tokenError({ response: { status: 503 } }, []).kind, 'transient');
  });
});

describe('YouTube helpers', () => {
  it('checks titles', () => {
    assert.equal(youtubeTitleProblem('Artist – new single'), null);
    assert.match(youtubeTitleProblem('a'.repeat(101))!, /at most 100/);
    assert.match(youtubeTitleProblem('a <b>')!, /< or >/);
  });

  it('maps API errors and reads ranges', () => {
    const err = (status: number, reason: string) => ({
      response: { status, data: { error: { message: 'm', errors: [{ reason }] } } },
    });
    assert.equal(youtubeError(err(403, 'quotaExceeded')).kind, 'throttled');
    assert.equal(youtubeError(err(403, 'forbidden')).kind, 'auth');
    assert.equal(youtubeError(err(401, 'authError')).kind, 'auth');
    assert.equal(youtubeError(err(400, 'invalidTitle')).kind, 'invalid');
    assert.equal(youtubeError(err(503, 'backendError')).kind, 'transient');
    assert.equal(youtubeError(new Error('socket hang up')).kind, 'transient');
    assert.equal(nextOffset('bytes=0-262143'), 262144);
    assert.equal(nextOffset(null), 0);
  });
});
