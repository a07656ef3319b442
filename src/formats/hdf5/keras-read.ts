/**
 * Keras HDF5 (.h5 / .hdf5) reading on an open HDF5 file (runs in the HDF5 worker, see
 * remote.ts): the layout Keras 1.x, 2.x (standalone and tf.keras) and Keras 3's legacy `.h5`
 * writer produce. Read-only; nothing in the file is executed.
 *
 * Layout facts (keras/engine/saving.py 2.2.4, keras/saving/hdf5_format.py tf.keras 2.x,
 * legacy/saving/hdf5_format.py in 2.13 / Keras 3):
 *  - full model (`model.save`): root attributes `keras_version`, `backend` (absent in Keras 1),
 *    `model_config` (JSON), `training_config` (JSON, compiled models); weights under
 *    `/model_weights`; optimizer state under `/optimizer_weights`.
 *  - weights only (`model.save_weights`): `layer_names`, `backend`, `keras_version` and the
 *    layer groups on the root.
 *  - the weights group has `layer_names` (the order of model.layers); each layer group has
 *    `weight_names`, paths relative to the group ('kernel:0'-style names, 0–2 levels of
 *    subgroup, scope names that can differ from the group name). A layer without weights
 *    stores `weight_names` as an empty float64 array.
 *  - attributes larger than 64 KiB are split into `<name>0`, `<name>1`, ...
 *    (save_attributes_to_hdf5_group / load_attributes_from_hdf5_group).
 */
import type { Finding, SafetyReport } from '../../api/types.js';
import { malformed, unsupported } from '../../errors.js';
import { sha256Hex } from '../../io/hash.js';
import type { Hdf5File, Superblock } from './h5.js';
import {
  KNOWN_LAYER_CLASSES,
  canonicalClass,
  isRecord,
  parseJsonAttribute,
  parseModelConfig,
} from './keras-config.js';
import type { KerasModelConfig } from './keras-config.js';
import type { KerasIO, KerasLambda, KerasLayer, KerasModel, KerasTensor, KerasTraining, KerasWeight } from './keras-types.js';
import { MarshalError, decodeCodeObject, lambdaBytes } from './marshal.js';

// ------------------------------------------------------------------------------------------
// names
// ------------------------------------------------------------------------------------------

function stripIndexSuffix(name: string): string {
  return name.replace(/:\d+$/, '');
}

function weightParts(layer: string, weightName: string): string[] {
  const comps = stripIndexSuffix(weightName).split('/').filter((c) => c !== '');
  const only = comps[0];
  if (comps.length === 1 && only !== undefined && only.startsWith(`${layer}_`) && only.length > layer.length + 1) {
    return [only.slice(layer.length + 1)]; // Keras 1: dense_1_W:0 → W
  }
  return comps.length > 0 ? comps : [weightName];
}

/**
 * `<layer>/<weight>` for each entry of a layer's weight_names: `:N` stripped, a Keras 1
 * `<layer>_` prefix dropped, then the shortest trailing path unique within the layer
 * (`lstm_1/lstm_1_2/kernel:0` → `lstm_1/kernel`; Bidirectional forward/backward kernels keep
 * their distinguishing scope). fixtures/generate/gen_keras.py implements the same rule.
 */
export function kerasTensorNames(layer: string, weightNames: readonly string[]): string[] {
  const parts = weightNames.map((w) => weightParts(layer, w));
  // How many weights end in each k-component tail (counted once per k, not once per pair: a
  // hostile weight_names list of 100k entries must not cost 10^10 comparisons).
  const tails: Array<Map<string, number>> = [];
  const tailCount = (k: number, tail: string): number => {
    let counts = tails[k];
    if (!counts) {
      counts = new Map();
      for (const p of parts) {
        if (p.length < k) continue;
        const t = p.slice(-k).join('/');
        counts.set(t, (counts.get(t) ?? 0) + 1);
      }
      tails[k] = counts;
    }
    return counts.get(tail) ?? 0;
  };
  return parts.map((mine) => {
    for (let k = 1; k <= mine.length; k++) {
      const tail = mine.slice(-k).join('/');
      if (tailCount(k, tail) === 1) return `${layer}/${tail}`;
    }
    return `${layer}/${mine.join('/')}`;
  });
}

