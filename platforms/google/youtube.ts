// Uploads of motion creatives to the advertiser's YouTube channel, for App ads' YouTube video
// assets. Reads (videos.list, search.list) go through @googleapis/youtube; the upload uses
// YouTube's resumable protocol (https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol),
// which the Node client lacks, through the same OAuth2 client's request():
//   POST {root}upload/youtube/v3/videos?uploadType=resumable&part=snippet,status  -> Location
//   PUT   the bytes in chunks (multiples of 256 KiB), each answered 308 with the Range that
//         arrived until the last, answered 200/201 with the video resource;
//   after a dropped connection, an empty PUT with `Content-Range: bytes */total` asks the session
//   how much arrived, and the upload resumes from there.
// upload() first looks the title up, so a retry after a lost answer does not upload twice.
import { youtube, type youtube_v3 } from '@googleapis/youtube';
import { pause } from '../../core/cancellation.ts';
import { redact } from '../../core/redact.ts';
import { PlatformError, withRequestRetry } from '../errors.ts';
import { noteRequest } from '../request-log.ts';
import type { YouTubeUploads } from './google-ads.ts';
import { oauthClient } from './oauth.ts';

export interface YouTubeConfig {
  /** YouTube Data API root with a trailing slash, e.g. https://www.googleapis.com/. */
  rootUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** Longest one request (one chunk) may take, in ms. Default 60000. */
  timeoutMs?: number;
  /** Bytes per PUT: a multiple of 256 KiB. Default 8 MiB (UPLOAD_CHUNK_BYTES). */
  chunkBytes?: number;
  /** Tries of one read, and resumptions of one upload. Default 4. */
  requestTries?: number;
}

/** YouTube wants chunks in multiples of 256 KiB (except the last). */
export const CHUNK_UNIT = 256 * 1024;
export const UPLOAD_CHUNK_BYTES = 32 * CHUNK_UNIT;
/** YouTube's limit on a title (snippet.title: "at most 100 characters", no < or >). */
export const YOUTUBE_TITLE_MAX = 100;

/** Why a title cannot be a YouTube title, or null. */
export function youtubeTitleProblem(title: string): string | null {
  if (title.trim() === '') return 'a YouTube title cannot be empty';
  if ([...title].length > YOUTUBE_TITLE_MAX)
    return `a YouTube title has at most ${YOUTUBE_TITLE_MAX} characters (got ${[...title].length})`;
  if (/[<>]/.test(title)) return 'a YouTube title cannot contain < or >';
  return null;
}

const THROTTLE_REASONS = new Set([
  'quotaExceeded',
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'uploadRateLimitExceeded',
  'dailyLimitExceeded',
]);

interface HttpFailure {
  message?: string;
  code?: unknown;
  status?: number;
  response?: {
    status?: number;
    data?: { error?: { message?: string; errors?: Array<{ reason?: string; message?: string }> } };
  };
}

/** A YouTube Data API failure as a PlatformError (reason and message only, never headers). */
export function youtubeError(err: unknown, secrets: readonly string[] = []): PlatformError {
  if (err instanceof PlatformError) return err;
  const e = (err ?? {}) as HttpFailure;
  const status = e.response?.status ?? null;
  if (status === null) {
    const code = typeof e.code === 'string' ? ` (${e.code})` : '';
    return new PlatformError('google', 'transient', `YouTube did not answer${code}`);
  }
  const body = e.response?.data?.error;
  const reason = body?.errors?.[0]?.reason ?? '';
  const message = redact(
    `YouTube HTTP ${status}${reason ? ` ${reason}` : ''}: ${body?.message ?? body?.errors?.[0]?.message ?? 'no message'}`,
    secrets,
  );
  let kind: PlatformError['kind'];
  if (THROTTLE_REASONS.has(reason) || status === 429) kind = 'throttled';
  else if (status >= 500) kind = 'transient';
  else if (status === 401 || status === 403) kind = 'auth';
  else kind = 'invalid';
  return new PlatformError('google', kind, message, null, status);
}

const headerOf = (headers: unknown, name: string): string | null => {
  if (!headers) return null;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  const v = (headers as Record<string, unknown>)[name.toLowerCase()];
  return typeof v === 'string' ? v : null;
};

/** The next byte to send from a 308's Range header (`bytes=0-1048575` -> 1048576). */
export function nextOffset(range: string | null): number {
  const m = /bytes=\d+-(\d+)/.exec(range ?? '');
  return m ? Number(m[1]) + 1 : 0;
}

