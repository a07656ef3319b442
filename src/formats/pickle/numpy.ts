/**
 * numpy's pickled forms, rebuilt as data (numpy `ndarray.__reduce__`/`__setstate__`,
 * `dtype.__reduce__`/`__setstate__`, `numpy.core.multiarray.scalar`, protocol-5 `_frombuffer`).
 *
 *   ndarray  → `_reconstruct(ndarray, (0,), b'b')` + BUILD `(version, shape, dtype, is_fortran, rawdata)`
 *   dtype    → `dtype('f8', False, True)` + BUILD `(version, endian, subarray, names, fields, elsize, alignment, flags[, metadata])`
 *   scalar   → `scalar(dtype, raw_bytes)` (object dtype: `scalar(dtype, obj)`)
 *   proto 5  → `_frombuffer(PickleBuffer, dtype, shape, order)`
 */
import { malformed, unsupported } from '../../errors.js';
import { decodeLatin1, encodeLatin1 } from '../../io/byte-reader.js';
import { limits } from '../../io/limits.js';
import { TYPED_ARRAYS, halfToNumber } from '../../ir/dtype.js';
import type { DTypeName, NumericTypedArray } from '../../ir/dtype.js';
import { NdArray, NumpyScalar, PyBytes, PyComplex, PyDType, PyDict, PyTuple } from '../../ir/object-graph.js';
import type { ArrayData, PyValue } from '../../ir/object-graph.js';
import { fortranToC, typedFromBytes } from '../../ir/tensor.js';
import { preview } from '../preview.js';

const NUMERIC_NAMES: Record<string, DTypeName> = {
  f2: 'float16', f4: 'float32', f8: 'float64',
  i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64',
  u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64',
  b1: 'bool', c8: 'complex64', c16: 'complex128',
  M8: 'datetime64', m8: 'timedelta64',
};

const SINGLE_CHAR_CODES: Record<string, string> = {
  '?': 'b1', b: 'i1', B: 'u1', h: 'i2', H: 'u2', i: 'i4', I: 'u4', l: 'i8', L: 'u8', q: 'i8', Q: 'u8',
  e: 'f2', f: 'f4', d: 'f8', F: 'c8', D: 'c16', O: 'O8',
};

function nameFor(kind: string, itemsize: number): DTypeName {
  switch (kind) {
    case 'O': return 'object';
    case 'U': return 'string';
    case 'S': return 'bytes';
    case 'V': return 'void';
    default: return NUMERIC_NAMES[`${kind}${itemsize}`] ?? 'void';
  }
}

/** `numpy.dtype(code, align, copy)`: the code numpy's reduce writes, e.g. 'f8', 'U20', 'V64', 'O8'. */
export function dtypeFromCode(code: string, offset: number): PyDType {
  let c = code;
  let order: '<' | '>' | '|' = '<';
  if (c[0] === '<' || c[0] === '>' || c[0] === '=' || c[0] === '|') {
    order = c[0] === '>' ? '>' : c[0] === '|' ? '|' : '<';
    c = c.slice(1);
  }
  c = SINGLE_CHAR_CODES[c] ?? c;
  const m = /^([fiubcOUSaVMm])(\d*)(\[\w+\])?$/.exec(c);
  if (!m) throw malformed(`numpy dtype code ${JSON.stringify(code.slice(0, 40))} at offset ${offset} is not understood`, { offset });
  const kind = m[1] === 'a' ? 'S' : m[1]!;
  let size = m[2] ? Number(m[2]) : kind === 'O' ? 8 : 0;
  if (kind === 'U') size *= 4; // 'U5' = 5 code points of 4 bytes (the BUILD elsize overrides)
  const byteOrder = kind === 'O' || kind === 'S' || kind === 'V' || kind === 'b' || size === 1 ? '|' : order;
  const dt = new PyDType(code, nameFor(kind, size), kind, size, byteOrder);
  if (m[3]) dt.unit = m[3].slice(1, -1);
  return dt;
}

function asInt(v: PyValue | undefined, what: string, offset: number): number {
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw malformed(`${what} ${preview(v)} at offset ${offset} is out of range`, { offset });
    }
    return Number(v);
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw malformed(`${what} at offset ${offset} is not an integer`, { offset });
}

