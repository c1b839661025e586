// Three scenarios of the chaos matrix (npm run chaos), run whole in CI: three days of the loop for
// five markets on a real stack, with PostgreSQL crashed and restarted mid-run, with 30% of
// platform calls failing, and with 30% of writes landing after the clients gave up (the fault that
// really duplicates). Each must complete with no ad made twice and no metric row lost, checked
// against the sandbox's own records. The rest of the matrix is `npm run chaos`.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FAULTS } from '../../bench/chaos/faults.ts';
import { runScenario, type ScenarioOptions } from '../../bench/chaos/scenario.ts';
import { startTempPostgres, type TempPostgres } from '../../scripts/lib/postgres.ts';
import { ensureTemporalCli } from '../../scripts/lib/temporal-cli.ts';
import { ROOT } from '../helpers/stack.ts';

describe('chaos scenarios', () => {
  // Its own PostgreSQL: one scenario restarts it.
  let postgres: TempPostgres;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-chaos-test-'));
  const lines: string[] = [];
  let options: ScenarioOptions;

  before(async () => {
    postgres = await startTempPostgres();
    options = {
      dir,
      world: path.join(ROOT, 'sandbox/worlds/bench.json'),
      markets: ['US', 'GB', 'DE', 'BR', 'EG'],
      date: '2026-06-01',
      postgres,
      cli: process.env.TEMPORAL_CLI_PATH ?? (await ensureTemporalCli()),
      dayTimeoutMs: 600_000,
      log: (line) => lines.push(line),
    };
  });
  after(() => {
    postgres?.stop();
    if (!process.env.KEEP_TEST_FILES) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const name of ['database-restarted', 'platform-5xx', 'late-writes']) {
    it(
      `${name}: every market completes, no duplicate ad, no lost row`,
      { timeout: 1_200_000 },
      async () => {
        const fault = FAULTS.find((f) => f.name === name)!;
        const report = await runScenario(fault, { ...options, dir: path.join(dir, name) });
        const why = `${JSON.stringify(report)}\n${lines.join('\n')}`;
        assert.equal(report.fault, name);
        assert.ok(report.injected, `the fault struck: ${why}`);
        assert.deepEqual(report.failures, [], why);
        assert.equal(report.completed, true, why);
        assert.equal(report.duplicate_ads, 0, why);
        assert.equal(report.lost_metric_rows, 0, why);
        // The audit really compared rows: delivery of both platforms and the MMP's attribution.
        assert.ok(report.rows_checked.delivery > 0, why);
        assert.ok(report.rows_checked.attribution > 0, why);
      },
    );
  }
});
