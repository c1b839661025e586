// adloop's Temporal Schedules: one per market, in the market's time zone, plus one for the daily
// model training. One schedule per market (rather than one for all markets with a child each)
// because markets live in different time zones and are paused, backfilled and rerun on their
// own: pausing Brazil must not hold Sweden, and Sweden's day starts eight hours before Brazil's.
//
//   adloop/market/<code>   06:00 in the market's time zone → scheduledMarketLoop → market/<code>/<date>
//   adloop/training        23:30 UTC → scheduledTraining (the ranking model, on every market's rows)
//
// A market's pause lives on its schedule (paused, with a note saying who, when and why), so it
// survives restarts and shows in the Temporal UI's Schedules page; market loops read it at start.
import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import type { IsoDate, MarketCode, MarketPause } from '../core/types.ts';
import { MARKET } from '../core/search-attributes.ts';
import { addDays, parseTimeZone } from '../core/dates.ts';
import { readCatalogFile } from '../core/catalog.ts';
import { COUNTRY_BY_CODE } from '../core/countries.ts';
import { parseMarketCode } from '../core/ids.ts';

const MARKET_SCHEDULE_PREFIX = 'adloop/market/';
export const marketScheduleId = (market: MarketCode) => `${MARKET_SCHEDULE_PREFIX}${market}`;
/** The market of a market's schedule id; null for other schedules (training). */
const marketOfScheduleId = (scheduleId: string): MarketCode | null =>
  scheduleId.startsWith(MARKET_SCHEDULE_PREFIX)
    ? scheduleId.slice(MARKET_SCHEDULE_PREFIX.length)
    : null;
export const TRAINING_SCHEDULE_ID = 'adloop/training';
const SCHEDULE_PREFIX = 'adloop/';

/** A time of day, `HH:MM` (24 h). */
export interface TimeOfDay {
  hour: number;
  minute: number;
}

export function parseTimeOfDay(value: string, what = 'time'): TimeOfDay {
  const m = /^(\d{1,2}):(\d{2})$/.exec(value);
  const hour = m ? Number(m[1]) : NaN;
  const minute = m ? Number(m[2]) : NaN;
  if (!m || hour > 23 || minute > 59)
    throw new Error(`${what} must be HH:MM (24 h), got "${value}"`);
  return { hour, minute };
}