function asText(v: PyValue | undefined): string | null {
  if (typeof v === 'string') return v;
  if (v instanceof PyBytes) return decodeLatin1(v.data);
  return null;
}

/** dtype BUILD state. */
export function applyDTypeState(dt: PyDType, state: PyValue, offset: number): void {
  if (!(state instanceof PyTuple)) throw malformed(`numpy dtype state at offset ${offset} is not a tuple`, { offset });
  const s = state.items;
  // Versions 3/4: (version, endian, subarray, names, fields, elsize, alignment, flags[, metadata]);
  // versions 1/2 lack flags; version 0 lacks the version and names.
  let endian: PyValue | undefined;
  let subarray: PyValue | undefined = null;
  let names: PyValue | undefined = null;
  let fields: PyValue | undefined = null;
  let elsize: PyValue | undefined = -1n;
  if (s.length >= 7 && typeof s[0] === 'bigint') {
    [, endian, subarray, names, fields, elsize] = s;
    if (typeof s[6] === 'bigint') dt.alignment = Number(s[6]);
    if (typeof s[7] === 'bigint') dt.flags = Number(s[7]);
  } else if (s.length === 5) {
    [endian, subarray, fields, elsize] = s;
  } else {
    throw malformed(`numpy dtype state at offset ${offset} has ${s.length} items, which no numpy version writes`, { offset });
  }
  const e = asText(endian ?? null);
  if (e === '>' ) dt.byteOrder = '>';
  else if (e === '<' || e === '=') dt.byteOrder = dt.itemsize <= 1 && dt.kind !== 'U' ? '|' : '<';
  else if (e === '|') dt.byteOrder = '|';
  const size = asInt(elsize ?? -1n, 'dtype elsize', offset);
  if (size >= 0 && (dt.kind === 'U' || dt.kind === 'S' || dt.kind === 'V')) {
    dt.itemsize = size;
  }
  if (subarray instanceof PyTuple && subarray.items[0] instanceof PyDType) {
    const shapeV = subarray.items[1];
    const shape = shapeV instanceof PyTuple ? shapeV.items.map((d) => asInt(d, 'sub-array dimension', offset)) : [asInt(shapeV, 'sub-array dimension', offset)];
    dt.subdtype = { base: subarray.items[0], shape };
  }
  if (names instanceof PyTuple && fields instanceof PyDict) {
    dt.fields = [];
    for (const n of names.items) {
      const name = asText(n);
      const f = name === null ? undefined : fields.get(name);
      if (name === null || !(f instanceof PyTuple) || !(f.items[0] instanceof PyDType)) {
        throw malformed(`numpy structured dtype at offset ${offset} has a malformed field`, { offset });
      }
      dt.fields.push({ name, dtype: f.items[0], offset: asInt(f.items[1], 'field offset', offset) });
    }
    dt.fields.sort((a, b) => a.offset - b.offset);
  }
  // Version 4 keeps datetime metadata as ({}, (unit, num, den, events)) — older as (unit, ...).
  const meta = s.length >= 9 ? s[8] : undefined;
  if ((dt.kind === 'M' || dt.kind === 'm') && meta instanceof PyTuple) {
    const inner = meta.items[1] instanceof PyTuple ? meta.items[1] : meta;
    const unit = asText(inner.items[0]);
    if (unit) dt.unit = unit;
  }
  dt.name = nameFor(dt.kind, dt.itemsize);
}

function checkShape(shapeV: PyValue | undefined, offset: number): number[] {
  const dims = shapeV instanceof PyTuple ? shapeV.items : Array.isArray(shapeV) ? shapeV : typeof shapeV === 'bigint' ? [shapeV] : null;
  if (!dims) throw malformed(`numpy array shape at offset ${offset} is not a tuple`, { offset });
  if (dims.length > limits().maxNdim) throw malformed(`numpy array at offset ${offset} has ${dims.length} dimensions (max ${limits().maxNdim})`, { offset });
  const shape = dims.map((d) => asInt(d, 'array dimension', offset));
  let size = 1;
  for (const d of shape) {
    if (d < 0) throw malformed(`numpy array at offset ${offset} has a negative dimension ${d}`, { offset });
    size *= d;
  }
  if (size > limits().maxArrayElements) {
    throw malformed(`numpy array at offset ${offset} claims ${size} elements (shape ${JSON.stringify(shape)}), over the ${limits().maxArrayElements} limit`, { offset });
  }
  return shape;
}

