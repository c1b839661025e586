// SQL behind reports: delivery per market-day tagged with the ranking policy (arm) that chose the
// market's ads that day.
import { convertMicros, type FxTable } from '../core/money.ts';
import type { ArmDay, Objective } from '../core/types.ts';
import type { Db } from './database.ts';

/**
 * Delivery summed per market, day and account currency over [from, to], oldest day first; of
 * some markets only when `markets` is given. Shared by the arms report and `adloop report`.
 */
export function deliveryByMarketDay(
  db: Db,
  o: { from: string; to: string; markets?: readonly string[] | null },
) {
  let q = db
    .selectFrom('ad_metrics_daily')
    .select((eb) => [
      'market',
      'date',
      'currency',
      eb.fn.sum<number>('spend_micros').as('spend_micros'),
      eb.fn.sum<number>('impressions').as('impressions'),
      eb.fn.sum<number>('clicks').as('clicks'),
      eb.fn.sum<number>('registrations').as('registrations'),
      eb.fn.sum<number>('subscriptions').as('subscriptions'),
    ])
    .where('date', '>=', o.from)
    .where('date', '<=', o.to)
    .groupBy(['market', 'date', 'currency'])
    .orderBy('date')
    .orderBy('market');
  if (o.markets?.length) q = q.where('market', 'in', [...o.markets]);
  return q.execute();
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
    db
      .selectFrom('rankings')
      .select(['market', 'date', 'policy'])
      .where('date', '<=', o.to)
      .orderBy('market')
      .orderBy('date')
      .execute(),
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
