/**
 * The `inspect` document for an ONNX model (CLI.md, "onnx"). ONNX cannot carry Python code, so
 * there is no `safety` block; operators from domains ONNX does not define are flagged in
 * `warnings` instead (they need a runtime that implements them).
 *
 * Decisions:
 * - `model.inputs` lists every graph input with `is_initializer`; IR<4 files list initializers
 *   among the inputs (they act as defaults), and those need not be fed. `model.feeds` is the
 *   list of inputs a caller must feed (what `predict` uses).
 * - `model.ops` counts the nodes of the main graph (`Conv`, `ai.onnx.ml:ZipMap`); nodes inside
 *   If/Loop/Scan bodies are counted separately in `model.subgraph_ops` when there are any.
 * - `model.kind`: "classifier" when the graph has an ai.onnx.ml classifier op
 *   (LinearClassifier, SVMClassifier, TreeEnsembleClassifier) or has both a label-like and a
 *   probability-like output (`label`/`output_label`/`label_0`... and `probabilities`/
 *   `output_probability`/`proba_0`..., the skl2onnx and mlpack conventions); "regressor" for an
 *   ai.onnx.ml regressor op (LinearRegressor, SVMRegressor, TreeEnsembleRegressor, TreeEnsemble);
 *   "transformer" when every op is an ai.onnx.ml preprocessing op (Scaler, Normalizer, ...);
 *   otherwise "network". A `model_kind` metadata prop naming one of CLI.md's kinds (mlpack's
 *   converter records the estimator's) wins over the graph's shape: a converted KMeans or
 *   IsolationForest is a clusterer or outlier detector, not a "network".
 */
import { malformed } from '../../errors.js';
import type { InspectResult, ModelKind, ModelSummary, TensorInfo } from '../../api/types.js';
import { externalDataRef, isExternal, unsafeLocationReason } from './external.js';
import type { GraphProto, ModelProto, NodeProto } from './gen/onnx-proto.js';
import { int64ToNumber } from './int64.js';
import {
  allTensors,
  formatValueType,
  graphInterface,
  nodeAttributes,
  nodeDomain,
  opKey,
  tensorByteSize,
  tensorDType,
  tensorShape,
  type GraphValue,
} from './read.js';
import type { Dim, OnnxDType, ValueType } from './types.js';
import {
  ML_DOMAIN,
  ORT_CONTRIB_DOMAIN,
  ORT_MAX_IR_VERSION,
  ORT_MAX_ML_OPSET,
  ORT_MAX_OPSET,
  ORT_NODE_VERSION,
  STANDARD_DOMAINS,
} from './versions.js';

const CLASSIFIER_OPS = new Set(['LinearClassifier', 'SVMClassifier', 'TreeEnsembleClassifier']);
const REGRESSOR_OPS = new Set(['LinearRegressor', 'SVMRegressor', 'TreeEnsembleRegressor', 'TreeEnsemble']);
const LABEL_NAME = /(^|_)label(s)?(_\d+)?$|^output_label$/i;
const PROBA_NAME = /(^|_)(probabilities|probability|proba|probs?)(_\d+)?$|^output_probability$/i;

/** How inspect prints one graph input/output. */
export interface InspectValue {
  name: string;
  /** Element type of a tensor; null for sequences/maps (see `type`). */
  dtype: OnnxDType | null;
  /** Dims (numbers, symbolic strings, null = unknown); null when the rank is unknown or not a tensor. */
  shape: Dim[] | null;
  /** Readable type: `tensor(float32)`, `seq(map(int64,tensor(float32)))`. */
  type: string;
  is_initializer?: boolean;
}

function inspectValue(v: GraphValue): InspectValue {
  const t: ValueType = v.type;
  const tensorLike = t.kind === 'tensor' || t.kind === 'sparse_tensor';
  return {
    name: v.name,
    dtype: tensorLike ? t.dtype : null,
    shape: tensorLike ? t.shape : null,
    type: formatValueType(t),
  };
}

