// Report data assembled from the database's rows (db/report.repository.ts): delivery per
// market-day under its ranking arm, each market's latest ranked list, and the ads live now with a
// still of their creative. Returns plain JSON (reports/report-data.ts); reads only.
import { convertMicros, type FxTable } from '../core/money.ts';
import type { ArmDay, Objective } from '../core/types.ts';
import { allocationsBetween } from '../db/budgets.repository.ts';
import type { Db } from '../db/database.ts';
import {
  deliveryByMarketDay,
  liveAds as liveAdRows,
  modelsTrainedIn,
  rankingHeads,
  rankingItems,
  staticAssets,
} from '../db/report.repository.ts';
import { challengerEvidence, type ChallengerEvidence } from './arms.ts';
import {
  addDelivery,
  emptyDelivery,
  withRates,
  type ReportArmDay,
  type ReportBudget,
  type ReportData,
  type ReportDay,
  type ReportLiveAd,
  type ReportRanking,
} from './report-data.ts';

export interface CollectReportOptions {
  from: string;
  to: string;
  /** Only these markets; default (undefined or empty) every market. */
  markets?: readonly string[] | undefined;
  fx: FxTable;
  currency: string;
  objective: Objective;
  /**
   * Items of each ranking kept. Default 25: well past what is deployed (ADS_PER_MARKET plus
   * spares), and it keeps the data small enough to travel as one Temporal payload.
   */
  rankedItems?: number;
  /** The report's timestamp. Default now. */
  now?: Date;
}

/** Order of preference for the still shown of a creative: the square feed image first. */
const STILL_RATIOS = ['1:1', '4:5', '9:16', '16:9'];

export async function collectReportData(db: Db, o: CollectReportOptions): Promise<ReportData> {
  const markets = o.markets?.length ? [...o.markets] : null;
  const limit = o.rankedItems ?? 25;

  const [delivery, rankingHeadRows, ads, evaluated] = await Promise.all([
    deliveryByMarketDay(db, { from: o.from, to: o.to, markets }),
    rankingHeads(db, { to: o.to, markets }),
    liveAdRows(db, { markets }),
    challengers(db, o),
  ]);

  const armOn = armLookup(rankingHeadRows);

  const days = new Map<string, ReportDay>();
  for (const d of delivery) {
    const key = `${d.date}/${d.market}`;
    const day = days.get(key) ?? {
      date: d.date,
      market: d.market,
      arm: armOn(d.market, d.date),
      ...emptyDelivery(),
    };
    // A market on accounts in several currencies: each part converted, then added.
    addDelivery(day, {
      ...emptyDelivery(),
      spend: convertMicros(Number(d.spend_micros), d.currency, o.currency, o.fx) / 1e6,
      impressions: Number(d.impressions),
      clicks: Number(d.clicks),
      registrations: Number(d.registrations),
      subscriptions: Number(d.subscriptions),
    });
    days.set(key, day);
  }

  const armDays = new Map<string, ReportArmDay>();
  for (const d of days.values()) {
    if (d.arm === null) continue; // no policy chose those ads
    const key = `${d.date}/${d.arm}`;
    const a = armDays.get(key) ?? { date: d.date, arm: d.arm, markets: [], ...emptyDelivery() };
    a.markets.push(d.market);
    addDelivery(a, d);
    armDays.set(key, a);
  }

  // Each market's latest ranking dated within the range.
  const latestOf = new Map<string, (typeof rankingHeadRows)[number]>();
  for (const r of rankingHeadRows) if (r.date >= o.from) latestOf.set(r.market, r); // date order
  const latest = [...latestOf.values()];
  const rankings: ReportRanking[] = [];
  {
    const { items, counts } = await rankingItems(db, latest, limit);
    for (const head of latest) {
      const mine = items.filter((i) => i.market === head.market && i.date === head.date);
      rankings.push({
        market: head.market,
        date: head.date,
        policy: head.policy,
        source: head.source,
        basedOn: head.based_on,
        modelVersion: head.model_version,
        itemCount: Number(
          counts.find((c) => c.market === head.market && c.date === head.date)?.n ?? 0,
        ),
        items: mine.map((i) => ({
          rank: i.rank,
          artistId: i.artist_id,
          artistName: i.artist_name ?? i.artist_id,
          templateId: i.template_id,
          score: i.score,
          selection: i.selection === 'explore' ? 'explore' : 'exploit',
          propensity: i.propensity,
          reasons: i.reasons,
        })),
      });
    }
  }

  const hashes = [...new Set(ads.map((a) => a.creative_hash!))];
  const stills = new Map<string, { key: string; ratio: string }>();
  if (hashes.length > 0) {
    const assets = await staticAssets(db, hashes);
    const rank = (ratio: string) => {
      const i = STILL_RATIOS.indexOf(ratio);
      return i < 0 ? STILL_RATIOS.length : i;
    };
    for (const a of assets) {
      const best = stills.get(a.creative_hash);
      if (!best || rank(a.ratio) < rank(best.ratio))
        stills.set(a.creative_hash, { key: a.storage_key, ratio: a.ratio });
    }
  }
  const liveAds: ReportLiveAd[] = ads.map((a) => ({
    platform: a.platform,
    market: a.market,
    adId: a.external_id,
    adName: a.name,
    creativeHash: a.creative_hash!,
    artistId: a.artist_id,
    artistName: a.artist_name,
    templateId: a.template_id,
    language: a.language,
    stillKey: stills.get(a.creative_hash!)?.key ?? null,
    stillRatio: stills.get(a.creative_hash!)?.ratio ?? null,
    reviewStatus: a.review_status,
    reviewReason: a.review_reason,
    updatedAt: new Date(a.updated_at).toISOString(),
  }));

  const money = (micros: number, currency: string) =>
    convertMicros(micros, currency, o.currency, o.fx) / 1e6;
  const budgets: ReportBudget[] = (await allocationsBetween(db, { from: o.from, to: o.to }))
    .filter((b) => !markets || markets.includes(b.market))
    .map((b) => ({
      date: b.date,
      market: b.market,
      platform: b.platform,
      budget: money(b.budget_micros, b.currency),
      previous: b.previous_micros === null ? null : money(b.previous_micros, b.currency),
      expectedResults: b.expected_results,
      marginalCost:
        b.marginal_cost_micros === null ? null : money(b.marginal_cost_micros, b.currency),
      uncertainty: b.uncertainty,
      exploring: b.exploring,
      bound: b.bound,
      reason: b.reason,
    }));

  const dayRows = [...days.values()].map(withRates);
  return {
    version: 1,
    from: o.from,
    to: o.to,
    generatedAt: (o.now ?? new Date()).toISOString(),
    currency: o.currency,
    objective: o.objective,
    markets: [
      ...new Set([
        ...dayRows.map((d) => d.market),
        ...rankings.map((r) => r.market),
        ...liveAds.map((a) => a.market),
      ]),
    ].sort(),
    days: dayRows.sort((a, b) => a.date.localeCompare(b.date) || a.market.localeCompare(b.market)),
    armDays: [...armDays.values()]
      .map((a) => ({ ...a, markets: a.markets.sort() }))
      .sort((a, b) => a.date.localeCompare(b.date) || a.arm.localeCompare(b.arm)),
    challengers: evaluated,
    rankings,
    liveAds,
    budgets,
  };
}

