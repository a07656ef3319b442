/**
 * The object-graph payload (docs/FORMAT.md, "Graph section"): a Python object graph as a flat
 * msgpack node table plus a blob of tensor bytes at 64-byte aligned offsets.
 *
 * Graph section: `[root, nodes, tensors]`. A value is nil, bool, a msgpack int (Python int), str,
 * ext 1 (Python float: IEEE-754 binary64 little-endian, so -0.0 and NaN survive), ext 2 (Python
 * int beyond 64 bits, little-endian two's complement as pickle's LONG), ext 3 (a str holding
 * lone surrogates, UTF-8 with 'surrogatepass'), or `[id]`: a reference to `nodes[id]`. Every
 * container, object, array, dtype... is a node `[tag, ...fields]` in the table and is referred
 * to by id wherever it occurs, so sharing and cycles survive and the msgpack nesting depth is
 * constant: neither side recurses over the graph (a 100k-deep pickle cannot blow the stack).
 */
import { ExtensionCodec, decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack';
import { MlpackError, malformed, unsupported } from '../../errors.js';
import { decodeUtf8 } from '../../io/byte-reader.js';
import { limits } from '../../io/limits.js';
import { TYPED_ARRAYS } from '../../ir/dtype.js';
import type { DTypeName } from '../../ir/dtype.js';
import { NdArray, NumpyScalar, PyBytes, PyComplex, PyDType, PyDict, PyGlobal, PyObject, PySet, PySlice, PyTuple } from '../../ir/object-graph.js';
import type { ArrayData, Construction, PyValue } from '../../ir/object-graph.js';
import { typedFromBytes } from '../../ir/tensor.js';
import { decodeLong } from '../pickle/unpickler.js';
import type { GlobalRef } from '../pickle/unpickler.js';
import { encodeLong, encodeUtf8SurrogatePass } from '../pickle/write.js';
import type { NumpyModule } from '../pickle/write.js';
import { preview } from '../preview.js';
import { ALIGNMENT, alignUp } from './format.js';

export const TAG = {
  LIST: 1, TUPLE: 2, DICT: 3, SET: 4, BYTES: 5, GLOBAL: 6, OBJECT: 7,
  NDARRAY: 8, DTYPE: 9, SCALAR: 10, COMPLEX: 11, SLICE: 12,
} as const;
const TAG_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TAG).map(([k, v]) => [v, k]));
/** Fields after the tag, per node kind. */
const FIELDS: Record<number, number> = { 1: 1, 2: 1, 3: 4, 4: 2, 5: 2, 6: 2, 7: 8, 8: 5, 9: 10, 10: 3, 11: 2, 12: 3 };

export const EXT_FLOAT64 = 1;
export const EXT_BIGINT = 2;
export const EXT_SURROGATE_STR = 3;

/** A Python float on its way to/from msgpack (ext 1). */
export class Float64Box {
  constructor(readonly value: number) {}
}
/** A Python int that does not fit 64 bits (ext 2). */
export class BigIntBox {
  constructor(readonly value: bigint) {}
}
/** A str with lone surrogates (ext 3), which msgpack's UTF-8 str cannot hold. */
export class SurrogateStrBox {
  constructor(readonly value: string) {}
}

const EXTENSIONS = new ExtensionCodec();
EXTENSIONS.register({
  type: EXT_FLOAT64,
  encode(v: unknown) {
    if (!(v instanceof Float64Box)) return null;
    const out = new Uint8Array(8);
    new DataView(out.buffer).setFloat64(0, v.value, true);
    return out;
  },
  decode(data: Uint8Array) {
    if (data.length !== 8) throw new Error(`float extension holds ${data.length} bytes, not 8`);
    return new Float64Box(new DataView(data.buffer, data.byteOffset, 8).getFloat64(0, true));
  },
});
EXTENSIONS.register({
  type: EXT_BIGINT,
  encode: (v: unknown) => (v instanceof BigIntBox ? encodeLong(v.value) : null),
  decode(data: Uint8Array) {
    if (data.length > 1 << 20) throw new Error(`integer extension of ${data.length} bytes`);
    return new BigIntBox(decodeLong(data));
  },
});
EXTENSIONS.register({
  type: EXT_SURROGATE_STR,
  encode: (v: unknown) => (v instanceof SurrogateStrBox ? encodeUtf8SurrogatePass(v.value) : null),
  decode: (data: Uint8Array) => new SurrogateStrBox(decodeUtf8(data, 'envelope string', 0)),
});

