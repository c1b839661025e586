// Small HTTP helpers shared by the sandbox's platform servers.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * Longest a client may take to send one whole request, headers and body, to a sandbox server:
 * past it Node answers 408 and closes the connection, so a body sent slowly forever cannot hold
 * a connection (or the buffer behind it) open. Two minutes is far more than any upload the
 * servers accept takes even off loopback. Answering is not counted: a long report or a request
 * held by the timeoutRate fault is not cut.
 */
export const REQUEST_TIMEOUT_MS = 120_000;
/** Longest a client may take to send a request's headers (a slow-headers client). */
const HEADERS_TIMEOUT_MS = 30_000;

/**
 * An HTTP server for one sandbox API, with the request and headers timeouts above (`requestTimeoutMs`
 * shortens both, for tests). Node checks them every `connectionsCheckingInterval`: a quarter of
 * the timeout, at most its default 30 s.
 */
export function sandboxHttpServer(
  handler: http.RequestListener,
  requestTimeoutMs = REQUEST_TIMEOUT_MS,
): http.Server {
  return http.createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs),
      connectionsCheckingInterval: Math.min(30_000, Math.max(10, Math.floor(requestTimeoutMs / 4))),
    },
    handler,
  );
}

/** One documented rate limit: at most `limit` requests per `windowMs`. */
export interface RateLimitRule {
  limit: number;
  windowMs: number;
}

/**
 * Server-side rate limits as token buckets (one per rule, each refilling `limit` tokens per
 * `windowMs`): a request goes through only when every bucket has a token. `tryTake` never waits;
 * it answers 0 (go) or how many ms until the request would go, for the 429's retry hint.
 */
export class RateLimiter {
  private readonly buckets: Array<RateLimitRule & { tokens: number; last: number }>;

  constructor(
    rules: RateLimitRule[],
    private readonly now: () => number = () => performance.now(),
  ) {
    const t = now();
    this.buckets = rules.map((r) => ({ ...r, tokens: r.limit, last: t }));
  }

  tryTake(): number {
    const t = this.now();
    let waitMs = 0;
    for (const b of this.buckets) {
      b.tokens = Math.min(b.limit, b.tokens + ((t - b.last) / b.windowMs) * b.limit);
      b.last = t;
      if (b.tokens < 1) waitMs = Math.max(waitMs, ((1 - b.tokens) / b.limit) * b.windowMs);
    }
    if (waitMs > 0) return Math.ceil(waitMs);
    for (const b of this.buckets) b.tokens -= 1;
    return 0;
  }
}

/**
 * Holds a request without answering it (the `timeoutRate` fault): its body is read and thrown
 * away, nothing is carried out, and after `ms` the connection is dropped without a response.
 * Resolves once the connection is gone: then, or earlier when the client gave up or the server
 * closed its connections. The timer never keeps the process alive, and is cleared either way.
 */
export function holdWithoutAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  ms: number,
): Promise<void> {
  req.resume();
  return new Promise((resolve) => {
    if (req.socket.destroyed) {
      resolve();
      return;
    }
    const timer = setTimeout(() => req.socket.destroy(), ms);
    timer.unref();
    res.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Holds a write drawn by the `lateWriteRate` fault for `ms` before it is carried out: the client
 * may give up meanwhile, and the write lands all the same. Resolves after `ms` whatever the client
 * does; the timer never keeps the process alive.
 */
export function holdLateWrite(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Whether the client is still there to read an answer (it may have given up on a late write). */
export const clientWaiting = (res: ServerResponse): boolean =>
  !res.destroyed && !res.socket?.destroyed;

/**
 * Form and query values that hold JSON (`targeting={"geo_locations":…}`) as the platforms accept
 * them; anything else, including JSON that does not parse, stays as sent.
 */
export function parseMaybeJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
    try {
      return JSON.parse(t);
    } catch {
      return v;
    }
  }
  return v;
}
