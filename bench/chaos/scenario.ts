// One chaos scenario: three days of the daily loop on a fresh stack. Day 1 runs clean and puts ads
// live (so there is delivery to ingest and ads to rotate); day 2 runs under the fault; day 3 runs
// clean again, as the day after an incident does. Then the platforms' truth is compared with what
// adloop did: no ad created twice, no metric row lost, every market's day completed.
import { addDays } from '../../core/dates.ts';
import type { DailyLoopResult } from '../../core/types.ts';
import {
  auditMetrics,
  duplicateAds,
  duplicateObjects,
  platformAds,
  type MetricsAudit,
} from './audit.ts';
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
  /** Ads made twice (or live twice), plus campaigns, ad sets and creatives made twice. */
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

/**
 * Per market, which sources its run said it could not read (so missing rows are expected there
 * until a later day's lookback re-reads them).
 */
function excusedMarkets(
  r: DailyLoopResult | null,
): Map<string, { delivery: boolean; attribution: boolean }> {
  const out = new Map<string, { delivery: boolean; attribution: boolean }>();
  for (const m of r?.markets ?? []) {
    const d = m.degraded ?? [];
    out.set(m.market, {
      delivery: d.some((x) => x.startsWith('platform metrics unavailable')),
      attribution: d.some((x) => x.startsWith('attribution unavailable')),
    });
  }
  return out;
}

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
    // Settled at once, so a strike that throws (a restart that failed) is reported, not unhandled.
    const strike = (
      fault.strike ? fault.strike(ctx, over.signal) : Promise.resolve('on all day')
    ).then(
      (what) => ({ what, error: null as string | null }),
      (err: unknown) => ({ what: null, error: (err as Error).message ?? String(err) }),
    );
    const t0 = performance.now();
    const faulted = await runDay(days[1]);
    const seconds = (performance.now() - t0) / 1000;
    over.abort();
    const struck = await strike;
    const injected = struck.what;
    if (struck.error) failures.push(`the fault's strike failed: ${struck.error}`);
    // Under a fault that leaves the platforms up, every market must still deploy: a skipped
    // deploy means the retries gave up too soon.
    if (faulted && !fault.deploySkipAllowed)
      for (const m of faulted.markets)
        if (m.status === 'completed' && !m.deploy)
          failures.push(`${m.market} ${days[1]}: deploy skipped: ${(m.degraded ?? []).join('; ')}`);
    // What the faulted day itself stored, checked before day 3 re-reads (and so repairs) it: every
    // row the sources report for its lookbacks, except where the run said it could not read them.
    // Faults off first (the sources answer), unless the fault is what they report that day.
    if (!fault.changesReports) fault.clear?.(ctx);
    const dayTwo = await auditMetrics(stack.sandbox, stack.database.db, {
      lastRunDate: days[1],
      markets: o.markets,
      metricsLookbackDays: METRICS_LOOKBACK_DAYS,
      attributionLookbackDays: ATTRIBUTION_LOOKBACK_DAYS,
      excused: excusedMarkets(faulted),
    });
    if (fault.changesReports) fault.clear?.(ctx);

    await runDay(days[2]);

    // The audit reads the platforms as the last run did: clock on day 3, every fault off.
    // Ads, and everything else adloop creates by name (campaigns, ad sets, creatives).
    const duplicates = duplicateAds(platformAds(stack.sandbox)) + duplicateObjects(stack.sandbox);
    const audit = await auditMetrics(stack.sandbox, stack.database.db, {
      lastRunDate: days[2],
      markets: o.markets,
      metricsLookbackDays: METRICS_LOOKBACK_DAYS,
      attributionLookbackDays: ATTRIBUTION_LOOKBACK_DAYS,
    });
    const lostIn = (a: MetricsAudit) =>
      a.delivery.missing + a.delivery.differing + a.attribution.missing + a.attribution.differing;
    const lost = lostIn(dayTwo) + lostIn(audit);
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
      rows_checked: {
        delivery: dayTwo.deliveryRows + audit.deliveryRows,
        attribution: dayTwo.attributionRows + audit.attributionRows,
      },
      ...(lost > 0
        ? {
            lost_examples: [dayTwo, audit].flatMap((a) => [
              ...a.delivery.examples,
              ...a.attribution.examples,
            ]),
          }
        : {}),
    };
  } finally {
    await stack.close();
  }
}
