// The pure parts of the learning ranker: the compiled trees against libxgboost, the taste fit over
// the embedding space, and the slate's exploration probabilities.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyed, normal, normalCdf } from '../../core/random.ts';
import { compileBooster } from '../../ml/compiled-trees.ts';
import {
  FEATURE_COUNT,
  FEATURE_NAMES,
  MarketFeatures,
  solveSymmetric,
  trainingRowsWhere,
  type ArtistInfo,
  type CreativeDay,
} from '../../ml/features.ts';
import { RankModel, withinCreativeVariance } from '../../ml/rank-model.ts';
import { MIN_TRAINING_ROWS, refitOnWindow, trainChallenger } from '../../ml/training.ts';
import {
  MIN_PRIOR_ARTISTS,
  policyView,
  priorVarianceFromRecords,
  rankWithModel,
} from '../../ml/ranker.ts';
import { selectSlate, topK, winProbability } from '../../ml/select.ts';
import { Booster, DMatrix } from '../../ml/xgboost.ts';

function data(rows: number, cols: number, seed: number) {
  const r = keyed(seed, 'data');
  const x = new Float32Array(rows * cols).map(() => (r() < 0.1 ? NaN : normal(r)));
  const y = Float32Array.from({ length: rows }, (_, i) => {
    const v = (j: number) => (Number.isNaN(x[i * cols + j]!) ? 0 : x[i * cols + j]!);
    return 2 * v(0) - v(1) + Math.sin(3 * v(2)) + 0.1 * normal(r);
  });
  return { x, y };
}

