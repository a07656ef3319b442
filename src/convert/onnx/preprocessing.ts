/**
 * ONNX lowering for the preprocessing family.
 *
 * ai.onnx.ml operators where they reproduce scikit-learn in float32 (Scaler, Normalizer L1/L2,
 * Binarizer, Imputer, LabelEncoder); standard operators elsewhere and whenever the working type
 * is float64 (the ml operators output float32 only):
 * - Normalizer 'max' uses ReduceMax(Abs(x)): ai.onnx.ml Normalizer MAX divides by max(x), not max(|x|).
 * - Encoders map each column to a category index with ai.onnx.ml LabelEncoder (float or string
 *   keys, default -1; NaN categories through IsNaN, since a NaN key never matches), then Gather a
 *   per-category table (one-hot slot or ordinal value, the unknown entry last so index -1 picks
 *   it) and, for one-hot, Equal against 0..width-1 with out-of-range slots giving all zeros. This
 *   covers infrequent grouping, dropped categories and non-integer numeric categories, which
 *   ai.onnx.ml OneHotEncoder (cats cast to int64) cannot. ONNX cannot raise: an unknown category
 *   under handle_unknown='error' gives zeros (one-hot) or NaN (ordinal), and an unknown label
 *   -1 (LabelEncoder).
 * - KMeans distances are sqrt(sum((x - c)²)) over a broadcast [N, K, F] difference, which stays
 *   accurate in float32 where the expanded ||x||² - 2x·c + ||c||² loses digits; labels are
 *   ArgMin of the squared distances (first centre on ties, as scikit-learn).
 * - KNNImputer's imputation is its own file (knn-imputer.ts), in float64; the indicator block
 *   follows as for SimpleImputer.
 * Operator specs: https://github.com/onnx/onnx/blob/main/docs/Operators.md and Operators-ml.md.
 */
import { attr, makeTensor } from '../../formats/onnx/write.js';
import type { EstimatorIR } from '../../ir/model.js';
import type {
  BinarizerIR,
  BinsIR,
  CategoryValue,
  FeatureSelectorIR,
  ImputerIR,
  KMeansIR,
  KnnImputerIR,
  LabelBinarizerIR,
  LabelEncoderIR,
  MissingMask,
  NormalizerIR,
  OneHotEncoderIR,
  OrdinalEncoderIR,
  PolynomialIR,
  PreprocessingIR,
  ProjectionIR,
  ScalerIR,
} from '../../sklearn/families/preprocessing-ir.js';
import { PREPROCESSING_TYPES, pcaPrecision } from '../../sklearn/families/preprocessing-ir.js';
import { NodeGraph } from './graph.js';
import { lowerKnnImpute } from './knn-imputer.js';
import type { LowerContext, LowerOutputs, OnnxFamily, RefDType, TensorRef } from './types.js';

/** The shared helpers plus column selection and transformer outputs. */
class Graph extends NodeGraph {
  /** Columns of [N, F] by index, as [N, k]. */
  columns(x: string, indices: ArrayLike<number>): string {
    return this.op('Gather', [x, this.int64s('cols', indices)], { axis: attr.int(1) });
  }

  variable(name: string, cols: number | null, dtype: RefDType = this.float): LowerOutputs {
    return { variable: { name, dtype, cols } };
  }
}

export const preprocessing: OnnxFamily = {
  types: PREPROCESSING_TYPES,
  lower(node: EstimatorIR, input: TensorRef, ctx: LowerContext, path: string): LowerOutputs {
    const g = new Graph(node, ctx, path);
    const n = node as PreprocessingIR;
    switch (n.type) {
      case 'scaler':
        return lowerScaler(g, n, input);
      case 'normalizer':
        return lowerNormalizer(g, n, input);
      case 'binarizer':
        return lowerBinarizer(g, n, input);
      case 'polynomial_features':
        return lowerPolynomial(g, n, input);
      case 'simple_imputer':
        return lowerImputer(g, n, input);
      case 'knn_imputer':
        return lowerKnnImputer(g, n, input);
      case 'missing_indicator':
        return g.variable(indicator(g, g.floatInput(input), n.mask), n.mask.features.length);
      case 'one_hot_encoder':
        return lowerOneHot(g, n, input);
      case 'ordinal_encoder':
        return lowerOrdinal(g, n, input);
      case 'label_encoder':
        return lowerLabelEncoder(g, n, input);
      case 'label_binarizer':
        return lowerLabelBinarizer(g, n, input);
      case 'bins_discretizer':
        return lowerBins(g, n, input);
      case 'feature_selector':
        return lowerSelector(g, n, input, path);
      case 'projection':
        return lowerProjection(g, n, input);
      case 'kmeans':
        return lowerKMeans(g, n, input);
      case 'identity':
        return g.variable(g.floatInput(input), input.cols);
    }
  },
};

