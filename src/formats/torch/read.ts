/**
 * Read PyTorch checkpoints without Python and without running their pickles.
 *
 * Spec: PyTorch's own reader and writer — https://github.com/pytorch/pytorch/blob/main/torch/serialization.py,
 * `torch/_utils.py` (the `_rebuild_*` functions), `caffe2/serialize/inline_container.h` (the zip
 * record layout). Layouts:
 * - zip (`torch.save` since 1.6): members `<prefix>/data.pkl` (the object, protocol 2 by
 *   default), `<prefix>/data/<key>` (one member per storage, raw little-endian elements, stored
 *   and 64-byte aligned), `<prefix>/version`, `<prefix>/byteorder` (newer torch). The prefix is
 *   the first member's top folder (torch names it after the file's stem). Persistent ids are
 *   `('storage', storage_type, key, location, numel)`.
 * - TorchScript (`torch.jit.save`): the same zip layout plus `constants.pkl` (storages under
 *   `constants/`) and `code/` (TorchScript source); data.pkl holds `__torch__.*` objects.
 * - legacy (`_use_new_zipfile_serialization=False`): five pickles in a row — the magic number
 *   0x1950a86a20f9469cfc6c, the protocol version 1001, sys_info, the object (persistent ids
 *   `('storage', storage_type, root_key, location, numel, view_metadata)` and
 *   `('module', cls, source_file, source)`), the list of storage keys — then, per key in that
 *   order, an 8-byte little-endian element count and the raw elements.
 *
 * Tensors arrive as inert `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`
 * records (and `_rebuild_parameter(tensor, ...)` around them); they are turned into
 * TorchTensor descriptions whose data is read lazily, as views of the file where possible.
 */
import { MlpackError, malformed, unsupported } from '../../errors.js';
import { ByteReader, decodeLatin1 } from '../../io/byte-reader.js';
import { limits } from '../../io/limits.js';
import type { Source } from '../../io/source.js';
import { isZip, openZip } from '../../io/zip.js';
import type { ZipArchive, ZipEntry } from '../../io/zip.js';
import { NdArray, PyBytes, PyDict, PyGlobal, PyObject, PySet, PyTuple } from '../../ir/object-graph.js';
import type { PyValue } from '../../ir/object-graph.js';
import type { Finding } from '../../api/types.js';
import { checkDepth } from '../pickle/depth.js';
import { DecodeBudget, Unpickler, canonicalGlobal } from '../pickle/unpickler.js';
import { preview } from '../preview.js';
import type { GlobalRef, UnpickleHooks } from '../pickle/unpickler.js';
import { ELEMENT_TYPES, storageType, torchDtype } from './dtypes.js';
import type { ElementType } from './dtypes.js';
import { checkTensorBounds, numelOf } from './tensor.js';
import type { TorchStorage, TorchTensor } from './tensor.js';

/** 0x1950a86a20f9469cfc6c: the legacy format's leading pickled integer. */
export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
export const LEGACY_PROTOCOL_VERSION = 1001n;

export type TorchContainerKind = 'zip' | 'legacy' | 'torchscript';
export type TorchModelKind = 'state_dict' | 'checkpoint' | 'module' | 'torchscript' | 'unknown';

export interface TorchFile {
  file: string;
  container: TorchContainerKind;
  /** Zip archives: the folder every record sits in. */
  prefix: string | null;
  /** Zip archives: every member name, in central-directory order. */
  members: string[] | null;
  byteorder: 'little' | 'big';
  /** Pickle protocol of the object pickle. */
  protocol: number;
  /** Zip `version` record (the serialization format version, e.g. "3"). */
  formatVersion: string | null;
  legacy: { protocolVersion: number; littleEndian: boolean | null; typeSizes: Record<string, number> | null } | null;
  /** The decoded object (data.pkl, or the legacy object pickle). */
  root: PyValue;
  kind: TorchModelKind;
  /** Class of the root object (`collections.OrderedDict`, `builtins.dict`, `__main__.Net`, ...). */
  rootClass: string;
  /** Top-level keys (state dicts/checkpoints) or state_dict keys (modules, TorchScript). */
  keys: string[];
  tensors: TorchTensor[];
  storages: TorchStorage[];
  /** Checkpoint entries that hold tensors (what `--key` can select). */
  candidates: string[];
  /** Globals the object (and constants) pickles import; the safety report comes from scan.ts. */
  globals: GlobalRef[];
  /** Pickles that could not be decoded (secondary ones: constants, debug info). */
  pickleErrors: Finding[];
  /** TorchScript: code files under `code/`, relative to the prefix. */
  code: string[];
  /** TorchScript: the decoded constants.pkl tuple. */
  constants: PyValue | undefined;
  /** TorchScript: tensors of constants.pkl, named `constants.<index>`. */
  constantTensors: TorchTensor[];
  warnings: string[];
}

