/**
 * A small read-only HDF5 access layer over h5wasm (the HDF5 C library compiled to wasm). It
 * runs inside the HDF5 worker (worker.ts): HDF5 can loop forever or abort on damaged
 * metadata, so it never runs on the caller's thread (remote.ts owns the timeout).
 *
 * HDF5 spec: https://docs.hdfgroup.org/hdf5/develop/_f_m_t3.html
 * h5wasm: https://github.com/usnistgov/h5wasm (low-level Module API: get_type, get_names,
 * get_attribute_metadata/data, get_dataset_metadata/data, reclaim_vlen_memory).
 *
 * h5wasm's Node build uses Emscripten's NODERAWFS: its "file system" is the real one, so it
 * opens the private temporary copy remote.ts wrote. The HDF5 library reports failures by
 * printing an error stack on its stderr ("HDF5-DIAG: ..."); we point h5wasm's fd 2 at an
 * unlinked temporary file and quote the innermost line of the stack in MALFORMED errors.
 */
import { fstatSync, ftruncateSync, mkdtempSync, readSync, rmSync, rmdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { malformed, unsupported } from '../../errors.js';
import { limits } from '../../io/limits.js';
import type { DTypeName, NumericTypedArray } from '../../ir/dtype.js';

type H5WasmApi = typeof import('h5wasm/node');
type H5Module = Awaited<H5WasmApi['ready']>;
type H5Metadata = ReturnType<H5Module['get_dataset_metadata']>;

/** HDF5 datatype classes (H5T_class_t) as h5wasm reports them in `metadata.type`. */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_ENUM = 8;
/** String padding (H5T_str_t): 2 = space padded (Fortran style). */
const H5T_STR_SPACEPAD = 2;

let loading: Promise<H5Module> | null = null;

/** Set once the wasm module aborted (WebAssembly.RuntimeError): its state is not trustworthy after that. */
let aborted = false;

export function wasmAborted(): boolean {
  return aborted;
}

/** Emscripten FS stream (NODERAWFS: `nfd` is the real file descriptor). */
interface EmscriptenStream {
  fd: number;
  nfd?: number;
  position: number;
}

/** Emscripten FS calls used to move h5wasm's fd 2 (not in h5wasm's type declarations). */
interface EmscriptenStreams {
  getStream(fd: number): EmscriptenStream | null;
  close(stream: EmscriptenStream): void;
  open(path: string, flags: string): EmscriptenStream;
}

/**
 * The one file HDF5 may open: the private copy being read. HDF5 follows external links, external
 * raw-data storage (EFL) and virtual-dataset sources to any path, relative or absolute, on the
 * real file system (NODERAWFS), so a hostile .h5 could read /etc/... into its weights. Every open
 * of another path fails with EACCES, and the call that tried it fails too (see `Hdf5File.guard`):
 * for EFL, HDF5 would otherwise hand back uninitialised memory as the data.
 */
let allowedPath: string | null = null;
const refusedOpens: string[] = [];
/** Emscripten's errno numbering (not the host's): EACCES. */
const EMSCRIPTEN_EACCES = 2;

interface EmscriptenOpen {
  open(path: unknown, flags: unknown, mode?: unknown): unknown;
  ErrnoError: new (errno: number) => Error;
}

function confineOpens(m: H5Module): void {
  const fs = m.FS as unknown as EmscriptenOpen;
  const original = fs.open;
  fs.open = function confined(this: unknown, path: unknown, flags: unknown, mode?: unknown): unknown {
    if (typeof path === 'string' && allowedPath !== null && resolve(path) === allowedPath) return original.call(this, path, flags, mode);
    refusedOpens.push(String(path));
    throw new fs.ErrnoError(EMSCRIPTEN_EACCES);
  };
}

/** Opens of other files HDF5 attempted since the last call (and forget them). */
function takeRefusedOpens(): string[] {
  return refusedOpens.splice(0, refusedOpens.length);
}

/** h5wasm's stderr, redirected to an unlinked temp file. */
let stderrLog: { stream: EmscriptenStream; nfd: number } | null = null;

function redirectStderr(m: H5Module): void {
  let dir: string | null = null;
  try {
    const fs = m.FS as unknown as EmscriptenStreams;
    dir = mkdtempSync(join(tmpdir(), 'mlpack-h5-'));
    const path = join(dir, 'hdf5-stderr.log');
    const old = fs.getStream(2);
    if (old) fs.close(old);
    const stream = fs.open(path, 'w+');
    if (stream.fd === 2 && typeof stream.nfd === 'number') stderrLog = { stream, nfd: stream.nfd };
    unlinkSync(path);
    rmdirSync(dir);
    dir = null;
  } catch {
    // Keep h5wasm's own stderr: messages are then less precise, nothing else changes.
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Text HDF5 printed since the last call (errors only; HDF5 prints nothing on success). */
function takeStderr(): string {
  if (!stderrLog) return '';
  try {
    const size = fstatSync(stderrLog.nfd).size;
    if (size === 0) return '';
    const n = Math.min(size, 1 << 20);
    const buf = Buffer.alloc(n);
    readSync(stderrLog.nfd, buf, 0, n, size - n);
    // Start the log over so it never grows past one error stack.
    ftruncateSync(stderrLog.nfd, 0);
    stderrLog.stream.position = 0;
    return buf.toString('utf8');
  } catch {
    return '';
  }
}

async function loadH5wasm(): Promise<H5Module> {
  if (!loading) {
    loading = (async () => {
      const api = await import('h5wasm/node');
      const m = await api.ready;
      redirectStderr(m);
      confineOpens(m);
      return m;
    })();
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

/** The innermost HDF5 error description of a captured stack ("truncated file: eof = ..."). */
function diagnosis(lines: readonly string[]): string | null {
  let last: string | null = null;
  for (const block of lines) {
    for (const line of block.split('\n')) {
      const m = /#\d+: .*? in [\w.]+\(\): (.*)$/.exec(line.trim());
      if (m?.[1]) last = m[1];
    }
  }
  return last;
}

export type H5Kind = 'group' | 'dataset' | 'datatype' | 'link' | 'missing';

export interface DatasetInfo {
  path: string;
  dtype: DTypeName;
  shape: number[];
  itemsize: number;
  /** Element count (1 for a scalar dataset). */
  size: number;
  bytes: number;
  /** HDF5 filter names (gzip, shuffle, ...); empty for plain contiguous data. */
  filters: string[];
  chunked: boolean;
}

/** One open HDF5 file. Every method throws MlpackError (MALFORMED) for corrupt structure. */
export class Hdf5File {
  readonly file: string;
  private readonly m: H5Module;
  private readonly id: bigint;
  /** Size of the file in bytes: nothing stored in it can be larger. */
  private readonly size: number;
  private closed = false;

  constructor(m: H5Module, id: bigint, file: string, size: number) {
    this.m = m;
    this.id = id;
    this.file = file;
    this.size = size;
  }

  /** Run one h5wasm call, turning HDF5's printed error stack into a MALFORMED error. */
  private guard<T>(what: string, fn: () => T): T {
    takeStderr();
    takeRefusedOpens();
    let out: T;
    try {
      out = fn();
    } catch (err) {
      refuseForeignFiles(this.file, what);
      const text = err instanceof Error ? err.message : String(err);
      const why = diagnosis([takeStderr(), text]) ?? text.split('\n')[0] ?? 'unknown error';
      throw malformed(`${this.file}: HDF5 could not read ${what}: ${why}`, { file: this.file, field: what, cause: err });
    }
    refuseForeignFiles(this.file, what);
    return out;
  }

  /**
   * What a path names. HDF5's object-type query answers "group" for some paths below a
   * missing group, so every prefix is checked first.
   */
  kind(path: string): H5Kind {
    const m = this.m;
    const parts = path.split('/').filter((p) => p !== '');
    let t = parts.length === 0 ? m.H5G_GROUP : -1;
    for (let i = 1; i <= parts.length; i++) {
      const prefix = `/${parts.slice(0, i).join('/')}`;
      t = this.guard(prefix, () => {
        try {
          return m.get_type(this.id, prefix);
        } catch {
          return -1;
        }
      });
      if (t < 0 || (i < parts.length && t !== m.H5G_GROUP)) return 'missing';
    }
    if (t === m.H5G_GROUP) return 'group';
    if (t === m.H5G_DATASET) return 'dataset';
    if (t === m.H5G_TYPE) return 'datatype';
    if (t === m.H5G_LINK || t === m.H5G_UDLINK) return 'link';
    return 'missing';
  }

  /** Link names of a group, in the order the file's index gives them (alphabetical for h5py). */
  children(path: string): string[] {
    return this.guard(path, () => this.m.get_names(this.id, path, false));
  }

  attributeNames(path: string): string[] {
    return this.guard(`the attributes of ${path}`, () => this.m.get_attribute_names(this.id, path));
  }

  hasAttribute(path: string, name: string): boolean {
    return this.attributeNames(path).includes(name);
  }

  attributeMetadata(path: string, name: string): H5Metadata {
    return this.guard(`attribute ${name} of ${path}`, () => this.m.get_attribute_metadata(this.id, path, name));
  }

  /**
   * A string attribute (scalar or 1-d; fixed-length or variable-length; ASCII or UTF-8) as a
   * list of strings, decoded as UTF-8 whatever the declared charset (h5py 2 stored UTF-8
   * bytes under the ASCII charset). A zero-length non-string attribute (how Keras writes an
   * empty name list: np.asarray([]) is float64) is an empty list. Anything else is null.
   */
  readStrings(path: string, name: string): string[] | null {
    const meta = this.attributeMetadata(path, name);
    if (meta.type !== H5T_STRING) return meta.total_size === 0 ? [] : null;
    const count = meta.total_size;
    const stored = meta.vlen ? count : count * meta.size;
    if (!Number.isSafeInteger(stored) || stored < 0 || stored > this.size) {
      throw malformed(`${this.file}: attribute ${name} of ${path} claims ${count} strings, more than the file can hold`, {
        file: this.file,
        field: name,
      });
    }
    const m = this.m;
    const decoder = new TextDecoder('utf-8');
    if (meta.vlen) {
      const ptr = this.malloc(4 * Math.max(count, 1), `attribute ${name} of ${path}`);
      try {
        this.guard(`attribute ${name} of ${path}`, () => m.get_attribute_data(this.id, path, name, BigInt(ptr)));
        const heap = m.HEAPU8;
        const ptrs = new Uint32Array(heap.buffer.slice(ptr, ptr + 4 * count));
        const out: string[] = [];
        for (const p of ptrs) {
          if (p === 0) {
            out.push('');
            continue;
          }
          let end = p;
          while (end < heap.length && heap[end] !== 0) end++;
          out.push(decoder.decode(heap.subarray(p, end)));
        }
        return out;
      } finally {
        this.guard(`attribute ${name} of ${path}`, () => m.reclaim_vlen_memory(this.id, path, name, BigInt(ptr)));
        m._free(ptr);
      }
    }
    const size = meta.size;
    const nbytes = size * count;
    if (nbytes > limits().maxStringBytes) {
      throw malformed(`${this.file}: attribute ${name} of ${path} claims ${nbytes} bytes of text`, { file: this.file, field: name });
    }
    const ptr = this.malloc(Math.max(nbytes, 1), `attribute ${name} of ${path}`);
    try {
      this.guard(`attribute ${name} of ${path}`, () => m.get_attribute_data(this.id, path, name, BigInt(ptr)));
      const raw = m.HEAPU8.slice(ptr, ptr + nbytes);
      const out: string[] = [];
      for (let i = 0; i < count; i++) {
        let item = raw.subarray(i * size, (i + 1) * size);
        const nul = item.indexOf(0);
        if (nul >= 0) item = item.subarray(0, nul);
        let text = decoder.decode(item);
        if (meta.strpad === H5T_STR_SPACEPAD) text = text.replace(/ +$/, '');
        out.push(text);
      }
      return out;
    } finally {
      m._free(ptr);
    }
  }

  /** A scalar string attribute, or null when absent / not a string. */
  readString(path: string, name: string): string | null {
    if (!this.hasAttribute(path, name)) return null;
    const values = this.readStrings(path, name);
    if (!values || values.length !== 1) return null;
    return values[0] ?? null;
  }

  datasetInfo(path: string): DatasetInfo {
    const meta = this.guard(path, () => this.m.get_dataset_metadata(this.id, path));
    const filters = this.guard(path, () => this.m.get_dataset_filters(this.id, path));
    const shape = meta.shape ?? [];
    if (shape.length > limits().maxNdim) {
      throw malformed(`${this.file}: dataset ${path} has ${shape.length} dimensions`, { file: this.file, field: path });
    }
    let size = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) {
        throw malformed(`${this.file}: dataset ${path} has an invalid dimension ${String(d)}`, { file: this.file, field: path });
      }
      size *= d;
    }
    const dtype = dtypeOf(meta);
    if (dtype === null) {
      throw unsupported(`${this.file}: dataset ${path} has an HDF5 datatype mlpack does not read (class ${meta.type}, ${meta.size} bytes)`, {
        file: this.file,
        field: path,
      });
    }
    return {
      path,
      dtype,
      shape: [...shape],
      itemsize: meta.size,
      size,
      bytes: size * meta.size,
      filters: filters.map((f) => f.name || String(f.id)),
      chunked: meta.chunks !== null,
    };
  }

  /**
   * The whole dataset as a little-endian typed array (h5wasm converts byte order). The size is
   * checked first: uncompressed data must fit in the file, compressed data in the
   * decompression limit.
   */
  readDataset(info: DatasetInfo, fileBytes: number): NumericTypedArray {
    const lim = limits();
    if (info.size > lim.maxArrayElements) {
      throw malformed(`${this.file}: dataset ${info.path} claims ${info.size} elements`, { file: this.file, field: info.path });
    }
    // Filtered (compressed) data follows the codecs' bomb rule: the size cap, and past 64 MiB at
    // most maxCompressionRatio times the file. Unfiltered data must fit in the file: HDF5 would
    // otherwise fill unallocated space with fill values, gigabytes from nothing.
    const cap = info.filters.length > 0 ? Math.min(lim.maxDecompressedBytes, Math.max(FILTER_RATIO_FLOOR, fileBytes * lim.maxCompressionRatio)) : fileBytes;
    if (info.bytes > cap) {
      throw malformed(`${this.file}: dataset ${info.path} claims ${info.bytes} bytes but the file only has ${fileBytes}`, {
        file: this.file,
        field: info.path,
        ...(info.filters.length > 0 ? { suggestion: 'if the file is trusted, raise the limit with --max-decompressed <bytes>' } : {}),
      });
    }
    const m = this.m;
    const ptr = this.malloc(Math.max(info.bytes, 1), `dataset ${info.path}`);
    try {
      this.guard(`dataset ${info.path}`, () => m.get_dataset_data(this.id, info.path, null, null, null, BigInt(ptr)));
      const raw = m.HEAPU8.slice(ptr, ptr + info.bytes);
      return typedArray(info.dtype, raw.buffer, info.size);
    } finally {
      m._free(ptr);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.guard('the file (closing)', () => this.m.close_file(this.id));
    } finally {
      allowedPath = null;
    }
  }

  private malloc(n: number, what: string): number {
    const ptr = this.m._malloc(n);
    if (!ptr) throw malformed(`${this.file}: not enough memory to read ${what} (${n} bytes)`, { file: this.file });
    return ptr;
  }
}

/** Fail the current call when HDF5 tried to open any file but the model. */
function refuseForeignFiles(file: string, what: string): void {
  const tried = takeRefusedOpens();
  if (tried.length === 0) return;
  throw unsupported(
    `${file}: ${what} refers to another file (${JSON.stringify(tried[0]!.slice(0, 200))}) through an HDF5 external link, external storage or a virtual dataset; mlpack reads only the model file itself`,
    { file, field: what },
  );
}

/** Decompressed size below which the ratio rule does not apply (as in src/io/codecs/output.ts). */
const FILTER_RATIO_FLOOR = 64 * 1024 * 1024;

function dtypeOf(meta: H5Metadata): DTypeName | null {
  if (meta.type === H5T_FLOAT) {
    if (meta.size === 8) return 'float64';
    if (meta.size === 4) return 'float32';
    if (meta.size === 2) return 'float16';
    return null;
  }
  if (meta.type === H5T_INTEGER) {
    const s = meta.signed;
    if (meta.size === 8) return s ? 'int64' : 'uint64';
    if (meta.size === 4) return s ? 'int32' : 'uint32';
    if (meta.size === 2) return s ? 'int16' : 'uint16';
    if (meta.size === 1) return s ? 'int8' : 'uint8';
    return null;
  }
  if (meta.type === H5T_ENUM && meta.size === 1) {
    // h5py stores numpy bool as an int8 enum {FALSE: 0, TRUE: 1}
    const members = meta.enum_type?.members ?? {};
    if ('TRUE' in members && 'FALSE' in members) return 'bool';
    return meta.signed ? 'int8' : 'uint8';
  }
  return null;
}

function typedArray(dtype: DTypeName, buffer: ArrayBuffer, n: number): NumericTypedArray {
  switch (dtype) {
    case 'float64': return new Float64Array(buffer, 0, n);
    case 'float32': return new Float32Array(buffer, 0, n);
    case 'float16': return new Uint16Array(buffer, 0, n);
    case 'int64': return new BigInt64Array(buffer, 0, n);
    case 'uint64': return new BigUint64Array(buffer, 0, n);
    case 'int32': return new Int32Array(buffer, 0, n);
    case 'uint32': return new Uint32Array(buffer, 0, n);
    case 'int16': return new Int16Array(buffer, 0, n);
    case 'uint16': return new Uint16Array(buffer, 0, n);
    case 'int8': return new Int8Array(buffer, 0, n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, 0, n);
    default:
      throw new Error(`typedArray: no typed array for ${dtype}`);
  }
}

export interface Superblock {
  offset: number;
  version: number;
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Find the superblock (offset 0, 512, 1024, ...) and check the end-of-file address it records
 * against the bytes we have, so a truncated file gets a precise message before HDF5 sees it.
 * Superblock v0/v1: sizes of offsets at byte 13, then base / free-space / EOF addresses after
 * 24 (v0) or 28 (v1) bytes; v2/v3: size of offsets at byte 9, base / extension / EOF addresses
 * from byte 12.
 */
export function readSuperblock(bytes: Uint8Array, file: string): Superblock {
  for (let at = 0; at + 8 <= bytes.length && at <= 1 << 20; at = at === 0 ? 512 : at * 2) {
    if (!SIGNATURE.every((b, i) => bytes[at + i] === b)) continue;
    const version = bytes[at + 8];
    if (version === undefined) break;
    let sizeOfOffsets: number | undefined;
    let addrStart: number;
    if (version === 0 || version === 1) {
      sizeOfOffsets = bytes[at + 13];
      addrStart = at + (version === 0 ? 24 : 28);
    } else {
      sizeOfOffsets = bytes[at + 9];
      addrStart = at + 12;
    }
    if (sizeOfOffsets === 8 || sizeOfOffsets === 4) {
      const need = addrStart + 3 * sizeOfOffsets;
      if (need > bytes.length) {
        throw malformed(`${file} is truncated inside the HDF5 superblock (${bytes.length} bytes)`, { file, offset: bytes.length });
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const addr = (i: number): number =>
        sizeOfOffsets === 8 ? Number(view.getBigUint64(addrStart + i * 8, true)) : view.getUint32(addrStart + i * 4, true);
      const base = addr(0);
      const eof = addr(2);
      const undefinedAddr = sizeOfOffsets === 8 ? Number(0xffffffffffffffffn) : 0xffffffff;
      if (eof !== undefinedAddr && base + eof > bytes.length) {
        throw malformed(
          `${file} is truncated: its HDF5 superblock says the file ends at byte ${base + eof} but it has ${bytes.length} bytes`,
          { file, offset: bytes.length },
        );
      }
    }
    return { offset: at, version };
  }
  throw malformed(`${file} has no HDF5 superblock signature`, { file, offset: 0 });
}

/**
 * Open the HDF5 file at `path` (a private temporary copy of the user's bytes) read-only.
 * `file` is the name errors use. Call `close()` when done.
 */
export async function openHdf5File(path: string, file: string, size: number): Promise<Hdf5File> {
  const m = await loadH5wasm();
  takeStderr();
  takeRefusedOpens();
  allowedPath = resolve(path);
  let id = -1n;
  let thrown = '';
  try {
    id = m.open(path, m.H5F_ACC_RDONLY, false, -1, -1);
  } catch (err) {
    if (isWasmAbort(err)) aborted = true;
    thrown = err instanceof Error ? err.message : String(err);
  }
  if (id < 0n) {
    allowedPath = null;
    const why = diagnosis([takeStderr(), thrown]) ?? (thrown.split('\n')[0] || 'unknown error');
    throw malformed(`${file}: HDF5 could not open the file: ${why}`, { file });
  }
  return new Hdf5File(m, id, file, size);
}

/** A WebAssembly trap or an Emscripten abort (WebAssembly.RuntimeError). */
function isWasmAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'RuntimeError';
}
