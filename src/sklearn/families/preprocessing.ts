/**
 * Reader for the preprocessing family: scalers, normalizers, polynomial features, encoders,
 * imputers, feature selectors, decompositions and k-means, from scikit-learn 0.2x to 1.9 layouts.
 * Facts read from scikit-learn's sources (preprocessing/_data.py, _encoders.py, _label.py,
 * _polynomial.py, _discretization.py, impute/_base.py, impute/_knn.py, feature_selection/*,
 * decomposition/*, cluster/_kmeans.py); the version differences handled are noted where they matter.
 */
import { MlpackError, malformed, unsupported } from '../../errors.js';
import type { EstimatorIR, InputColumn, Method } from '../../ir/model.js';
import { NdArray, PyObject } from '../../ir/object-graph.js';
import type { PyValue } from '../../ir/object-graph.js';
import type { ModelKind } from '../../api/types.js';
import { int, items, num, str, stringList } from '../values.js';
import { attr, f64 } from './common.js';
import type {
  BinarizerIR,
  BinsIR,
  CategoryValue,
  FeatureSelectorIR,
  IdentityIR,
  ImputerIR,
  KMeansIR,
  KnnImputerIR,
  LabelBinarizerIR,
  LabelEncoderIR,
  MissingIndicatorIR,
  MissingMask,
  NormalizerIR,
  OneHotColumn,
  OneHotEncoderIR,
  OrdinalColumn,
  OrdinalEncoderIR,
  PolynomialIR,
  ProjectionIR,
  ScalerIR,
} from './preprocessing-ir.js';
import {
  bad,
  boolParam,
  categoryColumn,
  categoryValues,
  describe,
  indexList,
  intDict,
  maskIndices,
  matrixAttr,
  numberParam,
  optionalVector,
  stringParam,
  vector,
  versionBefore,
  where,
} from './preprocessing-values.js';
import { hasTreeImportances, treeImportances } from './preprocessing-importances.js';
import type { FamilyReader, ReadContext } from './types.js';

/** Polynomial terms × factors a model may ask for: a degree-50 expansion of 1000 features must not allocate gigabytes. */
const MAX_POLYNOMIAL_FACTORS = 2 ** 26;

/** Fields every node of this family starts from. */
function base<T extends string>(obj: PyObject, type: T, kind: ModelKind, methods: Method[], nFeatures: number | null, nOutputs: number | null) {
  const nf = int(obj.attr('n_features_in_'));
  if (nf !== undefined && nFeatures !== null && nf !== nFeatures) {
    throw malformed(`${obj.className.split('.').pop()}: n_features_in_ is ${nf} but its fitted arrays have ${nFeatures} features`, { field: 'n_features_in_' });
  }
  const featureNames = stringList(obj.attr('feature_names_in_'));
  const n = nFeatures ?? nf ?? featureNames?.length ?? null;
  if (featureNames && n !== null && featureNames.length !== n) {
    throw malformed(`${obj.className.split('.').pop()}: feature_names_in_ has ${featureNames.length} names for ${n} features`, { field: 'feature_names_in_' });
  }
  const ir: EstimatorIR & { type: T } = {
    type,
    sourceClass: obj.className,
    kind,
    nFeatures: n,
    featureNames,
    classes: null,
    methods,
    nOutputs,
  };
  return ir;
}

function numericColumns(names: string[] | null, n: number, min?: Float64Array | null, max?: Float64Array | null): InputColumn[] {
  return Array.from({ length: n }, (_, j) => {
    const c: InputColumn = { name: names?.[j] ?? null, kind: 'number' };
    if (min && max) {
      c.min = min[j]!;
      c.max = max[j]!;
    }
    return c;
  });
}

