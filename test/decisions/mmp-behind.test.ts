import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MMP_BEHIND_MAX_DAYS,
  daysBehind,
  shrinkIsRestatement,
} from '../../decisions/ingest/mmp-behind.ts';

describe('daysBehind', () => {
  const stored = new Map([
    ['2026-03-02', 100],
    ['2026-03-03', 80],
    ['2026-03-04', 40],
  ]);

  it('names the days answered with less than is stored, a day answered with nothing included', () => {
    const read = new Map([
      ['2026-03-02', 100],
      ['2026-03-03', 79],
      ['2026-03-05', 12],
    ]);
    assert.deepEqual(daysBehind(read, stored), ['2026-03-03', '2026-03-04']);
  });

  it('names none when every day holds or grows', () => {
    const read = new Map([
      ['2026-03-02', 100],
      ['2026-03-03', 90],
      ['2026-03-04', 40],
    ]);
    assert.deepEqual(daysBehind(read, stored), []);
    assert.deepEqual(daysBehind(read, new Map()), []);
  });
});

describe('shrinkIsRestatement', () => {
  it('holds a shrink back while the last complete read is recent', () => {
    assert.equal(shrinkIsRestatement('2026-03-10', '2026-03-09'), false);
    assert.equal(shrinkIsRestatement('2026-03-10', '2026-03-03'), false);
  });

  it(`takes it as the MMP's word after ${MMP_BEHIND_MAX_DAYS} days, or without a daily read`, () => {
    assert.equal(shrinkIsRestatement('2026-03-10', '2026-03-02'), true);
    assert.equal(shrinkIsRestatement('2026-03-10', null), true);
  });
});
