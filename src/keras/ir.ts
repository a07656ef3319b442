/**
 * The Keras network IR: a Keras model (Sequential or functional) as a DAG of inference
 * operations over numbered values, with the weights already in the layouts the evaluators use
 * (float64, C order, Keras' own kernel layouts) and every value's per-row shape resolved.
 *
 * Conventions:
 *  - shapes are per row (the batch dimension is implicit and first), channels_last;
 *  - values 0..inputs.length-1 are the model inputs, every node writes fresh values;
 *  - nodes are in evaluation order (every input of a node is written before it);
 *  - a layer may lower to several nodes (SeparableConv2D = depthwise + pointwise), and a layer
 *    called twice (shared layers) to one set of nodes per call;
 *  - Keras masks are values too: 0/1 per position, shaped as the data they mask minus its last
 *    axis (one per time step for sequences), made by mask_nonzero / masking / mask_combine and
 *    read by masked RNNs and GlobalAveragePooling1D (src/keras/masking.ts).
 * Built by src/keras/build.ts; evaluated by src/runtime/native/keras.ts; lowered to ONNX by
 * src/convert/onnx/keras.ts.
 */
import { MlpackError } from '../errors.js';
import type { EstimatorIR } from '../ir/model.js';

/** An element-wise (or, for softmax, per-axis) activation with its parameters. */
export type Activation =
  | { fn: 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'selu' | 'softplus' | 'softsign' | 'swish' | 'exponential' | 'mish' }
  /** alpha·(eˣ − 1) below zero. */
  | { fn: 'elu'; alpha: number }
  /** x ≥ 0: x, else alpha·x. */
  | { fn: 'leaky_relu'; alpha: number }
  /** Keras' general relu: x ≥ max → max; threshold ≤ x < max → x; else slope·(x − threshold). */
  | { fn: 'relu_clip'; slope: number; max: number | null; threshold: number }
  /** x > theta: x, else 0 (ThresholdedReLU). */
  | { fn: 'thresholded_relu'; theta: number }
  /** clip(alpha·x + beta, 0, 1): Keras 1/2 use 0.2, 0.5; Keras 3 1/6, 0.5. */
  | { fn: 'hard_sigmoid'; alpha: number; beta: number }
  /** x · hard_sigmoid(x). */
  | { fn: 'hard_swish'; alpha: number; beta: number }
  /** x·Φ(x), or the tanh approximation. */
  | { fn: 'gelu'; approximate: boolean }
  /** Along `axis` of the per-row shape (0-based, the batch dimension excluded). */
  | { fn: 'softmax' | 'log_softmax'; axis: number };

export type ActivationFn = Activation['fn'];

export type MergeMode = 'add' | 'subtract' | 'multiply' | 'average' | 'maximum' | 'minimum';

/** Spatial window geometry shared by convolutions and pooling (rank 1 or 2). */
export interface Window {
  rank: 1 | 2;
  /** Kernel / pool size per spatial axis. */
  size: number[];
  strides: number[];
  dilation: number[];
  /** Padding before / after each spatial axis ('same' puts the extra one after, as TensorFlow). */
  padBefore: number[];
  padAfter: number[];
}

export type KerasOp =
  /** Inference no-ops (Dropout, GaussianNoise, ...). */
  | { op: 'identity' }
  /** Flatten / Reshape: the data in C order is unchanged, only the shape. */
  | { op: 'reshape' }
  | { op: 'activation'; activation: Activation }
  /** Over the last axis: kernel [nIn, units] row-major. */
  | { op: 'dense'; nIn: number; units: number; kernel: Float64Array; bias: Float64Array | null; activation: Activation }
  /** kernel [...size, inChannels, filters] as Keras stores it. */
  | { op: 'conv'; window: Window; inChannels: number; filters: number; kernel: Float64Array; bias: Float64Array | null; activation: Activation }
  /** kernel [...size, inChannels, multiplier]; output channel c·multiplier + m. */
  | { op: 'depthwise_conv'; window: Window; inChannels: number; multiplier: number; kernel: Float64Array; bias: Float64Array | null; activation: Activation }
  /** 'avg' divides by the number of real (unpadded) inputs in the window. */
  | { op: 'pool'; mode: 'max' | 'avg'; window: Window }
  /**
   * Over every axis but the last (channels). `masked` (GlobalAveragePooling1D under a mask): the
   * second input is the [steps] mask and the average is over unmasked steps only, sum(x·m) /
   * sum(m) as Keras computes it (NaN for a row with every step masked).
   */
  | { op: 'global_pool'; mode: 'max' | 'avg'; keepdims: boolean; masked: boolean }
  /** (x − mean) · scale + offset along `axis` of the per-row shape; scale = gamma / sqrt(var + eps). */
  | { op: 'batchnorm'; axis: number; mean: Float64Array; scale: Float64Array; offset: Float64Array }
  /** x · scale + offset (Rescaling). */
  | { op: 'affine'; scale: number; offset: number }
  /** Rows hold indices (truncated toward zero, as Keras' cast to int32); table [inputDim, outputDim]. */
  | { op: 'embedding'; inputDim: number; outputDim: number; table: Float64Array }
  | { op: 'merge'; mode: MergeMode }
  /** Along `axis` of the per-row shape. */
  | { op: 'concat'; axis: number }
  /** Per-row axes permutation (Permute dims minus one). */
  | { op: 'permute'; perm: number[] }
  /** Zero padding (before/after) of the spatial axes of a channels_last tensor. */
  | { op: 'pad'; before: number[]; after: number[] }
  /** Cropping of the spatial axes. */
  | { op: 'crop'; before: number[]; after: number[] }
  /** [features] → [n, features]. */
  | { op: 'repeat'; n: number }
  /** Reverse the order along per-row axis 0 (time): a backward RNN's sequence, realigned. */
  | { op: 'reverse' }
  /** Per-element slopes below zero, broadcast over `shape` (PReLU's alpha with shared axes as 1). */
  | { op: 'prelu'; alpha: Float64Array; shape: number[] }
  /** Embedding(mask_zero=True)'s mask: 1 where the (raw, untruncated) index input is not 0, else 0. */
  | { op: 'mask_nonzero' }
  /**
   * Masking: outputs [x · m, m] with m = any(x ≠ value) over the last axis (1 or 0), the data's
   * shape minus its last axis; `value` is compared as float32, as Keras casts it to the input dtype.
   */
  | { op: 'masking'; value: number }
  /** Masks of a merge: 'and' (Keras 1/2 merges and Concatenate), 'or' (Keras 3). */
  | { op: 'mask_combine'; mode: 'and' | 'or' }
  | RnnOp;

