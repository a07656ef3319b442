/**
 * Keras `model_config` JSON → a typed layer graph, for Keras 1.x, 2.x (standalone and
 * tf.keras) and 3.x legacy .h5 files.
 *
 * Facts used (Keras sources: keras/engine/network.py, sequential.py, functional.py
 * get_config; Keras 3 keras/src/models/functional.py serialize_node):
 *  - `{"class_name": "Sequential", "config": [...]}`: Keras 1 and 2.0–2.1 Sequential, a bare
 *    layer list; 2.2+ `{"name", "layers": [...]}`; tf.keras 2.x / Keras 3 put an InputLayer first.
 *  - Functional (`Model` up to Keras 2.3, `Functional` in tf.keras 2.4+): every layer has
 *    `inbound_nodes`, one entry per call; Keras 1/2 write a call as a list of
 *    `[layer, node_index, tensor_index, kwargs]`; Keras 3 as `{"args": [...], "kwargs": {...}}`
 *    where tensors are `{"class_name": "__keras_tensor__", "config": {"keras_history":
 *    [layer, node, tensor]}}`. `input_layers` / `output_layers` are lists of `[layer, node,
 *    tensor]`, or one such triple when the model has a single input/output (tf.keras 2.4+).
 *  - Keras 1 names: Convolution2D(nb_filter, nb_row, nb_col, subsample, border_mode,
 *    dim_ordering 'tf'|'th'), Dense(output_dim), Dropout(p), init, bias, W_regularizer.
 */
import { malformed } from '../../errors.js';
import { limits } from '../../io/limits.js';
import { preview } from '../preview.js';

export interface KerasTensorRef {
  layer: string;
  node_index: number;
  tensor_index: number;
  /** Call keyword arguments as written (e.g. `initial_state`, `training`); absent when empty. */
  kwargs?: Record<string, unknown>;
}

export interface KerasLayerConfig {
  name: string;
  /** The class name as written (`Convolution2D`, `Conv2D`, `MyScale`, ...). */
  class_name: string;
  /** Keras 3 / tf.keras 2.13+ `module` (e.g. `keras.layers`), when written. */
  module: string | null;
  /** Keras 3 `registered_name` of custom objects, when written. */
  registered_name: string | null;
  config: Record<string, unknown>;
  /** One entry per call of the layer, each the list of input tensors of that call. */
  inbound: KerasTensorRef[][];
}

export interface KerasModelConfig {
  class_name: string;
  name: string | null;
  /** `list`: config is a bare layer list (Keras 1, 2.0–2.1 Sequential); `object`: `{name, layers}`. */
  layout: 'list' | 'object';
  sequential: boolean;
  layers: KerasLayerConfig[];
  /** Functional models: the `input_layers` / `output_layers` refs; Sequential: derived. */
  input_layers: KerasTensorRef[];
  output_layers: KerasTensorRef[];
  /** Sequential without an InputLayer: Keras names the implicit input `<first layer>_input`. */
  implicit_input: string | null;
  build_input_shape: unknown;
}

/** Built-in layer classes of Keras 1, 2 and 3 (names as they appear in model_config). */
export const KNOWN_LAYER_CLASSES: ReadonlySet<string> = new Set([
  // Keras 1.x names
  'Convolution1D', 'Convolution2D', 'Convolution3D', 'AtrousConvolution1D', 'AtrousConvolution2D',
  'Deconvolution2D', 'SeparableConvolution2D', 'Merge', 'MaxoutDense', 'Highway', 'TimeDistributedDense',
  'SReLU', 'ParametricSoftplus', 'ThresholdedLinear',
  // Keras 2.x / 3.x
  'InputLayer', 'Dense', 'Dropout', 'Flatten', 'Reshape', 'Permute', 'RepeatVector', 'Lambda', 'Activation',
  'ActivityRegularization', 'Masking', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D',
  'Conv1D', 'Conv2D', 'Conv3D', 'Conv1DTranspose', 'Conv2DTranspose', 'Conv3DTranspose', 'Deconvolution3D',
  'SeparableConv1D', 'SeparableConv2D', 'DepthwiseConv1D', 'DepthwiseConv2D',
  'Cropping1D', 'Cropping2D', 'Cropping3D', 'UpSampling1D', 'UpSampling2D', 'UpSampling3D',
  'ZeroPadding1D', 'ZeroPadding2D', 'ZeroPadding3D',
  'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D',
  'MaxPool1D', 'MaxPool2D', 'MaxPool3D', 'AvgPool1D', 'AvgPool2D', 'AvgPool3D',
  'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalAveragePooling3D',
  'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'GlobalMaxPooling3D',
  'GlobalAvgPool1D', 'GlobalAvgPool2D', 'GlobalAvgPool3D', 'GlobalMaxPool1D', 'GlobalMaxPool2D', 'GlobalMaxPool3D',
  'Embedding', 'SimpleRNN', 'GRU', 'LSTM', 'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D', 'CuDNNGRU', 'CuDNNLSTM',
  'RNN', 'SimpleRNNCell', 'GRUCell', 'LSTMCell', 'StackedRNNCells', 'Bidirectional', 'TimeDistributed',
  'BatchNormalization', 'LayerNormalization', 'GroupNormalization', 'UnitNormalization',
  'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Dot',
  'LeakyReLU', 'PReLU', 'ELU', 'ReLU', 'Softmax', 'ThresholdedReLU',
  'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'Attention', 'AdditiveAttention', 'MultiHeadAttention',
  'Rescaling', 'Normalization', 'Resizing', 'CenterCrop', 'Discretization', 'CategoryEncoding', 'Hashing',
  'StringLookup', 'IntegerLookup', 'TextVectorization', 'RandomFlip', 'RandomRotation', 'RandomZoom',
  'RandomTranslation', 'RandomContrast', 'RandomCrop', 'RandomHeight', 'RandomWidth',
  // tf.keras wrappers of TensorFlow ops (they name a tf function; no Python code is stored)
  'TFOpLambda', 'SlicingOpLambda',
  // nested models used as layers
  'Sequential', 'Model', 'Functional',
]);

