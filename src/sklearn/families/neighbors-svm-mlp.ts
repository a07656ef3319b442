/**
 * Reader for the support-vector, nearest-neighbour and neural-network family: libsvm estimators
 * (svm-reader.ts), neighbour estimators (knn-reader.ts, nearest-centroid-reader.ts) and
 * multi-layer perceptrons (mlp-reader.ts), each mapping every scikit-learn release's pickled
 * layout onto one IR node.
 */
import { KNN_CLASSES, readKnn } from './knn-reader.js';
import { MLP_CLASSES, readMlp } from './mlp-reader.js';
import { NEAREST_CENTROID_CLASSES, readNearestCentroid } from './nearest-centroid-reader.js';
import { refuse } from './neighbors-svm-mlp-arrays.js';
import { SVM_CLASSES, readSvm } from './svm-reader.js';
import type { FamilyReader } from './types.js';

const SVM = new Set<string>(SVM_CLASSES);
const KNN = new Set<string>(KNN_CLASSES);
const MLP = new Set<string>(MLP_CLASSES);
const CENTROID = new Set<string>(NEAREST_CENTROID_CLASSES);

export const neighborsSvmMlp: FamilyReader = {
  classes: [...SVM_CLASSES, ...KNN_CLASSES, ...NEAREST_CENTROID_CLASSES, ...MLP_CLASSES],
  read(obj, _ctx, path) {
    // `sklearn.<subpackage>.<private modules>.<Class>` → `sklearn.<subpackage>.<Class>` (as the registry keys it).
    const parts = obj.className.split('.');
    const key = parts.length >= 3 ? `${parts[0]}.${parts[1]}.${parts[parts.length - 1]}` : obj.className;
    if (SVM.has(key)) return readSvm(obj, path);
    if (KNN.has(key)) return readKnn(obj, path);
    if (MLP.has(key)) return readMlp(obj, path);
    if (CENTROID.has(key)) return readNearestCentroid(obj, path);
    return refuse(obj, path, 'class', 'is not handled by the SVM/neighbours/MLP reader');
  },
};
