// One chaos scenario: the daily loop on a fresh stack. Day 1 runs clean and puts ads live (so
// there is delivery to ingest and ads to rotate); day 2 runs under the fault (and the days after
// it, for a fault that lasts longer); then, after whatever an operator does to recover (a
// backfill), a day runs clean again, as the day after an incident does. Then the platforms' truth
// is compared with what adloop did: no ad created twice, no metric row lost, every market's day
// completed, and the fault proven to have struck.
import { addDays } from '../../core/dates.ts';
import type { DailyLoopResult } from '../../core/types.ts';
import {
  auditMetrics,
  deliveredAds,
  duplicateAds,
  duplicateObjects,
  platformAds,
  removedTwins,
  type MetricsAudit,
} from './audit.ts';
import { markLogs, PLATFORMS, type Fault, type FaultContext } from './faults.ts';
import {
  ATTRIBUTION_LOOKBACK_DAYS,
  METRICS_LOOKBACK_DAYS,
  startChaosStack,
  type ChaosStackOptions,
} from './stack.ts';

export interface FaultReport {
  fault: string;
  /** Days simulated: a clean one, the fault's, a clean one after. */
  days: number;
  /** Every market's loop completed on all three days, and the fault really struck. */
  completed: boolean;
  /**
   * Ads made twice (or live twice), plus campaigns, ad sets and creatives made twice; on Google,
   * image assets linked twice, and budgets, campaigns, ad groups, assets and YouTube videos made
   * twice.
   */
  duplicate_ads: number;
  /** Twin ads a late write made that adloop deleted before they delivered (not duplicates). */
  twins_removed: number;
  /** Delivery and attribution rows the sources report that are missing or differ in the DB. */
  lost_metric_rows: number;
  /** A market ranked from its previous ranking on the faulted day. */
  fallback_used: boolean;
  /** Wall time of the faulted day's loop, recovery included. */
  seconds: number;
  /** What struck (for strikes), or what the sandbox's logs show the fault did all day. */
  injected: string | null;
  /** What the operator's recovery reported (a backfill), for faults that have one. */
  recovered?: string;
  /** Degraded reasons the faulted day recorded, across markets. */
  degraded: number;
  /** Markets that did not complete, with the day and why. */
  failures: string[];
  /** Rows the audit compared: delivery (Meta, TikTok and Google) and attribution. */
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
  const faultDays = fault.days ?? 1;
  const days = Array.from({ length: faultDays + 2 }, (_, i) => addDays(o.date, i));
  const faulted = days.slice(1, -1);
  const lastDay = days.at(-1)!;
  const stack = await startChaosStack({
    dir: o.dir,
    world: o.world,
    markets: o.markets,
    date: days[0]!,
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
  /**
   * Checks a faulted day's deploys: each market deployed, on every platform but the one the fault
   * took down.
   */
  const checkDeploys = (day: string, r: DailyLoopResult | null) => {
    for (const m of r?.markets ?? []) {
      if (m.status !== 'completed') continue;
      if (!m.deploy && !fault.deploySkipAllowed)
        failures.push(`${m.market} ${day}: deploy skipped: ${(m.degraded ?? []).join('; ')}`);
      // Every platform the fault left up must have deployed (with three, both others).
      if (fault.platformDown)
        for (const other of PLATFORMS.filter((p) => p !== fault.platformDown))
          if (!m.deploy?.platforms?.[other])
            failures.push(
              `${m.market} ${day}: ${other} not deployed while only ${fault.platformDown} was down: ${(m.degraded ?? []).join('; ')}`,
            );
    }
  };
  try {
    stack.startWorker();
    await runDay(days[0]!);

    const ctx: FaultContext = {
      stack,
      postgres: o.postgres,
      day: faulted[0]!,
      markets: o.markets,
      log: o.log,
    };
    fault.inject?.(ctx);
    const tally = markLogs(stack);
    const over = new AbortController();
    // Settled at once, so a strike that throws (a restart that failed) is reported, not unhandled.
    const strike = (fault.strike ? fault.strike(ctx, over.signal) : Promise.resolve(null)).then(
      (what) => ({ what, error: null as string | null }),
      (err: unknown) => ({ what: null, error: (err as Error).message ?? String(err) }),
    );
    const t0 = performance.now();
    let lastFaulted: DailyLoopResult | null = null;
    let fallbackUsed = false;
    let degraded = 0;
    for (const day of faulted) {
      lastFaulted = await runDay(day);
      // Under a fault that leaves the platforms up, every market must still deploy: a skipped
      // deploy means the retries gave up too soon.
      checkDeploys(day, lastFaulted);
      fallbackUsed ||= lastFaulted?.markets.some((m) => m.fallbackUsed) ?? false;
      degraded += lastFaulted?.markets.reduce((n, m) => n + (m.degraded?.length ?? 0), 0) ?? 0;
    }
    const seconds = (performance.now() - t0) / 1000;
    over.abort();
    const struck = await strike;
    if (struck.error) failures.push(`the fault's strike failed: ${struck.error}`);
    // A fault on all day proves itself from the sandbox's own logs of the faulted days.
    const injected = fault.strike ? struck.what : (fault.proof?.(tally(), ctx) ?? null);
    // What the last faulted day itself stored, checked before the clean day re-reads (and so
    // repairs) it: every row the sources report for its lookbacks, except where the run said it
    // could not read them. Faults off first (the sources answer), unless the fault is what they
    // report that day.
    if (!fault.changesReports) fault.clear?.(ctx);
    const dayTwo = await auditMetrics(stack.sandbox, stack.database.db, {
      lastRunDate: faulted.at(-1)!,
      markets: o.markets,
      metricsLookbackDays: METRICS_LOOKBACK_DAYS,
      attributionLookbackDays: ATTRIBUTION_LOOKBACK_DAYS,
      excused: excusedMarkets(lastFaulted),
      mmpBehind: fault.changesReports ?? false,
    });
    if (fault.changesReports) fault.clear?.(ctx);

    let recovered: string | undefined;
    if (fault.recover) {
      try {
        recovered = await fault.recover(ctx);
        o.log(`  recovered: ${recovered}`);
      } catch (err) {
        failures.push(`the recovery failed: ${(err as Error).message}`);
      }
    }

    await runDay(lastDay);

    // The audit reads the platforms as the last run did: clock on the clean day, every fault off.
    // Ads, and everything else adloop creates by name (campaigns, ad sets, creatives; Google's
    // budgets, assets and YouTube videos).
    const ads = platformAds(stack.sandbox);
    const delivered = deliveredAds(stack.sandbox, days);
    const duplicates = duplicateAds(ads, delivered) + duplicateObjects(stack.sandbox);
    const twins = removedTwins(ads, delivered);
    // Every day since the first faulted one, however far back that is: a fault longer than the
    // lookbacks leaves days no daily run re-reads, which only a recovery brings back.
    const since = faultDays + 1;
    const audit = await auditMetrics(stack.sandbox, stack.database.db, {
      lastRunDate: lastDay,
      markets: o.markets,
      metricsLookbackDays: Math.max(METRICS_LOOKBACK_DAYS, since),
      attributionLookbackDays: Math.max(ATTRIBUTION_LOOKBACK_DAYS, since),
    });
    const lostIn = (a: MetricsAudit) =>
      a.delivery.missing + a.delivery.differing + a.attribution.missing + a.attribution.differing;
    const lost = lostIn(dayTwo) + lostIn(audit);
    if (!injected)
      failures.push(
        fault.strike
          ? 'the fault never struck: its moment did not come'
          : "the fault never struck: the sandbox's logs show nothing it refused, dropped or withheld",
      );
    failures.push(...stack.crashes);
    return {
      fault: fault.name,
      days: days.length,
      completed: failures.length === 0,
      duplicate_ads: duplicates,
      twins_removed: twins,
      lost_metric_rows: lost,
      fallback_used: fallbackUsed,
      seconds: round(seconds),
      injected,
      ...(recovered ? { recovered } : {}),
      degraded,
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
