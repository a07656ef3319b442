/**
 * ONNX lowering for the support-vector (svm.ts), nearest-neighbour (knn.ts, nearest-centroid.ts)
 * and multi-layer-perceptron (mlp.ts) family.
 */
import type { KnnIR, MlpIR, NearestCentroidIR, SvmIR } from '../../sklearn/families/neighbors-svm-mlp-ir.js';
import { lowerKnn } from './knn.js';
import { lowerMlp } from './mlp.js';
import { lowerNearestCentroid } from './nearest-centroid.js';
import { NsmGraph } from './svm-knn-mlp-graph.js';
import { lowerSvm } from './svm.js';
import type { OnnxFamily } from './types.js';

export const neighborsSvmMlp: OnnxFamily = {
  types: ['svm', 'knn', 'mlp', 'nearest_centroid'],
  lower(node, input, ctx, path) {
    // Slice/ReduceSum with axes as inputs, Loop bodies as written here: opset 13 (the MLP and
    // nearest-centroid graphs use neither, or reductions written for the opset).
    if (node.type !== 'mlp' && node.type !== 'nearest_centroid' && ctx.opset < 13) return ctx.unsupported(node, 'its lowering needs ai.onnx opset 13 or newer');
    const g = new NsmGraph(node, ctx, path);
    switch (node.type) {
      case 'svm':
        return lowerSvm(g, node as SvmIR, input);
      case 'knn':
        return lowerKnn(g, node as KnnIR, input);
      case 'nearest_centroid':
        return lowerNearestCentroid(g, node as NearestCentroidIR, input);
      default:
        return lowerMlp(g, node as MlpIR, input);
    }
  },
};
