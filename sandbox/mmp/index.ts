// The MMP sandbox: local Adjust and Branch reporting APIs over what the ad platform servers
// delivered. The caller mounts each handler on its own port (their paths do not clash, but real
// clients talk to separate hosts), e.g.
//
//   const mmp = createMmpSandbox({ world, sources: [meta], clock });
//   http.createServer(mmp.adjust.handle).listen(0, '127.0.0.1');
//   http.createServer(mmp.branch.handle).listen(0, '127.0.0.1');
//
// `faults.adjust` / `faults.branch` are live objects: set `down` or `delayDays` at any time.
import type { DeliveryLog, SandboxClock } from '../contracts.ts';
import { AdjustReportSandbox } from './adjust-server.ts';
import type { MmpFaults, MmpWorld } from './attribution.ts';
import { BranchQuerySandbox } from './branch-server.ts';

export type { MmpAttribution, MmpFaults, MmpWorld } from './attribution.ts';
export { AdjustReportSandbox, ADJUST_EVENT_SLUGS, ADJUST_REPORT_PATHS } from './adjust-server.ts';
export { BranchQuerySandbox, BRANCH_EVENTS, BRANCH_QUERY_PATH } from './branch-server.ts';

export interface MmpSandboxOptions {
  /** The world (or just its seed and `mmp` section). */
  world: MmpWorld;
  /** The ad platform servers whose deliveries the MMPs attribute. */
  sources: DeliveryLog[];
  clock: SandboxClock;
}

export interface MmpSandbox {
  adjust: AdjustReportSandbox;
  branch: BranchQuerySandbox;
  faults: { adjust: MmpFaults; branch: MmpFaults };
}

export function createMmpSandbox(options: MmpSandboxOptions): MmpSandbox {
  const faults = {
    adjust: { down: false, delayDays: 0 },
    branch: { down: false, delayDays: 0 },
  };
  const { world, sources, clock } = options;
  return {
    adjust: new AdjustReportSandbox(world, sources, clock, faults.adjust),
    branch: new BranchQuerySandbox(world, sources, clock, faults.branch),
    faults,
  };
}
