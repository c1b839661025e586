// `npm run bench:rank -- --json`: how fast the learning ranker is at scale. On a sandbox world
// (default the scale world: 100,000 artists x 4 templates per market) it
//   1. simulates two weeks of delivery per market (50 ads a day, as the loop would observe them);
//   2. trains the ranking model on N training rows (default 1,000,000): the candidates' real
//      feature rows, labelled with what the simulator would deliver plus its daily noise;
//   3. ranks N candidates (default 1,000,000) market by market: features, both predictions,
//      Thompson exploration and the diversity re-rank, exactly as the rank stage does.
// It prints {"candidates", "rank_seconds", "train_rows", "train_seconds"}; timings cover steps 2
// and 3 only. Progress goes to stderr.
import { Command } from 'commander';
import { wholeNumber } from './args.ts';
import path from 'node:path';
import { addDays } from '../core/dates.ts';
import { keyed, normal } from '../core/random.ts';
import {
  FEATURE_COUNT,
  MarketFeatures,
  type ArtistInfo,
  type CreativeDay,
  type TemplateInfo,
} from '../ml/features.ts';
import { RankModel } from '../ml/rank-model.ts';
import { candidateFeatures, rankWithModel } from '../ml/ranker.ts';
import { Simulator } from '../sandbox/simulator.ts';
import { loadWorld } from '../sandbox/world.ts';

const opts = new Command()
  .name('npm run bench:rank --')
  .description('Time training and ranking of the ML ranker at scale.')
  .option('--world <file>', 'world file', 'sandbox/worlds/scale.json')
  .option('--candidates <n>', 'candidates to rank', wholeNumber('--candidates', 1000), 1_000_000)
  .option('--train-rows <n>', 'rows to train on', wholeNumber('--train-rows', 1000), 1_000_000)
  .option('--json', 'print only the JSON result on stdout')
  .parse()
  .opts<{ world: string; candidates: number; trainRows: number; json?: boolean }>();

const log = (msg: string) => process.stderr.write(`bench:rank: ${msg}\n`);
const START = '2026-01-01';
const HISTORY_DAYS = 14;
const ADS_PER_DAY = 50;

