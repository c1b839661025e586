// Starts the sandbox: the simulated market behind local, wire-faithful servers for Meta's Graph
// API, TikTok's Business API, Google Ads (REST and gRPC, with OAuth and YouTube uploads), Adjust's
// Report Service and Branch's Query API, each on its own loopback port. Used by `npm start`, `npm run sandbox` and every test that needs a platform.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { todayUtc } from '../core/dates.ts';
import type { SandboxClock } from './contracts.ts';
import {
  CONTROL_UNAUTHORIZED,
  controlHeaders,
  controlTokenRequired,
  hasControlToken,
  missingControlTokenMessage,
} from './control-access.ts';
import { REQUEST_TIMEOUT_MS, sandboxHttpServer } from './http.ts';
import { BodyTooLarge, readBody } from './platform-server/index.ts';
import { MetaGraphSandbox } from './meta/graph-server.ts';
import { GraphStore } from './meta/graph-store.ts';
import { bindGrpc, createGoogleSandbox, type GoogleAdsSandbox } from './google/google-server.ts';
import { createMmpSandbox, type MmpSandbox } from './mmp/index.ts';
import { Simulator } from './simulator.ts';
import { createTikTokSandbox, type TikTokSandbox } from './tiktok/tiktok-server.ts';
import { issueLines } from '../core/validation.ts';
import { z } from 'zod';
import { loadWorld, platformFaultsChangeSchema, reviewChangeSchema, type World } from './world.ts';

export interface SandboxOptions {
  /** World file path. */
  world: string;
  /** Ports of the four servers; 0 (the default) picks a free one. */
  metaPort?: number;
  tiktokPort?: number;
  adjustPort?: number;
  branchPort?: number;
  /** Google Ads REST (token, queries, YouTube) and gRPC (mutates) ports; 0 (the default) picks one. */
  googlePort?: number;
  googleGrpcPort?: number;
  /**
   * Interface to bind. Default 127.0.0.1 (loopback only). Any other (0.0.0.0, a LAN address)
   * needs `controlToken`: without one the sandbox refuses to start.
   */
  host?: string;
  /**
   * Token the control endpoints (/__sandbox/) require as `Authorization: Bearer <token>`
   * (SANDBOX_CONTROL_TOKEN). Required off loopback; on loopback enforced when given. Default none.
   */
  controlToken?: string | null;
  /**
   * Longest a client may take to send a whole request; past it the server answers 408 and closes
   * the connection. Default REQUEST_TIMEOUT_MS (2 minutes).
   */
  requestTimeoutMs?: number;
  /** Directory to persist platform state in; null keeps it in memory. Default null. */
  stateDir?: string | null;
  /** Fixed business date; default follows the UTC wall clock. */
  date?: string;
}

export interface Sandbox {
  world: World;
  meta: MetaGraphSandbox;
  tiktok: TikTokSandbox;
  /** The Google Ads sandbox: its faults, review, request log, objects and YouTube. */
  google: GoogleAdsSandbox;
  mmp: MmpSandbox;
  /** Base URL of the Graph API (without version), e.g. http://127.0.0.1:4010. */
  metaUrl: string;
  /** Base path for the TikTok SDK (it appends /open_api/v1.3/...). */
  tiktokUrl: string;
  adjustUrl: string;
  branchUrl: string;
  /** Meta credentials. */
  credentials: { accessToken: string; adAccountId: string; pageId: string };
  tiktokCredentials: { accessToken: string; advertiserId: string };
  /**
   * Google endpoints: `rest` (queries, http://host:port), `grpc` (mutates, http://host:grpcPort),
   * `token` (OAuth, rest + /token) and `youtube` (rest + /, the googleapis rootUrl).
   */
  googleUrls: { rest: string; grpc: string; token: string; youtube: string };
  googleCredentials: {
    developerToken: string;
    clientId: string;
    clientSecret: string;
    refreshToken: string;
    customerId: string;
    loginCustomerId: string | null;
  };
  clock: SandboxClock & { set(date: string | null): void };
  /** Headers a control request needs: the control token's Authorization, or none. */
  controlHeaders(): Record<string, string>;
  close(): Promise<void>;
}

/** Largest body a control request may carry: a clock, faults or review change is a few hundred bytes. */
export const CONTROL_MAX_BODY = 64 * 1024;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const mmpFaultsChange = z
  .object({ down: z.boolean(), delayDays: z.number().int().min(0).max(14) })
  .partial()
  .strict();
/**
 * A live change of the faults (the control endpoint): per platform, any of the world's fault
 * fields (see world.ts) and the servers' own switches, no defaults. A bad value is refused whole.
 */
export const faultsChangeSchema = z
  .object({
    meta: platformFaultsChangeSchema
      .extend({ down: z.boolean(), insightsDown: z.boolean(), tokenExpired: z.boolean() })
      .partial(),
    tiktok: platformFaultsChangeSchema
      .extend({ down: z.boolean(), reportDown: z.boolean(), tokenRevoked: z.boolean() })
      .partial(),
    google: platformFaultsChangeSchema
      .extend({ down: z.boolean(), tokenRevoked: z.boolean() })
      .partial(),
    adjust: mmpFaultsChange,
    branch: mmpFaultsChange,
  })
  .partial()
  .strict();