/**
 * LSTM (gates i, f, c, o), GRU (gates z, r, h) and SimpleRNN over [T, nIn] rows. kernel
 * [nIn, gates·units], recurrent [units, gates·units], bias [gates·units] (input side);
 * recurrentBias [gates·units] only for GRU with reset_after (Keras' bias row 1, applied before
 * the reset gate multiplies). Outputs: the sequence [T, units] or the last step's output [units],
 * then with return_state the final states (h, and c for LSTM). Node inputs: the sequence, the
 * initial states if given, then the [T] mask when `masked`.
 */
export interface RnnOp {
  op: 'rnn';
  cell: 'lstm' | 'gru' | 'simple';
  units: number;
  nIn: number;
  steps: number;
  kernel: Float64Array;
  recurrent: Float64Array;
  bias: Float64Array | null;
  recurrentBias: Float64Array | null;
  activation: Activation;
  recurrentActivation: Activation;
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  /** GRU: the recurrent product is taken before the reset gate multiplies (tf.keras default). */
  resetAfter: boolean;
  /** The last node input is a [T] mask (1 = the step runs); a masked step keeps every state. */
  masked: boolean;
  /**
   * What a masked step outputs (src/keras/masking.ts has the Keras facts): 'state' the carried h
   * (the initial state before any unmasked step), 'previous' the previous step's output (zeros
   * before the first step), 'zero' zeros. Unused without a mask.
   */
  maskedOutput: MaskedOutput;
}

export type MaskedOutput = 'state' | 'previous' | 'zero';

export interface KerasNode {
  /** The layer this node computes (for messages and ONNX node names). */
  layer: string;
  /** Its Keras class (canonical Keras 2 name). */
  cls: string;
  op: KerasOp;
  inputs: number[];
  outputs: number[];
}

export interface KerasNetworkInput {
  name: string;
  value: number;
  shape: number[];
  /** Feeds an Embedding: rows hold integer indices in [0, max). */
  indexRange: { min: number; max: number } | null;
}

export interface KerasNetworkOutput {
  name: string;
  value: number;
}

export interface KerasNetworkIR extends EstimatorIR {
  type: 'keras_network';
  /** The file it came from (for messages). */
  file: string;
  kerasVersion: string | null;
  inputs: KerasNetworkInput[];
  outputs: KerasNetworkOutput[];
  nodes: KerasNode[];
  /** Per-row shape of every value, by value id. */
  shapes: number[][];
  /** Per-row shape of the first output. */
  outputShape: number[];
  /**
   * Why the network cannot be evaluated or converted (a layer mlpack does not implement, a
   * graph that does not hold together), when that is only reported once the safety gate has
   * passed: files with Lambda or custom layers are unsafe, and must be refused as such (exit 5)
   * before anything else is said about them.
   */
  blocked: { code: 'UNSUPPORTED' | 'MALFORMED'; message: string; suggestion?: string } | null;
}

export function isKerasNetwork(ir: EstimatorIR): ir is KerasNetworkIR {
  return ir.type === 'keras_network';
}

/** A network with several inputs or several outputs: predict and verify feed and answer by name (src/api/keras-io.ts). */
export function isMultiIONetwork(ir: EstimatorIR | null | undefined): ir is KerasNetworkIR {
  return !!ir && isKerasNetwork(ir) && (ir.inputs.length > 1 || ir.outputs.length > 1);
}

/** Throw the reason a loaded network cannot run (see `blocked`). */
export function assertRunnable(ir: KerasNetworkIR): void {
  if (ir.blocked) throw new MlpackError(ir.blocked.message, { code: ir.blocked.code, file: ir.file, suggestion: ir.blocked.suggestion });
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
