// Report data read by the loop worker: when a running worker owns the embedded PGlite database,
// `adloop report` cannot open it and asks the worker through the `reportData` workflow instead.
// Read-only, so retrying is always safe.
import { FAILURE } from '../../core/failures.ts';
import { ApplicationFailure } from '@temporalio/common';
import { parseIsoDate } from '../../core/dates.ts';
import { FxError } from '../../core/money.ts';
import { collectReportData } from '../../reports/collect.ts';
import type { ReportData, ReportInput } from '../../reports/report-data.ts';
import type { Config } from '../../core/config.ts';
import type { StageDeps } from '../deps.ts';

/** Settings the report reads: its objective and currency. */
export type ReportSettings = Pick<Config, 'RANKING_OBJECTIVE' | 'REPORTING_CURRENCY'>;

/**
 * Largest report returned as a payload. Temporal refuses payloads over 2 MB by default and warns
 * well before; past this the caller should narrow the markets or read PostgreSQL directly.
 */
export const MAX_REPORT_BYTES = 1_000_000;

export function createReportActivities({ db, fx, config }: StageDeps<ReportSettings>) {
  return {
    async collectReport(input: ReportInput): Promise<ReportData> {
      let from: string;
      let to: string;
      try {
        from = parseIsoDate(input.from, 'from');
        to = parseIsoDate(input.to, 'to');
      } catch (err) {
        throw ApplicationFailure.create({
          type: FAILURE.reportInput,
          message: (err as Error).message,
          nonRetryable: true,
        });
      }
      let data: ReportData;
      try {
        data = await collectReportData(db, {
          from,
          to,
          markets: input.markets,
          fx,
          currency: input.currency ?? config.REPORTING_CURRENCY,
          objective: input.objective ?? config.RANKING_OBJECTIVE,
        });
      } catch (err) {
        // A currency missing from the worker's rate table stays missing on retry.
        if (err instanceof FxError)
          throw ApplicationFailure.create({
            type: FAILURE.reportFx,
            message: err.message,
            nonRetryable: true,
          });
        throw err;
      }
      const bytes = Buffer.byteLength(JSON.stringify(data));
      if (bytes > MAX_REPORT_BYTES)
        throw ApplicationFailure.create({
          type: FAILURE.reportTooLarge,
          message: `the report's data is ${bytes} bytes, over the ${MAX_REPORT_BYTES} a workflow result may carry: narrow it with --markets or a shorter range, or read PostgreSQL directly`,
          nonRetryable: true,
        });
      return data;
    },
  };
}
