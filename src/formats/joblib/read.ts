/**
 * joblib's additions to pickle (joblib `numpy_pickle.py`, `numpy_pickle_compat.py`):
 *
 * - NumpyArrayWrapper (joblib ≥ 0.10): BUILD gives `{subclass, shape, order, dtype, allow_mmap,
 *   numpy_array_alignment_bytes?}`; the array's raw bytes follow immediately in the stream, after
 *   a 1-byte padding length and that many 0xFF bytes when alignment is on. Object arrays are a
 *   nested plain pickle stream at that point instead.
 * - NDArrayWrapper (joblib < 0.10): the array lives in a sidecar `.npy` file next to the pickle.
 * - ZNDArrayWrapper (joblib < 0.10, compressed): a sidecar 'ZF' zfile with the raw data.
 * - The 'ZF' zfile container itself: `ZF` + hex length padded to 19 chars (+ optional space) + zlib.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { inflateSync } from 'node:zlib';
import { MlpackError, malformed, unsupported } from '../../errors.js';
import { limits } from '../../io/limits.js';
import { NdArray, PyBytes, PyDType, PyGlobal, PyObject, PyTuple } from '../../ir/object-graph.js';
import type { PyValue } from '../../ir/object-graph.js';
import { applyArrayState, decodeElements, reconstructArray } from '../pickle/numpy.js';
import { Unpickler } from '../pickle/unpickler.js';
import type { UnpickleHooks } from '../pickle/unpickler.js';
import { preview } from '../preview.js';
import { readNpy } from './npy.js';

export interface JoblibContext {
  /** Folder of the pickle, for legacy sidecar files; null when reading from stdin or memory. */
  dir: string | null;
  file: string;
}

/** joblib module paths, including the copy scikit-learn ≤ 0.22 vendored as sklearn.externals.joblib. */
function joblibClass(obj: PyObject): string | null {
  const name = obj.className;
  const m = /^(?:sklearn\.externals\.)?joblib\.(numpy_pickle(?:_compat)?)\.(NumpyArrayWrapper|NDArrayWrapper|ZNDArrayWrapper)$/.exec(name);
  return m ? m[2]! : null;
}

function shapeOf(v: PyValue | undefined, offset: number): number[] {
  const dims = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : null;
  if (!dims || dims.length > limits().maxNdim) throw malformed(`joblib array wrapper at offset ${offset} has a malformed shape`, { offset });
  return dims.map((d) => {
    if (typeof d !== 'bigint' || d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw malformed(`joblib array wrapper at offset ${offset} has a malformed dimension`, { offset });
    }
    return Number(d);
  });
}

function readInlineArray(w: PyObject, u: Unpickler): PyValue {
  const r = u.reader;
  const dtype = w.attr('dtype');
  if (!(dtype instanceof PyDType)) throw malformed(`joblib NumpyArrayWrapper at offset ${w.offset} has no dtype`, { offset: w.offset });
  const shape = shapeOf(w.attr('shape'), w.offset);
  const order = w.attr('order');
  const subclass = w.attr('subclass');
  if (dtype.hasObject) {
    // joblib pickles object arrays as a separate plain pickle stream right here.
    const nested = new Unpickler(r, { globals: u.globals, budget: u.budget, location: `joblib object array at offset ${r.offset}` });
    return nested.load();
  }
  const align = w.attr('numpy_array_alignment_bytes');
  if (align !== undefined && align !== null) {
    const pad = r.byte('joblib alignment padding length');
    r.skip(pad, 'joblib alignment padding');
  }
  let count = 1;
  for (const d of shape) count *= d;
  if (count > limits().maxArrayElements) {
    throw malformed(`joblib array at offset ${r.offset} claims ${count} elements, over the ${limits().maxArrayElements} limit`, { offset: r.offset });
  }
  const at = r.offset;
  const bytes = r.bytes(count * dtype.itemsize, `joblib array data (${JSON.stringify(shape)} ${dtype.str})`);
  const arr = new NdArray(dtype, shape, decodeElements(dtype, bytes, shape, order === 'F', at));
  arr.fortran = order === 'F' && shape.length > 1;
  if (subclass instanceof PyGlobal) arr.subclass = subclass.qualified;
  return arr;
}

