// The codec server's doors: Host, Origin, who is asking (static tokens, OpenID Connect access
// tokens checked against a local identity provider's keys) and body size, each shown refusing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { payloadCodecFrom } from '../../core/payload-codec.ts';
import { tokenMatches } from '../../core/access.ts';
import { codecAccessFrom, startCodecServer, type CodecServer } from '../../ops/codec-server.ts';

const codec = payloadCodecFrom({
  PAYLOAD_KEY: randomBytes(32).toString('base64'),
  PAYLOAD_KEY_ID: 'test',
})!;
const UI = 'http://localhost:8233';
const TOKEN = 'a'.repeat(40);

/** A POST through node:http, which (unlike fetch) lets a test choose the Host header. */
function post(
  server: CodecServer,
  o: { host?: string; headers?: Record<string, string>; body?: string; path?: string } = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const url = new URL(o.path ?? '/encode', server.url);
  const body = o.body ?? JSON.stringify({ payloads: [{ metadata: {}, data: 'eyJhIjoxfQ==' }] });
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: {
          host: o.host ?? url.host,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...o.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            body: Buffer.concat(chunks).toString(),
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('codec server doors', () => {
  it('answers only to its own names (no DNS rebinding) and only to the UI origins', async () => {
    const server = await startCodecServer(codec, { origins: [UI] });
    try {
      const port = new URL(server.url).port;
      assert.equal((await post(server)).status, 200);
      assert.equal((await post(server, { host: `localhost:${port}` })).status, 200);
      const rebound = await post(server, { host: `attacker.example:${port}` });
      assert.equal(rebound.status, 403);
      assert.match(rebound.body, /attacker\.example/);
      assert.equal((await post(server, { host: 'localhost:1' })).status, 403);

      const fromUi = await post(server, { headers: { origin: UI } });
      assert.equal(fromUi.status, 200);
      assert.equal(fromUi.headers['access-control-allow-origin'], UI);
      const elsewhere = await post(server, { headers: { origin: 'https://evil.example' } });
      assert.equal(elsewhere.status, 403);
      assert.equal(elsewhere.headers['access-control-allow-origin'], undefined);
    } finally {
      await server.close();
    }
  });

  it('refuses a body over its limit and keeps answering', async () => {
    const server = await startCodecServer(codec, { origins: [UI], maxBodyBytes: 1024 });
    try {
      const big = JSON.stringify({ payloads: [{ data: 'A'.repeat(4096) }] });
      const refused = await post(server, { body: big });
      assert.equal(refused.status, 413);
      assert.match(refused.body, /over 1024 bytes/);
      assert.equal((await post(server)).status, 200);
      assert.equal((await post(server, { body: '{"payloads": 1}' })).status, 400);
    } finally {
      await server.close();
    }
  });

  it('will not listen beyond this machine with nobody to check who is asking', async () => {
    await assert.rejects(
      startCodecServer(codec, { host: '0.0.0.0', origins: [UI] }),
      /beyond this machine.*CODEC_TOKENS/,
    );
    const server = await startCodecServer(codec, {
      host: '0.0.0.0',
      origins: [UI],
      access: { tokens: [TOKEN], hosts: ['codec-server:8888'] },
    });
    try {
      assert.equal((await post(server)).status, 401);
      const auth = { authorization: `Bearer ${TOKEN}` };
      assert.equal((await post(server, { headers: auth })).status, 200);
      assert.equal((await post(server, { host: 'codec-server:8888', headers: auth })).status, 200);
    } finally {
      await server.close();
    }
  });

  it('accepts a configured bearer token and nothing else', async () => {
    const server = await startCodecServer(codec, { origins: [UI], access: { tokens: [TOKEN] } });
    try {
      const none = await post(server);
      assert.equal(none.status, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer');
      assert.equal((await post(server, { headers: { authorization: 'Bearer nope' } })).status, 401);
      assert.equal(
        (await post(server, { headers: { authorization: `Basic ${TOKEN}` } })).status,
        401,
      );
      const ok = await post(server, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(ok.status, 200);
      assert.ok(tokenMatches(TOKEN, ['b'.repeat(40), TOKEN]));
      assert.ok(!tokenMatches(TOKEN.slice(1), [TOKEN]));
    } finally {
      await server.close();
    }
  });

  describe('OpenID Connect access tokens (the UI behind single sign-on)', () => {
    let idp: http.Server;
    let issuer: string;
    let server: CodecServer;
    let jwksRequests = 0;
    const AUDIENCE = 'temporal-ui';
    let sign: (claims: { aud?: string; exp?: string; iss?: string }) => Promise<string>;
    let signWithOther: () => Promise<string>;

    before(async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const other = await generateKeyPair('ES256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      idp = http.createServer((req, res) => {
        if (req.url === '/.well-known/openid-configuration') {
          res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/keys` }));
        } else if (req.url === '/keys') {
          jwksRequests++;
          res.end(JSON.stringify({ keys: [jwk] }));
        } else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
      issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
      const jwt = (claims: { aud?: string; exp?: string; iss?: string }) =>
        new SignJWT({ sub: 'alice@example.com' })
          .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
          .setIssuer(claims.iss ?? issuer)
          .setAudience(claims.aud ?? AUDIENCE)
          .setIssuedAt()
          .setExpirationTime(claims.exp ?? '5m');
      sign = (claims) => jwt(claims).sign(privateKey);
      signWithOther = () => jwt({}).sign(other.privateKey);
      server = await startCodecServer(codec, {
        origins: [UI],
        access: codecAccessFrom({ CODEC_OIDC_ISSUER: issuer, CODEC_OIDC_AUDIENCE: AUDIENCE }),
      });
    });
    after(async () => {
      await server.close();
      await new Promise<void>((resolve) => idp.close(() => resolve()));
    });

    const status = async (token: string) =>
      (await post(server, { headers: { authorization: `Bearer ${token}`, origin: UI } })).status;

    it("accepts the signed-in user's token, found through the issuer's discovery", async () => {
      assert.equal(await status(await sign({})), 200);
      assert.equal(jwksRequests, 1);
    });

    it('refuses tokens for another audience or issuer, expired, or signed by another key', async () => {
      assert.equal(await status(await sign({ aud: 'someone-else' })), 401);
      assert.equal(await status(await sign({ iss: 'https://other.example' })), 401);
      assert.equal(await status(await sign({ exp: '-1m' })), 401);
      assert.equal(await status(await signWithOther()), 401);
      assert.equal(await status('not.a.jwt'), 401);
      // A token signed with a shared secret (HS256), whatever it claims, is never accepted.
      const hs = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(issuer)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('x'.repeat(32)));
      assert.equal(await status(hs), 401);
    });

    it('needs the issuer and the audience together', () => {
      assert.throws(
        () => codecAccessFrom({ CODEC_OIDC_ISSUER: issuer }),
        /CODEC_OIDC_ISSUER and CODEC_OIDC_AUDIENCE go together/,
      );
    });
  });
});
