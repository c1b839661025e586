// One market for one day: ingest -> rank -> render -> deploy -> learn, each an activity.
// Deterministic: all I/O happens in activities; the workflow only sequences them and decides what
// to do when one fails for good.
import {
  ActivityFailure,
  CancellationScope,
  condition,
  proxyActivities,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { DeployPlanResult } from '../activities/deploy/deploy.ts';
import {
  bookkeeping,
  compute,
  ingest,
  learning,
  longRunning,
  pausableDeploy,
  planning,
} from './activity-options.ts';
import {
  isPlanChanged,
  message,
  platformOutage,
  stoppedByCancel,
  tokenRefused,
} from './failure-kinds.ts';
import type { Activities } from '../activities/index.ts';
import { DEGRADED, MARKET, POLICY, STAGE } from '../core/search-attributes.ts';
import {
  DEFAULT_RENDER_TASK_QUEUE,
  type MarketLoopInput,
  type MarketLoopResult,
  type DeployDecision,
  type DeployResult,
  type MarketStatus,
  type RenderedCreative,
} from '../core/types.ts';
import {
  approveDeploy,
  getMarketStatus,
  pauseMarket,
  rejectDeploy,
  resumeMarket,
  setMarketPaused,
  type MarketControlInput,
} from './messages.ts';

/** Who sent a control or approval message and why; tolerates what the Temporal UI may send. */
function operatorOf(input: unknown): { by: string; reason?: string } {
  const o = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const by = typeof o.by === 'string' && o.by.trim() ? o.by.trim() : 'an operator (no "by" given)';
  const why = typeof o.reason === 'string' ? o.reason : typeof o.note === 'string' ? o.note : '';
  return why ? { by, reason: why } : { by };
}

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
  setHandler(getMarketStatus, () => status);
  // Pause and resume, from the CLI (update) or the Temporal UI (signals). A pause holds the run
  // before its next platform write; a deploy under way is stopped between requests.
  let stopDeploy: (() => void) | null = null;
  const pause = (input?: Partial<MarketControlInput> & { note?: unknown }) => {
    const { by, reason } = operatorOf(input);
    status.paused ??= { by, ...(reason ? { reason } : {}), since: new Date().toISOString() };
    stopDeploy?.();
  };
  const resume = () => {
    status.paused = null;
  };
  setHandler(pauseMarket, pause);
  setHandler(resumeMarket, resume);
  setHandler(
    setMarketPaused,
    (change) => {
      if (change.paused) pause(change);
      else resume();
      return status;
    },
    {
      // Rejected before it reaches the history: the caller hears what is wrong.
      validator: (change: unknown) => {
        const c = (change ?? {}) as { paused?: unknown; by?: unknown };
        if (typeof c.paused !== 'boolean' || typeof c.by !== 'string' || !c.by)
          throw new Error('setMarketPaused takes {"paused": true or false, "by": "<name>"}');
      },
    },
  );
  // Decisions are kept even when they arrive before the plan is ready; the first one counts.
  let decision: DeployDecision | undefined;
  setHandler(approveDeploy, (input) => {
    const { by, reason: note } = operatorOf(input);
    decision ??= { approved: true, by, ...(note ? { note } : {}) };
  });
  setHandler(rejectDeploy, (input) => {
    const { by, reason: note } = operatorOf(input);
    decision ??= { approved: false, by, ...(note ? { note } : {}) };
  });
  const enter = (stage: MarketStatus['stage']) => {
    status.stage = stage;
    upsertSearchAttributes([{ key: STAGE, value: stage }]);
  };

  // Added after the v6 histories: runs recorded before it never check for a paused market.
  const controllable = patched('market-control');
  if (controllable) {
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
  }
  /** Holds while the market is paused; the Stage shows `paused` meanwhile. */
  const holdWhilePaused = async () => {
    const p = status.paused;
    if (!p) return;
    const was = status.stage;
    status.holding = true;
    enter('paused');
    setCurrentDetails(
      `**Paused** by ${p.by} since ${p.since}${p.reason ? ` (${p.reason})` : ''}: holding before the next platform write. ` +
        'Signal `resumeMarket` with `{"by": "<name>"}` (or `adloop resume`) to continue.',
    );
    await condition(() => !status.paused);
    setCurrentDetails('');
    status.holding = false;
    enter(was);
  };
  /**
   * Deploys, holding first while paused. A pause during the deploy cancels the activity, which
   * stops before its next platform request; after resume it runs again and, idempotent, writes
   * only what is still missing. Null when it stopped the deploy of an approved plan: what is left
   * must be planned and approved anew.
   */
  const deployPausable = async (
    deployInput: Parameters<Activities['deployCreatives']>[0],
  ): Promise<DeployResult | null> => {
    for (;;) {
      await holdWhilePaused();
      const scope = new CancellationScope();
      // Whether this deploy was stopped by a pause (a resume may come before the stop lands).
      let stopped = false;
      stopDeploy = () => {
        stopped = true;
        scope.cancel();
      };
      try {
        return await scope.run(() => pausableDeploy.deployCreatives(deployInput));
      } catch (err) {
        if (!stopped || !stoppedByCancel(err)) throw err;
        if (deployInput.approvedPlan) return null;
      } finally {
        stopDeploy = null;
      }
    }
  };

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
    // Added after the first histories: runs recorded before it replay without it.
    if (patched('ingest-attribution')) {
      try {
        await ingest.ingestAttribution(input);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        // The MMP is down or late; tomorrow's lookback re-reads the days.
        degraded.push(`attribution unavailable: ${message(err)}`);
      }
    }

    enter('rank');
    const { ranking, selected } = await compute.rankMarket({ ...input, metricsAvailable });
    status.fallbackUsed = ranking.source !== 'computed';
    // Added after the v5 histories: runs recorded before it set no Policy or Degraded.
    const moreSearchAttributes = patched('search-attributes-policy-degraded');
    if (moreSearchAttributes) upsertSearchAttributes([{ key: POLICY, value: ranking.policy }]);

    enter('render');
    let creatives: RenderedCreative[];
    // Added after the v3 histories: runs recorded before it render in one activity.
    if (patched('render-queue')) {
      const jobs = await compute.prepareCreatives({ ...input, items: selected });
      const render = proxyActivities<Activities>({
        taskQueue: input.renderTaskQueue ?? DEFAULT_RENDER_TASK_QUEUE,
        startToCloseTimeout: '20 minutes',
        // Render workers heartbeat as ffmpeg reports progress; a dead one is noticed in 30 s.
        heartbeatTimeout: '30 seconds',
        // A render is a pure function of its spec; bad templates and inputs fail at once.
        retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 5 },
      });
      // Every creative renders in parallel, on as many render workers as there are; the status
      // query counts them as they finish (state only: no command, so replay is unaffected).
      const progress = { done: 0, total: jobs.length };
      status.render = progress;
      const results = await Promise.all(
        jobs.map((job) =>
          render
            .renderCreative(job)
            .catch((err: unknown) => {
              if (!(err instanceof ActivityFailure)) throw err;
              return { error: message(err) };
            })
            .finally(() => (progress.done += 1)),
        ),
      );
      const recorded = await compute.recordCreatives({ ...input, jobs, results });
      for (const r of recorded.rejected)
        degraded.push(
          `creative ${r.artistId}×${r.templateId} not deployed: ${r.reasons.slice(0, 3).join('; ')}` +
            (r.reasons.length > 3 ? ` (+${r.reasons.length - 3} more)` : ''),
        );
      creatives = recorded.creatives;
    } else {
      creatives = await longRunning.renderCreatives({ ...input, items: selected });
    }

    enter('deploy');
    /**
     * Waits for an operator's answer (or the timeout) and records it; null when approved, else
     * why nothing is written.
     */
    const awaitApproval = async (plan: DeployPlanResult): Promise<string | null> => {
      enter('awaiting-approval');
      const until = new Date(Date.now() + plan.approvalTimeoutMs).toISOString();
      status.deployPlan = { lines: plan.lines, awaitingApprovalUntil: until };
      // Shown on the workflow's page in the Temporal UI (Current Details).
      setCurrentDetails(
        [
          `**Waiting for deploy approval** until ${until}.`,
          'Signal `approveDeploy` or `rejectDeploy` with `{"by": "<name>", "note": "<why>"}`.',
          '```',
          ...plan.lines,
          '```',
        ].join('\n'),
      );
      const answered = await condition(() => decision !== undefined, plan.approvalTimeoutMs);
      setCurrentDetails('');
      await bookkeeping.recordDeployDecision({
        ...input,
        status: !answered ? 'expired' : decision!.approved ? 'approved' : 'rejected',
        ...(answered ? { by: decision!.by, note: decision!.note ?? null } : {}),
      });
      if (answered) status.deployPlan.decision = decision!;
      enter('deploy');
      if (!answered) return `deploy not approved by ${until}: yesterday's ads keep running`;
      if (!decision!.approved)
        return `deploy rejected by ${decision!.by}${decision!.note ? `: ${decision!.note}` : ''}: yesterday's ads keep running`;
      return null;
    };
    /** Plans and deploys (holding while paused, waiting for approval); null when nothing ran. */
    const deployStage = async (): Promise<DeployResult | null> => {
      let result: DeployResult | null = null;
      // Added after the v4 histories: runs recorded before it deploy without a plan step.
      if (!patched('deploy-plan')) return longRunning.deployCreatives({ ...input, creatives });
      // Once, unless a pause stops the deploy of an approved plan: then what is left is planned
      // and approved again after resume (an approval is of one plan, not of whatever comes later).
      for (;;) {
        // Reading the platforms may wait on their pacing: long-running, heartbeating.
        const plan = await planning.planDeployment({ ...input, creatives });
        status.deployPlan = { lines: plan.lines };
        const blocked = plan.dryRun
          ? plan.supersededBy
            ? `deploy not applied: ${plan.supersededBy}'s plan is live already (this is an older day)`
            : 'dry run: deploy plan computed, nothing written'
          : plan.requiresApproval
            ? await awaitApproval(plan)
            : null;
        if (blocked) {
          degraded.push(blocked);
          break;
        }
        const deployInput = {
          ...input,
          creatives,
          // An approval is of this plan: deploy writes nothing if the plan has changed since.
          ...(plan.requiresApproval ? { approvedPlan: plan.fingerprint } : {}),
        };
        try {
          result = controllable
            ? await deployPausable(deployInput)
            : await longRunning.deployCreatives(deployInput);
        } catch (err) {
          if (!(err instanceof ActivityFailure) || !isPlanChanged(err)) throw err;
          degraded.push(`deploy not applied: ${message(err)}`);
          break;
        }
        if (result) break;
        decision = undefined;
        await holdWhilePaused();
      }
      return result;
    };
    let deploy: DeployResult | null = null;
    // Added after the v8 histories: before it, a deploy that failed for good failed the market.
    const deployFailureDegrades = patched('deploy-failure-degrades');
    try {
      deploy = await deployStage();
    } catch (err) {
      // A platform down all day (retries exhausted, timeouts) skips today's deploy: the ads
      // already live keep running and learn still runs. So does a token the platform refuses
      // (added after the v9 histories): the run is Degraded with the reason and how to rotate
      // it, where the Temporal UI and `adloop status` show it. Any other failure (a request the
      // platform refuses, a bug) still fails the market: a person must act.
      const skip =
        err instanceof ActivityFailure &&
        ((deployFailureDegrades && platformOutage(err)) ||
          (tokenRefused(err) && patched('auth-failure-degrades')));
      if (!skip) throw err;
      degraded.push(`deploy failed: ${message(err)}; the ads already live keep running`);
    }
    for (const r of deploy?.rejected ?? [])
      degraded.push(`${r.platform} review rejected creative ${r.hash.slice(0, 12)}: ${r.reason}`);

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
    if (moreSearchAttributes)
      upsertSearchAttributes([
        { key: DEGRADED, value: status.fallbackUsed || degraded.length > 0 },
      ]);
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
      ranking: { source: ranking.source, items: ranking.items.length },
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
