/**
 * Native evaluator for the support-vector (svm.ts), nearest-neighbour (knn.ts,
 * nearest-centroid.ts) and multi-layer-perceptron (mlp.ts) family.
 */
import type { KnnIR, MlpIR, NearestCentroidIR, SvmIR } from '../../sklearn/families/neighbors-svm-mlp-ir.js';
import { asMatrix } from '../data.js';
import { malformed } from '../../errors.js';
import { runKnn } from './knn.js';
import { runMlp } from './mlp.js';
import { runNearestCentroid } from './nearest-centroid.js';
import { runSvm } from './svm.js';
import type { NativeFamily } from './types.js';

export const neighborsSvmMlp: NativeFamily = {
  types: ['svm', 'knn', 'mlp', 'nearest_centroid'],
  run(node, input, method) {
    const x = asMatrix(input);
    if (node.nFeatures !== null && x.cols !== node.nFeatures) {
      throw malformed(`${node.sourceClass.split('.').pop()} expects ${node.nFeatures} features per row, got ${x.cols}`, { field: 'input' });
    }
    // scikit-learn validates these estimators' input with force_all_finite=True: NaN and ±inf are refused.
    for (let i = 0; i < x.data.length; i++) {
      const v = x.data[i]!;
      if (!Number.isFinite(v)) {
        const r = Math.floor(i / x.cols) + (input.kind === 'table' ? (input.rowOffset ?? 0) : 0);
        throw malformed(`input row ${r}, column ${i % x.cols} is ${v}; ${node.sourceClass.split('.').pop()} does not accept missing or infinite values`, { field: `row ${r}, column ${i % x.cols}` });
      }
    }
    switch (node.type) {
      case 'svm':
        return runSvm(node as SvmIR, x, method);
      case 'knn':
        return runKnn(node as KnnIR, x, method);
      case 'nearest_centroid':
        return runNearestCentroid(node as NearestCentroidIR, x);
      default:
        return runMlp(node as MlpIR, x, method);
    }
  },
};
