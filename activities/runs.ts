// Bookkeeping activities: open and close a market run in the audit log, and record what an operator
// decided about a deploy waiting for approval.
import type { MarketLoopInput } from '../core/types.ts';
import { setDeployPlanStatus } from '../db/deploy.repository.ts';
import { finishRun, startRun } from '../db/runs.repository.ts';
import type { StageDeps } from './deps.ts';
import { currentRun } from './stage.ts';

export function createRunActivities({ db }: StageDeps<object>) {
  return {
    async startMarketRun({ market, date }: MarketLoopInput): Promise<void> {
      await startRun(db, { id: currentRun().runId, market, date });
    },
    async finishMarketRun(outcome: {
      status: 'completed' | 'failed';
      fallbackUsed: boolean;
      error?: string;
      /** What went without: stages whose platform or MMP stayed down past their retries. */
      degraded?: string[];
    }): Promise<void> {
      await finishRun(db, currentRun().runId, outcome);
    },
    async recordDeployDecision(d: {
      market: string;
      date: string;
      status: 'approved' | 'rejected' | 'expired';
      by?: string;
      note?: string | null;
    }): Promise<void> {
      await setDeployPlanStatus(db, {
        market: d.market,
        date: d.date,
        status: d.status,
        by: d.by ?? null,
        note: d.note ?? null,
      });
    },
  };
}
