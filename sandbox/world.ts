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
