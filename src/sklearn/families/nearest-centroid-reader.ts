/**
 * scikit-learn's NearestCentroid → NearestCentroidIR.
 *
 * Layout facts (sklearn/neighbors/_nearest_centroid.py): `centroids_` is n_classes × n_features
 * float64, already shrunk when `shrink_threshold` was set (shrinking happens once, at fit),
 * `classes_` the sorted labels (LabelEncoder order, which is the centroid order), `metric` the
 * string given to `pairwise_distances_argmin` at predict. Only euclidean and manhattan have a
 * meaning of their own here (other metrics fit mean centroids with a warning); their aliases
 * l2 / l1 / cityblock compute the same distances. From 1.5 the class also carries `class_prior_`
 * and predicts through the discriminant when the priors are not uniform: such files are refused
 * rather than answered with the plain nearest centroid.
 */
import { NdArray } from '../../ir/object-graph.js';
import type { PyObject } from '../../ir/object-graph.js';
import { str } from '../values.js';
import { baseIR } from './common.js';
import type { NearestCentroidIR } from './neighbors-svm-mlp-ir.js';
import { columnRanges, describe, fail, numericArray, numericAttr, refuse } from './neighbors-svm-mlp-arrays.js';

export const NEAREST_CENTROID_CLASSES = ['sklearn.neighbors.NearestCentroid'] as const;

const METRICS: Record<string, NearestCentroidIR['metric']> = {
  euclidean: 'euclidean', l2: 'euclidean',
  manhattan: 'manhattan', cityblock: 'manhattan', l1: 'manhattan',
};

export function readNearestCentroid(obj: PyObject, path: string): NearestCentroidIR {
  const base = baseIR(obj, 'nearest_centroid', 'classifier', ['predict']);
  const metricValue = obj.attr('metric');
  const name = metricValue === undefined || metricValue === null ? 'euclidean' : str(metricValue);
  if (name === undefined) refuse(obj, path, 'metric', `the metric ${describe(metricValue)} is a callable, which cannot be evaluated without running Python code`);
  const metric = METRICS[name];
  if (!metric) refuse(obj, path, 'metric', `metric ${JSON.stringify(name)} is not supported (supported: euclidean, manhattan)`);

  if (!base.classes) fail(obj, path, 'classes_', `is ${describe(obj.attr('classes_'))}, expected the class labels`);
  const nClasses = base.classes.values.length;
  if (nClasses < 1) fail(obj, path, 'classes_', 'is empty');
  const c = numericAttr(obj, 'centroids_', path, [nClasses, base.nFeatures]);
  const nFeatures = c.shape[1]!;
  if (base.nFeatures === null) base.nFeatures = nFeatures;

  const priors = obj.attr('class_prior_');
  if (priors instanceof NdArray) {
    const p = numericArray(obj, 'class_prior_', priors, path, [nClasses]).data;
    // scikit-learn ≥ 1.5 takes the plain nearest centroid only when np.isclose(priors, 1/K) holds.
    const uniform = p.every((v) => Math.abs(v - 1 / nClasses) <= 1e-8 + 1e-5 * (1 / nClasses));
    if (!uniform) refuse(obj, path, 'class_prior_', 'non-uniform class priors make predict a discriminant rule, which is not supported');
  }

  return {
    ...base,
    columns: columnRanges(c.data, nClasses, nFeatures, base.featureNames),
    type: 'nearest_centroid',
    centroids: c.data,
    metric,
  };
}
