// Every workflow the loop worker registers. Only workflow functions may be exported here.
export { dailyLoop } from './daily-loop.ts';
export { marketLoop } from './market-loop.ts';
export { scheduledMarketLoop, scheduledTraining } from './scheduled.ts';
export { reportData } from './report-reader.ts';
export { backfillMarket, metricsBackfill } from './backfill.ts';
