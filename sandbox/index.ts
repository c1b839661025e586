// Starts the sandbox: the simulated market behind a local Graph API server. Used by `npm start`,
// `npm run sandbox` and every test that needs an ad platform.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { todayUtc } from '../core/dates.ts';
import type { SandboxClock } from './contracts.ts';
import { MetaGraphSandbox } from './meta/graph-server.ts';
import { GraphStore } from './meta/graph-store.ts';
import { Simulator } from './simulator.ts';
import { loadWorld, type World } from './world.ts';

export interface SandboxOptions {
  /** World file path. */
  world: string;
  /** Port of the Graph API server; 0 picks a free one. Default 0. */
  metaPort?: number;
  /** Interface to bind. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Where to persist platform state; null keeps it in memory. Default null. */
  statePath?: string | null;
  /** Fixed business date; default follows the UTC wall clock. */
  date?: string;
}

export interface Sandbox {
  world: World;
  meta: MetaGraphSandbox;
  /** Base URL of the Graph API (without version), e.g. http://127.0.0.1:4010. */
  metaUrl: string;
  credentials: { accessToken: string; adAccountId: string; pageId: string };
  clock: SandboxClock & { set(date: string | null): void };
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const world = loadWorld(options.world);
  const simulator = new Simulator(world);
  let fixed: string | null = options.date ?? null;
  const clock = {
    today: () => fixed ?? todayUtc(),
    set: (date: string | null) => {
      fixed = date;
    },
  };
  const store = new GraphStore(simulator.idSeed, options.statePath ?? null);
  const meta = new MetaGraphSandbox(world, simulator, store, clock);
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/__sandbox/')) return control(req, res);
    meta.handle(req, res);
  });

  // Loopback-only control endpoints, so an out-of-process test or operator can move the clock and
  // inject faults. They are not part of any platform's API.
  function control(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = chunks.length
          ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>)
          : {};
        const path = (req.url ?? '').split('?')[0];
        if (path === '/__sandbox/clock' && req.method === 'POST')
          clock.set((body.date as string | null) ?? null);
        else if (path === '/__sandbox/faults' && req.method === 'POST')
          Object.assign(meta.faults, body.meta ?? {});
        else if (path !== '/__sandbox/status') throw new Error(`unknown control path ${path}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            world: world.name,
            today: clock.today(),
            faults: { meta: meta.faults },
          }),
        );
      } catch (err) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: (err as Error).message }));
      }
    });
  }

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.metaPort ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const metaUrl = `http://${host}:${port}`;
  meta.setBaseUrl(metaUrl);
  return {
    world,
    meta,
    metaUrl,
    credentials: {
      accessToken: world.meta.accessToken,
      adAccountId: world.meta.adAccountId,
      pageId: world.meta.pageId,
    },
    clock,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
