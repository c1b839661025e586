// Typed binding to XGBoost's C API (libxgboost 1.7) through koffi. The library is loaded on first
// use, so importing this module never fails on machines without XGBoost; only calling it does.
import { Buffer } from 'node:buffer';
import koffi from 'koffi';

export class XGBoostError extends Error {
  override name = 'XGBoostError';
}

/** A koffi External wrapping a native pointer. */
type Pointer = object;
/** koffi writes an output parameter into element 0 of a one-element array. */
type Out<T> = [T | null];

// Write `unsigned int`, never bare `unsigned`, which koffi's parser does not know.
// XGBoost's bst_ulong is uint64.
const PROTOTYPES = {
  XGBGetLastError: 'const char *XGBGetLastError()',
  XGBoostVersion: 'void XGBoostVersion(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)',
  XGDMatrixCreateFromMat:
    'int XGDMatrixCreateFromMat(const float *data, uint64 nrow, uint64 ncol, float missing, _Out_ void **out)',
  XGDMatrixFree: 'int XGDMatrixFree(void *handle)',
  XGDMatrixSetFloatInfo:
    'int XGDMatrixSetFloatInfo(void *handle, const char *field, const float *array, uint64 len)',
  XGDMatrixSetStrFeatureInfo:
    'int XGDMatrixSetStrFeatureInfo(void *handle, const char *field, const char **features, uint64 size)',
  XGDMatrixNumRow: 'int XGDMatrixNumRow(void *handle, _Out_ uint64 *out)',
  XGDMatrixNumCol: 'int XGDMatrixNumCol(void *handle, _Out_ uint64 *out)',
  XGBoosterCreate: 'int XGBoosterCreate(void **dmats, uint64 len, _Out_ void **out)',
  XGBoosterFree: 'int XGBoosterFree(void *handle)',
  XGBoosterSetParam: 'int XGBoosterSetParam(void *handle, const char *name, const char *value)',
  XGBoosterSetStrFeatureInfo:
    'int XGBoosterSetStrFeatureInfo(void *handle, const char *field, const char **features, uint64 size)',
  XGBoosterUpdateOneIter: 'int XGBoosterUpdateOneIter(void *handle, int iter, void *dtrain)',
  XGBoosterEvalOneIter:
    'int XGBoosterEvalOneIter(void *handle, int iter, void **dmats, const char **names, uint64 len, _Out_ const char **out)',
  XGBoosterSlice:
    'int XGBoosterSlice(void *handle, int begin, int end, int step, _Out_ void **out)',
  XGBoosterBoostedRounds: 'int XGBoosterBoostedRounds(void *handle, _Out_ int *out)',
  XGBoosterGetNumFeature: 'int XGBoosterGetNumFeature(void *handle, _Out_ uint64 *out)',
  XGBoosterPredictFromDMatrix:
    'int XGBoosterPredictFromDMatrix(void *handle, void *dmat, const char *config, _Out_ void **shape, _Out_ uint64 *dim, _Out_ void **result)',
  XGBoosterPredictFromDense:
    'int XGBoosterPredictFromDense(void *handle, const char *values, const char *config, void *proxy, _Out_ void **shape, _Out_ uint64 *dim, _Out_ void **result)',
  XGBoosterSaveModelToBuffer:
    'int XGBoosterSaveModelToBuffer(void *handle, const char *config, _Out_ uint64 *len, _Out_ void **data)',
  XGBoosterLoadModelFromBuffer:
    'int XGBoosterLoadModelFromBuffer(void *handle, const void *buf, uint64 len)',
  XGBoosterSaveModel: 'int XGBoosterSaveModel(void *handle, const char *fname)',
  XGBoosterLoadModel: 'int XGBoosterLoadModel(void *handle, const char *fname)',
  XGBoosterFeatureScore:
    'int XGBoosterFeatureScore(void *handle, const char *config, _Out_ uint64 *n, _Out_ void **names, _Out_ uint64 *dim, _Out_ void **shape, _Out_ void **scores)',
} as const;

type Prediction = [shape: Out<Pointer>, dim: Out<number>, result: Out<Pointer>];

