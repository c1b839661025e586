// The deploy stage of a market's run: plan, wait for an operator's approval where the market
// requires one, deploy (stopped and resumed by a pause), and decide what a failure means. A
// platform down all day or a token it refuses skips that platform's deploy (its ads already live
// keep running) and the market's other platforms are deployed one by one, each on its own;
// anything else fails the market, where a person sees it.
import {
  ActivityFailure,
  deprecatePatch,
  patched,
  setCurrentDetails,
  sleep,
} from '@temporalio/workflow';
import type { DeployPlanResult } from '../activities/deploy/deploy.ts';
import type { DeployPlatform } from '../decisions/deploy/plan.ts';
import type {
  DeployResult,
  MarketLoopInput,
  MarketStatus,
  RenderedCreative,
} from '../core/types.ts';
import { bookkeeping, planning } from './activity-options.ts';
import {
  databaseDown,
  failedPlatform,
  isPlanChanged,
  message,
  platformOutage,
  tokenRefused,
} from './failure-kinds.ts';
import type { MarketControl } from './market-control.ts';

export interface DeployStage {
  input: MarketLoopInput;
  creatives: RenderedCreative[];
  status: MarketStatus;
  control: MarketControl;
  /** Where the run's degraded reasons are collected. */
  degraded: string[];
}

/**
 * Waits for an operator's answer (or the timeout) and records it; null when approved, else why
 * nothing is written.
 */
async function awaitApproval(s: DeployStage, plan: DeployPlanResult): Promise<string | null> {
  s.control.enter('awaiting-approval');
  const until = new Date(Date.now() + plan.approvalTimeoutMs).toISOString();
  s.status.deployPlan = { lines: plan.lines, awaitingApprovalUntil: until };
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
  const decision = await s.control.awaitDecision(plan.approvalTimeoutMs);
  setCurrentDetails('');
  await bookkeeping.recordDeployDecision({
    ...s.input,
    status: !decision ? 'expired' : decision.approved ? 'approved' : 'rejected',
    ...(decision ? { by: decision.by, note: decision.note ?? null } : {}),
  });
  if (decision) s.status.deployPlan.decision = decision;
  s.control.enter('deploy');
  if (!decision) return `deploy not approved by ${until}: yesterday's ads keep running`;
  if (!decision.approved)
    return `deploy rejected by ${decision.by}${decision.note ? `: ${decision.note}` : ''}: yesterday's ads keep running`;
  return null;
}

/**
 * Plans and deploys (holding while paused, waiting for approval); null when nothing ran. Every
 * platform of the market, or only `platforms`.
 */
async function planAndDeploy(
  s: DeployStage,
  platforms?: DeployPlatform[],
): Promise<DeployResult | null> {
  // v5's patch, retired in v11 (docs/reliability.md, "Versioned cut-over").
  deprecatePatch('deploy-plan');
  // Once, unless a pause stops the deploy of an approved plan: then what is left is planned and
  // approved again after resume (an approval is of one plan, not of whatever comes later).
  for (;;) {
    // Reading the platforms may wait on their pacing: long-running, heartbeating.
    const only = platforms ? { platforms } : {};
    const plan = await planning.planDeployment({ ...s.input, creatives: s.creatives, ...only });
    s.status.deployPlan = { lines: plan.lines };
    const blocked = plan.dryRun
      ? plan.supersededBy
        ? `deploy not applied: ${plan.supersededBy}'s plan is live already (this is an older day)`
        : 'dry run: deploy plan computed, nothing written'
      : plan.requiresApproval
        ? await awaitApproval(s, plan)
        : null;
    if (blocked) {
      s.degraded.push(blocked);
      return null;
    }
    let result: DeployResult | null;
    try {
      result = await s.control.deployPausable({
        ...s.input,
        creatives: s.creatives,
        ...only,
        // An approval is of this plan: deploy writes nothing if the plan has changed since.
        ...(plan.requiresApproval ? { approvedPlan: plan.fingerprint } : {}),
      });
    } catch (err) {
      if (!(err instanceof ActivityFailure) || !isPlanChanged(err)) throw err;
      s.degraded.push(`deploy not applied: ${message(err)}`);
      return null;
    }
    if (result) return result;
    s.control.forgetDecision();
    await s.control.holdWhilePaused();
  }
}

