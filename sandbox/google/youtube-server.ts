// A wire-faithful local YouTube Data API v3 (the subset adloop uploads App campaign videos with),
// on the Google sandbox's REST port, with the same OAuth access tokens:
//   POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status   start an upload
//   PUT  <session Location>                          the bytes, whole or in Content-Range chunks
//   GET  /youtube/v3/videos?part=status,snippet&id=a,b
//   GET  /youtube/v3/search?part=snippet&forMine=true&type=video&q=...&maxResults=50
// Sources: [yt X] developers.google.com/youtube/v3/X. Errors are YouTube's
// {error: {code, message, errors: [{domain, reason, message}]}}.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxClock } from '../contracts.ts';
import { isMp4, mp4Size } from '../media.ts';
import { BodyTooLarge, MiB, readBody } from '../platform-server/index.ts';
import type { GoogleStore } from './google-store.ts';

/** [yt docs/videos#resource] snippet.title: "at most 100 characters ... cannot contain < or >". */
export const MAX_TITLE = 100;
/** [yt docs/videos#resource] snippet.description: "at most 5000 bytes ... cannot contain < or >". */
export const MAX_DESCRIPTION_BYTES = 5000;
/**
 * [yt determine_quota_cost] "10,000 units per day"; videos.insert costs 1,600 units (the figure in
 * the quota calculator), videos.list 1, search.list 100.
 */
export const YOUTUBE_QUOTA = { daily: 10_000, insert: 1_600, list: 1, search: 100 };
/** The sandbox holds an upload in memory; a video of adloop's is a few MB. */
export const MAX_VIDEO_BYTES = 512 * MiB;
/** [yt docs/search/list] maxResults: "Acceptable values are 0 to 50, inclusive. The default value is 5." */
const MAX_RESULTS = 50;

export class YouTubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly domain = 'youtube.api',
  ) {
    super(message);
  }
}

interface Session {
  metadata: { title: string; description: string; privacyStatus: string };
  length: number;
  contentType: string;
  chunks: Buffer[];
  received: number;
}

export interface YouTubeVideo {
  id: string;
  title: string;
  description: string;
  privacyStatus: string;
  uploadStatus: 'uploaded' | 'processed' | 'failed';
  width: number;
  height: number;
  processed: boolean;
}

