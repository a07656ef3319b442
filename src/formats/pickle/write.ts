/**
 * A pickle writer for protocols 2–5 that re-emits a decoded object graph (src/ir/object-graph.ts)
 * the way CPython's pickler and numpy's reducers would have written it.
 *
 * Spec: CPython `Lib/pickle.py` (`_Pickler.save_*`, `save_reduce`, `_Framer`, `encode_long`),
 * PEP 307 (protocol 2), PEP 3154 (protocol 4: FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE,
 * BINBYTES8, EMPTY_SET/ADDITEMS/FROZENSET, NEWOBJ_EX), PEP 574 (protocol 5: BYTEARRAY8),
 * `Lib/_compat_pickle.py` (module renames at protocols < 3), numpy `ndarray.__reduce_ex__`,
 * `dtype.__reduce__` and `scalar.__reduce__` (numpy/core/src/multiarray/methods.c, descriptor.c).
 *
 * Output is a list of chunks: small opcodes are collected in 64 KiB frames (as CPython does at
 * protocol 4+), while array payloads are passed through as views of the arrays' own buffers, or
 * as lazy pieces that transform one array at a time (byte swapping, Fortran order, protocol 2's
 * latin-1 text) — a writer never holds a second copy of all the tensors.
 */
import { unsupported } from '../../errors.js';
import { limits } from '../../io/limits.js';
import { TYPED_ARRAYS } from '../../ir/dtype.js';
import { NdArray, NumpyScalar, PyBytes, PyComplex, PyDType, PyDict, PyGlobal, PyObject, PySet, PySlice, PyTuple } from '../../ir/object-graph.js';
import type { PyValue } from '../../ir/object-graph.js';
import { canonicalGlobal } from './unpickler.js';

export type PickleProtocol = 2 | 3 | 4 | 5;

/**
 * Where numpy's reconstructors live. numpy 1.x only has `numpy.core`; numpy 2 moved them to
 * `numpy._core` and keeps `numpy.core` as a deprecated alias that still unpickles (numpy PR
 * #24634), while numpy 1.x cannot load `numpy._core` names (numpy issue #28340). So
 * `numpy.core` loads everywhere; `numpy._core` avoids numpy 2's deprecation warning.
 */
export type NumpyModule = 'numpy.core' | 'numpy._core';

export interface PickleWriteOptions {
  /** Pickle protocol (default 4, Python 3.8+'s default). */
  protocol?: PickleProtocol;
  /** Module path of numpy's reconstructors (default 'numpy.core'; see `numpyModuleOf`). */
  numpyModule?: NumpyModule;
}

export const DEFAULT_PICKLE_PROTOCOL: PickleProtocol = 4;

/** The numpy module path a source file used: `numpy._core` if any of its globals names it. */
export function numpyModuleOf(globals: ReadonlyArray<{ module: string }>): NumpyModule {
  return globals.some((g) => g.module === 'numpy._core' || g.module.startsWith('numpy._core.')) ? 'numpy._core' : 'numpy.core';
}

// Opcodes (pickle.py names).
const MARK = 0x28, STOP = 0x2e, POP = 0x30, POP_MARK = 0x31, NONE = 0x4e, NEWTRUE = 0x88, NEWFALSE = 0x89;
const BININT = 0x4a, BININT1 = 0x4b, BININT2 = 0x4d, LONG1 = 0x8a, LONG4 = 0x8b, BINFLOAT = 0x47;
const BINUNICODE = 0x58, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d;
const BINBYTES = 0x42, SHORT_BINBYTES = 0x43, BINBYTES8 = 0x8e, BYTEARRAY8 = 0x96;
const EMPTY_TUPLE = 0x29, TUPLE = 0x74, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87;
const EMPTY_LIST = 0x5d, APPEND = 0x61, APPENDS = 0x65, EMPTY_DICT = 0x7d, SETITEM = 0x73, SETITEMS = 0x75;
const EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91;
const BINPUT = 0x71, LONG_BINPUT = 0x72, MEMOIZE = 0x94, BINGET = 0x68, LONG_BINGET = 0x6a;
const GLOBAL = 0x63, STACK_GLOBAL = 0x93, REDUCE = 0x52, NEWOBJ = 0x81, NEWOBJ_EX = 0x92, OBJ = 0x6f, INST = 0x69;
const BUILD = 0x62, BINPERSID = 0x51, PROTO = 0x80, FRAME = 0x95;
const TUPLE_N = [EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3];

/** pickle.py `_Framer`: frames close at object boundaries once they reach 64 KiB. */
const FRAME_SIZE_TARGET = 64 * 1024;
const FRAME_SIZE_MIN = 4;
/** pickle.py `_BATCHSIZE`: APPENDS/SETITEMS/ADDITEMS carry at most this many items. */
const BATCH_SIZE = 1000;
/** Lazy pieces emit at most this many bytes per chunk. */
const CHUNK_BYTES = 16 * 1024 * 1024;

/** Python 3 → 2 names CPython writes at protocols < 3 (`_compat_pickle.REVERSE_*_MAPPING`, subset). */
const REVERSE_NAMES: Record<string, [string, string]> = {
  'builtins.range': ['__builtin__', 'xrange'],
  'functools.reduce': ['__builtin__', 'reduce'],
  'sys.intern': ['__builtin__', 'intern'],
  'builtins.chr': ['__builtin__', 'unichr'],
  'builtins.str': ['__builtin__', 'unicode'],
  'builtins.int': ['__builtin__', 'long'],
};
const REVERSE_MODULES: Record<string, string> = { builtins: '__builtin__', copyreg: 'copy_reg' };