/** A deploy failure the run survives (the ads already live keep running), per its patches. */
function survivable(err: unknown, deployFailureDegrades: boolean): err is ActivityFailure {
  // A platform down all day (retries exhausted, timeouts) skips its deploy: the ads already live
  // keep running and learn still runs. So does a token the platform refuses (added after the v9
  // histories): the run is Degraded with the reason and how to rotate it, where the Temporal UI and
  // `adloop status` show it. Any other failure (a request the platform refuses, a bug) still
  // fails the market: a person must act.
  return (
    err instanceof ActivityFailure &&
    ((deployFailureDegrades && platformOutage(err)) ||
      (tokenRefused(err) && patched('auth-failure-degrades')))
  );
}

/** The results of deploys to separate platforms, as one. */
function merged(results: DeployResult[]): DeployResult {
  const sum = (f: (r: DeployResult) => number | undefined) =>
    results.reduce((n, r) => n + (f(r) ?? 0), 0);
  return {
    created: sum((r) => r.created),
    reused: sum((r) => r.reused),
    paused: sum((r) => r.paused),
    resumed: sum((r) => r.resumed),
    archived: sum((r) => r.archived),
    adIds: results.flatMap((r) => r.adIds).sort(),
    writes: sum((r) => r.writes),
    rejected: results.flatMap((r) => r.rejected ?? []),
    platforms: Object.assign({}, ...results.map((r) => r.platforms ?? {})) as NonNullable<
      DeployResult['platforms']
    >,
  };
}

/**
 * After a deploy to all the market's platforms failed survivably: each of `platforms` on its own,
 * so one down all day does not keep the others from today's ads. Null when none deployed.
 */
async function eachPlatformAlone(
  s: DeployStage,
  platforms: DeployPlatform[],
  deployFailureDegrades: boolean,
): Promise<DeployResult | null> {
  const results: DeployResult[] = [];
  for (const platform of platforms) {
    try {
      const r = await planAndDeploy(s, [platform]);
      if (r) results.push(r);
    } catch (err) {
      if (!survivable(err, deployFailureDegrades)) throw err;
      s.degraded.push(
        `deploy to ${platform} failed: ${message(err)}; its ads already live keep running`,
      );
    }
  }
  return results.length > 0 ? merged(results) : null;
}

/** How long deploy waits for a database that is down before it gives the day's deploy up. */
const DATABASE_PATIENCE_MS = 30 * 60_000;
const DATABASE_RECHECK = '30 seconds';

/**
 * Runs `stage`; when it fails because the database stayed unreachable through the activity's
 * retries (a restart, a failover), waits and runs it again, for up to DATABASE_PATIENCE_MS. The
 * ads already live keep running meanwhile, and a deploy is idempotent, so running it again is safe;
 * giving the day up because the database took a minute would not be.
 */
async function waitingOutTheDatabase<T>(stage: () => Promise<T>): Promise<T> {
  const since = Date.now();
  for (;;) {
    try {
      return await stage();
    } catch (err) {
      // Added after the v11 histories: before it, the retries' failure went on as it was.
      if (!databaseDown(err) || !patched('deploy-waits-for-database')) throw err;
      if (Date.now() - since > DATABASE_PATIENCE_MS) throw err;
      await sleep(DATABASE_RECHECK);
    }
  }
}

/** The deploy stage: its result, or null when nothing was deployed today (and why is degraded). */
export async function deployStage(s: DeployStage): Promise<DeployResult | null> {
  // Added after the v8 histories: before it, a deploy that failed for good failed the market.
  const deployFailureDegrades = patched('deploy-failure-degrades');
  let deploy: DeployResult | null = null;
  try {
    deploy = await waitingOutTheDatabase(() => planAndDeploy(s));
  } catch (err) {
    if (!survivable(err, deployFailureDegrades)) throw err;
    // Added after the v11 histories: before it, one platform down skipped every platform's deploy.
    const platforms = patched('deploy-each-platform-alone')
      ? await bookkeeping.deployPlatforms({ market: s.input.market })
      : [];
    // The platform that failed, when known, has spent its retries already: it is not tried again.
    const down = failedPlatform(err);
    const others = platforms.filter((p) => p !== down);
    if (platforms.length > 1 && others.length > 0) {
      if (down)
        s.degraded.push(
          `deploy to ${down} failed: ${message(err)}; its ads already live keep running`,
        );
      deploy = await eachPlatformAlone(s, others, deployFailureDegrades);
    } else s.degraded.push(`deploy failed: ${message(err)}; the ads already live keep running`);
  }
  for (const r of deploy?.rejected ?? [])
    s.degraded.push(`${r.platform} review rejected creative ${r.hash.slice(0, 12)}: ${r.reason}`);
  return deploy;
}