/**
 * Plain msgpack (the @msgpack/msgpack reference implementation): maps as objects, int64 as
 * bigint both ways, our three extensions. Decoding bounds every length by the bytes present, so
 * a hostile count (a 2**32-element array header with no elements) fails before allocating.
 */
export const PACKR = {
  pack: (value: unknown): Uint8Array => msgpackEncode(value, { extensionCodec: EXTENSIONS, useBigInt64: true }),
};
export const UNPACKR = {
  unpack: (bytes: Uint8Array): unknown => {
    // A graph spends about four arrays per Python object (the node, its field lists, `[id]`
    // references), each ~50 bytes: the pickle budget's units are ~100 bytes.
    const containers = countMsgpackContainers(bytes);
    const max = MSGPACK_CONTAINERS_PER_UNIT * limits().maxObjects;
    if (containers > max) {
      throw new MsgpackBudgetError(`it holds ${containers} arrays and maps, more than the ${max} the object limit allows`);
    }
    return msgpackDecode(bytes, {
      extensionCodec: EXTENSIONS,
      useBigInt64: true,
      maxStrLength: bytes.length,
      maxBinLength: bytes.length,
      maxArrayLength: bytes.length,
      maxMapLength: bytes.length,
      maxExtLength: bytes.length,
    });
  },
};

const MSGPACK_CONTAINERS_PER_UNIT = 4;

/** A msgpack section that would decode to more containers than the object limit allows. */
export class MsgpackBudgetError extends Error {}

/**
 * Arrays and maps a msgpack byte string would decode to, counted without decoding: a fixarray
 * is one byte of input and a JS array of ~50 bytes of heap, so a compressed run of them must be
 * refused before the decoder builds it. Reading stops at the first malformed or truncated item
 * (the decoder reports it then). Spec: https://github.com/msgpack/msgpack/blob/master/spec.md
 */
export function countMsgpackContainers(b: Uint8Array): number {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let count = 0;
  let i = 0;
  while (i < b.length) {
    const t = b[i]!;
    let skip: number;
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) skip = 1; // fixint, nil, bool
    else if (t <= 0x9f) { count++; skip = 1; } // fixmap 0x80-0x8f, fixarray 0x90-0x9f
    else if (t <= 0xbf) skip = 1 + (t & 0x1f); // fixstr
    else if (t === 0xdc || t === 0xde) { count++; skip = 3; } // array16, map16
    else if (t === 0xdd || t === 0xdf) { count++; skip = 5; } // array32, map32
    else if (t === 0xcc || t === 0xd0) skip = 2;
    else if (t === 0xcd || t === 0xd1) skip = 3;
    else if (t === 0xce || t === 0xd2 || t === 0xca) skip = 5;
    else if (t === 0xcf || t === 0xd3 || t === 0xcb) skip = 9;
    else if (t >= 0xd4 && t <= 0xd8) skip = 2 + (1 << (t - 0xd4)); // fixext 1/2/4/8/16
    else {
      // str8/16/32 (0xd9-0xdb), bin8/16/32 (0xc4-0xc6), ext8/16/32 (0xc7-0xc9): a length, then data.
      const width = t === 0xd9 || t === 0xc4 || t === 0xc7 ? 1 : t === 0xda || t === 0xc5 || t === 0xc8 ? 2 : t === 0xdb || t === 0xc6 || t === 0xc9 ? 4 : 0;
      if (width === 0 || i + 1 + width > b.length) return count; // 0xc1 (never used) or truncated
      const n = width === 1 ? b[i + 1]! : width === 2 ? view.getUint16(i + 1) : view.getUint32(i + 1);
      skip = 1 + width + n + (t >= 0xc7 && t <= 0xc9 ? 1 : 0);
    }
    i += skip;
  }
  return count;
}

