// The worker's memory as Linux sees it (/proc): resident set size of the worker process and of
// every process under it, and the worker's own peak since it was last reset.
//
// Why the tree: the worker renders, and a motion render runs ffmpeg as a child process; whatever a
// worker keeps running under it is the worker's memory too. With the soak's static-only renders the
// tree is the Node process alone (plus any helper a library keeps alive, such as esbuild's
// service), and `processes` says how many were counted.
import fs from 'node:fs';

/** A `Name:   1234 kB` field of /proc/<pid>/status, in kB; null when absent. */
export function statusKb(status: string, field: string): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return m ? Number(m[1]) : null;
}

/** The parent pid in a /proc/<pid>/stat line (the command name may hold spaces and parentheses). */
export function statParent(stat: string): number | null {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(rest[1]);
  return Number.isInteger(ppid) ? ppid : null;
}

const read = (file: string): string | null => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null; // the process is gone (or not ours to read)
  }
};

/** `pid` and all its descendants that are alive now. */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    const ppid = stat ? statParent(stat) : null;
    if (ppid !== null) parentOf.set(Number(entry), ppid);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++)
    for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  return tree;
}

export interface RssReading {
  /** VmRSS of the worker and its descendants, MB. */
  rssMb: number;
  /** VmRSS of the worker process alone, MB. */
  selfMb: number;
  /** VmHWM of the worker process: its peak RSS since the last `resetPeak` (or its start), MB. */
  peakMb: number | null;
  /** Processes counted. */
  processes: number;
}

const mb = (kb: number) => Math.round(kb / 102.4) / 10;

/** The worker's memory now; null when the process is gone. */
export function readRss(pid: number): RssReading | null {
  const own = read(`/proc/${pid}/status`);
  const self = own ? statusKb(own, 'VmRSS') : null;
  if (self === null || own === null) return null;
  let total = 0;
  let processes = 0;
  for (const p of processTree(pid)) {
    const status = p === pid ? own : read(`/proc/${p}/status`);
    const kb = status ? statusKb(status, 'VmRSS') : null;
    if (kb === null) continue;
    total += kb;
    processes++;
  }
  const hwm = statusKb(own, 'VmHWM');
  return { rssMb: mb(total), selfMb: mb(self), peakMb: hwm === null ? null : mb(hwm), processes };
}

/**
 * Resets the process's peak RSS (VmHWM) to its current RSS (`5` to /proc/<pid>/clear_refs,
 * Linux 4.0+), so the next reading's peak is the day's. False when not permitted.
 */
export function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