/** `name`, else `name_1`, `name_2`, ...; `next` remembers where each base name's count stands. */
function uniqueName(name: string, used: Set<string>, next = UNIQUE_NEXT.get(used)): string {
  let counter = next;
  if (!counter) UNIQUE_NEXT.set(used, (counter = new Map()));
  let out = name;
  for (let n = counter.get(name) ?? 1; used.has(out); n++) {
    out = `${name}_${n}`;
    counter.set(name, n + 1);
  }
  used.add(out);
  return out;
}
const UNIQUE_NEXT = new WeakMap<Set<string>, Map<string, number>>();

// ------------------------------------------------------------------------------------------
// reading
// ------------------------------------------------------------------------------------------

function join(group: string, name: string): string {
  return group === '/' ? `/${name}` : `${group}/${name}`;
}

/** A name list attribute, reassembled from `<name>0`, `<name>1`, ... when Keras split it. */
function readNameList(h5: Hdf5File, path: string, name: string): string[] | null {
  const attrs = h5.attributeNames(path);
  const readOne = (attr: string): string[] => {
    const values = h5.readStrings(path, attr);
    if (values === null) {
      throw malformed(`${h5.file}: attribute ${attr} of ${path} is not a list of names`, { file: h5.file, field: `${path}@${attr}` });
    }
    return values;
  };
  if (attrs.includes(name)) return readOne(name);
  const present = new Set(attrs);
  if (!present.has(`${name}0`)) return null;
  const out: string[] = [];
  // (Name by name: spreading a chunk of ~100k names into push() overflows the stack.)
  for (let i = 0; present.has(`${name}${i}`); i++) for (const n of readOne(`${name}${i}`)) out.push(n);
  return out;
}

function readWeights(h5: Hdf5File, groupPath: string, layer: string, used: Set<string>): KerasWeight[] {
  const names = readNameList(h5, groupPath, 'weight_names') ?? [];
  const tensorNames = kerasTensorNames(layer, names);
  return names.map((wn, i) => {
    const path = join(groupPath, wn.replace(/^\/+/, ''));
    if (h5.kind(path) !== 'dataset') {
      throw malformed(`${h5.file}: layer group ${groupPath} lists weight ${wn} in weight_names but ${path} is not a dataset`, {
        file: h5.file,
        field: `${groupPath}@weight_names`,
      });
    }
    const info = h5.datasetInfo(path);
    return {
      name: uniqueName(tensorNames[i]!, used),
      layer,
      weight_name: wn,
      role: weightParts(layer, wn).at(-1) ?? wn,
      hdf5_path: path,
      dtype: info.dtype,
      shape: info.shape,
      bytes: info.bytes,
    };
  });
}

/** Links walkDatasets follows: HDF5 groups may hard-link to their own ancestors, so a walk of
 * depth 32 over a group linked twice into itself would visit 2^32 paths. */
const MAX_WALK_LINKS = 100_000;

/** Every dataset below a group, sorted by path (for optimizer groups without weight_names). */
function walkDatasets(h5: Hdf5File, path: string, prefix: string, out: string[], depth: number, budget = { left: MAX_WALK_LINKS }): void {
  if (depth > 32) return;
  for (const child of h5.children(path)) {
    if (--budget.left < 0) {
      throw malformed(`${h5.file}: ${path} leads to more than ${MAX_WALK_LINKS} links (groups linked into themselves?)`, { file: h5.file, field: path });
    }
    const p = join(path, child);
    const rel = prefix ? `${prefix}/${child}` : child;
    const kind = h5.kind(p);
    if (kind === 'dataset') out.push(rel);
    else if (kind === 'group') walkDatasets(h5, p, rel, out, depth + 1, budget);
  }
}

function readOptimizer(h5: Hdf5File, used: Set<string>, warnings: string[]): KerasWeight[] {
  const path = '/optimizer_weights';
  if (h5.kind(path) !== 'group') return [];
  let names = readNameList(h5, path, 'weight_names');
  if (names === null) {
    names = [];
    walkDatasets(h5, path, '', names, 0);
    if (names.length > 0) warnings.push(`/optimizer_weights has no weight_names attribute; listed its ${names.length} datasets by path`);
  }
  return names.map((wn) => {
    const p = join(path, wn.replace(/^\/+/, ''));
    if (h5.kind(p) !== 'dataset') {
      throw malformed(`${h5.file}: /optimizer_weights lists ${wn} in weight_names but ${p} is not a dataset`, {
        file: h5.file,
        field: '/optimizer_weights@weight_names',
      });
    }
    const info = h5.datasetInfo(p);
    return {
      name: uniqueName(`optimizer/${stripIndexSuffix(wn)}`, used),
      layer: null,
      weight_name: wn,
      role: stripIndexSuffix(wn).split('/').at(-1) ?? wn,
      hdf5_path: p,
      dtype: info.dtype,
      shape: info.shape,
      bytes: info.bytes,
    };
  });
}

