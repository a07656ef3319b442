/**
 * keras-h5 format handler: `inspect` and `scan` documents (CLI.md, keras-h5 section) built on
 * the reader in keras.ts.
 */
import { withFileAsync } from '../../errors.js';
import type { ModelSummary, TensorInfo } from '../../api/types.js';
import type { FormatHandler, FormatInspection } from '../types.js';
import { readKerasModel } from './keras.js';
import type { KerasIO, KerasModel } from './keras.js';
import type { KerasTensor } from './keras-types.js';
import { buildNetwork } from '../../keras/build.js';

/**
 * Keras files do not record output shapes; `inspect` infers them by building the network
 * (src/keras/build.ts resolves every value's shape from the config and weight shapes) over
 * zero-filled stand-ins for the weights, so no weight data is read. Up to this many weight
 * elements (the stand-ins and their float64 copies cost ~12 bytes each); past it, or when a layer
 * is not one mlpack evaluates, or an input dimension is not fixed, the output shape stays null.
 */
const MAX_INFER_ELEMENTS = 8_000_000;

function inferOutputs(m: KerasModel, file: string): KerasIO[] {
  if (m.layout !== 'full-model' || !m.config || m.outputs.length === 0) return m.outputs;
  const weights = m.weights.filter((w) => w.layer !== null);
  const total = weights.reduce((n, w) => n + w.shape.reduce((a, d) => a * d, 1), 0);
  if (total > MAX_INFER_ELEMENTS) return m.outputs;
  const standIns: KerasTensor[] = weights.map((w) => ({
    name: w.name,
    dtype: 'float32',
    shape: w.shape,
    data: new Float32Array(w.shape.reduce((a, d) => a * d, 1)),
    weight: w,
  }));
  try {
    const ir = buildNetwork(m, standIns, { file });
    if (ir.outputs.length !== m.outputs.length) return m.outputs;
    return m.outputs.map((io, i) => ({ ...io, shape: [null, ...ir.shapes[ir.outputs[i]!.value]!], dtype: 'float32' }));
  } catch {
    return m.outputs; // a layer mlpack does not evaluate: `predict` and `convert` say which
  }
}

function ioEntry(io: KerasIO): Record<string, unknown> {
  const out: Record<string, unknown> = { name: io.name, shape: io.shape, dtype: io.dtype };
  if (io.node_index !== 0 || io.tensor_index !== 0) {
    out['node_index'] = io.node_index;
    out['tensor_index'] = io.tensor_index;
  }
  return out;
}

function modelSummary(m: KerasModel, file: string): ModelSummary {
  const nParams = m.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  return {
    class: m.model_class ?? 'unknown',
    kind: 'network',
    name: m.model_name ?? undefined,
    layers: m.layers.map((l) => ({
      name: l.name,
      class: l.class_name,
      config: l.config,
      inbound: l.inbound,
    })),
    layer_names: m.layer_names,
    inputs: m.inputs.map(ioEntry),
    outputs: inferOutputs(m, file).map(ioEntry),
    training: m.training
      ? { optimizer: m.training.optimizer, loss: m.training.loss, metrics: m.training.metrics, optimizer_config: m.training.optimizer_config }
      : null,
    n_params: nParams,
  };
}

export function inspectionOf(m: KerasModel, file: string): FormatInspection {
  const tensors: TensorInfo[] = [...m.weights, ...m.optimizer_weights].map((w) => ({
    name: w.name,
    dtype: w.dtype,
    shape: w.shape,
    bytes: w.bytes,
  }));
  const result: FormatInspection = {
    format: 'keras-h5',
    container: {
      layout: m.layout,
      hdf5_superblock: m.superblock,
      weights_root: m.weights_root,
      groups_not_in_layer_names: m.groups_not_in_layer_names,
    },
    producer: { library: 'keras', version: m.keras_version, backend: m.backend },
    model: modelSummary(m, file),
    tensors,
    safety: m.safety,
  };
  if (m.warnings.length > 0) result.warnings = m.warnings;
  return result;
}

export const handler: FormatHandler = {
  async inspect(source) {
    return withFileAsync(source.path, async () => inspectionOf(await readKerasModel(source), source.path));
  },
  async scan(source) {
    return withFileAsync(source.path, async () => ({ format: 'keras-h5' as const, ...(await readKerasModel(source)).safety }));
  },
};