interface Api {
  XGBGetLastError(): string;
  XGBoostVersion(major: Out<number>, minor: Out<number>, patch: Out<number>): void;
  XGDMatrixCreateFromMat(
    data: Float32Array,
    rows: number,
    cols: number,
    missing: number,
    out: Out<Pointer>,
  ): number;
  XGDMatrixFree(h: Pointer): number;
  XGDMatrixSetFloatInfo(h: Pointer, field: string, data: Float32Array, len: number): number;
  XGDMatrixSetStrFeatureInfo(h: Pointer, field: string, values: string[], len: number): number;
  XGDMatrixNumRow(h: Pointer, out: Out<number>): number;
  XGDMatrixNumCol(h: Pointer, out: Out<number>): number;
  XGBoosterCreate(dmats: Pointer[] | null, len: number, out: Out<Pointer>): number;
  XGBoosterFree(h: Pointer): number;
  XGBoosterSetParam(h: Pointer, name: string, value: string): number;
  XGBoosterSetStrFeatureInfo(h: Pointer, field: string, values: string[], len: number): number;
  XGBoosterUpdateOneIter(h: Pointer, iter: number, dtrain: Pointer): number;
  XGBoosterEvalOneIter(
    h: Pointer,
    iter: number,
    dmats: Pointer[],
    names: string[],
    len: number,
    out: Out<string>,
  ): number;
  XGBoosterSlice(h: Pointer, begin: number, end: number, step: number, out: Out<Pointer>): number;
  XGBoosterBoostedRounds(h: Pointer, out: Out<number>): number;
  XGBoosterGetNumFeature(h: Pointer, out: Out<number>): number;
  XGBoosterPredictFromDMatrix(h: Pointer, m: Pointer, config: string, ...out: Prediction): number;
  XGBoosterPredictFromDense(
    h: Pointer,
    values: string,
    config: string,
    proxy: null,
    ...out: Prediction
  ): number;
  XGBoosterSaveModelToBuffer(
    h: Pointer,
    config: string,
    len: Out<number>,
    data: Out<Pointer>,
  ): number;
  XGBoosterLoadModelFromBuffer(h: Pointer, buf: Buffer, len: number): number;
  XGBoosterSaveModel(h: Pointer, path: string): number;
  XGBoosterLoadModel(h: Pointer, path: string): number;
  XGBoosterFeatureScore(
    h: Pointer,
    config: string,
    n: Out<number>,
    names: Out<Pointer>,
    dim: Out<number>,
    shape: Out<Pointer>,
    scores: Out<Pointer>,
  ): number;
}

let loaded: Api | null = null;
let explicitPath: string | undefined;

/**
 * Which libxgboost this process loads: a file (XGBOOST_LIBRARY_PATH, from the configuration), or
 * undefined for the system's. Set by each entrypoint before the first use; the library, once
 * loaded, stays for the process's life.
 */
export function useXgboostLibrary(path: string | undefined): void {
  if (loaded && path !== explicitPath)
    throw new XGBoostError(`libxgboost is already loaded from another place; set its path first`);
  explicitPath = path;
}

function libraryCandidates(): string[] {
  // An explicit path is a decision: falling back to another copy would hide a misconfiguration.
  if (explicitPath) return [explicitPath];
  const multiarch = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  return [
    'libxgboost.so.0',
    'libxgboost.so',
    `/usr/lib/${multiarch}/libxgboost.so.0`,
    `/usr/lib/${multiarch}/libxgboost.so`,
    '/usr/local/lib/libxgboost.so',
  ];
}

function api(): Api {
  if (loaded) return loaded;
  const failures: string[] = [];
  for (const path of libraryCandidates()) {
    let lib: koffi.IKoffiLib;
    try {
      lib = koffi.load(path);
    } catch (err) {
      failures.push(`${path} (${err instanceof Error ? err.message : String(err)})`);
      continue;
    }
    const fns = Object.entries(PROTOTYPES).map(([name, proto]) => [name, lib.func(proto)]);
    loaded = Object.fromEntries(fns) as Api;
    return loaded;
  }
  throw new XGBoostError(
    `cannot load libxgboost; tried: ${failures.join('; ')}. ` +
      `Install Debian's libxgboost0 (apt-get install -y libxgboost0) or set XGBOOST_LIBRARY_PATH`,
  );
}

