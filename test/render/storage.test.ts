// The creative stores: the local one on a temp directory, the S3 one against s3rver, a real S3
// wire-protocol server started in-process on loopback (so signing, headers, checksums and error
// bodies are the SDK's real ones, not a mock's).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createCreativeStore,
  createLocalStore,
  createS3Store,
  type CreativeStore,
  type S3StoreOptions,
} from '../../render/storage.ts';

// s3rver ships no type declarations; this is the part of its API the tests use.
interface S3rverOptions {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}
interface S3rver {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (options: S3rverOptions) => S3rver;

const KEY = '0a1b2c3d4e5f60718293a4b5/9x16-motion.mp4';
const BAD_KEYS = [
  '',
  '../escape.mp4',
  '0a1b/../../escape.mp4',
  '/etc/passwd',
  'C:/creatives/x.mp4',
  '0a1b\\9x16-motion.mp4',
  '0a1b//9x16-motion.mp4',
  '0a1b/',
  './0a1b/x.mp4',
];

let tmp: string;
before(async () => {
  tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'adloop-storage-'));
});
after(async () => {
  await fs.promises.rm(tmp, { recursive: true, force: true });
});

async function sourceFile(name: string, bytes: Buffer): Promise<string> {
  const file = path.join(tmp, 'src', name);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, bytes);
  return file;
}

/** Every key-taking method rejects each bad key with an error quoting it. */
async function assertRejectsBadKeys(store: CreativeStore, file: string) {
  for (const key of BAD_KEYS) {
    const named = (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.ok(err.message.includes(JSON.stringify(key)), err.message);
      return true;
    };
    await assert.rejects(store.put(key, file, 'video/mp4'), named);
    await assert.rejects(store.head(key), named);
    await assert.rejects(store.get(key), named);
    await assert.rejects(store.localPath(key), named);
    assert.throws(() => store.uri(key), named);
  }
}

describe('local creative store', () => {
  it('puts a file and finds it by key', async () => {
    const dir = path.join(tmp, 'local-put');
    const store = createLocalStore(dir);
    const bytes = Buffer.from('fake mp4 bytes');
    const file = await sourceFile('a.mp4', bytes);

    assert.equal(store.kind, 'local');
    assert.equal(await store.head(KEY), null);
    const stored = await store.put(KEY, file, 'video/mp4');
    const target = path.join(dir, '0a1b2c3d4e5f60718293a4b5', '9x16-motion.mp4');
    assert.deepEqual(stored, { key: KEY, uri: `file://${target}`, bytes: bytes.length });
    assert.equal(store.uri(KEY), stored.uri);
    assert.deepEqual(await store.head(KEY), stored);
    assert.deepEqual(await store.get(KEY), bytes);
    assert.equal(await store.localPath(KEY), target);
    // The temp copy was renamed, not left behind.
    assert.deepEqual(await fs.promises.readdir(path.dirname(target)), ['9x16-motion.mp4']);
  });

  it('overwrites a key in place', async () => {
    const store = createLocalStore(path.join(tmp, 'local-overwrite'));
    await store.put(KEY, await sourceFile('first.mp4', Buffer.from('first')), 'video/mp4');
    const second = Buffer.from('second, longer');
    const stored = await store.put(KEY, await sourceFile('second.mp4', second), 'video/mp4');
    assert.equal(stored.bytes, second.length);
    assert.deepEqual(await store.get(KEY), second);
    assert.equal((await fs.promises.readdir(path.dirname(await store.localPath(KEY)))).length, 1);
  });

  it('answers null for a missing key and errors naming it on read', async () => {
    const store = createLocalStore(path.join(tmp, 'local-missing'));
    const missing = 'ffffffffffffffffffffffff/1x1-static.png';
    assert.equal(await store.head(missing), null);
    await assert.rejects(store.get(missing), (err: Error) => err.message.includes(missing));
    await assert.rejects(store.localPath(missing), (err: Error) => err.message.includes(missing));
  });

  it('leaves no temp file when the source is missing', async () => {
    const dir = path.join(tmp, 'local-failed');
    const store = createLocalStore(dir);
    await assert.rejects(store.put(KEY, path.join(tmp, 'no-such-file.mp4'), 'video/mp4'));
    assert.equal(await store.head(KEY), null);
    assert.deepEqual(await fs.promises.readdir(path.join(dir, '0a1b2c3d4e5f60718293a4b5')), []);
  });

  it('rejects keys that are not plain relative paths', async () => {
    const dir = path.join(tmp, 'local-bad');
    await assertRejectsBadKeys(
      createLocalStore(dir),
      await sourceFile('bad.mp4', Buffer.from('x')),
    );
    assert.equal(fs.existsSync(path.join(tmp, 'escape.mp4')), false);
  });
});

