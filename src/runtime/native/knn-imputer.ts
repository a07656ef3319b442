/**
 * Native KNNImputer.transform, following sklearn/impute/_knn.py (1.2):
 *
 * - distances between a row and every fit row are nan_euclidean (metrics/pairwise.py): the
 *   squared differences over the coordinates present in both, scaled by
 *   n_features / n_present, square-rooted; NaN when no coordinate is present in both. scikit-learn
 *   expands ||x||² - 2x·y + ||y||² and clips at 0; the direct sum here is the exact value of
 *   that expression (they differ by rounding only);
 * - each missing cell of a valid column takes its donors among the fit rows observed in that
 *   column: the min(n_neighbors, #observed) nearest by distance, NaN distances last (numpy's
 *   argpartition order). A receiver with no finite distance to any of them takes the column's
 *   observed mean instead;
 * - 'uniform' averages the donors' values (a donor at NaN distance still counts, as in
 *   scikit-learn, when fewer than k donors have a distance); 'distance' weights them 1/d, NaN
 *   distances 0, and a receiver with a donor at distance 0 weights its zero-distance donors 1 and
 *   the others 0 (neighbors/_base.py `_get_weights`);
 * - columns with no observed fit value are dropped, or kept as zeros with keep_empty_features.
 *
 * Ties at the k-th distance: argpartition keeps an unspecified one of the tied rows (it depends on
 * numpy's selection algorithm); here the lower fit-row index wins, as TopK does in the ONNX graph.
 * scikit-learn 1.2 drops the indicator columns from a batch with no missing value at all (fixed in
 * 1.4); here the output width never depends on the batch.
 */
import type { KnnImputerIR } from '../../sklearn/families/preprocessing-ir.js';
import type { Matrix } from '../data.js';

/** The imputed input columns (the indicator block is appended by the caller), row-major. */
export function imputeKnn(node: KnnImputerIR, x: Matrix): { data: Float64Array; cols: number } {
  const { rows, cols: f } = x;
  const m = node.nSamples;
  const fit = node.fitX;
  const fitMissing = node.fitMissing;
  const outCols = node.keepEmpty ? f : node.valid.reduce((a, v) => a + v, 0);
  const out = new Float64Array(rows * outCols);
  const dist = new Float64Array(m);
  const order: number[] = [];
  const nanDonors: number[] = [];
  for (let r = 0; r < rows; r++) {
    const o = r * f;
    let anyMissing = false;
    for (let j = 0; j < f; j++) if (Number.isNaN(x.data[o + j]!)) anyMissing = true;
    if (anyMissing) {
      for (let t = 0; t < m; t++) {
        let s = 0;
        let present = 0;
        for (let j = 0; j < f; j++) {
          const a = x.data[o + j]!;
          const b = fit[t * f + j]!;
          if (Number.isNaN(a) || fitMissing[t * f + j]) continue;
          s += (a - b) * (a - b);
          present++;
        }
        dist[t] = present === 0 ? NaN : Math.sqrt((s / present) * f);
      }
    }
    let w = r * outCols;
    for (let j = 0; j < f; j++) {
      if (!node.valid[j]) {
        if (node.keepEmpty) out[w++] = 0;
        continue;
      }
      const v = x.data[o + j]!;
      out[w++] = Number.isNaN(v) ? imputeCell(node, j, dist, order, nanDonors) : v;
    }
  }
  return { data: out, cols: outCols };
}

/** The value for a missing cell of column j, given the row's distances to every fit row. */
function imputeCell(node: KnnImputerIR, j: number, dist: Float64Array, order: number[], nanDonors: number[]): number {
  const f = node.fitX.length / node.nSamples;
  order.length = 0;
  nanDonors.length = 0;
  let donors = 0;
  for (let t = 0; t < node.nSamples; t++) {
    if (node.fitMissing[t * f + j]) continue;
    donors++;
    if (Number.isNaN(dist[t]!)) nanDonors.push(t);
    else order.push(t);
  }
  if (order.length === 0) return node.colMean[j]!;
  order.sort((a, b) => dist[a]! - dist[b]! || a - b);
  const k = Math.min(node.nNeighbors, donors);
  const near = order.slice(0, k);
  for (let i = 0; near.length < k; i++) near.push(nanDonors[i]!);
  if (node.weights === 'uniform') {
    let s = 0;
    for (const t of near) s += node.fitX[t * f + j]!;
    return s / k;
  }
  const zero = near.some((t) => dist[t] === 0);
  let num = 0;
  let den = 0;
  for (const t of near) {
    const d = dist[t]!;
    const wt = Number.isNaN(d) ? 0 : zero ? (d === 0 ? 1 : 0) : 1 / d;
    num += wt * node.fitX[t * f + j]!;
    den += wt;
  }
  return num / den;
}
