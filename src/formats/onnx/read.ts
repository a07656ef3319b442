/**
 * Reading ONNX models: decode a ModelProto and turn its parts into plain values (tensors,
 * value types, attributes). Spec: https://github.com/onnx/onnx/blob/main/docs/IR.md and the
 * field comments of onnx-ml.proto (vendored in gen/).
 */
import { dirname } from 'node:path';
import { malformed, unsupported } from '../../errors.js';
import { decodeUtf8 } from '../../io/byte-reader.js';
import { limits } from '../../io/limits.js';
import { TYPED_ARRAYS } from '../../ir/dtype.js';
import { dtypeInfo, rawByteLength, type DTypeInfo } from './dtypes.js';
import { externalDataRef, isExternal, readExternalData } from './external.js';
import {
  AttributeProtoAttributeType as AT,
  TensorProtoDataLocation,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type TypeProto,
  type ValueInfoProto,
} from './gen/onnx-proto.js';
import { int64ToBigInt, int64ToJs, int64ToNumber } from './int64.js';
import { decodeModelProto } from './proto.js';
import type { Dim, OnnxDType, Tensor, TensorData, ValueType } from './types.js';

export interface ReadContext {
  /** File name for messages. */
  file?: string | undefined;
  /** Folder that external data locations are relative to; null/undefined = refuse external data. */
  baseDir?: string | null | undefined;
}

/** The folder external data of a model at `path` is resolved in (null for stdin). */
export function baseDirOf(path: string): string | null {
  return path === '-' ? null : dirname(path);
}

/**
 * Decode and sanity-check a model: it must have a graph (the one required part). Bytes fields
 * stay views of `bytes`.
 */
export function decodeModel(bytes: Uint8Array, file?: string): ModelProto {
  const model = decodeModelProto(bytes, file);
  if (!model.graph) {
    throw malformed(`${file ?? 'ONNX model'} has no graph (ModelProto field 7)`, { file, field: 'graph' });
  }
  return model;
}

/** True when the message carried the field on the wire (protobufjs sets only those as own properties). */
export function has<T extends object>(msg: T, field: keyof T & string): boolean {
  return Object.prototype.hasOwnProperty.call(msg, field);
}

// ---------------------------------------------------------------------------------------------
// Tensors

/** Dimensions of a TensorProto as numbers, bounded by limits().maxNdim / maxArrayElements. */
export function tensorShape(t: TensorProto, file?: string): { shape: number[]; count: number } {
  const dims = t.dims ?? [];
  const name = t.name ?? '';
  if (dims.length > limits().maxNdim) {
    throw malformed(`${file ?? 'ONNX model'}: tensor "${name}" has ${dims.length} dimensions (limit ${limits().maxNdim})`, {
      file,
      field: `${name}.dims`,
    });
  }
  const shape: number[] = [];
  let count = 1;
  for (const d of dims) {
    const n = int64ToNumber(d, `${name}.dims`, file);
    if (n < 0) throw malformed(`${file ?? 'ONNX model'}: tensor "${name}" has a negative dimension ${n}`, { file, field: `${name}.dims` });
    shape.push(n);
    count *= n;
  }
  // Huge dims overflow the product to Infinity, and a later 0 turns that into NaN.
  if (shape.includes(0)) count = 0;
  if (count > limits().maxArrayElements) {
    throw malformed(`${file ?? 'ONNX model'}: tensor "${name}" claims ${count} elements (limit ${limits().maxArrayElements})`, {
      file,
      field: `${name}.dims`,
    });
  }
  return { shape, count };
}

function infoOf(t: TensorProto, file?: string): DTypeInfo {
  const code = t.data_type ?? 0;
  const info = dtypeInfo(code);
  if (!info) {
    const name = t.name ?? '';
    if (code === 0) throw malformed(`${file ?? 'ONNX model'}: tensor "${name}" has no data_type`, { file, field: `${name}.data_type` });
    throw unsupported(`${file ?? 'ONNX model'}: tensor "${name}" has element type ${code}, unknown to mlpack`, { file, field: `${name}.data_type` });
  }
  return info;
}

/** Element type of a TensorProto. */
export function tensorDType(t: TensorProto, file?: string): OnnxDType {
  return infoOf(t, file).name;
}

/** Bytes the elements occupy (raw size; strings: sum of their UTF-8 lengths). No data is read. */
export function tensorByteSize(t: TensorProto, file?: string): number {
  const info = infoOf(t, file);
  const { count } = tensorShape(t, file);
  if (info.name === 'string') return (t.string_data ?? []).reduce((s, b) => s + b.length, 0);
  return rawByteLength(info, count);
}

