// `adloop deploy plan --market SE [--date YYYY-MM-DD] [--json]`: the dry run of a market's
// deploy. Reads the platforms and the run's rendered creatives and prints what deploy would do
// (create / keep / resume / pause / archive per ad) without writing anything to any platform.
// On the embedded default (PGlite, sandbox) run it while `npm start` is not running: it opens the
// database and the sandbox's saved state itself.
import { planMarket } from '../../activities/deploy/deploy.ts';
import { storedRunCreatives } from '../../activities/deploy/stored-creatives.ts';
import { loadConfig } from '../../core/config.ts';
import { parseIsoDate, todayUtc } from '../../core/dates.ts';
import { openDatabase } from '../../db/database.ts';
import type { Sandbox } from '../../sandbox/index.ts';
import { activityDeps } from '../../workers/loop-worker.ts';
import { startSandboxEnv, usesSandbox } from '../../sandbox/environment.ts';

export interface DeployPlanOptions {
  market: string;
  date?: string;
  json?: boolean;
}

export async function deployPlanCommand(opts: DeployPlanOptions): Promise<void> {
  let sandbox: Sandbox | null = null;
  try {
    const market = opts.market.toUpperCase();
    const date = opts.date ? parseIsoDate(opts.date, '--date') : todayUtc();
    // The embedded default: the sandbox's platforms, from the state `npm start` left.
    if (usesSandbox()) sandbox = await startSandboxEnv({ date });
    const config = loadConfig();
    const database = await openDatabase({ url: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
    try {
      const creatives = await storedRunCreatives(database.db, market, date);
      if (creatives.length === 0)
        throw new Error(
          `no rendered creatives for ${market} on ${date}: run the loop for that day first (npm start -- --date ${date})`,
        );
      const plan = await planMarket(activityDeps(config, database), { market, date, creatives });
      if (opts.json)
        console.log(JSON.stringify({ market, date, counts: plan.counts, adSets: plan.plans }));
      else for (const line of plan.lines) console.log(line);
    } finally {
      await database.close();
    }
  } finally {
    await sandbox?.close();
  }
}
