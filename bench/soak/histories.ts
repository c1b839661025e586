// How large the soak's workflow histories grew. Every execution the namespace holds is listed
// (daily loops `loop/<date>`, their `market/<code>/<date>` children, and anything else that ran:
// a long-lived controller or a schedule's runs would show up here too) and described, since
// describe() reports the history as it is now, running or closed.
import type { Client } from '@temporalio/client';

export interface HistorySize {
  workflow: string;
  runId: string;
  type: string;
  status: string;
  events: number;
  bytes: number;
}

/** Every execution in the namespace with its history length and size. */
export async function historySizes(client: Client): Promise<HistorySize[]> {
  const out: HistorySize[] = [];
  for await (const info of client.workflow.list()) {
    let events = info.historyLength;
    let bytes = info.historySize ?? 0;
    try {
      const d = await client.workflow.getHandle(info.workflowId, info.runId).describe();
      events = d.historyLength;
      bytes = d.historySize ?? bytes;
    } catch {
      // visibility's numbers (taken when the run closed) will do
    }
    out.push({
      workflow: info.workflowId,
      runId: info.runId,
      type: info.type,
      status: info.status.name,
      events,
      bytes,
    });
  }
  return out;
}

/** The day (YYYY-MM-DD) a workflow id names, if any. */
export const dayOf = (workflowId: string): string | null =>
  /\d{4}-\d{2}-\d{2}/.exec(workflowId)?.[0] ?? null;

export interface HistoryTrend {
  type: string;
  /** Largest history of this type on the first and the last `span` days that have one. */
  firstDays: { events: number; bytes: number };
  lastDays: { events: number; bytes: number };
}

/**
 * Per workflow type, its largest history early in the soak against late in it. A per-day
 * workflow whose history grows from week to week carries something that grows with the data
 * (a result listing every ad ever made, say): bounded per run, but not over time.
 */
export function historyTrends(sizes: readonly HistorySize[], span = 7): HistoryTrend[] {
  const byType = new Map<string, HistorySize[]>();
  for (const s of sizes)
    if (dayOf(s.workflow)) byType.set(s.type, [...(byType.get(s.type) ?? []), s]);
  const out: HistoryTrend[] = [];
  for (const [type, runs] of byType) {
    const days = [...new Set(runs.map((r) => dayOf(r.workflow)!))].sort();
    const largest = (ds: string[]) => {
      const rs = runs.filter((r) => ds.includes(dayOf(r.workflow)!));
      return {
        events: Math.max(...rs.map((r) => r.events)),
        bytes: Math.max(...rs.map((r) => r.bytes)),
      };
    };
    out.push({
      type,
      firstDays: largest(days.slice(0, span)),
      lastDays: largest(days.slice(-span)),
    });
  }
  return out;
}
