import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Booster, DMatrix, XGBoostError, xgboostVersion } from '../../ml/xgboost.ts';

const MODULE = path.resolve(import.meta.dirname, '../../ml/xgboost.ts');
const CLI = '/usr/bin/xgboost';

/** mulberry32: small, seedable, identical on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Data {
  x: Float32Array;
  y: Float32Array;
  rows: number;
  cols: number;
}

/**
 * y = 2*x0 - x1 + noise over `cols` features in [-4, 4). Values are multiples of 1/64 plus 1/128,
 * so they are exact in float32 and in decimal (a CSV round trip loses nothing) and never 0.
 */
function regression(rows: number, cols: number, seed: number, missingRate = 0): Data {
  const rnd = random(seed);
  const x = new Float32Array(rows * cols);
  const y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) x[i * cols + j] = (Math.floor(rnd() * 512) - 256) / 64 + 1 / 128;
    const x0 = x[i * cols] ?? 0;
    const x1 = x[i * cols + 1] ?? 0;
    y[i] = Math.round((2 * x0 - x1 + (rnd() - 0.5)) * 64) / 64;
    for (let j = 0; j < cols; j++) if (rnd() < missingRate) x[i * cols + j] = NaN;
  }
  return { x, y, rows, cols };
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let [sa, sb, saa, sbb, sab] = [0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const [u, v] = [a[i] ?? 0, b[i] ?? 0];
    [sa, sb, saa, sbb, sab] = [sa + u, sb + v, saa + u * u, sbb + v * v, sab + u * v];
  }
  return (n * sab - sa * sb) / Math.sqrt((n * saa - sa * sa) * (n * sbb - sb * sb));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adloop-xgb-'));
  tempDirs.push(dir);
  return dir;
}

