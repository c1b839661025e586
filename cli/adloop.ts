// `npm run adloop -- <command>`: the operator's CLI against a running adloop (`npm start`, or a
// deployment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, PAYLOAD_KEY from the environment or .env).
//
//   adloop schedule create|update|list|backfill|delete   the daily Temporal Schedules
//   adloop pause|resume <market>                          hold a market / let it continue
//   adloop rerun <market> [--date]                        run a market-day again, no duplicates
//   adloop status [market...]                             stage, last success, degraded, fallbacks
//   adloop backfill --from --to [--markets] [--sources]   re-read a range of metrics, say what changed
//   adloop report [--out] [--csv] [--json] [--serve]      one self-contained HTML report
//   adloop check [--json]                                 preflight of every ad account, one line each
//   adloop deploy plan|approve --market <code>            a market's deploy as a diff / answer its approval
//   adloop arms [--from] [--to] [--json]                  the ranking policy arms compared (CPR, CTR, CIs)
//   adloop codec-server [--port]                          decode encrypted payloads for the Temporal UI
import { Command } from 'commander';
import fs from 'node:fs';
import { armsCommand, type ArmsOptions } from './commands/arms.ts';
import { backfillCommand, type BackfillOptions } from './commands/backfill.ts';
import { codecServerCommand, type CodecServerOptions } from './commands/serve-codec.ts';
import { deployApproveCommand, type DeployApproveOptions } from './commands/deploy-approve.ts';
import { deployPlanCommand, type DeployPlanOptions } from './commands/deploy-plan.ts';
import { checkCommand, type CheckOptions } from './commands/check.ts';
import { pauseCommand, rerunCommand, resumeCommand, statusCommand } from './commands/markets.ts';
import { reportCommand, type ReportCommandOptions } from './commands/report.ts';
import {
  scheduleApply,
  scheduleBackfill,
  scheduleDelete,
  scheduleList,
} from './commands/schedule.ts';

// The one place the CLI reads .env (values already in the environment win).
if (fs.existsSync('.env')) process.loadEnvFile('.env');

const program = new Command()
  .name('adloop')
  .description(
    'Operate adloop: schedules, per-market pause / resume / rerun / status, metrics backfills, deploy plans and approvals, reports, policy arms, the payload codec server.',
  )
  .showHelpAfterError();

const schedule = program
  .command('schedule')
  .description(
    "Temporal Schedules: each market's loop daily in its own time zone, and the model training",
  );
for (const mode of ['create', 'update'] as const) {
  schedule
    .command(mode)
    .description(
      mode === 'create'
        ? 'create the schedules that do not exist yet'
        : 'change existing schedules (a paused market stays paused)',
    )
    .option('--markets <codes>', 'SE,DE or SE=Europe/Stockholm (default: every catalog market)')
    .option('--at <HH:MM>', "local time each market's loop starts", '06:00')
    .option('--training-at <HH:MM>', 'UTC time the ranking model trains', '23:30')
    .option(
      '--catchup-window <duration>',
      'how late a run missed while Temporal was down still runs',
      '1 day',
    )
    .option('--no-training', 'leave the training schedule alone')
    .action((o: Parameters<typeof scheduleApply>[1]) => scheduleApply(mode, o));
}
schedule
  .command('list')
  .description('every adloop schedule: time, time zone, paused, next and last run')
  .option('--json', 'print one JSON array')
  .action((o: Parameters<typeof scheduleList>[0]) => scheduleList(o));
schedule
  .command('backfill')
  .description("run the missed days of markets' schedules, oldest first")
  .requiredOption('--from <YYYY-MM-DD>', 'first day')
  .option('--to <YYYY-MM-DD>', 'last day (default: yesterday, UTC)')
  .option('--markets <codes>', 'default: every catalog market')
  .action((o: Parameters<typeof scheduleBackfill>[0]) => scheduleBackfill(o));
schedule
  .command('delete')
  .description('delete schedules (runs they started are not touched)')
  .option('--markets <codes>', 'default: every catalog market')
  .option('--no-training', 'keep the training schedule')
  .action((o: Parameters<typeof scheduleDelete>[0]) => scheduleDelete(o));

program
  .command('check')
  .description(
    'before anything is written: is every ad account of the accounts file ready (token, permissions, status, page, app, identity, budgets)? one line per finding with its fix',
  )
  .option('--json', 'print one JSON object')
  .action((o: CheckOptions) => checkCommand(o));

program
  .command('pause <market>')
  .description('stop future runs of a market and hold a running one before its next platform write')
  .option('--by <name>', 'who pauses (default: $USER)')
  .option('--reason <text>', 'why (shown in status and the Temporal UI)')
  .action((market: string, o: Parameters<typeof pauseCommand>[1]) => pauseCommand(market, o));
program
  .command('resume <market>')
  .description('let a paused market run again and a held run continue')
  .option('--by <name>', 'who resumes (default: $USER)')
  .action((market: string, o: Parameters<typeof resumeCommand>[1]) => resumeCommand(market, o));
