// The mobile measurement partner's (MMP's) view of the market: which installs, registrations and
// subscriptions Adjust or Branch would attribute to which ad, and when that data is visible.
// Both MMP servers (adjust-server.ts, branch-server.ts) render this one view in their own wire
// format, so for the same world, sources and dates they agree on every total.
//
// It reads only what the ad platforms delivered (the `DeliveryLog` seam), never the simulator's
// hidden truth, and it is pure: the same (world seed, sources, date, today) gives the same rows.
//
// What makes it an MMP rather than a copy of the platform's numbers:
//   - loss: each conversion is attributed with probability 1 - lossRate (seeded binomial), the
//     rest never shows up (no SDK consent, broken links, reinstalls...);
//   - delay: a day younger than `delayDays` is partial; see `completeness()`. Nothing is reported
//     for days after today;
//   - iOS: after Apple's privacy change, iOS arrives only as SKAdNetwork-like postbacks: summed per
//     campaign and day (never per ad group or creative), visible only `iosPostbackDelayDays` after
//     the day, with seeded multiplicative (log-normal) noise `iosNoise`. Such rows carry
//     `aggregated: true` and null ad group and ad;
//   - Android: per ad (creative), per day.
import { dateRange, daysBetween } from '../../core/dates.ts';
import { keyed, normal } from '../../core/random.ts';
import type { DeliveryLog, Funnel, Os, PlatformName } from '../contracts.ts';
import type { World } from '../world.ts';

/** What the MMP view needs from a world. */
export type MmpWorld = Pick<World, 'seed' | 'mmp'>;

/** One attributed row: an Android ad on a day, or an iOS campaign on a day (aggregated). */
export interface MmpAttribution extends Funnel {
  /** The day the installs and events happened (for iOS postbacks: the install day). */
  date: string;
  platform: PlatformName;
  market: string;
  campaignId: string;
  campaignName: string;
  /** Null on aggregated (iOS) rows: postbacks do not say which ad group or ad. */
  adGroupId: string | null;
  adGroupName: string | null;
  adId: string | null;
  adName: string | null;
  os: Os;
  /** True for SKAdNetwork-like campaign-level postbacks (iOS). */
  aggregated: boolean;
}

/** Faults a test or operator can inject into one MMP server. */
export interface MmpFaults {
  /** Every call fails with the MMP's 503 (a transient outage). */
  down: boolean;
  /** Extra days of delay: recent days stay partial and iOS postbacks arrive later. */
  delayDays: number;
}

export interface ViewOptions {
  /** Extra days of delay on top of the world's (a fault: the MMP's pipeline is behind). */
  extraDelayDays?: number;
}

// Shared with the platform servers' own reporting delays.
export { completeness } from '../reporting.ts';
import { completeness } from '../reporting.ts';

/** A seeded binomial draw: exact for small n, normal approximation above (it is a simulation). */
export function binomial(n: number, p: number, rand: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n <= 400) {
    let k = 0;
    for (let i = 0; i < n; i++) if (rand() < p) k++;
    return k;
  }
  const sd = Math.sqrt(n * p * (1 - p));
  return Math.min(n, Math.max(0, Math.round(n * p + sd * normal(rand))));
}

/** Keeps each conversion with probability 1 - lossRate; events never outnumber their installs. */
function thin(world: MmpWorld, key: Array<string | number>, f: Funnel): Funnel {
  const keep = 1 - world.mmp.lossRate;
  const draw = (metric: string, n: number) =>
    binomial(n, keep, keyed(world.seed, 'mmp-loss', ...key, metric));
  const installs = draw('installs', f.installs);
  const registrations = Math.min(installs, draw('registrations', f.registrations));
  const subscriptions = Math.min(registrations, draw('subscriptions', f.subscriptions));
  return { installs, registrations, subscriptions };
}

const isEmpty = (f: Funnel) => f.installs + f.registrations + f.subscriptions === 0;

