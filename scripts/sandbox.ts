// `npm run sandbox -- --world FILE`: serve the sandbox ad platform alone, for trying adloop's
// platform code (or your own) against a simulated market.
import { Command } from 'commander';
import path from 'node:path';
import { loadConfigPart } from '../core/config.ts';
import { parseIsoDate } from '../core/dates.ts';
import { startSandbox } from '../sandbox/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const opts = new Command()
  .name('npm run sandbox --')
  .description('Serve the sandbox Graph API over a simulated market.')
  .option('--world <file>', 'world file', path.join(ROOT, 'sandbox/worlds/demo.json'))
  .option('--meta-port <port>', 'Meta Graph API port', '4010')
  .option('--tiktok-port <port>', 'TikTok Business API port', '4011')
  .option('--adjust-port <port>', 'Adjust Report Service port', '4012')
  .option('--branch-port <port>', 'Branch Query API port', '4013')
  .option('--google-port <port>', 'Google Ads REST, OAuth and YouTube port', '4014')
  .option('--google-grpc-port <port>', 'Google Ads gRPC port', '4015')
  .option(
    '--host <address>',
    'interface to bind; beyond loopback (e.g. 0.0.0.0) the control endpoints need SANDBOX_CONTROL_TOKEN',
    '127.0.0.1',
  )
  .option('--date <YYYY-MM-DD>', 'fix the simulated date (default: follows the UTC clock)')
  .option('--state <dir>', 'persist platform state in this directory')
  .parse()
  .opts<{
    world: string;
    metaPort: string;
    tiktokPort: string;
    adjustPort: string;
    branchPort: string;
    googlePort: string;
    googleGrpcPort: string;
    host: string;
    date?: string;
    state?: string;
  }>();

try {
  // The control token comes from the environment only: a flag would show it in the process list.
  const { SANDBOX_CONTROL_TOKEN } = loadConfigPart(['SANDBOX_CONTROL_TOKEN']);
  const sandbox = await startSandbox({
    world: path.resolve(opts.world),
    metaPort: Number(opts.metaPort),
    tiktokPort: Number(opts.tiktokPort),
    adjustPort: Number(opts.adjustPort),
    branchPort: Number(opts.branchPort),
    googlePort: Number(opts.googlePort),
    googleGrpcPort: Number(opts.googleGrpcPort),
    host: opts.host,
    controlToken: SANDBOX_CONTROL_TOKEN ?? null,
    stateDir: opts.state ? path.resolve(opts.state) : null,
    ...(opts.date ? { date: parseIsoDate(opts.date, '--date') } : {}),
  });
  const { accessToken, adAccountId, pageId } = sandbox.credentials;
  const w = sandbox.world;
  console.log(
    `sandbox world "${w.name}" (date ${sandbox.clock.today()}, ${w.catalog.artistCount} artists, ${w.catalog.markets.length} markets)`,
  );
  console.log(
    `  Meta Graph API  ${sandbox.metaUrl}/v24.0/  token ${accessToken}  account ${adAccountId}  page ${pageId}`,
  );
  console.log(
    `  TikTok API      ${sandbox.tiktokUrl}/open_api/v1.3/  Access-Token ${w.tiktok.accessToken}  advertiser ${w.tiktok.advertiserId}`,
  );
  const g = sandbox.googleCredentials;
  console.log(
    `  Google Ads      ${sandbox.googleUrls.rest}/v24/ (queries), ${sandbox.googleUrls.grpc} (gRPC mutates)  developer-token ${g.developerToken}  customer ${g.customerId}${g.loginCustomerId ? `  login-customer-id ${g.loginCustomerId}` : ''}`,
  );
  console.log(
    `  Google OAuth    ${sandbox.googleUrls.token}  client ${g.clientId} / ${g.clientSecret}  refresh token ${g.refreshToken}  (YouTube uploads: ${sandbox.googleUrls.youtube}upload/youtube/v3/videos)`,
  );
  console.log(
    `  Adjust          ${sandbox.adjustUrl}/control-center/reports-service/report  Bearer ${w.mmp.adjust.apiToken}  app ${w.mmp.adjust.appToken}`,
  );
  console.log(
    `  Branch          ${sandbox.branchUrl}/v1/query/analytics  key ${w.mmp.branch.branchKey}  secret ${w.mmp.branch.branchSecret}`,
  );
  console.log(
    `  control    POST ${sandbox.metaUrl}/__sandbox/clock {"date":"YYYY-MM-DD"}, /__sandbox/faults {"meta":{"down":true}}${SANDBOX_CONTROL_TOKEN ? '  (Authorization: Bearer $SANDBOX_CONTROL_TOKEN)' : ''}`,
  );
  console.log('Press Ctrl-C to stop.');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void sandbox.close().then(() => process.exit(0)));
  }
} catch (err) {
  console.error(`sandbox failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