// ---------------------------------------------------------------------------------------------
// Scalers and row-wise transformers

function lowerScaler(g: Graph, node: ScalerIR, input: TensorRef): LowerOutputs {
  const x = g.floatInput(input);
  const f = input.cols!;
  const { center, divisor, factor, offset, clip } = node;
  // ai.onnx.ml Scaler computes (x - offset) * scale: fold the steps when the combined scale is usable.
  if (g.float === 'float32' && !clip) {
    const scale = new Float64Array(f);
    const shift = new Float64Array(f);
    let ok = true;
    for (let j = 0; j < f; j++) {
      const s = (factor ? factor[j]! : 1) / (divisor ? divisor[j]! : 1);
      scale[j] = s;
      shift[j] = (center ? center[j]! : 0) - (offset ? offset[j]! : 0) / s;
      if (!Number.isFinite(s) || s === 0 || !Number.isFinite(shift[j]!)) ok = false;
    }
    if (ok) return g.variable(g.ml('Scaler', [x], { offset: attr.floats(shift), scale: attr.floats(scale) }), f);
  }
  let y = x;
  if (center) y = g.op('Sub', [y, g.floats('center', [f], center)]);
  if (divisor) y = g.op('Div', [y, g.floats('divisor', [f], divisor)]);
  if (factor) y = g.op('Mul', [y, g.floats('factor', [f], factor)]);
  if (offset) y = g.op('Add', [y, g.floats('offset', [f], offset)]);
  if (clip) {
    // Clip takes its bounds as inputs from opset 11, as attributes before.
    y = g.ctx.opset >= 11 ? g.op('Clip', [y, g.scalar('clip_min', clip[0]), g.scalar('clip_max', clip[1])]) : g.op('Clip', [y], { min: attr.float(clip[0]), max: attr.float(clip[1]) });
  }
  return g.variable(y, f);
}

function lowerNormalizer(g: Graph, node: NormalizerIR, input: TensorRef): LowerOutputs {
  const x = g.floatInput(input);
  const f = input.cols;
  if (g.float === 'float32' && node.norm !== 'max') {
    // ai.onnx.ml Normalizer L1/L2 leave zero rows unchanged, as _handle_zeros_in_scale does.
    return g.variable(g.ml('Normalizer', [x], { norm: node.norm.toUpperCase() }), f);
  }
  let norm: string;
  if (node.norm === 'l2') norm = g.op('Sqrt', [g.reduce('ReduceSum', g.op('Mul', [x, x]), [-1], true)]);
  else if (node.norm === 'l1') norm = g.reduce('ReduceSum', g.op('Abs', [x]), [-1], true);
  else norm = g.reduce('ReduceMax', g.op('Abs', [x]), [-1], true);
  const zero = g.op('Equal', [norm, g.scalar('zero', 0)]);
  const safe = g.op('Where', [zero, g.scalar('one', 1), norm]);
  return g.variable(g.op('Div', [x, safe]), f);
}

function lowerBinarizer(g: Graph, node: BinarizerIR, input: TensorRef): LowerOutputs {
  const x = g.floatInput(input);
  if (g.float === 'float32') return g.variable(g.ml('Binarizer', [x], { threshold: attr.float(node.threshold) }), input.cols);
  return g.variable(g.cast(g.op('Greater', [x, g.scalar('threshold', node.threshold)]), g.float), input.cols);
}

/** A [N, 1] column of ones shaped like the rows of x. */
function ones(g: Graph, x: string): string {
  const rows = g.op('Slice', [g.op('Shape', [x]), g.int64s('rows_start', [0]), g.int64s('rows_end', [1])]);
  const shape = g.op('Concat', [rows, g.int64s('one_col', [1])], { axis: attr.int(0) });
  const value = makeTensor('value', g.float, [1], [1]);
  return g.op('ConstantOfShape', [shape], { value: attr.tensor(value) });
}