/** Class labels of the first ai.onnx.ml classifier-style op (ints as numbers when exact). */
export function classifierLabels(graph: GraphProto): Array<string | number> | null {
  for (const n of graph.node ?? []) {
    if (nodeDomain(n) !== ML_DOMAIN || !(CLASSIFIER_OPS.has(n.op_type ?? '') || n.op_type === 'ZipMap')) continue;
    const attrs = nodeAttributes(n);
    const strings = attrs.get('classlabels_strings');
    if (strings?.type === 'strings' && strings.value.length > 0) return strings.value;
    const ints = attrs.get('classlabels_int64s') ?? attrs.get('classlabels_ints');
    if (ints?.type === 'ints' && ints.value.length > 0) return ints.value.map((v) => (typeof v === 'bigint' ? v.toString() : v));
  }
  return null;
}

export interface OutputRoles {
  /** Output holding predicted labels. */
  label?: string;
  /** Output holding class probabilities/scores (may be a ZipMap sequence of maps). */
  probabilities?: string;
}

/** label/probabilities outputs by name (skl2onnx and mlpack conventions). */
export function outputRoles(graph: GraphProto): OutputRoles {
  const roles: OutputRoles = {};
  for (const o of graph.output ?? []) {
    const name = o.name ?? '';
    if (roles.label === undefined && LABEL_NAME.test(name)) roles.label = name;
    else if (roles.probabilities === undefined && PROBA_NAME.test(name)) roles.probabilities = name;
  }
  return roles;
}

const RECORDED_KINDS = new Set<ModelKind>(['classifier', 'regressor', 'transformer', 'clusterer', 'outlier_detector', 'network']);

export function modelKind(graph: GraphProto): 'classifier' | 'regressor' | 'transformer' | 'network' {
  const nodes = graph.node ?? [];
  const ml = nodes.filter((n) => nodeDomain(n) === ML_DOMAIN);
  if (ml.some((n) => CLASSIFIER_OPS.has(n.op_type ?? ''))) return 'classifier';
  const roles = outputRoles(graph);
  if (roles.label !== undefined && roles.probabilities !== undefined) return 'classifier';
  if (ml.some((n) => REGRESSOR_OPS.has(n.op_type ?? ''))) return 'regressor';
  if (ml.length > 0 && ml.length === nodes.length) return 'transformer';
  return 'network';
}

function countOps(nodes: readonly NodeProto[], into: Record<string, number>): void {
  for (const n of nodes) {
    const k = opKey(n);
    into[k] = (into[k] ?? 0) + 1;
  }
}

function sorted(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function subgraphNodes(graph: GraphProto): NodeProto[] {
  const out: NodeProto[] = [];
  const visit = (g: GraphProto): void => {
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        for (const sg of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) {
          for (const inner of sg.node ?? []) out.push(inner);
          visit(sg);
        }
      }
    }
  };
  visit(graph);
  return out;
}

export type OnnxInspection = Omit<InspectResult, 'file' | 'size_bytes' | 'sha256'>;

