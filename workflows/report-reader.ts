// `adloop report` through the loop worker: when a running worker owns the embedded PGlite database,
// no other process may open it, so the report's data is read by the worker's own activity.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { ReportData, ReportInput } from '../reports/report-data.ts';

const { collectReport } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  // Someone waits at a terminal: a few quick retries of a read-only query, then say why it failed.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

export async function reportData(input: ReportInput): Promise<ReportData> {
  return collectReport(input);
}