function lowerPolynomial(g: Graph, node: PolynomialIR, input: TensorRef): LowerOutputs {
  const x = g.floatInput(input);
  const blocks: string[] = [];
  // Terms come grouped by degree; each group is a product of gathered columns, from the last factor (as scikit-learn).
  let t = 0;
  const terms = node.terms;
  while (t < terms.length) {
    const d = terms[t]!.length;
    let end = t;
    while (end < terms.length && terms[end]!.length === d) end++;
    const group = terms.slice(t, end);
    if (d === 0) blocks.push(ones(g, x));
    else {
      let p = g.columns(x, group.map((term) => term[d - 1]!));
      for (let i = d - 2; i >= 0; i--) p = g.op('Mul', [g.columns(x, group.map((term) => term[i]!)), p]);
      blocks.push(p);
    }
    t = end;
  }
  const y = blocks.length === 1 ? blocks[0]! : g.op('Concat', blocks, { axis: attr.int(1) });
  return g.variable(y, terms.length);
}

// ---------------------------------------------------------------------------------------------
// Imputation

function missingMask(g: Graph, x: string, missing: number): string {
  return Number.isNaN(missing) ? g.op('IsNaN', [x]) : g.op('Equal', [x, g.scalar('missing', missing)]);
}

function indicator(g: Graph, x: string, mask: MissingMask): string {
  return g.cast(g.columns(missingMask(g, x, mask.missing), mask.features), g.float);
}

function lowerImputer(g: Graph, node: ImputerIR, input: TensorRef): LowerOutputs {
  const x = g.floatInput(input);
  const f = input.cols!;
  const k = node.keep.length;
  const all = k === f && node.keep.every((j, i) => j === i);
  const kept = all ? x : g.columns(x, node.keep);
  const parts: string[] = [];
  if (k > 0) {
    if (g.float === 'float32') {
      parts.push(g.ml('Imputer', [kept], { imputed_value_floats: attr.floats(node.fill), replaced_value_float: attr.float(node.missing) }));
    } else {
      parts.push(g.op('Where', [missingMask(g, kept, node.missing), g.floats('fill', [k], node.fill), kept]));
    }
  }
  if (node.indicator) parts.push(indicator(g, x, node.indicator));
  if (parts.length === 0) return g.unsupported('it outputs no columns');
  const y = parts.length === 1 ? parts[0]! : g.op('Concat', parts, { axis: attr.int(1) });
  return g.variable(y, k + (node.indicator?.features.length ?? 0));
}

/** KNNImputer: the imputation in float64 (knn-imputer.ts), cast back, then the indicator block. */
function lowerKnnImputer(g: Graph, node: KnnImputerIR, input: TensorRef): LowerOutputs {
  const x = g.floatInput(input, 'float64');
  const imputed = lowerKnnImpute(g, node, x);
  const parts = [g.float === 'float64' ? imputed.name : g.cast(imputed.name, g.float)];
  if (node.indicator) parts.push(indicator(g, x, node.indicator));
  const y = parts.length === 1 ? parts[0]! : g.op('Concat', parts, { axis: attr.int(1) });
  return g.variable(y, imputed.cols + (node.indicator?.features.length ?? 0));
}

// ---------------------------------------------------------------------------------------------
// Encoders

/** How a missing cell is written in a string input (see onnxFeeds in convert.ts). */
const MISSING_TEXT = 'NaN';

/** Whether a column's categories are strings (else numbers; null/NaN are the missing category). */
function isText(categories: readonly CategoryValue[]): boolean {
  return categories.some((c) => typeof c === 'string');
}

/**
 * Category index ([N, 1] int64, -1 when unknown) of one input column: ai.onnx.ml LabelEncoder
 * with the column's keys, and IsNaN for the missing-value category.
 */
function categoryIndex(g: Graph, input: TensorRef, column: string, categories: readonly CategoryValue[]): string {
  const text = isText(categories);
  const keys: Array<number | string> = [];
  const values: number[] = [];
  let missingAt = -1;
  categories.forEach((c, k) => {
    if (c === null || (typeof c === 'number' && Number.isNaN(c))) {
      if (missingAt < 0) missingAt = k;
    } else if (text && typeof c !== 'string') g.unsupported('a column mixes string and number categories');
    else {
      keys.push(c);
      values.push(k);
    }
  });
  if (text) {
    if (input.dtype !== 'string') g.unsupported('its categories are strings but its input is numeric');
    // Missing cells arrive as the text "NaN" (onnxFeeds).
    if (missingAt >= 0 && !keys.includes(MISSING_TEXT)) {
      keys.push(MISSING_TEXT);
      values.push(missingAt);
    }
    return g.ml('LabelEncoder', [column], { keys_strings: keys as string[], values_int64s: attr.ints(values), default_int64: attr.int(-1) });
  }
  // Float keys are float32: two categories that round together cannot be told apart.
  const asFloat32 = keys.map((v) => Math.fround(v as number));
  if (new Set(asFloat32).size !== asFloat32.length) g.unsupported('two of its numeric categories are equal in float32');
  const xf = input.dtype === 'float32' ? column : g.cast(column, 'float32');
  let index = g.ml('LabelEncoder', [xf], { keys_floats: attr.floats(asFloat32), values_int64s: attr.ints(values), default_int64: attr.int(-1) });
  if (missingAt >= 0) index = g.op('Where', [g.op('IsNaN', [xf]), g.int64s('missing_index', [missingAt], []), index]);
  return index;
}