type Checked = {
  [K in keyof Api]: Api[K] extends (...args: never[]) => number ? K : never;
}[keyof Api];

/** Every C call goes through here so no return code is ever ignored. */
function call<K extends Checked>(name: K, ...args: Parameters<Api[K]>): void {
  const fn = api()[name] as (...a: Parameters<Api[K]>) => number;
  if (fn(...args) === 0) return;
  // The native backtrace that follows XGBoost's message means nothing to a caller.
  const message = api().XGBGetLastError().split('\nStack trace:')[0]?.trim();
  throw new XGBoostError(`${name} failed: ${message}`);
}

function value<T>(out: Out<T>, what: string): T {
  if (out[0] === null) throw new XGBoostError(`${what} returned nothing`);
  return out[0];
}

/** Copies native memory: XGBoost reuses its output buffers on the next call on the same booster. */
function copyFloats(ptr: Pointer, length: number): Float32Array {
  return length === 0 ? new Float32Array(0) : new Float32Array(koffi.view(ptr, length * 4)).slice();
}

function predictionOutput([shape, dim, result]: Prediction): Float32Array {
  const dims = koffi.decode(value(shape, 'shape'), 'uint64', value(dim, 'dim')) as number[];
  return copyFloats(
    value(result, 'prediction'),
    dims.reduce((a, b) => a * Number(b), 1),
  );
}

export function xgboostAvailable(): boolean {
  try {
    api();
    return true;
  } catch {
    return false;
  }
}

/** The loaded library's version, e.g. "1.7.4". */
export function xgboostVersion(): string {
  const parts: [Out<number>, Out<number>, Out<number>] = [[null], [null], [null]];
  api().XGBoostVersion(...parts);
  return parts.map((p) => p[0]).join('.');
}

type FreeFn = 'XGDMatrixFree' | 'XGBoosterFree';

// Safety net for handles the caller forgot to free(); explicit free() stays the rule because the
// collector knows nothing of the native memory behind a handle and may run late or never.
const leaks = new FinalizationRegistry<{ free: FreeFn; handle: Pointer }>(({ free, handle }) => {
  api()[free](handle);
});

abstract class NativeObject {
  #handle: Pointer | null;

  protected constructor(
    handle: Pointer,
    private readonly freeFn: FreeFn,
  ) {
    this.#handle = handle;
    leaks.register(this, { free: freeFn, handle }, this);
  }

  /** @internal */
  get handle(): Pointer {
    if (!this.#handle) throw new XGBoostError(`${this.constructor.name} used after free()`);
    return this.#handle;
  }

  /** Releases the native handle. Safe to call twice. */
  free(): void {
    if (!this.#handle) return;
    const handle = this.#handle;
    this.#handle = null;
    leaks.unregister(this);
    call(this.freeFn, handle);
  }
}

export interface DenseOptions {
  /** Value that marks a missing entry. Default NaN. */
  missing?: number;
  labels?: Float32Array;
  weights?: Float32Array;
  featureNames?: string[];
}

export class DMatrix extends NativeObject {
  #featureNames: readonly string[] | undefined;

  private constructor(handle: Pointer) {
    super(handle, 'XGDMatrixFree');
  }

  /** A DMatrix over a row-major rows x cols matrix (XGBoost copies the data). */
  static fromDense(
    data: Float32Array,
    rows: number,
    cols: number,
    opts: DenseOptions = {},
  ): DMatrix {
    checkShape('DMatrix.fromDense', data, rows, cols);
    const out: Out<Pointer> = [null];
    call('XGDMatrixCreateFromMat', data, rows, cols, opts.missing ?? NaN, out);
    const m = new DMatrix(value(out, 'XGDMatrixCreateFromMat'));
    try {
      if (opts.labels) m.setLabels(opts.labels);
      if (opts.weights) m.setWeights(opts.weights);
      if (opts.featureNames) m.setFeatureNames(opts.featureNames);
    } catch (err) {
      m.free();
      throw err;
    }
    return m;
  }

  get featureNames(): readonly string[] | undefined {
    return this.#featureNames;
  }

  setLabels(labels: Float32Array): void {
    this.#setFloatInfo('label', labels);
  }

  setWeights(weights: Float32Array): void {
    this.#setFloatInfo('weight', weights);
  }

  setFeatureNames(names: string[]): void {
    const cols = this.numCols();
    if (names.length !== cols) {
      throw new XGBoostError(`${names.length} feature names for a DMatrix of ${cols} columns`);
    }
    call('XGDMatrixSetStrFeatureInfo', this.handle, 'feature_name', names, names.length);
    this.#featureNames = Object.freeze([...names]);
  }

  numRows(): number {
    const out: Out<number> = [null];
    call('XGDMatrixNumRow', this.handle, out);
    return Number(value(out, 'XGDMatrixNumRow'));
  }

  numCols(): number {
    const out: Out<number> = [null];
    call('XGDMatrixNumCol', this.handle, out);
    return Number(value(out, 'XGDMatrixNumCol'));
  }

  #setFloatInfo(field: 'label' | 'weight', values: Float32Array): void {
    const rows = this.numRows();
    if (values.length !== rows) {
      throw new XGBoostError(`${values.length} ${field}s for a DMatrix of ${rows} rows`);
    }
    call('XGDMatrixSetFloatInfo', this.handle, field, values, values.length);
  }
}

function checkShape(where: string, data: Float32Array, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new XGBoostError(`${where}: rows and cols must be non-negative integers`);
  }
  if (data.length !== rows * cols) {
    throw new XGBoostError(
      `${where}: data has ${data.length} values but rows x cols = ${rows} x ${cols} = ${rows * cols}`,
    );
  }
}

