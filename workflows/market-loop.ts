// One market for one day: ingest -> rank -> render -> deploy -> learn, each an activity.
// Deterministic: all I/O happens in activities; the workflow only sequences them and decides what
// to do when one fails for good. The operator's controls are in market-control.ts, the render and
// deploy stages in render-stage.ts and deploy-stage.ts, activity options in activity-options.ts.
//
// Versioned cut-over (docs/reliability.md): the patches of v2..v7 (ingest-attribution,
// render-queue, deploy-plan, search-attributes-policy-degraded, market-control) are retired with
// deprecatePatch(): their new branch is the only one, and histories from v7 on replay. Runs
// started by code before v7 (histories v1..v6) no longer replay and are retired.
import { ActivityFailure, deprecatePatch, upsertSearchAttributes } from '@temporalio/workflow';
import { DEGRADED, MARKET, POLICY } from '../core/search-attributes.ts';
import type { MarketLoopInput, MarketLoopResult, MarketStatus } from '../core/types.ts';
import { bookkeeping, compute, ingest, learning } from './activity-options.ts';
import { deployStage } from './deploy-stage.ts';
import { message } from './failure-kinds.ts';
import { installMarketControl } from './market-control.ts';
import { renderStage } from './render-stage.ts';

export async function marketLoop(input: MarketLoopInput): Promise<MarketLoopResult> {
  const { market, date } = input;
  const degraded: string[] = [];
  const status: MarketStatus = {
    market,
    date,
    stage: 'starting',
    fallbackUsed: false,
    paused: null,
    degraded,
  };
  const control = installMarketControl(status);
  const { enter } = control;

  deprecatePatch('market-control');
  // However it was started (a schedule, the CLI, the Temporal UI), the run is found by market.
  upsertSearchAttributes([{ key: MARKET, value: market }]);
  // A market paused on its schedule does not run at all: "pause stops future runs".
  const paused = await bookkeeping.marketPause({ market });
  if (paused) {
    status.paused = paused;
    enter('skipped');
    return {
      market,
      date,
      status: 'skipped',
      fallbackUsed: false,
      ranking: { source: 'computed', items: 0 },
      deploy: null,
      learn: null,
      degraded: [
        `market paused by ${paused.by} since ${paused.since}${paused.reason ? `: ${paused.reason}` : ''}`,
      ],
    };
  }

  await bookkeeping.startMarketRun(input);
  try {
    enter('ingest');
    await ingest.ingestCatalog(input);
    let metricsAvailable = true;
    try {
      await ingest.ingestPlatformMetrics(input);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      metricsAvailable = false; // recorded by rankMarket as the run's fallback
      degraded.push(`platform metrics unavailable: ${message(err)}`);
    }
    deprecatePatch('ingest-attribution');
    try {
      await ingest.ingestAttribution(input);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // The MMP is down or late; tomorrow's lookback re-reads the days.
      degraded.push(`attribution unavailable: ${message(err)}`);
    }

    enter('rank');
    const { ranking, selected, reused } = await compute.rankMarket({ ...input, metricsAvailable });
    status.fallbackUsed = ranking.source !== 'computed';
    deprecatePatch('search-attributes-policy-degraded');
    upsertSearchAttributes([{ key: POLICY, value: ranking.policy }]);

    enter('render');
    deprecatePatch('render-queue');
    const creatives = await renderStage(input, selected, status, degraded);

    enter('deploy');
    const deploy = await deployStage({ input, creatives, status, control, degraded });

    enter('learn');
    let learn = null;
    try {
      learn = await learning.learnFromResults(input);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // Nothing of today's snapshot was written; yesterday's stays what ranking reads.
      degraded.push(`learn skipped: ${message(err)}`);
    }

    enter('done');
    upsertSearchAttributes([{ key: DEGRADED, value: status.fallbackUsed || degraded.length > 0 }]);
    await bookkeeping.finishMarketRun({
      status: 'completed',
      fallbackUsed: status.fallbackUsed,
      degraded,
    });
    return {
      market,
      date,
      status: 'completed',
      fallbackUsed: status.fallbackUsed,
      ranking: { source: ranking.source, items: ranking.items.length, ...(reused && { reused }) },
      deploy,
      learn,
      degraded,
    };
  } catch (err) {
    const failedIn = status.stage;
    enter('failed');
    await bookkeeping.finishMarketRun({
      status: 'failed',
      fallbackUsed: status.fallbackUsed,
      degraded,
      error: `${failedIn}: ${message(err)}`,
    });
    throw err;
  }
}