const DTYPE_NAMES = new Set<DTypeName>([
  'float64', 'float32', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint64', 'uint32', 'uint16', 'uint8',
  'bool', 'complex64', 'complex128', 'object', 'string', 'bytes', 'void', 'datetime64', 'timedelta64',
]);
const HOW = new Set<Construction>(['reduce', 'newobj', 'newobj_ex', 'obj', 'inst', 'persid']);
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

type DTypeWithState = PyDType & { alignment?: number | null; flags?: number | null };
/** Nodes are filled in a second pass; their fields are read-only only to everyone else. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function hasLoneSurrogate(s: string): boolean {
  if (!/[\ud800-\udfff]/.test(s)) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/** Element bytes of a fixed-width array (typed array or raw records), as held in memory. */
function elementBytes(arr: NdArray): Uint8Array {
  const data = arr.data;
  if (!ArrayBuffer.isView(data)) throw unsupported(`numpy ${arr.dtype.str} array holds no element buffer`);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const need = arr.size * arr.dtype.itemsize;
  if (bytes.length !== need) {
    throw unsupported(`numpy ${arr.dtype.str} array of shape ${JSON.stringify(arr.shape)} holds ${bytes.length} bytes, expected ${need}`);
  }
  return bytes;
}

export interface TensorSlot {
  offset: number;
  bytes: Uint8Array;
}

export interface EncodedGraph {
  /** The graph section (msgpack). */
  graph: Uint8Array;
  /** Tensor data in blob order: views of the arrays' own buffers. */
  tensors: TensorSlot[];
  blobBytes: number;
  nodes: number;
}

type NodeValue = Exclude<PyValue, null | boolean | number | bigint | string>;

/** Graph → node table, breadth first from the root (no recursion over the graph). */
class GraphEncoder {
  private readonly ids = new Map<object, number>();
  private readonly queue: NodeValue[] = [];
  readonly tensors: TensorSlot[] = [];
  blob = 0;