function summarizeTraining(doc: unknown): KerasTraining {
  const tc = isRecord(doc) ? doc : {};
  const oc = isRecord(tc['optimizer_config']) ? tc['optimizer_config'] : null;
  let optimizer: string | null = null;
  let optimizerConfig: Record<string, unknown> | null = null;
  if (oc) {
    optimizer = typeof oc['class_name'] === 'string' ? oc['class_name'] : typeof oc['name'] === 'string' ? oc['name'] : null;
    optimizerConfig = isRecord(oc['config']) ? oc['config'] : null;
  }
  return {
    optimizer,
    optimizer_config: optimizerConfig,
    loss: tc['loss'] ?? null,
    metrics: tc['metrics'] ?? null,
    loss_weights: tc['loss_weights'] ?? null,
  };
}

function policyName(dtype: unknown): string | null {
  if (typeof dtype === 'string') return dtype;
  if (isRecord(dtype) && isRecord(dtype['config']) && typeof dtype['config']['name'] === 'string') return dtype['config']['name'];
  return null;
}

function shapeList(v: unknown): Array<number | null> | null {
  if (!Array.isArray(v)) return null;
  return v.map((d) => (typeof d === 'number' ? d : null));
}

/** The batch input shape a layer config declares (Keras 1/2 batch_input_shape, Keras 3 batch_shape, input_shape, input_dim). */
function declaredInputShape(cfg: Record<string, unknown>): Array<number | null> | null {
  const batch = shapeList(cfg['batch_input_shape']) ?? shapeList(cfg['batch_shape']);
  if (batch) return batch;
  const inputShape = shapeList(cfg['input_shape']);
  if (inputShape) return [null, ...inputShape];
  if (typeof cfg['input_dim'] === 'number') return [null, cfg['input_dim']];
  return null;
}

function modelIO(config: KerasModelConfig): { inputs: KerasIO[]; outputs: KerasIO[] } {
  const byName = new Map(config.layers.map((l) => [l.name, l]));
  const inputs = config.input_layers.map((ref): KerasIO => {
    const layer = byName.get(ref.layer);
    let cfg = layer?.config ?? null;
    if (!layer && config.implicit_input === ref.layer) {
      cfg = config.layers.find((l) => l.class_name !== 'InputLayer')?.config ?? null;
    }
    let shape = cfg ? declaredInputShape(cfg) : null;
    if (!shape && config.sequential) shape = shapeList(config.build_input_shape);
    return {
      name: ref.layer,
      node_index: ref.node_index,
      tensor_index: ref.tensor_index,
      shape,
      dtype: (cfg ? policyName(cfg['dtype']) ?? policyName(cfg['input_dtype']) : null) ?? 'float32',
    };
  });
  const outputs = config.output_layers.map((ref): KerasIO => ({
    name: ref.layer,
    node_index: ref.node_index,
    tensor_index: ref.tensor_index,
    shape: null,
    dtype: null,
  }));
  return { inputs, outputs };
}

// ------------------------------------------------------------------------------------------
// safety
// ------------------------------------------------------------------------------------------

function lambdaCodeText(fn: unknown): string | null {
  if (typeof fn === 'string') return fn;
  if (Array.isArray(fn) && typeof fn[0] === 'string') return fn[0]; // [code, defaults, closure]
  if (isRecord(fn) && isRecord(fn['config']) && typeof fn['config']['code'] === 'string') return fn['config']['code']; // Keras 3 __lambda__
  return null;
}

function describeLambda(layerName: string, cfg: Record<string, unknown>): KerasLambda {
  const type = typeof cfg['function_type'] === 'string' ? cfg['function_type'] : null;
  const fn = cfg['function'];
  if (type === 'function' || (typeof fn === 'string' && type !== 'lambda')) {
    const mod = typeof cfg['module'] === 'string' ? cfg['module'] : null;
    const fname = typeof fn === 'string' ? fn : null;
    return {
      layer: layerName,
      function_type: type,
      encoding: 'named-function',
      code: null,
      function: fname === null ? null : mod ? `${mod}.${fname}` : fname,
      marshal_bytes: null,
      marshal_sha256: null,
      error: null,
    };
  }
  const text = lambdaCodeText(fn);
  if (text === null) {
    return {
      layer: layerName,
      function_type: type,
      encoding: 'unknown',
      code: null,
      function: null,
      marshal_bytes: null,
      marshal_sha256: null,
      error: 'no code string',
    };
  }
  const { encoding, bytes } = lambdaBytes(text);
  const base = {
    layer: layerName,
    function_type: type,
    encoding,
    function: null,
    marshal_bytes: bytes.length,
    marshal_sha256: sha256Hex(bytes),
  };
  try {
    return { ...base, code: decodeCodeObject(bytes), error: null };
  } catch (err) {
    if (!(err instanceof MarshalError)) throw err;
    return { ...base, code: null, error: err.message };
  }
}

