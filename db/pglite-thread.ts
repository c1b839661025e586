// PGlite on a thread of its own. PGlite is PostgreSQL compiled to WebAssembly: each statement runs
// synchronously on the thread that owns the instance. On the worker's main thread, that is the
// thread that also runs every activity and relays every workflow task to the workflow threads, so
// one large import (100,000 artists) held the workflow tasks of every other market for seconds
// (Temporal warned of 18 s workflow tasks), and heartbeats with them. Here the database runs on a
// worker thread, on another core where there is one; the main thread sends each statement with its
// parameters and receives the rows, already parsed, by message. Statements are answered in the
// order they were sent, as on one connection.
import type { PGlite } from '@electric-sql/pglite';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { tsWorker } from '../runtime/ts-worker.ts';

/** What the Kysely dialect needs of a PGlite instance (db/pglite-dialect.ts). */
export interface PGliteSession {
  query<R>(
    sql: string,
    params: readonly unknown[],
  ): Promise<{ rows: R[]; affectedRows?: number; command?: string }>;
  readonly closed: boolean;
  close(): Promise<void>;
}

type RequestBody = { kind: 'query'; sql: string; params: unknown[] } | { kind: 'close' };
type Request = RequestBody & { id: number };
type Reply =
  | { id: number; rows: unknown[]; affectedRows?: number; command?: string }
  | { id: number; error: Record<string, unknown> & { message: string } }
  | { id: number; closed: true };

interface ThreadData {
  adloopPGlite: { dir: string };
}

/** The same JS types as on PostgreSQL (database.ts): bigint and numeric as numbers, date as text. */
const OID = { INT8: 20, NUMERIC: 1700, DATE: 1082 } as const;
const asNumber = (v: string) => Number(v);
const asIs = (v: string) => v;

/** Opens PGlite in `dir` (`memory://` for a throwaway one) on a new thread. */
export async function startPGliteThread(dir: string): Promise<PGliteSession> {
  const worker = tsWorker(new URL(import.meta.url), {
    workerData: { adloopPGlite: { dir } } satisfies ThreadData,
  });
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let closed = false;
  let failure: Error | null = null;
  // An idle database does not keep the process alive (as an instance on the main thread would
  // not); a statement in flight does.
  worker.unref();
  const fail = (err: Error) => {
    failure ??= err;
    for (const p of pending.values()) p.reject(failure);
    pending.clear();
  };
  worker.on('message', (reply: Reply) => {
    const p = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    p?.resolve(reply);
  });
  worker.on('error', fail);
  worker.on('exit', (code) => {
    closed = true;
    fail(new Error(`the PGlite thread exited (code ${code})`));
  });
  const send = (req: RequestBody): Promise<Reply> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<Reply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...req, id });
    });
  };

  // The first answer says whether the database opened.
  const ready = await send({ kind: 'query', sql: 'select 1', params: [] }).catch(
    async (err: unknown) => {
      await worker.terminate();
      throw err;
    },
  );
  if ('error' in ready) {
    await worker.terminate();
    throw Object.assign(new Error(ready.error.message), ready.error);
  }

  return {
    get closed() {
      return closed;
    },
    async query<R>(sql: string, params: readonly unknown[]) {
      const reply = await send({ kind: 'query', sql, params: [...params] });
      if ('error' in reply) {
        // The database's own error (code, detail, constraint…), raised here in the caller's stack.
        const { message, ...fields } = reply.error;
        throw Object.assign(new Error(message), fields);
      }
      if (!('rows' in reply)) throw new Error('the PGlite thread gave no rows');
      return {
        rows: reply.rows as R[],
        ...(reply.affectedRows !== undefined ? { affectedRows: reply.affectedRows } : {}),
        ...(reply.command !== undefined ? { command: reply.command } : {}),
      };
    },
    async close() {
      if (closed) return;
      try {
        await send({ kind: 'close' });
      } finally {
        closed = true;
        await worker.terminate();
      }
    },
  };
}

/** An error as plain data: its message and the fields PostgreSQL gave it (not the parameters). */
function errorData(err: unknown): Record<string, unknown> & { message: string } {
  if (!(err instanceof Error)) return { message: String(err) };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err))
    if (k !== 'params' && (v === null || ['string', 'number', 'boolean'].includes(typeof v)))
      fields[k] = v;
  return { ...fields, name: err.name, message: err.message };
}

const data = (workerData as Partial<ThreadData> | null)?.adloopPGlite;
if (!isMainThread && data && parentPort) {
  const port = parentPort;
  const { PGlite } = await import('@electric-sql/pglite');
  let db: PGlite | null = null;
  let opening: Error | null = null;
  try {
    db = await PGlite.create(data.dir, {
      parsers: { [OID.INT8]: asNumber, [OID.NUMERIC]: asNumber, [OID.DATE]: asIs },
    });
  } catch (err) {
    opening = err instanceof Error ? err : new Error(String(err));
  }
  // One statement at a time, in the order sent: the dialect's transactions rely on it.
  let queue = Promise.resolve();
  port.on('message', (req: Request) => {
    queue = queue.then(async () => {
      let reply: Reply;
      try {
        if (!db) throw opening!;
        if (req.kind === 'close') {
          await db.close();
          reply = { id: req.id, closed: true };
        } else {
          const r = await db.query(req.sql, req.params);
          reply = {
            id: req.id,
            rows: r.rows,
            ...(r.affectedRows !== undefined ? { affectedRows: r.affectedRows } : {}),
            ...(r.command !== undefined ? { command: r.command } : {}),
          };
        }
      } catch (err) {
        reply = { id: req.id, error: errorData(err) };
      }
      port.postMessage(reply);
    });
  });
}