export class YouTubeSandbox {
  /** How long a video takes to process after its upload completes (wall clock). Default 1 s. */
  processingMs = 1_000;
  /** Quota units used per sandbox day. */
  private readonly used = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly store: GoogleStore,
    private readonly channelId: string,
    private readonly clock: SandboxClock,
    private readonly baseUrl: () => string,
    /** The project's units a day (world google.youtubeDailyQuota), read on every call. */
    private readonly dailyQuota: () => number = () => YOUTUBE_QUOTA.daily,
    private readonly now: () => number = () => Date.now(),
  ) {}

  private stored(id: string) {
    return this.store.get(id, 'youtube_video');
  }

  /** A video as the Ads side sees it (VideoCatalog); null when there is none. */
  video(id: string): YouTubeVideo | null {
    const v = this.stored(id);
    if (!v) return null;
    const f = v.fields;
    const done = this.now() >= Number(f._processedAt);
    const uploadStatus =
      f._valid !== true ? (done ? 'failed' : 'uploaded') : done ? 'processed' : 'uploaded';
    return {
      id,
      title: String(f.title),
      description: String(f.description),
      privacyStatus: String(f.privacyStatus),
      uploadStatus,
      width: Number(f.width),
      height: Number(f.height),
      processed: uploadStatus === 'processed',
    };
  }

  description(id: string): string | null {
    return this.video(id)?.description ?? null;
  }

  private resource(v: YouTubeVideo) {
    return {
      kind: 'youtube#video',
      etag: v.id,
      id: v.id,
      snippet: {
        title: v.title,
        description: v.description,
        channelId: this.channelId,
        categoryId: '22',
      },
      status: {
        uploadStatus: v.uploadStatus,
        ...(v.uploadStatus === 'failed' ? { failureReason: 'invalidFile' } : {}),
        privacyStatus: v.privacyStatus,
      },
    };
  }

  private spend(units: number) {
    const day = this.clock.today();
    const used = this.used.get(day) ?? 0;
    if (used + units > this.dailyQuota())
      throw new YouTubeError(
        403,
        'quotaExceeded',
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
      );
    this.used.set(day, used + units);
  }

  /** Serves a YouTube request (already authenticated); true when the path was YouTube's. */
  async serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const p = url.pathname;
    if (!p.startsWith('/upload/youtube/v3/') && !p.startsWith('/youtube/v3/')) return false;
    try {
      const method = req.method ?? 'GET';
      if (p === '/upload/youtube/v3/videos' && method === 'POST') await this.start(req, res, url);
      else if (p === '/upload/youtube/v3/videos' && method === 'PUT')
        await this.upload(req, res, url);
      else if (p === '/youtube/v3/videos' && method === 'GET') this.list(res, url);
      else if (p === '/youtube/v3/search' && method === 'GET') this.search(res, url);
      else throw new YouTubeError(404, 'notFound', `Not Found: ${method} ${p}`, 'global');
    } catch (err) {
      const e =
        err instanceof YouTubeError
          ? err
          : err instanceof BodyTooLarge
            ? new YouTubeError(
                413,
                'uploadLimitExceeded',
                'The file exceeds the maximum size the sandbox accepts.',
              )
            : new YouTubeError(500, 'backendError', (err as Error).message, 'global');
      youtubeError(res, e);
    }
    return true;
  }

  private async start(req: IncomingMessage, res: ServerResponse, url: URL) {
    if (url.searchParams.get('uploadType') !== 'resumable')
      throw new YouTubeError(400, 'invalidParameter', "uploadType must be 'resumable'.", 'global');
    const parts = (url.searchParams.get('part') ?? '').split(',').filter(Boolean);
    if (!parts.includes('snippet'))
      throw new YouTubeError(400, 'invalidPart', "The part parameter must include 'snippet'.");
    const raw = await readBody(req, 64 * 1024);
    let body: {
      snippet?: { title?: unknown; description?: unknown };
      status?: { privacyStatus?: unknown };
    };
    try {
      body = raw.length ? (JSON.parse(raw.toString('utf8')) as typeof body) : {};
    } catch {
      throw new YouTubeError(400, 'parseError', 'Parse Error', 'global');
    }
    const title = body.snippet?.title;
    if (typeof title !== 'string' || title.trim() === '')
      throw new YouTubeError(
        400,
        'invalidTitle',
        'The request metadata specifies an invalid or empty video title.',
      );
    if ([...title].length > MAX_TITLE || /[<>]/.test(title))
      throw new YouTubeError(
        400,
        'invalidTitle',
        'The request metadata specifies an invalid video title.',
      );
    const description =
      typeof body.snippet?.description === 'string' ? body.snippet.description : '';
    if (Buffer.byteLength(description) > MAX_DESCRIPTION_BYTES || /[<>]/.test(description))
      throw new YouTubeError(
        400,
        'invalidDescription',
        'The request metadata specifies an invalid video description.',
      );
    const privacyStatus =
      typeof body.status?.privacyStatus === 'string' ? body.status.privacyStatus : 'private';
    if (!['public', 'private', 'unlisted'].includes(privacyStatus))
      throw new YouTubeError(400, 'invalidVideoMetadata', 'The request metadata is invalid.');
    const length = Number(req.headers['x-upload-content-length']);
    const contentType = String(req.headers['x-upload-content-type'] ?? '');
    if (!contentType.startsWith('video/') && contentType !== 'application/octet-stream')
      throw new YouTubeError(
        400,
        'mediaBodyRequired',
        'X-Upload-Content-Type must be a video type.',
        'global',
      );
    if (!Number.isInteger(length) || length <= 0 || length > MAX_VIDEO_BYTES)
      throw new YouTubeError(
        400,
        'invalidParameter',
        'X-Upload-Content-Length must give the video size.',
        'global',
      );
    this.spend(YOUTUBE_QUOTA.insert);
    const uploadId = randomBytes(16).toString('hex');
    this.sessions.set(uploadId, {
      metadata: { title, description, privacyStatus },
      length,
      contentType,
      chunks: [],
      received: 0,
    });
    const location = `${this.baseUrl()}/upload/youtube/v3/videos?uploadType=resumable&part=${parts.join(',')}&upload_id=${uploadId}`;
    res.writeHead(200, { location, 'x-guploader-uploadid': uploadId, 'content-length': '0' }).end();
  }

  private async upload(req: IncomingMessage, res: ServerResponse, url: URL) {
    const id = url.searchParams.get('upload_id') ?? '';
    const session = this.sessions.get(id);
    if (!session)
      throw new YouTubeError(
        404,
        'notFound',
        'The upload session was not found or has expired.',
        'global',
      );
    const bytes = await readBody(req, MAX_VIDEO_BYTES);
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(req.headers['content-range'] ?? ''));
    const statusQuery = /^bytes \*\/(\d+)$/.exec(String(req.headers['content-range'] ?? ''));
    if (!statusQuery) {
      const start = range ? Number(range[1]) : 0;
      if (start !== session.received)
        throw new YouTubeError(
          400,
          'badContent',
          `The chunk starts at ${start}, expected ${session.received}.`,
          'global',
        );
      session.chunks.push(bytes);
      session.received += bytes.length;
    }
    if (session.received < session.length) {
      // [doc resumable uploads] 308 Resume Incomplete with the Range received so far.
      res
        .writeHead(
          308,
          session.received > 0
            ? { range: `bytes=0-${session.received - 1}`, 'content-length': '0' }
            : { 'content-length': '0' },
        )
        .end();
      return;
    }
    this.sessions.delete(id);
    const data = Buffer.concat(session.chunks);
    const valid = isMp4(data);
    const size = valid ? mp4Size(data) : null;
    const obj = this.store.create(
      'youtube_video',
      this.channelId,
      {
        ...session.metadata,
        width: size?.width ?? 0,
        height: size?.height ?? 0,
        _valid: valid && size !== null,
        _processedAt: this.now() + this.processingMs,
      },
      this.clock.today(),
      videoId(),
    );
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(this.resource(this.video(obj.id)!)));
  }

  private list(res: ServerResponse, url: URL) {
    this.spend(YOUTUBE_QUOTA.list);
    const ids = (url.searchParams.get('id') ?? '').split(',').filter(Boolean);
    if (ids.length > 50)
      throw new YouTubeError(400, 'invalidParameter', 'At most 50 ids.', 'global');
    const items = ids.flatMap((id) => {
      const v = this.video(id);
      return v ? [this.resource(v)] : [];
    });
    json(res, {
      kind: 'youtube#videoListResponse',
      items,
      pageInfo: { totalResults: items.length, resultsPerPage: items.length },
    });
  }

  private search(res: ServerResponse, url: URL) {
    const sp = url.searchParams;
    if (sp.get('forMine') !== 'true' || sp.get('type') !== 'video')
      throw new YouTubeError(
        400,
        'invalidSearchFilter',
        'The sandbox serves forMine=true&type=video searches.',
      );
    const max = Number(sp.get('maxResults') ?? 5);
    if (!Number.isInteger(max) || max < 0 || max > MAX_RESULTS)
      throw new YouTubeError(
        400,
        'invalidParameter',
        `maxResults must be between 0 and ${MAX_RESULTS}.`,
        'global',
      );
    this.spend(YOUTUBE_QUOTA.search);
    const q = (sp.get('q') ?? '').toLowerCase();
    const items = this.store
      .list('youtube_video', this.channelId)
      .filter((v) => String(v.fields.title).toLowerCase().includes(q))
      .reverse()
      .slice(0, max)
      .map((v) => ({
        kind: 'youtube#searchResult',
        id: { kind: 'youtube#video', videoId: v.id },
        snippet: {
          title: v.fields.title,
          description: v.fields.description,
          channelId: this.channelId,
        },
      }));
    json(res, {
      kind: 'youtube#searchListResponse',
      items,
      pageInfo: { totalResults: items.length, resultsPerPage: max },
    });
  }
}

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** An 11-character YouTube video id. */
function videoId(): string {
  return [...randomBytes(11)].map((b) => ID_CHARS[b % 64]).join('');
}

function json(res: ServerResponse, body: unknown) {
  res
    .writeHead(200, { 'content-type': 'application/json; charset=UTF-8' })
    .end(JSON.stringify(body));
}

export function youtubeError(res: ServerResponse, e: YouTubeError) {
  res.writeHead(e.code, { 'content-type': 'application/json; charset=UTF-8' }).end(
    JSON.stringify({
      error: {
        code: e.code,
        message: e.message,
        errors: [{ domain: e.domain, reason: e.reason, message: e.message }],
      },
    }),
  );
}
