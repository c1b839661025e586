// How far back a day's ingest reads: its lookback, or back to where the last successful read
// started after days it could not read, never more than CATCH_UP_MAX_DAYS.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATCH_UP_MAX_DAYS, catchUpSince } from '../../decisions/ingest/catch-up.ts';

describe('catchUpSince', () => {
  it('reads the lookback on a first read and the day after a successful one', () => {
    assert.equal(catchUpSince('2026-06-10', 3, null), '2026-06-07');
    assert.equal(catchUpSince('2026-06-10', 3, '2026-06-09'), '2026-06-07');
  });

  it('after days without a read, goes back to where the last successful read started', () => {
    // Read on 06-04 (06-01..06-03, maybe partial), then down 06-05..06-09: 06-10 reads
    // 06-01..06-09.
    assert.equal(catchUpSince('2026-06-10', 3, '2026-06-04'), '2026-06-01');
    // One day missed: the day before's window again.
    assert.equal(catchUpSince('2026-06-10', 3, '2026-06-08'), '2026-06-05');
  });

  it(`goes back at most ${CATCH_UP_MAX_DAYS} days: older gaps are adloop backfill's`, () => {
    assert.equal(catchUpSince('2026-06-30', 3, '2026-01-01'), '2026-05-31');
  });

  it('a rerun of a past day reads that day’s lookback', () => {
    assert.equal(catchUpSince('2026-06-05', 3, '2026-06-10'), '2026-06-02');
  });
});