/** Geometry of one rebuilt tensor, before it gets a name. */
type Geometry = Omit<TorchTensor, 'name'>;

interface StorageRef {
  storage: TorchStorage;
  /** Legacy storage views: element offset into the root storage and view length. */
  viewOffset: number;
  viewNumel: number | null;
}

/** MlpackErrors from deep inside a pickle get the file and member named; anything else is a bug. */
function inMember(file: string, member: string, err: unknown): never {
  if (err instanceof MlpackError) {
    if (err.message.startsWith(`${file}:`)) {
      err.file ??= file;
      throw err;
    }
    throw new MlpackError(`${file}: ${member}: ${err.message}`, {
      code: err.code,
      file,
      offset: err.offset,
      field: member,
      suggestion: err.suggestion,
      cause: err,
    });
  }
  throw err;
}

function items(v: PyValue | undefined): PyValue[] | null {
  if (v instanceof PyTuple) return v.items;
  if (Array.isArray(v)) return v;
  return null;
}

function text(v: PyValue | undefined): string | null {
  if (typeof v === 'string') return v;
  if (v instanceof PyBytes) return decodeLatin1(v.data);
  return null;
}

function int(v: PyValue | undefined): number | null {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

const BIG_KEY = 1n << 256n;

/** Longest rendering of a tuple key: nested tuples shared through the memo would otherwise double per level. */
const TUPLE_KEY_CHARS = 1024;

/** A dict key as Python's `str()` would print it in a key path (tuples cut at 1024 characters). */
export function keyName(k: PyValue): string {
  return keyText(k, { left: TUPLE_KEY_CHARS });
}

function keyText(k: PyValue, budget: { left: number }): string {
  if (typeof k === 'string') return k;
  // Decimal printing is superlinear: a memo-shared 8-Mbit key must not be printed per reference.
  if (typeof k === 'bigint') return k < -BIG_KEY || k > BIG_KEY ? preview(k) : k.toString();
  if (typeof k === 'number') return Number.isInteger(k) ? `${k}.0` : String(k);
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (k === null) return 'None';
  if (k instanceof PyBytes) {
    const cut = k.data.length > TUPLE_KEY_CHARS;
    return `b'${decodeLatin1(cut ? k.data.subarray(0, TUPLE_KEY_CHARS) : k.data)}${cut ? '…' : ''}'`;
  }
  if (k instanceof PyTuple) {
    let out = '(';
    for (let i = 0; i < k.items.length; i++) {
      if (budget.left <= 0) return `${out}…)`;
      const part = `${i ? ', ' : ''}${keyText(k.items[i]!, budget)}`;
      budget.left -= part.length;
      out += part;
    }
    return `${out}${k.items.length === 1 ? ',' : ''})`;
  }
  if (k instanceof PyGlobal) return k.qualified;
  return '?';
}

function className(v: PyValue): string {
  if (v instanceof PyDict) return v.pyClass ?? 'builtins.dict';
  if (v instanceof PyObject) return v.className;
  if (Array.isArray(v)) return 'builtins.list';
  if (v instanceof PyTuple) return 'builtins.tuple';
  if (v === null) return 'builtins.NoneType';
  return `builtins.${typeof v === 'bigint' ? 'int' : typeof v === 'number' ? 'float' : typeof v === 'string' ? 'str' : typeof v === 'boolean' ? 'bool' : 'object'}`;
}

/** torch's own module renames at load time (`load_module_mapping` in torch/serialization.py). */
function qualifiedCallable(v: PyValue): string | null {
  if (!(v instanceof PyGlobal)) return null;
  const [module, name] = canonicalGlobal(v.module, v.name);
  return `${module === 'torch.tensor' ? 'torch._tensor' : module}.${name}`;
}

const REBUILD_V1 = 'torch._utils._rebuild_tensor';
const REBUILD_V2 = 'torch._utils._rebuild_tensor_v2';
const REBUILD_V3 = 'torch._utils._rebuild_tensor_v3';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const REBUILD_PARAMETER_STATE = 'torch._utils._rebuild_parameter_with_state';
const REBUILD_FROM_TYPE = new Set(['torch._tensor._rebuild_from_type_v2', 'torch._tensor._rebuild_from_type']);
/** Tensor kinds whose values need more than a storage (scales, indices, nested sizes). */
const OTHER_TENSORS = new Set([
  'torch._utils._rebuild_qtensor',
  'torch._utils._rebuild_sparse_tensor',
  'torch._utils._rebuild_sparse_csr_tensor',
  'torch._utils._rebuild_nested_tensor',
  'torch._utils._rebuild_meta_tensor_no_storage',
  'torch._utils._rebuild_wrapper_subclass',
  'torch._utils._rebuild_xla_tensor',
  'torch._utils._rebuild_mlc_tensor',
]);

/**
 * Turns the inert rebuild records of one decoded pickle into tensor geometries and names them
 * by key path.
 */
class TensorCollector {
  private readonly memo = new Map<PyObject, Geometry | null>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly refs: Map<PyObject, StorageRef>,
    private readonly warnings: string[],
  ) {}

  /** The tensor a value rebuilds to, or null when it is not a (readable) tensor. */
  geometry(v: PyValue, path: string): Geometry | null {
    if (!(v instanceof PyObject)) return null;
    if (this.memo.has(v)) return this.memo.get(v)!;
    const g = this.rebuild(v, path);
    this.memo.set(v, g);
    return g;
  }

  isTensor(v: PyValue): boolean {
    if (!(v instanceof PyObject)) return false;
    const q = qualifiedCallable(v.callable);
    return q !== null && (q === REBUILD_V1 || q === REBUILD_V2 || q === REBUILD_V3 || q === REBUILD_PARAMETER ||
      q === REBUILD_PARAMETER_STATE || REBUILD_FROM_TYPE.has(q) || OTHER_TENSORS.has(q) || q === 'torch._utils._rebuild_device_tensor_from_numpy');
  }

  private warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.warnings.push(message);
  }

  private bad(path: string, what: string): MlpackError {
    return malformed(`${this.file}: tensor ${path || '(root)'} ${what}`, { file: this.file, field: path });
  }

  private rebuild(obj: PyObject, path: string): Geometry | null {
    const q = qualifiedCallable(obj.callable);
    if (q === null) return null;
    const a = obj.args;
    if (q === REBUILD_PARAMETER || q === REBUILD_PARAMETER_STATE) {
      const inner = this.geometry(a[0] ?? null, path);
      if (!inner) return null;
      return { ...inner, parameter: true, requiresGrad: a[1] === true };
    }
    if (REBUILD_FROM_TYPE.has(q)) {
      // _rebuild_from_type_v2(func, new_type, args, state): a tensor subclass around func(*args).
      const func = a[0];
      const args = items(a[2]);
      if (!(func instanceof PyGlobal) || !args) throw this.bad(path, `is rebuilt by ${q} with arguments mlpack cannot read`);
      return this.geometry(new PyObject(func, args, 'reduce', obj.offset), path);
    }
    if (q === 'torch._utils._rebuild_device_tensor_from_numpy') return this.fromNumpy(a, path);
    if (OTHER_TENSORS.has(q)) {
      this.warn(`tensor ${path || '(root)'} is rebuilt by ${q}, which mlpack does not read; it is left out of the tensor list`);
      return null;
    }
    if (q !== REBUILD_V1 && q !== REBUILD_V2 && q !== REBUILD_V3) return null;

    const minArgs = q === REBUILD_V3 ? 7 : 4;
    if (a.length < minArgs) throw this.bad(path, `is rebuilt by ${q} with ${a.length} arguments, fewer than the ${minArgs} it takes`);
    const storageArg = a[0];
    const ref = storageArg instanceof PyObject ? this.refs.get(storageArg) : undefined;
    if (!ref) throw this.bad(path, 'has a storage argument that is not a persistent storage reference');
    const storageOffset = int(a[1]);
    const shape = this.intTuple(a[2], path, 'size');
    const stride = this.intTuple(a[3], path, 'stride');
    if (storageOffset === null) throw this.bad(path, `has storage offset ${preview(a[1])}, not an integer`);
    let type: ElementType = ref.storage.type;
    if (q === REBUILD_V3) {
      const d = a[6];
      const dtype = d instanceof PyGlobal ? torchDtype(d.module, d.name) : null;
      if (!dtype) throw this.bad(path, `has dtype ${preview(d)}, which mlpack does not know`);
      type = dtype;
    }
    const geometry: Geometry = {
      type,
      shape,
      stride,
      storageOffset,
      storage: ref.storage,
      viewOffset: 0,
      requiresGrad: q === REBUILD_V1 ? false : a[4] === true,
      parameter: false,
    };
    const { itemsize } = ELEMENT_TYPES[type]!;
    const storageItem = ELEMENT_TYPES[ref.storage.type]!.itemsize;
    if (ref.viewOffset !== 0 || ref.viewNumel !== null) {
      // A legacy storage view: a window of the root storage, in the root's elements.
      const viewStart = ref.viewOffset * storageItem;
      if (viewStart % itemsize !== 0) throw this.bad(path, `views storage ${ref.storage.key} at byte ${viewStart}, not a multiple of its ${itemsize}-byte elements`);
      geometry.viewOffset = viewStart / itemsize;
    }
    const named: TorchTensor = { ...geometry, name: path };
    checkTensorBounds(named, this.file);
    if (ref.viewNumel !== null) {
      const viewEnd = (ref.viewOffset + ref.viewNumel) * storageItem;
      const last = numelOf(shape) === 0 ? 0 : (geometry.viewOffset + storageOffset + shape.reduce((s, n, d) => s + (n - 1) * stride[d]!, 0) + 1) * itemsize;
      if (last > viewEnd) throw this.bad(path, `reaches byte ${last} of storage ${ref.storage.key}, past the end of its view (${viewEnd})`);
    }
    return geometry;
  }

  /** `_rebuild_device_tensor_from_numpy(ndarray, dtype, device, requires_grad)`. */
  private fromNumpy(a: PyValue[], path: string): Geometry | null {
    const arr = a[0];
    if (!(arr instanceof NdArray) || Array.isArray(arr.data) || !ArrayBuffer.isView(arr.data)) {
      this.warn(`tensor ${path || '(root)'} is rebuilt from a numpy array mlpack cannot read; it is left out of the tensor list`);
      return null;
    }
    const type = arr.dtype.name as ElementType;
    const info = ELEMENT_TYPES[type];
    if (!info) return null;
    const data = arr.data;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const shape = [...arr.shape];
    const stride: number[] = new Array(shape.length);
    let s = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      stride[d] = s;
      s *= shape[d]!;
    }
    return {
      type,
      shape,
      stride,
      storageOffset: 0,
      storage: { key: `numpy:${path}`, type, nbytes: bytes.length, location: text(a[2]) ?? 'cpu', where: 'an inline numpy array', bigEndian: false, bytes: () => bytes },
      viewOffset: 0,
      requiresGrad: a[3] === true,
      parameter: false,
    };
  }

  private intTuple(v: PyValue | undefined, path: string, what: string): number[] {
    // torch.Size((...)) arrives as a REDUCE record in some old checkpoints.
    let list = items(v);
    if (!list && v instanceof PyObject && qualifiedCallable(v.callable) === 'torch.Size') list = items(v.args[0]);
    if (!list) throw this.bad(path, `has a ${what} that is not a tuple`);
    if (list.length > limits().maxNdim) throw this.bad(path, `has ${list.length} dimensions, more than the ${limits().maxNdim} allowed`);
    return list.map((x, d) => {
      const n = int(x);
      if (n === null) throw this.bad(path, `has ${what}[${d}] = ${preview(x)}, not an integer`);
      return n;
    });
  }

  /** Name every tensor by its key path (dict keys, list indices, module state_dict names). */
  collect(root: PyValue): TorchTensor[] {
    const out: TorchTensor[] = [];
    const seen = new Set<object>();
    const max = limits().maxDepth;
    // Names share their prefixes until printed; what they would add up to is bounded here, before
    // a deep chain of long (memo-shared) keys reaches V8's string limit or fills the output.
    const maxChars = limits().maxNameChars;
    let chars = 0;
    const join = (path: string, key: string): string => {
      if (path.length + key.length >= maxChars) {
        throw malformed(`${this.file}: a key path is longer than ${maxChars} characters (nesting ${preview(path, 40)}…)`, { file: this.file });
      }
      return path === '' ? key : `${path}.${key}`;
    };
    const push = (path: string, g: Geometry) => {
      chars += path.length;
      if (chars > maxChars) {
        throw malformed(`${this.file}: the tensor names add up to more than ${maxChars} characters; the object graph repeats deep paths`, {
          file: this.file,
        });
      }
      out.push({ ...g, name: path === '' ? 'tensor' : path });
    };

    const walk = (v: PyValue | undefined, path: string, depth: number): void => {
      if (v === null || v === undefined || typeof v !== 'object') return;
      if (depth > max) throw malformed(`${this.file}: object nesting at ${path} is deeper than ${max} levels`, { file: this.file, field: path });
      if (v instanceof PyObject) {
        const g = this.geometry(v, path);
        if (g) return void push(path, g);
        if (this.isTensor(v) || seen.has(v)) return;
        seen.add(v);
        if (isModule(v)) return walkModule(v, path, depth);
        walkObject(v, path, depth);
        return;
      }
      if (seen.has(v)) return;
      if (v instanceof PyDict) {
        seen.add(v);
        for (const [k, val] of v.entries) walk(val, join(path, keyName(k)), depth + 1);
      } else if (Array.isArray(v) || v instanceof PyTuple) {
        seen.add(v);
        const list = Array.isArray(v) ? v : v.items;
        list.forEach((item, i) => walk(item, join(path, String(i)), depth + 1));
      }
    };

    // Plain objects: their BUILD state's attributes, then any SETITEMS/APPENDS they received.
    const walkObject = (o: PyObject, path: string, depth: number): void => {
      const s = o.state;
      if (s instanceof PyDict) walk(s, path, depth + 1);
      else if (s instanceof PyTuple && s.items.length === 2 && (s.items[0] === null || s.items[0] instanceof PyDict) && s.items[1] instanceof PyDict) {
        walk(s.items[0], path, depth + 1);
        walk(s.items[1], path, depth + 1);
      } else if (s !== undefined) walk(s, path, depth + 1);
      if (o.dictItems) for (const [k, val] of o.dictItems) walk(val, join(path, keyName(k)), depth + 1);
      if (o.listItems) o.listItems.forEach((item, i) => walk(item, join(path, String(i)), depth + 1));
    };

    // nn.Module: state_dict order — own parameters, persistent buffers, then submodules.
    const walkModule = (m: PyObject, path: string, depth: number): void => {
      if (depth > max) throw malformed(`${this.file}: module nesting at ${path} is deeper than ${max} levels`, { file: this.file, field: path });
      const params = m.attr('_parameters');
      const buffers = m.attr('_buffers');
      const nonPersistent = m.attr('_non_persistent_buffers_set');
      const skip = new Set<string>();
      if (nonPersistent instanceof PySet) for (const x of nonPersistent.items) if (typeof x === 'string') skip.add(x);
      for (const [dict, isBuffer] of [[params, false], [buffers, true]] as const) {
        if (!(dict instanceof PyDict)) continue;
        for (const [k, val] of dict.entries) {
          const name = keyName(k);
          if (isBuffer && skip.has(name)) continue;
          const g = this.geometry(val, join(path, name));
          if (g) push(join(path, name), g);
        }
      }
      const modules = m.attr('_modules');
      if (modules instanceof PyDict) {
        for (const [k, child] of modules.entries) {
          if (!(child instanceof PyObject) || seen.has(child)) continue;
          seen.add(child);
          if (isModule(child)) walkModule(child, join(path, keyName(k)), depth + 1);
        }
      }
    };

    walk(root, '', 0);
    return out;
  }
}

