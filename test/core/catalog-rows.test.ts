// The doors of catalog input: a catalog URL's secrets never reach an error, its fetch gives up after
// a timeout and refuses a body over the size bound, and an image must lie inside the catalog's
// folder (symlinks followed), in every catalog format.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { createIngestActivities } from '../../activities/ingest/ingest.ts';
import { CatalogError, parseCatalog } from '../../core/catalog.ts';
import { loadCatalogRows } from '../../core/catalog-rows.ts';

const SECRET = 's3cret-token';
/** A fetch that never gives up fails the test instead of hanging it. */
const BOUNDED = { timeout: 10_000 };
const ROW = '{"artist_id":"a1","name":"Ada","genre":"pop","market":"SE","popularity":0.5}\n';

/** A server on 127.0.0.1 answering each request with `handle`; closed after the suite. */
async function serve(handle: http.RequestListener): Promise<{ url: string; close: () => void }> {
  const server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The error `promise` rejects with, checked to carry no secret. */
async function refusal(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e as Error,
  );
  // Message, stack and causes, as a log line would show the error.
  const shown = inspect(err, { depth: 5 });
  for (const secret of [SECRET, 'pa55word'])
    assert.ok(!shown.includes(secret), `the secret is in: ${shown}`);
  return err;
}

describe('a catalog URL', () => {
  const closers: Array<() => void> = [];
  let status500: string;
  let silent: string;
  let rows: string;
  let endless: string;
  before(async () => {
    const servers = await Promise.all([
      serve((_req, res) => {
        res.statusCode = 500;
        res.end('down');
      }),
      // Accepts the connection and never answers.
      serve(() => undefined),
      serve((_req, res) => {
        res.setHeader('content-type', 'application/x-ndjson');
        res.end(ROW.repeat(4));
      }),
      // Sends rows without a Content-Length, and keeps sending.
      serve((_req, res) => {
        res.setHeader('content-type', 'application/x-ndjson');
        const timer = setInterval(() => res.write(ROW.repeat(10)), 5);
        res.on('close', () => clearInterval(timer));
      }),
    ]);
    for (const s of servers) closers.push(s.close);
    [status500, silent, rows, endless] = servers.map((s) => s.url) as [
      string,
      string,
      string,
      string,
    ];
  });
  after(() => closers.forEach((close) => close()));

  it('that answers an error names the URL without its token', async () => {
    const err = await refusal(
      loadCatalogRows(`${status500}/catalog.jsonl?token=${SECRET}&market=SE#${SECRET}`),
    );
    assert.equal(
      err.message,
      `catalog source ${status500}/catalog.jsonl?token=[redacted]&market=[redacted] answered HTTP 500`,
    );
  });

  it('that is unreachable, or carries credentials, names it redacted', async () => {
    const { url, close } = await serve(() => undefined);
    close(); // a port nothing listens on
    const down = await refusal(loadCatalogRows(`${url}/catalog.jsonl?sig=${SECRET}`));
    assert.match(
      down.message,
      /^catalog source http:\/\/127\.0\.0\.1:\d+\/catalog\.jsonl\?sig=\[redacted\] is unreachable: fetch failed/,
    );
    // fetch refuses user info, quoting the whole URL.
    const userinfo = await refusal(
      loadCatalogRows(`${rows}/catalog.jsonl`.replace('//', `//adloop:pa55word@`)),
    );
    assert.match(userinfo.message, /catalog source http:\/\/\[redacted\]@127\.0\.0\.1/);
    // A URL that does not even parse.
    const broken = await refusal(loadCatalogRows('http://adloop:pa55word@'));
    assert.match(broken.message, /^catalog source http:\/\/\[redacted\]@ is unreachable/);
  });

  it('that never answers times out, saying what and after how long', BOUNDED, async () => {
    const started = Date.now();
    const err = await refusal(
      loadCatalogRows(`${silent}/catalog.jsonl?token=${SECRET}`, { timeoutMs: 300 }),
    );
    assert.match(
      err.message,
      /^catalog source http:\/\/127\.0\.0\.1:\d+\/catalog\.jsonl\?token=\[redacted\] timed out after 300 ms waiting for an answer/,
    );
    assert.ok(Date.now() - started < 5000, 'gave up in time');
  });

  it('that sends more than the size bound is refused', BOUNDED, async () => {
    const small = await loadCatalogRows(`${rows}/c.jsonl`, { maxBytes: ROW.length * 4 });
    assert.equal(small.rows.length, 1, 'four copies of one row, the last wins');
    assert.equal(small.source, `${rows}/c.jsonl`);
    const err = await refusal(
      loadCatalogRows(`${rows}/c.jsonl?token=${SECRET}`, { maxBytes: ROW.length * 4 - 1 }),
    );
    assert.ok(err instanceof CatalogError, 'a catalog too big is not retried');
    assert.match(err.message, /c\.jsonl\?token=\[redacted\] sends more than \d+ bytes/);
    // Without a Content-Length: counted as it arrives, and cut off.
    const endlessErr = await refusal(
      loadCatalogRows(`${endless}/c.jsonl`, { maxBytes: 64 * 1024, timeoutMs: 10_000 }),
    );
    assert.match(endlessErr.message, /sends more than 65536 bytes/);
  });

  it('is fetched with the timeout the ingest activity is configured with', BOUNDED, async () => {
    const ingest = createIngestActivities({
      config: {
        CATALOG_PATH: `${silent}/catalog.jsonl?token=${SECRET}`,
        CATALOG_FETCH_TIMEOUT_MS: 200,
      },
    } as unknown as Parameters<typeof createIngestActivities>[0]);
    const err = await refusal(ingest.listMarkets());
    assert.match(err.message, /timed out after 200 ms/);
  });

  it("names itself redacted as its rows' source", async () => {
    const r = await loadCatalogRows(`${rows}/c.csv?token=${SECRET}`);
    assert.equal(r.source, `${rows}/c.csv?token=[redacted]`);
  });
});

