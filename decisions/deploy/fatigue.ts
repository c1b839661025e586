// Creative fatigue: an ad's click-through rate falls the longer the same people see it. A creative
// has fatigued when its CTR over the last days is well below its best stretch, measured on enough
// impressions that noise cannot explain the drop. Pure.

export interface FatigueOptions {
  /** Share the recent CTR must have lost against the best window. Default 0.3. */
  drop: number;
  /** Days per window (best and recent). Default 3. */
  windowDays: number;
  /** Days of delivery needed before a creative can fatigue. Default 6. */
  minDays: number;
  /** Impressions each window needs. Default 2000. */
  minImpressions: number;
}

export const DEFAULT_FATIGUE: FatigueOptions = {
  drop: 0.3,
  windowDays: 3,
  minDays: 6,
  minImpressions: 2000,
};

/** Creative hash -> why it fatigued, for creatives whose recent CTR dropped from their best. */
export function fatiguedCreatives(
  rows: ReadonlyArray<{ creativeHash: string; date: string; impressions: number; clicks: number }>,
  options: Partial<FatigueOptions> = {},
): Map<string, string> {
  const o = { ...DEFAULT_FATIGUE, ...options };
  const byCreative = new Map<
    string,
    Array<{ date: string; impressions: number; clicks: number }>
  >();
  for (const r of rows) {
    if (r.impressions <= 0) continue;
    const list = byCreative.get(r.creativeHash) ?? [];
    list.push(r);
    byCreative.set(r.creativeHash, list);
  }
  const out = new Map<string, string>();
  for (const [hash, days] of byCreative) {
    if (days.length < o.minDays) continue;
    days.sort((a, b) => a.date.localeCompare(b.date));
    const ctrOf = (w: typeof days) => {
      const imp = w.reduce((s, d) => s + d.impressions, 0);
      return imp >= o.minImpressions ? w.reduce((s, d) => s + d.clicks, 0) / imp : null;
    };
    const recent = ctrOf(days.slice(-o.windowDays));
    if (recent === null) continue;
    let best = 0;
    for (let i = 0; i + o.windowDays <= days.length - o.windowDays; i++)
      best = Math.max(best, ctrOf(days.slice(i, i + o.windowDays)) ?? 0);
    if (best > 0 && recent < (1 - o.drop) * best)
      out.set(
        hash,
        `CTR ${(recent * 100).toFixed(2)}% over the last ${o.windowDays} days, ${Math.round((1 - recent / best) * 100)}% below its best ${(best * 100).toFixed(2)}%`,
      );
  }
  return out;
}