function rawBytes(v: PyValue | undefined, offset: number): Uint8Array {
  if (v instanceof PyBytes) return v.data;
  if (typeof v === 'string') {
    // Python 2 str data, decoded as latin-1 by the unpickler: map back to the bytes.
    const bytes = encodeLatin1(v);
    if (bytes) return bytes;
  }
  throw malformed(`numpy array data at offset ${offset} is not bytes`, { offset });
}

/** Zero-width string elements one array may hold (numpy writes itemsize ≥ 1 for any real data). */
const ZERO_WIDTH_MAX = 1 << 20;

/** Decode `count` elements of `dt` from raw bytes in C order or Fortran order. */
export function decodeElements(dt: PyDType, bytes: Uint8Array, shape: number[], fortran: boolean, offset: number): ArrayData {
  let count = 1;
  for (const d of shape) count *= d;
  const need = count * dt.itemsize;
  // Zero-width strings ('S0', 'U0') cost no bytes but one JS value each: a ~100-byte pickle must
  // not be able to ask for 2**32 of them.
  if ((dt.kind === 'U' || dt.kind === 'S') && dt.itemsize === 0 && count > ZERO_WIDTH_MAX) {
    throw malformed(`numpy array at offset ${offset} claims ${count} zero-width ${dt.str} strings`, { offset });
  }
  if ((dt.kind === 'U' && dt.itemsize % 4 !== 0) || !Number.isSafeInteger(need)) {
    throw malformed(`numpy array at offset ${offset} has an impossible ${dt.str} layout for ${count} elements`, { offset });
  }
  if (bytes.length !== need) {
    throw malformed(
      `numpy array at offset ${offset} has ${bytes.length} data bytes but shape ${JSON.stringify(shape)} of ${dt.str} needs ${need}`,
      { offset },
    );
  }
  const big = dt.byteOrder === '>';
  let data: ArrayData;
  let lanes = 1;
  const spec = TYPED_ARRAYS[dt.name];
  if (dt.kind === 'U') {
    const chars = dt.itemsize / 4;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out: string[] = new Array(count);
    for (let i = 0; i < count; i++) {
      let s = '';
      for (let k = 0; k < chars; k++) {
        const cp = view.getUint32((i * chars + k) * 4, !big);
        if (cp === 0) break;
        if (cp > 0x10ffff) throw malformed(`numpy unicode array at offset ${offset} holds an invalid code point`, { offset });
        s += String.fromCodePoint(cp);
      }
      out[i] = s;
    }
    data = out;
  } else if (dt.kind === 'S') {
    const out: string[] = new Array(count);
    for (let i = 0; i < count; i++) {
      let rec = bytes.subarray(i * dt.itemsize, (i + 1) * dt.itemsize);
      let end = rec.length;
      while (end > 0 && rec[end - 1] === 0) end--;
      rec = rec.subarray(0, end);
      out[i] = decodeLatin1(rec);
    }
    data = out;
  } else if (spec && dt.name !== 'void') {
    data = typedFromBytes(bytes, dt.name, count, big);
    lanes = spec.lanes;
    if (dt.name === 'datetime64' || dt.name === 'timedelta64') lanes = 1;
  } else {
    // Structured records (e.g. scikit-learn tree nodes) and other raw void data: raw bytes.
    data = bytes;
    lanes = dt.itemsize;
    if (big && dt.fields) {
      throw unsupported(`big-endian structured numpy arrays (offset ${offset}) are not supported`, { offset });
    }
  }
  if (fortran && shape.length > 1) {
    if (Array.isArray(data)) data = fortranToC(data, shape, (n) => new Array<string>(n));
    else {
      const typed = data as NumericTypedArray;
      const ctor = typed.constructor as new (n: number) => NumericTypedArray;
      data = fortranToC(typed, shape, (n) => new ctor(n), lanes) as NumericTypedArray;
    }
  }
  return data;
}