/**
 * [N, 1] int64 slots → [N, width] booleans, true where the column equals the slot (Equal against
 * 0..width-1: slots outside the range give a row of false). onnxruntime's OneHot has no float64
 * kernel, Equal works for every type.
 */
function oneHot(g: Graph, slot: string, width: number, suffix: string): string {
  return g.op('Equal', [slot, g.int64s(`range${suffix}`, Array.from({ length: width }, (_, i) => i))]);
}

/** Column j of the input as [N, 1] (any element type). */
function inputColumn(g: Graph, input: TensorRef, j: number): string {
  if (input.cols === null) return g.op('Reshape', [input.name, g.int64s('shape_col', [-1, 1])]);
  return g.columns(input.name, [j]);
}

function encoderInput(g: Graph, input: TensorRef): void {
  g.checkWidth(input);
  if (input.dtype === 'bool') g.unsupported('its input is boolean');
}

function lowerOneHot(g: Graph, node: OneHotEncoderIR, input: TensorRef): LowerOutputs {
  encoderInput(g, input);
  const blocks = node.encoders.map((enc, j) => {
    const index = categoryIndex(g, input, inputColumn(g, input, j), enc.categories);
    // Slot per category, the unknown slot last (index -1); out-of-range slots (width) one-hot to zeros.
    const table = Array.from(enc.slots, (s) => (s < 0 ? enc.width : s));
    table.push(enc.unknownSlot === null || enc.unknownSlot < 0 ? enc.width : enc.unknownSlot);
    const slot = g.op('Gather', [g.int64s(`slots${j}`, table), index], { axis: attr.int(0) });
    return g.cast(oneHot(g, slot, enc.width, `${j}`), g.float);
  });
  const y = blocks.length === 1 ? blocks[0]! : g.op('Concat', blocks, { axis: attr.int(1) });
  return g.variable(y, node.encoders.reduce((a, e) => a + e.width, 0));
}

function lowerOrdinal(g: Graph, node: OrdinalEncoderIR, input: TensorRef): LowerOutputs {
  encoderInput(g, input);
  const cols = node.encoders.map((enc, j) => {
    const index = categoryIndex(g, input, inputColumn(g, input, j), enc.categories);
    const table = [...enc.values, enc.unknown ?? NaN];
    return g.op('Gather', [g.floats(`values${j}`, [table.length], table), index], { axis: attr.int(0) });
  });
  const y = cols.length === 1 ? cols[0]! : g.op('Concat', cols, { axis: attr.int(1) });
  return g.variable(y, node.encoders.length);
}

/** A label list's input as [N] (1-d, or the single column of [N, 1]). */
function labelInput(g: Graph, input: TensorRef): TensorRef {
  if (input.cols === null) return input;
  if (input.cols !== 1) g.unsupported(`it takes one label per row, not ${input.cols} columns`);
  return { name: g.op('Reshape', [input.name, g.int64s('shape_flat', [-1])]), dtype: input.dtype, cols: null };
}

function lowerLabelEncoder(g: Graph, node: LabelEncoderIR, input: TensorRef): LowerOutputs {
  const y = labelInput(g, input);
  return g.variable(categoryIndex(g, y, y.name, node.labels), null, 'int64');
}

function lowerLabelBinarizer(g: Graph, node: LabelBinarizerIR, input: TensorRef): LowerOutputs {
  const y = labelInput(g, input);
  const index = categoryIndex(g, y, y.name, node.labels);
  const n = node.labels.length;
  const width = n <= 2 ? 1 : n;
  // Column per class (the second class alone when there are two); unknown labels (-1 → depth) give neg_label rows.
  const table = n <= 2 ? [...Array.from({ length: n }, (_, k) => (n === 2 && k === 1 ? 0 : 1)), 1] : [...Array.from({ length: n }, (_, k) => k), n];
  const slot = g.op('Gather', [g.int64s('slots', table), index], { axis: attr.int(0) });
  const hot = oneHot(g, g.op('Reshape', [slot, g.int64s('shape_col', [-1, 1])]), width, '');
  return g.variable(g.op('Where', [hot, g.scalar('pos', node.posLabel), g.scalar('neg', node.negLabel)]), width);
}

