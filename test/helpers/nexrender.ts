// A real @nexrender/server on loopback, in this process, for tests. After Effects cannot run on
// Linux, so tests play the worker's side through the same HTTP API a real nexrender worker uses
// (pickupJob / updateJob) with the client this returns.
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo, ListenOptions } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { mock } from 'node:test';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@nexrender/api';
import type { Client } from '@nexrender/api';
import type { Job } from '@nexrender/types/job.js';

interface NexrenderServerModule {
  listen(port: number | ListenOptions, secret: string): Server;
}

export interface NexrenderTestServer {
  /** Base URL, `http://127.0.0.1:<port>`. */
  host: string;
  /** A client with the server's secret, to play the worker's side. */
  worker: Client;
  /** Closes the server and its connections, and deletes its database. */
  close(): Promise<void>;
}

/**
 * Starts a nexrender server on a free loopback port with `secret`, its database in a temp folder.
 * The server's module keeps its database path from the first start, so start one per process.
 * Its per-request log lines are silenced until `close`.
 */
export async function startNexrenderServer(secret: string): Promise<NexrenderTestServer> {
  // The server logs a line per request; polling makes that hundreds of lines of noise.
  const log = mock.method(console, 'log', () => {});
  const dir = await mkdtemp(path.join(os.tmpdir(), 'adloop-nexrender-'));
  // The disk database reads its path when first loaded, so set it before requiring the server.
  process.env.NEXRENDER_DATABASE = path.join(dir, 'database.json');
  delete process.env.NEXRENDER_DATABASE_PROVIDER;
  const require = createRequire(import.meta.url);
  const nexrender = require('@nexrender/server') as NexrenderServerModule;
  // listen() passes its port straight to http.Server#listen, so listen options bind loopback only
  // and let the OS choose a free port.
  const server = nexrender.listen({ port: 0, host: '127.0.0.1' }, secret);
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    worker: createClient({ host, secret }),
    async close() {
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // fetch keeps connections alive; close them or close() waits for them to time out.
        server.closeAllConnections();
      });
      // The disk database saves on setImmediate after each write: let it finish before deleting.
      await tick();
      await rm(dir, { recursive: true, force: true });
      log.mock.restore();
    },
  };
}

/** Picks up the next queued job as a worker would, polling for up to ~2 s; `{}` if none came. */
export async function pickupJob(worker: Client): Promise<Job | Record<string, never>> {
  let job: Job | Record<string, never> = {};
  for (let i = 0; i < 200 && !job.uid; i++) {
    job = await worker.pickupJob();
    if (!job.uid) await sleep(10);
  }
  return job;
}
