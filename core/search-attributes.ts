// Custom search attributes, defined once. The dev server registers them at start
// (scripts/lib/temporal-server.ts); workflows set them; operators filter by them in the UI.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The market a market loop runs (also set on its start, so a run is findable before it runs). */
export const MARKET = defineSearchAttributeKey('Market', SearchAttributeType.KEYWORD);
/** The stage a market loop is in: ingest … deploy, awaiting-approval, learn, done, failed. */
export const STAGE = defineSearchAttributeKey('Stage', SearchAttributeType.KEYWORD);
/** The ranking policy arm the market ran under: ml or heuristic. */
export const POLICY = defineSearchAttributeKey('Policy', SearchAttributeType.KEYWORD);
/** Whether the run fell back or went without a stage (see the run's degraded reasons). */
export const DEGRADED = defineSearchAttributeKey('Degraded', SearchAttributeType.BOOL);

/**
 * Temporal's own attribute on every run a Schedule starts: the time the run was scheduled for
 * (also for backfilled and caught-up runs, which start later).
 */
export const SCHEDULED_START_TIME = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

export const ALL_SEARCH_ATTRIBUTES = [MARKET, STAGE, POLICY, DEGRADED];

/** For `temporal server start-dev --search-attribute` and `temporal operator search-attribute create`. */
export const SEARCH_ATTRIBUTES = {
  Market: 'Keyword',
  Stage: 'Keyword',
  Policy: 'Keyword',
  Degraded: 'Bool',
} as const;
