// The hidden ground truth and the platform's delivery. Nothing outside sandbox/ may read this:
// adloop only ever sees what the wire-format servers report.
import { hashString, keyed, normal } from '../core/random.ts';
import type { World } from './world.ts';

/** What the simulator needs to know about one ad to deliver it. */
export interface SimAd {
  id: string;
  market: string;
  /** Content the ad's deep link opens; null when it cannot be told (delivers as average). */
  artistId: string | null;
  templateId: string | null;
}

export interface Delivery {
  adId: string;
  date: string;
  impressions: number;
  clicks: number;
  /** Spend in the account currency's minor units (cents). */
  spendMinor: number;
  installs: number;
  registrations: number;
}

export class Simulator {
  private readonly popularity = new Map<string, number>();

  constructor(private readonly world: World) {
    for (const a of world.catalogData.artists) {
      for (const [m, p] of Object.entries(a.popularity)) this.popularity.set(`${a.id}/${m}`, p);
    }
  }

  /** Hidden appeal of an artist in a market, in [0, 1]: correlated with popularity, not equal. */
  appeal(artistId: string, market: string): number {
    const pop = this.popularity.get(`${artistId}/${market}`) ?? 0;
    const u = keyed(this.world.seed, 'appeal', artistId, market)();
    const w = this.world.truth.popularityWeight;
    return w * pop + (1 - w) * u;
  }

  /** Hidden fit of a template in a market, around 1. */
  templateFit(templateId: string, market: string): number {
    const u = keyed(this.world.seed, 'template-fit', templateId, market)();
    return 1 + this.world.truth.templateSpread * (2 * u - 1);
  }

  /** True click-through and registration-per-install rates of an ad. */
  trueRates(ad: SimAd): { ctr: number; registrationRate: number } {
    const econ = this.world.markets[ad.market];
    if (!econ) return { ctr: 0, registrationRate: 0 };
    const appeal = ad.artistId ? this.appeal(ad.artistId, ad.market) : 0.5;
    const fit = ad.templateId ? this.templateFit(ad.templateId, ad.market) : 1;
    return {
      ctr: Math.min(0.5, econ.baseCtr * (0.4 + 1.2 * appeal) * fit),
      registrationRate: Math.min(1, econ.registrationRate * (0.5 + appeal)),
    };
  }

  /**
   * One day of one ad set: the platform splits the budget across its active ads by its own noisy
   * estimate of their quality, so the more ads share a budget the more of it lands on weak ones.
   */
  deliverAdSet(budgetMinor: number, ads: SimAd[], date: string, adSetId: string): Delivery[] {
    if (ads.length === 0 || budgetMinor <= 0) return [];
    const { noise, learningNoise } = this.world.truth;
    const learn = keyed(this.world.seed, 'learning', adSetId, date, ads.length);
    const rates = ads.map((ad) => this.trueRates(ad));
    const weights = rates.map((r) => (r.ctr * Math.exp(learningNoise * normal(learn))) ** 2);
    const total = weights.reduce((s, w) => s + w, 0) || 1;
    return ads.map((ad, i) => {
      const econ = this.world.markets[ad.market];
      const r = keyed(this.world.seed, 'delivery', ad.id, date);
      const jitter = () => Math.exp(noise * normal(r) - (noise * noise) / 2);
      const spendMinor = Math.round((budgetMinor * weights[i]!) / total);
      if (!econ || spendMinor <= 0) {
        return {
          adId: ad.id,
          date,
          impressions: 0,
          clicks: 0,
          spendMinor: 0,
          installs: 0,
          registrations: 0,
        };
      }
      const impressions = Math.floor((spendMinor / 100 / econ.cpm) * 1000);
      const clicks = Math.min(impressions, Math.round(impressions * rates[i]!.ctr * jitter()));
      const installs = Math.min(clicks, Math.round(clicks * econ.installRate * jitter()));
      const registrations = Math.min(
        installs,
        Math.round(installs * rates[i]!.registrationRate * jitter()),
      );
      return { adId: ad.id, date, impressions, clicks, spendMinor, installs, registrations };
    });
  }

  /** A stable, opaque id seed for this world, e.g. for object ids. */
  get idSeed(): number {
    return hashString(`${this.world.name}/${this.world.seed}`);
  }
}
