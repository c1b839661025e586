// adloop's own counters, next to Temporal's runtime metrics on each worker's Prometheus endpoint
// (METRICS_ADDRESS). Recorded through the activity's metric meter, so each carries the activity's
// tags (task queue, activity type) plus the ones given here. Outside a worker (tests, scripts)
// there is no meter and nothing is recorded.
import { Context } from '@temporalio/activity';
import type { MetricTags } from '@temporalio/common';

export type AdloopCounter =
  /** Ads created on a platform (tags: platform). */
  | 'adloop_ads_created'
  /** Ads paused by rotation (tags: platform). */
  | 'adloop_ads_paused'
  /** Twin ads deleted: a create that landed after its look-up made a second (tags: platform). */
  | 'adloop_ad_twins_deleted'
  | 'adloop_object_twins_deleted'
  /** Platform writes made (tags: platform, result). */
  | 'adloop_platform_writes'
  /** Creatives a platform's review rejected or refused (tags: platform). */
  | 'adloop_creatives_rejected'
  /** Meta video ads that run as their still instead (tags: platform, why). */
  | 'adloop_video_fallbacks'
  /** Creatives rendered, cache hits excluded (tags: kind). */
  | 'adloop_renders'
  /** Markets that fell back to a previous or catalog-only ranking. */
  | 'adloop_ranking_fallbacks'
  /** Platform and MMP errors a stage ended with (tags: platform, kind, stage). */
  | 'adloop_platform_errors';

export function count(name: AdloopCounter, value = 1, tags: MetricTags = {}): void {
  if (value <= 0) return;
  let meter;
  try {
    meter = Context.current().metricMeter;
  } catch {
    return; // not inside an activity
  }
  meter.createCounter(name).add(value, tags);
}