/** A pickled torch.nn.Module: its state has `_parameters` / `_modules`. */
function isModule(o: PyObject): boolean {
  return o.attr('_modules') instanceof PyDict || o.attr('_parameters') instanceof PyDict;
}

/** Decode one pickle stream; errors name the member. */
function decodePickle(
  bytes: Uint8Array,
  file: string,
  label: string,
  globals: GlobalRef[],
  hooks: UnpickleHooks,
  location: string | undefined,
  budget: DecodeBudget,
): { value: PyValue; protocol: number; end: number } {
  try {
    const reader = new ByteReader(bytes);
    const u = new Unpickler(reader, { hooks, globals, budget, ...(location !== undefined ? { location } : {}) });
    const value = u.load();
    checkDepth(value, 0);
    return { value, protocol: u.protocol, end: reader.position };
  } catch (err) {
    return inMember(file, label, err);
  }
}

/**
 * Storage-type global of a persistent id → element type, refusing what mlpack cannot read.
 * `torch.UntypedStorage` holds bytes (uint8); `_rebuild_tensor_v3` says what they are.
 */
function resolveStorageType(v: PyValue | undefined, file: string, where: string): ElementType {
  if (!(v instanceof PyGlobal)) throw malformed(`${file}: ${where} names its storage type with ${preview(v)}, not a torch class`, { file });
  const r = storageType(v.module, v.name);
  switch (r.kind) {
    case 'typed':
      return r.type;
    case 'untyped':
      return 'uint8';
    case 'quantized':
      throw unsupported(`${file}: ${where} uses quantized storage ${r.name}, which mlpack does not read`, { file });
    case 'unknown':
      throw unsupported(`${file}: ${where} uses storage type ${r.name}, which mlpack does not know`, { file });
  }
}

