// The learning ranker end to end on the activity layer: delivered creative-days in the database,
// daily training with a held-out champion/challenger check, the model registry, ranking with the
// champion (exploration logged with its probability), policy arms by market, and each fallback
// recorded on the run.
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createActivities, type Activities } from '../../activities/index.ts';
import { RANK_MODEL_NAME } from '../../activities/rank/model-inputs.ts';
import { addDays } from '../../core/dates.ts';
import { keyed } from '../../core/random.ts';
import { listModels } from '../../db/models.repository.ts';
import { armDays, challengers } from '../../reports/collect.ts';
import { armReport } from '../../reports/arms.ts';
import { getRun } from '../../db/runs.repository.ts';
import { typedRun } from '../helpers/activity.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { getRanking } from '../../db/rankings.repository.ts';

const START = '2026-03-01';
const DAYS = 10;
const MARKETS = ['SE', 'DE', 'BR', 'EG'];
const TEMPLATES = ['spotlight', 'duotone'];

describe('ML ranking: training, registry, champion and fallbacks', () => {
  let stack: TestStack;
  let acts: Activities;
  let artists: string[];
  const quality = new Map<string, number>();
  const rankDay = addDays(START, DAYS);

  const runIn = (market: string, date: string) =>
    typedRun(
      new MockActivityEnvironment({
        workflowExecution: { workflowId: `market/${market}/${date}`, runId: `r-${market}-${date}` },
      }),
    );

  before(async () => {
    stack = await startTestStack();
    acts = createActivities(stack.deps);
    const db = stack.database.db;
    for (const market of MARKETS) {
      const run = runIn(market, START);
      await run(acts.startMarketRun, { market, date: START });
      await run(acts.ingestCatalog, { market, date: START });
    }
    artists = (await db.selectFrom('artists').select('id').orderBy('id').execute()).map(
      (a) => a.id,
    );
    // A hidden quality per artist; each day every market runs 4 ads of 4 different artists.
    for (const a of artists) quality.set(a, 0.5 + keyed('quality', a)());
    for (let d = 0; d < DAYS; d++) {
      const date = addDays(START, d);
      for (const market of MARKETS) {
        for (let k = 0; k < 4; k++) {
          const artist = artists[(d * 4 + k + MARKETS.indexOf(market)) % artists.length]!;
          const template = TEMPLATES[(d + k) % 2]!;
          const hash = `h-${market}-${artist}-${template}`;
          await db
            .insertInto('creatives')
            .values({
              hash,
              market,
              artist_id: artist,
              template_id: template,
              template_version: 1,
              language: 'en',
              aspect_ratio: '1:1',
              path: `/tmp/${hash}.png`,
              bytes: 1,
            })
            .onConflict((oc) => oc.doNothing())
            .execute();
          const r = keyed('delivery', market, date, k);
          const spend = 100 + 50 * r();
          const clicks = Math.round(spend * 10 * quality.get(artist)!);
          const registrations = Math.round(clicks * 0.1 * quality.get(artist)! * (0.9 + 0.2 * r()));
          await db
            .insertInto('ad_metrics_daily')
            .values({
              platform: 'meta',
              ad_id: `ad-${hash}`,
              date,
              market,
              creative_hash: hash,
              impressions: Math.round(spend * 200),
              clicks,
              spend_micros: Math.round(spend * 1e6),
              currency: 'EUR',
              installs: registrations * 2,
              registrations,
              subscriptions: Math.round(registrations / 10),
            })
            .onConflict((oc) => oc.doNothing())
            .execute();
        }
      }
    }
  });
  after(async () => stack?.close());

  it('falls back to the heuristic, recorded on the run, while there is no model', async () => {
    const run = runIn('SE', START);
    const { ranking } = await run(acts.rankMarket, {
      market: 'SE',
      date: START,
      metricsAvailable: true,
    });
    assert.equal(ranking.policy, 'heuristic');
    const stored = await getRun(stack.database.db, `market/SE/${START}`);
    assert.equal(stored?.fallback_used, true);
    assert.deepEqual(stored?.fallback_reasons, [
      'heuristic instead of ml: no trained ranking model yet',
    ]);
  });

  it('trains once per day, registers the model and promotes the first one', async () => {
    const day = addDays(rankDay, -1);
    const first = await runIn('SE', day)(acts.trainRankingModel, { date: day });
    assert.equal(first.trained, true, first.reason);
    assert.equal(first.promoted, true);
    assert.ok(first.metrics.trainRows! >= 60, JSON.stringify(first.metrics));
    const again = await runIn('SE', day)(acts.trainRankingModel, { date: day });
    assert.equal(again.trained, false);
    assert.equal(again.version, first.version);
    const models = await listModels(stack.database.db, RANK_MODEL_NAME);
    assert.deepEqual(
      models.map((m) => [m.version, m.status, m.training_to]),
      [[1, 'champion', day]],
    );
  });

  it('ranks with the champion: model version, exploration probabilities, best artists first', async () => {
    const run = runIn('SE', rankDay);
    await run(acts.startMarketRun, { market: 'SE', date: rankDay });
    const { ranking, selected } = await run(acts.rankMarket, {
      market: 'SE',
      date: rankDay,
      metricsAvailable: true,
    });
    assert.equal(ranking.policy, 'ml');
    assert.equal(ranking.modelVersion, `${RANK_MODEL_NAME}@1`);
    assert.equal(selected.length, 3);
    const explored = selected.filter((s) => s.selection === 'explore');
    assert.equal(explored.length, 1, 'a third of the slots explore');
    for (const s of ranking.items) {
      assert.ok(s.propensity! > 0 && s.propensity! <= 1, `propensity ${s.propensity}`);
      if (s.selection === 'exploit') assert.equal(s.propensity, 1);
      assert.ok('artist_log_rel_rate' in s.reasons || 'bias' in s.reasons);
    }
    // The exploit picks are artists the data shows as good: above the median hidden quality.
    const median = [...quality.values()].sort((a, b) => a - b)[Math.floor(quality.size / 2)]!;
    for (const s of selected.filter((i) => i.selection === 'exploit')) {
      assert.ok(
        quality.get(s.artistId)! > median,
        `${s.artistId} q=${quality.get(s.artistId)} median=${median} ${JSON.stringify(ranking.items.map((i) => [i.artistId, i.templateId, +quality.get(i.artistId)!.toFixed(2), +i.score.toFixed(3), i.selection]))}`,
      );
    }
    const rows = await stack.database.db
      .selectFrom('ranking_items')
      .select(['selection', 'propensity'])
      .where('market', '=', 'SE')
      .where('date', '=', rankDay)
      .orderBy('rank')
      .execute();
    assert.deepEqual(
      rows.map((r) => r.selection),
      ranking.items.map((i) => i.selection),
    );
    // A rerun of the day reuses its ranking; asked to rank again, it ranks identically
    // (exploration is seeded by market and day).
    const rerun = await run(acts.rankMarket, {
      market: 'SE',
      date: rankDay,
      metricsAvailable: true,
    });
    assert.equal(rerun.reused, true);
    assert.deepEqual(rerun.ranking.items, ranking.items);
    const again = await run(acts.rankMarket, {
      market: 'SE',
      date: rankDay,
      metricsAvailable: true,
      rerank: true,
    });
    assert.equal(again.reused, undefined);
    assert.deepEqual(again.ranking.items, ranking.items);
  });

  it('promotes a challenger only when it beats the champion on held-out days and off-policy', async () => {
    const result = await runIn('SE', rankDay)(acts.trainRankingModel, { date: rankDay });
    assert.equal(result.trained, true);
    assert.ok(Number.isFinite(result.metrics.championHeldOutRmse), JSON.stringify(result));
    // The challenger was evaluated off-policy on every held-out market-day that ran.
    assert.equal(result.metrics.opeUnits, 3 * MARKETS.length, JSON.stringify(result.metrics));
    for (const e of ['Logged', 'Ips', 'Snips', 'Dr']) {
      const [v, low, high] = ['', 'Low', 'High'].map((s) => result.metrics[`ope${e}${s}`]!);
      assert.ok(low! <= v! && v! <= high!, `${e}: ${low} ${v} ${high}`);
    }
    const confidentlyWorse = result.metrics.opeDrHigh! < result.metrics.opeLogged!;
    assert.equal(
      result.promoted,
      result.metrics.heldOutRmse! < result.metrics.championHeldOutRmse! && !confidentlyWorse,
      result.reason,
    );
    const statuses = (await listModels(stack.database.db, RANK_MODEL_NAME)).map((m) => m.status);
    assert.equal(statuses.filter((s) => s === 'champion').length, 1);
    // The report's arms section shows the evidence the decision read.
    const shown = await challengers(stack.database.db, { from: START, to: rankDay });
    const mine = shown.find((c) => c.model === `${RANK_MODEL_NAME}@${result.version}`);
    assert.equal(mine?.marketDays, 3 * MARKETS.length);
    assert.equal(mine?.dr.value, result.metrics.opeDr);
  });

  it('splits markets between policies by config (champion / challenger arms)', async () => {
    const armed = createActivities({
      ...stack.deps,
      config: { ...stack.deps.config, RANKING_POLICY_BY_MARKET: { DE: 'heuristic' } },
    });
    for (const market of ['DE', 'BR'])
      await runIn(market, rankDay)(acts.startMarketRun, { market, date: rankDay });
    const de = await runIn('DE', rankDay)(armed.rankMarket, {
      market: 'DE',
      date: rankDay,
      metricsAvailable: true,
    });
    const br = await runIn('BR', rankDay)(armed.rankMarket, {
      market: 'BR',
      date: rankDay,
      metricsAvailable: true,
    });
    assert.equal(de.ranking.policy, 'heuristic');
    assert.equal(br.ranking.policy, 'ml');

    // The report attributes each market-day to the arm whose ranking was live: BR's ads under
    // the ML arm convert at half DE's cost, over four days.
    for (let d = 0; d < 4; d++) {
      for (const [market, conversions] of [
        ['DE', 50],
        ['BR', 100],
      ] as const) {
        await stack.database.db
          .insertInto('ad_metrics_daily')
          .values({
            platform: 'meta',
            ad_id: `arm-${market}`,
            date: addDays(rankDay, d),
            market,
            creative_hash: null,
            impressions: 100_000,
            clicks: market === 'BR' ? 1500 + 10 * d : 1000 + 10 * d,
            spend_micros: 200e6,
            currency: 'EUR',
            installs: 2 * conversions,
            registrations: conversions + d,
            subscriptions: 0,
          })
          .execute();
      }
    }
    const arms = armReport(
      await armDays(stack.database.db, {
        from: rankDay,
        to: addDays(rankDay, 3),
        fx: stack.deps.fx,
        currency: 'EUR',
      }),
    );
    assert.deepEqual(
      arms.map((a) => [a.arm, a.markets, a.marketDays, a.spend, a.conversions]),
      [
        ['heuristic', ['DE'], 4, 800, 206],
        ['ml', ['BR'], 4, 800, 406],
      ],
    );
    assert.ok(arms[1]!.cpr!.high! < arms[0]!.cpr!.low!, JSON.stringify(arms.map((a) => a.cpr)));
    assert.ok(arms[1]!.ctr!.value > arms[0]!.ctr!.value);
  });

  it('falls back to the heuristic when the champion cannot be loaded', async () => {
    await stack.database.db
      .updateTable('models')
      .set({ artifact: '{"format":"something-else"}' })
      .where('status', '=', 'champion')
      .execute();
    const run = runIn('EG', rankDay);
    await run(acts.startMarketRun, { market: 'EG', date: rankDay });
    const { ranking } = await run(acts.rankMarket, {
      market: 'EG',
      date: rankDay,
      metricsAvailable: true,
    });
    assert.equal(ranking.policy, 'heuristic');
    const stored = await getRun(stack.database.db, `market/EG/${rankDay}`);
    assert.match(stored!.fallback_reasons[0]!, /failed to load: not an adloop ranking model/);
  });

  it('recovers a day on rerun: a fallback ranking is replaced, a computed one is kept', async () => {
    const day = addDays(rankDay, 1);
    const run = runIn('SE', day);
    await run(acts.startMarketRun, { market: 'SE', date: day });
    const rank = (o: { metricsAvailable: boolean; rerank?: boolean }) =>
      run(acts.rankMarket, { market: 'SE', date: day, ...o });
    // The day ran with its metrics down: yesterday's ranking stood in.
    const down = await rank({ metricsAvailable: false });
    assert.equal(down.ranking.source, 'fallback-previous');
    // Rerun once they are back: ranked from them, not the stand-in kept.
    const recovered = await rank({ metricsAvailable: true });
    assert.equal(recovered.ranking.source, 'computed');
    assert.equal(recovered.reused, undefined);
    // Another rerun keeps that ranking, whatever has moved since (here: the metrics are down
    // again, which would otherwise bring yesterday's back).
    const kept = await rank({ metricsAvailable: false });
    assert.equal(kept.reused, true);
    assert.equal(kept.ranking.source, 'computed');
    const pairs = (items: Array<{ artistId: string; templateId: string }>) =>
      items.map((i) => `${i.artistId}/${i.templateId}`);
    assert.deepEqual(pairs(kept.ranking.items), pairs(recovered.ranking.items));
    assert.deepEqual(pairs(kept.selected), pairs(recovered.selected));
    // --rerank ranks again and stores what it ranked.
    const reranked = await rank({ metricsAvailable: true, rerank: true });
    assert.equal(reranked.reused, undefined);
    const stored = await getRanking(stack.database.db, 'SE', day);
    assert.deepEqual(pairs(stored!.items), pairs(reranked.ranking.items));
  });
});
