// SQL behind `adloop report`: delivery per market-day under its ranking arm, each market's latest
// ranked list, and the ads live now with a still of their creative. Returns plain JSON
// (reports/report-data.ts), read-only.
import { convertMicros, type FxTable } from '../core/money.ts';
import type { Objective } from '../core/types.ts';
import {
  addDelivery,
  emptyDelivery,
  withRates,
  type ReportArmDay,
  type ReportData,
  type ReportDay,
  type ReportLiveAd,
  type ReportRanking,
} from '../reports/report-data.ts';
import type { Db } from './database.ts';
import { armLookup, deliveryByMarketDay } from './reports.repository.ts';

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

  // Rankings before `from` too: the arm of a range's first days is the ranking made before them.
  let rankingQuery = db
    .selectFrom('rankings')
    .select(['market', 'date', 'policy', 'source', 'based_on', 'model_version'])
    .where('date', '<=', o.to)
    .orderBy('market')
    .orderBy('date');
  let adQuery = db
    .selectFrom('platform_objects as po')
    .leftJoin('creatives as c', 'c.hash', 'po.creative_hash')
    .leftJoin('artists as a', 'a.id', 'c.artist_id')
    .select([
      'po.platform',
      'po.market',
      'po.external_id',
      'po.name',
      'po.creative_hash',
      'po.review_status',
      'po.review_reason',
      'po.updated_at',
      'c.artist_id',
      'c.template_id',
      'c.language',
      'a.name as artist_name',
    ])
    .where('po.kind', '=', 'ad')
    // Deploy stores each ad's status as read back from the platform, normalised to
    // active / paused / archived.
    .where('po.status', '=', 'active')
    .where('po.creative_hash', 'is not', null)
    .orderBy('po.market')
    .orderBy('po.platform')
    .orderBy('po.name');
  if (markets) {
    rankingQuery = rankingQuery.where('market', 'in', markets);
    adQuery = adQuery.where('po.market', 'in', markets);
  }
  const [delivery, rankingHeads, ads] = await Promise.all([
    deliveryByMarketDay(db, { from: o.from, to: o.to, markets }),
    rankingQuery.execute(),
    adQuery.execute(),
  ]);

  const armOn = armLookup(rankingHeads);

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
  const latestOf = new Map<string, (typeof rankingHeads)[number]>();
  for (const r of rankingHeads) if (r.date >= o.from) latestOf.set(r.market, r); // date order
  const latest = [...latestOf.values()];
  const rankings: ReportRanking[] = [];
  if (latest.length > 0) {
    const [items, counts] = await Promise.all([
      db
        .selectFrom('ranking_items as i')
        .leftJoin('artists as a', 'a.id', 'i.artist_id')
        .select([
          'i.market',
          'i.date',
          'i.rank',
          'i.artist_id',
          'i.template_id',
          'i.score',
          'i.selection',
          'i.propensity',
          'i.reasons',
          'a.name as artist_name',
        ])
        .where((eb) =>
          eb.and([
            eb.or(
              latest.map((l) => eb.and([eb('i.market', '=', l.market), eb('i.date', '=', l.date)])),
            ),
            eb('i.rank', '<=', limit),
          ]),
        )
        .orderBy('i.market')
        .orderBy('i.rank')
        .execute(),
      db
        .selectFrom('ranking_items as i')
        .select((eb) => ['i.market', 'i.date', eb.fn.countAll<number>().as('n')])
        .where((eb) =>
          eb.or(
            latest.map((l) => eb.and([eb('i.market', '=', l.market), eb('i.date', '=', l.date)])),
          ),
        )
        .groupBy(['i.market', 'i.date'])
        .execute(),
    ]);
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
    const assets = await db
      .selectFrom('creative_assets')
      .select(['creative_hash', 'ratio', 'storage_key'])
      .where('creative_hash', 'in', hashes)
      .where('kind', '=', 'static')
      .execute();
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
    rankings,
    liveAds,
  };
}
