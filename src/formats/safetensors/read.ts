/**
 * Read safetensors files.
 *
 * Spec: https://github.com/huggingface/safetensors#format and `safetensors/src/tensor.rs`
 * (`SafeTensors::read_metadata`, `Metadata::validate`): 8 bytes of little-endian u64 N, then N
 * bytes of UTF-8 JSON (an object starting with '{', possibly padded with trailing spaces),
 * then the data region. Each header entry but `__metadata__` is
 * `{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}` with offsets relative to the
 * data region; sorted by offset, the entries must tile the data region exactly — start at 0, no
 * overlap, no holes, end at the end of the file — and each span must be
 * `prod(shape) * dtype size` bytes. `__metadata__` is a string → string map. Headers above
 * 100 MB are refused, as the reference implementation does.
 *
 * Tensor data is returned as views of the file (typed arrays when aligned), never copied.
 */
import { malformed, unsupported } from '../../errors.js';
import { decodeUtf8 } from '../../io/byte-reader.js';
import { limits } from '../../io/limits.js';
import type { NumericTypedArray } from '../../ir/dtype.js';
import { typedFromBytes } from '../../ir/tensor.js';
import { preview } from '../preview.js';
import { dtypeByCode } from './dtypes.js';
import type { RankedDType } from './dtypes.js';

/** The reference implementation's cap (`MAX_HEADER_SIZE`): a header is metadata, not data. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensor {
  name: string;
  /** mlpack element-type name (`float32`, `bfloat16`, `float8_e4m3fn`, ...). */
  dtype: string;
  /** The file's code (`F32`, `BF16`, ...). */
  code: string;
  shape: number[];
  /** Byte span within the data region. */
  begin: number;
  end: number;
  /** The tensor's bytes: a view of the file. */
  bytes(): Uint8Array;
  /** Elements as a typed array (a view when aligned); raw bytes for formats without one. */
  data(): NumericTypedArray;
}

export interface SafetensorsFile {
  file: string;
  /** N, the JSON header's length in bytes (padding included). */
  headerBytes: number;
  /** File offset of the data region (8 + N). */
  dataOffset: number;
  metadata: Record<string, string> | null;
  /** Tensors in data order (by offset). */
  tensors: SafetensorsTensor[];
  /** Tensors in the header's own order. */
  headerOrder: string[];
  warnings: string[];
}

const SAFE = Number.MAX_SAFE_INTEGER;

export function readSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const fail = (message: string, extra: { offset?: number; field?: string } = {}) => malformed(`${file}: ${message}`, { file, ...extra });
  if (bytes.length < 8) throw fail(`a safetensors file needs an 8-byte header length but the file has ${bytes.length} bytes`, { offset: 0 });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw fail(`header length ${n64} is above the ${MAX_HEADER_BYTES}-byte limit`, { offset: 0 });
  const n = Number(n64);
  if (8 + n > bytes.length) throw fail(`header length ${n} runs past the end of the file (${bytes.length} bytes)`, { offset: 0 });
  const headerText = decodeUtf8(bytes.subarray(8, 8 + n), 'the safetensors JSON header', 8);
  if (!headerText.startsWith('{')) throw fail(`the JSON header does not start with '{'`, { offset: 8 });
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (err) {
    throw fail(`the JSON header is not valid JSON (${(err as Error).message})`, { offset: 8 });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw fail('the JSON header is not an object', { offset: 8 });
  const warnings: string[] = [];
  const dataOffset = 8 + n;
  const dataLength = bytes.length - dataOffset;

  let metadata: Record<string, string> | null = null;
  const entries: Array<{ name: string; dtype: RankedDType; shape: number[]; begin: number; end: number }> = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw fail('__metadata__ is not an object of strings', { field: name });
      const pairs: Array<[string, string]> = [];
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw fail(`__metadata__.${k} is a ${v === null ? 'null' : typeof v}, not a string`, { field: `__metadata__.${k}` });
        pairs.push([k, v]);
      }
      // fromEntries defines own properties: a "__proto__" key stays a key.
      metadata = Object.fromEntries(pairs);
      continue;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw fail(`entry ${JSON.stringify(name)} is not an object`, { field: name });
    const info = raw as Record<string, unknown>;
    for (const k of Object.keys(info)) {
      if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') warnings.push(`tensor ${name} has an unknown header field ${JSON.stringify(k)}`);
    }
    if (typeof info.dtype !== 'string') throw fail(`tensor ${JSON.stringify(name)} has no dtype string`, { field: name });
    const dtype = dtypeByCode(info.dtype);
    if (!dtype) throw unsupported(`${file}: tensor ${JSON.stringify(name)} has dtype ${JSON.stringify(info.dtype)}, which mlpack does not know`, { file, field: name });
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw fail(`tensor ${preview(name)} has shape ${preview(shape)}, not a list of non-negative integers`, { field: name });
    }
    if (shape.length > limits().maxNdim) throw fail(`tensor ${JSON.stringify(name)} has ${shape.length} dimensions, more than the ${limits().maxNdim} allowed`, { field: name });
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      throw fail(`tensor ${preview(name)} has data_offsets ${preview(offsets)}, not two non-negative integers`, { field: name });
    }
    const [begin, end] = offsets as [number, number];
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  const headerOrder = entries.map((e) => e.name);

  // Metadata::validate: sorted by offsets, the spans tile [0, data length) exactly.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  const tensors: SafetensorsTensor[] = [];
  for (const e of entries) {
    const where = { field: e.name, offset: dataOffset + e.begin };
    if (e.end < e.begin) throw fail(`tensor ${JSON.stringify(e.name)} has data_offsets [${e.begin}, ${e.end}], which end before they begin`, where);
    if (e.begin < cursor) throw fail(`tensor ${JSON.stringify(e.name)} at data offset ${e.begin} overlaps the tensor before it, which ends at ${cursor}`, where);
    if (e.begin > cursor) throw fail(`the data region has a hole: bytes ${cursor}..${e.begin} belong to no tensor (next is ${JSON.stringify(e.name)})`, where);
    if (e.end > dataLength) throw fail(`tensor ${JSON.stringify(e.name)} ends at data offset ${e.end}, past the ${dataLength} data bytes the file holds`, where);
    let numel = 1;
    for (const d of e.shape) numel *= d;
    const bits = numel * e.dtype.bits;
    if (!Number.isSafeInteger(numel) || numel > SAFE || !Number.isSafeInteger(bits)) {
      throw fail(`tensor ${JSON.stringify(e.name)} has shape ${JSON.stringify(e.shape)}, too many elements`, where);
    }
    if (bits % 8 !== 0 || bits / 8 !== e.end - e.begin) {
      throw fail(`tensor ${JSON.stringify(e.name)} spans ${e.end - e.begin} bytes but ${numel} ${e.dtype.code} elements need ${bits / 8}`, where);
    }
    cursor = e.end;
    const begin = dataOffset + e.begin;
    const end = dataOffset + e.end;
    const dt = e.dtype;
    tensors.push({
      name: e.name,
      dtype: dt.name,
      code: dt.code,
      shape: [...e.shape],
      begin: e.begin,
      end: e.end,
      bytes: () => bytes.subarray(begin, end),
      data: () => (dt.typed === null ? bytes.subarray(begin, end) : typedFromBytes(bytes.subarray(begin, end), dt.typed, numel)),
    });
  }
  if (cursor !== dataLength) {
    throw fail(`the tensors cover ${cursor} of the ${dataLength} data bytes; the rest belongs to no tensor`, { offset: dataOffset + cursor });
  }
  return { file, headerBytes: n, dataOffset, metadata, tensors, headerOrder, warnings };
}
