/**
 * The `.npy` format (numpy `lib/format.py`, NEP 1): `\x93NUMPY`, version, header length, a Python
 * dict literal `{'descr': ..., 'fortran_order': ..., 'shape': ...}`, then the data. joblib < 0.10
 * kept each array in such a sidecar file next to the pickle (NDArrayWrapper).
 */
import { malformed, unsupported } from '../../errors.js';
import { ByteReader, decodeLatin1 } from '../../io/byte-reader.js';
import { limits } from '../../io/limits.js';
import { NdArray, PyDType } from '../../ir/object-graph.js';
import type { PyValue } from '../../ir/object-graph.js';
import { decodeElements, dtypeFromCode } from '../pickle/numpy.js';
import { Unpickler } from '../pickle/unpickler.js';
import type { DecodeBudget, GlobalRef } from '../pickle/unpickler.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

type Literal = string | number | boolean | null | Literal[] | { [k: string]: Literal };

/** A tiny parser for the literal subset numpy writes in headers (no evaluation, obviously). */
function parseLiteral(text: string, file: string): Literal {
  let i = 0;
  const fail = (what: string): never => {
    throw malformed(`.npy header of ${file} is malformed near character ${i}: ${what}`, { file });
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (depth: number): Literal => {
    if (depth > 32) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{' || c === '[' || c === '(') {
      const close = c === '{' ? '}' : c === '[' ? ']' : ')';
      i++;
      const items: Literal[] = [];
      // No prototype: a '__proto__' key in a hostile header is just a key.
      const obj: Record<string, Literal> = Object.create(null) as Record<string, Literal>;
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          break;
        }
        const v = value(depth + 1);
        ws();
        if (c === '{') {
          if (text[i] !== ':') fail('expected ":"');
          i++;
          if (typeof v !== 'string' && typeof v !== 'number') fail('a dict key that is not a string or number');
          obj[String(v)] = value(depth + 1);
          ws();
        } else items.push(v);
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected "," or "${close}"`);
      }
      return c === '{' ? obj : items;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i));
    if (!m) return fail('unexpected token');
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace('L', ''));
  };
  return value(0);
}

function dtypeFromDescr(descr: Literal, file: string): PyDType {
  if (typeof descr === 'string') return dtypeFromCode(descr, 0);
  if (Array.isArray(descr)) {
    const fields: Array<{ name: string; dtype: PyDType; offset: number }> = [];
    let offset = 0;
    for (const f of descr) {
      if (!Array.isArray(f) || typeof f[0] !== 'string' || f.length < 2) {
        throw malformed(`.npy header of ${file} has a malformed structured descr`, { file });
      }
      const dt = dtypeFromDescr(f[1]!, file);
      if (f[2] !== undefined) throw unsupported(`.npy sub-array fields in ${file} are not supported`, { file });
      fields.push({ name: f[0], dtype: dt, offset });
      offset += dt.itemsize;
    }
    const dt = new PyDType(`V${offset}`, 'void', 'V', offset, '|');
    dt.fields = fields;
    return dt;
  }
  throw malformed(`.npy header of ${file} has no usable descr`, { file });
}

/** Parse an .npy file; object arrays are pickles and are decoded (never executed) too. */
export function readNpy(bytes: Uint8Array, file: string, globals: GlobalRef[], budget?: DecodeBudget): NdArray {
  const r = new ByteReader(bytes);
  const magic = r.bytes(6, '.npy magic');
  if (!MAGIC.every((b, k) => magic[k] === b)) throw malformed(`${file} is not an .npy file`, { file, offset: 0 });
  const major = r.byte('.npy version');
  r.byte('.npy minor version');
  const headerLen = major === 1 ? r.uint16('.npy header length') : r.uint32('.npy header length');
  const header = parseLiteral(decodeLatin1(r.bytes(headerLen, '.npy header')), file);
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw malformed(`.npy header of ${file} is not a dict`, { file });
  }
  const dtype = dtypeFromDescr(header['descr'] ?? null, file);
  const shapeL = header['shape'];
  if (!Array.isArray(shapeL) || shapeL.length > limits().maxNdim || !shapeL.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw malformed(`.npy header of ${file} has a malformed shape`, { file });
  }
  const shape = shapeL as number[];
  const elements = shape.reduce((a, b) => a * b, 1);
  if (elements > limits().maxArrayElements) {
    throw malformed(`.npy file ${file} claims ${elements} elements, over the ${limits().maxArrayElements} limit`, { file });
  }
  const fortran = header['fortran_order'] === true;
  if (dtype.hasObject) {
    // numpy writes object arrays as a pickle of the whole array.
    const value: PyValue = new Unpickler(r, { globals, location: `${file} (object array)`, ...(budget ? { budget } : {}) }).load();
    if (value instanceof NdArray) return value;
    if (Array.isArray(value)) return new NdArray(dtype, shape, value);
    throw malformed(`object .npy ${file} does not hold an array`, { file });
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const data = decodeElements(dtype, r.bytes(count * dtype.itemsize, '.npy data'), shape, fortran, r.offset);
  const arr = new NdArray(dtype, shape, data);
  arr.fortran = fortran && shape.length > 1;
  return arr;
}
