// All activities, built over injected dependencies. Workflows use
// proxyActivities<Activities>() and never import this module's values.
import type { ActivityDeps } from './deps.ts';
import { createControlActivities } from './market-pause.ts';
import { createDeployActivities } from './deploy/deploy.ts';
import { createAttributionActivities } from './ingest/attribution.ts';
import { createIngestActivities } from './ingest/ingest.ts';
import { createLearnActivities } from './learn/learn.ts';
import { createTrainingActivities } from './learn/train.ts';
import { createRankActivities } from './rank/rank.ts';
import { createRenderActivities } from './render/render.ts';
import { createReportActivities } from './report/collect-report.ts';
import { createRunActivities } from './runs.ts';

export type { ActivityDeps } from './deps.ts';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createRunActivities(deps),
    ...createControlActivities(deps),
    ...createIngestActivities(deps),
    ...createAttributionActivities(deps),
    ...createRankActivities(deps),
    ...createRenderActivities(deps),
    ...createDeployActivities(deps),
    ...createLearnActivities(deps),
    ...createTrainingActivities(deps),
    ...createReportActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
