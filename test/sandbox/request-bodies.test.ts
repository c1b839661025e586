// Every sandbox server bounds what a client may send: a body over the server's limit is refused
// with 413 in the platform's own error envelope, naming the limit, and the server answers the
// next request; upload endpoints have limits above the platforms' documented maxima; a request
// whose body (or headers) never finishes is cut with 408 after the request timeout.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CONTROL_MAX_BODY, startSandbox, type Sandbox } from '../../sandbox/index.ts';
import {
  MAX_BODY_BYTES as META_MAX_BODY,
  MAX_IMAGE_UPLOAD_BYTES as META_MAX_IMAGE_UPLOAD,
  MAX_VIDEO_UPLOAD_BYTES as META_MAX_VIDEO_UPLOAD,
} from '../../sandbox/meta/graph-rules.ts';
import { MAX_BODY_BYTES as ADJUST_MAX_BODY } from '../../sandbox/mmp/adjust-server.ts';
import {
  MAX_IMAGE_BYTES as TIKTOK_MAX_IMAGE,
  MAX_IMAGE_UPLOAD_BODY as TIKTOK_MAX_IMAGE_UPLOAD,
  MAX_JSON_BODY as TIKTOK_MAX_JSON,
  MAX_VIDEO_UPLOAD_BODY as TIKTOK_MAX_VIDEO_UPLOAD,
} from '../../sandbox/tiktok/tiktok-rules.ts';
import { DEMO_WORLD } from '../helpers/stack.ts';

const DATE = '2026-03-01';

/** One request through node:http (fetch cannot send a GET body or a Content-Length it does not send). */
function request(
  url: string,
  o: { method?: string; headers?: Record<string, string | number>; body?: Buffer | string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = {
      ...(o.body === undefined ? {} : { 'content-length': Buffer.byteLength(o.body) }),
      ...o.headers,
    };
    const req = http.request(url, { method: o.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        req.destroy();
      });
    });
    req.on('error', reject);
    if (o.body !== undefined) req.end(o.body);
    else req.flushHeaders();
  });
}

describe('sandbox request bodies', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: DATE });
  });
  after(async () => sandbox?.close());

  const metaAccount = () => `${sandbox.metaUrl}/v24.0/${sandbox.credentials.adAccountId}`;
  const metaToken = () => `access_token=${sandbox.credentials.accessToken}`;
  const tiktok = (endpoint: string) => `${sandbox.tiktokUrl}/open_api/v1.3/${endpoint}/`;
  const tiktokHeaders = () => ({ 'Access-Token': sandbox.tiktokCredentials.accessToken });

  it('Meta: over the limit is a 413 with a Graph error naming it; the next call is answered', async () => {
    const res = await fetch(`${metaAccount()}/campaigns?${metaToken()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `name=${'x'.repeat(META_MAX_BODY)}`,
    });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { error: { code: number; message: string } };
    assert.equal(body.error.code, 100);
    assert.match(body.error.message, new RegExp(`larger than ${META_MAX_BODY} bytes`));
    const next = await fetch(`${metaAccount()}?fields=currency&${metaToken()}`);
    assert.equal(next.status, 200);
  });

  it('Meta: uploads have their own limits, above the documented maxima, enforced too', async () => {
    // A 30 MB image (Meta's maximum) travels base64-encoded; a non-resumable video is up to 1 GB.
    assert.ok(META_MAX_IMAGE_UPLOAD > (30e6 * 4) / 3);
    assert.ok(META_MAX_VIDEO_UPLOAD > 2 ** 30);
    // Over the default limit but within the image upload's: it reaches the endpoint (not 413).
    const image = await fetch(`${metaAccount()}/adimages?${metaToken()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `bytes=${'A'.repeat(META_MAX_BODY + 1024)}`,
    });
    assert.notEqual(image.status, 413, 'within the image upload limit');
    // A body that says it is over the video upload's limit is refused before any of it is read.
    const video = await request(`${metaAccount()}/advideos?${metaToken()}`, {
      method: 'POST',
      headers: {
        'content-type': 'multipart/form-data; boundary=x',
        'content-length': META_MAX_VIDEO_UPLOAD + 1,
      },
    });
    assert.equal(video.status, 413);
    assert.match(video.text, new RegExp(`larger than ${META_MAX_VIDEO_UPLOAD} bytes`));
  });

  it("TikTok: over the limit is a 413 in TikTok's envelope naming it; the next call is answered", async () => {
    const res = await fetch(tiktok('campaign/create'), {
      method: 'POST',
      headers: { ...tiktokHeaders(), 'content-type': 'application/json' },
      body: JSON.stringify({
        advertiser_id: sandbox.tiktokCredentials.advertiserId,
        campaign_name: 'x'.repeat(TIKTOK_MAX_JSON),
      }),
    });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { code: number; message: string; request_id: string };
    assert.equal(body.code, 40002);
    assert.match(body.message, new RegExp(`larger than ${TIKTOK_MAX_JSON} bytes`));
    assert.ok(body.request_id);
    const next = await fetch(
      `${tiktok('app/list')}?advertiser_id=${sandbox.tiktokCredentials.advertiserId}`,
      { headers: tiktokHeaders() },
    );
    assert.equal(next.status, 200);
    assert.equal(((await next.json()) as { code: number }).code, 0);
  });

  it('TikTok: uploads have their own limits, above the documented maxima, enforced too', async () => {
    // "File size: within 50 MB" for an image; "File Size within 500MB" for a video.
    assert.ok(TIKTOK_MAX_IMAGE_UPLOAD > TIKTOK_MAX_IMAGE);
    assert.ok(TIKTOK_MAX_VIDEO_UPLOAD > 500 * 2 ** 20);
    const video = await request(tiktok('file/video/ad/upload'), {
      method: 'POST',
      headers: {
        ...tiktokHeaders(),
        'content-type': 'multipart/form-data; boundary=x',
        'content-length': TIKTOK_MAX_VIDEO_UPLOAD + 1,
      },
    });
    assert.equal(video.status, 413);
    assert.match(video.text, new RegExp(`larger than ${TIKTOK_MAX_VIDEO_UPLOAD} bytes`));
  });

  it('Adjust: a body over 64 KiB is a 413 {"detail"} naming it; the next report is answered', async () => {
    const { apiToken, appToken } = sandbox.world.mmp.adjust;
    const url = new URL('/reports-service/report', sandbox.adjustUrl);
    url.searchParams.set('app_token__in', appToken);
    url.searchParams.set('date_period', `${DATE}:${DATE}`);
    url.searchParams.set('dimensions', 'day');
    url.searchParams.set('metrics', 'installs');
    const headers = { authorization: `Bearer ${apiToken}` };
    const huge = await request(url.toString(), { headers, body: 'x'.repeat(ADJUST_MAX_BODY + 1) });
    assert.equal(huge.status, 413);
    assert.deepEqual(JSON.parse(huge.text), {
      detail: `Request body must be at most ${ADJUST_MAX_BODY} bytes.`,
    });
    const next = await request(url.toString(), { headers });
    assert.ok([200, 204].includes(next.status), `answered ${next.status}`);
  });

  it('control: a body over its limit is a 413 naming it; the next request is answered', async () => {
    const res = await fetch(`${sandbox.metaUrl}/__sandbox/review`, {
      method: 'POST',
      body: JSON.stringify({ bannedTerms: ['x'.repeat(CONTROL_MAX_BODY)] }),
    });
    assert.equal(res.status, 413);
    assert.match(((await res.json()) as { error: string }).error, /at most 65536 bytes/);
    assert.deepEqual(sandbox.meta.review.bannedTerms, sandbox.world.review.bannedTerms);
    assert.equal((await fetch(`${sandbox.metaUrl}/__sandbox/status`)).status, 200);
  });
});

