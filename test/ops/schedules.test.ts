// The pure parts of scheduling: business dates in a market's time zone, the instant of a local
// time (across DST changes), times of day, pause notes, and which markets get a schedule.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { localDate, parseTimeZone } from '../../core/dates.ts';
import {
  marketSchedule,
  parsePauseNote,
  parseTimeOfDay,
  pauseNote,
  zonedInstant,
} from '../../ops/schedules.ts';
import { marketsToSchedule } from '../../ops/schedules.ts';

const CATALOG = path.resolve(import.meta.dirname, '../../catalog/demo/catalog.json');

describe('schedules', () => {
  it('dates a run by the calendar day in the market’s time zone', () => {
    const instant = new Date('2026-11-29T02:30:00Z');
    assert.equal(localDate(instant, 'Europe/Stockholm'), '2026-11-29');
    assert.equal(localDate(instant, 'America/Sao_Paulo'), '2026-11-28');
    assert.equal(localDate(instant, 'Pacific/Kiritimati'), '2026-11-29');
    assert.equal(localDate(new Date('2026-11-29T23:30:00Z'), 'Africa/Cairo'), '2026-11-30');
  });

  it('finds the UTC instant of a local time, on both sides of a DST change', () => {
    const six = { hour: 6, minute: 0 };
    // Stockholm: UTC+1 in winter, UTC+2 from 2026-03-29.
    assert.equal(
      zonedInstant('2026-03-28', six, 'Europe/Stockholm').toISOString(),
      '2026-03-28T05:00:00.000Z',
    );
    assert.equal(
      zonedInstant('2026-03-29', six, 'Europe/Stockholm').toISOString(),
      '2026-03-29T04:00:00.000Z',
    );
    assert.equal(
      zonedInstant('2026-11-29', six, 'America/Sao_Paulo').toISOString(),
      '2026-11-29T09:00:00.000Z',
    );
    assert.equal(
      zonedInstant('2026-11-29', { hour: 23, minute: 45 }, 'UTC').toISOString(),
      '2026-11-29T23:45:00.000Z',
    );
  });

  it('refuses malformed times of day and unknown time zones, naming them', () => {
    assert.deepEqual(parseTimeOfDay('06:05'), { hour: 6, minute: 5 });
    assert.throws(
      () => parseTimeOfDay('25:00', '--at'),
      /--at must be HH:MM \(24 h\), got "25:00"/,
    );
    assert.throws(() => parseTimeOfDay('6am', '--at'), /--at must be HH:MM/);
    assert.equal(parseTimeZone('Asia/Riyadh'), 'Asia/Riyadh');
    assert.throws(
      () => parseTimeZone('Mars/Olympus', '--markets XX'),
      /--markets XX is not an IANA time zone: "Mars\/Olympus"/,
    );
  });

  it('writes a pause into a schedule note and reads it back', () => {
    const p = { by: 'alice', since: '2026-11-29T08:00:00.000Z', reason: 'brand review: new logo' };
    assert.deepEqual(parsePauseNote(pauseNote(p)), p);
    const noReason = { by: p.by, since: p.since };
    assert.deepEqual(parsePauseNote(pauseNote(noReason)), noReason);
    // Paused by hand in the Temporal UI, with a free-text note.
    assert.deepEqual(parsePauseNote('holiday freeze'), {
      by: 'the Temporal UI',
      since: 'unknown',
      reason: 'holiday freeze',
    });
  });

  it('schedules each market at its local time with the scheduled-loop workflow', () => {
    const s = marketSchedule(
      { code: 'BR', timeZone: 'America/Sao_Paulo' },
      { taskQueue: 'q', renderTaskQueue: 'r', marketAt: { hour: 7, minute: 30 } },
    );
    assert.equal(s.scheduleId, 'adloop/market/BR');
    assert.equal(s.spec.timezone, 'America/Sao_Paulo');
    assert.deepEqual(
      s.spec.calendars?.[0] && { h: s.spec.calendars[0].hour, m: s.spec.calendars[0].minute },
      { h: 7, m: 30 },
    );
    assert.equal(s.action.workflowType, 'scheduledMarketLoop');
    assert.deepEqual(s.action.args, [
      { market: 'BR', timeZone: 'America/Sao_Paulo', renderTaskQueue: 'r' },
    ]);
    assert.equal(s.policies?.overlap, 'BUFFER_ONE');
  });

  it('takes markets from the catalog, or from --markets with known or given time zones', () => {
    assert.deepEqual(
      marketsToSchedule({ CATALOG_PATH: CATALOG }).map((m) => `${m.code} ${m.timeZone}`),
      ['SE Europe/Stockholm', 'DE Europe/Berlin', 'BR America/Sao_Paulo', 'EG Africa/Cairo'],
    );
    assert.deepEqual(marketsToSchedule({ CATALOG_PATH: CATALOG }, 'se,US,XK=Europe/Belgrade'), [
      { code: 'SE', timeZone: 'Europe/Stockholm' },
      { code: 'US', timeZone: 'America/New_York' },
      { code: 'XK', timeZone: 'Europe/Belgrade' },
    ]);
    assert.throws(
      () => marketsToSchedule({ CATALOG_PATH: CATALOG }, 'XK'),
      /no time zone known for XK; write it as XK=Area\/City/,
    );
    assert.throws(
      () => marketsToSchedule({ CATALOG_PATH: CATALOG }, 'Sweden'),
      /"Sweden" is not a market code/,
    );
  });
});
