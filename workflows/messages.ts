// Signals, queries and updates, each defined once. Clients import these constants, never names.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { MarketStatus } from '../core/types.ts';

/** Where a market loop is: its stage, pause, fallback and degraded reasons so far. */
export const getMarketStatus = defineQuery<MarketStatus>('getMarketStatus');

/** Who pauses or resumes a market, and why (shown in the workflow's history and status). */
export interface MarketControlInput {
  by: string;
  reason?: string;
}

/**
 * Holds the running market loop before its next platform write (a deploy under way stops
 * between requests); nothing already written is undone. For the Temporal UI's "Send signal".
 */
export const pauseMarket = defineSignal<[MarketControlInput]>('pauseMarket');

/** Lets a held market loop continue where it stopped. */
export const resumeMarket = defineSignal<[MarketControlInput]>('resumeMarket');

/**
 * Pause (`paused: true`) or resume, answered with the run's status once the workflow has taken
 * it in: what `adloop pause|resume` use, so the operator sees where the run holds.
 */
export const setMarketPaused = defineUpdate<
  MarketStatus,
  [MarketControlInput & { paused: boolean }]
>('setMarketPaused');

/** Who approves or rejects, and why (shown in the workflow's history and the run's record). */
export interface DeployDecisionInput {
  by: string;
  note?: string;
}

/** Lets a market waiting for deploy approval write today's plan. */
export const approveDeploy = defineSignal<[DeployDecisionInput]>('approveDeploy');

/** Turns today's plan down: the market keeps yesterday's ads running. */
export const rejectDeploy = defineSignal<[DeployDecisionInput]>('rejectDeploy');