program
  .command('rerun <market>')
  .description('run a market for a date again; every stage is idempotent, nothing is duplicated')
  .option('--date <YYYY-MM-DD>', 'the business date (default: today, UTC)')
  .option('--no-wait', 'start it and return')
  .option('--rerank', "rank the day again instead of reusing the day's stored ranking")
  .action((market: string, o: Parameters<typeof rerunCommand>[1]) => rerunCommand(market, o));
program
  .command('status [markets...]')
  .description('per market: schedule, running stage, last success, degraded reasons, fallbacks')
  .option('--json', 'print one JSON array')
  .option('--recent <n>', 'closed runs to look back over', '7')
  .action((markets: string[], o: Parameters<typeof statusCommand>[1]) => statusCommand(markets, o));

program
  .command('backfill')
  .description(
    "after an outage longer than the ingest's lookback: re-read a range of the platforms' delivery and the MMP's attribution, store it as the daily ingest does, and say what changed",
  )
  .requiredOption('--from <YYYY-MM-DD>', 'first day')
  .requiredOption('--to <YYYY-MM-DD>', 'last day (before today)')
  .option('--markets <codes>', 'SE,DE (default: every market of the accounts file)')
  .option(
    '--sources <list>',
    'delivery, attribution or both (default: both; attribution when an MMP is configured)',
  )
  .option('--json', 'print the result as one JSON object')
  .action((o: BackfillOptions) => backfillCommand(o));

program
  .command('report')
  .description(
    'one self-contained HTML file: CPR, CTR and registrations per day per market and arm, ranked lists with their reasons, live creatives',
  )
  .option('--from <YYYY-MM-DD>', 'first day (default: 27 days before --to)')
  .option('--to <YYYY-MM-DD>', 'last day (default: yesterday, UTC)')
  .option('--markets <codes>', 'SE,DE (default: every market with data)')
  .option('--out <file>', 'HTML file (default: .data/reports/adloop-report-<to>.html)')
  .option('--csv <file>', 'also write the daily rows as CSV')
  .option('--json <file>', 'also write the report data as JSON')
  .option('--serve [port]', 'serve the report on 127.0.0.1 until Ctrl-C')
  .action(async (o: ReportCommandOptions) => {
    await reportCommand(o);
  });

const deploy = program
  .command('deploy')
  .description("a market's deploy: the plan as a diff, and the answer to an approval it waits for");
deploy
  .command('plan')
  .description(
    "print a market's deploy plan as a diff without writing to any platform (on the embedded default, while npm start is not running)",
  )
  .requiredOption('--market <code>', 'market, e.g. SE')
  .option('--date <YYYY-MM-DD>', 'the run whose creatives to plan with (default: today, UTC)')
  .option('--json', 'print one JSON object')
  .action((o: DeployPlanOptions) => deployPlanCommand(o));
deploy
  .command('approve')
  .description("approve (or reject) a market's deploy plan that waits for approval")
  .requiredOption('--market <code>', 'market, e.g. SE')
  .requiredOption('--by <name>', 'who decides (recorded with the plan)')
  .option('--date <YYYY-MM-DD>', "the run's date (default: today, UTC)")
  .option('--reject', 'reject the plan: yesterday’s ads keep running')
  .option('--note <text>', 'why (recorded with the plan)')
  .action((o: DeployApproveOptions) => deployApproveCommand(o));

program
  .command('arms')
  .description(
    'compare the ranking policy arms on what the platforms reported: CPR and CTR with 95% confidence intervals',
  )
  .option('--from <YYYY-MM-DD>', 'first day (default: 27 days before --to)')
  .option('--to <YYYY-MM-DD>', 'last day (default: yesterday, UTC)')
  .option('--json', 'print one JSON object')
  .action((o: ArmsOptions) => armsCommand(o));

program
  .command('codec-server')
  .description(
    'serve /decode and /encode of adloop payloads for the Temporal UI (needs PAYLOAD_KEY)',
  )
  .option('--port <port>', 'port to listen on', '8888')
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--origin <url...>', 'Temporal UI origins allowed to call it', [
    'http://localhost:8233',
    'http://127.0.0.1:8233',
  ])
  .action((o: CodecServerOptions) => codecServerCommand(o));

try {
  await program.parseAsync();
} catch (err) {
  // Temporal's failures say the most in their causes (an activity's error inside a workflow's).
  const chain: string[] = [];
  for (let e: unknown = err; e; e = e instanceof Error ? e.cause : undefined) {
    const text = e instanceof Error ? e.message : JSON.stringify(e);
    if (text && !chain.includes(text)) chain.push(text);
  }
  console.error(`adloop: ${chain.join(': ')}`);
  process.exitCode = 1;
}
// The Temporal client's native connection can keep the process alive: exit explicitly.
process.exit(process.exitCode ?? 0);
