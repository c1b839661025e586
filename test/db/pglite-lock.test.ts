// PGlite must be owned by exactly one process: a second opener fails loudly, a dead owner's lock
// is taken over, and data written before a clean close is there on reopen.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase } from '../../db/database.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { startRun, getRun } from '../../db/runs.repository.ts';
import { ROOT } from '../helpers/stack.ts';

function openInChild(dir: string) {
  const code = `import { openDatabase } from ${JSON.stringify(path.join(ROOT, 'db/database.ts'))};
    try { const h = await openDatabase({ pgliteDir: ${JSON.stringify(dir)} }); await h.close(); console.log('opened'); }
    catch (e) { console.log(e.name + ': ' + e.message); }
    process.exit(0); // PGlite can keep the event loop alive after close`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    cwd: ROOT,
  });
}

describe('PGlite ownership', () => {
  it('refuses a second process while the first holds the database', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-pglite-'));
    const h = await openDatabase({ pgliteDir: dir });
    try {
      const child = openInChild(dir);
      assert.match(
        child.stdout,
        /DatabaseLockedError: the PGlite database in .* is in use by process \d+/,
      );
      await assert.rejects(openDatabase({ pgliteDir: dir }), /already open in this process/);
    } finally {
      await h.close();
    }
    assert.match(openInChild(dir).stdout, /opened/);
  });

  it('takes over the lock of a process that died, and keeps committed data', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-pglite-'));
    const h = await openDatabase({ pgliteDir: dir });
    await migrateToLatest(h.db);
    await startRun(h.db, { id: 'r1', market: 'SE', date: '2026-03-01' });
    await h.close();
    // A lock left by a pid that no longer exists.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    fs.writeFileSync(path.join(dir, 'adloop.lock'), `${dead.stdout}\n`);
    const again = await openDatabase({ pgliteDir: dir });
    try {
      assert.equal((await getRun(again.db, 'r1'))?.market, 'SE');
    } finally {
      await again.close();
    }
    assert.equal(fs.existsSync(path.join(dir, 'adloop.lock')), false);
  });
});
