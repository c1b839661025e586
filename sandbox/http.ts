// Small HTTP helpers shared by the sandbox's platform servers.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The whole request body. */
export async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
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
