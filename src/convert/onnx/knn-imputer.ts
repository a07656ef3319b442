/**
 * ONNX lowering of KNNImputer's imputation (runtime/native/knn-imputer.ts states the rules), in
 * float64 whatever the working type, with standard operators:
 *
 * - nan_euclidean distances [N, M] as scikit-learn writes them: with missing cells zeroed,
 *   x²·p_fitᵀ - 2x·fitᵀ + p_x·(fit²)ᵀ over the coordinates present in both, clipped at 0,
 *   divided by the count of shared coordinates and scaled by n_features; a row sharing no
 *   coordinate with a fit row gets a large finite key (NaN distances sort last in numpy);
 * - per valid column [N, F', M], fit rows missing that column are keyed +inf, so TopK (smallest,
 *   sorted, the lower index first on ties) yields the min(n_neighbors, M) candidates in the order
 *   donors, NaN-distance donors, non-donors; non-donors then weigh 0, which covers columns with
 *   fewer observed fit values than n_neighbors;
 * - onnxruntime's TopK dies with a floating-point exception on zero rows, so it runs on one
 *   padding row more, sliced off again (as knn.ts does);
 * - a receiver whose nearest candidate is not at a finite distance takes the column mean.
 */
import { attr } from '../../formats/onnx/write.js';
import type { KnnImputerIR } from '../../sklearn/families/preprocessing-ir.js';
import type { NodeGraph } from './graph.js';

const D = 'float64';
/** Key of a donor sharing no coordinate with the row: above any real distance, below +inf. */
const NO_DISTANCE = 1e300;