  /** A value as written in a field: primitives inline, nodes as `[id]`. */
  ref(v: PyValue): unknown {
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'number') return new Float64Box(v);
    if (typeof v === 'bigint') {
      if (v >= -SAFE && v <= SAFE) return Number(v);
      if (v >= INT64_MIN && v <= UINT64_MAX) return v;
      return new BigIntBox(v);
    }
    if (typeof v === 'string') return hasLoneSurrogate(v) ? new SurrogateStrBox(v) : v;
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.queue.length;
      this.ids.set(v, id);
      this.queue.push(v);
    }
    return [id];
  }

  private refs(items: readonly PyValue[]): unknown[] {
    const out: unknown[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) out[i] = this.ref(items[i]!);
    return out;
  }

  private pairs(entries: ReadonlyArray<readonly [PyValue, PyValue]>): unknown[] {
    const out: unknown[] = [];
    for (const [k, v] of entries) out.push(this.ref(k), this.ref(v));
    return out;
  }

  /** Encode every node reachable from `root`: returns `[root value, node table]`. */
  run(root: PyValue): [unknown, unknown[]] {
    const rootValue = this.ref(root);
    const table: unknown[] = [];
    for (let i = 0; i < this.queue.length; i++) table.push(this.node(this.queue[i]!));
    return [rootValue, table];
  }

  get nodeCount(): number {
    return this.queue.length;
  }

  private node(v: NodeValue): unknown[] {
    if (Array.isArray(v)) return [TAG.LIST, this.refs(v)];
    if (v instanceof PyTuple) return [TAG.TUPLE, this.refs(v.items)];
    if (v instanceof PyDict) {
      return [TAG.DICT, this.pairs(v.entries), v.pyClass ?? null, v.state !== undefined, v.state === undefined ? null : this.ref(v.state)];
    }
    if (v instanceof PySet) return [TAG.SET, this.refs(v.items), v.frozen];
    if (v instanceof PyBytes) return [TAG.BYTES, v.data, v.mutable];
    if (v instanceof PyGlobal) return [TAG.GLOBAL, v.module, v.name];
    if (v instanceof PyObject) {
      return [
        TAG.OBJECT,
        this.ref(v.callable),
        this.refs(v.args),
        v.how,
        v.kwargs ? this.ref(v.kwargs) : null,
        v.state !== undefined ? 1 : 0,
        v.state === undefined ? null : this.ref(v.state),
        v.listItems ? this.refs(v.listItems) : null,
        v.dictItems ? this.pairs(v.dictItems) : null,
      ];
    }
    if (v instanceof NdArray) {
      let data: unknown;
      if (v.dtype.hasObject || v.dtype.kind === 'U' || v.dtype.kind === 'S') {
        if (!Array.isArray(v.data) || v.data.length !== v.size) {
          throw unsupported(`numpy ${v.dtype.str} array of shape ${JSON.stringify(v.shape)} does not hold ${v.size} items`);
        }
        data = this.refs(v.data as PyValue[]);
      } else {
        const bytes = elementBytes(v);
        const offset = alignUp(this.blob, ALIGNMENT);
        this.blob = offset + bytes.length;
        data = this.tensors.length;
        this.tensors.push({ offset, bytes });
      }
      return [TAG.NDARRAY, this.ref(v.dtype), [...v.shape], v.subclass, v.fortran, data];
    }
    if (v instanceof PyDType) {
      const extra = v as DTypeWithState;
      return [
        TAG.DTYPE,
        v.code,
        v.name,
        v.kind,
        v.itemsize,
        v.byteOrder,
        v.fields ? v.fields.map((f) => [f.name, this.ref(f.dtype), f.offset]) : null,
        v.subdtype ? [this.ref(v.subdtype.base), [...v.subdtype.shape]] : null,
        v.unit,
        typeof extra.alignment === 'number' ? extra.alignment : null,
        typeof extra.flags === 'number' ? extra.flags : null,
      ];
    }
    if (v instanceof NumpyScalar) return [TAG.SCALAR, this.ref(v.dtype), v.raw, this.ref(v.value)];
    if (v instanceof PyComplex) return [TAG.COMPLEX, new Float64Box(v.re), new Float64Box(v.im)];
    if (v instanceof PySlice) return [TAG.SLICE, this.ref(v.start), this.ref(v.stop), this.ref(v.step)];
    throw unsupported(`a ${(v as object).constructor?.name ?? typeof v} value cannot be stored in an envelope`);
  }
}

/** Encode a graph: the msgpack graph section `[root, nodes, [[offset, nbytes], ...]]` and the tensors. */
export function encodeGraph(root: PyValue): EncodedGraph {
  const enc = new GraphEncoder();
  const [rootValue, nodes] = enc.run(root);
  const table = enc.tensors.map((t) => [t.offset, t.bytes.length]);
  const graph = PACKR.pack([rootValue, nodes, table]);
  return { graph, tensors: enc.tensors, blobBytes: enc.blob, nodes: enc.nodeCount };
}

export interface DecodeGraphOptions {
  file: string;
  /** File offset of the payload, for messages and findings. */
  payloadOffset: number;
  numpyModule: NumpyModule;
}

export interface DecodedGraph {
  root: PyValue;
  /** Every global the graph would import when pickled (for the safety judgement). */
  globals: GlobalRef[];
  nodes: number;
  tensors: number;
}

function isArr(x: unknown): x is unknown[] {
  return Array.isArray(x);
}

/**
 * Strict two-pass reader: pass 1 makes every node from its own scalar fields, pass 2 resolves
 * references and fills children. Any unexpected shape is MALFORMED naming the node.
 */