/** Keras 1 class names → Keras 2 names (the evaluator works on Keras 2 names). */
const KERAS1_CLASSES: Readonly<Record<string, string>> = {
  Convolution1D: 'Conv1D',
  Convolution2D: 'Conv2D',
  Convolution3D: 'Conv3D',
  AtrousConvolution1D: 'Conv1D',
  AtrousConvolution2D: 'Conv2D',
  Deconvolution2D: 'Conv2DTranspose',
  SeparableConvolution2D: 'SeparableConv2D',
  MaxPool1D: 'MaxPooling1D',
  MaxPool2D: 'MaxPooling2D',
  MaxPool3D: 'MaxPooling3D',
  AvgPool1D: 'AveragePooling1D',
  AvgPool2D: 'AveragePooling2D',
  AvgPool3D: 'AveragePooling3D',
  GlobalAvgPool1D: 'GlobalAveragePooling1D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
  GlobalAvgPool3D: 'GlobalAveragePooling3D',
  GlobalMaxPool1D: 'GlobalMaxPooling1D',
  GlobalMaxPool2D: 'GlobalMaxPooling2D',
  GlobalMaxPool3D: 'GlobalMaxPooling3D',
};

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keras configs nest a few levels per nested model; 256 leaves room for ~60 of them. */
const MAX_JSON_DEPTH = 256;

export function parseJsonAttribute(text: string, file: string, field: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw malformed(`${file}: the ${field} attribute is not valid JSON (${(err as Error).message.slice(0, 200)})`, { file, field, cause: err });
  }
  // JSON.parse itself does not recurse, but posting the result back from the HDF5 worker
  // (structured clone), JSON.stringify and every walk over it do, and overflow past ~3,500
  // levels: refuse absurd nesting here.
  const max = MAX_JSON_DEPTH;
  const stack: Array<[unknown, number]> = [[doc, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) throw malformed(`${file}: the ${field} attribute nests JSON deeper than ${max} levels`, { file, field });
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return doc;
}

function refFromList(v: unknown, file: string, field: string): KerasTensorRef {
  if (!Array.isArray(v) || typeof v[0] !== 'string') {
    throw malformed(`${file}: ${field} should be [layer, node_index, tensor_index], got ${preview(v, 80)}`, {
      file,
      field,
    });
  }
  const ref: KerasTensorRef = {
    layer: v[0],
    node_index: typeof v[1] === 'number' ? v[1] : 0,
    tensor_index: typeof v[2] === 'number' ? v[2] : 0,
  };
  if (isRecord(v[3]) && Object.keys(v[3]).length > 0) ref.kwargs = v[3];
  return ref;
}

/** `[l, n, t]` or `[[l, n, t], ...]` (tf.keras 2.4+ writes a single triple unnested). */
function refList(v: unknown, file: string, field: string): KerasTensorRef[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw malformed(`${file}: ${field} is not a list`, { file, field });
  if (typeof v[0] === 'string') return [refFromList(v, file, field)];
  return v.map((item, i) => refFromList(item, file, `${field}[${i}]`));
}

