// `adloop backfill`'s input, checked before anything starts (the worker checks it again with its
// own clock and accounts): dates, order, a day not over yet, a source's retention, sources and
// market codes; the range's windows; how changes are counted; and how the result reads.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  BACKFILL_RETENTION_MONTHS,
  backfillWindows,
  earliestBackfillDay,
  monthsBefore,
} from '../../activities/ingest/backfill-range.ts';
import { emptyTally, tallyChanges } from '../../activities/ingest/backfill.ts';
import {
  backfillRequest,
  formatBackfillResult,
  type BackfillOptions,
} from '../../cli/commands/backfill.ts';
import type { BackfillResult, BackfillSourceResult } from '../../core/types.ts';
import { ROOT } from '../helpers/stack.ts';

const TODAY = '2026-12-06';
const request = (o: Partial<BackfillOptions>) =>
  backfillRequest({ from: '2026-11-20', to: '2026-11-27', ...o }, TODAY);

describe('adloop backfill: arguments', () => {
  it('makes the request: markets canonical and once, sources in reading order', () => {
    assert.deepEqual(request({}), { from: '2026-11-20', to: '2026-11-27' });
    assert.deepEqual(request({ markets: ' se,DE, se ', sources: 'attribution,Delivery' }), {
      from: '2026-11-20',
      to: '2026-11-27',
      markets: ['SE', 'DE'],
      sources: ['delivery', 'attribution'],
    });
    // Yesterday is the last day a backfill may read; one day is a range.
    assert.deepEqual(request({ from: '2026-12-05', to: '2026-12-05' }).to, '2026-12-05');
  });

  it('refuses bad dates, naming the option', () => {
    assert.throws(
      () => request({ from: '2026-11-2' }),
      /--from must be YYYY-MM-DD, got "2026-11-2"/,
    );
    assert.throws(() => request({ to: '2026-02-30' }), /--to is not a calendar date: "2026-02-30"/);
    assert.throws(
      () => request({ from: '2026-11-28', to: '2026-11-27' }),
      /--from 2026-11-28 is after --to 2026-11-27/,
    );
  });

  it('refuses a day that is not over yet', () => {
    assert.throws(
      () => request({ to: TODAY }),
      /--to 2026-12-06 is not over yet: the last day a backfill reads is 2026-12-05/,
    );
    assert.throws(() => request({ to: '2027-01-01' }), /not over yet/);
  });

  it('refuses days older than a source keeps them, citing the bound', () => {
    assert.equal(BACKFILL_RETENTION_MONTHS.delivery, 37);
    assert.equal(earliestBackfillDay('delivery', TODAY), '2023-11-06');
    assert.equal(earliestBackfillDay('attribution', TODAY), '2024-12-06');
    // Older than the MMP keeps, but within Meta's 37 months: delivery alone may go back that far.
    assert.throws(
      () => request({ from: '2024-01-01' }),
      /--from 2024-01-01 is older than the MMP exports attribution .*24 months: the earliest attribution day is 2024-12-06/,
    );
    assert.equal(request({ from: '2024-01-01', sources: 'delivery' }).from, '2024-01-01');
    assert.throws(
      () => request({ from: '2023-11-05', sources: 'delivery' }),
      /older than Meta keeps ads insights \(37 months: the earliest delivery day is 2023-11-06\)/,
    );
    assert.equal(request({ from: '2023-11-06', sources: 'delivery' }).from, '2023-11-06');
  });

  it('names unknown sources and bad market codes', () => {
    assert.throws(
      () => request({ sources: 'delivery,clicks,spend' }),
      /--sources: unknown "clicks", "spend" \(sources: delivery, attribution\)/,
    );
    assert.throws(() => request({ sources: ' , ' }), /--sources: name one of/);
    assert.throws(
      () => request({ markets: 'SE,Sweden' }),
      /--markets: "Sweden" is not a market code/,
    );
    assert.throws(() => request({ markets: '' }), /--markets: name at least one market/);
  });

  it('the command refuses before it connects to anything, and says why', async () => {
    const run = (...args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn(
          process.execPath,
          ['--import', 'tsx', path.join(ROOT, 'cli/adloop.ts'), 'backfill', ...args],
          // Nothing listens there: a connection attempt would fail with another message.
          { cwd: ROOT, env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' } },
        );
        let stderr = '';
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        p.once('exit', (code) => resolve({ code, stderr }));
      });
    const reversed = await run('--from', '2026-03-05', '--to', '2026-03-01');
    assert.equal(reversed.code, 1);
    assert.match(reversed.stderr, /^adloop: --from 2026-03-05 is after --to 2026-03-01$/m);
    const missing = await run('--from', '2026-03-05');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /required option '--to <YYYY-MM-DD>' not specified/);
  });
});

