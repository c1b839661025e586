// `npm run sandbox -- --world FILE`: serve the sandbox ad platform alone, for trying adloop's
// platform code (or your own) against a simulated market.
import { Command } from 'commander';
import path from 'node:path';
import { parseIsoDate } from '../core/dates.ts';
import { startSandbox } from '../sandbox/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const opts = new Command()
  .name('npm run sandbox --')
  .description('Serve the sandbox Graph API over a simulated market.')
  .option('--world <file>', 'world file', path.join(ROOT, 'sandbox/worlds/demo.json'))
  .option('--meta-port <port>', 'Graph API port', '4010')
  .option('--date <YYYY-MM-DD>', 'fix the simulated date (default: follows the UTC clock)')
  .option('--state <file>', 'persist platform state to this JSON file')
  .parse()
  .opts<{ world: string; metaPort: string; date?: string; state?: string }>();

try {
  const sandbox = await startSandbox({
    world: path.resolve(opts.world),
    metaPort: Number(opts.metaPort),
    statePath: opts.state ? path.resolve(opts.state) : null,
    ...(opts.date ? { date: parseIsoDate(opts.date, '--date') } : {}),
  });
  const { accessToken, adAccountId, pageId } = sandbox.credentials;
  console.log(`sandbox world "${sandbox.world.name}" (date ${sandbox.clock.today()})`);
  console.log(
    `  Graph API  ${sandbox.metaUrl}/v24.0/  token ${accessToken}  account ${adAccountId}  page ${pageId}`,
  );
  console.log(
    `  control    POST ${sandbox.metaUrl}/__sandbox/clock {"date":"YYYY-MM-DD"}, /__sandbox/faults {"meta":{"down":true}}`,
  );
  console.log('Press Ctrl-C to stop.');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void sandbox.close().then(() => process.exit(0)));
  }
} catch (err) {
  console.error(`sandbox failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
