// Which loop-worker process ran when, and its memory. The chaos stack has one worker at a time;
// faults and the soak's planned restarts replace it. The soak hands the faults a view of the stack
// whose startWorker notes every new process (and why), so memory samples are attributed to the
// process they were read from and restarts are counted exactly.
import type { ChaosStack } from '../chaos/stack.ts';
import { readRss, resetPeak, type RssReading } from './proc.ts';

export interface WorkerLifetime {
  /** 1 for the first worker, 2 for the next... */
  worker: number;
  pid: number;
  /** Soak day it started on, and the day of its last memory sample (null before the first). */
  fromDay: number;
  lastSampledDay: number | null;
  /** Why it started: the first worker, a planned restart, a fault, or a crash. */
  reason: string;
}

export interface Workers {
  /** The stack as faults see it: the same stack, with its worker starts recorded. */
  readonly stack: ChaosStack;
  /** The soak day now running (for the record). */
  day: number;
  /** Why the next worker start happens (a fault's name while its day runs). */
  reason: string | null;
  readonly lifetimes: WorkerLifetime[];
  /** Orphans found: a worker started while another still ran (it is killed). */
  readonly problems: string[];
  /** SIGKILLs the worker, waits until it is gone, starts another. */
  restart(reason: string): Promise<void>;
  /** The worker running now (noting one the stack started after a crash), or null. */
  current(): WorkerLifetime | null;
  /** Resets the running worker's peak RSS, so the next sample's peak is the day's. */
  resetPeak(): void;
  /** The running worker's memory now. */
  sample(): { lifetime: WorkerLifetime; rss: RssReading } | null;
}

export function trackWorkers(inner: ChaosStack): Workers {
  const lifetimes: WorkerLifetime[] = [];
  const problems: string[] = [];
  const note = (pid: number | undefined, reason: string) => {
    if (pid === undefined || lifetimes.some((l) => l.pid === pid)) return;
    lifetimes.push({
      worker: lifetimes.length + 1,
      pid,
      fromDay: workers.day,
      lastSampledDay: null,
      reason,
    });
  };
  // Every other member (worker, crashes, runDay, sandbox...) is the stack's own.
  const stack = Object.create(inner, {
    startWorker: {
      value: () => {
        const old = inner.worker;
        if (old && old.exitCode === null && old.signalCode === null) {
          // Two workers at once would leave one untracked and running: not a state the soak
          // measures. Say so and keep one.
          problems.push(
            `day ${workers.day}: a worker was started while worker pid ${old.pid} still ran (${workers.reason ?? 'unknown'}); the old one was killed`,
          );
          old.kill('SIGKILL');
        }
        const child = inner.startWorker();
        note(child.pid, workers.reason ?? `started on day ${workers.day}`);
        return child;
      },
    },
  }) as ChaosStack;
  const current = () => {
    const pid = inner.worker?.pid;
    if (pid === undefined) return null;
    // A pid the soak did not start: the stack restarted a worker that had exited by itself.
    note(pid, 'restarted by the stack after the previous worker exited by itself');
    return lifetimes.find((l) => l.pid === pid) ?? null;
  };
  const workers: Workers = {
    stack,
    day: 0,
    reason: null,
    lifetimes,
    problems,
    async restart(reason) {
      await inner.killWorker();
      const before = workers.reason;
      workers.reason = reason;
      try {
        stack.startWorker();
      } finally {
        workers.reason = before;
      }
    },
    current,
    resetPeak() {
      const l = current();
      if (l) resetPeak(l.pid);
    },
    sample() {
      const l = current();
      const rss = l ? readRss(l.pid) : null;
      if (!l || !rss) return null;
      l.lastSampledDay = workers.day;
      return { lifetime: l, rss };
    },
  };
  return workers;
}
