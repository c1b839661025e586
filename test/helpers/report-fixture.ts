// Data for report tests, made the way production makes it: the real stage activities (ingest,
// rank, render, deploy, learn) over the sandbox for a few days, on an embedded PGlite database in
// a directory (so a test can also hold it the way a running `npm start` does).
import { MockActivityEnvironment } from '@temporalio/testing';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities, type ActivityDeps } from '../../activities/index.ts';
import { openDatabase, type DatabaseHandle } from '../../db/database.ts';
import { createDeliveryWriter } from '../../db/delivery-writer.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { renderAll, typedRun } from './activity.ts';
import { ROOT, startTestStack, type TestStack } from './stack.ts';

export interface ReportFixture {
  stack: TestStack;
  /** The PGlite database the stages wrote, open in this process. */
  database: DatabaseHandle;
  pgliteDir: string;
  deps: ActivityDeps;
  /** Every secret the sandbox hands out: none may appear in a report. */
  secrets: string[];
  /** Settings for `reportCommand` reading this fixture (database, FX, creative store). */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Closes the database, as a worker that owned it would on exit (idempotent). */
  releaseDatabase(): Promise<void>;
  /** Closes the database (if still open), the sandbox and removes the folders. */
  close(): Promise<void>;
}

/** Runs every stage of `markets` on each of `dates`, in order, as the market loop would. */
export async function reportFixture(o: {
  markets: string[];
  dates: string[];
  rankingPolicyByMarket?: string;
}): Promise<ReportFixture> {
  const stack = await startTestStack({
    date: o.dates[0]!,
    ...(o.rankingPolicyByMarket ? { rankingPolicyByMarket: o.rankingPolicyByMarket } : {}),
  });
  const pgliteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-report-db-'));
  let database: DatabaseHandle | null = null;
  try {
    database = await openDatabase({ pgliteDir });
    await migrateToLatest(database.db);
    const deps: ActivityDeps = {
      ...stack.deps,
      db: database.db,
      delivery: createDeliveryWriter(database),
    };
    const acts = createActivities(deps);
    for (const date of o.dates) {
      stack.sandbox.clock.set(date);
      for (const market of o.markets) {
        const run = typedRun(
          new MockActivityEnvironment({
            workflowExecution: { workflowId: `market/${market}/${date}`, runId: `r-${date}` },
          }),
        );
        const input = { market, date };
        await run(acts.startMarketRun, input);
        await run(acts.ingestCatalog, input);
        await run(acts.ingestPlatformMetrics, input);
        await run(acts.ingestAttribution, input);
        const { selected } = await run(acts.rankMarket, { ...input, metricsAvailable: true });
        const creatives = await renderAll(run, acts, { ...input, items: selected });
        await run(acts.deployCreatives, { ...input, creatives });
        await run(acts.learnFromResults, input);
        await run(acts.finishMarketRun, { status: 'completed', fallbackUsed: false });
      }
    }
    const db = database;
    let closed = false;
    const releaseDatabase = async () => {
      if (closed) return;
      closed = true;
      await db.close();
    };
    return {
      stack,
      database: db,
      pgliteDir,
      deps,
      secrets: [
        stack.sandbox.credentials.accessToken,
        stack.sandbox.tiktokCredentials.accessToken,
        stack.sandbox.world.mmp.adjust.apiToken,
        stack.sandbox.world.mmp.branch.branchSecret,
      ],
      env: (extra = {}) => ({
        PATH: process.env.PATH,
        PGLITE_DIR: pgliteDir,
        FX_RATES_PATH: path.join(ROOT, 'config/fx-rates.json'),
        REPORTING_CURRENCY: stack.deps.config.REPORTING_CURRENCY,
        RANKING_OBJECTIVE: 'registrations',
        CREATIVE_STORE: 'local',
        CREATIVES_DIR: stack.creativesDir,
        ...extra,
      }),
      releaseDatabase,
      async close() {
        await releaseDatabase();
        await stack.close();
        fs.rmSync(pgliteDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await database?.close();
    await stack.close();
    fs.rmSync(pgliteDir, { recursive: true, force: true });
    throw err;
  }
}
