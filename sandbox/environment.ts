// The embedded default's ad platforms: the sandbox, started from its state in .data/sandbox/<world>
// and named in process.env the way a real deployment's settings would be, so the rest of a script
// loads its config as usual. Settings already present (a real Graph API, a real TikTok token, a
// real Google developer token, an MMP) win.
import fs from 'node:fs';
import type { AccountsInput } from '../core/accounts.ts';
import { loadConfigPart } from '../core/config.ts';
import path from 'node:path';
import { sandboxAccounts } from './accounts.ts';
import { startSandbox, type Sandbox } from './index.ts';

export const DEFAULT_WORLD = path.resolve(import.meta.dirname, 'worlds/demo.json');
const DATA = path.resolve(import.meta.dirname, '../.data');

/** True when the config points at no real Meta API: the sandbox stands in for the platforms. */
export function usesSandbox(env: NodeJS.ProcessEnv = process.env): boolean {
  return !env.META_GRAPH_URL || env.META_GRAPH_URL.includes('127.0.0.1');
}

/** Starts the sandbox (port 0: free ports) and points the platform settings at it. */
export async function startSandboxEnv(o: {
  world?: string;
  /** The simulated business day; absent: it follows the UTC wall clock (a long-serving stack). */
  date?: string | undefined;
  port?: number;
}): Promise<Sandbox> {
  const world = path.resolve(o.world ?? DEFAULT_WORLD);
  const port = o.port ?? 0;
  const stateDir = path.join(DATA, 'sandbox', path.basename(world, '.json'));
  const { SANDBOX_CONTROL_TOKEN } = loadConfigPart(['SANDBOX_CONTROL_TOKEN']);
  const sandbox = await startSandbox({
    world,
    metaPort: port,
    tiktokPort: port && port + 1,
    adjustPort: port && port + 2,
    branchPort: port && port + 3,
    googlePort: port && port + 4,
    googleGrpcPort: port && port + 5,
    stateDir,
    controlToken: SANDBOX_CONTROL_TOKEN ?? null,
    // A given date is simulated (npm start --date, deploy:plan); otherwise the wall clock's day.
    ...(o.date ? { date: o.date } : {}),
  });
  const env = process.env;
  env.META_GRAPH_URL = sandbox.metaUrl;
  env.META_ACCESS_TOKEN ??= sandbox.credentials.accessToken;
  // Budgets follow results on the sandbox by default, as an operator would set it up.
  env.ACCOUNTS_PATH ??= writeSandboxAccounts(
    sandboxAccounts(sandbox.world, { allocate: true }),
    stateDir,
  );
  if (!env.TIKTOK_ACCESS_TOKEN) {
    env.TIKTOK_BASE_URL = sandbox.tiktokUrl;
    env.TIKTOK_ACCESS_TOKEN = sandbox.tiktokCredentials.accessToken;
  }
  if (!env.GOOGLE_ADS_DEVELOPER_TOKEN) {
    const g = sandbox.googleCredentials;
    env.GOOGLE_ADS_DEVELOPER_TOKEN = g.developerToken;
    env.GOOGLE_ADS_CLIENT_ID = g.clientId;
    env.GOOGLE_ADS_CLIENT_SECRET = g.clientSecret;
    env.GOOGLE_ADS_REFRESH_TOKEN = g.refreshToken;
    env.GOOGLE_ADS_REST_URL = sandbox.googleUrls.rest;
    env.GOOGLE_ADS_GRPC_URL = sandbox.googleUrls.grpc;
    env.GOOGLE_OAUTH_TOKEN_URL = sandbox.googleUrls.token;
    env.GOOGLE_YOUTUBE_URL = sandbox.googleUrls.youtube;
  }
  if (!env.MMP_PROVIDER) {
    env.MMP_PROVIDER = 'adjust';
    env.ADJUST_BASE_URL = sandbox.adjustUrl;
    env.ADJUST_API_TOKEN = sandbox.world.mmp.adjust.apiToken;
    env.ADJUST_APP_TOKEN = sandbox.world.mmp.adjust.appToken;
  }
  return sandbox;
}

/**
 * Writes the accounts file that matches the sandbox's world (its Meta ad accounts, TikTok
 * advertiser, app and budgets) beside its state, and returns its path: what an operator writes by
 * hand for real accounts (config/accounts.example.json).
 */
export function writeSandboxAccounts(accounts: AccountsInput, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'accounts.json');
  fs.writeFileSync(file, `${JSON.stringify(accounts, null, 2)}\n`);
  return file;
}