class GraphDecoder {
  private readonly nodes: PyValue[] = [];
  readonly globals: GlobalRef[] = [];
  private readonly seenGlobals = new Set<string>();
  private readonly tensorData = new Map<string, ArrayData>();
  private at = -1;

  constructor(
    private readonly opts: DecodeGraphOptions,
    private readonly raw: unknown[],
    private readonly blob: Uint8Array,
    private readonly table: Array<[number, number]>,
  ) {}

  private fail(what: string): never {
    // (The tag may be anything, even a deeply nested array: only a number is looked up.)
    const tag = isArr(this.raw[this.at]) ? (this.raw[this.at] as unknown[])[0] : undefined;
    const where = this.at >= 0 ? `node ${this.at} (${typeof tag === 'number' ? (TAG_NAMES[tag] ?? '?') : '?'}) ` : '';
    throw malformed(`${this.opts.file}: envelope graph ${where}${what}`, { file: this.opts.file, offset: this.opts.payloadOffset });
  }

  private addGlobal(module: string, name: string): void {
    const key = `${module}.${name}`;
    if (this.seenGlobals.has(key)) return;
    this.seenGlobals.add(key);
    this.globals.push({ module, name, offset: this.opts.payloadOffset, opcode: 'GLOBAL' });
  }

  private addQualified(qualified: string): void {
    const at = qualified.lastIndexOf('.');
    if (at > 0) this.addGlobal(qualified.slice(0, at), qualified.slice(at + 1));
    else this.addGlobal('builtins', qualified);
  }