try {
  const world = loadWorld(path.resolve(opts.world));
  const sim = new Simulator(world);
  const templates: TemplateInfo[] = world.templates.map((t) => ({ id: t.id, theme: t.theme }));
  const date = addDays(START, HISTORY_DAYS);

  // Markets until the candidates are covered; each market's artists as the catalog shows them.
  const markets: Array<{ code: string; artists: ArtistInfo[]; history: CreativeDay[] }> = [];
  let total = 0;
  for (const m of world.catalog.markets) {
    if (total >= opts.candidates) break;
    const artists: ArtistInfo[] = [];
    for (let i = 0; i < world.catalog.artistCount; i++) {
      const a = world.catalog.artistAt(i);
      const popularity = world.catalog.popularity(a.id, m.code);
      if (popularity <= 0) continue;
      artists.push({
        id: a.id,
        genre: a.genre,
        popularity,
        trend: world.catalog.trend(a.id, m.code),
        embedding: world.catalog.embedding(a.id),
      });
      if (total + artists.length * templates.length >= opts.candidates) break;
    }
    total += artists.length * templates.length;
    markets.push({ code: m.code, artists, history: [] });
  }
  log(`${total} candidates in ${markets.length} market(s); simulating ${HISTORY_DAYS} days`);

  // 1. History: the most popular artists' ads, a fresh set every day.
  for (const m of markets) {
    const top = [...m.artists].sort((a, b) => b.popularity - a.popularity).slice(0, 500);
    for (let d = 0; d < HISTORY_DAYS; d++) {
      const day = addDays(START, d);
      const ads = Array.from({ length: ADS_PER_DAY }, (_, k) => {
        const a = top[(d * ADS_PER_DAY + k) % top.length]!;
        const t = templates[k % templates.length]!;
        return {
          id: `${m.code}-${d}-${k}`,
          platform: 'meta' as const,
          market: m.code,
          artistId: a.id,
          templateId: t.id,
          aspectRatio: '1:1',
          createdDate: day,
        };
      });
      sim.deliverAdSet(500_000, ads, day, `bench-${m.code}`).forEach((dl, k) =>
        m.history.push({
          market: m.code,
          date: day,
          artistId: ads[k]!.artistId,
          templateId: ads[k]!.templateId,
          daysLive: 0,
          impressions: dl.impressions,
          clicks: dl.clicks,
          spend: dl.spendMinor,
          registrations: dl.registrations,
          subscriptions: dl.subscriptions,
        }),
      );
    }
  }

  // 2. Training rows: real candidate features, labelled by the simulator with daily noise.
  const trainFeatures = new Float32Array(opts.trainRows * FEATURE_COUNT);
  const relRate = new Float32Array(opts.trainRows);
  const relShare = new Float32Array(opts.trainRows);
  const weights = new Float32Array(opts.trainRows).fill(1);
  const dates: string[] = new Array<string>(opts.trainRows);
  // Every row a candidate of its own: labels are drawn per row, not per creative and day.
  const creatives: string[] = new Array<string>(opts.trainRows);
  const noise = keyed(world.seed, 'bench-rank-labels');
  let filled = 0;
  for (let pass = 0; filled < opts.trainRows; pass++) {
    for (const m of markets) {
      if (filled >= opts.trainRows) break;
      const mf = new MarketFeatures(m.artists, templates, m.history);
      const feats = candidateFeatures(mf, templates, new Map());
      const n = Math.min(m.artists.length * templates.length, opts.trainRows - filled);
      trainFeatures.set(feats.subarray(0, n * FEATURE_COUNT), filled * FEATURE_COUNT);
      const rates = Array.from({ length: n }, (_, r) =>
        sim.expectedRegistrationsPerSpend(
          {
            id: 'x',
            platform: 'meta',
            market: m.code,
            artistId: m.artists[Math.floor(r / templates.length)]!.id,
            templateId: templates[r % templates.length]!.id,
            aspectRatio: '1:1',
            createdDate: date,
          },
          date,
        ),
      );
      const mean = rates.reduce((s, v) => s + v, 0) / n;
      for (let r = 0; r < n; r++) {
        relRate[filled + r] = Math.log(rates[r]! / mean) + 0.2 * normal(noise);
        relShare[filled + r] = Math.exp(relRate[filled + r]!);
        // Spread rows over days so early stopping has held-out days, as in daily training.
        dates[filled + r] = addDays(START, (pass * 7 + r) % HISTORY_DAYS);
        creatives[filled + r] = `${m.code}/${pass}/${r}`;
      }
      filled += n;
    }
  }
  log(`training on ${filled} rows`);
  const t0 = performance.now();
  const model = RankModel.train({
    features: trainFeatures,
    rows: filled,
    relRate,
    relShare,
    weights,
    dates,
    creatives,
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  log(
    `trained in ${trainSeconds.toFixed(1)} s (${model.meta.rounds.rate}+${model.meta.rounds.share} rounds); ranking`,
  );

  // 3. Rank every market's candidates, as the rank stage does.
  const t1 = performance.now();
  for (const m of markets) {
    rankWithModel({
      artists: m.artists,
      templates,
      lookback: m.history,
      live: new Map(),
      model,
      select: { slots: 50, limit: 150, random: keyed(world.seed, 'bench-rank', m.code) },
    });
  }
  const rankSeconds = (performance.now() - t1) / 1000;
  model.free();
  const result = {
    candidates: total,
    rank_seconds: +rankSeconds.toFixed(3),
    train_rows: filled,
    train_seconds: +trainSeconds.toFixed(3),
  };
  console.log(opts.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
  process.exit(0);
} catch (err) {
  console.error(`bench:rank failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