describe('S3 creative store (s3rver on loopback)', () => {
  const BUCKET = 'adloop-creatives';
  // s3rver's built-in account. s3rver checks the access key id but not SigV4 signatures.
  const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  let server: S3rver;
  let endpoint: string;

  const s3Store = (overrides: Partial<S3StoreOptions> = {}) =>
    createS3Store({
      bucket: BUCKET,
      prefix: 'adloop/',
      endpoint,
      credentials: CREDENTIALS,
      cacheDir: path.join(tmp, 's3-cache'),
      ...overrides,
    });

  before(async () => {
    server = new S3rver({
      address: '127.0.0.1',
      port: 0, // a free port
      silent: true,
      directory: path.join(tmp, 's3rver'),
      configureBuckets: [{ name: BUCKET }],
    });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await server.close();
  });

  it('puts a file and reads it back by key', async () => {
    const store = s3Store();
    const bytes = Buffer.alloc(100_000, 7); // larger than one chunk, so a framing bug would show
    const file = await sourceFile('s3.mp4', bytes);

    assert.equal(store.kind, 's3');
    assert.equal(store.uri(KEY), `s3://${BUCKET}/adloop/${KEY}`);
    assert.equal(await store.head(KEY), null);
    const stored = await store.put(KEY, file, 'video/mp4');
    assert.deepEqual(stored, { key: KEY, uri: `s3://${BUCKET}/adloop/${KEY}`, bytes: 100_000 });
    assert.deepEqual(await store.head(KEY), stored);
    assert.deepEqual(await store.get(KEY), bytes);

    const local = await store.localPath(KEY);
    assert.equal(local, path.join(tmp, 's3-cache', BUCKET, 'adloop', ...KEY.split('/')));
    assert.deepEqual(await fs.promises.readFile(local), bytes);
    // The second call is served from the cache.
    assert.equal(await store.localPath(KEY), local);
    assert.deepEqual(await fs.promises.readdir(path.dirname(local)), ['9x16-motion.mp4']);
  });

  it('overwrites a key', async () => {
    const store = s3Store();
    const key = 'abababababababababababab/1x1-static.png';
    await store.put(key, await sourceFile('one.png', Buffer.from('one')), 'image/png');
    const two = Buffer.from('two, longer');
    assert.equal((await store.put(key, await sourceFile('two.png', two), 'image/png')).bytes, 11);
    assert.deepEqual(await store.get(key), two);
  });

  it('answers null for a missing key and errors naming key and bucket on read', async () => {
    const store = s3Store();
    const missing = 'ffffffffffffffffffffffff/1x1-static.png';
    assert.equal(await store.head(missing), null);
    const named = (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, new RegExp(`adloop/${missing}`));
      assert.match(err.message, new RegExp(BUCKET));
      return true;
    };
    await assert.rejects(store.get(missing), named);
    await assert.rejects(store.localPath(missing), named);
  });

  it('names a missing bucket', async () => {
    const store = s3Store({ bucket: 'no-such-bucket' });
    const file = await sourceFile('nobucket.mp4', Buffer.from('x'));
    const named = (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /bucket no-such-bucket does not exist/);
      return true;
    };
    await assert.rejects(store.put(KEY, file, 'video/mp4'), named);
    await assert.rejects(store.get(KEY), named);
  });

  it('never puts the secret key in errors or URIs', async () => {
    const secret = 'do-not-print-this-secret-0123456789';
    // An unknown access key id: the one credential failure s3rver detects (it skips SigV4 checks).
    const store = s3Store({ credentials: { accessKeyId: 'NOT-AN-ID', secretAccessKey: secret } });
    const key = 'efefefefefefefefefefefef/16x9-motion.mp4';
    const file = await sourceFile('secret.mp4', Buffer.from('x'));
    assert.ok(!store.uri(key).includes(secret));
    assert.ok(!JSON.stringify(store).includes(secret));
    const clean = (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /access denied/);
      assert.ok(!err.message.includes(secret), err.message);
      return true;
    };
    await assert.rejects(store.put(key, file, 'video/mp4'), clean);
    await assert.rejects(store.get(key), clean);
    await assert.rejects(store.head(key), clean);
  });

  it('fails a put whose stored size is wrong (SDK default checksums against s3rver)', async () => {
    // With WHEN_SUPPORTED the SDK uploads an aws-chunked body with a CRC32 trailer, which s3rver
    // stores verbatim; the HeadObject size check is what turns that into an error.
    const store = s3Store({ requestChecksumCalculation: 'WHEN_SUPPORTED' });
    const key = 'cdcdcdcdcdcdcdcdcdcdcdcd/4x5-static.png';
    const file = await sourceFile('chunked.png', Buffer.alloc(10_000, 1));
    await assert.rejects(store.put(key, file, 'image/png'), /stored \d+ bytes, expected 10000/);
  });

  it('rejects bad keys before any request', async () => {
    await assertRejectsBadKeys(s3Store(), await sourceFile('bad-s3.mp4', Buffer.from('x')));
  });
});

