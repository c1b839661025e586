// The codec server the Temporal UI (and `temporal --codec-endpoint`) calls to show encrypted
// payloads decoded: POST /decode and /encode with {"payloads": [...]} in proto3 JSON (metadata
// values and data base64). It holds the key, so run it only where the operators who may read
// payloads are: by default it listens on loopback, and it answers CORS requests only from the
// configured UI origins.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

export interface CodecServer {
  url: string;
  close(): Promise<void>;
}

export async function startCodecServer(
  codec: PayloadCodec,
  o: { port?: number; host?: string; origins: string[] },
): Promise<CodecServer> {
  const server = http.createServer((req, res) => {
    const origin = req.headers.origin;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (origin && o.origins.includes(origin)) {
      headers['access-control-allow-origin'] = origin;
      headers['access-control-allow-methods'] = 'POST, OPTIONS';
      headers['access-control-allow-headers'] = 'content-type, x-namespace, authorization';
      headers['access-control-allow-credentials'] = 'true';
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(origin && !headers['access-control-allow-origin'] ? 403 : 204, headers).end();
      return;
    }
    const route = req.url?.split('?')[0];
    if (req.method !== 'POST' || (route !== '/decode' && route !== '/encode')) {
      res.writeHead(404, headers).end(JSON.stringify({ error: 'POST /decode or /encode' }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            payloads?: JsonPayload[];
          };
          if (!Array.isArray(body.payloads))
            throw new Error('the body must be {"payloads": [...]}');
          const payloads = body.payloads.map(fromJson);
          const out =
            route === '/decode' ? await codec.decode(payloads) : await codec.encode(payloads);
          res.writeHead(200, headers).end(JSON.stringify({ payloads: out.map(toJson) }));
        } catch (err) {
          res
            .writeHead(400, headers)
            .end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
