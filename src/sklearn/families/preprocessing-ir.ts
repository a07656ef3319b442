/**
 * IR nodes of the preprocessing family: scalers, encoders, imputers, feature selectors,
 * projections (PCA & co.) and k-means. Each node holds what inference needs, already resolved
 * from whichever scikit-learn layout wrote it (infrequent-category grouping, dropped columns,
 * empty features and the like are folded into per-category slots and index lists), so the
 * evaluator and the ONNX lowering never look at versions.
 */
import type { EstimatorIR } from '../../ir/model.js';

/**
 * A category as scikit-learn stored it: numbers (ints and floats alike; `NaN` for a missing-value
 * category), strings, or null for a `None` category of an object column. Booleans are stored
 * as 0/1, since Python compares True == 1.
 */
export type CategoryValue = number | string | null;

/** y = ((x - center) / divisor) * factor + offset, then clipped; a null step is skipped. */
export interface ScalerIR extends EstimatorIR {
  type: 'scaler';
  center: Float64Array | null;
  divisor: Float64Array | null;
  factor: Float64Array | null;
  offset: Float64Array | null;
  clip: readonly [number, number] | null;
}

/** Each row divided by its norm (a zero norm leaves the row as is). */
export interface NormalizerIR extends EstimatorIR {
  type: 'normalizer';
  norm: 'l1' | 'l2' | 'max';
}

/** 1 where x > threshold, else 0. */
export interface BinarizerIR extends EstimatorIR {
  type: 'binarizer';
  threshold: number;
}

/** Output column j = product of the input columns terms[j] (repeats allowed; empty = bias 1). */
export interface PolynomialIR extends EstimatorIR {
  type: 'polynomial_features';
  terms: Int32Array[];
}

/** Which cells count as missing: NaN (and null cells) when `missing` is NaN, else cells equal to it. */
export interface MissingMask {
  missing: number;
  /** Input columns reported, in output order. */
  features: Int32Array;
  /** Missing values in a column outside `features` are an error (MissingIndicator error_on_new). */
  errorOnNew: boolean;
}

/** Missing cells of the kept columns take fill[j]; an indicator block may follow. */
export interface ImputerIR extends EstimatorIR {
  type: 'simple_imputer';
  missing: number;
  /** Input columns in the output (features with no statistic are dropped). */
  keep: Int32Array;
  /** Fill value per kept column. */
  fill: Float64Array;
  indicator: MissingMask | null;
}

/**
 * KNNImputer: each missing cell of a valid column takes the (uniform or 1/distance weighted)
 * mean of that column over the nearest fit rows that have it, by nan_euclidean distance
 * (see runtime/native/knn-imputer.ts for the rules); an indicator block may follow.
 */
export interface KnnImputerIR extends EstimatorIR {
  type: 'knn_imputer';
  nNeighbors: number;
  weights: 'uniform' | 'distance';
  /** Fit rows, nSamples × nFeatures (`_fit_X`), NaN where missing. */
  fitX: Float64Array;
  nSamples: number;
  /** 1 where the fit cell is missing (`_mask_fit_X`). */
  fitMissing: Uint8Array;
  /** 1 for columns with at least one observed fit value (`_valid_mask`). */
  valid: Uint8Array;
  /** keep_empty_features: invalid columns stay in the output as 0 instead of being dropped. */
  keepEmpty: boolean;
  /** Mean of the observed fit values per column (NaN for an all-missing column): the no-donor fallback. */
  colMean: Float64Array;
  indicator: MissingMask | null;
}

export interface MissingIndicatorIR extends EstimatorIR {
  type: 'missing_indicator';
  mask: MissingMask;
}

/** How one input column of a one-hot encoder maps to output columns. */
export interface OneHotColumn {
  categories: CategoryValue[];
  /** Output column (within this column's block) per category, -1 for a dropped category. */
  slots: Int32Array;
  /** Width of this column's block. */
  width: number;
  /** Block column an unknown value sets (-1: all zeros), or null when an unknown value is an error. */
  unknownSlot: number | null;
}

export interface OneHotEncoderIR extends EstimatorIR {
  type: 'one_hot_encoder';
  encoders: OneHotColumn[];
}

export interface OrdinalColumn {
  categories: CategoryValue[];
  /** Output value per category (the missing-value category gives encoded_missing_value). */
  values: Float64Array;
  /** Output for an unknown value, or null when it is an error. */
  unknown: number | null;
}

