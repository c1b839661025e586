// Where rendered creatives live. Keys are content-addressed (`<creative hash>/<ratio>-<kind>.<ext>`),
// so "does the key exist" is the render cache: a store must never show a key whose object is
// incomplete, or a crash mid-write would be cached forever. The local store gets that from
// write-to-temp + fsync + rename, S3 from PutObject itself (an object appears whole or not at all),
// checked afterwards with HeadObject.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ConfigError } from '../core/config.ts';

export interface StoredObject {
  key: string;
  /** `file:///...` or `s3://bucket/prefix+key`. */
  uri: string;
  bytes: number;
}

export interface CreativeStore {
  readonly kind: 'local' | 's3';
  /** The stored object when the key exists (complete, never half-written), else null. */
  head(key: string): Promise<StoredObject | null>;
  /** Stores a local file under key (atomic: readers never see a partial object); returns it. */
  put(key: string, file: string, contentType: string): Promise<StoredObject>;
  /** The object's bytes. Throws an Error naming the key (and bucket) when missing. */
  get(key: string): Promise<Buffer>;
  /**
   * A local path with the object's bytes: the file itself for the local store, a downloaded copy
   * in the cache directory for S3.
   */
  localPath(key: string): Promise<string>;
  uri(key: string): string;
}

/**
 * Throws unless `key` is a relative, normalised, slash-separated path. Keys become file paths (the
 * local store, the S3 download cache), so `..`, absolute paths, backslashes and empty segments
 * could escape the directory or name one file two ways.
 */
function checkKey(key: string): void {
  const bad = (why: string) => new Error(`invalid creative key ${JSON.stringify(key)}: ${why}`);
  if (typeof key !== 'string' || key === '') throw bad('empty');
  if (key.includes('\\')) throw bad('backslashes are not allowed');
  if (key.includes('\0')) throw bad('NUL is not allowed');
  if (key.startsWith('/') || path.isAbsolute(key) || path.win32.isAbsolute(key))
    throw bad('must be relative');
  for (const segment of key.split('/')) {
    if (segment === '') throw bad('empty path segment');
    if (segment === '.' || segment === '..') throw bad(`"${segment}" segment`);
  }
}

const isMissingFile = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

/** A temp name next to `target`: rename is only atomic within one file system. */
const tempNameFor = (target: string) =>
  path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );

/**
 * Moves a fully written `tmp` over `target`. The fsync comes first because on ext4/xfs a crash
 * after the rename but before the data reaches disk can leave an empty file under the final name,
 * which `head` would then report as a cached creative.
 */
async function commitTemp(tmp: string, target: string): Promise<void> {
  const handle = await fs.promises.open(tmp, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(tmp, target);
}

/** A store on the local filesystem: `key` is the path below `dir`; URIs are `file://`. */
export function createLocalStore(dir: string): CreativeStore {
  const root = path.resolve(dir);
  const pathOf = (key: string) => {
    checkKey(key);
    return path.join(root, ...key.split('/'));
  };
  const uriOf = (file: string) => pathToFileURL(file).href;

  const head = async (key: string): Promise<StoredObject | null> => {
    const file = pathOf(key);
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(file);
    } catch (err) {
      if (isMissingFile(err)) return null;
      throw err;
    }
    if (!stat.isFile()) throw new Error(`creative ${key} in ${root} is not a regular file`);
    return { key, uri: uriOf(file), bytes: stat.size };
  };

  return {
    kind: 'local',

    uri: (key) => uriOf(pathOf(key)),

    head,

    async put(key, file, _contentType) {
      const target = pathOf(key);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      const tmp = tempNameFor(target);
      try {
        await fs.promises.copyFile(file, tmp);
        // Sized from the temp copy: after the rename another writer of the same key may win.
        const { size } = await fs.promises.stat(tmp);
        await commitTemp(tmp, target);
        return { key, uri: uriOf(target), bytes: size };
      } catch (err) {
        await fs.promises.rm(tmp, { force: true });
        throw err;
      }
    },

    async get(key) {
      const file = pathOf(key);
      try {
        return await fs.promises.readFile(file);
      } catch (err) {
        if (isMissingFile(err))
          throw new Error(`creative ${key} is not in ${root}`, { cause: err });
        throw err;
      }
    },

    async localPath(key) {
      if ((await head(key)) === null) throw new Error(`creative ${key} is not in ${root}`);
      return pathOf(key);
    },
  };
}

/**
 * Checksum modes of the AWS SDK (see S3ClientConfig). Recent SDK versions default to
 * `WHEN_SUPPORTED`, which sends every PutObject as an `aws-chunked` body with a CRC32 trailer.
 * Servers that predate that may reject it or, like s3rver 3.7, accept it and store the chunk
 * framing as part of the object (a 100000-byte file became 100053 bytes).
 */
export type ChecksumMode = 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';

