/**
 * Native evaluator for the preprocessing family. Numeric transformers work on row-major
 * Float64Array chunks; encoders read raw table cells so string categories work. The arithmetic
 * follows scikit-learn's own order of operations (e.g. StandardScaler subtracts then divides,
 * KMeans compares ||c||² - 2·x·c) so results agree to the last few bits.
 */
import { malformed } from '../../errors.js';
import type { EstimatorIR, Method } from '../../ir/model.js';
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
  MissingIndicatorIR,
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
import { asMatrix, matrix } from '../data.js';
import type { Cell, Frame, Matrix, Output } from '../data.js';
import { imputeKnn } from './knn-imputer.js';
import type { EvalContext, NativeFamily } from './types.js';

/** Refuse F×F precision matrices beyond this many elements (PCA score_samples on huge inputs). */
const MAX_PRECISION_ELEMENTS = 2 ** 27;

function className(node: EstimatorIR): string {
  return node.sourceClass.split('.').pop() ?? node.sourceClass;
}

/** The input as numbers, checked against the width the estimator was fitted on. */
function numeric(node: EstimatorIR, input: Frame): Matrix {
  checkWidth(node, input.cols);
  return asMatrix(input);
}

function checkWidth(node: EstimatorIR, cols: number): void {
  if (node.nFeatures !== null && cols !== node.nFeatures) {
    throw malformed(`${className(node)} expects ${node.nFeatures} input columns, got ${cols}`, { field: 'input' });
  }
}

function columnName(node: EstimatorIR, input: Frame, j: number): string {
  const name = (input.kind === 'table' ? input.names?.[j] : undefined) ?? node.featureNames?.[j];
  return name !== undefined ? `"${name}"` : String(j);
}

function rowNumber(input: Frame, r: number): number {
  return (input.kind === 'table' ? (input.rowOffset ?? 0) : 0) + r;
}

// ---------------------------------------------------------------------------------------------
// Scalers and row-wise transformers

function runScaler(node: ScalerIR, input: Frame): Matrix {
  const x = numeric(node, input);
  const { rows, cols } = x;
  const src = x.data;
  const out = new Float64Array(rows * cols);
  const { center, divisor, factor, offset, clip } = node;
  if (center && divisor && !factor && !offset && !clip) {
    // StandardScaler / RobustScaler: (x - center) / scale, without per-element branches.
    for (let r = 0, o = 0; r < rows; r++, o += cols) {
      for (let j = 0; j < cols; j++) out[o + j] = (src[o + j]! - center[j]!) / divisor[j]!;
    }
    return matrix(rows, cols, out);
  }
  const lo = clip ? clip[0] : 0;
  const hi = clip ? clip[1] : 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) {
      let v = src[o + j]!;
      if (center) v -= center[j]!;
      if (divisor) v /= divisor[j]!;
      if (factor) v *= factor[j]!;
      if (offset) v += offset[j]!;
      if (clip) v = v < lo ? lo : v > hi ? hi : v;
      out[o + j] = v;
    }
  }
  return matrix(rows, cols, out);
}

function runNormalizer(node: NormalizerIR, input: Frame): Matrix {
  const x = numeric(node, input);
  const { rows, cols } = x;
  const src = x.data;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let norm = 0;
    if (node.norm === 'l2') {
      for (let j = 0; j < cols; j++) norm += src[o + j]! * src[o + j]!;
      norm = Math.sqrt(norm);
    } else if (node.norm === 'l1') {
      for (let j = 0; j < cols; j++) norm += Math.abs(src[o + j]!);
    } else {
      norm = cols ? -Infinity : 0;
      for (let j = 0; j < cols; j++) {
        const a = Math.abs(src[o + j]!);
        // np.max propagates NaN.
        if (a > norm || Number.isNaN(a)) norm = a;
      }
    }
    // _handle_zeros_in_scale: a zero norm leaves the row unchanged.
    if (norm === 0) norm = 1;
    for (let j = 0; j < cols; j++) out[o + j] = src[o + j]! / norm;
  }
  return matrix(rows, cols, out);
}

function runBinarizer(node: BinarizerIR, input: Frame): Matrix {
  const x = numeric(node, input);
  const t = node.threshold;
  return matrix(x.rows, x.cols, Float64Array.from(x.data, (v) => (v > t ? 1 : 0)));
}