describe('createCreativeStore', () => {
  const base = { CREATIVES_DIR: '/tmp/adloop-creatives' };

  it('builds a local store', () => {
    const store = createCreativeStore({ ...base, CREATIVE_STORE: 'local' });
    assert.equal(store.kind, 'local');
    assert.equal(store.uri('ab/1x1-static.png'), 'file:///tmp/adloop-creatives/ab/1x1-static.png');
  });

  it('builds an S3 store', () => {
    const store = createCreativeStore({
      ...base,
      CREATIVE_STORE: 's3',
      S3_BUCKET: 'bucket',
      S3_PREFIX: 'creatives/',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
    });
    assert.equal(store.kind, 's3');
    assert.equal(store.uri('ab/1x1-static.png'), 's3://bucket/creatives/ab/1x1-static.png');
  });

  it('names S3_BUCKET when it is missing', () => {
    assert.throws(() => createCreativeStore({ ...base, CREATIVE_STORE: 's3' }), /S3_BUCKET/);
    assert.throws(
      () => createCreativeStore({ ...base, CREATIVE_STORE: 's3', S3_BUCKET: '' }),
      /S3_BUCKET/,
    );
  });

  it('names the missing half of the credentials without echoing the other', () => {
    assert.throws(
      () =>
        createCreativeStore({
          ...base,
          CREATIVE_STORE: 's3',
          S3_BUCKET: 'bucket',
          S3_SECRET_ACCESS_KEY: 'top-secret-value',
        }),
      (err: Error) => /S3_ACCESS_KEY_ID/.test(err.message) && !err.message.includes('top-secret'),
    );
    assert.throws(
      () =>
        createCreativeStore({
          ...base,
          CREATIVE_STORE: 's3',
          S3_BUCKET: 'bucket',
          S3_ACCESS_KEY_ID: 'id',
        }),
      /S3_SECRET_ACCESS_KEY is missing/,
    );
  });

  it('names CREATIVE_STORE when it is neither local nor s3', () => {
    assert.throws(() => createCreativeStore({ ...base, CREATIVE_STORE: 'gcs' }), /CREATIVE_STORE/);
  });
});