function featureCount(obj: PyObject): number | null {
  return int(obj.attr('n_features_in_')) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Scalers

function scaler(obj: PyObject, parts: Omit<ScalerIR, keyof EstimatorIR | 'type'>, n: number, min?: Float64Array | null, max?: Float64Array | null): ScalerIR {
  const ir = base(obj, 'scaler', 'transformer', ['transform'], n, n);
  return { ...ir, ...parts, columns: numericColumns(ir.featureNames, n, min, max) };
}

function lengthOf(obj: PyObject, path: string, names: string[]): number {
  for (const name of names) {
    const v = obj.attr(name);
    if (v instanceof NdArray) return vector(obj, name, path, null).length;
  }
  const n = featureCount(obj);
  if (n === null) bad(obj, path, names[0]!, 'is missing; is the estimator fitted?');
  return n;
}

function readStandardScaler(obj: PyObject, path: string): ScalerIR {
  const withMean = boolParam(obj, 'with_mean', true);
  const withStd = boolParam(obj, 'with_std', true);
  const n = lengthOf(obj, path, ['scale_', 'mean_', 'var_']);
  const center = withMean ? vector(obj, 'mean_', path, n) : null;
  // scale_ is None when with_std=False; zero variances were already replaced by 1 at fit.
  const divisor = withStd ? vector(obj, 'scale_', path, n) : null;
  return scaler(obj, { center, divisor, factor: null, offset: null, clip: null }, n);
}

function readMinMaxScaler(obj: PyObject, path: string): ScalerIR {
  const n = lengthOf(obj, path, ['scale_', 'min_']);
  const factor = vector(obj, 'scale_', path, n);
  const offset = vector(obj, 'min_', path, n);
  // `clip` exists from scikit-learn 0.24; older files never clip.
  let clip: [number, number] | null = null;
  if (boolParam(obj, 'clip', false)) {
    const range = items(obj.attr('feature_range'));
    const lo = num(range?.[0]);
    const hi = num(range?.[1]);
    if (!range || range.length !== 2 || lo === undefined || hi === undefined) bad(obj, path, 'feature_range', `is ${describe(obj.attr('feature_range'))}, expected (min, max)`);
    clip = [lo, hi];
  }
  return scaler(obj, { center: null, divisor: null, factor, offset, clip }, n, optionalVector(obj, 'data_min_', path, n), optionalVector(obj, 'data_max_', path, n));
}

function readMaxAbsScaler(obj: PyObject, path: string): ScalerIR {
  const n = lengthOf(obj, path, ['scale_', 'max_abs_']);
  const divisor = vector(obj, 'scale_', path, n);
  // `clip` (scikit-learn 1.8+) bounds the output to [-1, 1].
  const clip: [number, number] | null = boolParam(obj, 'clip', false) ? [-1, 1] : null;
  return scaler(obj, { center: null, divisor, factor: null, offset: null, clip }, n);
}

function readRobustScaler(obj: PyObject, path: string): ScalerIR {
  const n = lengthOf(obj, path, ['center_', 'scale_']);
  const center = boolParam(obj, 'with_centering', true) ? vector(obj, 'center_', path, n) : null;
  const divisor = boolParam(obj, 'with_scaling', true) ? vector(obj, 'scale_', path, n) : null;
  return scaler(obj, { center, divisor, factor: null, offset: null, clip: null }, n);
}

// ---------------------------------------------------------------------------------------------
// Row-wise transformers

function readNormalizer(obj: PyObject, path: string): NormalizerIR {
  const norm = stringParam(obj, 'norm', path, 'l2');
  if (norm !== 'l1' && norm !== 'l2' && norm !== 'max') bad(obj, path, 'norm', `is ${JSON.stringify(norm)}, expected "l1", "l2" or "max"`);
  const n = featureCount(obj);
  return { ...base(obj, 'normalizer', 'transformer', ['transform'], n, n), norm };
}

function readBinarizer(obj: PyObject, path: string): BinarizerIR {
  const n = featureCount(obj);
  return { ...base(obj, 'binarizer', 'transformer', ['transform'], n, n), threshold: numberParam(obj, 'threshold', path, 0) };
}

function readPolynomialFeatures(obj: PyObject, path: string): PolynomialIR {
  const n = featureCount(obj) ?? int(obj.attr('n_input_features_'));
  if (n === undefined || n === null) bad(obj, path, 'n_features_in_', 'is missing; is the estimator fitted?');
  const interactionOnly = boolParam(obj, 'interaction_only', false);
  const includeBias = boolParam(obj, 'include_bias', true);
  // `degree` is an int, or (min, max) from 1.0, which also stores _min_degree/_max_degree.
  let minDegree = int(obj.attr('_min_degree'));
  let maxDegree = int(obj.attr('_max_degree'));
  if (minDegree === undefined || maxDegree === undefined) {
    const degree = obj.attr('degree');
    const pair = items(degree);
    if (pair && pair.length === 2) {
      minDegree = int(pair[0]);
      maxDegree = int(pair[1]);
    } else {
      minDegree = 0;
      maxDegree = int(degree);
    }
  }
  if (minDegree === undefined || maxDegree === undefined || minDegree < 0 || maxDegree < minDegree) {
    bad(obj, path, 'degree', `is ${describe(obj.attr('degree'))}, expected a degree or (min, max) degrees`);
  }
  // Count before building: C(n, d) terms of degree d with interaction_only, else C(n + d - 1, d).
  let factors = 0;
  for (let d = Math.max(1, minDegree); d <= maxDegree && factors <= MAX_POLYNOMIAL_FACTORS; d++) factors += d * binomial(interactionOnly ? n : n + d - 1, d);
  if (factors > MAX_POLYNOMIAL_FACTORS) {
    throw unsupported(`${where(obj, path)}: degree ${maxDegree} over ${n} features makes more than ${MAX_POLYNOMIAL_FACTORS} product factors`);
  }
  const terms: Int32Array[] = [];
  if (includeBias) terms.push(new Int32Array(0));
  for (let d = Math.max(1, minDegree); d <= maxDegree; d++) {
    // itertools.combinations(_with_replacement)(range(n), d), in lexicographic order.
    const c = Array.from({ length: d }, (_, i) => (interactionOnly ? i : 0));
    if (interactionOnly && d > n) break;
    for (;;) {
      terms.push(Int32Array.from(c));
      let i = d - 1;
      while (i >= 0 && c[i] === (interactionOnly ? n - d + i : n - 1)) i--;
      if (i < 0) break;
      c[i]!++;
      for (let j = i + 1; j < d; j++) c[j] = interactionOnly ? c[j - 1]! + 1 : c[i]!;
    }
  }
  const declared = int(obj.attr('n_output_features_'));
  if (declared !== undefined && declared !== terms.length) {
    bad(obj, path, 'n_output_features_', `is ${declared}, but degree ${maxDegree} over ${n} features makes ${terms.length} terms`);
  }
  const ir = base(obj, 'polynomial_features', 'transformer', ['transform'], n, terms.length);
  return { ...ir, terms, columns: numericColumns(ir.featureNames, n) };
}

/** n choose k as a float (Infinity once it overflows; 0 when k > n). */
function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

function readFunctionTransformer(obj: PyObject, path: string): IdentityIR {
  const func = obj.attr('func');
  if (func !== undefined && func !== null) {
    throw unsupported(`${where(obj, path)} calls a Python function (${describe(func)}); mlpack never runs pickled code, so only FunctionTransformer(func=None) is supported`, {
      field: path ? `${path}.func` : 'func',
    });
  }
  const n = featureCount(obj);
  return base(obj, 'identity', 'transformer', ['transform'], n, n) as IdentityIR;
}

// ---------------------------------------------------------------------------------------------
// Imputation

/** The numeric missing-value marker (NaN for np.nan, None and pd.NA). */
function missingMarker(obj: PyObject, path: string): number {
  const v = obj.attr('missing_values');
  if (v === undefined || v === null) return NaN;
  const n = num(v);
  if (n !== undefined) return n;
  if (v instanceof PyObject && /NAType|NaTType/.test(v.className)) return NaN;
  throw unsupported(`${where(obj, path)} treats ${describe(v)} as missing; mlpack imputes numeric data only`, { field: path ? `${path}.missing_values` : 'missing_values' });
}

function readIndicatorMask(obj: PyObject, path: string, n: number | null): MissingMask {
  const bound = n ?? int(obj.attr('_n_features')) ?? Number.MAX_SAFE_INTEGER;
  const features = indexList(attr(obj, 'features_', path), () => `${where(obj, path)}: features_`, bound);
  const onlyMissing = (str(obj.attr('features')) ?? 'missing-only') === 'missing-only';
  return { missing: missingMarker(obj, path), features, errorOnNew: onlyMissing && boolParam(obj, 'error_on_new', true) };
}

function readSimpleImputer(obj: PyObject, path: string): ImputerIR {
  const statsValue = attr(obj, 'statistics_', path);
  const strategy = str(obj.attr('strategy')) ?? 'mean';
  let stats: Float64Array;
  if (statsValue instanceof NdArray && Array.isArray(statsValue.data)) {
    // Object statistics (most_frequent / constant on object data): numbers only.
    const values = statsValue.data as PyValue[];
    stats = Float64Array.from(values, (v) => {
      const x = v === null ? NaN : num(v);
      if (x === undefined) {
        throw unsupported(`${where(obj, path)} fills in ${describe(v)}; mlpack imputes numeric data only`, { field: path ? `${path}.statistics_` : 'statistics_' });
      }
      return x;
    });
  } else {
    stats = vector(obj, 'statistics_', path, null);
  }
  const n = stats.length;
  // Features whose statistic is NaN (no observed value at fit) are dropped unless
  // keep_empty_features (1.2+). Before 1.8, strategy='constant' kept every feature.
  const keepAll = boolParam(obj, 'keep_empty_features', false) || (strategy === 'constant' && versionBefore(obj, 1, 8));
  const keep: number[] = [];
  for (let j = 0; j < n; j++) if (keepAll || !Number.isNaN(stats[j]!)) keep.push(j);
  const missing = missingMarker(obj, path);
  let indicator: MissingMask | null = null;
  if (boolParam(obj, 'add_indicator', false)) {
    const ind = attr(obj, 'indicator_', path);
    if (!(ind instanceof PyObject)) bad(obj, path, 'indicator_', `is ${describe(ind)}, expected a MissingIndicator`);
    // SimpleImputer's own indicator never raises on new missing features (error_on_new=False).
    indicator = { ...readIndicatorMask(ind, `${path ? `${path}.` : ''}indicator_`, n), missing, errorOnNew: false };
  }
  const ir = base(obj, 'simple_imputer', 'transformer', ['transform'], n, keep.length + (indicator?.features.length ?? 0));
  return { ...ir, missing, keep: Int32Array.from(keep), fill: Float64Array.from(keep, (j) => stats[j]!), indicator, columns: numericColumns(ir.featureNames, n) };
}

/**
 * KNNImputer (impute/_knn.py): `_fit_X` keeps the fit rows with their NaNs, `_mask_fit_X` marks
 * them and `_valid_mask` the columns not missing throughout (1.2 names; unchanged up to 1.9).
 * transform measures nan_euclidean distances, the only metric mlpack evaluates; a callable
 * metric or weight function would need Python. Only NaN as the missing marker is supported:
 * another marker changes which input cells are validated and masked.
 */
function readKnnImputer(obj: PyObject, path: string): KnnImputerIR {
  const missing = missingMarker(obj, path);
  if (!Number.isNaN(missing)) {
    throw unsupported(`${where(obj, path)} treats ${missing} as missing; mlpack's KNNImputer supports missing_values=np.nan only`, { field: path ? `${path}.missing_values` : 'missing_values' });
  }
  const metric = obj.attr('metric');
  if (metric !== undefined && metric !== null && str(metric) !== 'nan_euclidean') {
    throw unsupported(`${where(obj, path)} measures distances with ${describe(metric)}; only metric='nan_euclidean' is supported`, { field: path ? `${path}.metric` : 'metric' });
  }
  const weightsValue = obj.attr('weights');
  const weights = weightsValue === undefined || weightsValue === null ? 'uniform' : str(weightsValue);
  if (weights !== 'uniform' && weights !== 'distance') {
    throw unsupported(`${where(obj, path)} weights neighbours with ${describe(weightsValue)}; supported: 'uniform', 'distance'`, { field: path ? `${path}.weights` : 'weights' });
  }
  const nNeighbors = int(obj.attr('n_neighbors'));
  if (nNeighbors === undefined || nNeighbors < 1) bad(obj, path, 'n_neighbors', `is ${describe(obj.attr('n_neighbors'))}, expected an integer ≥ 1`);

  const fit = matrixAttr(obj, '_fit_X', path, featureCount(obj));
  if (fit.rows === 0) bad(obj, path, '_fit_X', 'holds no fit rows');
  const n = fit.cols;
  const fitMissing = Uint8Array.from(fit.data, (v) => (Number.isNaN(v) ? 1 : 0));
  // The stored masks are derived from _fit_X at fit; a file where they disagree is doctored.
  if (obj.attr('_mask_fit_X') !== undefined) {
    const stored = matrixAttr(obj, '_mask_fit_X', path, n, fit.rows).data;
    if (stored.some((v, i) => (v !== 0 ? 1 : 0) !== fitMissing[i])) bad(obj, path, '_mask_fit_X', 'does not mark the NaN cells of _fit_X');
  }
  const valid = new Uint8Array(n);
  const colMean = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    // np.ma.mean: the sum of the observed values over their count.
    let sum = 0;
    let count = 0;
    for (let r = 0; r < fit.rows; r++) {
      if (!fitMissing[r * n + j]) {
        sum += fit.data[r * n + j]!;
        count++;
      }
    }
    valid[j] = count > 0 ? 1 : 0;
    colMean[j] = count > 0 ? sum / count : NaN;
  }
  if (obj.attr('_valid_mask') !== undefined) {
    const stored = vector(obj, '_valid_mask', path, n);
    if (stored.some((v, j) => (v !== 0 ? 1 : 0) !== valid[j])) bad(obj, path, '_valid_mask', 'does not match the columns of _fit_X that have observed values');
  }
  const keepEmpty = boolParam(obj, 'keep_empty_features', false);
  let indicator: MissingMask | null = null;
  if (boolParam(obj, 'add_indicator', false)) {
    const ind = attr(obj, 'indicator_', path);
    if (!(ind instanceof PyObject)) bad(obj, path, 'indicator_', `is ${describe(ind)}, expected a MissingIndicator`);
    // _BaseImputer fits its indicator with error_on_new=False.
    indicator = { ...readIndicatorMask(ind, `${path ? `${path}.` : ''}indicator_`, n), missing, errorOnNew: false };
  }
  const kept = keepEmpty ? n : valid.reduce((a, v) => a + v, 0);
  const ir = base(obj, 'knn_imputer', 'transformer', ['transform'], n, kept + (indicator?.features.length ?? 0));
  return {
    ...ir,
    nNeighbors,
    weights,
    fitX: fit.data,
    nSamples: fit.rows,
    fitMissing,
    valid,
    keepEmpty,
    colMean,
    indicator,
    columns: numericColumns(ir.featureNames, n),
  };
}