export type ParamValue = string | number | boolean;
/** An array sets the parameter once per element (XGBoost appends repeated eval_metric values). */
export type Params = Record<string, ParamValue | readonly ParamValue[]>;
export type ImportanceType = 'weight' | 'gain' | 'cover' | 'total_gain' | 'total_cover';

export interface TrainOptions {
  rounds: number;
  evals?: Array<{ name: string; data: DMatrix }>;
  /** Stop when the last eval set's first metric has not improved for this many rounds. */
  earlyStoppingRounds?: number;
  onIteration?: (iteration: number, scores: Record<string, number>) => void;
}

export interface TrainResult {
  booster: Booster;
  /** With early stopping, the best round (0-based); without it, the last round trained. */
  bestIteration: number;
  /** The early-stopping metric at bestIteration; null without early stopping. */
  bestScore: number | null;
  /** Evaluation scores per round, keyed like "valid-rmse". */
  history: Array<Record<string, number>>;
}

const MAXIMIZED = /^(auc|aucpr|map|ndcg|pre)(@|-|$)/;

function paramString(v: ParamValue): string {
  return typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
}

/** Parses "[3]\ttrain-rmse:0.1\tvalid-rmse:0.2" into [["train-rmse", 0.1], ["valid-rmse", 0.2]]. */
function parseEval(line: string): Array<[string, number]> {
  return line
    .trim()
    .split('\t')
    .slice(1)
    .map((field) => {
      const colon = field.lastIndexOf(':');
      return [field.slice(0, colon), Number(field.slice(colon + 1))];
    });
}

export class Booster extends NativeObject {
  private constructor(handle: Pointer) {
    super(handle, 'XGBoosterFree');
  }

