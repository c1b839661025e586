// Catalog imports from CSV, JSONL and an HTTP source: bad rows are reported with their line and
// reason while good rows import; a file that cannot be read writes nothing.
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { createActivities } from '../../activities/index.ts';
import { parseCsvRows } from '../../core/catalog-rows.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { renderAll, typedRun } from '../helpers/activity.ts';
import { ROOT, startTestStack, type TestStack } from '../helpers/stack.ts';

const RUN = 'market/SE/2026-03-01';
const input = { market: 'SE', date: '2026-03-01' };

describe('catalog import', () => {
  let stack: TestStack;
  let dir: string;
  const env = new MockActivityEnvironment({ workflowExecution: { workflowId: RUN, runId: 'r' } });
  const run = typedRun(env);
  const ingest = (catalog: string, market = 'SE') =>
    run(
      createActivities({ ...stack.deps, config: { ...stack.deps.config, CATALOG_PATH: catalog } })
        .ingestCatalog,
      { ...input, market },
    );
  const artistCount = async () =>
    Number(
      (
        await stack.database.db
          .selectFrom('artists')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  before(async () => {
    stack = await startTestStack();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-'));
    fs.copyFileSync(path.join(ROOT, 'catalog/demo/images/a01.jpg'), path.join(dir, 'a.jpg'));
    await run(createActivities(stack.deps).startMarketRun, input);
  });
  after(async () => {
    await stack?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('imports the good CSV rows and reports the bad ones by line', async () => {
    const file = write(
      'artists.csv',
      [
        'artist_id,name,genre,image,market,popularity,trend',
        'c1,Ada,pop,a.jpg,SE,0.8,0.01',
        'c2,Bo,rock,,SE,1.5,',
        '"c3","Cé, ""the"" band",indie,,SE,0.4,',
        'c4,Dee,pop,,XX,0.2,',
        'c5,,pop,,SE,0.3,',
        'c6,Eve,jazz,missing.jpg,SE,0.3,',
        'c7,Fay,pop,,DE,0.9,',
      ].join('\n'),
    );
    const r = await ingest(file);
    assert.equal(r.artists, 2, 'c1 and c3 in SE');
    assert.deepEqual(
      r.errors.map((e) => e.line),
      [3, 5, 6, 7],
    );
    assert.match(r.errors[0]!.reason, /popularity Too big/);
    assert.match(r.errors[1]!.reason, /market is not a known country/);
    assert.match(r.errors[2]!.reason, /name is required/);
    assert.match(r.errors[3]!.reason, /image file not found/);
    const stored = await stack.database.db
      .selectFrom('artists')
      .selectAll()
      .where('id', 'in', ['c1', 'c3'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      stored.map((a) => a.name),
      ['Ada', 'Cé, "the" band'],
    );
    assert.equal(stored[1]!.image_path, '');
    const events = await stack.database.db
      .selectFrom('stage_events')
      .selectAll()
      .where('run_id', '=', RUN)
      .where('event', '=', 'completed')
      .execute();
    assert.equal(events.at(-1)!.detail.rejectedRows, 4, 'the rejects are in the audit log');
  });

  it('writes nothing from a file that cannot be read as a whole', async () => {
    const before = await artistCount();
    await assert.rejects(
      ingest(
        write('broken.csv', 'artist_id,name,genre,market,popularity\nz1,"unclosed,pop,SE,0.5\n'),
      ),
      /cannot be read as CSV/,
    );
    await assert.rejects(
      ingest(write('noheader.csv', 'artist_id,name,market\nz2,Zed,SE\n')),
      /header lacks column\(s\) genre, popularity \(line 1\)/,
    );
    await assert.rejects(ingest(write('catalog.xml', '<x/>')), /unknown format \.xml/);
    await assert.rejects(ingest(path.join(dir, 'absent.csv')), /cannot read catalog/);
    assert.equal(await artistCount(), before);
  });

  it('reports non-JSON JSONL lines by number', async () => {
    const file = write(
      'artists.jsonl',
      [
        '{"artist_id":"j1","name":"Jo","genre":"pop","market":"SE","popularity":0.5}',
        '{oops',
        '',
        '[1]',
        '{"artist_id":"j2","name":"Ki","genre":"pop","market":"SE","popularity":0.6}',
      ].join('\n'),
    );
    const r = await ingest(file);
    assert.equal(r.artists, 2);
    assert.deepEqual(
      r.errors.map((e) => [e.line, e.reason.split(':')[0]]),
      [
        [2, 'not JSON'],
        [4, 'must be a JSON object'],
      ],
    );
  });

  it('imports tracks, playlists and podcasts from a catalog JSON file', async () => {
    const file = write(
      'catalog.json',
      JSON.stringify({
        markets: [
          {
            code: 'SE',
            name: 'Sweden',
            language: 'sv',
            currency: 'SEK',
            timeZone: 'Europe/Stockholm',
          },
        ],
        artists: [{ id: 'k1', name: 'Kim', genre: 'pop', image: 'a.jpg', popularity: { SE: 0.5 } }],
        tracks: [{ id: 't1', title: 'First', artistIds: ['k1'] }],
        podcasts: [{ id: 'p1', title: 'Talk', artistIds: [] }],
      }),
    );
    await ingest(file);
    await ingest(file); // idempotent
    const items = await stack.database.db
      .selectFrom('catalog_items')
      .selectAll()
      .orderBy('kind')
      .execute();
    assert.deepEqual(
      items.map((i) => [i.kind, i.id, i.title, i.artist_ids]),
      [
        ['podcast', 'p1', 'Talk', []],
        ['track', 't1', 'First', ['k1']],
      ],
    );
  });

  it('stores artist embeddings from CSV and JSONL, and rejects ragged or broken ones by line', async () => {
    const csv = await ingest(
      write(
        'embedded.csv',
        [
          'artist_id,name,genre,market,popularity,embedding',
          'e1,Ela,pop,SE,0.5,0.25 -1 0.5',
          'e2,Fin,pop,SE,0.5,0.1;0.2;0.3',
          'e3,Gus,pop,SE,0.5,0.1 0.2',
          'e4,Hal,pop,SE,0.5,0.1 x 0.3',
          'e5,Ivo,pop,SE,0.5,',
          'e7,Kit,pop,SE,0.5,0.5;0.5;0.5;',
          'e8,Lou,pop,SE,0.5,0x1 2 3',
        ].join('\n'),
      ),
    );
    assert.equal(csv.artists, 4, 'e1, e2, e5 (no embedding is fine) and e7');
    assert.deepEqual(
      csv.errors.map((e) => [e.line, e.reason]),
      [
        [4, 'embedding has 2 dimensions; earlier rows have 3'],
        [5, 'embedding.1 must hold only finite numbers'],
        [8, 'embedding.0 must hold only finite numbers'],
      ],
    );
    await ingest(
      write(
        'embedded.jsonl',
        '{"artist_id":"e6","name":"Jon","genre":"pop","market":"SE","popularity":0.4,"embedding":[1,2,3]}\n',
      ),
    );
    const stored = await stack.database.db
      .selectFrom('artists')
      .select(['id', 'embedding'])
      .where('id', 'in', ['e1', 'e2', 'e5', 'e6'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      stored.map((a) => [a.id, a.embedding]),
      [
        ['e1', [0.25, -1, 0.5]],
        ['e2', [0.1, 0.2, 0.3]],
        ['e5', null],
        ['e6', [1, 2, 3]],
      ],
    );
  });

  it('counts CSV lines physically, across quoted line breaks', () => {
    const parsed = parseCsvRows(
      'artist_id,name,genre,market,popularity\nq1,"two\nlines",pop,SE,0.5\nq2,Ok,pop,SE,2\n',
      'x.csv',
      null,
    );
    assert.equal(parsed.rows[0]!.name, 'two\nlines');
    assert.deepEqual(
      parsed.errors.map((e) => e.line),
      [4],
    );
  });

  describe('from an HTTP source', () => {
    let sandbox: Sandbox;
    before(async () => {
      sandbox = await startSandbox({
        world: path.join(ROOT, 'sandbox/worlds/bench.json'),
        date: '2026-03-01',
      });
    });
    after(async () => sandbox?.close());

    it('imports a generated world’s market and renders artists that have no image', async () => {
      const r = await ingest(`${sandbox.metaUrl}/__sandbox/catalog.jsonl?market={market}`, 'US');
      assert.ok(r.artists > 1000, `${r.artists} artists`);
      assert.equal(r.rejected, 0);
      const [withEmbedding] = await stack.database.db
        .selectFrom('artists')
        .select('embedding')
        .where('id', 'like', 'g%')
        .limit(1)
        .execute();
      assert.equal(withEmbedding?.embedding?.length, 8, 'the generated catalog’s embeddings');
      const acts = createActivities({
        ...stack.deps,
        config: {
          ...stack.deps.config,
          CATALOG_PATH: `${sandbox.metaUrl}/__sandbox/catalog.jsonl?market=US`,
        },
      });
      const { selected } = await run(acts.rankMarket, {
        market: 'US',
        date: '2026-03-01',
        metricsAvailable: true,
      });
      const [creative] = await renderAll(run, acts, {
        market: 'US',
        date: '2026-03-01',
        items: selected.slice(0, 1),
      });
      const meta = await sharp(creative!.path).metadata();
      assert.deepEqual([meta.width, meta.height], [1080, 1080]);
    });

    it('refuses to list markets from a per-market source', async () => {
      const acts = createActivities({
        ...stack.deps,
        config: {
          ...stack.deps.config,
          CATALOG_PATH: `${sandbox.metaUrl}/__sandbox/catalog.jsonl?market={market}`,
        },
      });
      await assert.rejects(run(acts.listMarkets), /start the loop with explicit markets/);
    });

    it('fails clearly when the source is down', async () => {
      await assert.rejects(
        ingest('http://127.0.0.1:1/catalog.jsonl'),
        /catalog source .* is unreachable/,
      );
      await assert.rejects(ingest(`${sandbox.metaUrl}/__sandbox/nothing`), /answered HTTP 400/);
    });
  });
});