export interface S3StoreOptions {
  bucket: string;
  /** Prepended verbatim to every key (`creatives/` keeps them in a folder). Default none. */
  prefix?: string;
  /** URL of an S3-compatible server (MinIO, R2, ...). Default AWS S3 for `region`. */
  endpoint?: string;
  /** Default `us-east-1` (S3-compatible servers mostly ignore it; AWS buckets need theirs). */
  region?: string;
  /**
   * `http://host/bucket/key` instead of `http://bucket.host/key`. Default true when `endpoint` is
   * set, since self-hosted servers rarely have wildcard DNS for bucket subdomains; else false.
   */
  forcePathStyle?: boolean;
  /** Default the SDK's credential chain (AWS_* environment, shared config files, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Where `localPath` keeps downloaded copies. */
  cacheDir: string;
  /**
   * When the SDK adds a checksum to uploads. Default `WHEN_REQUIRED`: `WHEN_SUPPORTED` breaks
   * uploads to some S3-compatible servers (see ChecksumMode). Upload integrity does not rest on
   * it: `put` sends Content-MD5 (verified by AWS S3 and most compatible servers, not by s3rver)
   * and checks the stored size with HeadObject.
   */
  requestChecksumCalculation?: ChecksumMode;
  /**
   * When the SDK validates checksums of downloads. Default `WHEN_SUPPORTED`: it validates only
   * when the server returns a checksum, so it is harmless for servers that return none.
   */
  responseChecksumValidation?: ChecksumMode;
}

/** Enough of an SDK service exception to describe it; the SDK adds no secrets to these fields. */
interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const statusOf = (err: unknown) => (err as SdkError).$metadata?.httpStatusCode;

/** Errors worth another attempt: network failures, throttling, server errors. */
const isTransient = (err: unknown) => {
  const status = statusOf(err);
  return (
    status === undefined ||
    status >= 500 ||
    status === 429 ||
    status === 408 ||
    (err as SdkError).name === 'RequestTimeout'
  );
};

const PUT_ATTEMPTS = 3;

async function md5Base64(file: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('base64');
}

/**
 * A store in an S3 bucket (AWS or S3-compatible); URIs are `s3://bucket/prefix+key`. A HEAD on a
 * missing bucket answers a bare 404 like a missing key, so `head` returns null then; `put` and
 * `get` name the missing bucket.
 */
