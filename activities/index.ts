// All activities, built over injected dependencies. Workflows use
// proxyActivities<Activities>() and never import this module's values.
import type { StageDeps } from './deps.ts';
import { createControlActivities } from './market-pause.ts';
import { createDeployActivities, type DeploySettings } from './deploy/deploy.ts';
import { createAttributionActivities, type AttributionSettings } from './ingest/attribution.ts';
import { createBackfillActivities, type BackfillSettings } from './ingest/backfill.ts';
import { createIngestActivities, type IngestSettings } from './ingest/ingest.ts';
import { createLearnActivities, type LearnSettings } from './learn/learn.ts';
import { createTrainingActivities, type TrainSettings } from './learn/train.ts';
import { createRankActivities, type RankSettings } from './rank/rank.ts';
import { createRenderActivities, type RenderSettings } from './render/render.ts';
import { createReportActivities, type ReportSettings } from './report/collect-report.ts';
import { createRunActivities } from './runs.ts';

/** Every setting some activity reads: what the worker passes (each stage sees its own part). */
export type ActivitySettings = IngestSettings &
  AttributionSettings &
  BackfillSettings &
  RankSettings &
  RenderSettings &
  DeploySettings &
  LearnSettings &
  TrainSettings &
  ReportSettings;

export type ActivityDeps = StageDeps<ActivitySettings>;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createRunActivities(deps),
    ...createControlActivities(deps),
    ...createIngestActivities(deps),
    ...createAttributionActivities(deps),
    ...createBackfillActivities(deps),
    ...createRankActivities(deps),
    ...createRenderActivities(deps),
    ...createDeployActivities(deps),
    ...createLearnActivities(deps),
    ...createTrainingActivities(deps),
    ...createReportActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
