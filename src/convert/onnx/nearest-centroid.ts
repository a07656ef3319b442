/**
 * ONNX lowering of NearestCentroid: the distance from every row to every centroid over a
 * broadcast [N, K, F] difference (squared euclidean or manhattan sums), ArgMin over the centroids
 * (the first on ties, as scikit-learn) and the class label of that centroid. The distances are
 * computed in float64 whatever the working type: only the label is output, and float32 sums
 * could swap two nearly equidistant centroids. NearestCentroid has no predict_proba, so, like the
 * linear classifiers without one, the graph has a `label` output and no `probabilities`.
 */
import { attr } from '../../formats/onnx/write.js';
import type { NearestCentroidIR } from '../../sklearn/families/neighbors-svm-mlp-ir.js';
import type { NsmGraph } from './svm-knn-mlp-graph.js';
import type { LowerOutputs, TensorRef } from './types.js';

const D = 'float64';

export function lowerNearestCentroid(g: NsmGraph, node: NearestCentroidIR, input: TensorRef): LowerOutputs {
  const f = node.nFeatures!;
  const k = node.classes!.values.length;
  const x = g.input(input, D);
  const x3 = g.op('Reshape', [x, g.int64s('shape_n1f', [-1, 1, f])]);
  const diff = g.op('Sub', [x3, g.floats('centroids', [k, f], node.centroids, D)]);
  const terms = node.metric === 'euclidean' ? g.op('Mul', [diff, diff]) : g.op('Abs', [diff]);
  const dist = g.reduce('ReduceSum', terms, [2], false);
  const index = g.op('ArgMin', [dist], { axis: attr.int(1), keepdims: attr.int(0) });
  return { label: g.labelOf(index) };
}