function runPolynomial(node: PolynomialIR, input: Frame): Matrix {
  const x = numeric(node, input);
  const { rows, cols } = x;
  const terms = node.terms;
  const width = terms.length;
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const w = r * width;
    for (let t = 0; t < width; t++) {
      const term = terms[t]!;
      const n = term.length;
      if (n === 0) {
        out[w + t] = 1;
        continue;
      }
      // scikit-learn builds x_a·x_b·x_c as x_a·(x_b·x_c): multiply from the last factor.
      let p = x.data[o + term[n - 1]!]!;
      for (let i = n - 2; i >= 0; i--) p = x.data[o + term[i]!]! * p;
      out[w + t] = p;
    }
  }
  return matrix(rows, width, out);
}

// ---------------------------------------------------------------------------------------------
// Imputation

function isMissing(v: number, missing: number): boolean {
  return Number.isNaN(missing) ? Number.isNaN(v) : v === missing;
}

/** MissingIndicator.transform on the input: 1 where missing, for the fitted features. */
function indicatorBlock(node: EstimatorIR, x: Matrix, mask: MissingMask, input: Frame): Float64Array {
  const { rows, cols } = x;
  const features = mask.features;
  const k = features.length;
  const out = new Float64Array(rows * k);
  for (const f of features) {
    if (f >= cols) throw malformed(`${className(node)} reports input column ${f}, but the input has ${cols} columns`, { field: 'input' });
  }
  if (mask.errorOnNew) {
    const reported = new Uint8Array(cols);
    for (const f of features) reported[f] = 1;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        if (!reported[j] && isMissing(x.data[r * cols + j]!, mask.missing)) {
          throw malformed(`${className(node)}: input row ${rowNumber(input, r)}, column ${columnName(node, input, j)} has a missing value, but that feature had none at fit (error_on_new=True)`, {
            field: `row ${rowNumber(input, r)}, column ${j}`,
          });
        }
      }
    }
  }
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < k; i++) out[r * k + i] = isMissing(x.data[r * cols + features[i]!]!, mask.missing) ? 1 : 0;
  }
  return out;
}

function runImputer(node: ImputerIR, input: Frame): Matrix {
  const x = numeric(node, input);
  const { rows, cols } = x;
  const keep = node.keep;
  const fill = node.fill;
  const k = keep.length;
  const ind = node.indicator ? indicatorBlock(node, x, node.indicator, input) : null;
  const m = ind ? node.indicator!.features.length : 0;
  const width = k + m;
  const out = new Float64Array(rows * width);
  const missing = node.missing;
  const nanMissing = Number.isNaN(missing);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const w = r * width;
    for (let i = 0; i < k; i++) {
      const v = x.data[o + keep[i]!]!;
      out[w + i] = (nanMissing ? Number.isNaN(v) : v === missing) ? fill[i]! : v;
    }
    if (ind) for (let i = 0; i < m; i++) out[w + k + i] = ind[r * m + i]!;
  }
  return matrix(rows, width, out);
}

function runKnnImputer(node: KnnImputerIR, input: Frame): Matrix {
  const x = numeric(node, input);
  // force_all_finite='allow-nan': NaN is the missing marker, ±inf an error.
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i]!;
    if (v === Infinity || v === -Infinity) {
      const r = Math.floor(i / x.cols);
      throw malformed(`${className(node)}: input row ${rowNumber(input, r)}, column ${columnName(node, input, i % x.cols)} is ${v}; only NaN may stand for a missing value`, {
        field: `row ${rowNumber(input, r)}, column ${i % x.cols}`,
      });
    }
  }
  const imputed = imputeKnn(node, x);
  if (!node.indicator) return matrix(x.rows, imputed.cols, imputed.data);
  const ind = indicatorBlock(node, x, node.indicator, input);
  const k = imputed.cols;
  const m = node.indicator.features.length;
  const out = new Float64Array(x.rows * (k + m));
  for (let r = 0; r < x.rows; r++) {
    out.set(imputed.data.subarray(r * k, (r + 1) * k), r * (k + m));
    out.set(ind.subarray(r * m, (r + 1) * m), r * (k + m) + k);
  }
  return matrix(x.rows, k + m, out);
}

function runMissingIndicator(node: MissingIndicatorIR, input: Frame): Matrix {
  const x = numeric(node, input);
  return matrix(x.rows, node.mask.features.length, indicatorBlock(node, x, node.mask, input));
}

// ---------------------------------------------------------------------------------------------
// Encoders

/** Category lookup for one column: value → category index, -1 when unknown. */
interface Lookup {
  index: Map<number | string, number>;
  /** Index of the NaN / None category, which missing cells (null, NaN) match. */
  missing: number;
  /** Numbers may match string categories by their text (CSV cells arrive as numbers). */
  strings: boolean;
}