  private int(x: unknown, what: string, min = 0): number {
    const n = typeof x === 'bigint' && x >= -SAFE && x <= SAFE ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) this.fail(`has a bad ${what} (${preview(x, 40)})`);
    return n;
  }

  private str(x: unknown, what: string): string {
    if (typeof x !== 'string') this.fail(`has a ${what} that is not a string`);
    return x;
  }

  private bool(x: unknown, what: string): boolean {
    if (typeof x !== 'boolean') this.fail(`has a ${what} that is not a boolean`);
    return x;
  }

  private arr(x: unknown, what: string): unknown[] {
    if (!isArr(x)) this.fail(`has a ${what} that is not an array`);
    return x;
  }

  private bin(x: unknown, what: string): Uint8Array {
    if (!(x instanceof Uint8Array)) this.fail(`has a ${what} that is not binary`);
    return x;
  }

  private shape(x: unknown, what: string): number[] {
    const dims = this.arr(x, what);
    if (dims.length > limits().maxNdim) this.fail(`has a ${what} of ${dims.length} dimensions (max ${limits().maxNdim})`);
    const shape = dims.map((d) => this.int(d, `${what} dimension`));
    let size = 1;
    for (const d of shape) size *= d;
    if (size > limits().maxArrayElements) this.fail(`has a ${what} of ${size} elements, over the ${limits().maxArrayElements} limit`);
    return shape;
  }

  /** A field value: primitives as they are, `[id]` as the node. */
  private value(x: unknown): PyValue {
    if (x === null || typeof x === 'boolean' || typeof x === 'string' || typeof x === 'bigint') return x;
    if (typeof x === 'number') {
      if (!Number.isSafeInteger(x)) this.fail('holds a bare non-integer number (Python floats are ext 1)');
      return BigInt(x);
    }
    if (x instanceof Float64Box || x instanceof BigIntBox || x instanceof SurrogateStrBox) return x.value;
    if (isArr(x) && x.length === 1) {
      const id = x[0];
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id >= this.nodes.length) this.fail(`refers to node ${preview(id, 20)}, which does not exist`);
      return this.nodes[id]!;
    }
    return this.fail(`holds a value of unexpected type ${x === undefined ? 'undefined' : isArr(x) ? `array of ${x.length}` : (x as object).constructor?.name ?? typeof x}`);
  }

  private values(x: unknown, what: string): PyValue[] {
    return this.arr(x, what).map((v) => this.value(v));
  }

  private pairs(x: unknown, what: string): Array<[PyValue, PyValue]> {
    const flat = this.arr(x, what);
    if (flat.length % 2) this.fail(`has ${what} with an odd number of keys and values`);
    const out: Array<[PyValue, PyValue]> = [];
    for (let i = 0; i < flat.length; i += 2) out.push([this.value(flat[i]), this.value(flat[i + 1])]);
    return out;
  }

  private dtypeRef(x: unknown, what: string): PyDType {
    const dt = this.value(x);
    if (!(dt instanceof PyDType)) this.fail(`has a ${what} that is not a dtype`);
    return dt;
  }

  /** Pass 1: the node itself, from its scalar fields. */
  private make(n: unknown[]): PyValue {
    const tag = n[0];
    if (typeof tag !== 'number' || FIELDS[tag] === undefined) this.fail(`has unknown tag ${preview(tag, 20)}`);
    if (n.length !== FIELDS[tag]! + 1) this.fail(`has ${n.length - 1} fields, expected ${FIELDS[tag]}`);
    switch (tag) {
      case TAG.LIST:
        return [];
      case TAG.TUPLE:
        return new PyTuple([]);
      case TAG.DICT:
        return new PyDict();
      case TAG.SET:
        return new PySet([], this.bool(n[2], 'frozen flag'));
      case TAG.BYTES:
        return new PyBytes(this.bin(n[1], 'bytes value'), this.bool(n[2], 'bytearray flag'));
      case TAG.GLOBAL: {
        const g = new PyGlobal(this.str(n[1], 'global module'), this.str(n[2], 'global name'), this.opts.payloadOffset);
        this.addGlobal(g.module, g.name);
        return g;
      }
      case TAG.OBJECT: {
        const how = this.str(n[3], 'construction');
        if (!HOW.has(how as Construction)) this.fail(`is built by unknown construction ${JSON.stringify(how.slice(0, 20))}`);
        return new PyObject(null, [], how as Construction, this.opts.payloadOffset);
      }
      case TAG.NDARRAY: {
        const placeholder = new PyDType('b', 'int8', 'i', 1, '|');
        const arr = new NdArray(placeholder, this.shape(n[2], 'array shape'), [], this.str(n[3], 'array subclass'));
        arr.fortran = this.bool(n[4], 'array order flag');
        this.addGlobal(`${this.opts.numpyModule}.multiarray`, '_reconstruct');
        this.addQualified(arr.subclass);
        return arr;
      }
      case TAG.DTYPE: {
        const name = this.str(n[2], 'dtype name') as DTypeName;
        const kind = this.str(n[3], 'dtype kind');
        const order = this.str(n[5], 'dtype byte order');
        if (!DTYPE_NAMES.has(name)) this.fail(`has unknown dtype name ${JSON.stringify(name.slice(0, 20))}`);
        if (!/^[fiubcOUSVMm]$/.test(kind)) this.fail(`has unknown dtype kind ${JSON.stringify(kind.slice(0, 20))}`);
        if (order !== '<' && order !== '>' && order !== '|') this.fail(`has unknown byte order ${JSON.stringify(order.slice(0, 20))}`);
        const dt = new PyDType(this.str(n[1], 'dtype code'), name, kind, this.int(n[4], 'dtype itemsize'), order);
        if (n[8] !== null) dt.unit = this.str(n[8], 'datetime unit');
        if (n[9] !== null) (dt as DTypeWithState).alignment = this.int(n[9], 'dtype alignment', -1);
        if (n[10] !== null) (dt as DTypeWithState).flags = this.int(n[10], 'dtype flags', -128);
        this.addGlobal('numpy', 'dtype');
        return dt;
      }
      case TAG.SCALAR:
        this.addGlobal(`${this.opts.numpyModule}.multiarray`, 'scalar');
        return new NumpyScalar(new PyDType('b', 'int8', 'i', 1, '|'), this.bin(n[2], 'scalar bytes'), null);
      case TAG.COMPLEX:
        if (!(n[1] instanceof Float64Box) || !(n[2] instanceof Float64Box)) this.fail('has parts that are not floats');
        this.addGlobal('builtins', 'complex');
        return new PyComplex(n[1].value, n[2].value);
      case TAG.SLICE:
        this.addGlobal('builtins', 'slice');
        return new PySlice(null, null, null);
      default:
        return this.fail(`has unknown tag ${tag}`);
    }
  }

  /** Pass 2: children, by reference. */
  private fill(node: PyValue, n: unknown[]): void {
    switch (n[0]) {
      // (Item by item: spreading a list of ~100k items into push() overflows the stack.)
      case TAG.LIST:
        for (const v of this.values(n[1], 'item list')) (node as PyValue[]).push(v);
        return;
      case TAG.TUPLE:
        for (const v of this.values(n[1], 'item list')) (node as PyTuple).items.push(v);
        return;
      case TAG.SET:
        for (const v of this.values(n[1], 'item list')) (node as PySet).items.push(v);
        return;
      case TAG.DICT: {
        const d = node as PyDict;
        for (const [k, v] of this.pairs(n[1], 'entries')) d.set(k, v);
        if (n[2] !== null) {
          d.pyClass = this.str(n[2], 'dict class');
          this.addQualified(d.pyClass);
        }
        if (this.bool(n[3], 'state flag')) d.state = this.value(n[4]);
        else if (n[4] !== null) this.fail('has state but no state flag');
        return;
      }
      case TAG.OBJECT: {
        const o = node as Mutable<PyObject>;
        o.callable = this.value(n[1]);
        for (const v of this.values(n[2], 'argument list')) (o.args as PyValue[]).push(v);
        if (n[4] !== null) {
          const k = this.value(n[4]);
          if (!(k instanceof PyDict)) this.fail('has keyword arguments that are not a dict');
          o.kwargs = k;
        }
        if (this.int(n[5], 'flags') & 1) o.state = this.value(n[6]);
        else if (n[6] !== null) this.fail('has state but no state flag');
        if (n[7] !== null) o.listItems = this.values(n[7], 'list items');
        if (n[8] !== null) o.dictItems = this.pairs(n[8], 'dict items');
        return;
      }
      case TAG.NDARRAY: {
        const arr = node as NdArray;
        const dtype = this.dtypeRef(n[1], 'dtype');
        arr.dtype = dtype;
        const size = arr.size;
        if (dtype.hasObject || dtype.kind === 'U' || dtype.kind === 'S') {
          const items = this.values(n[5], 'item list');
          if (items.length !== size) this.fail(`has ${items.length} items for shape ${JSON.stringify(arr.shape)}`);
          if (!dtype.hasObject && items.some((v) => typeof v !== 'string')) this.fail(`has a ${dtype.str} item that is not a string`);
          arr.data = items;
          return;
        }
        arr.data = this.tensor(this.int(n[5], 'tensor index'), dtype, arr.shape, size);
        return;
      }
      case TAG.DTYPE: {
        const dt = node as PyDType;
        if (n[6] !== null) {
          dt.fields = this.arr(n[6], 'field list').map((f) => {
            const parts = this.arr(f, 'field');
            if (parts.length !== 3) this.fail('has a malformed field');
            return { name: this.str(parts[0], 'field name'), dtype: this.dtypeRef(parts[1], 'field type'), offset: this.int(parts[2], 'field offset') };
          });
        }
        if (n[7] !== null) {
          const parts = this.arr(n[7], 'sub-array');
          if (parts.length !== 2) this.fail('has a malformed sub-array');
          dt.subdtype = { base: this.dtypeRef(parts[0], 'sub-array base'), shape: this.shape(parts[1], 'sub-array shape') };
        }
        return;
      }
      case TAG.SCALAR: {
        const s = node as Mutable<NumpyScalar>;
        s.dtype = this.dtypeRef(n[1], 'dtype');
        if (!s.dtype.hasObject && s.raw.length !== s.dtype.itemsize) this.fail(`has ${s.raw.length} bytes for ${s.dtype.str}`);
        s.value = this.value(n[3]);
        return;
      }
      case TAG.SLICE: {
        const s = node as Mutable<PySlice>;
        s.start = this.value(n[1]);
        s.stop = this.value(n[2]);
        s.step = this.value(n[3]);
        return;
      }
      default:
        return; // bytes, globals, complex numbers have no children
    }
  }

  /**
   * A fixed-width array's data: a typed-array view of the blob when aligned (copied otherwise).
   * Arrays naming the same tensor with the same dtype share one result: a misaligned entry would
   * otherwise be copied once per node naming it (a few bytes each in the graph).
   */
  private tensor(index: number, dtype: PyDType, shape: number[], size: number): ArrayData {
    const entry = this.table[index];
    if (!entry) this.fail(`refers to tensor ${index}, which the tensor table does not list`);
    const [offset, nbytes] = entry;
    const need = size * dtype.itemsize;
    if (nbytes !== need) this.fail(`uses tensor ${index} of ${nbytes} bytes but shape ${JSON.stringify(shape)} of ${dtype.str} needs ${need}`);
    const key = `${index}:${dtype.name}:${dtype.byteOrder}:${size}`;
    const done = this.tensorData.get(key);
    if (done) return done;
    const bytes = this.blob.subarray(offset, offset + nbytes);
    const data = TYPED_ARRAYS[dtype.name] && dtype.name !== 'void' ? typedFromBytes(bytes, dtype.name, size) : bytes;
    this.tensorData.set(key, data);
    return data;
  }

  run(rootValue: unknown): PyValue {
    for (this.at = 0; this.at < this.raw.length; this.at++) {
      const n = this.raw[this.at];
      if (!isArr(n) || n.length === 0) this.fail('is not a [tag, ...] array');
      this.nodes.push(this.make(n));
    }
    for (this.at = 0; this.at < this.raw.length; this.at++) this.fill(this.nodes[this.at]!, this.raw[this.at] as unknown[]);
    this.at = -1;
    return this.value(rootValue);
  }
}

