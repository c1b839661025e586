// Signals, queries and updates, each defined once. Clients import these constants, never names.
import { defineQuery } from '@temporalio/workflow';
import type { MarketStatus } from '../core/types.ts';

/** Where a market loop is: its stage and whether it fell back to the previous ranking. */
export const getMarketStatus = defineQuery<MarketStatus>('getMarketStatus');