/** Read a torch checkpoint or TorchScript archive. */
export function readTorch(source: Source): TorchFile {
  const bytes = source.bytes;
  if (isZip(bytes)) return readZipCheckpoint(source);
  return readLegacy(source);
}

function emptyFile(file: string, container: TorchContainerKind): TorchFile {
  return {
    file,
    container,
    prefix: null,
    members: null,
    byteorder: 'little',
    protocol: 0,
    formatVersion: null,
    legacy: null,
    root: null,
    kind: 'unknown',
    rootClass: 'builtins.NoneType',
    keys: [],
    tensors: [],
    storages: [],
    candidates: [],
    globals: [],
    pickleErrors: [],
    code: [],
    constants: undefined,
    constantTensors: [],
    warnings: [],
  };
}

/** The archive's record folder: the first member's top folder, as torch's reader takes it. */
export function archivePrefix(zip: ZipArchive): string | null {
  const first = zip.entries[0]?.name;
  const top = first !== undefined && first.includes('/') ? first.slice(0, first.indexOf('/')) : null;
  if (top !== null && (zip.has(`${top}/data.pkl`) || zip.has(`${top}/constants.pkl`))) return top;
  // Fall back to any top-level folder holding data.pkl.
  for (const e of zip.entries) {
    const m = /^([^/]+)\/data\.pkl$/.exec(e.name);
    if (m) return m[1]!;
  }
  return null;
}