/** Where a tensor's elements are stored, as in facts.json: raw_data, float_data, ..., external, empty. */
export function tensorStorage(t: TensorProto): string {
  if (isExternal(t)) return 'external';
  if (t.raw_data instanceof Uint8Array && t.raw_data.length > 0) return 'raw_data';
  for (const f of ['float_data', 'int32_data', 'int64_data', 'double_data', 'uint64_data', 'string_data'] as const) {
    if ((t[f]?.length ?? 0) > 0) return f;
  }
  return 'empty';
}

type NumericCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): Exclude<TensorData, string[]>;
  new (length: number): Exclude<TensorData, string[]>;
  readonly BYTES_PER_ELEMENT: number;
};

/**
 * Typed array constructor per dtype whose elements are whole bytes (complex: two lanes): the
 * shared table of src/ir/dtype.ts plus ONNX's 8-bit float formats, kept as raw bytes.
 */
const CTORS: Partial<Record<OnnxDType, { ctor: NumericCtor; lanes: number }>> = {
  ...(TYPED_ARRAYS as Partial<Record<OnnxDType, { ctor: NumericCtor; lanes: number }>>),
  float8e4m3fn: { ctor: Uint8Array, lanes: 1 },
  float8e4m3fnuz: { ctor: Uint8Array, lanes: 1 },
  float8e5m2: { ctor: Uint8Array, lanes: 1 },
  float8e5m2fnuz: { ctor: Uint8Array, lanes: 1 },
  float8e8m0: { ctor: Uint8Array, lanes: 1 },
};

/** Little-endian bytes → typed array: a view when aligned, else a copy (hosts are little-endian). */
function fromRaw(raw: Uint8Array, ctor: NumericCtor, length: number): Exclude<TensorData, string[]> {
  const size = ctor.BYTES_PER_ELEMENT;
  if (raw.byteOffset % size === 0) return new ctor(raw.buffer, raw.byteOffset, length);
  const copy = new Uint8Array(length * size);
  copy.set(raw.subarray(0, length * size));
  return new ctor(copy.buffer, 0, length);
}

/**
 * Elements of a TensorProto. `external` supplies the bytes of an external tensor (see
 * loadTensor); without it such a tensor is refused. Packed 4-/2-bit types are refused (no
 * typed array holds them).
 */
export function decodeTensor(t: TensorProto, options: { file?: string | undefined; external?: Uint8Array } = {}): Tensor {
  const file = options.file;
  const where = file ?? 'ONNX model';
  const name = t.name ?? '';
  const info = infoOf(t, file);
  const { shape, count } = tensorShape(t, file);
  const dtype = info.name;
  if (info.bits > 0 && info.bits < 8) {
    throw unsupported(`${where}: tensor "${name}" has packed ${dtype} elements, which mlpack does not unpack`, { file, field: name });
  }

  if (dtype === 'string') {
    const strings = t.string_data ?? [];
    if (strings.length !== count) {
      throw malformed(`${where}: string tensor "${name}" has ${strings.length} elements, its shape needs ${count}`, {
        file,
        field: `${name}.string_data`,
      });
    }
    return { dtype, shape, data: strings.map((b, i) => decodeUtf8(b, `${name}.string_data[${i}]`, 0)) };
  }

  const spec = CTORS[dtype]!;
  const length = count * spec.lanes;
  const need = rawByteLength(info, count);

  let raw: Uint8Array | undefined;
  if (isExternal(t)) {
    if (!options.external) {
      throw unsupported(`${where}: tensor "${name}" stores its data in an external file, which was not loaded`, {
        file,
        field: `${name}.external_data`,
      });
    }
    raw = options.external;
  } else if (t.data_location !== undefined && t.data_location !== TensorProtoDataLocation.DEFAULT) {
    throw unsupported(`${where}: tensor "${name}" has data_location ${t.data_location}, unknown to mlpack`, { file, field: `${name}.data_location` });
  } else if (t.raw_data instanceof Uint8Array && (t.raw_data.length > 0 || count === 0)) {
    // (protobufjs's default for an absent bytes field is a plain empty array, not a Uint8Array)
    raw = t.raw_data;
  }
  if (raw) {
    if (raw.length !== need) {
      throw malformed(`${where}: tensor "${name}" has ${raw.length} bytes of ${dtype} data, its shape [${shape.join(', ')}] needs ${need}`, {
        file,
        field: `${name}.raw_data`,
      });
    }
    return { dtype, shape, data: fromRaw(raw, spec.ctor, length) };
  }

  // Typed repeated fields (TensorProto comments): which one holds which dtype.
  const values = (t[info.field] ?? []) as unknown[];
  if (values.length !== length) {
    throw malformed(
      `${where}: tensor "${name}" has ${values.length} values in ${info.field}, its ${dtype} shape [${shape.join(', ')}] needs ${length}`,
      { file, field: `${name}.${info.field}` },
    );
  }
  const out = new spec.ctor(length);
  if (out instanceof BigInt64Array) {
    for (let i = 0; i < length; i++) out[i] = int64ToBigInt(values[i] as never);
  } else if (out instanceof BigUint64Array) {
    for (let i = 0; i < length; i++) out[i] = int64ToBigInt(values[i] as never, true);
  } else if (info.field === 'uint64_data') {
    // uint32 values travel in uint64_data.
    for (let i = 0; i < length; i++) out[i] = Number(int64ToBigInt(values[i] as never, true));
  } else {
    const arr = out as Exclude<TensorData, string[] | BigInt64Array | BigUint64Array>;
    for (let i = 0; i < length; i++) arr[i] = values[i] as number;
  }
  return { dtype, shape, data: out };
}

