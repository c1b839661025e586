// The soak's days: each day's faults switched on (or striking once), a planned restart of the
// worker if the schedule says so, the day's loop, then the same checks a chaos scenario makes of
// its faulted days (bench/chaos/scenario.ts): every market completed (and deployed, but on a
// platform a fault took down), the fault proved it struck, the sources' rows for the run's
// lookbacks are in the database (except where the run said it could not read them), and nothing
// adloop names uniquely exists twice. A fault may last several days; it is cleared, and the
// operator's recovery run, after its last.
//
// What a day's audit had to excuse (a source the run could not read) or took from an abnormal
// source (an MMP running late) is audited again after the next day that read every source
// normally, over every day since the excused run's lookback began: so a gap that the following
// runs did not repair is counted, not forgiven.
import { daysBetween } from '../../core/dates.ts';
import { marketLoopWorkflowId } from '../../core/ids.ts';
import type { DailyLoopResult, MarketLoopResult } from '../../core/types.ts';
import { DEPLOY_PLATFORMS } from '../../decisions/deploy/plan.ts';
import type { TempPostgres } from '../../scripts/lib/postgres.ts';
import {
  auditMetrics,
  deliveredAds,
  duplicateAds,
  duplicateObjects,
  platformAds,
  removedTwins,
  type MetricsAudit,
} from '../chaos/audit.ts';
import { markLogs, type Fault, type FaultContext, type Tally } from '../chaos/faults.ts';
import {
  ATTRIBUTION_LOOKBACK_DAYS,
  METRICS_LOOKBACK_DAYS,
  type ChaosStack,
} from '../chaos/stack.ts';
import type { marketLoop } from '../../workflows/index.ts';
import type { SoakDayPlan } from './plan.ts';
import type { Workers } from './workers.ts';

export interface SoakDayOptions {
  workers: Workers;
  postgres: TempPostgres;
  markets: string[];
  /** Longest one day's loop may take. */
  dayTimeoutMs: number;
  log: (line: string) => void;
}

export interface FailedDay {
  market: string;
  date: string;
  reason: string;
}

export interface SoakDayOutcome {
  day: number;
  date: string;
  /** Every fault on this day: switched on today or earlier (a fault lasting several days). */
  on: string[];
  /** Faults that proved they struck, counted on the day they ended (or struck). */
  applied: string[];
  /** Faults that ended without proof they did anything (their moment never came). */
  missed: string[];
  /** Whether the planned restart (before the day's loop) happened. */
  restarted: boolean;
  /** Requests the platforms answered (or dropped) while the day's loop ran. */
  requests: { meta: number; tiktok: number };
  failed: FailedDay[];
  /** Anything else that broke a promise: a strike or a recovery that failed. */
  problems: string[];
  /** Metric rows missing or differing in this day's audit. */
  lost: number;
  /** Of them, found by the re-audit of earlier excused days (0 when none ran). */
  reauditLost: number;
  /** The re-audit's window (first day re-checked), when one ran after this day. */
  reaudited: string | null;
  lostExamples: string[];
  rowsChecked: { delivery: number; attribution: number };
  /** Markets whose run said a source was unreadable (not audited for that source this day). */
  excused: string[];
  /** Duplicates on the platforms after this day, all days so far. */
  duplicates: number;
  /** Twins (a write that landed late) adloop deleted before they delivered, all days so far. */
  removedTwins: number;
  /** Wall time of the day's loop. */
  seconds: number;
  /** When the loop returned (performance.now()), so memory is sampled at the same moment after. */
  loopEndedAt: number;
  /** The loop's result; when it did not return, the markets that completed. */
  result: DailyLoopResult | null;
}

/** Per market, which sources its run said it could not read (as bench/chaos/scenario.ts). */
export function excusedMarkets(
  r: DailyLoopResult | null,
): Map<string, { delivery: boolean; attribution: boolean }> {
  const out = new Map<string, { delivery: boolean; attribution: boolean }>();
  for (const m of r?.markets ?? []) {
    const d = m.degraded ?? [];
    const delivery = d.some((x) => x.startsWith('platform metrics unavailable'));
    const attribution = d.some((x) => x.startsWith('attribution unavailable'));
    if (delivery || attribution) out.set(m.market, { delivery, attribution });
  }
  return out;
}