/** Decode a graph section against its tensor blob. */
export function decodeGraph(graphBytes: Uint8Array, blob: Uint8Array, options: DecodeGraphOptions): DecodedGraph {
  let packed: unknown;
  try {
    packed = UNPACKR.unpack(graphBytes);
  } catch (err) {
    if (err instanceof MlpackError) throw err;
    if (err instanceof MsgpackBudgetError) {
      throw malformed(`${options.file}: envelope graph section is refused: ${err.message}`, { file: options.file, offset: options.payloadOffset });
    }
    throw malformed(`${options.file}: envelope graph section is not valid msgpack: ${(err as Error).message.slice(0, 120)}`, {
      file: options.file,
      offset: options.payloadOffset,
      cause: err,
    });
  }
  if (!isArr(packed) || packed.length !== 3 || !isArr(packed[1]) || !isArr(packed[2])) {
    throw malformed(`${options.file}: envelope graph section is not [root, nodes, tensors]`, { file: options.file, offset: options.payloadOffset });
  }
  const table: Array<[number, number]> = [];
  for (const entry of packed[2]) {
    const ok = isArr(entry) && entry.length === 2 && Number.isSafeInteger(entry[0]) && Number.isSafeInteger(entry[1]);
    const offset = ok ? (entry[0] as number) : -1;
    const nbytes = ok ? (entry[1] as number) : -1;
    if (!ok || offset < 0 || nbytes < 0 || offset + nbytes > blob.length) {
      throw malformed(`${options.file}: envelope tensor table entry ${table.length} lies outside the ${blob.length}-byte tensor blob`, {
        file: options.file,
        offset: options.payloadOffset,
      });
    }
    table.push([offset, nbytes]);
  }
  const decoder = new GraphDecoder(options, packed[1], blob, table);
  const root = decoder.run(packed[0]);
  return { root, globals: decoder.globals, nodes: packed[1].length, tensors: table.length };
}