function readMissingIndicator(obj: PyObject, path: string): MissingIndicatorIR {
  const n = featureCount(obj) ?? int(obj.attr('_n_features')) ?? null;
  const mask = readIndicatorMask(obj, path, n);
  return { ...base(obj, 'missing_indicator', 'transformer', ['transform'], n, mask.features.length), mask };
}

// ---------------------------------------------------------------------------------------------
// Encoders

interface EncoderBase {
  categories: CategoryValue[][];
  handleUnknown: string;
  /** Per feature: category index → grouped index (infrequent categories share one), or null. */
  grouping: Array<Int32Array | null>;
  /** Per feature: indices of the infrequent categories, or null. */
  infrequent: Array<Int32Array | null>;
  infrequentEnabled: boolean;
}

function readEncoderBase(obj: PyObject, path: string): EncoderBase {
  const cats = obj.attr('categories_');
  if (cats === undefined) {
    if (obj.attr('n_values_') !== undefined || obj.attr('active_features_') !== undefined) {
      throw unsupported(`${where(obj, path)} uses the pre-0.20 OneHotEncoder layout (n_values_/active_features_), which mlpack does not read`);
    }
    attr(obj, 'categories_', path);
  }
  const lists = items(cats);
  if (!lists) bad(obj, path, 'categories_', `is ${describe(cats)}, expected a list of arrays`);
  const categories = lists.map((c, i) => categoryValues(c, () => `${where(obj, path)}: categories_[${i}]`));
  const handleUnknown = stringParam(obj, 'handle_unknown', path, 'error');
  const infrequentEnabled = boolParam(obj, '_infrequent_enabled', false);
  const grouping: Array<Int32Array | null> = categories.map(() => null);
  const infrequent: Array<Int32Array | null> = categories.map(() => null);
  if (infrequentEnabled) {
    const idx = items(attr(obj, '_infrequent_indices', path));
    const maps = items(attr(obj, '_default_to_infrequent_mappings', path));
    if (!idx || idx.length !== categories.length) bad(obj, path, '_infrequent_indices', `does not list ${categories.length} features`);
    if (!maps || maps.length !== categories.length) bad(obj, path, '_default_to_infrequent_mappings', `does not list ${categories.length} features`);
    categories.forEach((c, i) => {
      if (idx[i] === null || idx[i] === undefined) return;
      infrequent[i] = indexList(idx[i], () => `${where(obj, path)}: _infrequent_indices[${i}]`, c.length);
      // The mapping covers every category (OneHotEncoder), or all but a trailing missing one (OrdinalEncoder, 1.3+).
      const mapping = indexList(maps[i], () => `${where(obj, path)}: _default_to_infrequent_mappings[${i}]`, c.length);
      if (mapping.length !== c.length && mapping.length !== c.length - 1) {
        bad(obj, path, `_default_to_infrequent_mappings[${i}]`, `has ${mapping.length} entries for ${c.length} categories`);
      }
      if (infrequent[i]!.length === 0) bad(obj, path, `_infrequent_indices[${i}]`, 'is empty');
      grouping[i] = mapping;
    });
  }
  return { categories, handleUnknown, grouping, infrequent, infrequentEnabled };
}