/**
 * A market run's status as Temporal has it (with what it waits on, when still running), and its
 * result when it completed.
 */
async function marketState(
  stack: ChaosStack,
  market: string,
  date: string,
): Promise<{ state: string; result?: MarketLoopResult }> {
  try {
    const handle = stack.client.workflow.getHandle<typeof marketLoop>(
      marketLoopWorkflowId(market, date),
    );
    const d = await handle.describe();
    if (d.status.name === 'COMPLETED') return { state: 'COMPLETED', result: await handle.result() };
    const pending = (d.raw.pendingActivities ?? []).map(
      (a) => `${a.activityType?.name ?? '?'} attempt ${a.attempt ?? '?'}`,
    );
    return { state: pending.length ? `${d.status.name} in ${pending.join(', ')}` : d.status.name };
  } catch (err) {
    return { state: `unknown (${(err as Error).message})` };
  }
}

export const lostIn = (a: MetricsAudit): number =>
  a.delivery.missing + a.delivery.differing + a.attribution.missing + a.attribution.differing;

/**
 * Markets whose deploy broke a promise under the faults on that day. With no fault allowing it,
 * every completed market deploys; with platforms down, every platform that was up still gets its
 * ads; a fault that allows a skipped deploy without naming a platform allows any.
 */
export function deployFailures(
  r: DailyLoopResult | null,
  faults: ReadonlyArray<Pick<Fault, 'deploySkipAllowed' | 'platformDown'>>,
): FailedDay[] {
  const down = new Set(faults.flatMap((f) => (f.platformDown ? [f.platformDown] : [])));
  const skipAny = faults.some((f) => f.deploySkipAllowed && !f.platformDown);
  const out: FailedDay[] = [];
  for (const m of r?.markets ?? []) {
    if (m.status !== 'completed' || skipAny) continue;
    const why = (m.degraded ?? []).join('; ');
    if (down.size === 0) {
      if (!m.deploy) out.push({ market: m.market, date: m.date, reason: `deploy skipped: ${why}` });
      continue;
    }
    for (const p of DEPLOY_PLATFORMS.filter((x) => !down.has(x)))
      if (!m.deploy?.platforms?.[p])
        out.push({
          market: m.market,
          date: m.date,
          reason: `${p} not deployed while only ${[...down].join(' and ')} was down: ${why}`,
        });
  }
  return out;
}

interface ActiveFault {
  fault: Fault;
  /** Its context: `day` is its first day. */
  ctx: FaultContext;
  /** Soak day of its last day. */
  lastDay: number;
  /** The sandbox's logs since it was switched on. */
  tally: () => Tally;
}

export interface SoakDays {
  /** Runs one day: `starting` are the faults the plan switches on today. */
  run(plan: SoakDayPlan, date: string, starting: readonly Fault[]): Promise<SoakDayOutcome>;
  /** The first day whose excused audit has not been re-checked yet, if any. */
  readonly pendingReaudit: string | null;
}