function lowerBins(g: Graph, node: BinsIR, input: TensorRef): LowerOutputs {
  const x = g.floatInput(input);
  const blocks = node.edges.map((edges, j) => {
    const col = g.columns(x, [j]);
    // bin = number of inner edges <= x (np.searchsorted side='right'; NaN counts every edge, as it sorts last).
    let bin: string;
    if (edges.length === 0) bin = g.op('Mul', [col, g.scalar(`zero${j}`, 0)]);
    else {
      const le = g.cast(g.op('Not', [g.op('Greater', [g.floats(`edges${j}`, [1, edges.length], edges), col])]), g.float);
      bin = g.reduce('ReduceSum', le, [-1], true);
    }
    if (!node.onehot) return bin;
    return g.cast(oneHot(g, g.cast(bin, 'int64'), edges.length + 1, `${j}`), g.float);
  });
  const width = node.onehot ? node.edges.reduce((a, e) => a + e.length + 1, 0) : node.edges.length;
  const y = blocks.length === 1 ? blocks[0]! : g.op('Concat', blocks, { axis: attr.int(1) });
  return g.variable(y, width);
}

// ---------------------------------------------------------------------------------------------
// Selection, projection, clustering

function lowerSelector(g: Graph, node: FeatureSelectorIR, input: TensorRef, path: string): LowerOutputs {
  g.checkWidth(input);
  const selected: TensorRef = { name: g.columns(input.name, node.support), dtype: input.dtype, cols: node.support.length };
  if (!node.estimator) return { variable: selected };
  // RFE: the wrapped estimator's outputs on the selected columns, plus the selection as transform.
  const out = g.ctx.lower(node.estimator, selected, path ? `${path}.estimator_` : 'estimator_');
  return out.variable ? out : { ...out, variable: selected };
}

function lowerProjection(g: Graph, node: ProjectionIR, input: TensorRef): LowerOutputs {
  const x = g.floatInput(input);
  const f = input.cols!;
  const k = node.nComponents;
  const centered = node.mean ? g.op('Sub', [x, g.floats('mean', [f], node.mean)]) : x;
  // components.T / divisor as one [F, k] matrix.
  const w = new Float64Array(f * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < f; j++) w[j * k + i] = node.components[i * f + j]! / (node.divisor ? node.divisor[i]! : 1);
  const out: LowerOutputs = { variable: { name: g.op('MatMul', [centered, g.floats('components_t', [f, k], w)]), dtype: g.float, cols: k } };
  if (node.gaussian) {
    // score_samples = -0.5 * sum(xr * (xr @ P), axis=1) - 0.5 * (F log 2π - log det P).
    const { precision, logDet } = pcaPrecision(node);
    const xp = g.op('MatMul', [centered, g.floats('precision', [f, f], precision)]);
    const q = g.reduce('ReduceSum', g.op('Mul', [centered, xp]), [-1], false);
    const constant = 0.5 * (f * Math.log(2 * Math.PI) - logDet);
    out.scoreSamples = { name: g.op('Sub', [g.op('Mul', [q, g.scalar('minus_half', -0.5)]), g.scalar('log_norm', constant)]), dtype: g.float, cols: null };
  }
  return out;
}

function lowerKMeans(g: Graph, node: KMeansIR, input: TensorRef): LowerOutputs {
  const x = g.floatInput(input);
  const f = input.cols!;
  const k = node.nClusters;
  const x3 = g.op('Reshape', [x, g.int64s('shape_rows', [-1, 1, f])]);
  const diff = g.op('Sub', [x3, g.floats('centers', [k, f], node.centers)]);
  const sq = g.reduce('ReduceSum', g.op('Mul', [diff, diff]), [-1], false);
  const label = g.op('ArgMin', [sq], { axis: attr.int(1), keepdims: attr.int(0) });
  const distances = g.op('Sqrt', [sq]);
  // transform → variable (mlpack); skl2onnx names the same distances `scores`.
  return {
    label: { name: label, dtype: 'int64', cols: null },
    variable: { name: distances, dtype: g.float, cols: k },
    scores: { name: distances, dtype: g.float, cols: k },
  };
}