function encoderColumns(featureNames: string[] | null, categories: CategoryValue[][]): InputColumn[] {
  return categories.map((c, i) => categoryColumn(featureNames?.[i] ?? null, c));
}

/** drop indices in the grouped category space: `_drop_idx_after_grouping` (1.3+), else `drop_idx_`. */
function dropIndices(obj: PyObject, path: string, nGrouped: number[]): Array<number | null> {
  const name = obj.attr('_drop_idx_after_grouping') !== undefined ? '_drop_idx_after_grouping' : 'drop_idx_';
  const v = obj.attr(name);
  if (v === undefined || v === null) return nGrouped.map(() => null);
  const list = v instanceof NdArray && !Array.isArray(v.data) ? Array.from(f64(v, name).data) : items(v)?.map((x) => (x === null ? null : (int(x) ?? NaN)));
  if (!list || list.length !== nGrouped.length) bad(obj, path, name, `is ${describe(v)}, expected one entry per feature`);
  return list.map((d, i) => {
    if (d === null) return null;
    if (!Number.isInteger(d) || d < 0 || d >= nGrouped[i]!) bad(obj, path, `${name}[${i}]`, `is ${d}, expected an index below ${nGrouped[i]}`);
    return d;
  });
}

function readOneHotEncoder(obj: PyObject, path: string): OneHotEncoderIR {
  const enc = readEncoderBase(obj, path);
  const nGrouped = enc.categories.map((c, i) => {
    const g = enc.grouping[i];
    return g ? Math.max(...g) + 1 : c.length;
  });
  const drop = dropIndices(obj, path, nGrouped);
  const declared = items(obj.attr('_n_features_outs'));
  const hu = enc.handleUnknown;
  if (!['error', 'ignore', 'infrequent_if_exist', 'warn'].includes(hu)) bad(obj, path, 'handle_unknown', `is ${JSON.stringify(hu)}`);
  const encoders: OneHotColumn[] = enc.categories.map((categories, i) => {
    const g = enc.grouping[i];
    const d = drop[i]!;
    const slots = new Int32Array(categories.length);
    for (let k = 0; k < categories.length; k++) {
      const grouped = g ? g[k]! : k;
      slots[k] = grouped === d ? -1 : d !== null && grouped > d ? grouped - 1 : grouped;
    }
    const width = nGrouped[i]! - (d !== null ? 1 : 0);
    const want = declared ? int(declared[i]) : undefined;
    if (declared && want !== width) bad(obj, path, `_n_features_outs[${i}]`, `is ${describe(declared[i])}, but the categories make ${width} columns`);
    // 'warn' (1.6+) behaves as 'infrequent_if_exist'; unknowns go to the infrequent column when there is one.
    const inf = enc.infrequent[i];
    const unknownSlot = hu === 'error' ? null : (hu === 'infrequent_if_exist' || hu === 'warn') && inf ? slots[inf[0]!]! : -1;
    return { categories, slots, width, unknownSlot };
  });
  const width = encoders.reduce((a, e) => a + e.width, 0);
  const ir = base(obj, 'one_hot_encoder', 'transformer', ['transform'], enc.categories.length, width);
  return { ...ir, encoders, columns: encoderColumns(ir.featureNames, enc.categories) };
}

