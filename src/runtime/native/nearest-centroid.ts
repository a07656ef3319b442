/**
 * Native NearestCentroid.predict: `classes_[pairwise_distances_argmin(X, centroids_, metric)]`.
 *
 * scikit-learn 1.2 answers through ArgKmin with k = 1, which keeps a candidate only when it is
 * strictly nearer, so the first centroid wins a tie (numpy's argmin rule). The euclidean case
 * there compares ||x||² - 2·x·c + ||c||² (the GEMM expansion), which is what is compared here
 * too, so exact ties on grid-like data resolve the same way; manhattan sums |x - c| directly.
 */
import type { NearestCentroidIR } from '../../sklearn/families/neighbors-svm-mlp-ir.js';
import type { Label } from '../../ir/model.js';
import type { Matrix, Output } from '../data.js';

const CENTROID_NORMS = new WeakMap<NearestCentroidIR, Float64Array>();

function centroidNorms(node: NearestCentroidIR, k: number, f: number): Float64Array {
  let n = CENTROID_NORMS.get(node);
  if (!n) {
    n = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < f; j++) s += node.centroids[c * f + j]! * node.centroids[c * f + j]!;
      n[c] = s;
    }
    CENTROID_NORMS.set(node, n);
  }
  return n;
}

export function runNearestCentroid(node: NearestCentroidIR, x: Matrix): Output {
  const classes = node.classes!;
  const k = classes.values.length;
  const f = x.cols;
  const cen = node.centroids;
  const norms = node.metric === 'euclidean' ? centroidNorms(node, k, f) : null;
  const labels: Label[] = new Array(x.rows);
  for (let r = 0; r < x.rows; r++) {
    const o = r * f;
    let xx = 0;
    if (norms) for (let j = 0; j < f; j++) xx += x.data[o + j]! * x.data[o + j]!;
    let best = 0;
    let bestDist = Infinity;
    for (let c = 0; c < k; c++) {
      let d = 0;
      if (norms) {
        let dot = 0;
        for (let j = 0; j < f; j++) dot += x.data[o + j]! * cen[c * f + j]!;
        d = xx + -2 * dot + norms[c]!;
      } else {
        for (let j = 0; j < f; j++) d += Math.abs(x.data[o + j]! - cen[c * f + j]!);
      }
      if (c === 0 || d < bestDist) {
        best = c;
        bestDist = d;
      }
    }
    labels[r] = classes.values[best]!;
  }
  return { kind: 'labels', dtype: classes.dtype, values: labels };
}
