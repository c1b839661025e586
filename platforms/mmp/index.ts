// The MMP client for a configuration: Adjust or Branch behind the one `Mmp` interface (mmp.ts).
import { createAdjust, type AdjustConfig } from './adjust.ts';
import { createBranch, type BranchConfig } from './branch.ts';
import type { Mmp } from './mmp.ts';

export type { AdjustConfig } from './adjust.ts';
export type { BranchConfig } from './branch.ts';
export type { AttributionRow, Mmp, MmpProvider } from './mmp.ts';

export type MmpConfig =
  ({ provider: 'adjust' } & AdjustConfig) | ({ provider: 'branch' } & BranchConfig);

export function createMmp(config: MmpConfig): Mmp {
  switch (config.provider) {
    case 'adjust':
      return createAdjust(config);
    case 'branch':
      return createBranch(config);
  }
}