function readOrdinalEncoder(obj: PyObject, path: string): OrdinalEncoderIR {
  const enc = readEncoderBase(obj, path);
  const hu = enc.handleUnknown;
  if (!['error', 'use_encoded_value', 'ignore', 'infrequent_if_exist', 'warn'].includes(hu)) bad(obj, path, 'handle_unknown', `is ${JSON.stringify(hu)}`);
  const unknownValue = hu === 'use_encoded_value' ? numberParam(obj, 'unknown_value', path) : null;
  const missingValue = obj.attr('encoded_missing_value') === undefined ? NaN : numberParam(obj, 'encoded_missing_value', path);
  const missingIndices = intDict(obj.attr('_missing_indices'), () => `${where(obj, path)}: _missing_indices`);
  const encoders: OrdinalColumn[] = enc.categories.map((categories, i) => {
    const g = enc.grouping[i];
    const missingAt = missingIndices.get(i) ?? -1;
    if (missingAt >= categories.length) bad(obj, path, `_missing_indices[${i}]`, `is ${missingAt}, beyond ${categories.length} categories`);
    const values = new Float64Array(categories.length);
    for (let k = 0; k < categories.length; k++) {
      if (k === missingAt) values[k] = missingValue;
      else if (g) {
        if (k >= g.length) bad(obj, path, `_default_to_infrequent_mappings[${i}]`, `has no entry for category ${k}`);
        values[k] = g[k]!;
      } else values[k] = k;
    }
    // Unknown values: an error, unknown_value, or (1.6+ 'ignore'/'infrequent_if_exist'/'warn')
    // -1 without infrequent grouping, else the infrequent code (category 0's code when the
    // feature has no infrequent categories), as OrdinalEncoder.transform leaves them.
    let unknown: number | null;
    if (hu === 'error') unknown = null;
    else if (hu === 'use_encoded_value') unknown = unknownValue;
    else if (!enc.infrequentEnabled) unknown = -1;
    else {
      const inf = enc.infrequent[i];
      unknown = inf ? values[inf[0]!]! : categories.length ? values[0]! : -1;
    }
    return { categories, values, unknown };
  });
  const n = enc.categories.length;
  const ir = base(obj, 'ordinal_encoder', 'transformer', ['transform'], n, n);
  return { ...ir, encoders, columns: encoderColumns(ir.featureNames, enc.categories) };
}

function readLabelEncoder(obj: PyObject, path: string): LabelEncoderIR {
  const labels = categoryValues(attr(obj, 'classes_', path), () => `${where(obj, path)}: classes_`);
  const ir = base(obj, 'label_encoder', 'transformer', ['transform'], 1, null);
  return { ...ir, labels, oneDimensionalInput: true, columns: [categoryColumn(null, labels)] };
}

function readLabelBinarizer(obj: PyObject, path: string): LabelBinarizerIR {
  const labels = categoryValues(attr(obj, 'classes_', path), () => `${where(obj, path)}: classes_`);
  const yType = str(obj.attr('y_type_')) ?? 'multiclass';
  if (yType.startsWith('multilabel')) throw unsupported(`${where(obj, path)} was fitted on multilabel targets; mlpack binarizes single labels only`);
  const posLabel = numberParam(obj, 'pos_label', path, 1);
  const negLabel = numberParam(obj, 'neg_label', path, 0);
  const width = labels.length <= 2 ? 1 : labels.length;
  const ir = base(obj, 'label_binarizer', 'transformer', ['transform'], 1, width);
  return { ...ir, labels, posLabel, negLabel, oneDimensionalInput: true, columns: [categoryColumn(null, labels)] };
}

