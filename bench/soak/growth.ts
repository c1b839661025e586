// How much the worker's memory grows over the soak's memory window, estimated robustly. Pure.
//
// The estimate is a Theil–Sen line: the slope is the median of the slopes between every pair of
// daily samples, so one day sampled mid-GC or after an unusually large render cannot tilt it, as it
// would tilt a least-squares line or a last-minus-first difference. Pairs are only formed within
// one worker process: a restarted worker starts small again, and a pair across the restart would
// read that drop as shrinking memory and hide a leak.

export interface RssSample {
  /** Soak day (1-based) the sample was taken at the end of. */
  day: number;
  rssMb: number;
  /** Which worker process it was taken from (any id that differs between processes). */
  worker: number;
}

export interface GrowthEstimate {
  /** Projected relative growth from `from` to `to`: slope × (to − from) / baseline. */
  growth: number;
  slopeMbPerDay: number;
  /** The line's value at `from` (robust to an odd sample on that day). */
  baselineMb: number;
  /** Samples in the window and worker processes they came from (1 when nothing restarted it). */
  samples: number;
  workers: number;
  /** (last − first) / first of the raw samples, when one worker gave both; else null. */
  endpoints: number | null;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Growth of the samples taken on days `from`..`to` (inclusive). Null when the window holds no two
 * samples of one worker.
 */
export function rssGrowth(
  samples: readonly RssSample[],
  from: number,
  to: number,
): GrowthEstimate | null {
  const window = samples.filter((s) => s.day >= from && s.day <= to).sort((a, b) => a.day - b.day);
  const byWorker = new Map<number, RssSample[]>();
  for (const s of window) byWorker.set(s.worker, [...(byWorker.get(s.worker) ?? []), s]);
  const slopes: number[] = [];
  for (const group of byWorker.values())
    for (let i = 0; i < group.length; i++)
      for (let j = i + 1; j < group.length; j++) {
        const a = group[i]!;
        const b = group[j]!;
        if (b.day !== a.day) slopes.push((b.rssMb - a.rssMb) / (b.day - a.day));
      }
  if (slopes.length === 0) return null;
  const slope = median(slopes);
  const first = byWorker.get(window[0]!.worker)!;
  const intercept = median(first.map((s) => s.rssMb - slope * s.day));
  const baselineMb = intercept + slope * from;
  const last = window[window.length - 1]!;
  return {
    growth: (slope * (to - from)) / baselineMb,
    slopeMbPerDay: slope,
    baselineMb,
    samples: window.length,
    workers: byWorker.size,
    endpoints:
      last.worker === window[0]!.worker && last !== window[0]
        ? (last.rssMb - window[0]!.rssMb) / window[0]!.rssMb
        : null,
  };
}