describe('catalog images', () => {
  let root: string;
  let dir: string;
  before(() => {
    // root/outside.png, root/catalog/{inside.png, link.png -> ../outside.png, sub/deep.png}
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-doors-')));
    dir = path.join(root, 'catalog');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    for (const f of ['outside.png', 'catalog/inside.png', 'catalog/sub/deep.png'])
      fs.writeFileSync(path.join(root, f), 'png');
    fs.symlinkSync(path.join(root, 'outside.png'), path.join(dir, 'link.png'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const OUTSIDE = () => [
    '../outside.png',
    path.join(root, 'outside.png'),
    'link.png',
    '/etc/passwd',
  ];

  const catalog = (image: string) => ({
    markets: [
      { code: 'SE', name: 'Sweden', language: 'sv', currency: 'SEK', timeZone: 'Europe/Stockholm' },
    ],
    artists: [
      { id: 'ok1', name: 'Ok', genre: 'pop', image: 'inside.png', popularity: { SE: 0.5 } },
      { id: 'bad1', name: 'Bad', genre: 'pop', image, popularity: { SE: 0.5 } },
    ],
  });

  it('a JSON catalog refuses an image outside its folder, naming the artist', () => {
    for (const image of OUTSIDE())
      assert.throws(
        () => parseCatalog(catalog(image), dir, 'cat.json'),
        (err: Error) => {
          assert.ok(err instanceof CatalogError);
          assert.equal(
            err.message,
            `cat.json is invalid:\n  artists[1].image: outside the catalog's folder: ${image} (artist bad1)`,
          );
          return true;
        },
      );
  });

  it('a JSON catalog takes an image inside its folder', () => {
    const ok = parseCatalog(catalog('sub/deep.png'), dir, 'cat.json');
    assert.deepEqual(
      ok.artists.map((a) => a.image),
      [path.join(dir, 'inside.png'), path.join(dir, 'sub/deep.png')],
    );
    // Through a path that leaves and comes back, still inside.
    assert.equal(
      parseCatalog(catalog('sub/../inside.png'), dir).artists[1]!.image,
      path.join(dir, 'inside.png'),
    );
  });

  for (const [format, line] of [
    ['csv', (image: string) => `bad1,Bad,pop,${image},SE,0.5`],
    [
      'jsonl',
      (image: string) =>
        JSON.stringify({
          artist_id: 'bad1',
          name: 'Bad',
          genre: 'pop',
          image,
          market: 'SE',
          popularity: 0.5,
        }),
    ],
  ] as const) {
    it(`${format} rows refuse an image outside the folder by line, and take one inside`, async () => {
      const header = format === 'csv' ? ['artist_id,name,genre,image,market,popularity'] : [];
      const lines = [...header, line('inside.png'), ...OUTSIDE().map(line), line('sub/deep.png')];
      const file = path.join(dir, `artists.${format}`);
      fs.writeFileSync(file, lines.join('\n'));
      const r = await loadCatalogRows(file);
      const first = header.length + 2;
      assert.deepEqual(
        r.errors,
        OUTSIDE().map((image, i) => ({
          line: first + i,
          reason: `image outside the catalog's folder: ${image}`,
        })),
      );
      assert.deepEqual(
        r.rows.map((row) => row.image),
        [path.join(dir, 'sub/deep.png')],
        'the last bad1 row wins',
      );
    });
  }
});