function sidecarPath(ctx: JoblibContext, w: PyObject): string {
  const name = w.attr('filename');
  if (typeof name !== 'string') throw malformed(`joblib array wrapper at offset ${w.offset} has no file name`, { offset: w.offset });
  if (name === '' || basename(name) !== name || name === '..' || name === '.' || name.includes('\0')) {
    throw malformed(`joblib sidecar name ${preview(name)} at offset ${w.offset} points outside the model's folder`, { offset: w.offset });
  }
  if (ctx.dir === null) {
    throw unsupported(`${ctx.file} keeps arrays in sidecar files (joblib < 0.10), which need the file on disk, not a stream`, { file: ctx.file });
  }
  return join(ctx.dir, name);
}

/**
 * A sidecar's bytes. Like ONNX external data it must stay in the model's folder: a symlink
 * leading elsewhere is refused, and so is anything but a regular file (a FIFO would block the
 * read forever, a device would never end) or a file over the decompression limit.
 */
function readSidecar(path: string, ctx: JoblibContext): Uint8Array {
  const name = basename(path);
  const refuse = (why: string) => malformed(`${ctx.file} refers to the sidecar file ${preview(name)}, which ${why}`, { file: ctx.file });
  try {
    const dir = realpathSync(ctx.dir ?? '.');
    const real = realpathSync(path);
    const rel = relative(dir, real);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith(sep)) throw refuse('resolves outside the model folder');
    const st = statSync(real);
    if (!st.isFile()) throw refuse('is not a regular file');
    if (st.size > limits().maxDecompressedBytes) throw refuse(`holds ${st.size} bytes, over the ${limits().maxDecompressedBytes}-byte limit`);
    return readFileSync(real);
  } catch (err) {
    if (err instanceof MlpackError) throw err;
    throw refuse('cannot be read');
  }
}

/** Decompress a joblib < 0.10 'ZF' zfile (`ZF` + 19-char hex length + optional space + zlib data). */
export function readZfile(bytes: Uint8Array, file: string): Uint8Array {
  const header = Buffer.from(bytes.subarray(2, 21)).toString('latin1');
  const m = /^0x([0-9a-fA-F]+)\s*$/.exec(header);
  if (bytes[0] !== 0x5a || bytes[1] !== 0x46 || !m) throw malformed(`${file} is not a joblib zfile (bad 'ZF' header)`, { file, offset: 0 });
  const length = parseInt(m[1]!, 16);
  if (length > limits().maxDecompressedBytes) {
    throw malformed(`${file} declares ${length} decompressed bytes, over the ${limits().maxDecompressedBytes}-byte limit`, { file, offset: 2 });
  }
  const start = bytes[21] === 0x20 ? 22 : 21;
  let out: Buffer;
  try {
    out = inflateSync(bytes.subarray(start), { maxOutputLength: Math.max(1, length) });
  } catch (err) {
    throw malformed(`${file}: corrupt zlib data in joblib zfile: ${(err as Error).message}`, { file, offset: start });
  }
  if (out.length !== length) throw malformed(`${file}: zfile holds ${out.length} bytes but its header says ${length}`, { file, offset: 2 });
  return out;
}

export function joblibHooks(ctx: JoblibContext): UnpickleHooks {
  // A sidecar named by many wrappers is read and decoded once: the pickle costs a few bytes per
  // wrapper, a re-read costs the whole file each time.
  const npys = new Map<string, NdArray>();
  const zfiles = new Map<string, Uint8Array>();
  return {
    afterBuild(obj, u) {
      switch (joblibClass(obj)) {
        case 'NumpyArrayWrapper':
          return readInlineArray(obj, u);
        case 'NDArrayWrapper': {
          const path = sidecarPath(ctx, obj);
          let arr = npys.get(path);
          if (!arr) {
            arr = readNpy(readSidecar(path, ctx), basename(path), u.globals, u.budget);
            npys.set(path, arr);
          }
          const subclass = obj.attr('subclass');
          if (subclass instanceof PyGlobal) arr.subclass = subclass.qualified;
          return arr;
        }
        case 'ZNDArrayWrapper': {
          const path = sidecarPath(ctx, obj);
          let data = zfiles.get(path);
          if (!data) {
            data = readZfile(readSidecar(path, ctx), basename(path));
            zfiles.set(path, data);
          }
          const initArgs = obj.attr('init_args');
          const state = obj.attr('state');
          if (!(initArgs instanceof PyTuple) || !(state instanceof PyTuple)) {
            throw malformed(`joblib ZNDArrayWrapper at offset ${obj.offset} has malformed state`, { offset: obj.offset });
          }
          const arr = reconstructArray(initArgs.items);
          applyArrayState(arr, new PyTuple([...state.items, new PyBytes(data)]), obj.offset);
          return arr;
        }
        default:
          return undefined;
      }
    },
  };
}
