// The deploy stage of a market's run: plan, wait for an operator's approval where the market
// requires one, deploy (stopped and resumed by a pause), and decide what a failure means. A
// platform down all day or a token it refuses skips the day's deploy (the ads already live keep
// running); anything else fails the market, where a person sees it.
import { ActivityFailure, deprecatePatch, patched, setCurrentDetails } from '@temporalio/workflow';
import type { DeployPlanResult } from '../activities/deploy/deploy.ts';
import type {
  DeployResult,
  MarketLoopInput,
  MarketStatus,
  RenderedCreative,
} from '../core/types.ts';
import { bookkeeping, planning } from './activity-options.ts';
import { isPlanChanged, message, platformOutage, tokenRefused } from './failure-kinds.ts';
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

/** Plans and deploys (holding while paused, waiting for approval); null when nothing ran. */
async function planAndDeploy(s: DeployStage): Promise<DeployResult | null> {
  // v5's patch, retired in v11 (docs/reliability.md, "Versioned cut-over").
  deprecatePatch('deploy-plan');
  // Once, unless a pause stops the deploy of an approved plan: then what is left is planned and
  // approved again after resume (an approval is of one plan, not of whatever comes later).
  for (;;) {
    // Reading the platforms may wait on their pacing: long-running, heartbeating.
    const plan = await planning.planDeployment({ ...s.input, creatives: s.creatives });
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

/** The deploy stage: its result, or null when nothing was deployed today (and why is degraded). */
export async function deployStage(s: DeployStage): Promise<DeployResult | null> {
  // Added after the v8 histories: before it, a deploy that failed for good failed the market.
  const deployFailureDegrades = patched('deploy-failure-degrades');
  let deploy: DeployResult | null = null;
  try {
    deploy = await planAndDeploy(s);
  } catch (err) {
    // A platform down all day (retries exhausted, timeouts) skips today's deploy: the ads already
    // live keep running and learn still runs. So does a token the platform refuses (added after
    // the v9 histories): the run is Degraded with the reason and how to rotate it, where the
    // Temporal UI and `adloop status` show it. Any other failure (a request the platform refuses,
    // a bug) still fails the market: a person must act.
    const skip =
      err instanceof ActivityFailure &&
      ((deployFailureDegrades && platformOutage(err)) ||
        (tokenRefused(err) && patched('auth-failure-degrades')));
    if (!skip) throw err;
    s.degraded.push(`deploy failed: ${message(err)}; the ads already live keep running`);
  }
  for (const r of deploy?.rejected ?? [])
    s.degraded.push(`${r.platform} review rejected creative ${r.hash.slice(0, 12)}: ${r.reason}`);
  return deploy;
}
