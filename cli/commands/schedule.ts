// `adloop schedule create|update|list|backfill|delete`: the Temporal Schedules that start each
// market's daily loop in its own time zone, and the daily model training (ops/schedules.ts).
import { ScheduleNotFoundError } from '@temporalio/client';
import { addDays, parseIsoDate, todayUtc } from '../../core/dates.ts';
import {
  applySchedules,
  backfillMarket,
  listSchedules,
  marketSchedule,
  marketScheduleId,
  parseTimeOfDay,
  TRAINING_SCHEDULE_ID,
  trainingSchedule,
  type ScheduleSettings,
  marketsToSchedule,
} from '../../ops/schedules.ts';
import { connectCli, type CliConfig } from '../temporal-client.ts';

export interface ScheduleOptions {
  markets?: string;
  at?: string;
  trainingAt?: string;
  catchupWindow?: string;
}

function settings(config: CliConfig, o: ScheduleOptions): ScheduleSettings {
  return {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    renderTaskQueue: config.RENDER_TASK_QUEUE,
    ...(o.at ? { marketAt: parseTimeOfDay(o.at, '--at') } : {}),
    ...(o.trainingAt ? { trainingAt: parseTimeOfDay(o.trainingAt, '--training-at') } : {}),
    ...(o.catchupWindow ? { catchupWindow: o.catchupWindow } : {}),
  };
}

const say: Record<string, string> = {
  created: 'created',
  updated: 'updated',
  exists: 'exists already (use `adloop schedule update` to change it)',
  missing: 'does not exist (use `adloop schedule create`)',
};

export async function scheduleApply(
  mode: 'create' | 'update',
  o: ScheduleOptions & { training?: boolean },
): Promise<void> {
  const cli = await connectCli();
  try {
    const s = settings(cli.config, o);
    const markets = marketsToSchedule(cli.config, o.markets);
    const wanted = markets.map((m) => marketSchedule(m, s));
    if (o.training !== false) wanted.push(trainingSchedule(s));
    const results = await applySchedules(cli.client, wanted, mode);
    for (const r of results) console.log(`${r.scheduleId}: ${say[r.outcome]}`);
    if (results.some((r) => r.outcome === 'missing')) process.exitCode = 1;
  } finally {
    await cli.close();
  }
}

export async function scheduleList(o: { json?: boolean }): Promise<void> {
  const cli = await connectCli();
  try {
    const rows = await listSchedules(cli.client);
    if (o.json) {
      console.log(JSON.stringify(rows));
      return;
    }
    if (rows.length === 0) {
      console.log('no adloop schedules: create them with `adloop schedule create`');
      return;
    }
    for (const r of rows) {
      const state = r.paused ? `PAUSED (${r.note})` : `next ${r.nextRuns[0]?.toISOString() ?? '—'}`;
      const last = r.lastRun
        ? `last ${r.lastRun.workflowId} (for ${r.lastRun.scheduledAt.toISOString()})`
        : 'not run yet';
      console.log(`${r.scheduleId.padEnd(20)} ${r.at} ${r.timeZone.padEnd(20)} ${state}; ${last}`);
    }
  } finally {
    await cli.close();
  }
}

export async function scheduleBackfill(o: {
  markets?: string;
  from: string;
  to?: string;
}): Promise<void> {
  const from = parseIsoDate(o.from, '--from');
  const to = o.to ? parseIsoDate(o.to, '--to') : addDays(todayUtc(), -1);
  if (from > to) throw new Error(`--from ${from} is after --to ${to}`);
  const cli = await connectCli();
  try {
    const markets = marketsToSchedule(cli.config, o.markets);
    for (const [i, m] of markets.entries()) {
      const { days } = await backfillMarket(cli.client, m.code, from, to);
      console.log(
        `▸ [${i + 1}/${markets.length}] ${marketScheduleId(m.code)}: ${days} day(s) ${from} .. ${to} queued, oldest first (days that completed are not run again)`,
      );
    }
    console.log('Follow them with `adloop status <market>` or in the Temporal UI.');
  } finally {
    await cli.close();
  }
}

export async function scheduleDelete(o: { markets?: string; training?: boolean }): Promise<void> {
  const cli = await connectCli();
  try {
    const ids = marketsToSchedule(cli.config, o.markets).map((m) => marketScheduleId(m.code));
    if (o.training !== false) ids.push(TRAINING_SCHEDULE_ID);
    for (const id of ids) {
      try {
        await cli.client.schedule.getHandle(id).delete();
        console.log(`${id}: deleted (runs it started keep running)`);
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
        console.log(`${id}: does not exist`);
      }
    }
  } finally {
    await cli.close();
  }
}
