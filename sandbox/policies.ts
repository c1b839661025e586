// Reference policies for benchmarks. `random` knows nothing; `oracle` reads the simulator's hidden
// truth and picks what will really bring the most registrations per unit spend. Neither is used by
// the daily loop: they bracket it.
import { keyed } from '../core/random.ts';
import type { Policy } from '../ml/policy-eval.ts';
import type { Simulator } from './simulator.ts';

export function randomPolicy(_simulator: Simulator, seed: number): Policy {
  return {
    name: 'random',
    choose: (ctx) => {
      const r = keyed(seed, 'random-policy', ctx.market, ctx.date);
      const picks = new Map<string, { artistId: string; templateId: string }>();
      for (let tries = 0; picks.size < ctx.slots && tries < ctx.slots * 20; tries++) {
        const a = ctx.artists[Math.floor(r() * ctx.artists.length)];
        const t = ctx.templateIds[Math.floor(r() * ctx.templateIds.length)];
        if (a && t) picks.set(`${a.id}/${t}`, { artistId: a.id, templateId: t });
      }
      return [...picks.values()];
    },
  };
}

export function oraclePolicy(simulator: Simulator): Policy {
  return {
    name: 'oracle',
    choose: (ctx) => {
      const created = new Map(
        ctx.live.map((l) => [`${l.artistId}/${l.templateId}`, l.createdDate]),
      );
      const scored: Array<{ artistId: string; templateId: string; value: number }> = [];
      for (const a of ctx.artists) {
        for (const templateId of ctx.templateIds) {
          const value = simulator.expectedRegistrationsPerSpend(
            {
              id: 'oracle',
              platform: 'meta',
              market: ctx.market,
              artistId: a.id,
              templateId,
              aspectRatio: '1:1',
              // A live ad keeps its age (and fatigue); anything else would start fresh today.
              createdDate: created.get(`${a.id}/${templateId}`) ?? ctx.date,
            },
            ctx.date,
          );
          scored.push({ artistId: a.id, templateId, value });
        }
      }
      scored.sort((x, y) => y.value - x.value || (x.artistId < y.artistId ? -1 : 1));
      return scored.slice(0, ctx.slots);
    },
  };
}