describe('sandbox request timeouts', () => {
  const TIMEOUT_MS = 300;
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox({ world: DEMO_WORLD, date: DATE, requestTimeoutMs: TIMEOUT_MS });
  });
  after(async () => sandbox?.close());

  /**
   * Sends `head` and then one byte every 50 ms without end; resolves with what the server sent
   * and how long it took to close the connection.
   */
  function dripping(url: string, head: string): Promise<{ text: string; ms: number }> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const socket = net.connect(Number(port), hostname);
      const chunks: Buffer[] = [];
      let drip: NodeJS.Timeout | undefined;
      socket.on('connect', () => {
        socket.write(head);
        drip = setInterval(() => socket.writable && socket.write('x'), 50);
      });
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started });
      });
      setTimeout(() => {
        clearInterval(drip);
        socket.destroy();
        reject(new Error(`${url}: the connection was still open after 10 s`));
      }, 10_000).unref();
    });
  }

  it('every server cuts a body that never ends with 408, and answers the next request', async () => {
    const post = (path: string, host: string) =>
      `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`;
    const cases = [
      [sandbox.metaUrl, `/v24.0/${sandbox.credentials.adAccountId}/campaigns`],
      [sandbox.metaUrl, '/__sandbox/clock'],
      [sandbox.tiktokUrl, '/open_api/v1.3/campaign/create/'],
      [sandbox.adjustUrl, '/reports-service/report'],
      [sandbox.branchUrl, '/v1/query/analytics'],
    ] as const;
    const results = await Promise.all(
      cases.map(([base, path]) => dripping(base, post(path, new URL(base).host))),
    );
    for (const [i, r] of results.entries()) {
      assert.match(r.text, /^HTTP\/1\.1 408 /, `${cases[i]!.join('')}: ${r.text}`);
      assert.ok(r.ms < TIMEOUT_MS + 2000, `${cases[i]!.join('')} closed after ${r.ms} ms`);
    }
    assert.equal((await fetch(`${sandbox.metaUrl}/__sandbox/status`)).status, 200);
  });

  it('cuts headers that never end with 408', async () => {
    const r = await dripping(
      sandbox.tiktokUrl,
      `GET /open_api/v1.3/app/list/ HTTP/1.1\r\nHost: x\r\nX-Slow: `,
    );
    assert.match(r.text, /^HTTP\/1\.1 408 /);
  });
});
