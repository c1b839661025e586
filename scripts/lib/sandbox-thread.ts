// The sandbox on a thread of its own, for measurements: ad platforms and a catalog source are
// remote services in any real deployment, so their simulation should not share the JavaScript
// thread of the worker being measured (a generated world computes its catalog on demand, and the
// simulator draws delivery for every report). In memory, on free loopback ports, on a fixed date.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { tsWorker } from '../../runtime/ts-worker.ts';
import type { AccountsInput } from '../../core/accounts.ts';
import { sandboxAccounts } from '../../sandbox/accounts.ts';
import { startSandbox } from '../../sandbox/index.ts';

export interface SandboxThread {
  metaUrl: string;
  tiktokUrl: string;
  adjustUrl: string;
  branchUrl: string;
  credentials: { accessToken: string; adAccountId: string; pageId: string };
  tiktokCredentials: { accessToken: string; advertiserId: string };
  adjust: { apiToken: string; appToken: string };
  world: { name: string; artistCount: number; markets: string[] };
  /** The accounts configuration that matches the world (sandbox/accounts.ts). */
  accounts: AccountsInput;
  close(): Promise<void>;
}

type Info = Omit<SandboxThread, 'close'>;
type FromThread = { ready: Info } | { failed: string } | { closed: true };

interface ThreadData {
  adloopSandboxThread: { world: string; date: string };
}

/** Starts the sandbox for `world` (a file path) simulating `date`, on a new thread. */
export async function startSandboxThread(o: {
  world: string;
  date: string;
}): Promise<SandboxThread> {
  const worker = tsWorker(new URL(import.meta.url), {
    workerData: { adloopSandboxThread: o } satisfies ThreadData,
  });
  const next = () =>
    new Promise<FromThread>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`the sandbox thread exited (${code})`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (m: FromThread) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve(m);
      });
    });
  const first = await next().catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  if (!('ready' in first)) {
    await worker.terminate();
    throw new Error(`the sandbox did not start: ${'failed' in first ? first.failed : '?'}`);
  }
  // Past its start, a failing sandbox shows as failing requests; say why, and do not crash.
  worker.on('error', (err) => console.error(`sandbox thread: ${err.message}`));
  return {
    ...first.ready,
    async close() {
      const closed = next().catch(() => undefined);
      worker.postMessage('close');
      // A sandbox that does not close in time is stopped with its thread.
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
      await worker.terminate();
    },
  };
}

const data = (workerData as Partial<ThreadData> | null)?.adloopSandboxThread;
if (!isMainThread && data && parentPort) {
  const port = parentPort;
  try {
    const sandbox = await startSandbox({ world: data.world, date: data.date });
    port.on('message', (m) => {
      if (m === 'close') void sandbox.close().then(() => port.postMessage({ closed: true }));
    });
    port.postMessage({
      ready: {
        metaUrl: sandbox.metaUrl,
        tiktokUrl: sandbox.tiktokUrl,
        adjustUrl: sandbox.adjustUrl,
        branchUrl: sandbox.branchUrl,
        credentials: sandbox.credentials,
        tiktokCredentials: sandbox.tiktokCredentials,
        adjust: { ...sandbox.world.mmp.adjust },
        accounts: sandboxAccounts(sandbox.world),
        world: {
          name: sandbox.world.name,
          artistCount: sandbox.world.catalog.artistCount,
          markets: sandbox.world.catalog.markets.map((m) => m.code),
        },
      },
    } satisfies FromThread);
  } catch (err) {
    port.postMessage({
      failed: err instanceof Error ? err.message : String(err),
    } satisfies FromThread);
  }
}