const LOOKUPS = new WeakMap<object, Lookup[]>();

function lookupsFor(node: object, columns: ReadonlyArray<{ categories: readonly CategoryValue[] }>): Lookup[] {
  let cached = LOOKUPS.get(node);
  if (!cached) {
    cached = columns.map(({ categories }) => {
      const index = new Map<number | string, number>();
      let missing = -1;
      let strings = false;
      categories.forEach((c, k) => {
        if (c === null || (typeof c === 'number' && Number.isNaN(c))) {
          if (missing < 0) missing = k;
        } else {
          if (typeof c === 'string') strings = true;
          if (!index.has(c)) index.set(c, k);
        }
      });
      return { index, missing, strings };
    });
    LOOKUPS.set(node, cached);
  }
  return cached;
}

function find(l: Lookup, cell: Cell | undefined): number {
  if (cell === null || cell === undefined) return l.missing;
  if (typeof cell === 'number') {
    if (Number.isNaN(cell)) return l.missing;
    const k = l.index.get(cell);
    if (k !== undefined) return k;
    return l.strings ? (l.index.get(String(cell)) ?? -1) : -1;
  }
  if (typeof cell === 'boolean') return l.index.get(cell ? 1 : 0) ?? -1;
  return l.index.get(cell) ?? -1;
}

function cellAt(input: Frame, i: number): Cell | undefined {
  return input.kind === 'matrix' ? input.data[i] : input.cells[i];
}

function unknownCategory(node: EstimatorIR, input: Frame, r: number, j: number): never {
  const cell = cellAt(input, r * input.cols + j);
  const shown = cell === null || cell === undefined || (typeof cell === 'number' && Number.isNaN(cell)) ? 'a missing value' : `unknown category ${JSON.stringify(cell)}`;
  throw malformed(`${className(node)}: input row ${rowNumber(input, r)}, column ${columnName(node, input, j)} holds ${shown} (handle_unknown='error')`, {
    field: `row ${rowNumber(input, r)}, column ${j}`,
    suggestion: 'refit the encoder with handle_unknown="ignore" (or an unknown_value) to accept new categories',
  });
}

function runOneHot(node: OneHotEncoderIR, input: Frame): Matrix {
  checkWidth(node, input.cols);
  const encoders = node.encoders;
  const lookups = lookupsFor(node, encoders);
  const rows = input.rows;
  const cols = input.cols;
  const width = node.nOutputs ?? encoders.reduce((a, e) => a + e.width, 0);
  const offsets = new Int32Array(encoders.length);
  for (let j = 1; j < encoders.length; j++) offsets[j] = offsets[j - 1]! + encoders[j - 1]!.width;
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const enc = encoders[j]!;
      const k = find(lookups[j]!, cellAt(input, r * cols + j));
      let slot: number;
      if (k >= 0) slot = enc.slots[k]!;
      else if (enc.unknownSlot === null) unknownCategory(node, input, r, j);
      else slot = enc.unknownSlot;
      if (slot >= 0) out[r * width + offsets[j]! + slot] = 1;
    }
  }
  return matrix(rows, width, out);
}

function runOrdinal(node: OrdinalEncoderIR, input: Frame): Matrix {
  checkWidth(node, input.cols);
  const encoders = node.encoders;
  const lookups = lookupsFor(node, encoders);
  const { rows, cols } = input;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const enc = encoders[j]!;
      const k = find(lookups[j]!, cellAt(input, r * cols + j));
      if (k >= 0) out[r * cols + j] = enc.values[k]!;
      else if (enc.unknown === null) unknownCategory(node, input, r, j);
      else out[r * cols + j] = enc.unknown;
    }
  }
  return matrix(rows, cols, out);
}

function labelInput(node: EstimatorIR, input: Frame): void {
  if (input.cols !== 1) throw malformed(`${className(node)} takes a flat list of labels, got rows of ${input.cols} values`, { field: 'input' });
}

function runLabelEncoder(node: LabelEncoderIR, input: Frame): Output {
  labelInput(node, input);
  const [lookup] = lookupsFor(node, [{ categories: node.labels }]) as [Lookup];
  const out = new Float64Array(input.rows);
  for (let r = 0; r < input.rows; r++) {
    const k = find(lookup, cellAt(input, r));
    if (k < 0) {
      const cell = cellAt(input, r);
      throw malformed(`${className(node)}: input row ${rowNumber(input, r)} holds ${JSON.stringify(cell ?? null)}, a label not seen at fit`, {
        field: `row ${rowNumber(input, r)}`,
      });
    }
    out[r] = k;
  }
  return { kind: 'vector', data: out };
}

