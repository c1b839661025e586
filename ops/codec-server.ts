// The codec server the Temporal UI (and `temporal --codec-endpoint`) calls to show encrypted
// payloads decoded: POST /decode and /encode with {"payloads": [...]} in proto3 JSON (metadata
// values and data base64). It holds the key, so every request passes four doors, in this order:
//
// 1. Host: only the names it is reached by (loopback names with its port, plus configured ones),
//    so a page that rebinds its own DNS name to this address cannot read it;
// 2. Origin: a browser request only from the configured Temporal UI origins;
// 3. who is asking: a bearer token (one of `tokens`, for `temporal --codec-auth` and scripts) or
//    an OpenID Connect access token the UI passes for its signed-in user (the UI's
//    `codec.passAccessToken`), checked against the identity provider's keys. Without either
//    configured it serves loopback only, where the dev server's UI (which cannot send
//    credentials) calls it; it refuses to start on any other interface;
// 4. size: bodies over `maxBodyBytes` are refused, and a request that trickles is timed out.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { bearerToken, isLoopbackHost, loopbackHostHeaders, tokenMatches } from '../core/access.ts';
import type { Config } from '../core/config.ts';
import { BodyTooLarge, readBody } from '../core/http-body.ts';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

/**
 * Largest request body: Temporal refuses payloads over 2 MB by default (the server's
 * `limit.blobSize.error`), and the UI decodes a page of them at a time, base64 adding a third.
 */
export const CODEC_MAX_BODY_BYTES = 16 * 1024 * 1024;

/** How long a request may take to arrive whole, and its headers. */
const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;

/** How long fetching the identity provider's discovery document or keys may take. */
const OIDC_FETCH_TIMEOUT_MS = 5_000;

/** Signature algorithms accepted on access tokens: asymmetric only (no shared-secret HS256). */
const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384'];

export interface CodecAccess {
  /** Bearer tokens accepted as they are (CODEC_TOKENS). */
  tokens?: readonly string[];
  /**
   * OpenID Connect: access tokens signed by `issuer` for `audience`, with the keys at `jwksUrl`
   * (default: the `jwks_uri` of the issuer's discovery document).
   */
  oidc?: { issuer: string; audience: string; jwksUrl?: string };
  /** Host headers accepted besides the loopback names with the server's port (host:port). */
  hosts?: readonly string[];
}

/** The settings that say who may call the codec server. */
export const CODEC_ACCESS_SETTINGS = [
  'CODEC_TOKENS',
  'CODEC_OIDC_ISSUER',
  'CODEC_OIDC_AUDIENCE',
  'CODEC_OIDC_JWKS_URL',
  'CODEC_ALLOWED_HOSTS',
] as const;

/** Who may call the codec server, from the configuration. */
export function codecAccessFrom(
  c: Pick<Config, (typeof CODEC_ACCESS_SETTINGS)[number]>,
): CodecAccess {
  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  if (Boolean(c.CODEC_OIDC_ISSUER) !== Boolean(c.CODEC_OIDC_AUDIENCE))
    throw new Error(
      'CODEC_OIDC_ISSUER and CODEC_OIDC_AUDIENCE go together: an access token is checked for both',
    );
  return {
    tokens: list(c.CODEC_TOKENS),
    ...(c.CODEC_OIDC_ISSUER &&
      c.CODEC_OIDC_AUDIENCE && {
        oidc: {
          issuer: c.CODEC_OIDC_ISSUER,
          audience: c.CODEC_OIDC_AUDIENCE,
          ...(c.CODEC_OIDC_JWKS_URL && { jwksUrl: c.CODEC_OIDC_JWKS_URL }),
        },
      }),
    hosts: list(c.CODEC_ALLOWED_HOSTS),
  };
}

export interface CodecServer {
  url: string;
  close(): Promise<void>;
}

/** The Host headers a request may carry: the loopback names with `port`, the bound host, `extra`. */
export function allowedHosts(bound: string, port: number, extra: readonly string[] = []) {
  const hosts = loopbackHostHeaders(port);
  if (!isLoopbackHost(bound) && bound !== '0.0.0.0' && bound !== '::')
    hosts.add(`${bound}:${port}`);
  for (const h of extra) hosts.add(h.toLowerCase());
  return hosts;
}