/** decodeTensor, reading external data from ctx.baseDir when the tensor has some. */
export async function loadTensor(t: TensorProto, ctx: ReadContext = {}): Promise<Tensor> {
  if (!isExternal(t)) return decodeTensor(t, { file: ctx.file });
  const ref = externalDataRef(t, ctx.file);
  if (!ctx.baseDir) {
    throw unsupported(`${ctx.file ?? 'ONNX model'}: tensor "${ref.tensor}" stores its data in "${ref.location}", which cannot be located for a model read from stdin`, {
      file: ctx.file,
      field: `${ref.tensor}.external_data`,
    });
  }
  const info = infoOf(t, ctx.file);
  const need = info.name === 'string' ? null : rawByteLength(info, tensorShape(t, ctx.file).count);
  const external = await readExternalData(ref, ctx.baseDir, need, ctx.file);
  return decodeTensor(t, { file: ctx.file, external });
}

/** Raw little-endian bytes of a numeric tensor (for hashing): raw_data as is, typed fields re-encoded. */
export function tensorBytes(tensor: Tensor): Uint8Array {
  if (Array.isArray(tensor.data)) throw new TypeError('string tensors have no raw bytes');
  const d = tensor.data as Exclude<TensorData, string[]>;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/**
 * Every tensor stored in the model that uses external data: initializers, Constant/attribute
 * tensors and sparse initializers, in subgraphs too.
 */
export function allTensors(graph: GraphProto): TensorProto[] {
  const out: TensorProto[] = [];
  // (Item by item: spreading ~100k initializers into push() overflows the stack.)
  const visit = (g: GraphProto, depth: number): void => {
    if (depth > limits().maxDepth) throw malformed('ONNX graph nesting is too deep');
    for (const t of g.initializer ?? []) out.push(t);
    for (const s of g.sparse_initializer ?? []) {
      if (s.values) out.push(s.values);
      if (s.indices) out.push(s.indices);
    }
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        if (a.t) out.push(a.t);
        for (const t of a.tensors ?? []) out.push(t);
        if (a.g) visit(a.g, depth + 1);
        for (const sg of a.graphs ?? []) visit(sg, depth + 1);
      }
    }
  };
  visit(graph, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Types and graph interface

/** TypeProto → ValueType. Missing shape = unknown rank (null); a dim with neither field = null. */
export function valueType(tp: TypeProto | undefined | null, file?: string): ValueType {
  if (!tp) return { kind: 'unknown' };
  const shapeOf = (s: { dim?: { dim_value?: unknown; dim_param?: string }[] } | undefined, what: string): Dim[] | null => {
    if (!s) return null;
    return (s.dim ?? []).map((d) => {
      if (has(d, 'dim_value')) return int64ToNumber(d.dim_value as never, what, file);
      if (has(d, 'dim_param')) return d.dim_param ?? '';
      return null;
    });
  };
  if (tp.tensor_type) {
    return { kind: 'tensor', dtype: dtypeInfo(tp.tensor_type.elem_type ?? 0)?.name ?? null, shape: shapeOf(tp.tensor_type.shape, 'shape') };
  }
  if (tp.sparse_tensor_type) {
    const st = tp.sparse_tensor_type;
    return { kind: 'sparse_tensor', dtype: dtypeInfo(st.elem_type ?? 0)?.name ?? null, shape: shapeOf(st.shape, 'shape') };
  }
  if (tp.sequence_type) return { kind: 'sequence', elem: valueType(tp.sequence_type.elem_type, file) };
  if (tp.map_type) {
    return { kind: 'map', key: dtypeInfo(tp.map_type.key_type ?? 0)?.name ?? null, value: valueType(tp.map_type.value_type, file) };
  }
  if (tp.optional_type) return { kind: 'optional', elem: valueType(tp.optional_type.elem_type, file) };
  if (tp.opaque_type) return { kind: 'opaque', domain: tp.opaque_type.domain ?? '', name: tp.opaque_type.name ?? '' };
  return { kind: 'unknown' };
}

/** Readable type, ONNX-style: `tensor(float32)`, `seq(map(int64,tensor(float32)))`. */
export function formatValueType(t: ValueType): string {
  switch (t.kind) {
    case 'tensor':
      return `tensor(${t.dtype ?? '?'})`;
    case 'sparse_tensor':
      return `sparse_tensor(${t.dtype ?? '?'})`;
    case 'sequence':
      return `seq(${formatValueType(t.elem)})`;
    case 'map':
      return `map(${t.key ?? '?'},${formatValueType(t.value)})`;
    case 'optional':
      return `optional(${formatValueType(t.elem)})`;
    case 'opaque':
      return `opaque(${t.domain}${t.domain && t.name ? '.' : ''}${t.name})`;
    case 'unknown':
      return 'unknown';
  }
}

export interface GraphValue {
  name: string;
  type: ValueType;
}

export interface GraphInterface {
  /** Every graph input, in order; `is_initializer` marks IR<4 style inputs that have a default. */
  inputs: (GraphValue & { is_initializer: boolean })[];
  outputs: GraphValue[];
  /** Names of the inputs a caller must feed (inputs without an initializer). */
  feeds: string[];
}

export function graphInterface(graph: GraphProto, file?: string): GraphInterface {
  const inits = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  for (const s of graph.sparse_initializer ?? []) if (s.values?.name) inits.add(s.values.name);
  const io = (v: ValueInfoProto): GraphValue => ({ name: v.name ?? '', type: valueType(v.type, file) });
  const inputs = (graph.input ?? []).map((v) => ({ ...io(v), is_initializer: inits.has(v.name ?? '') }));
  return {
    inputs,
    outputs: (graph.output ?? []).map(io),
    feeds: inputs.filter((i) => !i.is_initializer).map((i) => i.name),
  };
}

// ---------------------------------------------------------------------------------------------
// Nodes and attributes

/** Nodes' domain, with the default domain's two spellings ('' and 'ai.onnx') folded to ''. */
export function nodeDomain(n: NodeProto): string {
  const d = n.domain ?? '';
  return d === 'ai.onnx' ? '' : d;
}

/** Op key as inspect prints it: `Conv` for the default domain, `ai.onnx.ml:ZipMap` otherwise. */
export function opKey(n: NodeProto): string {
  const d = nodeDomain(n);
  return d ? `${d}:${n.op_type ?? ''}` : (n.op_type ?? '');
}

export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number | bigint }
  | { type: 'string'; value: string; bytes: Uint8Array }
  | { type: 'tensor'; value: TensorProto }
  | { type: 'graph'; value: GraphProto }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: (number | bigint)[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: TensorProto[] }
  | { type: 'graphs'; value: GraphProto[] }
  | { type: 'other'; code: number };

