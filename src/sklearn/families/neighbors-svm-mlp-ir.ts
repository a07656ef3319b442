/**
 * IR nodes of the support-vector, nearest-neighbour and multi-layer-perceptron family. Every
 * scikit-learn release's pickled layout (private `_dual_coef_`/`_intercept_` or public
 * attributes, `_n_support` or `n_support_`, `_probA` or `probA_`, KDTree/BallTree state tuples)
 * is mapped onto these version-free shapes by the readers in svm-reader.ts, knn-reader.ts,
 * nearest-centroid-reader.ts and mlp-reader.ts. Arrays are row-major and never mutated after reading.
 */
import type { EstimatorIR } from '../../ir/model.js';

/** libsvm's problem types (svm.h `svm_type`). */
export type SvmType = 'c_svc' | 'nu_svc' | 'one_class' | 'epsilon_svr' | 'nu_svr';
export type SvmKernel = 'linear' | 'poly' | 'rbf' | 'sigmoid';

export interface SvmIR extends EstimatorIR {
  type: 'svm';
  svmType: SvmType;
  kernel: SvmKernel;
  /** The resolved gamma (`_gamma`: 'scale'/'auto' already turned into a number at fit time). */
  gamma: number;
  coef0: number;
  degree: number;
  /** Support vectors, nSV × nFeatures, grouped by class for classifiers (libsvm's order). */
  supportVectors: Float64Array;
  nSV: number;
  /** Support vectors per class (classifiers only; empty for regression / one-class). */
  nSupport: Int32Array;
  /**
   * libsvm's sv_coef, sign as libsvm uses it (scikit-learn's `_dual_coef_`): (K-1) × nSV for
   * K classes, 1 × nSV for regression and one-class.
   */
  dualCoef: Float64Array;
  /** -rho per one-vs-one pair (scikit-learn's `_intercept_`), libsvm's sign. */
  intercept: Float64Array;
  /** Platt scaling per pair, or null when the model has no probability estimates. */
  probA: Float64Array | null;
  probB: Float64Array | null;
  /** SVC/NuSVC decision_function layout for more than two classes. */
  decisionShape: 'ovr' | 'ovo';
  /** predict takes the argmax of the 'ovr' decision function instead of the vote. */
  breakTies: boolean;
  /** OneClassSVM `offset_` (score_samples = decision_function + offset). */
  offset: number;
}

export type KnnMetric = 'euclidean' | 'manhattan' | 'chebyshev' | 'minkowski';

/** A fitted KDTree / BallTree, as `BinaryTree.__getstate__` pickles it. */
export interface BinaryTreeIR {
  kind: 'kd_tree' | 'ball_tree';
  /** Training-row index of every slot, in node order (`idx_array`). */
  idxArray: Int32Array;
  nNodes: number;
  idxStart: Int32Array;
  idxEnd: Int32Array;
  isLeaf: Uint8Array;
  /** Ball radius per node (ball tree pruning). */
  radius: Float64Array;
  /** kd: lower bounds then upper bounds, 2 × nNodes × F; ball: centroids, nNodes × F. */
  bounds: Float64Array;
}

export interface KnnIR extends EstimatorIR {
  type: 'knn';
  task: 'classifier' | 'regressor';
  /** k nearest (KNeighbors*) or all within `radius` (RadiusNeighbors*). */
  query: 'k' | 'radius';
  nNeighbors: number;
  radius: number;
  weights: 'uniform' | 'distance';
  metric: KnnMetric;
  /** Minkowski power (2 for euclidean, 1 manhattan, Infinity chebyshev). */
  p: number;
  /** Training rows, nSamples × nFeatures (`_fit_X`). */
  fitX: Float64Array;
  nSamples: number;
  /** `_fit_method`: how scikit-learn searches, which decides neighbour order among equal distances. */
  search: 'brute' | 'kd_tree' | 'ball_tree';
  tree: BinaryTreeIR | null;
  /** Classifier: class index per training row. */
  yIndex: Int32Array | null;
  /** Regressor: targets, nSamples × nTargets. */
  yValues: Float64Array | null;
  nTargets: number;
  /** Regressor with 1-d `_y`: predict returns a vector. */
  yIsVector: boolean;
  /** RadiusNeighborsClassifier outlier label index into classes (-1: raise on outliers). */
  outlierIndex: number;
  /** RadiusNeighborsClassifier outlier label not among classes_ (kept as given). */
  outlierLabel: number | string | boolean | null;
}

export type MlpActivation = 'identity' | 'logistic' | 'tanh' | 'relu';

export interface MlpLayerIR {
  /** nIn × nOut, row-major (scikit-learn's `coefs_[i]`). */
  weights: Float64Array;
  bias: Float64Array;
  nIn: number;
  nOut: number;
}

export interface MlpIR extends EstimatorIR {
  type: 'mlp';
  task: 'classifier' | 'regressor';
  activation: MlpActivation;
  outActivation: MlpActivation | 'softmax';
  layers: MlpLayerIR[];
  /** MLPClassifier trained on an indicator matrix: predict returns 0/1 per label. */
  multilabel: boolean;
}

/**
 * NearestCentroid: predict is the class of the nearest centroid (the first on ties). Shrinking
 * (`shrink_threshold`) only changes the centroids at fit, so the stored ones are all inference needs.
 */
export interface NearestCentroidIR extends EstimatorIR {
  type: 'nearest_centroid';
  /** One centroid per class, nClasses × nFeatures (`centroids_`). */
  centroids: Float64Array;
  metric: 'euclidean' | 'manhattan';
}

export type NsmIR = SvmIR | KnnIR | MlpIR | NearestCentroidIR;