/** A chunk produced only when the output is consumed (one transformed array at a time). */
interface LazyPiece {
  length: number;
  produce(): Iterable<Uint8Array>;
}
type Piece = Uint8Array | LazyPiece;

const NO_BYTES = new Uint8Array(0);

function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** UTF-8 with CPython's 'surrogatepass' (lone surrogates as 3-byte sequences, as the reader accepts). */
export function encodeUtf8SurrogatePass(text: string): Uint8Array {
  if (!/[\ud800-\udfff]/.test(text)) return Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return Uint8Array.from(out);
}

/** pickle.py `encode_long`: little-endian two's complement, as short as the sign allows. */
export function encodeLong(x: bigint): Uint8Array {
  if (x === 0n) return NO_BYTES;
  const bitLength = (x < 0n ? -x : x).toString(2).length;
  let n = (bitLength >> 3) + 1;
  let u = x < 0n ? (1n << BigInt(n * 8)) + x : x;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  if (x < 0n && n > 1 && out[n - 1] === 0xff && (out[n - 2]! & 0x80) !== 0) n--;
  return out.subarray(0, n);
}

function splitQualified(qualified: string): [string, string] {
  const at = qualified.lastIndexOf('.');
  return at < 0 ? ['builtins', qualified] : [qualified.slice(0, at), qualified.slice(at + 1)];
}

/** numpy's `(version, endian, subarray, names, fields, elsize, alignment, flags)` numbers for a dtype. */
interface DTypeLayout {
  elsize: number;
  alignment: number;
  flags: number;
}

/** Optional fields a reader may record from the dtype state; used verbatim when present. */
type DTypeWithState = PyDType & { alignment?: number | null; flags?: number | null };

// numpy dtype flag bits (ndarraytypes.h).
const NPY_ITEM_REFCOUNT = 0x01, NPY_LIST_PICKLE = 0x02, NPY_ITEM_IS_POINTER = 0x04, NPY_NEEDS_INIT = 0x08;
const NPY_NEEDS_PYAPI = 0x10, NPY_USE_GETITEM = 0x20, NPY_ALIGNED_STRUCT = 0x80;
const NPY_FROM_FIELDS = NPY_NEEDS_INIT | NPY_LIST_PICKLE | NPY_ITEM_REFCOUNT | NPY_NEEDS_PYAPI;
const NPY_OBJECT_DTYPE_FLAGS = NPY_LIST_PICKLE | NPY_USE_GETITEM | NPY_ITEM_IS_POINTER | NPY_ITEM_REFCOUNT | NPY_NEEDS_INIT | NPY_NEEDS_PYAPI;

function naturalAlignment(dt: PyDType): number {
  if (dt.subdtype) return naturalAlignment(dt.subdtype.base);
  if (dt.fields) return Math.max(1, ...dt.fields.map((f) => naturalAlignment(f.dtype)));
  switch (dt.kind) {
    case 'U': return 4;
    case 'S': case 'V': case 'b': return 1;
    case 'O': return 8;
    case 'c': return dt.itemsize / 2;
    default: return Math.max(1, dt.itemsize);
  }
}

function dtypeFlags(dt: PyDType): number {
  const extra = dt as DTypeWithState;
  if (typeof extra.flags === 'number') return extra.flags;
  if (dt.fields) {
    let flags = NPY_NEEDS_PYAPI;
    for (const f of dt.fields) flags |= dtypeFlags(f.dtype) & NPY_FROM_FIELDS;
    return flags;
  }
  if (dt.subdtype) return dtypeFlags(dt.subdtype.base) & NPY_FROM_FIELDS;
  if (dt.kind === 'O') return NPY_OBJECT_DTYPE_FLAGS;
  if (dt.kind === 'U') return NPY_NEEDS_INIT;
  return 0;
}

/**
 * numpy's `arraydescr_reduce`: flexible types (S, U, V: structured and sub-array dtypes too) carry
 * elsize and alignment, the others -1. Structured dtypes are written unaligned (alignment 1) unless
 * the reader recorded otherwise: that is what `numpy.dtype({...})` without align=True gives, and
 * how scikit-learn builds its node dtypes.
 */
function dtypeLayout(dt: PyDType): DTypeLayout {
  const extra = dt as DTypeWithState;
  const flexible = dt.kind === 'U' || dt.kind === 'S' || dt.kind === 'V';
  let flags = dtypeFlags(dt);
  // numpy stores the flags in a C char: values with the high bit set are written negative.
  if (flags > 0x7f) flags -= 0x100;
  if (!flexible) return { elsize: -1, alignment: -1, flags };
  let alignment: number;
  if (typeof extra.alignment === 'number') alignment = extra.alignment;
  else if (dt.fields) alignment = (flags & NPY_ALIGNED_STRUCT) !== 0 ? naturalAlignment(dt) : 1;
  else if (dt.subdtype) alignment = naturalAlignment(dt.subdtype.base);
  else alignment = dt.kind === 'U' ? 4 : 1;
  return { elsize: dt.itemsize, alignment, flags };
}

