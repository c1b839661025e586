// Reading a request body within a limit: the one reader adloop's HTTP servers share.
import type { IncomingMessage } from 'node:http';

/**
 * A request body over its server's limit. Servers answer it with HTTP 413 (Payload Too Large)
 * naming the limit; the sandbox's in its platform's own error envelope (no platform documents a
 * body for it, and 413 is what an HTTP front end sends).
 */
export class BodyTooLarge extends Error {
  readonly status = 413;

  constructor(readonly maxBytes: number) {
    super(`request body is larger than ${maxBytes} bytes`);
  }
}

/**
 * The whole request body, refused (BodyTooLarge) as soon as it passes `maxBytes`, or at once when
 * its Content-Length says it will: a server never buffers more than that, whatever a client sends.
 * The rest of the body is drained, not kept, so the connection stays usable after the 413; a body
 * that never ends is cut by the server's request timeout. Every server adloop runs (the sandbox's,
 * the codec server) reads bodies through this.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    throw new BodyTooLarge(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > maxBytes) {
      req.resume();
      throw new BodyTooLarge(maxBytes);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
