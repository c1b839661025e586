// How far back a day's ingest reads. Each day re-reads its lookback (the platforms and the MMP keep
// correcting recent days). After days on which a source could not be read at all (down, or the
// database down), the next read goes back to where the last successful read started, so the days
// in between, and the partial ones that read left, are read again without an operator. Beyond
// CATCH_UP_MAX_DAYS it is `adloop backfill`'s job.

import { addDays } from '../../core/dates.ts';

/** Most days a daily read goes back to catch up; older gaps need `adloop backfill`. */
export const CATCH_UP_MAX_DAYS = 30;

/**
 * The first day to read on run date `date`: `lookbackDays` back, or, when the runs since the last
 * successful read (`lastReadOn`, its run date) could not read, back to where that read started:
 * its days may have been partial, and every later run that would have re-read them did not. At
 * most CATCH_UP_MAX_DAYS back.
 */
export function catchUpSince(
  date: string,
  lookbackDays: number,
  lastReadOn: string | null,
): string {
  const normal = addDays(date, -lookbackDays);
  // A first read, yesterday's read went through, or a rerun of a past day: the lookback.
  if (!lastReadOn || lastReadOn >= addDays(date, -1)) return normal;
  const fromLast = addDays(lastReadOn, -lookbackDays);
  const floor = addDays(date, -Math.max(lookbackDays, CATCH_UP_MAX_DAYS));
  const since = fromLast < normal ? fromLast : normal;
  return since < floor ? floor : since;
}