/** Members torch (or torch.jit) unpickles: `*.pkl` records and TorchScript debug info. */
export function isPickleMember(name: string): boolean {
  return name.endsWith('.pkl') || name.endsWith('.debug_pkl');
}

function readZipCheckpoint(source: Source): TorchFile {
  const file = source.path;
  const zip = openZip(source.bytes, file);
  const prefix = archivePrefix(zip);
  if (prefix === null) {
    if (zip.entries.some((e) => /(^|\/)model\.json$/.test(e.name))) {
      throw unsupported(`${file} is a TorchScript archive in the pre-1.4 model.json layout, which mlpack does not read`, { file });
    }
    throw malformed(`${file} is a zip archive without a <prefix>/data.pkl record, so it is not a torch checkpoint`, { file });
  }
  const record = (name: string): ZipEntry | undefined => zip.get(`${prefix}/${name}`);
  const torchscript = record('constants.pkl') !== undefined || zip.entries.some((e) => e.name.startsWith(`${prefix}/code/`));
  const out = emptyFile(file, torchscript ? 'torchscript' : 'zip');
  out.prefix = prefix;
  out.members = zip.entries.map((e) => e.name);

  const small = (name: string): string | null => {
    const e = record(name);
    if (!e || e.size > 4096) return null;
    return decodeLatin1(zip.read(e, { verifyCrc: true })).trim();
  };
  out.formatVersion = small('version') ?? small('.data/version');
  const order = small('byteorder');
  if (order !== null) {
    if (order !== 'little' && order !== 'big') throw malformed(`${file}: ${prefix}/byteorder says ${JSON.stringify(order)}, not "little" or "big"`, { file });
    out.byteorder = order;
  }

  const storages = new Map<string, TorchStorage>();
  const storageHooks = (folder: string, label: string, refs: Map<PyObject, StorageRef>): UnpickleHooks => ({
    persistentLoad(pid, offset) {
      const t = items(pid);
      const where = `${label} persistent id at offset ${offset}`;
      if (!t || text(t[0]) !== 'storage' || t.length < 5) {
        throw malformed(`${file}: ${where} is not a ('storage', type, key, location, numel) tuple`, { file, offset });
      }
      const type = resolveStorageType(t[1], file, where);
      const key = typeof t[2] === 'bigint' ? t[2].toString() : text(t[2]);
      const numel = int(t[4]);
      if (key === null || key === '' || key.includes('/') || key === '..' || key === '.') {
        throw malformed(`${file}: ${where} has storage key ${preview(t[2])}`, { file, offset });
      }
      if (numel === null || numel < 0) throw malformed(`${file}: ${where} declares storage ${key} with ${preview(t[4])} elements`, { file, offset });
      const memberName = `${prefix}/${folder}/${key}`;
      let storage = storages.get(`${folder}/${key}`);
      if (!storage) {
        const entry = zip.get(memberName);
        if (!entry) throw malformed(`${file}: ${where} refers to storage ${key}, but the archive has no member ${memberName}`, { file, offset });
        const { itemsize } = ELEMENT_TYPES[type]!;
        const need = numel * itemsize;
        if (!Number.isSafeInteger(need) || need > entry.size) {
          throw malformed(`${file}: storage ${key} declares ${numel} ${type} elements (${need} bytes) but member ${memberName} holds ${entry.size} bytes`, {
            file,
            offset,
            field: memberName,
          });
        }
        let cached: Uint8Array | null = null;
        storage = {
          key,
          type,
          nbytes: need,
          location: text(t[3]) ?? 'cpu',
          where: memberName,
          bigEndian: out.byteorder === 'big',
          bytes: () => (cached ??= zip.read(entry, { verifyCrc: true }).subarray(0, need)),
        };
        storages.set(`${folder}/${key}`, storage);
      }
      const placeholder = new PyObject(null, [pid], 'persid', offset);
      refs.set(placeholder, { storage, viewOffset: 0, viewNumel: null });
      return placeholder;
    },
  });

  // data.pkl: the object itself.
  const dataName = `${prefix}/data.pkl`;
  const dataEntry = zip.get(dataName);
  if (!dataEntry) throw malformed(`${file} has no ${dataName} record`, { file });
  const refs = new Map<PyObject, StorageRef>();
  const budget = new DecodeBudget();
  const decoded = decodePickle(zip.read(dataEntry, { verifyCrc: true }), file, dataName, out.globals, storageHooks('data', dataName, refs), dataName, budget);
  out.root = decoded.value;
  out.protocol = decoded.protocol;
  const collector = new TensorCollector(file, refs, out.warnings);
  out.tensors = collector.collect(decoded.value);

  // constants.pkl (TorchScript): storages live under constants/.
  const constName = `${prefix}/constants.pkl`;
  const constEntry = zip.get(constName);
  if (constEntry) {
    const crefs = new Map<PyObject, StorageRef>();
    try {
      const c = decodePickle(zip.read(constEntry, { verifyCrc: true }), file, constName, out.globals, storageHooks('constants', constName, crefs), constName, budget);
      out.constants = c.value;
      const cc = new TensorCollector(file, crefs, out.warnings);
      out.constantTensors = cc.collect(c.value).map((t) => ({ ...t, name: `constants.${t.name}` }));
    } catch (err) {
      if (!(err instanceof MlpackError)) throw err;
      out.pickleErrors.push({ severity: 'error', location: constName, message: err.message, ...(err.offset !== undefined ? { offset: err.offset } : {}) });
      out.warnings.push(err.message);
    }
  }

  if (torchscript) {
    out.code = zip.entries
      .filter((e) => e.name.startsWith(`${prefix}/code/`) && !e.isDirectory && !e.name.endsWith('.debug_pkl'))
      .map((e) => e.name.slice(prefix.length + 1));
  }
  out.storages = [...storages.values()];
  classify(out, collector);
  return out;
}