/**
 * The arm of a market-day: the policy of the market's latest ranking on or before that day (the
 * ranking whose ads were live), or null before its first. `rankings` in date order.
 */
export function armLookup(
  rankings: ReadonlyArray<{ market: string; date: string; policy: string }>,
): (market: string, date: string) => string | null {
  const byMarket = new Map<string, Array<{ date: string; policy: string }>>();
  for (const r of rankings) {
    const list = byMarket.get(r.market) ?? [];
    list.push(r);
    byMarket.set(r.market, list);
  }
  return (market, date) => {
    let arm: string | null = null;
    for (const r of byMarket.get(market) ?? []) {
      if (r.date > date) break;
      arm = r.policy;
    }
    return arm;
  };
}

/**
 * Every market-day with delivery between `from` and `to`, its spend in `currency`, under the arm
 * of the market's latest ranking on or before that day (the ranking whose ads were live). Days
 * before a market's first ranking are left out: no policy chose those ads.
 */
export async function armDays(
  db: Db,
  o: { from: string; to: string; fx: FxTable; currency: string; objective?: Objective },
): Promise<ArmDay[]> {
  const [delivery, rankings] = await Promise.all([
    deliveryByMarketDay(db, o),
    rankingHeads(db, { to: o.to }),
  ]);
  const armOn = armLookup(rankings);
  const out = new Map<string, ArmDay>();
  for (const d of delivery) {
    const arm = armOn(d.market, d.date);
    if (arm === null) continue;
    const key = `${d.market}/${d.date}`;
    const day = out.get(key) ?? {
      arm,
      market: d.market,
      date: d.date,
      spend: 0,
      impressions: 0,
      clicks: 0,
      conversions: 0,
    };
    // A market on accounts in several currencies: each part converted, then added.
    day.spend += convertMicros(Number(d.spend_micros), d.currency, o.currency, o.fx) / 1e6;
    day.impressions += Number(d.impressions);
    day.clicks += Number(d.clicks);
    day.conversions += Number(o.objective === 'subscriptions' ? d.subscriptions : d.registrations);
    out.set(key, day);
  }
  return [...out.values()];
}

/** Models trained on data up to a day in [from, to] that were evaluated off-policy, oldest first. */
export async function challengers(
  db: Db,
  o: { from: string; to: string },
): Promise<ChallengerEvidence[]> {
  return (await modelsTrainedIn(db, o)).flatMap((m) => challengerEvidence(m) ?? []);
}