/** The format part of the inspect document of a decoded model. */
export function inspectModel(model: ModelProto, file?: string): OnnxInspection {
  const graph = model.graph;
  if (!graph) throw malformed(`${file ?? 'ONNX model'} has no graph`, { file, field: 'graph' });
  const warnings: string[] = [];
  const irVersion = int64ToNumber(model.ir_version, 'ir_version', file);
  const opsets = (model.opset_import ?? []).map((o) => ({
    domain: o.domain ?? '',
    version: int64ToNumber(o.version, `opset_import[${o.domain ?? ''}]`, file),
  }));

  // external data: listed, and a location that could never be followed safely is flagged.
  const external = allTensors(graph)
    .filter(isExternal)
    .map((t) => {
      const ref = externalDataRef(t, file);
      const reason = unsafeLocationReason(ref.location);
      if (reason) warnings.push(`external data location "${ref.location}" of tensor "${ref.tensor}" ${reason}; mlpack will not read it`);
      return { tensor: ref.tensor, location: ref.location, offset: ref.offset, length: ref.length };
    });

  const io = graphInterface(graph, file);
  // No prototype: an op_type named "constructor" or "__proto__" is counted like any other.
  const ops = Object.create(null) as Record<string, number>;
  countOps(graph.node ?? [], ops);
  const inner = subgraphNodes(graph);
  const subOps = Object.create(null) as Record<string, number>;
  countOps(inner, subOps);

  const domains = new Set<string>([...opsets.map((o) => o.domain), ...[...graph.node ?? [], ...inner].map(nodeDomain)]);
  for (const d of [...domains].sort()) {
    if (STANDARD_DOMAINS.has(d)) continue;
    const used = Object.keys({ ...ops, ...subOps }).filter((k) => k.startsWith(`${d}:`));
    const what = used.length ? ` (${used.map((k) => k.slice(d.length + 1)).join(', ')})` : '';
    warnings.push(
      d === ORT_CONTRIB_DOMAIN
        ? `uses onnxruntime's contrib domain "${d}"${what}: only onnxruntime runs these operators`
        : `uses the custom operator domain "${d}"${what}: it needs a runtime that implements these operators`,
    );
  }
  for (const o of opsets) {
    const max = o.domain === '' || o.domain === 'ai.onnx' ? ORT_MAX_OPSET : o.domain === ML_DOMAIN ? ORT_MAX_ML_OPSET : null;
    if (max !== null && o.version > max) {
      warnings.push(`opset ${o.domain || 'ai.onnx'} ${o.version} is newer than onnxruntime-node ${ORT_NODE_VERSION} runs (${max})`);
    }
  }
  if (irVersion > ORT_MAX_IR_VERSION) {
    warnings.push(`ir_version ${irVersion} is newer than onnxruntime-node ${ORT_NODE_VERSION} reads (${ORT_MAX_IR_VERSION})`);
  }

  const tensors: TensorInfo[] = [];
  let nParams = 0;
  for (const t of graph.initializer ?? []) {
    const { shape, count } = tensorShape(t, file);
    tensors.push({ name: t.name ?? '', dtype: tensorDType(t, file), shape, bytes: tensorByteSize(t, file) });
    nParams += count;
  }
  for (const s of graph.sparse_initializer ?? []) {
    if (!s.values) continue;
    const dims = (s.dims ?? []).map((d) => int64ToNumber(d, 'sparse_initializer.dims', file));
    const bytes = tensorByteSize(s.values, file) + (s.indices ? tensorByteSize(s.indices, file) : 0);
    tensors.push({ name: s.values.name ?? '', dtype: tensorDType(s.values, file), shape: dims, bytes });
    nParams += tensorShape(s.values, file).count;
  }

  // fromEntries defines keys as own properties: a "__proto__" key stays a key.
  const metadata: Record<string, string> = Object.fromEntries((model.metadata_props ?? []).map((p) => [p.key ?? '', p.value ?? '']));

  const recorded = metadata.model_kind as ModelKind | undefined;
  const kind: ModelKind = recorded !== undefined && RECORDED_KINDS.has(recorded) ? recorded : modelKind(graph);
  const summary: ModelSummary = {
    class: 'onnx.ModelProto',
    kind,
    graph: graph.name ?? '',
    inputs: io.inputs.map((v) => ({ ...inspectValue(v), is_initializer: v.is_initializer })),
    outputs: io.outputs.map(inspectValue),
    feeds: io.feeds,
    ops: sorted(ops),
    metadata,
    /** Elements of all initializers (constants computed by nodes are not counted). */
    n_params: nParams,
    n_nodes: graph.node?.length ?? 0,
  };
  if (inner.length > 0) summary.subgraph_ops = sorted(subOps);
  if (kind === 'classifier') summary.classes = classifierLabels(graph);
  const roles = outputRoles(graph);
  if (roles.label !== undefined || roles.probabilities !== undefined) summary.output_roles = roles;
  if (model.functions?.length) summary.functions = model.functions.map((f) => (f.domain ? `${f.domain}:${f.name ?? ''}` : (f.name ?? '')));
  if (model.doc_string) summary.doc_string = model.doc_string;

  const producer: OnnxInspection['producer'] = {
    library: model.producer_name || null,
    version: model.producer_version || null,
  };
  if (model.domain) producer.domain = model.domain;
  const modelVersion = int64ToNumber(model.model_version, 'model_version', file);
  if (modelVersion !== 0) producer.model_version = modelVersion;

  const result: OnnxInspection = {
    format: 'onnx',
    container: {
      ir_version: irVersion,
      opset_import: opsets,
      external_data: external,
    },
    producer,
    model: summary,
    tensors,
  };
  if (graph.sparse_initializer?.length) result.container.sparse_initializers = graph.sparse_initializer.length;
  if (model.training_info?.length) result.container.training_info = model.training_info.length;
  if (warnings.length > 0) result.warnings = warnings;
  return result;
}
