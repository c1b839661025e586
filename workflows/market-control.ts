// An operator's hand on one market's run: pause and resume (from `adloop pause|resume`, an update,
// or the Temporal UI's signals), the deploy approval, and the Stage search attribute and status
// query that show where the run is. Workflow state only: installing it issues no command.
import {
  CancellationScope,
  condition,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { STAGE } from '../core/search-attributes.ts';
import type { DeployDecision, DeployResult, MarketStatus } from '../core/types.ts';
import { pausableDeploy } from './activity-options.ts';
import { stoppedByCancel } from './failure-kinds.ts';
import {
  approveDeploy,
  getMarketStatus,
  pauseMarket,
  rejectDeploy,
  resumeMarket,
  setMarketPaused,
  type MarketControlInput,
} from './messages.ts';

export type DeployInput = Parameters<Activities['deployCreatives']>[0];

export interface MarketControl {
  /** Enters a stage: the status query and the Stage search attribute say it. */
  enter: (stage: MarketStatus['stage']) => void;
  /** Holds while the market is paused; the Stage shows `paused` meanwhile. */
  holdWhilePaused(): Promise<void>;
  /**
   * Deploys, holding first while paused. A pause during the deploy cancels the activity, which
   * stops before its next platform request; after resume it runs again and, idempotent, writes
   * only what is still missing. Null when a pause stopped the deploy of an approved plan: what
   * is left must be planned and approved anew.
   */
  deployPausable(input: DeployInput): Promise<DeployResult | null>;
  /** Waits up to `timeoutMs` for an approval or rejection; undefined when none came. */
  awaitDecision(timeoutMs: number): Promise<DeployDecision | undefined>;
  /** Forgets the decision taken: the next plan needs its own. */
  forgetDecision(): void;
}

/** Who sent a control or approval message and why; tolerates what the Temporal UI may send. */
function operatorOf(input: unknown): { by: string; reason?: string } {
  const o = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const by = typeof o.by === 'string' && o.by.trim() ? o.by.trim() : 'an operator (no "by" given)';
  const why = typeof o.reason === 'string' ? o.reason : typeof o.note === 'string' ? o.note : '';
  return why ? { by, reason: why } : { by };
}

/** Installs the status query and the pause, resume and approval handlers over `status`. */
export function installMarketControl(status: MarketStatus): MarketControl {
  setHandler(getMarketStatus, () => status);
  // A pause holds the run before its next platform write; a deploy under way is stopped between
  // requests.
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

  return {
    enter,
    holdWhilePaused,
    async deployPausable(input) {
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
          return await scope.run(() => pausableDeploy.deployCreatives(input));
        } catch (err) {
          if (!stopped || !stoppedByCancel(err)) throw err;
          if (input.approvedPlan) return null;
        } finally {
          stopDeploy = null;
        }
      }
    },
    async awaitDecision(timeoutMs) {
      await condition(() => decision !== undefined, timeoutMs);
      return decision;
    },
    forgetDecision() {
      decision = undefined;
    },
  };
}
