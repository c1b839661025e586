// A small XGBoost regression model compiled to JavaScript for the ranking hot path, as treelite or
// m2cgen compile models: each tree becomes nested comparisons that V8 turns into machine code.
// Scoring a million candidates with fifty shallow trees this way takes a fraction of what
// libxgboost's in-place prediction needs through the FFI. XGBoost stays the source of truth: the
// compiled function is built from the booster's own JSON, compares in float32 exactly as XGBoost
// does, and tests check its predictions against libxgboost's. Models it cannot compile (other
// objectives, categorical splits, very large ensembles) return null and callers keep using
// `Booster.predictDense`.

export type CompiledPredictor = (features: Float32Array, rows: number) => Float32Array;

/** Past this many nodes a generated function gets too big for V8 to optimise well. */
const MAX_NODES = 20_000;
/** Trees per generated function: small functions optimise sooner and better. */
const TREES_PER_CHUNK = 16;
/** Objectives whose prediction is base_score plus the sum of the leaves. */
const IDENTITY_OBJECTIVES = new Set([
  'reg:squarederror',
  'reg:pseudohubererror',
  'reg:absoluteerror',
]);

interface JsonTree {
  left_children: number[];
  right_children: number[];
  split_indices: number[];
  split_conditions: number[];
  default_left: number[];
  split_type?: number[];
}

interface JsonModel {
  learner?: {
    learner_model_param?: { base_score?: string; num_feature?: string; num_target?: string };
    objective?: { name?: string };
    gradient_booster?: { name?: string; model?: { trees?: JsonTree[] } };
  };
}

/** A finite number as a float32 literal: split conditions are float32 in XGBoost. */
function literal(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`bad number ${String(v)}`);
  return String(Math.fround(v));
}

function treeExpression(t: JsonTree, cols: number): string {
  const expr = (n: number, depth: number): string => {
    if (depth > 64) throw new Error('tree too deep');
    const left = t.left_children[n];
    if (left === undefined) throw new Error(`node ${n} missing`);
    if (left === -1) return literal(t.split_conditions[n]);
    const f = t.split_indices[n]!;
    if (!Number.isInteger(f) || f < 0 || f >= cols) throw new Error(`feature ${f} out of range`);
    if ((t.split_type?.[n] ?? 0) !== 0) throw new Error('categorical split');
    const v = `x[o + ${f}]`;
    const c = literal(t.split_conditions[n]);
    // XGBoost goes left when value < condition, and takes the default branch for missing (NaN).
    const test = t.default_left[n] ? `!(${v} >= ${c})` : `${v} < ${c}`;
    return `(${test} ? ${expr(left, depth + 1)} : ${expr(t.right_children[n]!, depth + 1)})`;
  };
  return expr(0, 0);
}

/**
 * Compiles a booster's JSON (from `Booster.saveJson`) for `cols` features, or returns null when the
 * model is not a plain gbtree regression this compiler reproduces exactly.
 */
export function compileBooster(json: string, cols: number): CompiledPredictor | null {
  let model: JsonModel;
  try {
    model = JSON.parse(json) as JsonModel;
  } catch {
    return null;
  }
  const learner = model.learner;
  const trees = learner?.gradient_booster?.model?.trees;
  if (
    !learner ||
    !trees ||
    learner.gradient_booster?.name !== 'gbtree' ||
    !IDENTITY_OBJECTIVES.has(learner.objective?.name ?? '') ||
    Number(learner.learner_model_param?.num_target ?? 1) > 1 ||
    Number(learner.learner_model_param?.num_feature) !== cols
  ) {
    return null;
  }
  // XGBoost 1.x writes base_score as "5E-1"; a form this does not read leaves the model uncompiled.
  const base = Number(learner.learner_model_param?.base_score ?? 0.5);
  if (!Number.isFinite(base)) return null;
  let chunks: Array<(x: Float32Array, o: number) => number>;
  try {
    const nodes = trees.reduce((s, t) => s + t.left_children.length, 0);
    if (nodes > MAX_NODES) return null;
    chunks = [];
    for (let i = 0; i < trees.length; i += TREES_PER_CHUNK) {
      const body = trees
        .slice(i, i + TREES_PER_CHUNK)
        .map((t) => treeExpression(t, cols))
        .join(' + ');
      // Code generation is the point of this module. The source is built only from numbers checked
      // finite and feature indices checked in range, never from strings in the model.
      chunks.push(
        // eslint-disable-next-line @typescript-eslint/no-implied-eval
        new Function('x', 'o', `return ${body || '0'};`) as (x: Float32Array, o: number) => number,
      );
    }
  } catch {
    return null;
  }
  return (x, rows) => {
    if (x.length < rows * cols)
      throw new Error(`expected ${rows * cols} feature values, got ${x.length}`);
    const out = new Float32Array(rows);
    out.fill(base);
    // Chunk-major: each small function runs hot over every row.
    for (const chunk of chunks) {
      for (let r = 0, o = 0; r < rows; r++, o += cols) out[r] = out[r]! + chunk(x, o);
    }
    return out;
  };
}