/** Keras 3 `__keras_tensor__` objects anywhere inside a call's args. */
function collectKerasHistory(v: unknown, out: KerasTensorRef[], depth: number): void {
  if (depth > 64) return;
  if (Array.isArray(v)) {
    for (const item of v) collectKerasHistory(item, out, depth + 1);
    return;
  }
  if (!isRecord(v)) return;
  if (v['class_name'] === '__keras_tensor__' && isRecord(v['config'])) {
    const h = v['config']['keras_history'];
    if (Array.isArray(h) && typeof h[0] === 'string') {
      out.push({ layer: h[0], node_index: Number(h[1] ?? 0), tensor_index: Number(h[2] ?? 0) });
    }
    return;
  }
  for (const item of Object.values(v)) collectKerasHistory(item, out, depth + 1);
}

function parseInbound(v: unknown, file: string, field: string): KerasTensorRef[][] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw malformed(`${file}: ${field} is not a list`, { file, field });
  return v.map((node, n) => {
    if (isRecord(node)) {
      // Keras 3: {"args": [...], "kwargs": {...}}
      const refs: KerasTensorRef[] = [];
      collectKerasHistory(node['args'], refs, 0);
      const kwargs = node['kwargs'];
      if (isRecord(kwargs) && Object.keys(kwargs).length > 0 && refs.length > 0) refs[0]!.kwargs = kwargs;
      return refs;
    }
    if (!Array.isArray(node)) throw malformed(`${file}: ${field}[${n}] is not a list`, { file, field });
    if (typeof node[0] === 'string') return [refFromList(node, file, `${field}[${n}]`)];
    return node.map((t, i) => refFromList(t, file, `${field}[${n}][${i}]`));
  });
}

function parseLayer(raw: unknown, file: string, field: string): KerasLayerConfig {
  if (!isRecord(raw) || typeof raw['class_name'] !== 'string') {
    throw malformed(`${file}: ${field} is not a layer object with a class_name`, { file, field });
  }
  const config = isRecord(raw['config']) ? raw['config'] : {};
  const name = typeof raw['name'] === 'string' ? raw['name'] : typeof config['name'] === 'string' ? config['name'] : null;
  if (name === null) throw malformed(`${file}: ${field} (${raw['class_name']}) has no name`, { file, field });
  return {
    name,
    class_name: raw['class_name'],
    module: typeof raw['module'] === 'string' ? raw['module'] : null,
    registered_name: typeof raw['registered_name'] === 'string' ? raw['registered_name'] : null,
    config,
    inbound: parseInbound(raw['inbound_nodes'], file, `${field}.inbound_nodes`),
  };
}

/** Parse the `model_config` JSON (or a `model.to_json()` document) into a typed layer graph. */
export function parseModelConfig(doc: unknown, file: string): KerasModelConfig {
  if (!isRecord(doc) || typeof doc['class_name'] !== 'string') {
    throw malformed(`${file}: model_config has no class_name`, { file, field: 'model_config' });
  }
  const cls = doc['class_name'];
  const cfg = doc['config'];
  let rawLayers: unknown[];
  let layout: 'list' | 'object';
  let name: string | null = null;
  let inputs: unknown;
  let outputs: unknown;
  let buildInputShape: unknown = null;
  if (Array.isArray(cfg)) {
    layout = 'list';
    rawLayers = cfg;
  } else if (isRecord(cfg) && Array.isArray(cfg['layers'])) {
    layout = 'object';
    rawLayers = cfg['layers'];
    name = typeof cfg['name'] === 'string' ? cfg['name'] : null;
    inputs = cfg['input_layers'];
    outputs = cfg['output_layers'];
    buildInputShape = cfg['build_input_shape'] ?? null;
  } else {
    throw malformed(`${file}: model_config.config of ${cls} is neither a layer list nor an object with layers`, {
      file,
      field: 'model_config.config',
    });
  }
  if (rawLayers.length > limits().maxStreams * 100) {
    throw malformed(`${file}: model_config lists ${rawLayers.length} layers`, { file, field: 'model_config.config.layers' });
  }
  const layers = rawLayers.map((l, i) => parseLayer(l, file, `model_config.config.layers[${i}]`));
  const seen = new Set<string>();
  for (const l of layers) {
    if (seen.has(l.name)) throw malformed(`${file}: model_config names two layers ${l.name}`, { file, field: 'model_config' });
    seen.add(l.name);
  }
  const sequential = cls === 'Sequential' || (inputs === undefined && layers.every((l) => l.inbound.length === 0));
  let inputLayers: KerasTensorRef[];
  let outputLayers: KerasTensorRef[];
  let implicitInput: string | null = null;
  if (sequential) {
    // Keras chains the layers; an InputLayer (tf.keras 2.x, Keras 3) names the input, otherwise
    // Keras creates `<first layer>_input` (keras/engine/sequential.py add()).
    const first = layers[0];
    if (first && first.class_name === 'InputLayer') {
      inputLayers = [{ layer: first.name, node_index: 0, tensor_index: 0 }];
    } else {
      implicitInput = first ? `${first.name}_input` : null;
      inputLayers = implicitInput ? [{ layer: implicitInput, node_index: 0, tensor_index: 0 }] : [];
    }
    let prev = inputLayers[0]?.layer ?? null;
    for (const l of layers) {
      if (l.class_name === 'InputLayer') {
        l.inbound = [];
        continue;
      }
      if (l.inbound.length === 0 && prev !== null) l.inbound = [[{ layer: prev, node_index: 0, tensor_index: 0 }]];
      prev = l.name;
    }
    const last = layers[layers.length - 1];
    outputLayers = last ? [{ layer: last.name, node_index: 0, tensor_index: 0 }] : [];
  } else {
    inputLayers = refList(inputs, file, 'model_config.config.input_layers');
    outputLayers = refList(outputs, file, 'model_config.config.output_layers');
  }
  return {
    class_name: cls,
    name,
    layout,
    sequential,
    layers,
    input_layers: inputLayers,
    output_layers: outputLayers,
    implicit_input: implicitInput,
    build_input_shape: buildInputShape,
  };
}

