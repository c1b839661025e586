// Reference policies for benchmarks. `random` knows nothing; `oracle` reads the simulator's hidden
// truth and picks what will really bring the most registrations per unit spend. Neither is used by
// the daily loop: they bracket it.
import { keyed } from '../../core/random.ts';
import type { Policy } from './policy-eval.ts';
import type { Simulator } from '../../sandbox/simulator.ts';

export function randomPolicy(_simulator: Simulator, seed: number): Policy {
  return {
    name: 'random',
    choose: (ctx) => {
      const r = keyed(seed, 'random-policy', ctx.market, ctx.date);
      const picks = new Map<string, { artistId: string; templateId: string }>();
      // More than the slots: the slate passes over an artist's second pick (ADS_PER_ARTIST).
      for (let tries = 0; picks.size < 2 * ctx.slots && tries < ctx.slots * 40; tries++) {
        const a = ctx.artists[Math.floor(r() * ctx.artists.length)];
        const t = ctx.templateIds[Math.floor(r() * ctx.templateIds.length)];
        if (a && t) picks.set(`${a.id}/${t}`, { artistId: a.id, templateId: t });
      }
      return [...picks.values()];
    },
  };
}

/**
 * Expected registrations per spend rise with an artist's hidden appeal for every template, OS and
 * age, and a fresh ad is never worse than a fatigued one. For any template, at most `live` of the
 * `slots + live` most appealing artists have a (fatigued) live ad with it, so at least `slots`
 * fresh candidates beat every other artist's: the best picks are among those artists crossed with
 * every template, plus the live ads. Scoring only those keeps the oracle exact and fast on a
 * 100,000-artist world.
 */
export function oraclePolicy(simulator: Simulator): Policy {
  return {
    name: 'oracle',
    choose: (ctx) => {
      const created = new Map(
        ctx.live.map((l) => [`${l.artistId}/${l.templateId}`, l.createdDate]),
      );
      const keep = ctx.slots + ctx.live.length;
      const top: Array<{ id: string; appeal: number }> = [];
      for (const a of ctx.artists) {
        const appeal = simulator.appeal(a.id, ctx.market);
        if (top.length < keep || appeal > top[top.length - 1]!.appeal) {
          top.push({ id: a.id, appeal });
          top.sort((x, y) => y.appeal - x.appeal || (x.id < y.id ? -1 : 1));
          if (top.length > keep) top.pop();
        }
      }
      const artistIds = new Set([...top.map((t) => t.id), ...ctx.live.map((l) => l.artistId)]);
      const scored: Array<{ artistId: string; templateId: string; value: number }> = [];
      for (const artistId of artistIds) {
        for (const templateId of ctx.templateIds) {
          const value = simulator.expectedRegistrationsPerSpend(
            {
              id: 'oracle',
              platform: 'meta',
              market: ctx.market,
              artistId,
              templateId,
              aspectRatio: '1:1',
              // A live ad keeps its age (and fatigue); anything else would start fresh today.
              createdDate: created.get(`${artistId}/${templateId}`) ?? ctx.date,
            },
            ctx.date,
          );
          scored.push({ artistId, templateId, value });
        }
      }
      scored.sort((x, y) => y.value - x.value || (x.artistId < y.artistId ? -1 : 1));
      // All of them, best first: the slate takes the best of each artist (ADS_PER_ARTIST).
      return scored;
    },
  };
}
