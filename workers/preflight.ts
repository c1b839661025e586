// The preflight (`adloop check`, and `npm start` before its worker starts): every account of the
// accounts file read from its platform through the clients a loop worker would use, then judged
// (ops/preflight.ts). Wiring only: the facts and the judgement live in ops/.
import { loadAccounts } from '../core/accounts.ts';
import { loadConfig } from '../core/config.ts';
import { gatherPreflightFacts } from '../ops/preflight-facts.ts';
import { judgePreflight, type Finding } from '../ops/preflight.ts';
import { platformClients } from './loop-worker.ts';

/** Runs the preflight against the configured (or sandbox) platforms. */
export async function runPreflight(): Promise<Finding[]> {
  const config = loadConfig();
  const accounts = loadAccounts(config.ACCOUNTS_PATH);
  const facts = await gatherPreflightFacts(accounts, platformClients(config, accounts));
  return judgePreflight(accounts, facts, new Date(), config.DEPLOY_OBJECTIVE);
}
