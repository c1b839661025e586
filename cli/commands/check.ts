// `adloop check`: the preflight. Before anything is written, reads every account of the accounts
// file from its platform (token, permissions, status, currency and time zone, page, app, identity,
// app ids, budgets) and prints one line per finding with its fix; exits 1 when anything fails.
// On the embedded default it checks the sandbox's accounts (from the state `npm start` left).
import { formatFindings } from '../../ops/preflight.ts';
import type { Sandbox } from '../../sandbox/index.ts';
import { runPreflight } from '../../workers/preflight.ts';
import { startSandboxEnv, usesSandbox } from '../../sandbox/environment.ts';

export interface CheckOptions {
  json?: boolean;
}

export async function checkCommand(o: CheckOptions): Promise<void> {
  let sandbox: Sandbox | null = null;
  try {
    if (usesSandbox()) sandbox = await startSandboxEnv({});
    const findings = await runPreflight();
    if (o.json) console.log(JSON.stringify({ findings }));
    else for (const line of formatFindings(findings)) console.log(line);
    const failed = findings.filter((f) => f.level === 'fail').length;
    if (!o.json)
      console.log(
        failed > 0
          ? `\n${failed} problem${failed > 1 ? 's' : ''} to fix before adloop writes to these accounts`
          : '\nevery account is ready',
      );
    process.exitCode = failed > 0 ? 1 : 0;
  } finally {
    await sandbox?.close();
  }
}
