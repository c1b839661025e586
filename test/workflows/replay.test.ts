// Every committed history must replay against today's workflow code: a change that would break
// running workflows (non-determinism) fails here, before it reaches a server.
import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/stack.ts';
import { workflowBundle } from '../helpers/temporal.ts';

const DIR = path.join(ROOT, 'test/histories');
const files = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('replay of committed histories', () => {
  it('has histories of every path since the v11 cut-over, old and new', () => {
    // v1..v6 were retired at the v11 cut-over (docs/reliability.md): they predate the patches
    // deprecated then. Every version since replays.
    assert.ok(!files.some((f) => /-v[1-6]\.json$/.test(f)), 'histories from before the cut-over');
    for (const version of ['v7', 'v8', 'v9', 'v10', 'v11', 'v12'])
      for (const kind of [
        'daily-loop',
        'market-loop',
        'market-loop-fallback',
        'market-loop-paused',
        'scheduled-market-loop',
      ])
        assert.ok(files.includes(`${kind}-${version}.json`), `${kind}-${version}.json`);
    // Since v8: every other workflow type too.
    for (const version of ['v8', 'v9', 'v10', 'v11', 'v12'])
      for (const kind of ['scheduled-training', 'report-data'])
        assert.ok(files.includes(`${kind}-${version}.json`), `${kind}-${version}.json`);
    // Since v10: a token the platform refuses degrades the market (auth-failure-degrades).
    for (const version of ['v10', 'v11', 'v12'])
      assert.ok(files.includes(`market-loop-token-refused-${version}.json`));
    // Since v12: the metrics backfill.
    for (const kind of ['metrics-backfill', 'backfill-market'])
      assert.ok(files.includes(`${kind}-v12.json`), `${kind}-v12.json`);
  });

  it('covers every workflow the worker registers', async () => {
    const registered = Object.keys(await import('../../workflows/index.ts')).sort();
    const types = new Set<string>();
    for (const file of files) {
      const history = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as {
        events: Array<{
          workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } };
        }>;
      };
      const name = history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      if (name) types.add(name);
    }
    assert.deepEqual([...types].sort(), registered);
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const history: unknown = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
    });
  }

  it('detects non-determinism (a history from different code fails)', async () => {
    const history = JSON.parse(fs.readFileSync(path.join(DIR, 'market-loop-v10.json'), 'utf8')) as {
      events: Array<{
        activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
      }>;
    };
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes);
    scheduled!.activityTaskScheduledEventAttributes!.activityType!.name = 'somethingElse';
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'tampered'),
    );
  });
});