export interface OrdinalEncoderIR extends EstimatorIR {
  type: 'ordinal_encoder';
  encoders: OrdinalColumn[];
}

/** A flat list of labels to their index in classes (unknown labels are an error). */
export interface LabelEncoderIR extends EstimatorIR {
  type: 'label_encoder';
  labels: CategoryValue[];
}

/** A flat list of labels to one-vs-all indicator rows (one column when there are two classes). */
export interface LabelBinarizerIR extends EstimatorIR {
  type: 'label_binarizer';
  labels: CategoryValue[];
  posLabel: number;
  negLabel: number;
}

/** Keep the listed input columns, in order. */
export interface FeatureSelectorIR extends EstimatorIR {
  type: 'feature_selector';
  support: Int32Array;
  /** RFE/RFECV: the estimator fitted on the selected columns (predict & co. go through it). */
  estimator: EstimatorIR | null;
}

/** Bins by inner edges: bin = number of inner edges <= x; one-hot encoded when `onehot`. */
export interface BinsIR extends EstimatorIR {
  type: 'bins_discretizer';
  edges: Float64Array[];
  onehot: boolean;
}

/**
 * y = ((x - mean) @ components.T) / divisor (PCA, TruncatedSVD, IncrementalPCA, FastICA). `gaussian`
 * holds PCA's probabilistic model for score_samples.
 */
export interface ProjectionIR extends EstimatorIR {
  type: 'projection';
  mean: Float64Array | null;
  /** nComponents × nFeatures, row-major. */
  components: Float64Array;
  nComponents: number;
  divisor: Float64Array | null;
  gaussian: { explainedVariance: Float64Array; noiseVariance: number; whiten: boolean } | null;
}

/** Nearest centre (first one on ties) and euclidean distances to every centre. */
export interface KMeansIR extends EstimatorIR {
  type: 'kmeans';
  /** nClusters × nFeatures, row-major. */
  centers: Float64Array;
  nClusters: number;
}

/** FunctionTransformer without a function: the input, as numbers. */
export interface IdentityIR extends EstimatorIR {
  type: 'identity';
}

export const PREPROCESSING_TYPES = [
  'scaler',
  'normalizer',
  'binarizer',
  'polynomial_features',
  'simple_imputer',
  'knn_imputer',
  'missing_indicator',
  'one_hot_encoder',
  'ordinal_encoder',
  'label_encoder',
  'label_binarizer',
  'feature_selector',
  'bins_discretizer',
  'projection',
  'kmeans',
  'identity',
] as const;

export type PreprocessingIR =
  | ScalerIR
  | NormalizerIR
  | BinarizerIR
  | PolynomialIR
  | ImputerIR
  | KnnImputerIR
  | MissingIndicatorIR
  | OneHotEncoderIR
  | OrdinalEncoderIR
  | LabelEncoderIR
  | LabelBinarizerIR
  | FeatureSelectorIR
  | BinsIR
  | ProjectionIR
  | KMeansIR
  | IdentityIR;

// ---------------------------------------------------------------------------------------------
// Derived quantities both consumers need, computed once per node.

const PRECISION = new WeakMap<ProjectionIR, { precision: Float64Array; logDet: number }>();

/**
 * PCA's precision matrix (nFeatures × nFeatures) and the log-determinant scikit-learn's
 * score_samples uses, following _BasePCA.get_precision: the matrix inversion lemma when the noise
 * variance is non-zero, else the inverse of get_covariance(). logDet is -Infinity for a matrix
 * that is not positive definite (fast_logdet).
 */