export function soakDays(o: SoakDayOptions): SoakDays {
  const { workers } = o;
  const stack = workers.stack;
  const active: ActiveFault[] = [];
  let pendingFrom: string | null = null;
  /** The days run so far. */
  const dates: string[] = [];
  const log = (line: string) => o.log(`  ${line.trim()}`);
  const contextOf = (date: string): FaultContext => ({
    stack,
    postgres: o.postgres,
    day: date,
    markets: o.markets,
    log,
  });
  const audit = (
    lastRunDate: string,
    {
      excused,
      since,
      mmpBehind = false,
    }: { excused?: ReturnType<typeof excusedMarkets>; since?: string; mmpBehind?: boolean } = {},
  ) => {
    // From `since`'s lookback on, when re-checking an excused day.
    const extra = since ? daysBetween(since, lastRunDate) : 0;
    return auditMetrics(stack.sandbox, stack.database.db, {
      lastRunDate,
      markets: o.markets,
      metricsLookbackDays: METRICS_LOOKBACK_DAYS + extra,
      attributionLookbackDays: ATTRIBUTION_LOOKBACK_DAYS + extra,
      ...(excused ? { excused } : {}),
      mmpBehind,
    });
  };

  async function run(
    plan: SoakDayPlan,
    date: string,
    starting: readonly Fault[],
  ): Promise<SoakDayOutcome> {
    const failed: FailedDay[] = [];
    const problems: string[] = [];
    const applied: string[] = [];
    const missed: string[] = [];
    const requests = { meta: 0, tiktok: 0 };
    workers.day = plan.day;
    workers.resetPeak();
    let restarted = false;
    // A planned restart (a redeploy) comes before the day's loop; faults strike during it.
    if (plan.restart) {
      try {
        await workers.restart(`planned restart before day ${plan.day}`);
        log('restarted the worker before the day (planned)');
        restarted = true;
      } catch (err) {
        problems.push(
          `${date}: the planned restart failed: ${(err as Error)?.message ?? String(err)}`,
        );
      }
    }
    // A worker started during the day was started by one of its faults (or by the stack, after a
    // crash, which the worker record tells apart).
    if (starting.length > 0)
      workers.reason = `during day ${plan.day}, faults ${starting.map((f) => f.name).join(', ')}`;
    for (const fault of starting) {
      const ctx = contextOf(date);
      fault.inject?.(ctx);
      active.push({
        fault,
        ctx,
        lastDay: plan.day + (fault.days ?? 1) - 1,
        tally: markLogs(stack),
      });
    }
    const today = [...active];
    const over = new AbortController();
    // Strikes come on a fault's first day. Settled at once, so a strike that throws (a restart that
    // failed) is reported, not unhandled.
    const strikes = today
      .filter((a) => starting.includes(a.fault) && a.fault.strike !== undefined)
      .map((a) =>
        (a.fault.strike?.(a.ctx, over.signal) ?? Promise.resolve(null)).then(
          (what) => ({ fault: a.fault, what, error: null as string | null }),
          (err: unknown) => ({
            fault: a.fault,
            what: null,
            error: (err as Error)?.message ?? String(err),
          }),
        ),
      );

    // The loop's own platform calls (the audit's come after): how much work the day was.
    const onMeta = () => void requests.meta++;
    const onTikTok = () => void requests.tiktok++;
    stack.sandbox.meta.on('request', onMeta);
    stack.sandbox.tiktok.on('request', onTikTok);
    const t0 = performance.now();
    let result: DailyLoopResult | null = null;
    /** The markets that completed, when the loop as a whole did not return. */
    let partial: DailyLoopResult | null = null;
    try {
      result = await stack.runDay(date, o.dayTimeoutMs);
      for (const m of result.markets)
        if (m.status !== 'completed')
          failed.push({ market: m.market, date, reason: `${m.status}: ${m.error ?? ''}`.trim() });
    } catch (err) {
      // The loop as a whole did not return: say which markets had not finished, and where; the
      // ones that did are checked as usual.
      const completed: MarketLoopResult[] = [];
      for (const market of o.markets) {
        const { state, result: r } = await marketState(stack, market, date);
        if (r) completed.push(r);
        else failed.push({ market, date, reason: `${(err as Error).message}; its run: ${state}` });
      }
      partial = { date, markets: completed };
    } finally {
      stack.sandbox.meta.off('request', onMeta);
      stack.sandbox.tiktok.off('request', onTikTok);
    }
    const loopEndedAt = performance.now();
    over.abort();
    const struck = new Map<Fault, string | null>();
    for (const s of await Promise.all(strikes)) {
      if (s.error) problems.push(`${date}: ${s.fault.name}'s strike failed: ${s.error}`);
      struck.set(s.fault, s.what);
    }
    workers.reason = null;
    failed.push(
      ...deployFailures(
        result ?? partial,
        today.map((a) => a.fault),
      ),
    );

    // Faults whose last day this was: proven (a strike says what it did; a fault on all day shows
    // it in the sandbox's logs), then switched off: first those the sources answer without, so the
    // audit reads them as they answered; those that are what the sources report, after it.
    const ending = today.filter((a) => a.lastDay === plan.day);
    for (const a of ending) {
      const proof = a.fault.strike
        ? (struck.get(a.fault) ?? null)
        : a.fault.proof
          ? a.fault.proof(a.tally(), a.ctx)
          : 'on all day';
      (proof ? applied : missed).push(a.fault.name);
      active.splice(active.indexOf(a), 1);
    }
    for (const a of ending) if (!a.fault.changesReports) a.fault.clear?.(a.ctx);
    const excused = excusedMarkets(result ?? partial);
    // A market whose run had not finished when the loop timed out may not have read its sources
    // yet: it is already a failed market-day; its rows are checked by the re-audit.
    if (!result)
      for (const m of o.markets)
        if (!partial?.markets.some((r) => r.market === m))
          excused.set(m, { delivery: true, attribution: true });
    const daily = await audit(date, {
      excused,
      mmpBehind: today.some((a) => a.fault.changesReports),
    });
    for (const a of ending) if (a.fault.changesReports) a.fault.clear?.(a.ctx);
    for (const a of ending)
      if (a.fault.recover)
        try {
          log(`recovered from ${a.fault.name}: ${await a.fault.recover(a.ctx)}`);
        } catch (err) {
          problems.push(
            `${date}: the recovery from ${a.fault.name} failed: ${(err as Error).message}`,
          );
        }

    // The re-audit: after a day that read every source as it is, every day an excused (or
    // abnormal) audit left unchecked.
    const abnormal = excused.size > 0 || today.some((a) => a.fault.changesReports);
    let reaudit: MetricsAudit | null = null;
    let reaudited: string | null = null;
    if (abnormal || active.length > 0) {
      pendingFrom ??= date;
    } else if (pendingFrom && result) {
      reaudited = pendingFrom;
      reaudit = await audit(date, { since: pendingFrom });
      pendingFrom = null;
    }

    const lost = lostIn(daily) + (reaudit ? lostIn(reaudit) : 0);
    // Ads, and everything else adloop creates by name (campaigns, ad sets, creatives), over every
    // day so far; a twin adloop deleted before it delivered anything is no duplicate.
    dates.push(date);
    const ads = platformAds(stack.sandbox);
    const delivered = deliveredAds(stack.sandbox, dates);
    const duplicates = duplicateAds(ads, delivered) + duplicateObjects(stack.sandbox);
    return {
      day: plan.day,
      date,
      on: today.map((a) => a.fault.name),
      applied,
      missed,
      restarted,
      requests,
      failed,
      problems,
      lost,
      reauditLost: reaudit ? lostIn(reaudit) : 0,
      reaudited,
      lostExamples:
        lost > 0
          ? [daily, ...(reaudit ? [reaudit] : [])].flatMap((a) => [
              ...a.delivery.examples,
              ...a.attribution.examples,
            ])
          : [],
      rowsChecked: {
        delivery: daily.deliveryRows + (reaudit?.deliveryRows ?? 0),
        attribution: daily.attributionRows + (reaudit?.attributionRows ?? 0),
      },
      excused: [...excused.keys()],
      duplicates,
      removedTwins: removedTwins(ads, delivered),
      seconds: Math.round((loopEndedAt - t0) / 100) / 10,
      loopEndedAt,
      result: result ?? partial,
    };
  }

  return {
    run: async (plan, date, starting) => {
      try {
        return await run(plan, date, starting);
      } catch (err) {
        // A day that failed half way leaves no fault on for the next.
        for (const a of active.splice(0)) a.fault.clear?.(a.ctx);
        workers.reason = null;
        throw err;
      }
    },
    get pendingReaudit() {
      return pendingFrom;
    },
  };
}