  static #create(cache: DMatrix[]): Booster {
    const out: Out<Pointer> = [null];
    const handles = cache.map((m) => m.handle);
    call('XGBoosterCreate', handles.length ? handles : null, handles.length, out);
    return new Booster(value(out, 'XGBoosterCreate'));
  }

  static train(params: Params, dtrain: DMatrix, opts: TrainOptions): TrainResult {
    const { rounds, evals = [], earlyStoppingRounds, onIteration } = opts;
    if (!Number.isInteger(rounds) || rounds < 1) {
      throw new XGBoostError(`rounds must be a positive integer, got ${rounds}`);
    }
    if (earlyStoppingRounds !== undefined && evals.length === 0) {
      throw new XGBoostError('earlyStoppingRounds needs at least one eval set');
    }
    let booster = Booster.#create([dtrain, ...evals.map((e) => e.data)]);
    try {
      // As XGBoost's Python package does: warn about parameters nobody reads (typos).
      if (!('validate_parameters' in params)) booster.setParam('validate_parameters', true);
      for (const [name, v] of Object.entries(params)) booster.setParam(name, v);
      if (dtrain.featureNames) booster.#setFeatureNames(dtrain.featureNames);

      const history: Array<Record<string, number>> = [];
      const stopSet = evals.at(-1)?.name ?? '';
      let bestIteration = -1;
      let bestScore: number | null = null;
      for (let i = 0; i < rounds; i++) {
        try {
          call('XGBoosterUpdateOneIter', booster.handle, i, dtrain.handle);
        } catch (err) {
          // XGBoost only validates parameters here, so say which ones were given.
          if (i > 0 || !(err instanceof XGBoostError)) throw err;
          const given = Object.entries(params).map(([k, v]) => `${k}=${String(v)}`);
          throw new XGBoostError(`training with params {${given.join(', ')}}: ${err.message}`, {
            cause: err,
          });
        }
        let entries: Array<[string, number]> = [];
        if (evals.length) {
          const out: Out<string> = [null];
          const names = evals.map((e) => e.name);
          const mats = evals.map((e) => e.data.handle);
          call('XGBoosterEvalOneIter', booster.handle, i, mats, names, evals.length, out);
          entries = parseEval(value(out, 'XGBoosterEvalOneIter'));
        }
        const scores = Object.fromEntries(entries);
        history.push(scores);
        onIteration?.(i, scores);
        if (earlyStoppingRounds === undefined) continue;

        // XGBoost lists every metric for each set in order, so the last set's first metric sits at
        // a fixed position; matching by name would confuse sets named "valid" and "valid-2".
        const [key, score] = entries[(entries.length / evals.length) * (evals.length - 1)] ?? [];
        if (key === undefined || score === undefined) {
          throw new XGBoostError(
            `cannot read the early-stopping metric from ${entries.length} scores`,
          );
        }
        const maximize = MAXIMIZED.test(key.slice(stopSet.length + 1));
        if (
          bestScore === null ||
          Number.isNaN(bestScore) ||
          (maximize ? score > bestScore : score < bestScore)
        ) {
          [bestIteration, bestScore] = [i, score];
        } else if (i - bestIteration >= earlyStoppingRounds) {
          break;
        }
      }

      if (earlyStoppingRounds === undefined)
        return { booster, bestIteration: rounds - 1, bestScore, history };
      // Keep only rounds [0, best] so predict() and save*() use the best model, not the last.
      if (bestIteration + 1 < history.length) {
        const sliced = booster.#slice(0, bestIteration + 1);
        booster.free();
        booster = sliced;
      }
      return { booster, bestIteration, bestScore, history };
    } catch (err) {
      booster.free();
      throw err;
    }
  }

  static loadJson(json: string): Booster {
    const booster = Booster.#create([]);
    const buf = Buffer.from(json, 'utf8');
    return booster.#orFree(() =>
      call('XGBoosterLoadModelFromBuffer', booster.handle, buf, buf.length),
    );
  }

  /** Loads a model file; XGBoost picks the format (`.json` is JSON). */
  static loadFile(path: string): Booster {
    const booster = Booster.#create([]);
    return booster.#orFree(() => call('XGBoosterLoadModel', booster.handle, path));
  }

  setParam(name: string, v: ParamValue | readonly ParamValue[]): void {
    for (const one of Array.isArray(v) ? v : [v]) {
      call('XGBoosterSetParam', this.handle, name, paramString(one as ParamValue));
    }
  }

  /** Predictions, one per row (more for multi-output models), row-major. */
  predict(data: DMatrix, opts: { outputMargin?: boolean } = {}): Float32Array {
    return this.#predict(data, opts.outputMargin ? 1 : 0);
  }

  /** SHAP values, rows x (cols + 1), the last column being the bias; rows sum to the margin. */
  contributions(data: DMatrix): Float32Array {
    return this.#predict(data, 2);
  }

  /** Predicts a row-major rows x cols matrix in place, without building a DMatrix. */
  predictDense(
    data: Float32Array,
    rows: number,
    cols: number,
    missing = NaN,
    opts: { outputMargin?: boolean } = {},
  ): Float32Array {
    checkShape('Booster.predictDense', data, rows, cols);
    if (data.length === 0) return new Float32Array(0);
    // The array interface needs a raw address, which koffi gives only for memory it allocated.
    const buffer: Pointer = koffi.alloc('float', data.length) as Pointer;
    try {
      new Float32Array(koffi.view(buffer, data.byteLength)).set(data);
      const values = JSON.stringify({
        data: ['ADDRESS', false],
        shape: [rows, cols],
        strides: null,
        typestr: '<f4',
        version: 3,
      }).replace('"ADDRESS"', koffi.address(buffer).toString());
      const config = JSON.stringify({
        type: opts.outputMargin ? 1 : 0,
        training: false,
        iteration_begin: 0,
        iteration_end: 0,
        strict_shape: false,
        // 1.7.4 requires the key: without it, "Invalid cast, from Null to Integer".
        cache_id: 0,
        missing: 'MISSING',
      }).replace('"MISSING"', Number.isNaN(missing) ? 'NaN' : String(missing));
      const out: Prediction = [[null], [null], [null]];
      call('XGBoosterPredictFromDense', this.handle, values, config, null, ...out);
      return predictionOutput(out);
    } finally {
      koffi.free(buffer);
    }
  }

  saveJson(): string {
    const len: Out<number> = [null];
    const data: Out<Pointer> = [null];
    call('XGBoosterSaveModelToBuffer', this.handle, '{"format":"json"}', len, data);
    const n = Number(value(len, 'length'));
    return n === 0 ? '' : Buffer.from(koffi.view(value(data, 'model'), n)).toString('utf8');
  }

  /** Saves the model; XGBoost picks the format from the extension (`.json` is JSON). */
  saveFile(path: string): void {
    call('XGBoosterSaveModel', this.handle, path);
  }

  /** Importance per feature that appears in the trees; keys are feature names, else f0, f1... */
  featureImportance(type: ImportanceType = 'gain'): Record<string, number> {
    const n: Out<number> = [null];
    const names: Out<Pointer> = [null];
    const dim: Out<number> = [null];
    const shape: Out<Pointer> = [null];
    const scores: Out<Pointer> = [null];
    const config = JSON.stringify({ importance_type: type, feature_map: null, tree_idx: null });
    call('XGBoosterFeatureScore', this.handle, config, n, names, dim, shape, scores);
    const count = Number(value(n, 'count'));
    if (count === 0) return {};
    const keys = koffi.decode(
      value(names, 'names'),
      koffi.array('const char *', count),
    ) as string[];
    const dims = koffi.decode(value(shape, 'shape'), 'uint64', value(dim, 'dim')) as number[];
    const total = dims.reduce((a, b) => a * Number(b), 1);
    if (total !== count) {
      throw new XGBoostError(`featureImportance: multi-output scores (shape ${dims.join('x')})`);
    }
    const values = copyFloats(value(scores, 'scores'), count);
    return Object.fromEntries(keys.map((k, i) => [k, values[i] ?? NaN]));
  }

  numFeatures(): number {
    const out: Out<number> = [null];
    call('XGBoosterGetNumFeature', this.handle, out);
    return Number(value(out, 'XGBoosterGetNumFeature'));
  }

  boostedRounds(): number {
    const out: Out<number> = [null];
    call('XGBoosterBoostedRounds', this.handle, out);
    return value(out, 'XGBoosterBoostedRounds');
  }

  #predict(data: DMatrix, type: 0 | 1 | 2): Float32Array {
    const config = JSON.stringify({
      type,
      training: false,
      iteration_begin: 0,
      iteration_end: 0,
      strict_shape: false,
    });
    const out: Prediction = [[null], [null], [null]];
    call('XGBoosterPredictFromDMatrix', this.handle, data.handle, config, ...out);
    return predictionOutput(out);
  }

  #slice(begin: number, end: number): Booster {
    const out: Out<Pointer> = [null];
    call('XGBoosterSlice', this.handle, begin, end, 1, out);
    return new Booster(value(out, 'XGBoosterSlice'));
  }

  #setFeatureNames(names: readonly string[]): void {
    call('XGBoosterSetStrFeatureInfo', this.handle, 'feature_name', [...names], names.length);
  }

  #orFree(load: () => void): this {
    try {
      load();
      return this;
    } catch (err) {
      this.free();
      throw err;
    }
  }
}