export const formatTimeOfDay = ({ hour, minute }: TimeOfDay) =>
  `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;

export interface ScheduleSettings {
  /** Loop worker task queue the scheduled workflows run on. */
  taskQueue: string;
  /** Render workers' task queue. */
  renderTaskQueue: string;
  /** Local time each market's loop starts. Default 06:00. */
  marketAt?: TimeOfDay;
  /** UTC time the model trains. Default 23:30, after every market's day has been learned. */
  trainingAt?: TimeOfDay;
  /**
   * How late a run missed while the Temporal server was down is still taken when it is back.
   * Default one day: yesterday's missed run still happens, older days are `backfill`ed on purpose.
   */
  catchupWindow?: string;
}

/** A market's schedule: its loop every day at `marketAt` in the market's time zone. */
export function marketSchedule(
  market: { code: MarketCode; timeZone: string },
  s: ScheduleSettings,
): ScheduleOptions {
  const at = s.marketAt ?? { hour: 6, minute: 0 };
  return {
    scheduleId: marketScheduleId(market.code),
    spec: {
      calendars: [
        { hour: at.hour, minute: at.minute, comment: `${market.code} daily loop, local time` },
      ],
      timezone: market.timeZone,
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledMarketLoop',
      // Temporal appends the scheduled time: scheduled/SE-2026-11-29T05:00:00Z.
      workflowId: `scheduled/${market.code}`,
      taskQueue: s.taskQueue,
      args: [
        { market: market.code, timeZone: market.timeZone, renderTaskQueue: s.renderTaskQueue },
      ],
      typedSearchAttributes: [{ key: MARKET, value: market.code }],
    },
    policies: {
      // A day still running (say, waiting for approval) delays the next one instead of racing it
      // on the same ad sets.
      overlap: 'BUFFER_ONE',
      catchupWindow: s.catchupWindow ?? '1 day',
      pauseOnFailure: false,
    },
    typedSearchAttributes: [{ key: MARKET, value: market.code }],
  };
}

export function trainingSchedule(s: ScheduleSettings): ScheduleOptions {
  const at = s.trainingAt ?? { hour: 23, minute: 30 };
  return {
    scheduleId: TRAINING_SCHEDULE_ID,
    spec: {
      calendars: [{ hour: at.hour, minute: at.minute, comment: 'daily ranking-model training' }],
      timezone: 'UTC',
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'scheduledTraining',
      workflowId: 'scheduled/training',
      taskQueue: s.taskQueue,
      args: [{ timeZone: 'UTC' }],
    },
    policies: { overlap: 'SKIP', catchupWindow: s.catchupWindow ?? '1 day' },
  };
}

export type ApplyOutcome = 'created' | 'updated' | 'exists' | 'missing';

/**
 * Creates (`create`), changes (`update`) or either (`upsert`) the given schedules. Creating one
 * that exists or updating one that does not is reported, not thrown, so one run covers all.
 * An update keeps the schedule's pause and note: rescheduling does not resume a paused market.
 */
export async function applySchedules(
  client: Client,
  schedules: ScheduleOptions[],
  mode: 'create' | 'update' | 'upsert',
): Promise<Array<{ scheduleId: string; outcome: ApplyOutcome }>> {
  const out: Array<{ scheduleId: string; outcome: ApplyOutcome }> = [];
  for (const options of schedules) {
    const handle = client.schedule.getHandle(options.scheduleId);
    let exists = true;
    try {
      await handle.describe();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      exists = false;
    }
    if (!exists && mode === 'update') {
      out.push({ scheduleId: options.scheduleId, outcome: 'missing' });
    } else if (!exists) {
      await client.schedule.create(options);
      out.push({ scheduleId: options.scheduleId, outcome: 'created' });
    } else if (mode === 'create') {
      out.push({ scheduleId: options.scheduleId, outcome: 'exists' });
    } else {
      await handle.update((prev) => ({
        ...prev,
        spec: options.spec,
        action: options.action,
        policies: { ...prev.policies, ...options.policies },
      }));
      out.push({ scheduleId: options.scheduleId, outcome: 'updated' });
    }
  }
  return out;
}

export interface ScheduleRow {
  scheduleId: string;
  market: MarketCode | null;
  timeZone: string;
  at: string;
  paused: boolean;
  note: string;
  nextRuns: Date[];
  /** The last run it started: when it was scheduled for and its workflow id. */
  lastRun: { scheduledAt: Date; workflowId: string } | null;
}

function rowOf(scheduleId: string, d: ScheduleDescription): ScheduleRow {
  const cal = d.spec.calendars?.[0];
  const first = (r: unknown) =>
    Array.isArray(r) && r.length > 0 ? Number((r[0] as { start: number }).start) : 0;
  const last = d.info.recentActions.at(-1);
  const market = marketOfScheduleId(scheduleId);
  return {
    scheduleId,
    market,
    timeZone: d.spec.timezone ?? 'UTC',
    at: cal ? formatTimeOfDay({ hour: first(cal.hour), minute: first(cal.minute) }) : '?',
    paused: d.state.paused,
    note: d.state.note ?? '',
    nextRuns: d.info.nextActionTimes,
    lastRun: last
      ? { scheduledAt: last.scheduledAt, workflowId: last.action.workflow.workflowId }
      : null,
  };
}

/** Every adloop schedule, markets first (by code), then training. */
async function scheduleIds(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) {
    if (s.scheduleId.startsWith(SCHEDULE_PREFIX)) ids.push(s.scheduleId);
  }
  return ids;
}

/** The markets that have a schedule, by code (from the listing alone: nothing is described). */
export async function scheduledMarkets(client: Client): Promise<MarketCode[]> {
  return (await scheduleIds(client)).flatMap((id) => marketOfScheduleId(id) ?? []).sort();
}

export async function listSchedules(client: Client): Promise<ScheduleRow[]> {
  const ids = await scheduleIds(client);
  const rows = await Promise.all(
    ids.map(async (id) => rowOf(id, await client.schedule.getHandle(id).describe())),
  );
  return rows.sort((a, b) =>
    a.market && b.market ? a.market.localeCompare(b.market) : a.market ? -1 : 1,
  );
}

/** One market's schedule, or null when it has none. */
export async function describeMarketSchedule(
  client: Client,
  market: MarketCode,
): Promise<ScheduleRow | null> {
  const id = marketScheduleId(market);
  try {
    return rowOf(id, await client.schedule.getHandle(id).describe());
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

/**
 * The UTC instant of `time` on `date` in `timeZone` (DST-aware: the offset is the one in force
 * at that local time).
 */
export function zonedInstant(date: IsoDate, time: TimeOfDay, timeZone: string): Date {
  const asUtc = Date.UTC(
    Number(date.slice(0, 4)),
    Number(date.slice(5, 7)) - 1,
    Number(date.slice(8, 10)),
    time.hour,
    time.minute,
  );
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  });
  const offsetAt = (t: number) => {
    const p = Object.fromEntries(fmt.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
    const local = Date.UTC(
      Number(p.year),
      Number(p.month) - 1,
      Number(p.day),
      Number(p.hour),
      Number(p.minute),
    );
    return local - t;
  };
  // Twice: the first guess may sit on the other side of a DST change.
  let t = asUtc - offsetAt(asUtc);
  t = asUtc - offsetAt(t);
  return new Date(t);
}

/**
 * Runs a market's loop for every day from `from` to `to` (inclusive) that its schedule would
 * have run, oldest first and one at a time (each day learns from the one before). Days that
 * already completed are not run again (scheduledMarketLoop sees their workflow id taken).
 */
export async function backfillMarket(
  client: Client,
  market: MarketCode,
  from: IsoDate,
  to: IsoDate,
): Promise<{ days: number }> {
  const row = await describeMarketSchedule(client, market);
  if (!row)
    throw new Error(`${market} has no schedule (${marketScheduleId(market)}): create it first`);
  const at = parseTimeOfDay(row.at);
  // A minute either side of the first and last run's instant: exactly those days' actions.
  const start = new Date(zonedInstant(from, at, row.timeZone).getTime() - 60_000);
  const end = new Date(zonedInstant(to, at, row.timeZone).getTime() + 60_000);
  await client.schedule.getHandle(row.scheduleId).backfill([{ start, end, overlap: 'BUFFER_ALL' }]);
  let days = 0;
  for (let d = from; d <= to; d = addDays(d, 1)) days++;
  return { days };
}

/** How a pause is written into a schedule's note, and read back. */
export function pauseNote(p: MarketPause): string {
  return `paused by ${p.by} at ${p.since}${p.reason ? `: ${p.reason}` : ''}`;
}

export function parsePauseNote(note: string): MarketPause {
  const m = /^paused by (.+?) at (\S+?)(?:: (.*))?$/s.exec(note);
  if (!m) return { by: 'the Temporal UI', since: 'unknown', ...(note ? { reason: note } : {}) };
  return { by: m[1]!, since: m[2]!, ...(m[3] ? { reason: m[3] } : {}) };
}

/** The market's pause as its schedule holds it, or null (not paused, or no schedule). */
export async function schedulePause(
  client: Client,
  market: MarketCode,
): Promise<MarketPause | null> {
  const row = await describeMarketSchedule(client, market);
  return row?.paused ? parsePauseNote(row.note) : null;
}

/**
 * The markets to schedule and their time zones: the catalog's (CATALOG_PATH), or the codes given
 * in `--markets`, each with the catalog's time zone, else its country's, else `CODE=Area/City`.
 */
export function marketsToSchedule(
  config: { CATALOG_PATH: string },
  markets?: string,
): Array<{ code: string; timeZone: string }> {
  const catalog = /^https?:/.test(config.CATALOG_PATH)
    ? []
    : readCatalogFile(config.CATALOG_PATH).markets;
  const zoneOf = new Map(catalog.map((m) => [m.code, m.timeZone]));
  if (!markets) {
    if (catalog.length === 0)
      throw new Error(`CATALOG_PATH is a URL: name the markets with --markets SE,DE,…`);
    return catalog.map((m) => ({ code: m.code, timeZone: m.timeZone }));
  }
  return markets.split(',').map((entry) => {
    const [rawCode, zone] = entry.trim().split('=');
    const code = parseMarketCode(rawCode!, '--markets');
    const timeZone = zone ?? zoneOf.get(code) ?? COUNTRY_BY_CODE.get(code)?.timeZone;
    if (!timeZone)
      throw new Error(`--markets: no time zone known for ${code}; write it as ${code}=Area/City`);
    return { code, timeZone: parseTimeZone(timeZone, `--markets ${code}`) };
  });
}