describe('compiled trees', () => {
  for (const [depth, rounds] of [
    [3, 50],
    [6, 30],
  ] as const) {
    it(`predict what libxgboost predicts (depth ${depth}, ${rounds} rounds, missing values)`, () => {
      const cols = 5;
      const train = data(3000, cols, 1);
      const d = DMatrix.fromDense(train.x, 3000, cols, { labels: train.y });
      const booster = Booster.train(
        { max_depth: depth, eta: 0.3, tree_method: 'hist', base_score: 0.25, nthread: 1 },
        d,
        { rounds },
      ).booster;
      try {
        const compiled = compileBooster(booster.saveJson(), cols);
        assert.ok(compiled, 'a plain regression booster compiles');
        const test = data(2000, cols, 2);
        const expected = booster.predictDense(test.x, 2000, cols);
        const got = compiled(test.x, 2000);
        let worst = 0;
        for (let i = 0; i < 2000; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
        assert.ok(worst < 1e-4, `largest difference ${worst}`);
      } finally {
        booster.free();
        d.free();
      }
    });
  }

  it('decline what they cannot reproduce exactly: other objectives and feature counts', () => {
    const { x, y } = data(500, 3, 3);
    const d = DMatrix.fromDense(x, 500, 3, { labels: y.map((v) => (v > 0 ? 1 : 0)) });
    const logistic = Booster.train({ objective: 'binary:logistic', nthread: 1 }, d, {
      rounds: 3,
    }).booster;
    try {
      assert.equal(compileBooster(logistic.saveJson(), 3), null);
      assert.equal(compileBooster('{"not": "a model"}', 3), null);
      assert.equal(compileBooster('not json', 3), null);
    } finally {
      logistic.free();
      d.free();
    }
  });
});

describe('taste fit over the embedding space', () => {
  // Artists on a circle; the market likes one direction. Half of them have been shown.
  const artists: ArtistInfo[] = Array.from({ length: 200 }, (_, i) => {
    const angle = (2 * Math.PI * i) / 200;
    return {
      id: `a${i}`,
      genre: i % 2 ? 'pop' : 'rock',
      popularity: 0.5,
      trend: 0,
      embedding: [Math.cos(angle), Math.sin(angle)],
    };
  });
  const liked = (a: ArtistInfo) => a.embedding![0]!; // the market's taste: +x
  const r = keyed(7, 'taste');
  const rows: CreativeDay[] = artists
    .filter((_, i) => i % 2 === 0)
    .map((a) => {
      const registrations = Math.round(100 * Math.exp(0.8 * liked(a) + 0.1 * normal(r)));
      return {
        market: 'US',
        date: '2026-01-01',
        artistId: a.id,
        templateId: 't',
        daysLive: 0,
        impressions: 100_000,
        clicks: 1000,
        spend: 10_000,
        registrations,
        subscriptions: 0,
      };
    });
  const TASTE = FEATURE_NAMES.indexOf('taste_fit');

  it('predicts unseen artists from where they sit, across genres', () => {
    const mf = new MarketFeatures(artists, [{ id: 't', theme: 'x' }], rows);
    const out = new Float32Array(FEATURE_COUNT);
    const taste = (i: number) => {
      mf.fill(out, 0, `a${i}`, 't', 0);
      return out[TASTE]!;
    };
    // a1 (never shown, near +x) beats a101 (never shown, near -x); a51 sits in between.
    assert.ok(
      taste(1) > taste(51) && taste(51) > taste(101),
      `${taste(1)} ${taste(51)} ${taste(101)}`,
    );
    assert.ok(taste(1) - taste(101) > 0.8, 'recovers most of the true spread of 1.6');
  });

  it('stays out of it without embeddings or with too few artists shown', () => {
    const flat = artists.map((a) => ({ ...a, embedding: null }));
    const mf = new MarketFeatures(flat, [{ id: 't', theme: 'x' }], rows);
    const out = new Float32Array(FEATURE_COUNT);
    mf.fill(out, 0, 'a1', 't', 0);
    assert.ok(Number.isNaN(out[TASTE]!));
    const few = new MarketFeatures(artists, [{ id: 't', theme: 'x' }], rows.slice(0, 3));
    few.fill(out, 0, 'a1', 't', 0);
    assert.ok(Number.isNaN(out[TASTE]!));
  });

  it('rejects a candidate whose artist the market does not have', () => {
    const mf = new MarketFeatures(artists, [{ id: 't', theme: 'x' }], rows);
    assert.throws(() => mf.fill(new Float32Array(FEATURE_COUNT), 0, 'nobody', 't', 0), /nobody/);
  });

  it('solves small symmetric systems, and refuses singular ones', () => {
    const x = solveSymmetric(Float64Array.from([4, 2, 2, 3]), Float64Array.from([2, 1]), 2)!;
    assert.ok(Math.abs(x[0]! - 0.5) < 1e-12 && Math.abs(x[1]!) < 1e-12);
    assert.equal(
      solveSymmetric(Float64Array.from([1, 1, 1, 1]), Float64Array.from([1, 1]), 2),
      null,
    );
  });
});

describe('slate selection', () => {
  const n = 1000;
  const score = Float32Array.from({ length: n }, (_, i) => 1 + i / n);
  const similarity = (i: number, j: number) => (i === j ? 1 : Math.abs(i - j) < 3 ? 0.9 : 0);

  it('exploits the best scores, diversifies, and explores with logged probabilities', () => {
    const sigma = new Float32Array(n).fill(0.2);
    const slate = selectSlate(
      { score, sigma, similarity },
      { slots: 6, limit: 6, explorationShare: 1 / 3, diversity: 0.5, random: keyed(1, 's') },
    );
    assert.equal(slate.length, 6);
    assert.deepEqual(
      slate.map((s) => s.mode),
      ['exploit', 'exploit', 'exploit', 'exploit', 'explore', 'explore'],
    );
    assert.equal(slate[0]!.index, n - 1);
    // Near-duplicates of the first pick are passed over.
    assert.ok(slate.slice(1, 4).every((s) => Math.abs(s.index - (n - 1)) >= 3));
    for (const s of slate) assert.ok(s.probability > 0 && s.probability <= 1);
    assert.ok(slate.filter((s) => s.mode === 'explore').every((s) => s.probability < 1));
  });

  it('is certain when the model is: no spread, no doubt', () => {
    const slate = selectSlate(
      { score, sigma: new Float32Array(n), similarity: () => 0 },
      { slots: 3, limit: 3, explorationShare: 1, random: keyed(2, 's') },
    );
    assert.deepEqual(
      slate.map((s) => [s.index, s.probability]),
      [
        [n - 1, 1],
        [n - 2, 1],
        [n - 3, 1],
      ],
    );
  });

  it('holds each group (artist) to perGroup picks in the slots, not in the reserves', () => {
    // Groups of four: the four best candidates are one artist in four templates.
    const group = (i: number) => Math.floor(i / 4);
    const exploit = {
      slots: 3,
      limit: 6,
      explorationShare: 0,
      diversity: 0,
      random: keyed(4, 's'),
    };
    const free = selectSlate({ score, sigma: new Float32Array(n), similarity: () => 0 }, exploit);
    assert.deepEqual(
      free.slice(0, 3).map((s) => group(s.index)),
      [group(n - 1), group(n - 1), group(n - 1)],
    );
    const held = selectSlate(
      { score, sigma: new Float32Array(n).fill(0.2), similarity: () => 0, group },
      { ...exploit, explorationShare: 1 / 3, perGroup: 1 },
    );
    const slate = held.slice(0, 3).map((s) => group(s.index));
    assert.equal(new Set(slate).size, 3, `one pick per group in the slots: ${slate.join(',')}`);
    assert.equal(held[0]!.index, n - 1);
    // Reserves may be of a group already in the slate: they stand in for a rejected creative.
    assert.ok(held.slice(3).some((s) => slate.includes(group(s.index))));
  });

  it('picks the same slate for the same seed', () => {
    const sigma = new Float32Array(n).fill(0.3);
    const run = () =>
      selectSlate({ score, sigma, similarity }, { slots: 5, limit: 8, random: keyed(3, 's') });
    assert.deepEqual(run(), run());
  });

  it('computes each Thompson pick’s probability exactly: it matches simulation and sums to 1', () => {
    const r = keyed(9, 'win');
    const base = Float64Array.from({ length: 40 }, () => normal(r));
    const spread = Float64Array.from({ length: 40 }, (_, i) => (i === 3 ? 0 : 0.2 + r()));
    const exact = Array.from(base, (_, k) => winProbability(k, base, spread));
    assert.ok(Math.abs(exact.reduce((s, p) => s + p, 0) - 1) < 1e-4);
    const wins = new Array<number>(40).fill(0);
    const draws = 100_000;
    for (let d = 0; d < draws; d++) {
      let best = -1;
      let bestV = -Infinity;
      for (let k = 0; k < 40; k++) {
        const v = base[k]! + spread[k]! * normal(r);
        if (v > bestV) [best, bestV] = [k, v];
      }
      wins[best]!++;
    }
    exact.forEach((p, k) => assert.ok(Math.abs(p - wins[k]! / draws) < 0.006, `item ${k}: ${p}`));
  });

  it('is exact against rivals without spread or with far less spread', () => {
    // One uncertain item against a certain rival d above it: it wins when z > d.
    for (const d of [0.3, 1.7, -0.8]) {
      const p = winProbability(0, Float64Array.from([0, d]), Float64Array.from([1, 0]));
      assert.ok(Math.abs(p - (1 - normalCdf(d))) < 1e-6, `d ${d}: ${p}`);
    }
    // Against a nearly certain rival: P(N(0.9, 0) ... ) in closed form, P(X > Y) for normals.
    const p = winProbability(1, Float64Array.from([0.9, 0.6]), Float64Array.from([0.01, 0.1]));
    const closed = 1 - normalCdf((0.9 - 0.6) / Math.hypot(0.01, 0.1));
    assert.ok(Math.abs(p - closed) / closed < 1e-3, `${p} vs ${closed}`);
    // A certain item against certain rivals: 1 when it is the best, else 0.
    assert.equal(winProbability(0, Float64Array.from([2, 1]), Float64Array.from([0, 0])), 1);
    assert.equal(winProbability(1, Float64Array.from([2, 1]), Float64Array.from([0, 0])), 0);
  });

  it('topK returns the largest values best first and skips NaN', () => {
    assert.deepEqual(topK([3, NaN, 5, 1, 5, 4], 3), [2, 4, 5]);
    // Against a full sort, on many small arrays full of ties.
    const r = keyed(3, 'topk');
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(r() * 300);
      const k = Math.floor(r() * 40);
      const v = Array.from({ length: n }, () => (r() < 0.1 ? NaN : Math.floor(r() * 20)));
      const sorted = v
        .map((_, i) => i)
        .filter((i) => !Number.isNaN(v[i]))
        .sort((i, j) => v[j]! - v[i]! || i - j)
        .slice(0, k);
      assert.deepEqual(topK(v, k), sorted, `n ${n}, k ${k}`);
    }
  });
});