/** ndarray BUILD state `(version, shape, dtype, is_fortran, rawdata)` (or the 4-tuple without version). */
export function applyArrayState(arr: NdArray, state: PyValue, offset: number): void {
  if (!(state instanceof PyTuple)) throw malformed(`numpy array state at offset ${offset} is not a tuple`, { offset });
  const s = state.items.length === 5 ? state.items.slice(1) : state.items;
  if (s.length !== 4) throw malformed(`numpy array state at offset ${offset} has ${state.items.length} items, expected 4 or 5`, { offset });
  const [shapeV, dtype, fortranV, raw] = s;
  if (!(dtype instanceof PyDType)) throw malformed(`numpy array state at offset ${offset} has no dtype`, { offset });
  const shape = checkShape(shapeV, offset);
  const fortran = fortranV === true || fortranV === 1n;
  arr.dtype = dtype;
  arr.shape = shape;
  arr.fortran = fortran && shape.length > 1;
  if (dtype.hasObject) {
    if (!Array.isArray(raw)) throw malformed(`numpy object array at offset ${offset} has no item list`, { offset });
    const size = shape.reduce((a, b) => a * b, 1);
    if (raw.length !== size) {
      throw malformed(`numpy object array at offset ${offset} holds ${raw.length} items but shape ${JSON.stringify(shape)} needs ${size}`, { offset });
    }
    arr.data = raw; // numpy pickles object items in C order whatever the memory layout
    return;
  }
  arr.data = decodeElements(dtype, rawBytes(raw, offset), shape, fortran, offset);
}

/** `_reconstruct(subtype, shape, dtype_char)`: an empty array BUILD fills in. */
export function reconstructArray(args: PyValue[]): NdArray {
  const subtype = args[0];
  const name = subtype && typeof subtype === 'object' && 'qualified' in subtype ? (subtype as { qualified: string }).qualified : 'numpy.ndarray';
  const placeholder = new PyDType('b', 'int8', 'i', 1, '|');
  return new NdArray(placeholder, [0], new Int8Array(0), name);
}

/** `_frombuffer(buffer, dtype, shape, order)` (numpy ≥ 1.16 with pickle protocol 5). */
export function arrayFromBuffer(args: PyValue[], offset: number): NdArray {
  const [buf, dtype, shapeV, orderV] = args;
  if (!(dtype instanceof PyDType)) throw malformed(`_frombuffer at offset ${offset} has no dtype`, { offset });
  const shape = checkShape(shapeV, offset);
  const fortran = asText(orderV ?? null) === 'F';
  const data = decodeElements(dtype, rawBytes(buf, offset), shape, fortran, offset);
  const arr = new NdArray(dtype, shape, data);
  arr.fortran = fortran && shape.length > 1;
  return arr;
}

/** `scalar(dtype, raw)`: a numpy scalar from its bytes. */
export function numpyScalar(args: PyValue[], offset: number): NumpyScalar {
  const [dtype, raw] = args;
  if (!(dtype instanceof PyDType)) throw malformed(`numpy scalar at offset ${offset} has no dtype`, { offset });
  if (dtype.hasObject) return new NumpyScalar(dtype, new Uint8Array(0), raw ?? null);
  const bytes = rawBytes(raw, offset);
  if (bytes.length !== dtype.itemsize) {
    throw malformed(`numpy ${dtype.str} scalar at offset ${offset} has ${bytes.length} bytes, expected ${dtype.itemsize}`, { offset });
  }
  const data = decodeElements(dtype, bytes, [], false, offset);
  let value: PyValue;
  if (Array.isArray(data)) value = (data[0] as string | undefined) ?? '';
  else if (data instanceof Uint8Array && dtype.name === 'void') value = new PyBytes(data);
  else {
    const typed = data as NumericTypedArray;
    const v = typed[0]!;
    switch (dtype.kind) {
      case 'b': value = v !== 0; break;
      case 'i': case 'u': case 'M': case 'm': value = BigInt(v); break;
      case 'c': value = new PyComplex(Number(typed[0]), Number(typed[1])); break;
      default: value = dtype.name === 'float16' ? halfToNumber(v as number) : Number(v);
    }
  }
  return new NumpyScalar(dtype, bytes, value);
}