interface SafetyScan {
  report: SafetyReport;
  lambdas: KerasLambda[];
}

function lambdaMessage(l: KerasLambda): string {
  if (l.encoding === 'named-function') {
    return `layer ${l.layer} is a Lambda that calls the Python function ${l.function ?? '(unnamed)'}; loading the model imports and runs it`;
  }
  let what = 'marshalled Python bytecode';
  if (l.code) {
    const where = [l.code.filename ? `in ${l.code.filename}` : null, l.code.firstlineno !== null ? `line ${l.code.firstlineno}` : null]
      .filter(Boolean)
      .join(', ');
    what += ` (${l.code.name ?? 'code'}${where ? ` ${where}` : ''})`;
  } else if (l.error) {
    what += ` that could not be decoded (${l.error})`;
  }
  return `layer ${l.layer} is a Lambda holding ${what}; loading the model runs it`;
}

/** Classify every layer class of a config (wrappers and nested models included). */
function scanConfig(config: KerasModelConfig | null): SafetyScan {
  const globals = new Set<string>();
  const findings: Finding[] = [];
  const lambdas: KerasLambda[] = [];
  const visit = (raw: unknown, where: string, depth: number): void => {
    if (depth > 64 || !isRecord(raw) || typeof raw['class_name'] !== 'string') return;
    const cls = raw['class_name'];
    const cfg = isRecord(raw['config']) ? raw['config'] : {};
    const name = typeof cfg['name'] === 'string' ? cfg['name'] : typeof raw['name'] === 'string' ? raw['name'] : '?';
    const module = typeof raw['module'] === 'string' ? raw['module'] : null;
    const builtin = KNOWN_LAYER_CLASSES.has(cls) && (module === null || module === 'keras' || module.startsWith('keras.'));
    const global = builtin ? `keras.layers.${cls}` : module ? `${module}.${cls}` : cls;
    globals.add(global);
    if (cls === 'Lambda') {
      const l = describeLambda(name, cfg);
      lambdas.push(l);
      if (l.function) globals.add(l.function);
      findings.push({ global, severity: 'critical', location: `${where} ${name}`, message: lambdaMessage(l) });
    } else if (!builtin) {
      findings.push({
        global,
        severity: 'high',
        location: `${where} ${name}`,
        message: `layer ${name} has class ${cls}, which is not a built-in Keras layer; loading the model needs and runs user code`,
      });
    }
    // wrappers (TimeDistributed, Bidirectional) and nested models
    if (isRecord(cfg['layer'])) visit(cfg['layer'], `${where} ${name} >`, depth + 1);
    if (isRecord(cfg['backward_layer'])) visit(cfg['backward_layer'], `${where} ${name} >`, depth + 1);
    if (Array.isArray(cfg['layers'])) for (const inner of cfg['layers']) visit(inner, `${where} ${name} >`, depth + 1);
  };
  if (config) {
    for (const layer of config.layers) {
      visit(
        { class_name: layer.class_name, config: layer.config, name: layer.name, module: layer.module },
        'layer',
        0,
      );
    }
  }
  return {
    report: { verdict: findings.length > 0 ? 'unsafe' : 'safe', globals: [...globals].sort(), findings },
    lambdas,
  };
}

// ------------------------------------------------------------------------------------------
// entry points
// ------------------------------------------------------------------------------------------