function runLabelBinarizer(node: LabelBinarizerIR, input: Frame): Matrix {
  labelInput(node, input);
  const [lookup] = lookupsFor(node, [{ categories: node.labels }]) as [Lookup];
  const n = node.labels.length;
  const width = n <= 2 ? 1 : n;
  const out = new Float64Array(input.rows * width).fill(node.negLabel);
  for (let r = 0; r < input.rows; r++) {
    const k = find(lookup, cellAt(input, r));
    // Unknown labels (and, with two classes, the first class) give a row of neg_label.
    if (n <= 2) {
      if (n === 2 && k === 1) out[r] = node.posLabel;
    } else if (k >= 0) out[r * width + k] = node.posLabel;
  }
  return matrix(input.rows, width, out);
}

function runBins(node: BinsIR, input: Frame): Matrix {
  const x = numeric(node, input);
  const { rows, cols } = x;
  const edges = node.edges;
  const width = node.onehot ? (node.nOutputs ?? edges.reduce((a, e) => a + e.length + 1, 0)) : cols;
  const offsets = new Int32Array(cols);
  for (let j = 1; j < cols; j++) offsets[j] = offsets[j - 1]! + edges[j - 1]!.length + 1;
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const e = edges[j]!;
      const v = x.data[r * cols + j]!;
      // np.searchsorted(inner_edges, v, side='right'); NaN sorts last.
      let lo = 0;
      let hi = e.length;
      if (Number.isNaN(v)) lo = e.length;
      else {
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (e[mid]! <= v) lo = mid + 1;
          else hi = mid;
        }
      }
      if (node.onehot) out[r * width + offsets[j]! + lo] = 1;
      else out[r * cols + j] = lo;
    }
  }
  return matrix(rows, width, out);
}

// ---------------------------------------------------------------------------------------------
// Selection, projection, clustering

function select(node: FeatureSelectorIR, input: Frame): Matrix {
  const x = numeric(node, input);
  const s = node.support;
  const k = s.length;
  const out = new Float64Array(x.rows * k);
  for (let r = 0; r < x.rows; r++) for (let i = 0; i < k; i++) out[r * k + i] = x.data[r * x.cols + s[i]!]!;
  return matrix(x.rows, k, out);
}

function runSelector(node: FeatureSelectorIR, input: Frame, method: Method, ctx: EvalContext): Output {
  const selected = select(node, input);
  if (method === 'transform') return selected;
  if (!node.estimator) throw malformed(`${className(node)} has no fitted estimator for ${method}`);
  return ctx.evaluate(node.estimator, selected, method);
}

function runProjection(node: ProjectionIR, input: Frame, method: Method): Output {
  const x = numeric(node, input);
  if (method === 'score_samples') return scoreSamples(node, x);
  const { rows, cols } = x;
  const src = x.data;
  const mean = node.mean;
  const k = node.nComponents;
  const comp = node.components;
  const div = node.divisor;
  // Rows are centred into a small block, then projected four at a time so each component
  // value is loaded once per block.
  const block = new Float64Array(4 * cols);
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r += 4) {
    const n = Math.min(4, rows - r);
    for (let q = 0; q < n; q++) {
      const o = (r + q) * cols;
      for (let j = 0; j < cols; j++) block[q * cols + j] = mean ? src[o + j]! - mean[j]! : src[o + j]!;
    }
    if (n === 4) {
      for (let i = 0; i < k; i++) {
        const c = i * cols;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let j = 0; j < cols; j++) {
          const w = comp[c + j]!;
          s0 += block[j]! * w;
          s1 += block[cols + j]! * w;
          s2 += block[2 * cols + j]! * w;
          s3 += block[3 * cols + j]! * w;
        }
        const d = div ? div[i]! : 1;
        out[r * k + i] = div ? s0 / d : s0;
        out[(r + 1) * k + i] = div ? s1 / d : s1;
        out[(r + 2) * k + i] = div ? s2 / d : s2;
        out[(r + 3) * k + i] = div ? s3 / d : s3;
      }
    } else {
      for (let q = 0; q < n; q++) {
        for (let i = 0; i < k; i++) {
          let s = 0;
          const c = i * cols;
          for (let j = 0; j < cols; j++) s += block[q * cols + j]! * comp[c + j]!;
          out[(r + q) * k + i] = div ? s / div[i]! : s;
        }
      }
    }
  }
  return matrix(rows, k, out);
}