describe('backfill windows and counts', () => {
  it('cuts a range into consecutive windows of at most 30 days', () => {
    assert.deepEqual(backfillWindows('2026-01-01', '2026-01-01'), [
      { since: '2026-01-01', until: '2026-01-01' },
    ]);
    assert.deepEqual(backfillWindows('2026-01-01', '2026-03-06'), [
      { since: '2026-01-01', until: '2026-01-30' },
      { since: '2026-01-31', until: '2026-03-01' },
      { since: '2026-03-02', until: '2026-03-06' },
    ]);
    // 37 months in 38 windows.
    assert.equal(backfillWindows('2023-11-06', '2026-12-05').length, 38);
    assert.equal(monthsBefore('2026-03-31', 1), '2026-02-28');
    assert.equal(monthsBefore('2024-03-31', 1), '2024-02-29');
  });

  it('counts each written key once: added, changed (old -> new, a few), unchanged', () => {
    const t = emptyTally('delivery', 'SE');
    type Row = { clicks: number; currency: string };
    const before = new Map<string, Row>([
      ['a', { clicks: 1, currency: 'EUR' }],
      ['b', { clicks: 2, currency: 'EUR' }],
      ...Array.from({ length: 7 }, (_, i) => [`c${i}`, { clicks: i, currency: 'EUR' }] as const),
    ]);
    const after = new Map<string, Row>([
      ['a', { clicks: 1, currency: 'EUR' }],
      ['b', { clicks: 3, currency: 'EUR' }],
      ['new', { clicks: 9, currency: 'EUR' }],
      ...Array.from(
        { length: 7 },
        (_, i) => [`c${i}`, { clicks: i + 1, currency: 'EUR' }] as const,
      ),
    ]);
    const w = (key: string, date: string) => ({ key, date, row: `meta ad ${key}` });
    tallyChanges(
      t,
      [
        w('a', '2026-03-01'),
        w('b', '2026-03-02'),
        w('b', '2026-03-02'),
        w('new', '2026-03-03'),
        ...Array.from({ length: 7 }, (_, i) => w(`c${i}`, '2026-03-04')),
      ],
      before,
      after,
      ['clicks', 'currency'],
    );
    assert.deepEqual([t.read, t.added, t.changed, t.unchanged], [10, 1, 8, 1]);
    assert.deepEqual(t.changedDates, ['2026-03-02', '2026-03-03', '2026-03-04']);
    assert.equal(t.examples.length, 5);
    assert.deepEqual(t.examples[0], {
      date: '2026-03-02',
      row: 'meta ad b',
      changes: { clicks: { old: 2, new: 3 } },
    });
  });

  it('reads as a table per source and market, with examples, learn and failures', () => {
    const tally: BackfillSourceResult = {
      source: 'attribution',
      market: 'SE',
      unchanged: 0,
      notes: [],
      changedDays: [
        { since: '2026-03-01', until: '2026-03-03' },
        { since: '2026-03-05', until: '2026-03-05' },
      ],
      read: 40,
      added: 28,
      changed: 12,
      examples: [
        {
          date: '2026-03-04',
          row: 'adjust android Facebook creative 1201',
          changes: { installs: { old: 27, new: 34 } },
        },
      ],
    };
    const r: BackfillResult = {
      from: '2026-03-01',
      to: '2026-03-05',
      markets: ['SE', 'DE'],
      sources: ['attribution'],
      tallies: [tally],
      totals: { read: 40, added: 28, changed: 12, unchanged: 0 },
      learn: [{ market: 'SE', recomputed: ['2026-03-06'], failed: [] }],
      failed: [{ market: 'DE', error: 'adjust: 503' }],
      notes: [],
    };
    assert.deepEqual(formatBackfillResult(r), [
      'Backfill 2026-03-01..2026-03-05: SE, DE; attribution',
      '  source       market  read  added  changed  unchanged',
      '  attribution  SE        40     28       12          0',
      '  total                  40     28       12          0',
      'Changed rows, e.g. (old → new):',
      '  attribution SE 2026-03-04 adjust android Facebook creative 1201: installs 27 → 34',
      'Changed days attribution SE: 2026-03-01..2026-03-03, 2026-03-05',
      'Learn SE: recomputed 1 snapshot over the changed days (2026-03-06)',
      'FAILED DE: adjust: 503 (run the same range again: it re-reads idempotently)',
    ]);
  });
});
