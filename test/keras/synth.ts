/**
 * Synthetic Keras models for layer tests: the reader's KerasModel / KerasTensor shapes built in
 * memory (what src/formats/hdf5 returns for a file), with deterministic random weights, so that
 * layers no fixture holds can go through buildNetwork, the native evaluator and the ONNX
 * lowering. Only the fields the network builder reads are meaningful.
 */
import assert from 'node:assert/strict';
import { convertToOnnx } from '../../src/convert/onnx/convert.js';
import type { OnnxConvertOptions } from '../../src/convert/onnx/convert.js';
import type { KerasLayer, KerasModel, KerasTensor, KerasTensorRef } from '../../src/formats/hdf5/keras.js';
import type { Tensor } from '../../src/formats/onnx/types.js';
import { buildNetwork } from '../../src/keras/build.js';
import type { KerasNetworkIR } from '../../src/keras/ir.js';
import { runNetwork } from '../../src/runtime/native/keras.js';
import { createSession, run } from '../../src/runtime/ort/session.js';
import { rng } from '../../src/runtime/random.js';

export { rng };


export interface SynthWeight {
  role: string;
  shape: number[];
  /** Values (C order); uniform in [-1, 1) when omitted. */
  data?: number[];
  /** As written in weight_names; default `<layer>/<role>:0`. */
  weightName?: string;
}

export interface SynthLayer {
  name: string;
  cls: string;
  config?: Record<string, unknown>;
  /** Tensors of the (single) call: layer names (node 0, tensor 0) or [layer, node, tensor]. Default: the previous layer. */
  inbound?: Array<string | [string, number, number]>;
  weights?: SynthWeight[];
}

export interface SynthSpec {
  inputs: Array<{ name: string; shape: number[] }>;
  layers: SynthLayer[];
  /** Default: the last layer. */
  outputs?: Array<string | [string, number, number]>;
  kerasMajor?: number;
  /** The file's keras_version attribute (default `<kerasMajor>.0.0`; null: none). */
  kerasVersion?: string | null;
  /** The file's backend attribute (default 'tensorflow'). */
  backend?: string | null;
}

const ref = (r: string | [string, number, number]): KerasTensorRef =>
  typeof r === 'string' ? { layer: r, node_index: 0, tensor_index: 0 } : { layer: r[0], node_index: r[1], tensor_index: r[2] };

/** The reader's view of a model with these layers, and its weights. */
export function synthModel(spec: SynthSpec, seed = 1): { model: KerasModel; tensors: KerasTensor[] } {
  const rand = rng(seed);
  const tensors: KerasTensor[] = [];
  const layers: KerasLayer[] = spec.inputs.map((i) => ({
    name: i.name,
    class_name: 'InputLayer',
    canonical_class: 'InputLayer',
    module: null,
    config: { name: i.name, batch_input_shape: [null, ...i.shape], dtype: 'float32' },
    inbound: [],
    in_layer_names: true,
    weights: [],
  }));
  let prev = spec.inputs[0]!.name;
  for (const l of spec.layers) {
    const weights = (l.weights ?? []).map((w) => {
      const size = w.shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from(w.data ?? Array.from({ length: size }, () => rand() * 2 - 1));
      assert.equal(data.length, size, `${l.name}/${w.role} data size`);
      const weight = {
        name: `${l.name}/${w.role}`,
        layer: l.name,
        weight_name: w.weightName ?? `${l.name}/${w.role}:0`,
        role: w.role,
        hdf5_path: `/model_weights/${l.name}/${w.weightName ?? `${l.name}/${w.role}:0`}`,
        dtype: 'float32' as const,
        shape: w.shape,
        bytes: size * 4,
      };
      tensors.push({ name: weight.name, dtype: 'float32', shape: w.shape, data, weight } as KerasTensor);
      return weight;
    });
    layers.push({
      name: l.name,
      class_name: l.cls,
      canonical_class: l.cls,
      module: null,
      config: { name: l.name, ...(l.config ?? {}) },
      inbound: [(l.inbound ?? [prev]).map(ref)],
      in_layer_names: true,
      weights,
    });
    prev = l.name;
  }
  const outputs = (spec.outputs ?? [prev]).map(ref).map((r) => ({ name: r.layer, node_index: r.node_index, tensor_index: r.tensor_index, shape: null, dtype: null }));
  const model = {
    file: 'synthetic.h5',
    layout: 'full-model',
    keras_version: spec.kerasVersion === undefined ? `${spec.kerasMajor ?? 2}.0.0` : spec.kerasVersion,
    keras_major: spec.kerasVersion === null ? null : spec.kerasVersion !== undefined ? Number(spec.kerasVersion.split('.')[0]) : (spec.kerasMajor ?? 2),
    backend: spec.backend === undefined ? 'tensorflow' : spec.backend,
    model_class: 'Functional',
    model_name: 'synthetic',
    config: { class_name: 'Functional' },
    layers,
    layer_names: layers.map((l) => l.name),
    inputs: spec.inputs.map((i) => ({ name: i.name, node_index: 0, tensor_index: 0, shape: [null, ...i.shape], dtype: 'float32' })),
    outputs,
    training: null,
    weights: tensors.map((t) => t.weight),
    optimizer_weights: [],
    groups_not_in_layer_names: [],
    lambdas: [],
    safety: { verdict: 'safe', globals: [], findings: [] },
    warnings: [],
  } as unknown as KerasModel;
  return { model, tensors };
}