/** PCA.score_samples: Gaussian log-likelihood under the fitted probabilistic PCA model. */
function scoreSamples(node: ProjectionIR, x: Matrix): Output {
  const f = x.cols;
  if (f * f > MAX_PRECISION_ELEMENTS) {
    throw malformed(`${className(node)}.score_samples needs a ${f}×${f} precision matrix, beyond mlpack's limit of ${MAX_PRECISION_ELEMENTS} elements`);
  }
  const { precision, logDet } = pcaPrecision(node);
  const mean = node.mean!;
  const constant = 0.5 * (f * Math.log(2 * Math.PI) - logDet);
  const xr = new Float64Array(f);
  const out = new Float64Array(x.rows);
  for (let r = 0; r < x.rows; r++) {
    const o = r * f;
    for (let j = 0; j < f; j++) xr[j] = x.data[o + j]! - mean[j]!;
    let q = 0;
    for (let a = 0; a < f; a++) {
      let s = 0;
      for (let b = 0; b < f; b++) s += xr[b]! * precision[b * f + a]!;
      q += xr[a]! * s;
    }
    out[r] = -0.5 * q - constant;
  }
  return { kind: 'vector', data: out };
}

const CENTER_NORMS = new WeakMap<KMeansIR, Float64Array>();

function centerNorms(node: KMeansIR): Float64Array {
  let n = CENTER_NORMS.get(node);
  if (!n) {
    const f = node.centers.length / node.nClusters;
    n = new Float64Array(node.nClusters);
    for (let c = 0; c < node.nClusters; c++) {
      let s = 0;
      for (let j = 0; j < f; j++) s += node.centers[c * f + j]! * node.centers[c * f + j]!;
      n[c] = s;
    }
    CENTER_NORMS.set(node, n);
  }
  return n;
}

function runKMeans(node: KMeansIR, input: Frame, method: Method): Output {
  const x = numeric(node, input);
  const { rows, cols } = x;
  const k = node.nClusters;
  const centers = node.centers;
  const cn = centerNorms(node);
  const dots = new Float64Array(k);
  if (method === 'predict') {
    const labels: number[] = new Array(rows);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let best = 0;
      let bestDist = Infinity;
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < cols; j++) s += x.data[o + j]! * centers[c * cols + j]!;
        // ||c||² - 2·x·c; the first centre wins ties (strict <), as in _kmeans_common.
        const d = cn[c]! + -2 * s;
        if (c === 0 || d < bestDist) {
          bestDist = d;
          best = c;
        }
      }
      labels[r] = best;
    }
    return { kind: 'labels', dtype: 'int64', values: labels };
  }
  // transform: euclidean_distances(X, cluster_centers_) = sqrt(max(-2·x·c + ||x||² + ||c||², 0)).
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let xx = 0;
    for (let j = 0; j < cols; j++) xx += x.data[o + j]! * x.data[o + j]!;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += x.data[o + j]! * centers[c * cols + j]!;
      dots[c] = s;
    }
    for (let c = 0; c < k; c++) {
      const d = -2 * dots[c]! + xx + cn[c]!;
      out[r * k + c] = Math.sqrt(d > 0 ? d : Number.isNaN(d) ? d : 0);
    }
  }
  return matrix(rows, k, out);
}

export const preprocessing: NativeFamily = {
  types: PREPROCESSING_TYPES,
  run(node, input, method, ctx) {
    const n = node as PreprocessingIR;
    switch (n.type) {
      case 'scaler':
        return runScaler(n, input);
      case 'normalizer':
        return runNormalizer(n, input);
      case 'binarizer':
        return runBinarizer(n, input);
      case 'polynomial_features':
        return runPolynomial(n, input);
      case 'simple_imputer':
        return runImputer(n, input);
      case 'knn_imputer':
        return runKnnImputer(n, input);
      case 'missing_indicator':
        return runMissingIndicator(n, input);
      case 'one_hot_encoder':
        return runOneHot(n, input);
      case 'ordinal_encoder':
        return runOrdinal(n, input);
      case 'label_encoder':
        return runLabelEncoder(n, input);
      case 'label_binarizer':
        return runLabelBinarizer(n, input);
      case 'bins_discretizer':
        return runBins(n, input);
      case 'feature_selector':
        return runSelector(n, input, method, ctx);
      case 'projection':
        return runProjection(n, input, method);
      case 'kmeans':
        return runKMeans(n, input, method);
      case 'identity':
        return numeric(n, input);
    }
  },
};