export function describeFile(h5: Hdf5File, superblock: Superblock): KerasModel {
  const file = h5.file;
  const warnings: string[] = [];
  const rootAttrs = h5.attributeNames('/');
  const hasModelWeights = h5.kind('/model_weights') === 'group';
  const weightsRoot = hasModelWeights ? '/model_weights' : '/';
  const layerNames = readNameList(h5, weightsRoot, 'layer_names');
  const hasConfig = rootAttrs.includes('model_config');
  if (!hasConfig && layerNames === null) {
    throw unsupported(`${file} is an HDF5 file but not a Keras model: it has no model_config and no layer_names attribute`, {
      file,
      suggestion: 'mlpack reads HDF5 files written by Keras (model.save / model.save_weights)',
    });
  }
  const keras_version = h5.readString('/', 'keras_version') ?? h5.readString(weightsRoot, 'keras_version');
  const backend = h5.readString('/', 'backend') ?? h5.readString(weightsRoot, 'backend');
  const major = keras_version !== null ? Number.parseInt(keras_version, 10) : Number.NaN;

  let config: KerasModelConfig | null = null;
  if (hasConfig) {
    const text = h5.readString('/', 'model_config');
    if (text === null) throw malformed(`${file}: the model_config attribute is not a string`, { file, field: 'model_config' });
    config = parseModelConfig(parseJsonAttribute(text, file, 'model_config'), file);
  }
  let training: KerasTraining | null = null;
  if (rootAttrs.includes('training_config')) {
    const text = h5.readString('/', 'training_config');
    if (text === null) throw malformed(`${file}: the training_config attribute is not a string`, { file, field: 'training_config' });
    training = summarizeTraining(parseJsonAttribute(text, file, 'training_config'));
  }

  // weights, in layer_names order
  const used = new Set<string>();
  const names = layerNames ?? [];
  const byLayer = new Map<string, KerasWeight[]>();
  const weights: KerasWeight[] = [];
  for (const name of names) {
    const path = join(weightsRoot, name);
    if (h5.kind(path) !== 'group') {
      throw malformed(`${file}: layer_names lists ${name} but ${path} is not a group`, { file, field: `${weightsRoot}@layer_names` });
    }
    const ws = readWeights(h5, path, name, used);
    byLayer.set(name, ws);
    for (const w of ws) weights.push(w);
  }
  const listed = new Set(names);
  const groupsOutside = h5
    .children(weightsRoot)
    .filter((c) => !listed.has(c) && !(weightsRoot === '/' && (c === 'model_weights' || c === 'optimizer_weights')))
    .filter((c) => h5.kind(join(weightsRoot, c)) === 'group');
  for (const g of groupsOutside) {
    const ws = readWeights(h5, join(weightsRoot, g), g, used);
    if (ws.length > 0) warnings.push(`group ${join(weightsRoot, g)} is not in layer_names but holds ${ws.length} weights`);
    for (const w of ws) weights.push(w);
  }
  const optimizer = readOptimizer(h5, used, warnings);

  // layers: config order, then layer_names entries the config does not have
  const layers: KerasLayer[] = [];
  if (config) {
    for (const l of config.layers) {
      layers.push({
        name: l.name,
        class_name: l.class_name,
        canonical_class: canonicalClass(l.class_name),
        module: l.module,
        config: l.config,
        inbound: l.inbound,
        in_layer_names: listed.has(l.name),
        weights: byLayer.get(l.name) ?? [],
      });
    }
  }
  const inConfig = new Set(layers.map((l) => l.name));
  for (const name of names) {
    if (inConfig.has(name)) continue;
    if (config) warnings.push(`layer_names lists ${name}, which model_config does not define`);
    layers.push({
      name,
      class_name: null,
      canonical_class: null,
      module: null,
      config: null,
      inbound: [],
      in_layer_names: true,
      weights: byLayer.get(name) ?? [],
    });
  }

  const io = config ? modelIO(config) : { inputs: [], outputs: [] };
  const { report, lambdas } = scanConfig(config);
  return {
    file,
    layout: hasConfig || hasModelWeights ? 'full-model' : 'weights-only',
    keras_version,
    keras_major: Number.isFinite(major) ? major : null,
    backend,
    superblock,
    weights_root: weightsRoot,
    model_class: config?.class_name ?? null,
    model_name: config?.name ?? null,
    config,
    layers,
    layer_names: names,
    inputs: io.inputs,
    outputs: io.outputs,
    training,
    weights,
    optimizer_weights: optimizer,
    groups_not_in_layer_names: groupsOutside,
    lambdas,
    safety: report,
    warnings,
  };
}

/** Read a Keras HDF5 file's architecture, weight list (no values) and safety findings. */

/** Every weight of `model` (then optimizer state when asked) as typed arrays, in listing order. */
export function readTensors(h5: Hdf5File, model: KerasModel, optimizer: boolean, fileBytes: number): KerasTensor[] {
  const list = optimizer ? [...model.weights, ...model.optimizer_weights] : model.weights;
  return list.map((weight): KerasTensor => {
    const info = h5.datasetInfo(weight.hdf5_path);
    return { name: weight.name, dtype: weight.dtype, shape: weight.shape, data: h5.readDataset(info, fileBytes), weight };
  });
}