/** A legacy storage: registered by the object pickle, filled from the data region after it. */
class LegacyStorage implements TorchStorage {
  nbytes = 0;
  where = 'the legacy data region';
  readonly bigEndian = false;
  filled = false;
  private data: Uint8Array = new Uint8Array(0);

  constructor(
    readonly key: string,
    readonly type: ElementType,
    readonly location: string,
  ) {}

  fill(data: Uint8Array, offset: number): void {
    this.data = data;
    this.nbytes = data.length;
    this.filled = true;
    this.where = `file offset ${offset}`;
  }

  bytes(): Uint8Array {
    return this.data;
  }
}

function readLegacy(source: Source): TorchFile {
  const file = source.path;
  const bytes = source.bytes;
  const out = emptyFile(file, 'legacy');
  const reader = new ByteReader(bytes);
  const budget = new DecodeBudget();
  const next = (label: string, hooks: UnpickleHooks, location: string | undefined): PyValue => {
    try {
      const u = new Unpickler(reader, { hooks, globals: out.globals, budget, ...(location !== undefined ? { location } : {}) });
      const start = reader.position;
      const value = u.load();
      checkDepth(value, start);
      if (label === 'object pickle') out.protocol = u.protocol;
      return value;
    } catch (err) {
      return inMember(file, label, err);
    }
  };

  const magic = next('magic number pickle', {}, 'legacy magic number');
  if (magic !== LEGACY_MAGIC) {
    throw malformed(`${file} does not start with torch's legacy magic number (found ${preview(magic)})`, { file, offset: 0 });
  }
  const version = next('protocol version pickle', {}, 'legacy protocol version');
  if (version !== LEGACY_PROTOCOL_VERSION) {
    throw unsupported(`${file} uses legacy torch serialization protocol ${preview(version)}; mlpack reads protocol 1001`, { file });
  }
  const sysInfo = next('sys_info pickle', {}, 'legacy sys_info');
  const legacy: NonNullable<TorchFile['legacy']> = { protocolVersion: 1001, littleEndian: null, typeSizes: null };
  if (sysInfo instanceof PyDict) {
    const le = sysInfo.get('little_endian');
    if (typeof le === 'boolean') legacy.littleEndian = le;
    const ts = sysInfo.get('type_sizes');
    if (ts instanceof PyDict) {
      legacy.typeSizes = {};
      for (const [k, v] of ts.entries) {
        const n = int(v);
        if (typeof k === 'string' && n !== null) legacy.typeSizes[k] = n;
      }
    }
  }
  out.legacy = legacy;
  if (legacy.littleEndian === false) {
    out.warnings.push('the file was written on a big-endian machine; its storages are read as little-endian, as torch itself reads them');
  }

  // The object pickle: storages are registered here and filled from the data region later.
  const roots = new Map<string, LegacyStorage>();
  const refs = new Map<PyObject, StorageRef>();
  const hooks: UnpickleHooks = {
    persistentLoad(pid, offset) {
      const t = items(pid);
      const typename = t ? text(t[0]) : null;
      const where = `persistent id at offset ${offset}`;
      if (t && typename === 'module') return t[1] ?? null; // ('module', cls, source_file, source)
      if (!t || typename !== 'storage' || t.length < 6) {
        throw malformed(`${file}: ${where} is not a ('storage', type, key, location, numel, view) tuple`, { file, offset });
      }
      const type = resolveStorageType(t[1], file, where);
      const key = typeof t[2] === 'bigint' ? t[2].toString() : text(t[2]);
      const numel = int(t[4]);
      if (key === null) throw malformed(`${file}: ${where} has storage key ${preview(t[2])}`, { file, offset });
      if (numel === null || numel < 0) throw malformed(`${file}: ${where} declares storage ${key} with ${preview(t[4])} elements`, { file, offset });
      let root = roots.get(key);
      if (!root) {
        root = new LegacyStorage(key, type, text(t[3]) ?? 'cpu');
        roots.set(key, root);
      }
      let viewOffset = 0;
      let viewNumel: number | null = null;
      const view = t[5];
      if (view !== null && view !== undefined) {
        const v = items(view);
        const off = v ? int(v[1]) : null;
        const size = v ? int(v[2]) : null;
        if (!v || off === null || size === null || off < 0 || size < 0) {
          throw malformed(`${file}: ${where} has view metadata ${preview(view)}, not (key, offset, size)`, { file, offset });
        }
        viewOffset = off;
        viewNumel = size;
      }
      const placeholder = new PyObject(null, [pid], 'persid', offset);
      refs.set(placeholder, { storage: root, viewOffset, viewNumel });
      return placeholder;
    },
  };
  out.root = next('object pickle', hooks, undefined);
  const keys = next('storage key list pickle', {}, 'legacy storage keys');
  const keyList = items(keys);
  if (!keyList) throw malformed(`${file}: the storage key list is a ${className(keys)}, not a list`, { file, offset: reader.offset });

  // Data region: per key, an 8-byte little-endian element count, then the elements.
  for (const k of keyList) {
    const key = typeof k === 'bigint' ? k.toString() : text(k);
    const root = key === null ? undefined : roots.get(key);
    if (!root) throw malformed(`${file}: storage key ${preview(k)} in the key list was never referenced by the object pickle`, { file, offset: reader.offset });
    if (root.filled) throw malformed(`${file}: storage key ${key} appears twice in the key list`, { file, offset: reader.offset });
    const at = reader.offset;
    const count = reader.uint64(`element count of storage ${key}`);
    const { itemsize } = ELEMENT_TYPES[root.type]!;
    const nbytes = count * itemsize;
    if (!Number.isSafeInteger(nbytes) || nbytes > reader.remaining) {
      throw malformed(`${file}: storage ${key} at offset ${at} declares ${count} ${root.type} elements (${nbytes} bytes) but only ${reader.remaining} bytes remain`, {
        file,
        offset: at,
      });
    }
    root.fill(reader.bytes(nbytes, `storage ${key}`), at + 8);
  }
  for (const root of roots.values()) {
    if (!root.filled) throw malformed(`${file}: storage ${root.key} is used by the object pickle but missing from the data region`, { file });
  }
  if (reader.remaining > 0) out.warnings.push(`${reader.remaining} bytes after the last storage are ignored`);

  const collector = new TensorCollector(file, refs, out.warnings);
  out.tensors = collector.collect(out.root);
  out.storages = [...roots.values()];
  classify(out, collector);
  return out;
}

