// OAuth access tokens of the Google Ads and YouTube clients: the refresh-token grant against the
// configured token endpoint (Google's https://oauth2.googleapis.com/token, or the sandbox's),
// through google-auth-library's OAuth2Client (the copy @googleapis/youtube carries). Neither the
// refresh token, the client secret nor an access token ever appears in an error: failures are
// described from the endpoint's status and OAuth error code only.
import { auth } from '@googleapis/youtube';
import { redact } from '../../core/redact.ts';
import { PlatformError } from '../errors.ts';

export interface OAuthConfig {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  timeoutMs: number;
}

export type GoogleOAuth2 = InstanceType<typeof auth.OAuth2>;

/** An OAuth2Client that refreshes its access token at `tokenUrl`. */
export function oauthClient(c: OAuthConfig): GoogleOAuth2 {
  const client = new auth.OAuth2({
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    endpoints: { oauth2TokenUrl: c.tokenUrl },
  });
  client.setCredentials({ refresh_token: c.refreshToken });
  // The token request gets the same timeout as every other request, and no retries of its own.
  client.transporter.defaults = {
    ...client.transporter.defaults,
    timeout: c.timeoutMs,
    retry: false,
  };
  return client;
}

interface TokenFailure {
  message?: string;
  code?: unknown;
  status?: number;
  response?: { status?: number; data?: { error?: unknown } };
}

/** A failed token refresh as a PlatformError, from the status and OAuth error code only. */
export function tokenError(err: unknown, secrets: readonly string[]): PlatformError {
  const e = (err ?? {}) as TokenFailure;
  const status = e.response?.status ?? (typeof e.status === 'number' ? e.status : null);
  const oauthCode = typeof e.response?.data?.error === 'string' ? e.response.data.error : null;
  if (status === null) {
    // No answer: the network, or the timeout.
    const code = typeof e.code === 'string' ? ` (${e.code})` : '';
    return new PlatformError(
      'google',
      'transient',
      `the OAuth token endpoint did not answer${code}`,
    );
  }
  const what = `the OAuth token endpoint refused the refresh token: HTTP ${status}${oauthCode ? ` ${redact(oauthCode, secrets)}` : ''}`;
  if (status === 429) return new PlatformError('google', 'throttled', what, null, status);
  if (status >= 500) return new PlatformError('google', 'transient', what, null, status);
  // invalid_grant (revoked or expired refresh token), invalid_client: a human must act.
  return new PlatformError('google', 'auth', what, null, status);
}

/** Access tokens, refreshed by the OAuth2Client when expired, as PlatformErrors when that fails. */
export function accessTokens(c: OAuthConfig) {
  const client = oauthClient(c);
  const secrets = [c.clientSecret, c.refreshToken];
  let current: string | null = null;
  return {
    client,
    /** A valid access token (cached until shortly before it expires). */
    async get(): Promise<string> {
      let token: string | null | undefined;
      try {
        ({ token } = await client.getAccessToken());
      } catch (err) {
        throw tokenError(err, secrets);
      }
      if (!token)
        throw new PlatformError('google', 'auth', 'the OAuth token endpoint gave no access token');
      current = token;
      return token;
    },
    /** The token `get` last gave. */
    current: () => current,
  };
}
