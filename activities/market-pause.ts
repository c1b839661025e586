// Operator control as the workflows see it: whether a market is paused (on its schedule).
import type { MarketCode, MarketPause } from '../core/types.ts';
import type { StageDeps } from './deps.ts';

export function createControlActivities({ control }: StageDeps<object>) {
  return {
    /** The market's pause, or null: also null when no control source is wired (tests, scripts). */
    async marketPause({ market }: { market: MarketCode }): Promise<MarketPause | null> {
      return control ? control.pauseOf(market) : null;
    },
  };
}
