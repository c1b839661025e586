// `adloop arms --from YYYY-MM-DD --to YYYY-MM-DD [--json]` (npm run report:arms): the champion / challenger
// arms (RANKING_POLICY, RANKING_POLICY_BY_MARKET) compared on what the platforms reported: each
// arm's CPR and CTR with 95% confidence intervals, and each challenger model trained in the range
// with its off-policy estimates, from the database adloop's config points at.
// On the embedded PGlite database, run it while no worker holds the database.
import { loadConfigPart } from '../../core/config.ts';
import { addDays, parseIsoDate, todayUtc } from '../../core/dates.ts';
import { loadFxTable } from '../../core/money.ts';
import { openDatabase } from '../../db/database.ts';
import { armDays, challengers } from '../../reports/collect.ts';
import { armReport, formatArmReport, formatChallengers } from '../../reports/arms.ts';

export interface ArmsOptions {
  from?: string;
  to?: string;
  json?: boolean;
}

export async function armsCommand(opts: ArmsOptions): Promise<void> {
  const config = loadConfigPart([
    'DATABASE_URL',
    'PGLITE_DIR',
    'FX_RATES_PATH',
    'REPORTING_CURRENCY',
    'RANKING_OBJECTIVE',
  ]);
  const to = opts.to ? parseIsoDate(opts.to, '--to') : addDays(todayUtc(), -1);
  const from = opts.from ? parseIsoDate(opts.from, '--from') : addDays(to, -27);
  if (from > to) throw new Error(`--from ${from} is after --to ${to}`);
  const database = await openDatabase({ url: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
  try {
    // A report only reads: it never migrates the schema under a running loop.
    const days = await armDays(database.db, {
      from,
      to,
      fx: loadFxTable(config.FX_RATES_PATH),
      currency: config.REPORTING_CURRENCY,
      objective: config.RANKING_OBJECTIVE,
    }).catch((err: Error) => {
      if (/does not exist/.test(err.message)) {
        throw new Error(
          `${database.where} has no adloop schema (${err.message}): run the loop (npm start) first`,
        );
      }
      throw err;
    });
    const arms = armReport(days);
    const evaluated = await challengers(database.db, { from, to });
    if (opts.json) {
      console.log(
        JSON.stringify({
          from,
          to,
          currency: config.REPORTING_CURRENCY,
          arms,
          challengers: evaluated,
        }),
      );
    } else {
      console.log(
        `Ranking arms ${from} .. ${to} (${config.REPORTING_CURRENCY}, ${config.RANKING_OBJECTIVE})`,
      );
      console.log(
        arms.length
          ? formatArmReport(arms, config.REPORTING_CURRENCY)
          : 'no delivery under any ranking in this range',
      );
      if (evaluated.length > 0) {
        console.log(
          `\nChallengers estimated off-policy on their held-out days (${config.RANKING_OBJECTIVE} per 1000 ${config.REPORTING_CURRENCY}):`,
        );
        console.log(formatChallengers(evaluated, config.REPORTING_CURRENCY));
      }
    }
  } finally {
    await database.close();
  }
}