export function pcaPrecision(node: ProjectionIR): { precision: Float64Array; logDet: number } {
  let cached = PRECISION.get(node);
  if (cached) return cached;
  const g = node.gaussian;
  if (!g) throw new TypeError(`${node.sourceClass} has no probabilistic model`);
  const f = node.nFeatures ?? 0;
  const k = node.nComponents;
  const sigma2 = g.noiseVariance;
  // components scaled by sqrt(explained_variance) when whitened.
  const comp = new Float64Array(node.components);
  if (g.whiten) for (let i = 0; i < k; i++) for (let j = 0; j < f; j++) comp[i * f + j]! *= Math.sqrt(g.explainedVariance[i]!);
  const diff = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const ev = g.explainedVariance[i]!;
    diff[i] = ev > sigma2 ? ev - sigma2 : 0;
  }
  let precision: Float64Array;
  if (k === 0) {
    precision = new Float64Array(f * f);
    for (let i = 0; i < f; i++) precision[i * f + i] = 1 / sigma2;
  } else if (sigma2 === 0) {
    // cov = comp.T * diff @ comp + sigma2 * I, inverted directly.
    const cov = new Float64Array(f * f);
    for (let a = 0; a < f; a++) {
      for (let b = 0; b < f; b++) {
        let s = 0;
        for (let i = 0; i < k; i++) s += comp[i * f + a]! * diff[i]! * comp[i * f + b]!;
        cov[a * f + b] = s;
      }
      cov[a * f + a]! += sigma2;
    }
    precision = invert(cov, f);
  } else {
    // inner = comp @ comp.T / sigma2 + diag(1 / diff); P = -(comp.T @ inv(inner) @ comp) / sigma2² + I / sigma2.
    const inner = new Float64Array(k * k);
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        let s = 0;
        for (let j = 0; j < f; j++) s += comp[a * f + j]! * comp[b * f + j]!;
        inner[a * k + b] = s / sigma2;
      }
      inner[a * k + a]! += 1 / diff[a]!;
    }
    const innerInv = invert(inner, k);
    // tmp = innerInv @ comp (k × f)
    const tmp = new Float64Array(k * f);
    for (let a = 0; a < k; a++) {
      for (let j = 0; j < f; j++) {
        let s = 0;
        for (let b = 0; b < k; b++) s += innerInv[a * k + b]! * comp[b * f + j]!;
        tmp[a * f + j] = s;
      }
    }
    precision = new Float64Array(f * f);
    const s2 = sigma2 * sigma2;
    for (let a = 0; a < f; a++) {
      for (let b = 0; b < f; b++) {
        let s = 0;
        for (let i = 0; i < k; i++) s += comp[i * f + a]! * tmp[i * f + b]!;
        precision[a * f + b] = s / -s2;
      }
      precision[a * f + a]! += 1 / sigma2;
    }
  }
  cached = { precision, logDet: logDeterminant(precision, f) };
  PRECISION.set(node, cached);
  return cached;
}

/** Inverse of an n × n matrix by Gauss-Jordan elimination with partial pivoting (NaN when singular). */
export function invert(m: Float64Array, n: number): Float64Array {
  const a = new Float64Array(m);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[p * n + c]!)) p = r;
    const pivot = a[p * n + c]!;
    if (pivot === 0 || !Number.isFinite(pivot)) return inv.fill(NaN);
    if (p !== c) {
      for (let j = 0; j < n; j++) {
        const t = a[c * n + j]!;
        a[c * n + j] = a[p * n + j]!;
        a[p * n + j] = t;
        const u = inv[c * n + j]!;
        inv[c * n + j] = inv[p * n + j]!;
        inv[p * n + j] = u;
      }
    }
    for (let j = 0; j < n; j++) {
      a[c * n + j]! /= pivot;
      inv[c * n + j]! /= pivot;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const factor = a[r * n + c]!;
      if (factor === 0) continue;
      for (let j = 0; j < n; j++) {
        a[r * n + j]! -= factor * a[c * n + j]!;
        inv[r * n + j]! -= factor * inv[c * n + j]!;
      }
    }
  }
  return inv;
}

/** log(det(m)) by LU decomposition with partial pivoting; -Infinity unless the determinant is positive. */
export function logDeterminant(m: Float64Array, n: number): number {
  const a = new Float64Array(m);
  let sign = 1;
  let logDet = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[p * n + c]!)) p = r;
    const pivot = a[p * n + c]!;
    if (pivot === 0 || Number.isNaN(pivot)) return -Infinity;
    if (p !== c) {
      sign = -sign;
      for (let j = 0; j < n; j++) {
        const t = a[c * n + j]!;
        a[c * n + j] = a[p * n + j]!;
        a[p * n + j] = t;
      }
    }
    if (pivot < 0) sign = -sign;
    logDet += Math.log(Math.abs(pivot));
    for (let r = c + 1; r < n; r++) {
      const factor = a[r * n + c]! / pivot;
      if (factor === 0) continue;
      for (let j = c; j < n; j++) a[r * n + j]! -= factor * a[c * n + j]!;
    }
  }
  return sign > 0 ? logDet : -Infinity;
}