/** The Keras 2 name of a layer class (Keras 1 aliases mapped; others unchanged). */
export function canonicalClass(className: string): string {
  return KERAS1_CLASSES[className] ?? className;
}

/** Keras 1 `dim_ordering` → Keras 2 `data_format`. */
function dataFormat(cfg: Record<string, unknown>): string | undefined {
  if (typeof cfg['data_format'] === 'string') return cfg['data_format'];
  if (cfg['dim_ordering'] === 'tf') return 'channels_last';
  if (cfg['dim_ordering'] === 'th') return 'channels_first';
  return undefined;
}

/**
 * A layer config with Keras 2 parameter names (for the evaluator and the ONNX lowering):
 * nb_filter → filters, nb_row/nb_col (or filter_length) → kernel_size, subsample → strides,
 * border_mode → padding, dim_ordering → data_format, atrous_rate → dilation_rate,
 * output_dim → units (Dense and RNNs; Embedding keeps output_dim), p → rate, bias → use_bias,
 * init → kernel_initializer, inner_activation → recurrent_activation. Keras 2/3 configs come
 * back unchanged apart from `data_format` defaulting to channels_last where it applies.
 */
export function canonicalConfig(layer: KerasLayerConfig): Record<string, unknown> {
  const cfg: Record<string, unknown> = { ...layer.config };
  const cls = canonicalClass(layer.class_name);
  const move = (from: string, to: string): void => {
    if (from in cfg && !(to in cfg)) cfg[to] = cfg[from];
    delete cfg[from];
  };
  if ('nb_filter' in cfg) move('nb_filter', 'filters');
  if ('nb_row' in cfg || 'nb_col' in cfg || 'nb_depth' in cfg) {
    const dims = ['nb_depth', 'nb_row', 'nb_col'].filter((k) => k in cfg).map((k) => cfg[k]);
    if (!('kernel_size' in cfg)) cfg['kernel_size'] = dims;
    delete cfg['nb_depth'];
    delete cfg['nb_row'];
    delete cfg['nb_col'];
  }
  if ('filter_length' in cfg && !('kernel_size' in cfg)) cfg['kernel_size'] = [cfg['filter_length']];
  delete cfg['filter_length'];
  if ('subsample_length' in cfg && !('strides' in cfg)) cfg['strides'] = [cfg['subsample_length']];
  delete cfg['subsample_length'];
  if ('pool_length' in cfg && !('pool_size' in cfg)) cfg['pool_size'] = [cfg['pool_length']];
  delete cfg['pool_length'];
  if ('stride' in cfg && !('strides' in cfg)) cfg['strides'] = cfg['stride'] === null ? null : [cfg['stride']];
  delete cfg['stride'];
  move('subsample', 'strides');
  move('border_mode', 'padding');
  move('atrous_rate', 'dilation_rate');
  move('inner_activation', 'recurrent_activation');
  move('init', 'kernel_initializer');
  move('inner_init', 'recurrent_initializer');
  if ('bias' in cfg && typeof cfg['bias'] === 'boolean') move('bias', 'use_bias');
  if ('p' in cfg && (cls === 'Dropout' || cls.startsWith('SpatialDropout') || cls === 'GaussianDropout')) move('p', 'rate');
  if ('output_dim' in cfg && cls !== 'Embedding') move('output_dim', 'units');
  const df = dataFormat(cfg);
  delete cfg['dim_ordering'];
  if (df !== undefined) cfg['data_format'] = df;
  else if (/^(Conv|SeparableConv|DepthwiseConv|(Max|Average|GlobalMax|GlobalAverage)Pooling|Cropping|UpSampling|ZeroPadding|Flatten)/.test(cls)) {
    cfg['data_format'] = 'channels_last';
  }
  return cfg;
}