describe('rank model', () => {
  // Rows whose rate rises with popularity and the artist posterior, plus noise.
  const rows = 600;
  const r = keyed(11, 'model');
  const features = new Float32Array(rows * FEATURE_COUNT).map(() => (r() < 0.3 ? NaN : normal(r)));
  const col = (f: string) => FEATURE_NAMES.indexOf(f as (typeof FEATURE_NAMES)[number]);
  for (let i = 0; i < rows; i++) features[i * FEATURE_COUNT + col('popularity')] = r();
  const v = (i: number, f: string) => {
    const x = features[i * FEATURE_COUNT + col(f)]!;
    return Number.isNaN(x) ? 0 : x;
  };
  const relRate = Float32Array.from(
    { length: rows },
    (_, i) => 0.8 * v(i, 'popularity') + 0.3 * v(i, 'artist_posterior') + 0.1 * normal(r),
  );
  const set = {
    features,
    rows,
    relRate,
    relShare: relRate.map(Math.exp),
    weights: new Float32Array(rows).fill(1),
    dates: Array.from(
      { length: rows },
      (_, i) => `2026-01-${String(1 + (i % 9)).padStart(2, '0')}`,
    ),
    // Every row its own creative: no repeat days, so no within-creative noise estimate.
    creatives: Array.from({ length: rows }, (_, i) => `row-${i}`),
  };

  it('learns the signs, predicts the same compiled as through libxgboost, and explains itself', () => {
    const model = RankModel.train(set, { threads: 1 });
    try {
      assert.ok(model.compiled);
      const coef = (f: string) =>
        model.meta.linear.coef[model.meta.linear.features.indexOf(f)] ?? 0;
      assert.ok(
        coef('popularity') > 0.4 && coef('artist_posterior') > 0.1,
        JSON.stringify(model.meta.linear),
      );
      const fast = model.predictRate(features, rows).rate;
      const slow = model.predictWithXgboost(features, rows).rate;
      for (let i = 0; i < rows; i++) assert.ok(Math.abs(fast[i]! - slow[i]!) < 1e-4);
      // Contributions (trees' SHAP plus the linear terms) add up to the prediction.
      const [why] = model.explain(features.subarray(0, FEATURE_COUNT), 1);
      const total = Object.values(why!).reduce((s, x) => s + x, 0);
      assert.ok(Math.abs(total - fast[0]!) < 1e-3, `${total} vs ${fast[0]}`);
      assert.ok(model.meta.validationRmse! < model.meta.baselineRmse!);
    } finally {
      model.free();
    }
  });

  it('measures the noise floor as creatives’ own day-to-day spread, not by a lucky held-out bin', () => {
    // 40 creatives, each a level of its own plus daily noise of known variance 0.36, 4 days each.
    const noise = keyed(7, 'within');
    const n = 160;
    const level = Array.from({ length: 40 }, () => 2 * normal(noise));
    const noisy = {
      ...set,
      features: features.slice(0, n * FEATURE_COUNT),
      rows: n,
      relRate: Float32Array.from({ length: n }, (_, i) => level[i % 40]! + 0.6 * normal(noise)),
      relShare: new Float32Array(n).fill(1),
      weights: new Float32Array(n).fill(1),
      dates: Array.from({ length: n }, (_, i) => `2026-01-0${1 + Math.floor(i / 40)}`),
      creatives: Array.from({ length: n }, (_, i) => `c${i % 40}`),
    };
    const within = withinCreativeVariance(noisy)!;
    // The levels (variance 4) do not count; the noise does, within sampling error (120 df).
    assert.ok(Math.abs(within - 0.36) < 0.1, `${within}`);
    // Weighted as the held-out errors are: a day's weight scales its contribution, not the level.
    const weighted = withinCreativeVariance({
      ...noisy,
      weights: noisy.weights.map((_, i) => 1 + (i % 3)),
    })!;
    assert.ok(Math.abs(weighted - 0.36) < 0.12, `${weighted}`);
    // Too few repeat days to say: null, and the model falls back to its held-out bins.
    const once = { ...noisy, creatives: noisy.creatives.map((c, i) => (i < 45 ? c : `solo${i}`)) };
    assert.equal(withinCreativeVariance(once), null);
    assert.equal(withinCreativeVariance(set), null);
    const model = RankModel.train(noisy, { threads: 1 });
    try {
      assert.equal(model.meta.noiseFloor, within);
    } finally {
      model.free();
    }
  });

  it('updates what it says of a shown artist by its record, as far as the measured noise allows', () => {
    const base = RankModel.train(set, { threads: 1 });
    // The same model with a chosen per-day noise (and none recorded, as models saved before it).
    const withNoise = (noise: number | undefined) => {
      const doc = JSON.parse(base.toJson()) as { meta: Record<string, unknown> };
      doc.meta.sigmaByEvidence = [0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.05];
      if (noise === undefined) delete doc.meta.noiseFloor;
      else doc.meta.noiseFloor = noise;
      return RankModel.fromJson(JSON.stringify(doc));
    };
    const artists: ArtistInfo[] = ['hi', 'lo', 'mid', 'new'].map((id) => ({
      id,
      genre: 'pop',
      popularity: 0.5,
      trend: 0,
      embedding: null,
    }));
    const templates = [
      { id: 'a', theme: 'portrait' },
      { id: 'b', theme: 'graphic' },
    ];
    // Ten days in template a: 'hi' converts three times as well as 'mid', 'lo' half as well.
    const lookback: CreativeDay[] = [];
    for (let d = 1; d <= 10; d++) {
      for (const [artistId, registrations] of [
        ['hi', 90],
        ['lo', 15],
        ['mid', 30],
      ] as const) {
        lookback.push({
          market: 'SE',
          date: `2026-01-${String(d).padStart(2, '0')}`,
          artistId,
          templateId: 'a',
          daysLive: 0,
          impressions: 10_000,
          clicks: 300,
          spend: 1_000,
          registrations,
          subscriptions: 0,
        });
      }
    }
    const input = { artists, templates, lookback, live: new Map<string, number>() };
    const select = { slots: 2, limit: 4, explorationShare: 0, random: keyed(1, 'view') };
    const gap = (model: RankModel, template: string) => {
      const view = policyView({ ...input, model, select });
      return view.expectedRate('hi', template) / view.expectedRate('lo', template);
    };
    const quiet = withNoise(0.01);
    const noisy = withNoise(100);
    const old = withNoise(undefined);
    try {
      // Little noise: the record decides, in the template it ran in and, through the artist, in
      // the other; the unseen prior is the same for all three (same popularity and genre).
      assert.ok(gap(quiet, 'a') > 4, `quiet a: ${gap(quiet, 'a')}`);
      assert.ok(gap(quiet, 'b') > 4, `quiet b: ${gap(quiet, 'b')}`);
      // So much noise that ten days say little: close to the prior, which does not tell them apart.
      assert.ok(gap(noisy, 'a') < 1.5, `noisy a: ${gap(noisy, 'a')}`);
      const picked = rankWithModel({ ...input, model: quiet, select });
      assert.equal(picked[0]!.artistId, 'hi');
      assert.ok('own_record' in picked[0]!.reasons);
      // A model without a measured noise ranks as it did: no update, no such reason.
      assert.ok(
        rankWithModel({ ...input, model: old, select }).every((p) => !('own_record' in p.reasons)),
      );
    } finally {
      for (const m of [base, quiet, noisy, old]) m.free();
    }
  });

  it('measures the prior variance from how far artists ran from it, beyond the records own noise', () => {
    // 400 artists whose true rates sit around the prior with variance 0.25, each record carrying
    // noise 0.5 per day over 1 to 10 days.
    const random = keyed(7, 'prior-variance');
    const artists = Array.from({ length: 400 }, () => {
      const days = 1 + Math.floor(random() * 10);
      const truth = 0.5 * normal(random);
      const logRelRate = -0.2 + truth + Math.sqrt(0.5 / days) * normal(random);
      return { record: { days, logRelRate }, prior: -0.2 };
    });
    const measured = priorVarianceFromRecords(artists, 0.5)!;
    assert.ok(Math.abs(measured - 0.25) < 0.07, `${measured}`);
    // The records' noise is not the prior's: counted as noise, it is taken out.
    assert.ok(priorVarianceFromRecords(artists, 0)! > measured + 0.1);
    // Records exactly at their priors: as certain as allowed, never negative.
    const exact = artists.map((a) => ({ ...a, record: { ...a.record, logRelRate: a.prior } }));
    assert.equal(priorVarianceFromRecords(exact, 0.5), 1e-4);
    // Too few artists to say.
    assert.equal(priorVarianceFromRecords(artists.slice(0, MIN_PRIOR_ARTISTS - 1), 0.5), null);
    assert.notEqual(priorVarianceFromRecords(artists.slice(0, MIN_PRIOR_ARTISTS), 0.5), null);
  });

  it('is as unsure of an unseen artist as the market records say the model is', () => {
    const doc = JSON.parse(RankModel.train(set, { threads: 1 }).toJson()) as {
      meta: Record<string, unknown>;
    };
    doc.meta.sigmaByEvidence = [0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.05];
    doc.meta.noiseFloor = 0.01;
    const model = RankModel.fromJson(JSON.stringify(doc));
    const ids = Array.from({ length: 12 }, (_, i) => `ran${i}`);
    const artists: ArtistInfo[] = [...ids, 'new'].map((id) => ({
      id,
      genre: 'pop',
      popularity: 0.5,
      trend: 0,
      embedding: null,
    }));
    const templates = [{ id: 'a', theme: 'portrait' }];
    // Twelve artists alike in everything the model reads, ten days each: in one market they
    // convert alike, in the other a third of them three times as well and a third a third as well.
    const market = (spread: boolean): CreativeDay[] =>
      ids.flatMap((artistId, i) =>
        Array.from({ length: 10 }, (_, d) => ({
          market: 'SE',
          date: `2026-01-${String(d + 1).padStart(2, '0')}`,
          artistId,
          templateId: 'a',
          daysLive: d,
          impressions: 10_000,
          clicks: 300,
          spend: 1_000,
          registrations: spread ? [90, 30, 10][i % 3]! : 30,
          subscriptions: 0,
        })),
      );
    const sigmaOfNew = (spread: boolean) => {
      const items = rankWithModel({
        artists,
        templates,
        lookback: market(spread),
        live: new Map(),
        model,
        select: { slots: 13, limit: 13, explorationShare: 0, random: keyed(1, 'unseen') },
      });
      const item = items.find((i) => i.artistId === 'new')!;
      return item.sigma / item.score;
    };
    try {
      assert.ok(
        sigmaOfNew(true) > 2 * sigmaOfNew(false),
        `${sigmaOfNew(true)} ${sigmaOfNew(false)}`,
      );
    } finally {
      model.free();
    }
  });

  it('says a challenger replaces the champion unmeasured when too few days can be held out', () => {
    const early = trainingRowsWhere(set, (d) => d < '2026-01-04');
    assert.ok(early.rows >= MIN_TRAINING_ROWS, `${early.rows} rows`);
    const outcome = trainChallenger(early, { version: 1, artifact: null }, { threads: 1 });
    assert.ok(outcome.trained);
    try {
      assert.equal(outcome.promote, true);
      assert.match(outcome.reason, /^replaces v1 unmeasured: 3 days of rows, too few to hold/);
    } finally {
      outcome.challenger.free();
    }
  });

  it('goes live refit on the whole window once promoted: the held-out days decide, then teach', () => {
    // Nine days: the last three are held out to decide on promotion (no champion: promoted).
    const trained = trainChallenger(set, null, { threads: 1 });
    assert.ok(trained.trained && trained.promote);
    assert.equal(trained.params.heldOutFrom, '2026-01-07');
    const sawBefore = trained.challenger.meta.trainRows + trained.challenger.meta.validationRows;
    assert.ok(sawBefore < rows, 'the decision was taken on a model without the held-out days');
    const live = refitOnWindow(trained, set);
    assert.ok(live.trained && live.promote);
    try {
      assert.equal(live.challenger.meta.trainRows + live.challenger.meta.validationRows, rows);
      assert.equal(live.metrics.refitRows, rows);
      assert.equal(live.metrics.heldOutRmse, trained.metrics.heldOutRmse, 'the decision kept');
      // The same training, on every row of the window.
      const direct = RankModel.train(set, { threads: 1 });
      try {
        assert.deepEqual(
          live.challenger.predictRate(features, rows).rate,
          direct.predictRate(features, rows).rate,
        );
      } finally {
        direct.free();
      }
    } finally {
      live.challenger.free();
    }
    // A challenger that is not promoted is kept as it was measured.
    const measured = trainChallenger(set, null, { threads: 1 });
    assert.ok(measured.trained);
    const refused = { ...measured, promote: false };
    try {
      assert.equal(refitOnWindow(refused, set), refused);
    } finally {
      measured.challenger.free();
    }
  });

  it('round-trips through JSON and refuses documents that are not its models', () => {
    const model = RankModel.train(set, { threads: 1 });
    const json = model.toJson();
    const again = RankModel.fromJson(json);
    try {
      assert.deepEqual(
        again.predictRate(features, rows).rate,
        model.predictRate(features, rows).rate,
      );
      const doc = JSON.parse(json) as { meta: { linear: unknown } };
      doc.meta.linear = { features: ['nonsense'], intercept: 0, coef: [1] };
      assert.throws(() => RankModel.fromJson(JSON.stringify(doc)), /linear part/);
      assert.throws(
        () => RankModel.fromJson('{"format":"adloop-rank-model/1"}'),
        /not an adloop ranking model/,
      );
    } finally {
      model.free();
      again.free();
    }
  });
});
