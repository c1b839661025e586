// The soak's schedule: which faults strike on which day and when the worker is restarted, drawn
// from a seed so a run can be repeated exactly. Pure: no clock, no I/O.

import { prng } from '../../core/random.ts';

/** The soak's seeded PRNG: core's mulberry32, the same sequence for the same seed. */
export const seededRandom = prng;

/**
 * Faults that replace the loop worker process (by the chaos matrix's naming: `worker-killed-in-*`
 * and any other `worker-*` fault). They are kept out of the memory window, where one worker must
 * run from the first sample to the last.
 */
export const restartsWorker = (faultName: string): boolean => faultName.startsWith('worker-');

/** What the schedule needs to know of a fault of the matrix. */
export interface PlannedFault {
  name: string;
  /** Days it lasts from the day it is switched on (default 1). */
  days?: number;
  /**
   * The platform it takes down all day. Such a fault runs alone: another fault's effect could not
   * show on that platform, so that fault would go unproven.
   */
  platformDown?: string;
}

export interface SoakPlanOptions {
  days: number;
  seed: number;
  /** The chaos matrix's faults, in its order (the draw depends on the order). */
  faults: readonly PlannedFault[];
  /**
   * First day of the memory window (default 7): from this day on the worker is neither restarted
   * by the soak nor killed by a fault, so its memory is measured on one process.
   */
  memoryFrom?: number;
  /** Chance that a day before the memory window starts with a fresh worker (default 0.4). */
  restartChance?: number;
}

export interface SoakDayPlan {
  /** 1-based. */
  day: number;
  /** Faults switched on (or striking) this day, 0 to 2, in the order they are switched on. */
  faults: string[];
  /** Before the day's loop starts, SIGKILL the worker and start a new one (a redeploy). */
  restart: boolean;
}

/**
 * The whole soak's schedule. Day 1 runs clean (it puts the first ads live) and so does the last
 * day (the day after an incident, which must repair every gap before the final audit). Every day
 * between gets 0, 1 or 2 faults, drawn so that every fault of the matrix strikes at least once
 * when there are days enough: each fault is dealt from a seeded deck, one a day, and a day may
 * take a second fault drawn at random. Once the deck is used up, a day takes 0, 1 or 2 faults
 * drawn at random, equally likely. Besides:
 * - worker-replacing faults may strike only before the memory window, so they are dealt first,
 *   one to each day of the first week (days 2 to `memoryFrom - 1`);
 * - a fault lasting several days (an outage longer than the lookbacks) is dealt only from the
 *   memory window on, alone, and only where it ends before the last day: its days get no other
 *   fault, and the day after it runs clean, as the chaos scenario's recovery day does;
 * - a fault taking a platform down all day runs alone too: with the platform refusing everything,
 *   another fault could not show there, and would go unproven.
 * Restarts between days are drawn for the first week's days, at least one when there is such a
 * day.
 */
export function planSoak(o: SoakPlanOptions): SoakDayPlan[] {
  const memoryFrom = o.memoryFrom ?? 7;
  const restartChance = o.restartChance ?? 0.4;
  const random = seededRandom(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const lasting = (name: string) => o.faults.find((f) => f.name === name)?.days ?? 1;
  /** Faults that run alone: several days long, or taking a platform down. */
  const alone = (name: string) =>
    lasting(name) > 1 || o.faults.some((f) => f.name === name && f.platformDown);
  /** The names in a seeded order (Fisher–Yates). */
  const shuffled = (names: string[]) => {
    for (let i = names.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [names[i], names[j]] = [names[j]!, names[i]!];
    }
    return names;
  };
  const names = o.faults.map((f) => f.name);
  const killers = shuffled(names.filter(restartsWorker));
  const others = names.filter((f) => !restartsWorker(f));
  const deck = shuffled([...others]);
  const plan: SoakDayPlan[] = [];
  // Days up to this one belong to a fault lasting several days, or to the clean day after it.
  let takenUntil = 0;
  for (let day = 1; day <= o.days; day++) {
    const clean = day === 1 || day === o.days || day <= takenUntil;
    const firstWeek = !clean && day < memoryFrom;
    // Whether a fault can be on from today: one lasting several days only in the memory window,
    // ending before the last day (which runs clean).
    const fits = (f: string) =>
      lasting(f) === 1 || (day >= memoryFrom && day + lasting(f) <= o.days);
    const faults: string[] = [];
    if (!clean) {
      const dealt = firstWeek && killers.length > 0 ? killers.shift() : undefined;
      const fromDeck = dealt === undefined ? deck.findIndex(fits) : -1;
      const first = dealt ?? (fromDeck >= 0 ? deck.splice(fromDeck, 1)[0] : undefined);
      if (first) faults.push(first);
      const count = first ? 1 + Math.floor(random() * 2) : Math.floor(random() * 3);
      while (faults.length < count && !(faults[0] && alone(faults[0]))) {
        const left = others.filter(
          (x) => !faults.includes(x) && fits(x) && (faults.length === 0 || !alone(x)),
        );
        if (left.length === 0) break;
        faults.push(pick(left));
        if (alone(faults[faults.length - 1]!)) break;
      }
      const long = faults.find((f) => lasting(f) > 1);
      if (long) takenUntil = day + lasting(long);
    }
    plan.push({ day, faults, restart: firstWeek && random() < restartChance });
  }
  // "Now and then" includes at least once, when the soak has a day for it.
  const restartable = plan.filter((p) => p.day > 1 && p.day < o.days && p.day < memoryFrom);
  if (restartable.length > 0 && !restartable.some((p) => p.restart))
    pick(restartable).restart = true;
  return plan;
}