function utf8(b: Uint8Array, what: string): string {
  return decodeUtf8(b, what, 0);
}

/** An attribute's value by its `type` discriminator (IR ≥ 2 files always set it). */
export function attributeValue(a: AttributeProto): AttributeValue {
  const what = `attribute ${a.name ?? ''}`;
  switch (a.type) {
    case AT.FLOAT:
      return { type: 'float', value: a.f ?? 0 };
    case AT.INT:
      return { type: 'int', value: int64ToJs(a.i) };
    case AT.STRING: {
      const bytes = a.s instanceof Uint8Array ? a.s : new Uint8Array(0);
      return { type: 'string', value: utf8(bytes, what), bytes };
    }
    case AT.TENSOR:
      if (a.t) return { type: 'tensor', value: a.t };
      break;
    case AT.GRAPH:
      if (a.g) return { type: 'graph', value: a.g };
      break;
    case AT.FLOATS:
      return { type: 'floats', value: a.floats ?? [] };
    case AT.INTS:
      return { type: 'ints', value: (a.ints ?? []).map(int64ToJs) };
    case AT.STRINGS:
      return { type: 'strings', value: (a.strings ?? []).map((b) => utf8(b, what)) };
    case AT.TENSORS:
      return { type: 'tensors', value: a.tensors ?? [] };
    case AT.GRAPHS:
      return { type: 'graphs', value: a.graphs ?? [] };
    default:
      break;
  }
  return { type: 'other', code: a.type ?? 0 };
}

/** Attributes of a node by name. */
export function nodeAttributes(n: NodeProto): Map<string, AttributeValue> {
  return new Map((n.attribute ?? []).map((a) => [a.name ?? '', attributeValue(a)]));
}