/** Transpose C-ordered elements of `itemsize` bytes into Fortran order. */
function cToFortran(src: Uint8Array, shape: readonly number[], itemsize: number): Uint8Array {
  const nd = shape.length;
  const out = new Uint8Array(src.length);
  let size = 1;
  for (const d of shape) size *= d;
  if (size === 0) return out;
  const fstride: number[] = new Array(nd);
  let s = 1;
  for (let k = 0; k < nd; k++) {
    fstride[k] = s;
    s *= shape[k]!;
  }
  const idx: number[] = new Array(nd).fill(0);
  for (let c = 0; c < size; c++) {
    let f = 0;
    for (let k = 0; k < nd; k++) f += idx[k]! * fstride[k]!;
    out.set(src.subarray(c * itemsize, (c + 1) * itemsize), f * itemsize);
    for (let k = nd - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

function swapLanes(src: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let o = 0; o < src.length; o += width) for (let b = 0; b < width; b++) out[o + b] = src[o + width - 1 - b]!;
  return out;
}

/**
 * Raw element bytes of a non-object array, as numpy would store them for `order` and the
 * dtype's byte order: a view when nothing has to change, a lazy transformed copy otherwise.
 */
export function arrayPayload(arr: NdArray, order: 'C' | 'F'): Piece {
  const dt = arr.dtype;
  const length = arr.size * dt.itemsize;
  const produceBase = (): Uint8Array => {
    if (dt.kind === 'U' || dt.kind === 'S') return encodeTextElements(arr);
    const data = arr.data as ArrayBufferView;
    if (!ArrayBuffer.isView(data)) throw unsupported(`numpy array of ${dt.str} holds data that is not raw bytes`);
    let raw = bytesOf(data);
    if (raw.length !== length) throw unsupported(`numpy array of ${dt.str} and shape ${JSON.stringify(arr.shape)} holds ${raw.length} bytes, expected ${length}`);
    // Readers keep typed arrays in native (little-endian) order and raw records as stored.
    const spec = TYPED_ARRAYS[dt.name];
    if (dt.byteOrder === '>' && spec && dt.name !== 'void' && spec.ctor.BYTES_PER_ELEMENT > 1) raw = swapLanes(raw, spec.ctor.BYTES_PER_ELEMENT);
    return raw;
  };
  const fortran = order === 'F' && arr.shape.length > 1;
  const data = arr.data;
  const direct = !fortran && dt.kind !== 'U' && dt.kind !== 'S' && !(dt.byteOrder === '>' && TYPED_ARRAYS[dt.name] && dt.name !== 'void' && dt.itemsize > 1);
  if (direct && ArrayBuffer.isView(data)) {
    const raw = bytesOf(data);
    if (raw.length !== length) throw unsupported(`numpy array of ${dt.str} and shape ${JSON.stringify(arr.shape)} holds ${raw.length} bytes, expected ${length}`);
    return raw;
  }
  return {
    length,
    *produce() {
      const base = produceBase();
      yield fortran ? cToFortran(base, arr.shape, dt.itemsize) : base;
    },
  };
}

/** numpy's fixed-width text: U as UTF-32 code points, S as latin-1 bytes, zero padded. */
function encodeTextElements(arr: NdArray): Uint8Array {
  const dt = arr.dtype;
  const items = arr.data as unknown[];
  const out = new Uint8Array(arr.size * dt.itemsize);
  const view = new DataView(out.buffer);
  for (let i = 0; i < arr.size; i++) {
    const s = items[i];
    if (typeof s !== 'string') throw unsupported(`numpy ${dt.str} array holds a non-string element`);
    let at = i * dt.itemsize;
    const end = at + dt.itemsize;
    if (dt.kind === 'U') {
      for (const ch of s) {
        if (at + 4 > end) throw unsupported(`string ${JSON.stringify(s.slice(0, 40))} does not fit numpy dtype ${dt.str}`);
        view.setUint32(at, ch.codePointAt(0)!, dt.byteOrder !== '>');
        at += 4;
      }
    } else {
      for (let k = 0; k < s.length; k++) {
        const c = s.charCodeAt(k);
        if (c > 0xff || at >= end) throw unsupported(`string ${JSON.stringify(s.slice(0, 40))} does not fit numpy dtype ${dt.str}`);
        out[at++] = c;
      }
    }
  }
  return out;
}

/** UTF-8 length of the latin-1 text of `bytes` (bytes ≥ 0x80 take two). */
function latin1Utf8Length(bytes: Uint8Array): number {
  let n = bytes.length;
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) n++;
  return n;
}

function* latin1ToUtf8(bytes: Uint8Array): Generator<Uint8Array> {
  const step = CHUNK_BYTES / 2;
  for (let start = 0; start < bytes.length; start += step) {
    const part = bytes.subarray(start, start + step);
    const out = new Uint8Array(part.length * 2);
    let o = 0;
    for (let i = 0; i < part.length; i++) {
      const b = part[i]!;
      if (b < 0x80) out[o++] = b;
      else {
        out[o++] = 0xc0 | (b >> 6);
        out[o++] = 0x80 | (b & 0x3f);
      }
    }
    yield out.subarray(0, o);
  }
}

function* materialise(piece: Piece): Generator<Uint8Array> {
  if (piece instanceof Uint8Array) {
    for (let at = 0; at < piece.length; at += CHUNK_BYTES) yield piece.subarray(at, Math.min(piece.length, at + CHUNK_BYTES));
    return;
  }
  let total = 0;
  for (const chunk of piece.produce()) {
    total += chunk.length;
    for (let at = 0; at < chunk.length; at += CHUNK_BYTES) yield chunk.subarray(at, Math.min(chunk.length, at + CHUNK_BYTES));
  }
  if (total !== piece.length) throw new Error(`pickle writer: lazy piece produced ${total} bytes, announced ${piece.length}`);
}

function concatAll(pieces: Iterable<Uint8Array>): Uint8Array {
  const list = [...pieces];
  const out = new Uint8Array(list.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of list) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * One pickle stream. `dump` runs the whole save eagerly (opcodes are small); `chunks` then
 * yields the frames and array payloads. Subclasses (the joblib writer) intercept arrays.
 */
export class PickleWriter {
  readonly protocol: PickleProtocol;
  readonly numpyModule: NumpyModule;
  private readonly pieces: Piece[] = [];
  /** Bytes already moved to `pieces`. */
  private emitted = 0;
  private buf = new Uint8Array(FRAME_SIZE_TARGET + 1024);
  private len = 0;
  private framing = false;
  private memoSize = 0;
  private readonly memo = new Map<object, number>();
  private readonly strMemo = new Map<string, number>();
  private readonly globalMemo = new Map<string, number>();
  private depth = 0;
  private readonly maxDepth = limits().maxDepth + 16;

  constructor(options: PickleWriteOptions = {}) {
    const protocol = options.protocol ?? DEFAULT_PICKLE_PROTOCOL;
    if (![2, 3, 4, 5].includes(protocol)) throw unsupported(`pickle protocol ${String(protocol)} cannot be written; choose 2, 3, 4 or 5`);
    this.protocol = protocol;
    this.numpyModule = options.numpyModule ?? 'numpy.core';
  }

  /** pickle.py `dump` (call once per writer): PROTO (unframed), framing from protocol 4, the object, STOP. */
  dump(value: PyValue): this {
    this.u8(PROTO);
    this.u8(this.protocol);
    if (this.protocol >= 4) {
      this.flushRaw();
      this.framing = true;
    }
    try {
      this.save(value);
    } catch (err) {
      // Recursion is bounded by maxDepth, but a host with a small stack may still run out first.
      if (err instanceof RangeError && /call stack/.test(err.message)) {
        throw unsupported('the object graph is nested too deeply to be pickled', { cause: err });
      }
      throw err;
    }
    this.u8(STOP);
    if (this.framing) {
      if (this.len > 0) this.commitFrame(true);
      this.framing = false;
    }
    this.flushRaw();
    return this;
  }

  /** Bytes written so far (exact once the current frame is committed, as joblib's tell()). */
  get position(): number {
    return this.emitted + this.len;
  }

  *chunks(): Generator<Uint8Array> {
    for (const piece of this.pieces) yield* materialise(piece);
  }

  /** The pieces of another (nested) stream, spliced in unframed. */
  protected appendStream(other: PickleWriter): void {
    this.commitFrame(true);
    this.flushRaw();
    for (const p of other.pieces) this.pushPiece(p);
  }

  // ---- byte output -------------------------------------------------------------------------

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  protected u8(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  protected write(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  private u16(v: number): void {
    this.room(2);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
  }

  private u32(v: number): void {
    this.room(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setUint32(this.len, v, true);
    this.len += 4;
  }

  private i32(v: number): void {
    this.room(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setInt32(this.len, v, true);
    this.len += 4;
  }

  private u64(v: number): void {
    this.room(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setBigUint64(this.len, BigInt(v), true);
    this.len += 8;
  }

  private pushPiece(p: Piece): void {
    const n = p instanceof Uint8Array ? p.length : p.length;
    if (n === 0) return;
    this.pieces.push(p);
    this.emitted += n;
  }

  /** Move the buffered bytes out as they are (no FRAME opcode). */
  protected flushRaw(): void {
    if (this.len === 0) return;
    this.pushPiece(this.buf.slice(0, this.len));
    this.len = 0;
  }

  /** `_Framer.commit_frame`: close the frame once it reaches the target size (or when forced). */
  protected commitFrame(force = false): void {
    if (!this.framing) {
      if (this.len >= FRAME_SIZE_TARGET || force) this.flushRaw();
      return;
    }
    if (this.len < FRAME_SIZE_TARGET && !force) return;
    if (this.len === 0) return;
    const data = this.buf.slice(0, this.len);
    this.len = 0;
    if (data.length >= FRAME_SIZE_MIN) {
      const header = new Uint8Array(9);
      header[0] = FRAME;
      new DataView(header.buffer).setBigUint64(1, BigInt(data.length), true);
      this.pushPiece(header);
    }
    this.pushPiece(data);
  }

  /** `_Framer.write_large_bytes`: header and payload unframed, after closing the frame. */
  private writeLarge(writeHeader: () => void, payload: Piece): void {
    this.commitFrame(true);
    writeHeader();
    this.flushRaw();
    this.pushPiece(payload);
  }

  /** Append already-encoded bytes to the stream outside any frame (joblib's array data). */
  protected writeUnframed(piece: Piece): void {
    this.commitFrame(true);
    this.flushRaw();
    this.pushPiece(piece);
  }

  // ---- memo ----------------------------------------------------------------------------------

  private put(): number {
    const idx = this.memoSize++;
    if (this.protocol >= 4) this.u8(MEMOIZE);
    else if (idx < 256) {
      this.u8(BINPUT);
      this.u8(idx);
    } else {
      this.u8(LONG_BINPUT);
      this.u32(idx);
    }
    return idx;
  }

  protected memoize(obj: object): void {
    this.memo.set(obj, this.put());
  }

  /** TUPLE1/2/3 for a tuple built on the spot, memoized as CPython memoizes every tuple. */
  protected tupleOp(op: number): void {
    this.u8(op);
    this.putOnly();
  }

  /** A memo slot for an object nothing refers to again (CPython memoizes every container). */
  protected putOnly(): void {
    this.put();
  }

  private get(idx: number): void {
    if (idx < 256) {
      this.u8(BINGET);
      this.u8(idx);
    } else {
      this.u8(LONG_BINGET);
      this.u32(idx);
    }
  }

  /** After building `obj` from a call: fetch it if a cycle already memoized it, else memoize. */
  private memoizeBuilt(obj: object): void {
    const at = this.memo.get(obj);
    if (at !== undefined) {
      this.u8(POP);
      this.get(at);
    } else this.memoize(obj);
  }

  // ---- values --------------------------------------------------------------------------------

  protected save(v: PyValue): void {
    this.commitFrame();
    if (v === null) return this.u8(NONE);
    switch (typeof v) {
      case 'boolean':
        return this.u8(v ? NEWTRUE : NEWFALSE);
      case 'bigint':
        return this.saveInt(v);
      case 'number':
        return this.saveFloat(v);
      case 'string':
        return this.saveStr(v);
      default:
        break;
    }
    if (v instanceof NdArray && this.interceptArray(v)) return;
    const seen = this.memo.get(v);
    if (seen !== undefined) return this.get(seen);
    if (++this.depth > this.maxDepth) throw unsupported(`the object graph is nested deeper than ${this.maxDepth} levels; a pickle cannot hold it`);
    try {
      this.saveObjectNode(v);
    } finally {
      this.depth--;
    }
  }

  private saveObjectNode(v: Exclude<PyValue, null | boolean | bigint | number | string>): void {
    if (Array.isArray(v)) {
      this.u8(EMPTY_LIST);
      this.memoize(v);
      this.batchAppends(v);
    } else if (v instanceof PyTuple) this.saveTuple(v.items, v);
    else if (v instanceof PyDict) this.saveDict(v);
    else if (v instanceof PySet) this.saveSet(v);
    else if (v instanceof PyBytes) this.saveBytes(v);
    else if (v instanceof PyGlobal) this.saveGlobal(v.module, v.name);
    else if (v instanceof PyObject) this.saveObject(v);
    else if (v instanceof NdArray) this.saveArray(v);
    else if (v instanceof PyDType) this.saveDType(v);
    else if (v instanceof NumpyScalar) this.saveScalar(v);
    else if (v instanceof PyComplex) {
      // complex.__reduce_ex__(2+): copyreg.__newobj__(complex, re, im) → NEWOBJ.
      this.saveGlobal('builtins', 'complex');
      this.saveTuple([v.re, v.im], null);
      this.u8(NEWOBJ);
      this.memoizeBuilt(v);
    } else if (v instanceof PySlice) {
      this.saveGlobal('builtins', 'slice');
      this.saveTuple([v.start, v.stop, v.step], null);
      this.u8(REDUCE);
      this.memoizeBuilt(v);
    } else {
      throw unsupported(`a ${(v as object).constructor?.name ?? typeof v} value cannot be pickled`);
    }
  }

  /** joblib overrides this to write arrays as NumpyArrayWrapper + raw bytes. */
  protected interceptArray(_arr: NdArray): boolean {
    return false;
  }

  /** pickle.py `save_long`. */
  protected saveInt(v: bigint): void {
    if (v >= 0n && v <= 0xffn) {
      this.u8(BININT1);
      this.u8(Number(v));
    } else if (v >= 0n && v <= 0xffffn) {
      this.u8(BININT2);
      this.u16(Number(v));
    } else if (v >= -0x80000000n && v <= 0x7fffffffn) {
      this.u8(BININT);
      this.i32(Number(v));
    } else {
      const enc = encodeLong(v);
      if (enc.length < 256) {
        this.u8(LONG1);
        this.u8(enc.length);
      } else {
        this.u8(LONG4);
        this.i32(enc.length);
      }
      this.write(enc);
    }
  }

  private saveFloat(v: number): void {
    this.u8(BINFLOAT);
    this.room(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.len, v, false);
    this.len += 8;
  }

  /** pickle.py `save_str` (binary protocols); strings are memoized by value. */
  protected saveStr(s: string): void {
    const seen = this.strMemo.get(s);
    if (seen !== undefined) return this.get(seen);
    const enc = encodeUtf8SurrogatePass(s);
    const n = enc.length;
    if (n <= 0xff && this.protocol >= 4) {
      this.u8(SHORT_BINUNICODE);
      this.u8(n);
      this.write(enc);
    } else if (n > 0xffffffff && this.protocol >= 4) {
      this.writeLarge(() => {
        this.u8(BINUNICODE8);
        this.u64(n);
      }, enc);
    } else if (n >= FRAME_SIZE_TARGET) {
      this.writeLarge(() => {
        this.u8(BINUNICODE);
        this.u32(n);
      }, enc);
    } else {
      this.u8(BINUNICODE);
      this.u32(n);
      this.write(enc);
    }
    this.strMemo.set(s, this.put());
  }

  /** pickle.py `save_tuple` (with its recursion check); `key` is null for synthetic tuples. */
  protected saveTuple(items: readonly PyValue[], key: object | null): void {
    const n = items.length;
    if (n === 0) return this.u8(EMPTY_TUPLE);
    if (n <= 3) {
      for (const item of items) this.save(item);
      const at = key ? this.memo.get(key) : undefined;
      if (at !== undefined) {
        for (let i = 0; i < n; i++) this.u8(POP);
        this.get(at);
        return;
      }
      this.u8(TUPLE_N[n]!);
      if (key) this.memoize(key);
      else this.putOnly();
      return;
    }
    if (this.markedItems(items, key)) return;
    this.u8(TUPLE);
    if (key) this.memoize(key);
    else this.putOnly();
  }

  /**
   * MARK, then `items`. When saving them memoized `key` (the container reached itself through
   * its items), pop back to the mark and fetch the memoized object instead: pickle.py's recursion
   * check for tuples, frozensets and OBJ/INST. True when that happened (the caller is done).
   */
  private markedItems(items: Iterable<PyValue>, key: object | null): boolean {
    this.u8(MARK);
    for (const item of items) this.save(item);
    const at = key ? this.memo.get(key) : undefined;
    if (at === undefined) return false;
    this.u8(POP_MARK);
    this.get(at);
    return true;
  }

  private batchAppends(items: readonly PyValue[]): void {
    for (let start = 0; start < items.length; start += BATCH_SIZE) {
      const n = Math.min(BATCH_SIZE, items.length - start);
      if (n > 1) {
        this.u8(MARK);
        for (let i = start; i < start + n; i++) this.save(items[i]!);
        this.u8(APPENDS);
      } else {
        this.save(items[start]!);
        this.u8(APPEND);
      }
    }
  }

  private batchSetItems(entries: ReadonlyArray<readonly [PyValue, PyValue]>): void {
    for (let start = 0; start < entries.length; start += BATCH_SIZE) {
      const n = Math.min(BATCH_SIZE, entries.length - start);
      if (n > 1) {
        this.u8(MARK);
        for (let i = start; i < start + n; i++) {
          this.save(entries[i]![0]);
          this.save(entries[i]![1]);
        }
        this.u8(SETITEMS);
      } else {
        this.save(entries[start]![0]);
        this.save(entries[start]![1]);
        this.u8(SETITEM);
      }
    }
  }

  private saveDict(d: PyDict): void {
    if (d.pyClass) {
      // OrderedDict.__reduce__: (cls, (), state, None, iter(items)) → REDUCE, SETITEMS, BUILD.
      const [module, name] = splitQualified(d.pyClass);
      this.saveGlobal(module, name);
      this.u8(EMPTY_TUPLE);
      this.u8(REDUCE);
      this.memoizeBuilt(d);
      this.batchSetItems(d.entries);
      if (d.state !== undefined) {
        this.save(d.state);
        this.u8(BUILD);
      }
      return;
    }
    this.u8(EMPTY_DICT);
    this.memoize(d);
    this.batchSetItems(d.entries);
  }

  private saveSet(s: PySet): void {
    if (this.protocol < 4) {
      // save_set / save_frozenset below protocol 4: (set|frozenset)(list(items)).
      this.saveGlobal('builtins', s.frozen ? 'frozenset' : 'set');
      this.u8(EMPTY_LIST);
      this.putOnly();
      this.batchAppends(s.items);
      this.tupleOp(TUPLE1);
      this.u8(REDUCE);
      this.memoizeBuilt(s);
      return;
    }
    if (!s.frozen) {
      this.u8(EMPTY_SET);
      this.memoize(s);
      for (let start = 0; start < s.items.length; start += BATCH_SIZE) {
        this.u8(MARK);
        for (let i = start; i < Math.min(s.items.length, start + BATCH_SIZE); i++) this.save(s.items[i]!);
        this.u8(ADDITEMS);
      }
      return;
    }
    if (this.markedItems(s.items, s)) return;
    this.u8(FROZENSET);
    this.memoize(s);
  }

  /** bytes/bytearray payload opcodes for `data` (not memoized here). */
  private writeBytesPayload(data: Piece, mutable: boolean): void {
    const n = data instanceof Uint8Array ? data.length : data.length;
    if (mutable) {
      // BYTEARRAY8 (protocol 5).
      if (n >= FRAME_SIZE_TARGET) {
        this.writeLarge(() => {
          this.u8(BYTEARRAY8);
          this.u64(n);
        }, data);
      } else {
        this.u8(BYTEARRAY8);
        this.u64(n);
        for (const c of materialise(data)) this.write(c);
      }
      return;
    }
    if (n <= 0xff) {
      this.u8(SHORT_BINBYTES);
      this.u8(n);
      for (const c of materialise(data)) this.write(c);
    } else if (n > 0xffffffff && this.protocol >= 4) {
      this.writeLarge(() => {
        this.u8(BINBYTES8);
        this.u64(n);
      }, data);
    } else if (n > 0xffffffff) {
      throw unsupported(`a ${n}-byte bytes object needs pickle protocol 4 or later`);
    } else if (n >= FRAME_SIZE_TARGET) {
      this.writeLarge(() => {
        this.u8(BINBYTES);
        this.u32(n);
      }, data);
    } else {
      this.u8(BINBYTES);
      this.u32(n);
      for (const c of materialise(data)) this.write(c);
    }
  }

  /**
   * A bytes value (memoized under `key` when given). Below protocol 3 Python 3 writes
   * `_codecs.encode(latin-1 text, 'latin1')`, or `bytes()` when empty (pickle.py `save_bytes`).
   */
  protected saveBytesValue(data: Piece, key: object | null): void {
    const n = data instanceof Uint8Array ? data.length : data.length;
    if (this.protocol >= 3) {
      this.writeBytesPayload(data, false);
      if (key) this.memoize(key);
      else this.putOnly();
      return;
    }
    if (n === 0) {
      this.saveGlobal('builtins', 'bytes');
      this.u8(EMPTY_TUPLE);
      this.u8(REDUCE);
    } else {
      this.saveGlobal('_codecs', 'encode');
      if (data instanceof Uint8Array && n < FRAME_SIZE_TARGET) {
        const text = new Uint8Array(latin1Utf8Length(data));
        let o = 0;
        for (const c of latin1ToUtf8(data)) {
          text.set(c, o);
          o += c.length;
        }
        this.u8(BINUNICODE);
        this.u32(text.length);
        this.write(text);
      } else {
        // The payload is transformed lazily, twice: once now to count its UTF-8 length, once when
        // the output is consumed, so no transformed copy is kept in between.
        let utf8Length = 0;
        for (const c of materialise(data)) utf8Length += latin1Utf8Length(c);
        if (utf8Length > 0xffffffff) throw unsupported(`a ${n}-byte bytes object is too large for pickle protocol ${this.protocol}; use protocol 4 or later`);
        this.writeLarge(() => {
          this.u8(BINUNICODE);
          this.u32(utf8Length);
        }, {
          length: utf8Length,
          *produce() {
            for (const c of materialise(data)) yield* latin1ToUtf8(c);
          },
        });
      }
      this.putOnly();
      this.saveStr('latin1');
      this.tupleOp(TUPLE2);
      this.u8(REDUCE);
    }
    if (key) this.memoizeBuilt(key);
    else this.putOnly();
  }

  private saveBytes(b: PyBytes): void {
    if (!b.mutable) return this.saveBytesValue(b.data, b);
    if (this.protocol >= 5) {
      this.writeBytesPayload(b.data, true);
      this.memoize(b);
      return;
    }
    // pickle.py save_bytearray below protocol 5: bytearray() or bytearray(bytes(obj)).
    this.saveGlobal('builtins', 'bytearray');
    if (b.data.length === 0) this.u8(EMPTY_TUPLE);
    else {
      this.saveBytesValue(b.data, null);
      this.tupleOp(TUPLE1);
    }
    this.u8(REDUCE);
    this.memoizeBuilt(b);
  }

  /** The module/name a global is written under at this protocol. */
  private globalName(module: string, name: string): [string, string] {
    if (this.protocol >= 3) return canonicalGlobal(module, name);
    const byName = REVERSE_NAMES[`${module}.${name}`];
    if (byName) return byName;
    return [REVERSE_MODULES[module] ?? module, name];
  }

  /** pickle.py `save_global` (memoized by name). */
  protected saveGlobal(module: string, name: string): void {
    const [m, n] = this.globalName(module, name);
    const key = `${m}\n${n}`;
    const seen = this.globalMemo.get(key);
    if (seen !== undefined) return this.get(seen);
    if (/[\n]/.test(m) || /[\n]/.test(n)) throw unsupported(`global ${JSON.stringify(`${m}.${n}`)} cannot be pickled (newline in its name)`);
    if (this.protocol >= 4) {
      this.saveStr(m);
      this.saveStr(n);
      this.u8(STACK_GLOBAL);
    } else if (n.includes('.')) {
      // A nested name below protocol 4: getattr(parent, last) (pickle.py save_global).
      const at = n.lastIndexOf('.');
      this.saveGlobal('builtins', 'getattr');
      this.saveGlobal(m, n.slice(0, at));
      this.saveStr(n.slice(at + 1));
      this.tupleOp(TUPLE2);
      this.u8(REDUCE);
    } else {
      const text = `${m}\n${n}\n`;
      if (this.protocol < 3 && /[^\x00-\x7f]/.test(text)) {
        throw unsupported(`global ${m}.${n} has a non-ASCII name, which pickle protocol 2 cannot write; use protocol 3 or later`);
      }
      this.u8(GLOBAL);
      this.write(Buffer.from(text, 'utf8'));
    }
    this.globalMemo.set(key, this.put());
  }

  /** An object exactly as it was constructed: REDUCE / NEWOBJ / NEWOBJ_EX / OBJ / INST / BINPERSID. */
  private saveObject(o: PyObject): void {
    switch (o.how) {
      case 'reduce':
        this.save(o.callable);
        this.saveTuple(o.args, null);
        this.u8(REDUCE);
        break;
      case 'newobj':
        this.save(o.callable);
        this.saveTuple(o.args, null);
        this.u8(NEWOBJ);
        break;
      case 'newobj_ex':
        if (this.protocol >= 4) {
          this.save(o.callable);
          this.saveTuple(o.args, null);
          this.save(o.kwargs ?? new PyDict());
          this.u8(NEWOBJ_EX);
        } else {
          // copyreg.__newobj_ex__(cls, args, kwargs) does what NEWOBJ_EX does.
          this.saveGlobal('copyreg', '__newobj_ex__');
          this.save(o.callable);
          this.saveTuple(o.args, null);
          this.save(o.kwargs ?? new PyDict());
          this.tupleOp(TUPLE3);
          this.u8(REDUCE);
        }
        break;
      case 'obj': {
        if (this.markedItems([o.callable, ...o.args], o)) return;
        this.u8(OBJ);
        break;
      }
      case 'inst': {
        if (!(o.callable instanceof PyGlobal)) {
          throw unsupported(`an INST-built object without a class name cannot be pickled`);
        }
        const [m, n] = this.globalName(o.callable.module, o.callable.name);
        if (this.markedItems(o.args, o)) return;
        this.u8(INST);
        this.write(Buffer.from(`${m}\n${n}\n`, 'utf8'));
        break;
      }
      case 'persid':
        this.save(o.args[0] ?? null);
        this.u8(BINPERSID);
        break;
    }
    this.memoizeBuilt(o);
    if (o.listItems) this.batchAppends(o.listItems);
    if (o.dictItems) this.batchSetItems(o.dictItems);
    if (o.state !== undefined) {
      this.save(o.state);
      this.u8(BUILD);
    }
  }

  private saveShape(shape: readonly number[]): void {
    this.saveTuple(shape.map((d) => BigInt(d)), null);
  }

  /**
   * numpy `ndarray.__reduce_ex__`: protocol 5 writes `_frombuffer(bytearray, dtype, shape, order)`
   * for plain non-object arrays; otherwise `_reconstruct(cls, (0,), b'b')` + BUILD
   * `(1, shape, dtype, is_fortran, raw bytes | list of objects)`.
   */
  protected saveArray(arr: NdArray): void {
    const np = this.numpyModule;
    const order = arr.fortran && arr.shape.length > 1 ? 'F' : 'C';
    if (!arr.dtype.hasObject && this.protocol >= 5 && arr.subclass === 'numpy.ndarray') {
      this.saveGlobal(`${np}.numeric`, '_frombuffer');
      this.u8(MARK);
      this.writeBytesPayload(arrayPayload(arr, order), true);
      this.putOnly();
      this.save(arr.dtype);
      this.saveShape(arr.shape);
      this.saveStr(order);
      this.u8(TUPLE);
      this.u8(REDUCE);
      this.memoizeBuilt(arr);
      return;
    }
    this.saveGlobal(`${np}.multiarray`, '_reconstruct');
    const [module, name] = splitQualified(arr.subclass || 'numpy.ndarray');
    this.saveGlobal(module, name);
    this.saveTuple([0n], null);
    this.saveBytesValue(Uint8Array.of(0x62), null); // b'b'
    this.tupleOp(TUPLE3);
    this.u8(REDUCE);
    this.memoizeBuilt(arr);
    this.u8(MARK);
    this.saveInt(1n);
    this.saveShape(arr.shape);
    this.save(arr.dtype);
    this.u8(order === 'F' ? NEWTRUE : NEWFALSE);
    if (arr.dtype.hasObject) {
      const items = arr.data;
      if (!Array.isArray(items) || items.length !== arr.size) throw unsupported(`numpy object array of shape ${JSON.stringify(arr.shape)} does not hold ${arr.size} items`);
      this.u8(EMPTY_LIST);
      this.putOnly();
      this.batchAppends(items as PyValue[]);
    } else {
      this.saveBytesValue(arrayPayload(arr, order), null);
    }
    this.u8(TUPLE);
    this.putOnly();
    this.u8(BUILD);
  }

  /** numpy `dtype.__reduce__`: `dtype(code, False, True)` + BUILD state (version 3, or 4 with datetime metadata). */
  protected saveDType(dt: PyDType): void {
    this.saveGlobal('numpy', 'dtype');
    this.saveTuple([dt.code, false, true], null);
    this.u8(REDUCE);
    this.memoizeBuilt(dt);
    const layout = dtypeLayout(dt);
    const datetime = dt.kind === 'M' || dt.kind === 'm';
    this.u8(MARK);
    this.saveInt(datetime ? 4n : 3n);
    this.saveStr(dt.byteOrder);
    if (dt.subdtype) {
      this.save(dt.subdtype.base);
      this.saveShape(dt.subdtype.shape);
      this.tupleOp(TUPLE2);
    } else this.u8(NONE);
    if (dt.fields) {
      this.saveTuple(dt.fields.map((f) => f.name), null);
      this.u8(EMPTY_DICT);
      this.putOnly();
      this.batchSetItems(dt.fields.map((f) => [f.name, new PyTuple([f.dtype, BigInt(f.offset)])] as const));
    } else {
      this.u8(NONE);
      this.u8(NONE);
    }
    this.saveInt(BigInt(layout.elsize));
    this.saveInt(BigInt(layout.alignment));
    this.saveInt(BigInt(layout.flags));
    if (datetime) {
      // metadata: ({}, (unit, num, den, events)) — numpy's datetime metadata.
      this.u8(EMPTY_DICT);
      this.putOnly();
      this.u8(MARK);
      this.saveBytesValue(Buffer.from(dt.unit ?? 'generic', 'latin1'), null);
      this.saveInt(1n);
      this.saveInt(1n);
      this.saveInt(1n);
      this.u8(TUPLE);
      this.putOnly();
      this.tupleOp(TUPLE2);
    }
    this.u8(TUPLE);
    this.putOnly();
    this.u8(BUILD);
  }

  /** numpy `scalar.__reduce__`: `scalar(dtype, raw bytes)` (object dtype: `scalar(dtype, obj)`). */
  private saveScalar(s: NumpyScalar): void {
    this.saveGlobal(`${this.numpyModule}.multiarray`, 'scalar');
    this.save(s.dtype);
    if (s.dtype.hasObject) this.save(s.value);
    else this.saveBytesValue(s.raw, null);
    this.tupleOp(TUPLE2);
    this.u8(REDUCE);
    this.memoizeBuilt(s);
  }
}

/** A pickle of `value` as chunks (frames and array payloads, produced as they are consumed). */
export function writePickle(value: PyValue, options: PickleWriteOptions = {}): Generator<Uint8Array> {
  return new PickleWriter(options).dump(value).chunks();
}

/** The whole pickle in one buffer (small objects, tests). */
export function pickleBytes(value: PyValue, options: PickleWriteOptions = {}): Uint8Array {
  return concatAll(writePickle(value, options));
}