function readKBinsDiscretizer(obj: PyObject, path: string): BinsIR {
  const edgesValue = attr(obj, 'bin_edges_', path);
  const list = edgesValue instanceof NdArray && Array.isArray(edgesValue.data) ? (edgesValue.data as PyValue[]) : items(edgesValue);
  if (!list) bad(obj, path, 'bin_edges_', `is ${describe(edgesValue)}, expected an array of edge arrays`);
  const n = list.length;
  const nBins = vector(obj, 'n_bins_', path, n);
  const edges = list.map((e, j) => {
    const { data, shape } = f64(e, `${path ? `${path}.` : ''}bin_edges_[${j}]`);
    if (shape.length !== 1 || data.length < 2 || data.length !== nBins[j]! + 1) bad(obj, path, `bin_edges_[${j}]`, `holds ${data.length} edges for ${nBins[j]} bins`);
    // Only the inner edges decide the bin (np.searchsorted(edges[1:-1], x, side='right')).
    return data.slice(1, data.length - 1);
  });
  const encode = stringParam(obj, 'encode', path, 'onehot');
  if (encode !== 'ordinal' && encode !== 'onehot' && encode !== 'onehot-dense') bad(obj, path, 'encode', `is ${JSON.stringify(encode)}`);
  const onehot = encode !== 'ordinal';
  const width = onehot ? edges.reduce((a, e) => a + e.length + 1, 0) : n;
  const ir = base(obj, 'bins_discretizer', 'transformer', ['transform'], n, width);
  return { ...ir, edges, onehot, columns: numericColumns(ir.featureNames, n) };
}

// ---------------------------------------------------------------------------------------------
// Feature selection

/** scores with NaN replaced by the smallest float (feature_selection._clean_nans). */
function cleanNans(scores: Float64Array): Float64Array {
  return Float64Array.from(scores, (s) => (Number.isNaN(s) ? -Number.MAX_VALUE : s));
}

