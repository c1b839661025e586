// Small HTTP helpers shared by the sandbox's platform servers.
import type { IncomingMessage } from 'node:http';

/** The whole request body. */
export async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
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
