// `adloop backfill`: the recovery after a fault longer than the ingest's lookback (an MMP down for
// five days when three are re-read). It re-reads a date range of the platforms' delivery and the
// MMP's attribution through the daily ingest's own readers (ingest.ts, attribution.ts), so rows
// are parsed and stored exactly as every day stores them, and says what that changed: rows added,
// rows changed (old -> new), rows found as stored. workflows/backfill.ts runs these per market
// and window, then recomputes the learn snapshots the changed days feed.
import { ApplicationFailure } from '@temporalio/common';
import { runMarkets } from '../../core/accounts.ts';
import type { Config } from '../../core/config.ts';
import { addDays, dateRange, todayUtc } from '../../core/dates.ts';
import { FAILURE } from '../../core/failures.ts';
import {
  BACKFILL_SOURCES,
  type BackfillExample,
  type BackfillInput,
  type BackfillPlan,
  type BackfillSource,
  type BackfillTally,
  type BackfillValue,
  type DateWindow,
  type IsoDate,
  type MarketCode,
} from '../../core/types.ts';
import {
  attributionKey,
  storedAttribution,
  upsertAttribution,
  type NewAttribution,
} from '../../db/attribution.repository.ts';
import { DELIVERY_VALUE_COLUMNS, type DeliveryWriter } from '../../db/delivery-writer.ts';
import {
  adMetricsKey,
  performanceSnapshotDates,
  storedAdMetrics,
} from '../../db/delivery.repository.ts';
import type { AdMetricsDailyTable } from '../../db/delivery.table.ts';
import type { StageDeps } from '../deps.ts';
import { withStage } from '../stage.ts';
import { createAttributionReader, type AttributionSettings } from './attribution.ts';
import {
  backfillRangeProblems,
  backfillWindows,
  parseBackfillMarkets,
  parseBackfillSources,
} from './backfill-range.ts';
import { createDeliveryReader, type IngestSettings } from './ingest.ts';

/** Settings a backfill reads: the ingest's, and learn's lookback (which snapshots went stale). */
export type BackfillSettings = IngestSettings &
  AttributionSettings &
  Pick<Config, 'LEARN_LOOKBACK_DAYS'>;

/** Changed rows shown old -> new per source and market; the counts cover every row. */
export const BACKFILL_EXAMPLES = 5;

/** The values of a delivery row a re-read can change (its key is platform, ad and day). */
const DELIVERY_FIELDS = DELIVERY_VALUE_COLUMNS;

/** The values of an attribution row a re-read can change (its key: mmp_attribution_key). */
const ATTRIBUTION_FIELDS = [
  'platform',
  'network',
  'campaign',
  'creative',
  'aggregated',
  'installs',
  'registrations',
  'subscriptions',
] as const satisfies ReadonlyArray<keyof NewAttribution>;

export function emptyTally(source: BackfillSource, market: MarketCode): BackfillTally {
  return {
    source,
    market,
    read: 0,
    added: 0,
    changed: 0,
    unchanged: 0,
    examples: [],
    changedDates: [],
    notes: [],
  };
}

/** A row written by a backfill: its key, its day and how to name it. */
export interface WrittenRow {
  key: string;
  date: IsoDate;
  row: string;
}

const comparable = (v: unknown): BackfillValue =>
  v === undefined ? null : v instanceof Date ? v.toISOString() : (v as BackfillValue);

/**
 * Counts what writing `written` did, from the stored rows of the same keys before and after:
 * added (not stored before), changed (a field differs; the first few kept old -> new) or
 * unchanged. Each key counts once.
 */
export function tallyChanges<R extends object>(
  tally: BackfillTally,
  written: readonly WrittenRow[],
  before: ReadonlyMap<string, R>,
  after: ReadonlyMap<string, R>,
  fields: ReadonlyArray<keyof R & string>,
): void {
  const seen = new Set<string>();
  const dates = new Set(tally.changedDates);
  for (const w of written) {
    if (seen.has(w.key)) continue;
    seen.add(w.key);
    tally.read += 1;
    const old = before.get(w.key);
    const now = after.get(w.key);
    if (!now) {
      tally.unchanged += 1; // nothing stored for it (the store refused it): nothing changed
      continue;
    }
    if (!old) {
      tally.added += 1;
      dates.add(w.date);
      continue;
    }
    const changes: BackfillExample['changes'] = {};
    for (const f of fields) {
      const a = comparable(old[f]);
      const b = comparable(now[f]);
      if (a !== b) changes[f] = { old: a, new: b };
    }
    if (Object.keys(changes).length === 0) {
      tally.unchanged += 1;
      continue;
    }
    tally.changed += 1;
    dates.add(w.date);
    if (tally.examples.length < BACKFILL_EXAMPLES)
      tally.examples.push({ date: w.date, row: w.row, changes });
  }
  tally.changedDates = [...dates].sort();
}

const deliveryRow = (r: AdMetricsDailyTable): WrittenRow => ({
  key: adMetricsKey(r),
  date: r.date,
  row: `${r.platform} ad ${r.ad_id}`,
});

const attributionRow = (r: NewAttribution): WrittenRow => ({
  key: attributionKey(r),
  date: r.date,
  row: r.aggregated
    ? `${r.source} ${r.os} campaign ${r.campaign} (aggregated postbacks)`
    : `${r.source} ${r.os} ${r.network} creative ${r.creative_id ?? '?'}`,
});

const summary = (t: BackfillTally) => ({
  backfill: t.source,
  read: t.read,
  added: t.added,
  changed: t.changed,
  unchanged: t.unchanged,
});