export function createYouTubeUploads(c: YouTubeConfig): YouTubeUploads {
  const timeoutMs = c.timeoutMs ?? 60_000;
  const chunkBytes = c.chunkBytes ?? UPLOAD_CHUNK_BYTES;
  if (chunkBytes <= 0 || chunkBytes % CHUNK_UNIT !== 0)
    throw new Error(`YouTube upload chunks must be a multiple of ${CHUNK_UNIT} bytes`);
  const tries = c.requestTries ?? 4;
  const root = c.rootUrl.endsWith('/') ? c.rootUrl : `${c.rootUrl}/`;
  const auth = oauthClient({ ...c, timeoutMs });
  const api = youtube({ version: 'v3', auth });
  const secrets = () => [c.clientSecret, c.refreshToken, auth.credentials.access_token ?? ''];
  const callOptions = { rootUrl: root, timeout: timeoutMs, retry: false };

  /** A read, tried again on the spot when throttled or transient. */
  const read = <T>(fn: () => Promise<T>): Promise<T> =>
    withRequestRetry(
      async () => {
        try {
          return await fn();
        } catch (err) {
          throw youtubeError(err, secrets());
        }
      },
      { idempotent: true, toError: (err) => youtubeError(err, secrets()), tries },
    );

  async function findByTitle(title: string): Promise<string | null> {
    let pageToken: string | undefined;
    // The exact title is among the first results of a search for it; a few pages are enough.
    for (let page = 0; page < 4; page++) {
      const res = await read(() =>
        api.search.list(
          {
            part: ['snippet'],
            forMine: true,
            type: ['video'],
            q: title,
            maxResults: 50,
            ...(pageToken ? { pageToken } : {}),
          },
          callOptions,
        ),
      );
      const hit = (res.data.items ?? []).find(
        (i: youtube_v3.Schema$SearchResult) => i.snippet?.title === title && i.id?.videoId,
      );
      if (hit) return hit.id!.videoId!;
      pageToken = res.data.nextPageToken ?? undefined;
      if (!pageToken) return null;
    }
    return null;
  }

  /** Opens a resumable session: its URL. */
  async function openSession(p: { title: string; description: string }, total: number) {
    const res = await read(() =>
      auth.request({
        url: `${root}upload/youtube/v3/videos`,
        method: 'POST',
        params: { uploadType: 'resumable', part: 'snippet,status' },
        headers: {
          'Content-Type': 'application/json; charset=UTF-8',
          'X-Upload-Content-Type': 'video/mp4',
          'X-Upload-Content-Length': String(total),
        },
        data: {
          // categoryId 10: Music.
          snippet: { title: p.title, description: p.description, categoryId: '10' },
          status: { privacyStatus: 'unlisted', selfDeclaredMadeForKids: false },
        },
        timeout: timeoutMs,
        retry: false,
      }),
    );
    const location = headerOf(res.headers, 'location');
    if (!location)
      throw new PlatformError(
        'google',
        'transient',
        'YouTube opened no upload session (no Location)',
      );
    return new URL(location, root).toString();
  }

  /** One PUT to the session: the video id when done, else the next offset. */
  async function put(
    session: string,
    headers: Record<string, string>,
    data?: Buffer,
  ): Promise<{ id: string } | { offset: number }> {
    const res = await auth.request<youtube_v3.Schema$Video>({
      url: session,
      method: 'PUT',
      headers,
      ...(data ? { data } : {}),
      timeout: timeoutMs,
      retry: false,
      validateStatus: (s) => s === 200 || s === 201 || s === 308,
    });
    noteRequest(headerOf(res.headers, 'x-guploader-uploadid'));
    if (res.status === 308) return { offset: nextOffset(headerOf(res.headers, 'range')) };
    const id = res.data?.id;
    if (!id)
      throw new PlatformError(
        'google',
        'transient',
        'YouTube finished the upload without a video id',
      );
    return { id };
  }

  async function upload(p: { title: string; description: string; bytes: Buffer }) {
    const problem = youtubeTitleProblem(p.title);
    if (problem) throw new PlatformError('google', 'invalid', problem);
    const existing = await findByTitle(p.title);
    if (existing) return existing;
    const total = p.bytes.length;
    const session = await openSession(p, total);
    let offset = 0;
    let failures = 0;
    for (;;) {
      try {
        const end = Math.min(offset + chunkBytes, total);
        const result =
          offset >= total
            ? await put(session, { 'Content-Range': `bytes */${total}` })
            : await put(
                session,
                {
                  'Content-Type': 'video/mp4',
                  'Content-Range': `bytes ${offset}-${end - 1}/${total}`,
                },
                p.bytes.subarray(offset, end),
              );
        if ('id' in result) return result.id;
        offset = result.offset;
        failures = 0;
      } catch (err) {
        const e = youtubeError(err, secrets());
        // 4xx other than throttling: the session is gone or the file refused; no resuming.
        if (!e.retryable || ++failures >= tries) throw e;
        await pause(250 * 2 ** (failures - 1));
        // Ask the session how much arrived, then go on from there.
        try {
          const status = await put(session, { 'Content-Range': `bytes */${total}` });
          if ('id' in status) return status.id;
          offset = status.offset;
        } catch (again) {
          const e2 = youtubeError(again, secrets());
          if (!e2.retryable) throw e2;
        }
      }
    }
  }

  return {
    upload,
    findByTitle,
    async status(videoId) {
      const res = await read(() =>
        api.videos.list({ part: ['status'], id: [videoId] }, callOptions),
      );
      const video = res.data.items?.[0];
      if (!video)
        throw new PlatformError('google', 'invalid', `YouTube video ${videoId} not found`);
      return {
        upload: video.status?.uploadStatus ?? '',
        privacy: video.status?.privacyStatus ?? '',
      };
    },
  };
}