export function synth(spec: SynthSpec, seed = 1): KerasNetworkIR {
  const { model, tensors } = synthModel(spec, seed);
  return buildNetwork(model, tensors, { file: 'synthetic.h5' });
}

/** Rows for each input: uniform in [lo, hi) (float32-representable). */
export function inputsFor(ir: KerasNetworkIR, n: number, seed = 7, lo = -2, hi = 2): Float64Array[] {
  const rand = rng(seed);
  return ir.inputs.map((i) => {
    const size = n * i.shape.reduce((a, b) => a * b, 1);
    const range = i.indexRange;
    return Float64Array.from({ length: size }, () => (range ? Math.floor(range.min + (range.max - range.min) * rand()) : Math.fround(lo + (hi - lo) * rand())));
  });
}

export function maxDiff(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): string | null {
  if (got.length !== want.length) return `${got.length} values, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= atol + rtol * Math.abs(want[i]!)) && !(Number.isNaN(got[i]!) && Number.isNaN(want[i]!))) {
      return `element ${i}: ${got[i]} vs ${want[i]} (diff ${d.toExponential(2)})`;
    }
  }
  return null;
}

/**
 * Native outputs for `feeds`, after checking that the ONNX conversion (float32 by default, or
 * float64) computes the same through onnxruntime: rtol 1e-4 / atol 1e-5 in float32, 1e-9 in
 * float64.
 */
export async function nativeAgreesWithOnnx(ir: KerasNetworkIR, feeds: Float64Array[], n: number, options: OnnxConvertOptions = {}): Promise<Float64Array[]> {
  const native = runNetwork(ir, feeds, n);
  const float = options.float64 ? 'float64' : 'float32';
  const session = await createSession(convertToOnnx(ir, options));
  try {
    const onnxFeeds: Record<string, Tensor> = {};
    ir.inputs.forEach((inp, i) => {
      onnxFeeds[session.inputs[i]!.name] = { dtype: float, shape: [n, ...inp.shape], data: float === 'float32' ? Float32Array.from(feeds[i]!) : feeds[i]! };
    });
    const outs = await run(session, onnxFeeds);
    // The first output is `variable`; the others follow in order under their layer names.
    const extra = session.outputs.filter((s) => s.name !== 'variable');
    ir.outputs.forEach((o, k) => {
      const name = k === 0 ? 'variable' : extra[k - 1]!.name;
      assert.ok(name === 'variable' || name.startsWith(o.name), `output ${k} is named after ${o.name}: ${name}`);
      const t = outs[name]!;
      assert.deepEqual(t.shape, [n, ...ir.shapes[o.value]!], `${o.name}: ONNX shape`);
      const tol = float === 'float32' ? [1e-4, 1e-5] : [1e-9, 1e-12];
      const diff = maxDiff(t.data as ArrayLike<number>, native[k]!, tol[0]!, tol[1]!);
      assert.equal(diff, null, `${o.name}: onnxruntime vs native: ${diff}`);
    });
  } finally {
    await session.dispose();
  }
  return native;
}
