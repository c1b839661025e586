// A sandbox world: the markets, the catalog, the ad account adloop talks to, and the hidden truth
// the simulator draws delivery from. Validated with errors that name the field.
import path from 'node:path';
import { z } from 'zod';
import { readCatalogFile, type Catalog } from '../core/catalog.ts';
import { issueLines, readJsonFile } from '../core/validation.ts';

const marketEconomics = z.object({
  /** Cost per 1000 impressions in the account currency. */
  cpm: z.number().positive(),
  /** Click-through rate of an average creative. */
  baseCtr: z.number().gt(0).lt(1),
  /** Installs per click. */
  installRate: z.number().gt(0).lte(1),
  /** Registrations per install for an average creative. */
  registrationRate: z.number().gt(0).lte(1),
  /** Premium subscriptions per registration for an average creative. Default 0.08. */
  subscriptionRate: z.number().gt(0).lte(1).default(0.08),
  /** Share of the audience on iOS (the rest is Android). Default 0.4. */
  iosShare: z.number().min(0).max(1).default(0.4),
  /** Reachable audience; delivery saturates as spend approaches it. Default 5,000,000. */
  audienceSize: z.number().int().positive().default(5_000_000),
});

const worldSchema = z.object({
  name: z.string().min(1),
  seed: z.number().int(),
  /** Catalog file, relative to the world file. */
  catalog: z.string().min(1),
  meta: z.object({
    accessToken: z.string().min(8),
    adAccountId: z.string().regex(/^act_\d+$/),
    pageId: z.string().regex(/^\d+$/),
    currency: z.string().regex(/^[A-Z]{3}$/),
  }),
  markets: z.record(z.string().regex(/^[A-Z]{2}$/), marketEconomics),
  truth: z.object({
    /** How much of an artist's hidden appeal is explained by its popularity (0..1). */
    popularityWeight: z.number().min(0).max(1),
    /** Spread of the template x market fit around 1 (0.25 means 0.75..1.25). */
    templateSpread: z.number().min(0).max(0.9),
    /** Day-to-day multiplicative noise on delivery (log-normal sigma). */
    noise: z.number().min(0).max(2),
    /** How noisily the platform estimates each ad's quality when it splits an ad set's budget. */
    learningNoise: z.number().min(0).max(3),
    /** Daily CTR decay of a creative from fatigue (0.04: -4% per day live). Default 0.04. */
    fatigueRate: z.number().min(0).max(1).default(0.04),
    /** Extra CTR of a brand-new creative, fading over its first days. Default 0.15. */
    noveltyBoost: z.number().min(0).max(2).default(0.15),
    /** Spread of the template x OS-segment interaction around 1. Default 0.2. */
    segmentSpread: z.number().min(0).max(0.9).default(0.2),
    /** How much likelier an iOS registration is to subscribe than an Android one. Default 1.5. */
    iosSubscriptionLift: z.number().positive().max(5).default(1.5),
  }),
  tiktok: z
    .object({
      accessToken: z.string().min(8),
      advertiserId: z.string().regex(/^\d+$/),
      currency: z.string().regex(/^[A-Z]{3}$/),
    })
    .default({
      accessToken: 'sandbox-tiktok-token',
      advertiserId: '7000000000000000001',
      currency: 'USD',
    }),
  mmp: z
    .object({
      adjust: z
        .object({ apiToken: z.string().min(8), appToken: z.string().min(4) })
        .default({ apiToken: 'sandbox-adjust-token', appToken: 'adloopapp' }),
      branch: z
        .object({ branchKey: z.string().min(8), branchSecret: z.string().min(8) })
        .default({ branchKey: 'key_live_sandbox', branchSecret: 'secret_live_sandbox' }),
      /** Share of conversions the MMP never attributes. Default 0.1. */
      lossRate: z.number().min(0).max(1).default(0.1),
      /** Days after which a day's attribution is complete (earlier reads are partial). Default 1. */
      delayDays: z.number().int().min(0).max(14).default(1),
      /** iOS postbacks arrive aggregated per campaign after this many days. Default 2. */
      iosPostbackDelayDays: z.number().int().min(0).max(14).default(2),
      /** Multiplicative noise on iOS aggregated postbacks (log-normal sigma). Default 0.2. */
      iosNoise: z.number().min(0).max(2).default(0.2),
    })
    .default({
      adjust: { apiToken: 'sandbox-adjust-token', appToken: 'adloopapp' },
      branch: { branchKey: 'key_live_sandbox', branchSecret: 'secret_live_sandbox' },
      lossRate: 0.1,
      delayDays: 1,
      iosPostbackDelayDays: 2,
      iosNoise: 0.2,
    }),
});

export type WorldSpec = z.infer<typeof worldSchema>;
export type MarketEconomics = z.infer<typeof marketEconomics>;
export interface World extends WorldSpec {
  file: string;
  catalogData: Catalog;
}

export class WorldError extends Error {
  override name = 'WorldError';
}

export function loadWorld(file: string): World {
  const parsed = worldSchema.safeParse(readJsonFile(file, 'world', WorldError));
  if (!parsed.success) {
    const lines = issueLines(parsed.error);
    throw new WorldError(`world ${file} is invalid:\n${lines.join('\n')}`);
  }
  const catalogData = readCatalogFile(path.resolve(path.dirname(file), parsed.data.catalog));
  const missing = catalogData.markets.filter((m) => !parsed.data.markets[m.code]);
  if (missing.length > 0) {
    throw new WorldError(
      `world ${file} is invalid:\n${missing.map((m) => `  markets.${m.code}: missing economics for a catalog market`).join('\n')}`,
    );
  }
  return { ...parsed.data, file, catalogData };
}