/** The imputed columns [N, outCols] (float64) from the input x [N, F] (float64). */
export function lowerKnnImpute(g: NodeGraph, node: KnnImputerIR, x: string): { name: string; cols: number } {
  if (g.ctx.opset < 13) return g.unsupported('its lowering needs ai.onnx opset 13 or newer');
  const f = node.nFeatures!;
  const m = node.nSamples;
  const validCols: number[] = [];
  for (let j = 0; j < f; j++) if (node.valid[j]) validCols.push(j);
  const fv = validCols.length;
  if (fv === 0) return g.unsupported('no input column has an observed value in its fit data');

  // Fit-side constants, transposed to [F, M]: zeroed values, their squares, presence.
  const y0T = new Float64Array(f * m);
  const ysqT = new Float64Array(f * m);
  const pyT = new Float64Array(f * m);
  for (let t = 0; t < m; t++) {
    for (let j = 0; j < f; j++) {
      if (node.fitMissing[t * f + j]) continue;
      const v = node.fitX[t * f + j]!;
      y0T[j * m + t] = v;
      ysqT[j * m + t] = v * v;
      pyT[j * m + t] = 1;
    }
  }
  const mx = g.op('IsNaN', [x]);
  const px = g.cast(g.op('Not', [mx]), D);
  const x0 = g.op('Where', [mx, g.scalar('zero', 0, D), x]);
  const py = g.floats('fit_present_t', [f, m], pyT, D);
  const xxTerm = g.op('MatMul', [g.op('Mul', [x0, x0]), py]);
  const cross = g.op('MatMul', [x0, g.floats('fit_zeroed_t', [f, m], y0T, D)]);
  const yyTerm = g.op('MatMul', [px, g.floats('fit_squared_t', [f, m], ysqT, D)]);
  const sq = g.op('Max', [g.op('Add', [g.op('Sub', [xxTerm, g.op('Mul', [cross, g.scalar('two', 2, D)])]), yyTerm]), g.scalar('zero', 0, D)]);
  const count = g.op('MatMul', [px, py]);
  const scaled = g.op('Mul', [g.op('Div', [sq, g.op('Max', [count, g.scalar('one', 1, D)])]), g.scalar('n_features', f, D)]);
  const key = g.op('Where', [g.op('Less', [count, g.scalar('half', 0.5, D)]), g.scalar('no_distance', NO_DISTANCE, D), g.op('Sqrt', [scaled])]);

  // [N + 1, F', M]: +inf where the fit row is missing the column.
  const padded = g.op('Concat', [key, g.floats('pad_row', [1, m], new Float64Array(m), D)], { axis: attr.int(0) });
  const missT = Array.from({ length: fv * m }, (_, i) => node.fitMissing[(i % m) * f + validCols[Math.floor(i / m)]!] === 1);
  const notDonor = g.ctx.b.addInitializer(`${g.prefix}fit_missing_t`, 'bool', [fv, m], missT);
  const keys = g.op('Where', [notDonor, g.scalar('inf', Infinity, D), g.op('Reshape', [padded, g.int64s('shape_n1m', [-1, 1, m])])]);
  const k = Math.min(node.nNeighbors, m);
  const [kvPadded, idxPadded] = g.ctx.b.addNode('TopK', [keys, g.int64s('k', [k])], 2, { axis: attr.int(2), largest: attr.int(0), sorted: attr.int(1) });
  const unpad = (t: string) => g.op('Slice', [t, g.int64s('slice_start', [0]), g.int64s('slice_end', [-1]), g.int64s('slice_axis', [0])]);
  const kv = unpad(kvPadded!);
  const idx = unpad(idxPadded!);

  // Donor values: column c of the fit rows, flattened [F' * M], at c * M + index.
  const fitFlat = new Float64Array(fv * m);
  validCols.forEach((j, c) => {
    for (let t = 0; t < m; t++) fitFlat[c * m + t] = node.fitMissing[t * f + j] ? 0 : node.fitX[t * f + j]!;
  });
  const offsets = g.int64s('column_offsets', validCols.map((_, c) => c * m), [1, fv, 1]);
  const values = g.op('Gather', [g.floats('fit_columns', [fv * m], fitFlat, D), g.op('Add', [idx, offsets])], { axis: attr.int(0) });

  const finite = g.op('Less', [kv, g.scalar('half_no_distance', NO_DISTANCE / 2, D)]);
  let w: string;
  if (node.weights === 'uniform') {
    w = g.cast(g.op('Not', [g.op('IsInf', [kv])]), D);
  } else {
    const inv = g.op('Where', [finite, g.op('Div', [g.scalar('one', 1, D), kv]), g.scalar('zero', 0, D)]);
    const zero = g.cast(g.op('And', [finite, g.op('Equal', [kv, g.scalar('zero', 0, D)])]), D);
    const anyZero = g.op('Greater', [g.reduce('ReduceMax', zero, [2], true), g.scalar('half', 0.5, D)]);
    w = g.op('Where', [anyZero, zero, inv]);
  }
  const avg = g.op('Div', [g.reduce('ReduceSum', g.op('Mul', [w, values]), [2], false), g.reduce('ReduceSum', w, [2], false)]);
  const hasDonor = g.op('Less', [g.reduce('ReduceMin', kv, [2], false), g.scalar('half_no_distance', NO_DISTANCE / 2, D)]);
  const imputed = g.op('Where', [hasDonor, avg, g.floats('column_means', [fv], validCols.map((j) => node.colMean[j]!), D)]);

  const allValid = fv === f;
  const xv = allValid ? x : g.op('Gather', [x, g.int64s('valid_cols', validCols)], { axis: attr.int(1) });
  const filled = g.op('Where', [g.op('IsNaN', [xv]), imputed, xv]);
  if (allValid || !node.keepEmpty) return { name: filled, cols: fv };
  // keep_empty_features: the dropped columns come back as zeros, in place.
  const zeros = g.op('Mul', [g.op('Slice', [px, g.int64s('first_col_start', [0]), g.int64s('first_col_end', [1]), g.int64s('first_col_axis', [1])]), g.scalar('zero', 0, D)]);
  let next = 0;
  const place = Array.from({ length: f }, (_, j) => (node.valid[j] ? next++ : fv));
  return { name: g.op('Gather', [g.op('Concat', [filled, zeros], { axis: attr.int(1) }), g.int64s('output_cols', place)], { axis: attr.int(1) }), cols: f };
}
