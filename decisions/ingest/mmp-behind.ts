// An MMP whose pipeline is behind answers recent days partial, or not at all, and does not say so.
// Re-reading the lookback then replaces what an earlier, fuller read stored with less. A day whose
// attributed total (installs, registrations and subscriptions over the market's campaigns) falls
// below what is stored for it is taken as the MMP being behind on it: its stored rows are kept, and
// the read is not counted complete, so the next run reads again from where the last complete read
// started (catch-up.ts) and sees the day once the MMP has caught up. MMPs also restate downwards
// (installs rejected as fraud, reattributed), rarely and by little; a shrink the MMP still reports
// after MMP_BEHIND_MAX_DAYS of reads is taken as its word and stored.
import { addDays } from '../../core/dates.ts';

/** Days a shrink is held back before it is taken as a restatement. */
export const MMP_BEHIND_MAX_DAYS = 7;

/** The days (sorted) whose total in `read` is below their total in `stored`, by day. */
export function daysBehind(
  read: ReadonlyMap<string, number>,
  stored: ReadonlyMap<string, number>,
): string[] {
  return [...stored]
    .filter(([day, total]) => (read.get(day) ?? 0) < total)
    .map(([day]) => day)
    .sort();
}

/**
 * Whether a run on `date` stores a shrink as the MMP's word: its last complete read (`lastReadOn`,
 * a run date) is more than MMP_BEHIND_MAX_DAYS old, or there was none (what is stored came from a
 * backfill, which an operator asked for).
 */
export function shrinkIsRestatement(date: string, lastReadOn: string | null): boolean {
  return lastReadOn === null || lastReadOn < addDays(date, -MMP_BEHIND_MAX_DAYS);
}