async function listen(handler: Handler, port: number, host: string, requestTimeoutMs: number) {
  const server = sandboxHttpServer(handler, requestTimeoutMs);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const controlToken = options.controlToken || null;
  // Checked before anything is loaded or bound.
  if (controlToken === null && controlTokenRequired(host))
    throw new Error(missingControlTokenMessage(host));
  const world = loadWorld(options.world);
  const simulator = new Simulator(world);
  let fixed: string | null = options.date ?? null;
  const clock = {
    today: () => fixed ?? todayUtc(),
    set: (date: string | null) => {
      fixed = date;
    },
  };
  const state = (name: string) => (options.stateDir ? path.join(options.stateDir, name) : null);
  const meta = new MetaGraphSandbox(
    world,
    simulator,
    new GraphStore(simulator.idSeed, state('meta.json')),
    clock,
  );
  const tiktok = createTikTokSandbox({ world, simulator, clock, statePath: state('tiktok.json') });
  const google = createGoogleSandbox({ world, simulator, clock, statePath: state('google.json') });
  const mmp = createMmpSandbox({ world, sources: [meta, tiktok, google], clock });

  const answer = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  // Control endpoints on the Graph port, so an out-of-process test or operator can move the clock
  // and inject faults. They are not part of any platform's API. With a control token (required
  // off loopback) a request without it is refused before its body is read.
  const control: Handler = (req, res) => {
    if (controlToken !== null && !hasControlToken(req, controlToken)) {
      res.setHeader('www-authenticate', 'Bearer realm="adloop sandbox control"');
      // Closing the connection after the answer spares reading a body nobody will use.
      res.setHeader('connection', 'close');
      answer(res, 401, CONTROL_UNAUTHORIZED);
      return;
    }
    void readBody(req, CONTROL_MAX_BODY).then(
      (raw) => controlRequest(req, res, raw),
      (err: unknown) =>
        err instanceof BodyTooLarge
          ? answer(res, err.status, {
              error: `a control request body may hold at most ${err.maxBytes} bytes`,
            })
          : answer(res, 400, { error: (err as Error).message }),
    );
  };
  const controlRequest = (req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) => {
    try {
      const body = raw.length
        ? (JSON.parse(raw.toString()) as Record<string, Record<string, unknown> | string | null>)
        : {};
      const [route, query] = (req.url ?? '').split('?');
      if (route === '/__sandbox/catalog.jsonl' && req.method === 'GET') {
        serveCatalog(res, new URLSearchParams(query).get('market'));
        return;
      }
      if (route === '/__sandbox/clock' && req.method === 'POST') {
        clock.set(typeof body.date === 'string' ? body.date : null);
      } else if (route === '/__sandbox/faults' && req.method === 'POST') {
        const parsed = faultsChangeSchema.safeParse(body);
        if (!parsed.success)
          throw new Error(`invalid faults:\n${issueLines(parsed.error).join('\n')}`);
        const change = parsed.data;
        Object.assign(meta.faults, change.meta);
        Object.assign(tiktok.faults, change.tiktok);
        Object.assign(google.faults, change.google);
        Object.assign(mmp.faults.adjust, change.adjust);
        Object.assign(mmp.faults.branch, change.branch);
      } else if (route === '/__sandbox/review' && req.method === 'POST') {
        // {"meta": {...}, "tiktok": {...}, "google": {...}} changes one platform's review; fields
        // given at the top level change all.
        const { meta: forMeta, tiktok: forTikTok, google: forGoogle, ...both } = body;
        const changes = (v: unknown, at: string) => {
          const parsed = reviewChangeSchema.safeParse(v ?? {});
          if (!parsed.success)
            throw new Error(
              `invalid review:\n${issueLines(parsed.error)
                .map((l) => l.replace(/^ {2}/, `  ${at}`))
                .join('\n')}`,
            );
          return parsed.data;
        };
        const common = changes(both, '');
        const metaChanges = { ...common, ...changes(forMeta, 'meta.') };
        const tiktokChanges = { ...common, ...changes(forTikTok, 'tiktok.') };
        const googleChanges = { ...common, ...changes(forGoogle, 'google.') };
        Object.assign(meta.review, metaChanges);
        Object.assign(tiktok.review, tiktokChanges);
        Object.assign(google.review, googleChanges);
      } else if (route !== '/__sandbox/status') {
        throw new Error(`unknown control path ${route}`);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          world: world.name,
          today: clock.today(),
          faults: {
            meta: meta.faults,
            tiktok: tiktok.faults,
            google: google.faults,
            ...mmp.faults,
          },
          review: { meta: meta.review, tiktok: tiktok.review, google: google.review },
        }),
      );
    } catch (err) {
      answer(res, 400, { error: (err as Error).message });
    }
  };

  /**
   * Each artist's part of a catalog row that no market changes (id, name, genre and embedding),
   * serialised once per sandbox on first use: a generated world computes them on demand, and every
   * market's request would otherwise compute and serialise all of them again.
   */
  const artistJson: Array<{ id: string; head: string; tail: string }> = [];
  const artistParts = (i: number) => {
    let parts = artistJson[i];
    if (!parts) {
      const a = world.catalog.artistAt(i);
      const embedding = world.catalog.embedding(a.id);
      parts = {
        id: a.id,
        head: `{"artist_id":${JSON.stringify(a.id)},"name":${JSON.stringify(a.name)},"genre":${JSON.stringify(a.genre)}`,
        tail: embedding ? `,"embedding":${JSON.stringify(embedding)}}` : '}',
      };
      artistJson[i] = parts;
    }
    return parts;
  };

  /**
   * The world's catalog as JSONL rows (adloop's HTTP catalog source format), optionally for one
   * market; streamed in 64 KiB writes, since a generated world has millions of rows. Each line is
   * what JSON.stringify gives for {artist_id, name, genre, market, popularity, trend, embedding}.
   */
  function serveCatalog(res: http.ServerResponse, market: string | null) {
    const markets = world.catalog.markets.map((m) => m.code).filter((m) => !market || m === market);
    const marketJson = markets.map((m) => `,"market":${JSON.stringify(m)},"popularity":`);
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    let i = 0;
    const pump = () => {
      let chunk = '';
      while (i < world.catalog.artistCount && chunk.length < 1 << 16) {
        const parts = artistParts(i++);
        for (const [k, m] of markets.entries()) {
          const popularity = world.catalog.popularity(parts.id, m);
          if (popularity > 0)
            chunk += `${parts.head}${marketJson[k]}${popularity},"trend":${world.catalog.trend(parts.id, m)}${parts.tail}\n`;
        }
      }
      const ok = chunk ? res.write(chunk) : true;
      if (i >= world.catalog.artistCount) res.end();
      // Between chunks the event loop runs: other requests (and a worker in this process) go on.
      else if (ok) setImmediate(pump);
      else res.once('drain', pump);
    };
    pump();
  }

  const requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const servers: Array<{ url: string; close(): Promise<void> }> = [];
  try {
    servers.push(
      await listen(
        (req, res) =>
          req.url?.startsWith('/__sandbox/') ? control(req, res) : meta.handle(req, res),
        options.metaPort ?? 0,
        host,
        requestTimeoutMs,
      ),
      await listen(tiktok.handle, options.tiktokPort ?? 0, host, requestTimeoutMs),
      await listen(mmp.adjust.handle, options.adjustPort ?? 0, host, requestTimeoutMs),
      await listen(mmp.branch.handle, options.branchPort ?? 0, host, requestTimeoutMs),
      await listen(google.handle, options.googlePort ?? 0, host, requestTimeoutMs),
    );
    const grpcServer = google.grpcServer();
    const grpcPort = await bindGrpc(grpcServer, host, options.googleGrpcPort ?? 0);
    servers.push({
      url: `http://${host}:${grpcPort}`,
      // In-flight calls are cut, as the HTTP servers close their connections.
      close: () => {
        grpcServer.forceShutdown();
        return Promise.resolve();
      },
    });
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  const [metaServer, tiktokServer, adjustServer, branchServer, googleServer, grpcServer] =
    servers as [
      (typeof servers)[0],
      (typeof servers)[0],
      (typeof servers)[0],
      (typeof servers)[0],
      (typeof servers)[0],
      (typeof servers)[0],
    ];
  meta.setBaseUrl(metaServer.url);
  tiktok.setBaseUrl(tiktokServer.url);
  google.setBaseUrl(googleServer.url);
  const g = world.google;
  return {
    world,
    meta,
    tiktok,
    google,
    mmp,
    metaUrl: metaServer.url,
    tiktokUrl: tiktokServer.url,
    adjustUrl: adjustServer.url,
    branchUrl: branchServer.url,
    credentials: {
      accessToken: world.meta.accessToken,
      adAccountId: world.meta.adAccountId,
      pageId: world.meta.pageId,
    },
    tiktokCredentials: {
      accessToken: world.tiktok.accessToken,
      advertiserId: world.tiktok.advertiserId,
    },
    googleUrls: {
      rest: googleServer.url,
      grpc: grpcServer.url,
      token: `${googleServer.url}/token`,
      youtube: `${googleServer.url}/`,
    },
    googleCredentials: {
      developerToken: g.developerToken,
      clientId: g.oauth.clientId,
      clientSecret: g.oauth.clientSecret,
      refreshToken: g.oauth.refreshToken,
      customerId: g.customerId,
      loginCustomerId: g.managerId ?? null,
    },
    clock,
    controlHeaders: () => controlHeaders(controlToken),
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