/** Everything the MMP reports for `date` when read on `today`. */
export function attributedOn(
  world: MmpWorld,
  sources: DeliveryLog[],
  date: string,
  today: string,
  options: ViewOptions = {},
): MmpAttribution[] {
  const extra = options.extraDelayDays ?? 0;
  const share = completeness(date, today, world.mmp.delayDays + extra);
  if (share === 0) return [];
  const iosVisible = daysBetween(date, today) >= world.mmp.iosPostbackDelayDays + extra;
  const out: MmpAttribution[] = [];
  const campaigns = new Map<
    string,
    { platform: PlatformName; markets: Set<string>; id: string; name: string; sum: Funnel }
  >();

  for (const source of sources) {
    for (const d of source.deliveriesOn(date)) {
      // Android: per ad. The complete value is drawn once; a partial read is a floor of it, so a
      // day only ever grows as it matures and ends exactly at the complete value.
      const complete = thin(world, [d.platform, d.adId, 'android', date], d.delivery.byOs.android);
      const visible: Funnel = {
        installs: Math.floor(complete.installs * share),
        registrations: Math.floor(complete.registrations * share),
        subscriptions: Math.floor(complete.subscriptions * share),
      };
      if (!isEmpty(visible)) {
        out.push({
          date,
          platform: d.platform,
          market: d.market,
          campaignId: d.campaignId,
          campaignName: d.campaignName,
          adGroupId: d.adGroupId,
          adGroupName: d.adGroupName,
          adId: d.adId,
          adName: d.adName,
          os: 'android',
          aggregated: false,
          ...visible,
        });
      }
      // iOS: only summed per campaign; the MMP never learns which ad a postback came from.
      const key = `${d.platform}\u0000${d.campaignId}`;
      const c = campaigns.get(key) ?? {
        platform: d.platform,
        markets: new Set<string>(),
        id: d.campaignId,
        name: d.campaignName,
        sum: { installs: 0, registrations: 0, subscriptions: 0 },
      };
      c.markets.add(d.market);
      c.sum.installs += d.delivery.byOs.ios.installs;
      c.sum.registrations += d.delivery.byOs.ios.registrations;
      c.sum.subscriptions += d.delivery.byOs.ios.subscriptions;
      campaigns.set(key, c);
    }
  }

  if (iosVisible) {
    const sigma = world.mmp.iosNoise;
    for (const c of campaigns.values()) {
      const kept = thin(world, [c.platform, c.id, 'ios', date], c.sum);
      const noisy = (metric: keyof Funnel) => {
        const rand = keyed(world.seed, 'mmp-ios-noise', c.platform, c.id, date, metric);
        // Mean-preserving log-normal factor: noisy per day, unbiased over many days.
        return Math.round(kept[metric] * Math.exp(sigma * normal(rand) - (sigma * sigma) / 2));
      };
      const installs = noisy('installs');
      const registrations = Math.min(installs, noisy('registrations'));
      const subscriptions = Math.min(registrations, noisy('subscriptions'));
      const funnel = { installs, registrations, subscriptions };
      if (isEmpty(funnel)) continue;
      out.push({
        date,
        platform: c.platform,
        // A campaign in adloop targets one market; a mixed one reports no market.
        market: c.markets.size === 1 ? [...c.markets][0]! : '',
        campaignId: c.id,
        campaignName: c.name,
        adGroupId: null,
        adGroupName: null,
        adId: null,
        adName: null,
        os: 'ios',
        aggregated: true,
        ...funnel,
      });
    }
  }
  return out;
}

/** `attributedOn` for every day of [since, until], capped at today. */
export function attributedRange(
  world: MmpWorld,
  sources: DeliveryLog[],
  since: string,
  until: string,
  today: string,
  options: ViewOptions = {},
): MmpAttribution[] {
  const last = until > today ? today : until;
  if (since > last) return [];
  return dateRange(since, last).flatMap((date) =>
    attributedOn(world, sources, date, today, options),
  );
}
