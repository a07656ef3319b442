/**
 * `scan` for torch files: decode every pickle the file holds, without executing anything, and
 * collect the globals each one imports.
 *
 * - zip checkpoints and TorchScript archives: every `*.pkl` record (data.pkl, constants.pkl,
 *   bytecode.pkl, ...) and every `*.debug_pkl` record;
 * - legacy files: the five pickles torch.load reads in a row (magic number, protocol version,
 *   sys_info, the object, the storage keys);
 * - bytes handed to `torch.storage._load_from_bytes` (a whole torch.save file inside a pickle,
 *   which torch.load would unpickle in turn) are scanned as torch files themselves.
 *
 * A record that cannot be decoded to its end is an `error` finding naming the record.
 */
import type { Finding } from '../../api/types.js';
import { MlpackError, malformed } from '../../errors.js';
import { ByteReader } from '../../io/byte-reader.js';
import { isZip, openZip } from '../../io/zip.js';
import { PyBytes, PyDict, PyGlobal, PyObject, PySet, PyTuple } from '../../ir/object-graph.js';
import type { PyValue } from '../../ir/object-graph.js';
import { DecodeBudget, Unpickler } from '../pickle/unpickler.js';
import type { GlobalRef } from '../pickle/unpickler.js';
import { isPickleMember } from './read.js';

/** torch.save files nested through `_load_from_bytes` are followed this many levels deep. */
const MAX_NESTING = 4;
const LOAD_FROM_BYTES = 'torch.storage._load_from_bytes';
const LEGACY_PICKLES = ['legacy magic number', 'legacy protocol version', 'legacy sys_info', 'legacy object', 'legacy storage keys'];

export interface TorchScanResult {
  globals: GlobalRef[];
  errors: Finding[];
  /** One decode allowance for every pickle of the file, nested files included. */
  budget?: DecodeBudget;
  /** Bytes of nested torch.save files scanned so far, and how many may be. */
  nested?: { bytes: number; max: number };
}

/**
 * Nested files are inside the outer one, so a real file nests at most its own size per level;
 * copies made through memo GETs (the same blob handed to `_load_from_bytes` again and again)
 * could make the scan re-read it without end.
 */
const NESTED_FLOOR = 64 * 1024 * 1024;

/** Share the nested-bytes allowance and the decode budget of `into` (set up on first use). */
export function nestedAllowance(into: TorchScanResult, outerBytes: number): { bytes: number; max: number } {
  return (into.nested ??= { bytes: 0, max: NESTED_FLOOR + (MAX_NESTING + 1) * outerBytes });
}

function errorFinding(err: MlpackError, location: string): Finding {
  const f: Finding = { severity: 'error', location, message: err.message };
  if (err.offset !== undefined) f.offset = err.offset;
  return f;
}

/** Decode every pickle in a torch file (zip, TorchScript or legacy) for its globals. */
export function scanTorchBytes(bytes: Uint8Array, file: string, into: TorchScanResult = { globals: [], errors: [] }, where = '', depth = 0): TorchScanResult {
  const label = (name: string) => (where ? `${where} > ${name}` : name);
  const decoded: Array<{ value: PyValue; location: string }> = [];
  const budget = (into.budget ??= new DecodeBudget());
  const allowance = nestedAllowance(into, bytes.length);
  if (isZip(bytes)) {
    let zip;
    try {
      zip = openZip(bytes, file);
    } catch (err) {
      if (!(err instanceof MlpackError) || depth === 0) throw err;
      into.errors.push(errorFinding(err, label('nested zip')));
      return into;
    }
    const members = zip.entries.filter((e) => isPickleMember(e.name));
    if (members.length === 0) {
      into.errors.push(errorFinding(malformed(`${file}: the zip archive holds no pickle record (no data.pkl)`, { file }), label('zip')));
    }
    for (const entry of members) {
      const location = label(entry.name);
      try {
        const data = zip.read(entry, { verifyCrc: true });
        const u = new Unpickler(new ByteReader(data), { globals: into.globals, location, budget });
        decoded.push({ value: u.load(), location });
      } catch (err) {
        if (!(err instanceof MlpackError)) throw err;
        into.errors.push(errorFinding(err, location));
      }
    }
  } else {
    const reader = new ByteReader(bytes);
    for (const name of LEGACY_PICKLES) {
      const location = label(name);
      if (reader.remaining === 0) {
        into.errors.push(errorFinding(malformed(`${file}: the file ends before the ${name} pickle`, { file, offset: reader.offset }), location));
        break;
      }
      try {
        const u = new Unpickler(reader, { globals: into.globals, location, budget });
        decoded.push({ value: u.load(), location });
      } catch (err) {
        if (!(err instanceof MlpackError)) throw err;
        into.errors.push(errorFinding(err, location));
        break;
      }
    }
  }
  for (const { value, location } of decoded) {
    for (const nested of nestedTorchFiles(value)) {
      const at = `${location} > ${LOAD_FROM_BYTES} at offset ${nested.offset}`;
      if (depth + 1 > MAX_NESTING) {
        into.errors.push({ severity: 'error', location: at, message: `torch.save bytes nested more than ${MAX_NESTING} levels deep are not followed` });
        continue;
      }
      if (allowance.bytes + nested.bytes.length > allowance.max) {
        into.errors.push({
          severity: 'error',
          location: at,
          message: `nested torch.save bytes add up to more than ${allowance.max} bytes (the same bytes are handed over again and again); the rest is not scanned`,
        });
        break;
      }
      allowance.bytes += nested.bytes.length;
      scanTorchBytes(nested.bytes, file, into, at, depth + 1);
    }
  }
  return into;
}

/**
 * Bytes passed to `torch.storage._load_from_bytes` anywhere in a decoded graph, each distinct
 * span once (a blob shared through the memo is one file, however many calls name it).
 */
export function nestedTorchFiles(root: PyValue): Array<{ bytes: Uint8Array; offset: number }> {
  const out: Array<{ bytes: Uint8Array; offset: number }> = [];
  const seen = new Set<object>();
  const spans = new Map<ArrayBufferLike, Set<string>>();
  const stack: PyValue[] = [root];
  // (Pushing item by item: spreading a list of ~100k items into push() overflows the stack.)
  const pushAll = (items: readonly PyValue[]): void => {
    for (const item of items) stack.push(item);
  };
  while (stack.length) {
    const v = stack.pop()!;
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) pushAll(v);
    else if (v instanceof PyTuple || v instanceof PySet) pushAll(v.items);
    else if (v instanceof PyDict) {
      for (const [k, val] of v.entries) stack.push(k, val);
      if (v.state !== undefined) stack.push(v.state);
    } else if (v instanceof PyObject) {
      const c = v.callable;
      const blob = v.args[0];
      if (c instanceof PyGlobal && c.qualified === LOAD_FROM_BYTES && blob instanceof PyBytes) {
        const data = blob.data;
        const key = `${data.byteOffset}:${data.length}`;
        let keys = spans.get(data.buffer);
        if (!keys) spans.set(data.buffer, (keys = new Set()));
        if (!keys.has(key)) {
          keys.add(key);
          out.push({ bytes: data, offset: v.offset });
        }
      }
      stack.push(c);
      pushAll(v.args);
      if (v.kwargs) stack.push(v.kwargs);
      if (v.state !== undefined) stack.push(v.state);
      if (v.listItems) pushAll(v.listItems);
      if (v.dictItems) for (const [k, val] of v.dictItems) stack.push(k, val);
    }
  }
  return out;
}
