// One chaos scenario: three days of the daily loop on a fresh stack. Day 1 runs clean and puts ads
// live (so there is delivery to ingest and ads to rotate); day 2 runs under the fault; day 3 runs
// clean again, as the day after an incident does. Then the platforms' truth is compared with what
// adloop did: no ad created twice, no metric row lost, every market's day completed.
import { addDays } from '../../../core/dates.ts';
import type { DailyLoopResult } from '../../../core/types.ts';
import { auditMetrics, duplicateAds, platformAds } from './audit.ts';
import type { Fault, FaultContext } from './faults.ts';
import {
  ATTRIBUTION_LOOKBACK_DAYS,
  METRICS_LOOKBACK_DAYS,
  startChaosStack,
  type ChaosStackOptions,
} from './stack.ts';

export interface FaultReport {
  fault: string;
  /** Every market's loop completed on all three days, and the fault really struck. */
  completed: boolean;
  duplicate_ads: number;
  /** Delivery and attribution rows the sources report that are missing or differ in the DB. */
  lost_metric_rows: number;
  /** A market ranked from its previous ranking on the faulted day. */
  fallback_used: boolean;
  /** Wall time of the faulted day's loop, recovery included. */
  seconds: number;
  /** What struck (for strikes), or that the fault was on all day. */
  injected: string | null;
  /** Degraded reasons the faulted day recorded, across markets. */
  degraded: number;
  /** Markets that did not complete, with the day and why. */
  failures: string[];
  /** Rows the audit compared: delivery (Meta + TikTok) and attribution. */
  rows_checked: { delivery: number; attribution: number };
  /** A few lost rows, when there are any. */
  lost_examples?: string[];
}

export interface ScenarioOptions extends Omit<ChaosStackOptions, 'date'> {
  /** Day 1; days 2 and 3 follow. */
  date: string;
  /** Longest one day's loop may take before the scenario counts as not completed. */
  dayTimeoutMs: number;
  log: (line: string) => void;
}

const round = (s: number) => Math.round(s * 10) / 10;

export async function runScenario(fault: Fault, o: ScenarioOptions): Promise<FaultReport> {
  const days = [o.date, addDays(o.date, 1), addDays(o.date, 2)] as const;
  const stack = await startChaosStack({
    dir: o.dir,
    world: o.world,
    markets: o.markets,
    date: days[0],
    postgres: o.postgres,
    cli: o.cli,
  });
  const failures: string[] = [];
  const noteFailures = (day: string, r: DailyLoopResult | null, err?: unknown) => {
    if (!r) failures.push(`${day}: ${(err as Error)?.message ?? String(err)}`);
    else
      for (const m of r.markets)
        if (m.status !== 'completed')
          failures.push(`${m.market} ${day}: ${m.status} ${m.error ?? ''}`.trim());
  };
  const runDay = async (day: string) => {
    const t0 = performance.now();
    try {
      const r = await stack.runDay(day, o.dayTimeoutMs);
      noteFailures(day, r);
      o.log(
        `  ${day}: ${r.markets.map((m) => `${m.market} ${m.status}`).join(', ')} (${round((performance.now() - t0) / 1000)} s)`,
      );
      return r;
    } catch (err) {
      noteFailures(day, null, err);
      o.log(`  ${day}: did not finish: ${(err as Error).message}`);
      return null;
    }
  };
  try {
    stack.startWorker();
    await runDay(days[0]);

    const ctx: FaultContext = {
      stack,
      postgres: o.postgres,
      day: days[1],
      markets: o.markets,
      log: o.log,
    };
    fault.inject?.(ctx);
    const over = new AbortController();
    const strike = fault.strike ? fault.strike(ctx, over.signal) : Promise.resolve('on all day');
    const t0 = performance.now();
    const faulted = await runDay(days[1]);
    const seconds = (performance.now() - t0) / 1000;
    over.abort();
    const injected = await strike;
    fault.clear?.(ctx);

    await runDay(days[2]);

    // The audit reads the platforms as the last run did: clock on day 3, every fault off.
    const duplicates = duplicateAds(platformAds(stack.sandbox));
    const audit = await auditMetrics(stack.sandbox, stack.database.db, {
      lastRunDate: days[2],
      markets: o.markets,
      metricsLookbackDays: METRICS_LOOKBACK_DAYS,
      attributionLookbackDays: ATTRIBUTION_LOOKBACK_DAYS,
    });
    const lost =
      audit.delivery.missing +
      audit.delivery.differing +
      audit.attribution.missing +
      audit.attribution.differing;
    if (!injected) failures.push('the fault never struck: its moment did not come');
    failures.push(...stack.crashes);
    return {
      fault: fault.name,
      completed: failures.length === 0,
      duplicate_ads: duplicates,
      lost_metric_rows: lost,
      fallback_used: faulted?.markets.some((m) => m.fallbackUsed) ?? false,
      seconds: round(seconds),
      injected,
      degraded: faulted?.markets.reduce((n, m) => n + (m.degraded?.length ?? 0), 0) ?? 0,
      failures,
      rows_checked: { delivery: audit.deliveryRows, attribution: audit.attributionRows },
      ...(lost > 0
        ? { lost_examples: [...audit.delivery.examples, ...audit.attribution.examples] }
        : {}),
    };
  } finally {
    await stack.close();
  }
}