/** Verifies access tokens against an OpenID Connect provider's published keys. */
function oidcVerifier(o: NonNullable<CodecAccess['oidc']>) {
  let keys: Promise<JWTVerifyGetKey> | null = null;
  const discover = async (): Promise<JWTVerifyGetKey> => {
    let jwksUrl = o.jwksUrl;
    if (!jwksUrl) {
      const res = await fetch(`${o.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(OIDC_FETCH_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`the identity provider's discovery answered HTTP ${res.status}`);
      const doc = (await res.json()) as { jwks_uri?: unknown };
      if (typeof doc.jwks_uri !== 'string')
        throw new Error("the identity provider's discovery document has no jwks_uri");
      jwksUrl = doc.jwks_uri;
    }
    return createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: OIDC_FETCH_TIMEOUT_MS });
  };
  return async (token: string) => {
    // One discovery at a time; a failed one is tried again on the next request.
    keys ??= discover().catch((err: unknown) => {
      keys = null;
      throw err;
    });
    await jwtVerify(token, await keys, {
      issuer: o.issuer,
      audience: o.audience,
      algorithms: JWT_ALGORITHMS,
    });
  };
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startCodecServer(
  codec: PayloadCodec,
  o: {
    port?: number;
    host?: string;
    origins: string[];
    access?: CodecAccess;
    maxBodyBytes?: number;
  },
): Promise<CodecServer> {
  const host = o.host ?? '127.0.0.1';
  const access = o.access ?? {};
  const tokens = (access.tokens ?? []).filter((t) => t.length > 0);
  const authenticates = tokens.length > 0 || access.oidc !== undefined;
  if (!authenticates && !isLoopbackHost(host))
    throw new Error(
      `the codec server would listen on ${host}, beyond this machine, with nobody to check: set ` +
        'CODEC_TOKENS, or CODEC_OIDC_ISSUER and CODEC_OIDC_AUDIENCE (docs/operations.md)',
    );
  const verifyJwt = access.oidc ? oidcVerifier(access.oidc) : null;
  const limit = o.maxBodyBytes ?? CODEC_MAX_BODY_BYTES;
  let hosts = new Set<string>();

  /** Who is asking, from the Authorization header; throws a Refusal if nobody acceptable. */
  const authenticate = async (req: http.IncomingMessage) => {
    if (!authenticates) return;
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new Refusal(401, 'a bearer token is required');
    if (tokenMatches(token, tokens)) return;
    if (verifyJwt) {
      try {
        await verifyJwt(token);
        return;
      } catch (err) {
        throw new Refusal(401, `the access token is not accepted: ${(err as Error).message}`);
      }
    }
    throw new Refusal(401, 'the bearer token is not accepted');
  };

  const server = http.createServer((req, res) => {
    const origin = req.headers.origin;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const allowedOrigin = origin !== undefined && o.origins.includes(origin);
    if (allowedOrigin) {
      headers['access-control-allow-origin'] = origin;
      headers['access-control-allow-methods'] = 'POST, OPTIONS';
      headers['access-control-allow-headers'] = 'content-type, x-namespace, authorization';
      headers['access-control-allow-credentials'] = 'true';
      headers.vary = 'Origin';
    }
    const refuse = (status: number, error: string) => {
      if (status === 401) headers['www-authenticate'] = 'Bearer';
      // Whatever is left of the body is not read: the connection closes after the answer.
      res.writeHead(status, { ...headers, connection: 'close' }).end(JSON.stringify({ error }));
    };
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (!hosts.has(hostHeader)) {
      refuse(403, `Host ${JSON.stringify(hostHeader)} is not one this codec server answers to`);
      return;
    }
    if (origin !== undefined && !allowedOrigin) {
      refuse(403, `origin ${JSON.stringify(origin)} may not call this codec server`);
      return;
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, headers).end();
      return;
    }
    const route = req.url?.split('?')[0];
    if (req.method !== 'POST' || (route !== '/decode' && route !== '/encode')) {
      refuse(404, 'POST /decode or /encode');
      return;
    }
    void (async () => {
      try {
        await authenticate(req);
        const raw = await readBody(req, limit).catch((err: unknown) => {
          throw err instanceof BodyTooLarge
            ? new Refusal(413, `the body is over ${limit} bytes`)
            : err;
        });
        let body: { payloads?: JsonPayload[] };
        try {
          body = JSON.parse(raw.toString('utf8')) as typeof body;
        } catch (err) {
          throw new Refusal(400, `the body is not JSON: ${(err as Error).message}`);
        }
        if (!Array.isArray(body.payloads))
          throw new Refusal(400, 'the body must be {"payloads": [...]}');
        const payloads = body.payloads.map(fromJson);
        const out =
          route === '/decode' ? await codec.decode(payloads) : await codec.encode(payloads);
        res.writeHead(200, headers).end(JSON.stringify({ payloads: out.map(toJson) }));
      } catch (err) {
        refuse(err instanceof Refusal ? err.status : 400, (err as Error).message);
      }
    })();
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  hosts = allowedHosts(host, port, access.hosts);
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