/** numpy.percentile with the default linear method. */
function percentile(values: Float64Array, q: number): number {
  const v = Float64Array.from(values).sort();
  const pos = (q / 100) * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  const t = pos - lo;
  const a = v[lo]!;
  const b = v[hi]!;
  // numpy's _lerp: exact at both ends.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

function supportKBest(scores: Float64Array, k: number | 'all'): boolean[] {
  const n = scores.length;
  if (k === 'all') return new Array<boolean>(n).fill(true);
  const mask = new Array<boolean>(n).fill(false);
  if (k <= 0) return mask;
  const clean = cleanNans(scores);
  // np.argsort(kind='mergesort') is stable: ties keep index order, and the last k win.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => clean[a]! - clean[b]! || a - b);
  for (const i of order.slice(Math.max(0, n - k))) mask[i] = true;
  return mask;
}

function supportPercentile(scores: Float64Array, p: number): boolean[] {
  const n = scores.length;
  if (p >= 100) return new Array<boolean>(n).fill(true);
  if (p <= 0) return new Array<boolean>(n).fill(false);
  const clean = cleanNans(scores);
  const threshold = percentile(clean, 100 - p);
  const mask = Array.from(clean, (s) => s > threshold);
  const maxFeatures = Math.trunc((n * p) / 100);
  let room = maxFeatures - mask.filter(Boolean).length;
  for (let i = 0; i < n && room > 0; i++) {
    if (clean[i] === threshold) {
      mask[i] = true;
      room--;
    }
  }
  return mask;
}

function supportFdr(pvalues: Float64Array, alpha: number): boolean[] {
  const n = pvalues.length;
  const sorted = Float64Array.from(pvalues).sort();
  let best = -Infinity;
  for (let i = 0; i < n; i++) if (sorted[i]! <= (alpha / n) * (i + 1)) best = Math.max(best, sorted[i]!);
  if (best === -Infinity) return new Array<boolean>(n).fill(false);
  return Array.from(pvalues, (p) => p <= best);
}

function univariateSupport(obj: PyObject, path: string, mode: string, param: number | 'all'): boolean[] {
  const scores = () => vector(obj, 'scores_', path, featureCount(obj));
  const pvalues = () => vector(obj, 'pvalues_', path, featureCount(obj));
  const p = () => {
    if (param === 'all') bad(obj, path, 'param', 'is "all", expected a number');
    return param;
  };
  switch (mode) {
    case 'k_best': {
      if (param !== 'all' && !Number.isInteger(param)) bad(obj, path, 'k', `is ${param}, expected an integer or "all"`);
      return supportKBest(scores(), param);
    }
    case 'percentile':
      return supportPercentile(scores(), p());
    case 'fpr':
      return Array.from(pvalues(), (v) => v < p());
    case 'fdr':
      return supportFdr(pvalues(), p());
    case 'fwe': {
      const pv = pvalues();
      return Array.from(pv, (v) => v < p() / pv.length);
    }
    default:
      return bad(obj, path, 'mode', `is ${JSON.stringify(mode)}`);
  }
}

function paramOf(obj: PyObject, name: string, path: string): number | 'all' {
  const v = obj.attr(name);
  if (str(v) === 'all') return 'all';
  return numberParam(obj, name, path);
}

/** SelectFromModel: importances of the fitted estimator_ against the threshold, as get_support. */
function selectFromModelSupport(obj: PyObject, path: string): boolean[] {
  // A prefit SelectFromModel that was never fitted itself reads `estimator` (getattr(self, 'estimator_', self.estimator)).
  const est = obj.attr('estimator_') ?? attr(obj, 'estimator', path);
  if (!(est instanceof PyObject)) bad(obj, path, 'estimator_', `is ${describe(est)}, expected a fitted estimator`);
  const getter = obj.attr('importance_getter');
  if (getter !== undefined && str(getter) !== 'auto') {
    throw unsupported(`${where(obj, path)} reads importances through importance_getter=${describe(getter)}; mlpack supports 'auto' only`);
  }
  const estPath = `${path ? `${path}.` : ''}estimator_`;
  let importances: Float64Array;
  const coef = est.attr('coef_');
  const fi = est.attr('feature_importances_');
  if (coef instanceof NdArray) {
    const { data, shape } = f64(coef, `${estPath}.coef_`);
    if (shape.length === 1) importances = Float64Array.from(data, Math.abs);
    else if (shape.length === 2) {
      // np.linalg.norm(coef_, axis=0, ord=norm_order)
      const [r, c] = shape as [number, number];
      const order = num(obj.attr('norm_order')) ?? 1;
      importances = new Float64Array(c);
      for (let j = 0; j < c; j++) {
        let s = 0;
        if (order === Infinity) for (let i = 0; i < r; i++) s = Math.max(s, Math.abs(data[i * c + j]!));
        else if (order === 1) for (let i = 0; i < r; i++) s += Math.abs(data[i * c + j]!);
        else if (order === 2) {
          for (let i = 0; i < r; i++) s += data[i * c + j]! * data[i * c + j]!;
          s = Math.sqrt(s);
        } else throw unsupported(`${where(obj, path)} uses norm_order=${order}; mlpack supports 1, 2 and inf`);
        importances[j] = s;
      }
    } else bad(est, estPath, 'coef_', `has shape ${JSON.stringify(shape)}`);
  } else if (fi instanceof NdArray) {
    importances = vector(est, 'feature_importances_', estPath, null);
  } else if (hasTreeImportances(est)) {
    const n = featureCount(obj) ?? int(est.attr('n_features_in_')) ?? null;
    if (n === null) bad(obj, path, 'n_features_in_', 'is missing; is the estimator fitted?');
    importances = treeImportances(est, n, estPath);
  } else {
    throw unsupported(`${where(obj, path)} selects by the importances of ${est.className.split('.').pop()}, which are computed rather than stored; mlpack reads linear (coef_) and tree-based models`, {
      field: estPath,
    });
  }
  const n = featureCount(obj);
  if (n !== null && importances.length !== n) bad(obj, path, 'estimator_', `has ${importances.length} importances for ${n} features`);
  const threshold = selectionThreshold(obj, path, est, importances);
  const maxFeatures = int(obj.attr('max_features_')) ?? int(obj.attr('max_features'));
  let mask: boolean[];
  if (maxFeatures !== undefined) {
    mask = new Array<boolean>(importances.length).fill(false);
    const order = Array.from(importances.keys()).sort((a, b) => importances[b]! - importances[a]! || a - b);
    for (const i of order.slice(0, maxFeatures)) mask[i] = true;
  } else mask = new Array<boolean>(importances.length).fill(true);
  importances.forEach((s, i) => {
    if (s < threshold) mask[i] = false;
  });
  return mask;
}

function selectionThreshold(obj: PyObject, path: string, est: PyObject, importances: Float64Array): number {
  let t: PyValue | undefined = obj.attr('threshold');
  const mean = () => importances.reduce((a, b) => a + b, 0) / importances.length;
  const median = () => percentile(importances, 50);
  if (t === undefined || t === null) {
    const name = est.cls?.name ?? '';
    const l1 = str(est.attr('penalty')) === 'l1' || name.includes('Lasso') || (name === 'ElasticNetCV' && Math.abs((num(est.attr('l1_ratio_')) ?? 0) - 1) <= 1e-8);
    if (l1) return 1e-5;
    t = 'mean';
  }
  const s = str(t);
  if (s === undefined) return numberParam(obj, 'threshold', path);
  const star = s.split('*');
  const reference = (star.length === 2 ? star[1]! : s).trim();
  const scale = star.length === 2 ? Number(star[0]!.trim()) : 1;
  const value = reference === 'mean' ? mean() : reference === 'median' ? median() : NaN;
  if (Number.isNaN(value) || Number.isNaN(scale) || star.length > 2) bad(obj, path, 'threshold', `is ${JSON.stringify(s)}, expected a number, "mean", "median" or "<scale>*mean"`);
  return scale * value;
}

function readSelector(obj: PyObject, path: string, ctx: ReadContext): FeatureSelectorIR {
  const name = obj.cls?.name ?? '';
  let mask: boolean[];
  let estimator: PyValue | undefined;
  switch (name) {
    case 'SelectKBest':
      mask = univariateSupport(obj, path, 'k_best', paramOf(obj, 'k', path));
      break;
    case 'SelectPercentile':
      mask = univariateSupport(obj, path, 'percentile', numberParam(obj, 'percentile', path, 10));
      break;
    case 'SelectFpr':
      mask = univariateSupport(obj, path, 'fpr', numberParam(obj, 'alpha', path, 0.05));
      break;
    case 'SelectFdr':
      mask = univariateSupport(obj, path, 'fdr', numberParam(obj, 'alpha', path, 0.05));
      break;
    case 'SelectFwe':
      mask = univariateSupport(obj, path, 'fwe', numberParam(obj, 'alpha', path, 0.05));
      break;
    case 'GenericUnivariateSelect':
      mask = univariateSupport(obj, path, stringParam(obj, 'mode', path, 'percentile'), paramOf(obj, 'param', path));
      break;
    case 'VarianceThreshold': {
      const threshold = numberParam(obj, 'threshold', path, 0);
      mask = Array.from(vector(obj, 'variances_', path, featureCount(obj)), (v) => v > threshold);
      break;
    }
    case 'SelectFromModel':
      mask = selectFromModelSupport(obj, path);
      break;
    default: {
      // RFE, RFECV, SequentialFeatureSelector: the fitted support_ mask.
      const support = maskIndices(attr(obj, 'support_', path), () => `${where(obj, path)}: support_`, featureCount(obj));
      if (name === 'RFE' || name === 'RFECV') estimator = obj.attr('estimator_');
      return selectorIR(obj, path, ctx, support, lengthOfMask(obj), estimator);
    }
  }
  const support: number[] = [];
  mask.forEach((m, i) => m && support.push(i));
  return selectorIR(obj, path, ctx, Int32Array.from(support), mask.length, undefined);
}

function lengthOfMask(obj: PyObject): number | null {
  const s = obj.attr('support_');
  return featureCount(obj) ?? (s instanceof NdArray ? s.size : null);
}

function selectorIR(obj: PyObject, path: string, ctx: ReadContext, support: Int32Array, n: number | null, estimatorValue: PyValue | undefined): FeatureSelectorIR {
  let estimator: EstimatorIR | null = null;
  if (estimatorValue instanceof PyObject) {
    try {
      estimator = ctx.read(estimatorValue, `${path ? `${path}.` : ''}estimator_`);
    } catch (err) {
      // transform still works when the wrapped estimator is not supported.
      if (!(err instanceof MlpackError) || err.code !== 'UNSUPPORTED') throw err;
    }
  }
  const methods: Method[] = ['transform'];
  if (estimator) for (const m of estimator.methods) if (!methods.includes(m)) methods.push(m);
  const order: Method[] = ['predict', 'predict_proba', 'decision_function', 'transform', 'score_samples'];
  methods.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const ir = base(obj, 'feature_selector', estimator ? estimator.kind : 'transformer', methods, n, support.length);
  const node: FeatureSelectorIR = { ...ir, support, estimator };
  if (estimator) node.classes = estimator.classes;
  if (n !== null) node.columns = numericColumns(ir.featureNames, n);
  return node;
}

// ---------------------------------------------------------------------------------------------
// Decomposition and clustering

function readProjection(obj: PyObject, path: string): ProjectionIR {
  const name = obj.cls?.name ?? '';
  const comp = matrixAttr(obj, 'components_', path, featureCount(obj));
  const f = comp.cols;
  const k = comp.rows;
  let mean: Float64Array | null = null;
  let divisor: Float64Array | null = null;
  let gaussian: ProjectionIR['gaussian'] = null;
  const methods: Method[] = ['transform'];
  if (name === 'TruncatedSVD') {
    // X @ components_.T, no centring.
  } else if (name === 'FastICA') {
    // Whitening (`_whiten` from 1.1, else `whiten`) centres on mean_ first.
    const w = obj.attr('_whiten') ?? obj.attr('whiten');
    if (w !== undefined && w !== null && w !== false && str(w) !== 'False') mean = vector(obj, 'mean_', path, f);
  } else {
    mean = vector(obj, 'mean_', path, f);
    const whiten = boolParam(obj, 'whiten', false);
    const ev = vector(obj, 'explained_variance_', path, k);
    if (whiten) {
      // sqrt(explained_variance_), clipped below at float64 eps (1.5+; harmless before).
      divisor = Float64Array.from(ev, (v) => Math.max(Math.sqrt(v), Number.EPSILON));
    }
    if (name === 'PCA') {
      const noise = numberParam(obj, 'noise_variance_', path);
      gaussian = { explainedVariance: ev, noiseVariance: noise, whiten };
      methods.push('score_samples');
    }
  }
  const ir = base(obj, 'projection', 'transformer', methods, f, k);
  return { ...ir, mean, components: comp.data, nComponents: k, divisor, gaussian, columns: numericColumns(ir.featureNames, f) };
}

function readKMeans(obj: PyObject, path: string): KMeansIR {
  const c = matrixAttr(obj, 'cluster_centers_', path, featureCount(obj));
  if (c.rows === 0) bad(obj, path, 'cluster_centers_', 'has no clusters');
  const ir = base(obj, 'kmeans', 'clusterer', ['predict', 'transform'], c.cols, c.rows);
  return { ...ir, centers: c.data, nClusters: c.rows, columns: numericColumns(ir.featureNames, c.cols) };
}

// ---------------------------------------------------------------------------------------------

type Reader = (obj: PyObject, path: string, ctx: ReadContext) => EstimatorIR;

const READERS: Record<string, Reader> = {
  'sklearn.preprocessing.StandardScaler': readStandardScaler,
  'sklearn.preprocessing.MinMaxScaler': readMinMaxScaler,
  'sklearn.preprocessing.MaxAbsScaler': readMaxAbsScaler,
  'sklearn.preprocessing.RobustScaler': readRobustScaler,
  'sklearn.preprocessing.Normalizer': readNormalizer,
  'sklearn.preprocessing.Binarizer': readBinarizer,
  'sklearn.preprocessing.PolynomialFeatures': readPolynomialFeatures,
  'sklearn.preprocessing.OneHotEncoder': readOneHotEncoder,
  'sklearn.preprocessing.OrdinalEncoder': readOrdinalEncoder,
  'sklearn.preprocessing.LabelEncoder': readLabelEncoder,
  'sklearn.preprocessing.LabelBinarizer': readLabelBinarizer,
  'sklearn.preprocessing.KBinsDiscretizer': readKBinsDiscretizer,
  'sklearn.preprocessing.FunctionTransformer': readFunctionTransformer,
  'sklearn.impute.SimpleImputer': readSimpleImputer,
  'sklearn.impute.MissingIndicator': readMissingIndicator,
  'sklearn.impute.KNNImputer': readKnnImputer,
  'sklearn.feature_selection.SelectKBest': readSelector,
  'sklearn.feature_selection.SelectPercentile': readSelector,
  'sklearn.feature_selection.SelectFpr': readSelector,
  'sklearn.feature_selection.SelectFdr': readSelector,
  'sklearn.feature_selection.SelectFwe': readSelector,
  'sklearn.feature_selection.GenericUnivariateSelect': readSelector,
  'sklearn.feature_selection.VarianceThreshold': readSelector,
  'sklearn.feature_selection.SelectFromModel': readSelector,
  'sklearn.feature_selection.RFE': readSelector,
  'sklearn.feature_selection.RFECV': readSelector,
  'sklearn.feature_selection.SequentialFeatureSelector': readSelector,
  'sklearn.decomposition.PCA': readProjection,
  'sklearn.decomposition.IncrementalPCA': readProjection,
  'sklearn.decomposition.TruncatedSVD': readProjection,
  'sklearn.decomposition.FastICA': readProjection,
  'sklearn.cluster.KMeans': readKMeans,
  'sklearn.cluster.MiniBatchKMeans': readKMeans,
};

/** The public class key of a pickled class (private modules folded, as the registry does). */
function keyOf(obj: PyObject): string {
  const parts = obj.className.split('.');
  return parts.length >= 3 && parts[0] === 'sklearn' ? `sklearn.${parts[1]}.${parts[parts.length - 1]}` : obj.className;
}

export const preprocessing: FamilyReader = {
  classes: Object.keys(READERS),
  read(obj, ctx, path) {
    const reader = READERS[keyOf(obj)];
    if (!reader) throw unsupported(`${obj.className} is not a preprocessing estimator`);
    return reader(obj, path, ctx);
  },
};
