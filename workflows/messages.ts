// Signals, queries and updates, each defined once. Clients import these constants, never names.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { MarketStatus } from '../core/types.ts';

/** Where a market loop is: its stage and whether it fell back to the previous ranking. */
export const getMarketStatus = defineQuery<MarketStatus>('getMarketStatus');

/** Who approves or rejects, and why (shown in the workflow's history and the run's record). */
export interface DeployDecisionInput {
  by: string;
  note?: string;
}

/** Lets a market waiting for deploy approval write today's plan. */
export const approveDeploy = defineSignal<[DeployDecisionInput]>('approveDeploy');

/** Turns today's plan down: the market keeps yesterday's ads running. */
export const rejectDeploy = defineSignal<[DeployDecisionInput]>('rejectDeploy');