export function createBackfillActivities(deps: StageDeps<BackfillSettings>) {
  const { db, config } = deps;
  const readDelivery = createDeliveryReader(deps);
  const readAttribution = createAttributionReader(deps);
  /** Today on the worker's clock: the ingest's own notion of which days are over. */
  const today = () => todayUtc((deps.clock ?? (() => new Date()))());
  const refuse = (message: string) =>
    ApplicationFailure.create({ type: FAILURE.backfillInput, message, nonRetryable: true });

  function plan(input: BackfillInput): BackfillPlan {
    const notes: string[] = [];
    let sources: BackfillSource[];
    let asked: string[] | null = null;
    try {
      sources = input.sources ? parseBackfillSources(input.sources) : [...BACKFILL_SOURCES];
      if (input.markets && input.markets.length > 0) asked = parseBackfillMarkets(input.markets);
    } catch (err) {
      throw refuse((err as Error).message);
    }
    if (!deps.mmp && sources.includes('attribution')) {
      if (input.sources)
        throw refuse('--sources attribution: no MMP is configured (MMP_PROVIDER=none)');
      sources = sources.filter((s) => s !== 'attribution');
      notes.push('attribution not read: no MMP is configured (MMP_PROVIDER=none)');
    }
    const problems = backfillRangeProblems(input, sources, today());
    if (problems.length > 0) throw refuse(problems.join('; '));
    const run = runMarkets(deps.accounts);
    const unknown = (asked ?? []).filter((m) => !run.includes(m));
    if (unknown.length > 0)
      throw refuse(
        `--markets: no account of the accounts file runs ${unknown.join(', ')} (it runs ${run.join(', ') || 'none'})`,
      );
    const markets = asked ?? [...run].sort();
    if (markets.length === 0) throw refuse('the accounts file runs no market: nothing to read');
    return {
      from: input.from,
      to: input.to,
      markets,
      sources,
      windows: backfillWindows(input.from, input.to),
      notes,
    };
  }

  return {
    /**
     * Checks a backfill against this worker's clock, accounts and MMP, and cuts the range into
     * windows: a bad range, source or market fails at once (non-retryable), naming it.
     */
    planBackfill(input: BackfillInput): Promise<BackfillPlan> {
      return new Promise((resolve) => resolve(plan(input)));
    },

    /**
     * Re-reads a window of the market's delivery from every platform that runs it, as the daily
     * ingest reads it, and stores the window's rows in one write (they land whole or not at all,
     * so a retried attempt compares against what was stored before the backfill).
     */
    async backfillDelivery({
      market,
      since,
      until,
    }: { market: MarketCode } & DateWindow): Promise<BackfillTally> {
      return withStage(
        db,
        'ingest',
        async (progress) => {
          const tally = emptyTally('delivery', market);
          const rows: AdMetricsDailyTable[] = [];
          let phase = 'reading';
          progress(() => ({
            backfill: 'delivery',
            market,
            since,
            until,
            phase,
            rows: rows.length,
          }));
          // Collects what the reader stores; written below, once, compared.
          const collect: DeliveryWriter = {
            upsertAdMetrics(batch) {
              rows.push(...batch);
              return Promise.resolve(new Set(batch.map(adMetricsKey)).size);
            },
          };
          const { notes } = await readDelivery(market, { since, until }, collect);
          phase = 'storing';
          const before = await storedAdMetrics(db, rows);
          await deps.delivery.upsertAdMetrics(rows);
          const after = await storedAdMetrics(db, rows);
          tallyChanges(tally, rows.map(deliveryRow), before, after, DELIVERY_FIELDS);
          tally.notes.push(...notes);
          return tally;
        },
        summary,
      );
    },

    /** Re-reads a window of what the MMP attributed to the market's campaigns, compared. */
    async backfillAttribution({
      market,
      since,
      until,
    }: { market: MarketCode } & DateWindow): Promise<BackfillTally> {
      return withStage(
        db,
        'ingest',
        async (progress) => {
          const tally = emptyTally('attribution', market);
          progress(() => ({ backfill: 'attribution', market, since, until }));
          const { source } = await readAttribution(market, { since, until }, async (rows) => {
            const before = await storedAttribution(db, rows);
            const stored = await upsertAttribution(db, rows);
            const after = await storedAttribution(db, rows);
            tallyChanges(tally, rows.map(attributionRow), before, after, ATTRIBUTION_FIELDS);
            return stored;
          });
          if (source === null) tally.notes.push('no MMP is configured (MMP_PROVIDER=none)');
          return tally;
        },
        summary,
      );
    },

    /**
     * The market's learn snapshots a change on `changedDays` made stale: learn stores, as of each
     * day D, every creative's totals over [D - LEARN_LOOKBACK_DAYS + 1, D] (learn.ts), and rank
     * reads the latest one, so a snapshot whose window holds a changed day must be computed again.
     */
    async staleLearnSnapshots({
      market,
      changedDays,
    }: {
      market: MarketCode;
      changedDays: DateWindow[];
    }): Promise<IsoDate[]> {
      if (changedDays.length === 0) return [];
      const span = config.LEARN_LOOKBACK_DAYS;
      const changed = new Set(changedDays.flatMap((d) => dateRange(d.since, d.until)));
      const sorted = [...changed].sort();
      const snapshots = await performanceSnapshotDates(
        db,
        market,
        sorted[0]!,
        addDays(sorted.at(-1)!, span - 1),
      );
      return snapshots.filter((asOf) =>
        dateRange(addDays(asOf, -(span - 1)), asOf).some((d) => changed.has(d)),
      );
    },
  };
}