export function createS3Store(opts: S3StoreOptions): CreativeStore {
  const { bucket, prefix = '', cacheDir } = opts;
  if (!bucket || bucket.includes('/'))
    throw new Error(`invalid S3 bucket ${JSON.stringify(bucket)}`);
  // The prefix ends up in cache paths too, so it must pass the key rules (a trailing `/` is fine).
  if (prefix !== '') checkKey(`${prefix}x`);
  if (opts.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(opts.endpoint);
    } catch {
      throw new Error(`S3 endpoint ${JSON.stringify(opts.endpoint)} is not a URL`);
    }
    // Not echoed: user info in a URL is usually a secret.
    if (url.username || url.password)
      throw new Error('S3 endpoint must not carry credentials in the URL; pass credentials');
  }
  // Kept in this closure, never on the returned object, so logging the store cannot print the
  // client's credentials.
  const client = new S3Client({
    region: opts.region ?? 'us-east-1',
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle ?? opts.endpoint !== undefined,
    credentials: opts.credentials && { ...opts.credentials },
    requestChecksumCalculation: opts.requestChecksumCalculation ?? 'WHEN_REQUIRED',
    responseChecksumValidation: opts.responseChecksumValidation ?? 'WHEN_SUPPORTED',
  });

  const objectKey = (key: string) => {
    checkKey(key);
    return prefix + key;
  };
  const uriOf = (key: string) => `s3://${bucket}/${objectKey(key)}`;

  /** An Error naming the object and what went wrong, with the SDK's error as cause. */
  const failure = (action: string, key: string, err: unknown): Error => {
    const e = err as SdkError;
    const status = statusOf(err);
    let why: string;
    if (e.name === 'NoSuchBucket') why = `bucket ${bucket} does not exist`;
    else if (e.name === 'NoSuchKey' || e.name === 'NotFound' || status === 404)
      why = `no object ${objectKey(key)} in bucket ${bucket}`;
    else if (status === 403)
      // S3 answers 403, not 404, for a missing key when the caller may not list the bucket.
      why = `access denied (HTTP 403 ${e.name ?? ''}; a missing key also reads as 403 without s3:ListBucket)`;
    else
      why = `${e.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`;
    return new Error(`S3 ${action} of ${uriOf(key)} failed: ${why}`, { cause: err });
  };

  const head = async (key: string): Promise<StoredObject | null> => {
    const Key = objectKey(key);
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
      return { key, uri: uriOf(key), bytes: out.ContentLength ?? 0 };
    } catch (err) {
      if (statusOf(err) === 404 || (err as SdkError).name === 'NotFound') return null;
      throw failure('head', key, err);
    }
  };

  /** The object's body as a Node stream, with its length. */
  const open = async (key: string) => {
    const Key = objectKey(key);
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
      if (!(out.Body instanceof Readable)) throw new Error('response body is not a Node stream');
      return { body: out.Body, length: out.ContentLength };
    } catch (err) {
      throw failure('get', key, err);
    }
  };

  const checkLength = (key: string, got: number, expected: number | undefined) => {
    if (expected !== undefined && got !== expected)
      throw new Error(`S3 get of ${uriOf(key)} returned ${got} of ${expected} bytes`);
  };

  return {
    kind: 's3',

    uri: uriOf,

    head,

    async put(key, file, contentType) {
      const Key = objectKey(key);
      const { size } = await fs.promises.stat(file);
      const ContentMD5 = await md5Base64(file);
      for (let attempt = 1; ; attempt++) {
        try {
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key,
              // A fresh stream per attempt: the SDK never retries a request whose streamed body
              // it has consumed, so retries of transient failures happen here instead.
              Body: fs.createReadStream(file),
              ContentLength: size,
              ContentType: contentType,
              ContentMD5,
            }),
          );
          break;
        } catch (err) {
          if (attempt >= PUT_ATTEMPTS || !isTransient(err)) throw failure('put', key, err);
          await sleep(250 * 2 ** (attempt - 1));
        }
      }
      const stored = await head(key);
      if (stored === null)
        throw new Error(`S3 put of ${uriOf(key)} succeeded but the object is missing`);
      if (stored.bytes !== size)
        throw new Error(
          `S3 put of ${uriOf(key)} stored ${stored.bytes} bytes, expected ${size}` +
            ' (a server that does not understand aws-chunked uploads stores the framing too)',
        );
      return stored;
    },

    async get(key) {
      const { body, length } = await open(key);
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      checkLength(key, bytes.length, length);
      return bytes;
    },

    async localPath(key) {
      // Content-addressed keys: a cached copy is the object (and complete, thanks to the rename),
      // so it is used without asking the server again.
      const file = path.join(path.resolve(cacheDir), bucket, ...objectKey(key).split('/'));
      try {
        if ((await fs.promises.stat(file)).isFile()) return file;
      } catch (err) {
        if (!isMissingFile(err)) throw err;
      }
      const { body, length } = await open(key);
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      const tmp = tempNameFor(file);
      try {
        await pipeline(body, fs.createWriteStream(tmp));
        checkLength(key, (await fs.promises.stat(tmp)).size, length);
        await commitTemp(tmp, file);
      } catch (err) {
        await fs.promises.rm(tmp, { force: true });
        throw err;
      }
      return file;
    },
  };
}

export interface CreativeStoreConfig {
  /** `local` (default in the app config) or `s3`. */
  CREATIVE_STORE: string;
  /** The local store's directory; with S3, holds the download cache (`.s3-cache`). */
  CREATIVES_DIR: string;
  S3_BUCKET?: string;
  S3_PREFIX?: string;
  S3_ENDPOINT?: string;
  S3_REGION?: string;
  S3_FORCE_PATH_STYLE?: boolean;
  S3_ACCESS_KEY_ID?: string;
  /** Secret: never echoed in errors. */
  S3_SECRET_ACCESS_KEY?: string;
}

/** The store the configuration names; throws a ConfigError naming the setting that is wrong. */
export function createCreativeStore(config: CreativeStoreConfig): CreativeStore {
  // An empty value means "not set", as in core/config.ts.
  const set = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  switch (config.CREATIVE_STORE) {
    case 'local':
      return createLocalStore(config.CREATIVES_DIR);
    case 's3': {
      const bucket = set(config.S3_BUCKET);
      if (bucket === undefined)
        throw new ConfigError(
          'CREATIVE_STORE=s3 needs S3_BUCKET (the bucket to store creatives in)',
        );
      const accessKeyId = set(config.S3_ACCESS_KEY_ID);
      const secretAccessKey = set(config.S3_SECRET_ACCESS_KEY);
      if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
        const missing = accessKeyId === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY';
        throw new ConfigError(
          `${missing} is missing: set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither` +
            ' to use the AWS default credential chain',
        );
      }
      return createS3Store({
        bucket,
        prefix: set(config.S3_PREFIX),
        endpoint: set(config.S3_ENDPOINT),
        region: set(config.S3_REGION),
        forcePathStyle: config.S3_FORCE_PATH_STYLE,
        credentials:
          accessKeyId !== undefined && secretAccessKey !== undefined
            ? { accessKeyId, secretAccessKey }
            : undefined,
        cacheDir: path.join(config.CREATIVES_DIR, '.s3-cache'),
      });
    }
    default:
      throw new ConfigError(
        `CREATIVE_STORE must be local or s3, not ${JSON.stringify(config.CREATIVE_STORE)}`,
      );
  }
}