/** Model kind, root class, keys and checkpoint candidates. */
function classify(out: TorchFile, collector: TensorCollector): void {
  const root = out.root;
  out.rootClass = collector.isTensor(root) ? 'torch.Tensor' : className(root);
  if (out.container === 'torchscript') {
    out.kind = 'torchscript';
    out.keys = out.tensors.map((t) => t.name);
    return;
  }
  if (root instanceof PyObject && !collector.isTensor(root) && isModule(root)) {
    out.kind = 'module';
    out.keys = out.tensors.map((t) => t.name);
    return;
  }
  if (root instanceof PyDict) {
    out.keys = root.keys().map(keyName);
    const values = root.entries.map(([, v]) => v);
    if (values.every((v) => collector.isTensor(v))) {
      out.kind = 'state_dict';
      return;
    }
    out.kind = 'checkpoint';
    // Sorted names: "is some tensor under `name.`" is one binary search (a scan per entry is
    // quadratic in a hostile checkpoint with many entries and many tensors).
    const names = out.tensors.map((t) => t.name).sort();
    const under = (prefix: string): boolean => {
      let lo = 0;
      let hi = names.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (names[mid]! < prefix) lo = mid + 1;
        else hi = mid;
      }
      return lo < names.length && names[lo]!.startsWith(prefix);
    };
    for (const [k, v] of root.entries) {
      if (collector.isTensor(v)) continue;
      const name = keyName(k);
      if (under(`${name}.`)) out.candidates.push(name);
    }
    return;
  }
  out.kind = 'unknown';
}

/** Tensors of the model weights: the whole file, or a checkpoint's first non-optimizer entry. */
export function modelTensors(f: TorchFile): { key: string | null; tensors: TorchTensor[] } {
  if (f.kind !== 'checkpoint') return { key: null, tensors: f.tensors };
  const key = f.candidates.find((c) => !/optim|sched|scaler|ema/i.test(c)) ?? null;
  if (key === null) return { key: null, tensors: f.tensors };
  return { key, tensors: f.tensors.filter((t) => t.name.startsWith(`${key}.`)) };
}