describe('xgboost binding', () => {
  after(() => {
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loads libxgboost 1.7', () => {
    assert.match(xgboostVersion(), /^1\.7\.\d+$/);
  });

  it('trains a regression, round-trips it, explains it', () => {
    const names = ['x0', 'x1', 'x2', 'x3', 'x4'];
    const train = regression(2000, 5, 1, 0.05);
    const test = regression(500, 5, 2, 0.05);
    const dtrain = DMatrix.fromDense(train.x, train.rows, train.cols, {
      labels: train.y,
      featureNames: names,
    });
    const dtest = DMatrix.fromDense(test.x, test.rows, test.cols, { featureNames: names });
    const { booster, history } = Booster.train(
      { objective: 'reg:squarederror', max_depth: 4, eta: 0.2, nthread: 1, seed: 0 },
      dtrain,
      { rounds: 60, evals: [{ name: 'train', data: dtrain }] },
    );
    try {
      assert.equal(dtrain.numRows(), 2000);
      assert.equal(dtrain.numCols(), 5);
      assert.equal(history.length, 60);
      assert.ok((history[59]?.['train-rmse'] ?? 1) < (history[0]?.['train-rmse'] ?? 0));
      assert.equal(booster.numFeatures(), 5);
      assert.equal(booster.boostedRounds(), 60);

      const pred = booster.predict(dtest);
      assert.equal(pred.length, 500);
      const r = correlation(pred, test.y);
      assert.ok(r > 0.95, `correlation with truth ${r}`);
      assert.deepEqual(booster.predictDense(test.x, test.rows, test.cols), pred);

      const loaded = Booster.loadJson(booster.saveJson());
      assert.deepEqual(loaded.predict(dtest), pred);
      loaded.free();
      const file = path.join(tempDir(), 'model.json');
      booster.saveFile(file);
      const fromFile = Booster.loadFile(file);
      assert.deepEqual(fromFile.predict(dtest), pred);
      assert.deepEqual(Object.keys(fromFile.featureImportance()).sort(), names);
      fromFile.free();

      const gain = booster.featureImportance();
      const ranked = Object.entries(gain).sort((a, b) => b[1] - a[1]);
      assert.deepEqual(
        ranked.slice(0, 2).map(([k]) => k),
        ['x0', 'x1'],
      );
      assert.ok((booster.featureImportance('weight').x0 ?? 0) >= 1);

      const margin = booster.predict(dtest, { outputMargin: true });
      const shap = booster.contributions(dtest);
      assert.equal(shap.length, 500 * 6);
      for (let i = 0; i < 500; i++) {
        const sum = shap.subarray(i * 6, i * 6 + 6).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - (margin[i] ?? 0)) < 1e-4, `row ${i}: ${sum} vs ${margin[i]}`);
      }
    } finally {
      booster.free();
      dtrain.free();
      dtest.free();
    }
  });

  it('stops early and keeps only the rounds up to the best one', () => {
    const train = regression(300, 5, 3);
    const valid = regression(12, 5, 4);
    // Labels unrelated to the features: the deep trees fit noise, and the validation error rises.
    valid.y.reverse();
    const dtrain = DMatrix.fromDense(train.x, train.rows, train.cols, { labels: train.y });
    const dvalid = DMatrix.fromDense(valid.x, valid.rows, valid.cols, { labels: valid.y });
    const seen: number[] = [];
    const rounds = 300;
    const result = Booster.train(
      { objective: 'reg:squarederror', max_depth: 8, eta: 0.5, nthread: 1 },
      dtrain,
      {
        rounds,
        evals: [
          { name: 'train', data: dtrain },
          { name: 'valid', data: dvalid },
        ],
        earlyStoppingRounds: 5,
        onIteration: (i) => seen.push(i),
      },
    );
    try {
      const { booster, bestIteration, bestScore, history } = result;
      assert.ok(history.length < rounds, `trained ${history.length} rounds`);
      assert.ok(bestIteration < rounds - 1);
      assert.equal(history.length, bestIteration + 1 + 5);
      assert.equal(seen.length, history.length);
      assert.equal(bestScore, history[bestIteration]?.['valid-rmse']);
      const best = Math.min(...history.map((h) => h['valid-rmse'] ?? Infinity));
      assert.equal(bestScore, best);
      assert.equal(booster.boostedRounds(), bestIteration + 1);
    } finally {
      result.booster.free();
      dtrain.free();
      dvalid.free();
    }
  });

  it('maximizes AUC when early stopping on it', () => {
    const flip = random(10);
    // A fifth of the labels flipped: the trees soon fit noise and the validation AUC moves.
    const binary = (d: Data) => d.y.map((v) => (v > 0 !== flip() < 0.2 ? 1 : 0));
    const train = regression(300, 5, 8);
    const valid = regression(40, 5, 9);
    const dtrain = DMatrix.fromDense(train.x, train.rows, train.cols, { labels: binary(train) });
    const dvalid = DMatrix.fromDense(valid.x, valid.rows, valid.cols, { labels: binary(valid) });
    const { booster, bestScore, history } = Booster.train(
      { objective: 'binary:logistic', eval_metric: ['auc', 'logloss'], max_depth: 6, nthread: 1 },
      dtrain,
      { rounds: 200, evals: [{ name: 'valid', data: dvalid }], earlyStoppingRounds: 3 },
    );
    try {
      assert.deepEqual(Object.keys(history[0] ?? {}), ['valid-auc', 'valid-logloss']);
      const auc = history.map((h) => h['valid-auc'] ?? NaN);
      assert.ok(new Set(auc).size > 1, `AUC never moved: ${auc.join(' ')}`);
      assert.equal(bestScore, Math.max(...auc));
    } finally {
      booster.free();
      dtrain.free();
      dvalid.free();
    }
  });

  it('reports errors clearly', () => {
    const data = regression(50, 3, 5);
    const m = DMatrix.fromDense(data.x, 50, 3, { labels: data.y });

    assert.throws(
      () => Booster.train({ objective: 'reg:nonsense' }, m, { rounds: 3 }),
      (err: unknown) =>
        err instanceof XGBoostError &&
        /Unknown objective function/.test(err.message) &&
        /objective=reg:nonsense/.test(err.message),
    );
    assert.throws(
      () => DMatrix.fromDense(new Float32Array(5), 2, 3),
      /data has 5 values but rows x cols = 2 x 3 = 6/,
    );
    assert.throws(() => m.setLabels(new Float32Array(49)), /49 labels for a DMatrix of 50 rows/);

    const { booster } = Booster.train({ nthread: 1 }, m, { rounds: 2 });
    booster.free();
    booster.free();
    assert.throws(() => booster.predict(m), /Booster used after free\(\)/);
    m.free();
    m.free();
    assert.throws(
      () => m.numRows(),
      (err: unknown) => err instanceof XGBoostError,
    );
    assert.throws(() => m.numRows(), /DMatrix used after free\(\)/);
  });

  it('says how to install libxgboost when it cannot be loaded', () => {
    const script = `
      const m = await import(${JSON.stringify(pathToFileURL(MODULE).href)});
      m.useXgboostLibrary('/nonexistent/libxgboost.so');
      console.log(JSON.stringify({ available: m.xgboostAvailable() }));
      try { m.xgboostVersion(); } catch (e) { console.log(e.name + ': ' + e.message); }`;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /"available":false/);
    assert.match(
      child.stdout,
      /XGBoostError: cannot load libxgboost; tried: \/nonexistent\/libxgboost\.so/,
    );
    assert.match(child.stdout, /apt-get install -y libxgboost0\) or set XGBOOST_LIBRARY_PATH/);
  });

  it("agrees with Debian's xgboost CLI on the same data", (t) => {
    if (!fs.existsSync(CLI)) {
      t.skip(`${CLI} is absent (apt-get install -y xgboost)`);
      return;
    }
    const dir = tempDir();
    const train = regression(1000, 6, 6);
    const test = regression(300, 6, 7);
    const csv = (d: Data) => {
      const lines: string[] = [];
      for (let i = 0; i < d.rows; i++) {
        lines.push([d.y[i], ...d.x.subarray(i * d.cols, (i + 1) * d.cols)].join(','));
      }
      return lines.join('\n') + '\n';
    };
    fs.writeFileSync(path.join(dir, 'train.csv'), csv(train));
    fs.writeFileSync(path.join(dir, 'test.csv'), csv(test));
    const params = {
      booster: 'gbtree',
      objective: 'reg:squarederror',
      tree_method: 'hist',
      eta: 0.3,
      max_depth: 4,
      nthread: 1,
      seed: 0,
    };
    const conf = (name: string, entries: Record<string, string | number>) => {
      const text = Object.entries(entries).map(([k, v]) => `${k} = ${v}`);
      fs.writeFileSync(path.join(dir, name), text.join('\n') + '\n');
      const run = spawnSync(CLI, [name], { cwd: dir, encoding: 'utf8' });
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    };
    conf('train.conf', {
      ...params,
      num_round: 25,
      data: '"train.csv?format=csv&label_column=0"',
      model_out: 'cli.json',
    });
    conf('pred.conf', {
      task: 'pred',
      model_in: 'cli.json',
      'test:data': '"test.csv?format=csv&label_column=0"',
      name_pred: 'pred.txt',
    });
    const cliPred = fs
      .readFileSync(path.join(dir, 'pred.txt'), 'utf8')
      .trim()
      .split('\n')
      .map(Number);

    const dtrain = DMatrix.fromDense(train.x, train.rows, train.cols, { labels: train.y });
    const dtest = DMatrix.fromDense(test.x, test.rows, test.cols);
    const { booster } = Booster.train(params, dtrain, { rounds: 25 });
    const cliModel = Booster.loadFile(path.join(dir, 'cli.json'));
    try {
      assert.ok(maxAbsDiff(booster.predict(dtest), cliPred) < 1e-5);
      assert.ok(maxAbsDiff(cliModel.predict(dtest), cliPred) < 1e-5);
      assert.ok(Object.keys(cliModel.featureImportance()).every((k) => /^f[0-5]$/.test(k)));
      // Same data, same parameters, one thread: the CLI and the binding write the same bytes.
      booster.saveFile(path.join(dir, 'binding.json'));
      assert.ok(
        fs
          .readFileSync(path.join(dir, 'binding.json'))
          .equals(fs.readFileSync(path.join(dir, 'cli.json'))),
        'model files are byte-identical',
      );
    } finally {
      booster.free();
      cliModel.free();
      dtrain.free();
      dtest.free();
    }
  });
});
