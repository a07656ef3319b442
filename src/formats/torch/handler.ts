/**
 * inspect/scan for PyTorch files (CLI.md `inspect` torch part, `scan`): zip checkpoints,
 * TorchScript archives and legacy checkpoints. See read.ts for the layouts and scan.ts for what
 * is scanned.
 */
import type { SafetyReport, TensorInfo } from '../../api/types.js';
import type { Source } from '../../io/source.js';
import { PyBytes, PyDict, PyGlobal, PyObject, PyTuple } from '../../ir/object-graph.js';
import type { PyValue } from '../../ir/object-graph.js';
import { judgeGlobals } from '../../safety/classify.js';
import type { FormatHandler, FormatInspection } from '../types.js';
import { keyName, modelTensors, readTorch } from './read.js';
import type { TorchFile } from './read.js';
import { scanTorchBytes } from './scan.js';
import { numelOf, tensorByteLength } from './tensor.js';
import type { TorchTensor } from './tensor.js';

/** Safety report over every pickle in the file (the same one `scan` gives). */
export function torchSafety(source: Source): SafetyReport {
  const scanned = scanTorchBytes(source.bytes, source.path);
  return judgeGlobals(scanned.globals, { extra: scanned.errors });
}

export function tensorInfo(t: TorchTensor): TensorInfo {
  return {
    name: t.name,
    dtype: t.type,
    shape: [...t.shape],
    bytes: tensorByteLength(t),
    stride: [...t.stride],
    storage_offset: t.storageOffset,
  };
}

/** A JSON-safe rendering of a scalar checkpoint entry (epoch, loss, ...), or undefined. */
function scalar(v: PyValue | undefined): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return undefined;
}

function containerOf(f: TorchFile): Record<string, unknown> {
  const c: Record<string, unknown> = { kind: f.container, protocol: f.protocol };
  if (f.prefix !== null) c.prefix = f.prefix;
  if (f.members !== null) c.members = f.members;
  if (f.container !== 'legacy') c.byteorder = f.byteorder;
  if (f.formatVersion !== null) c.format_version = f.formatVersion;
  if (f.legacy) {
    c.legacy_protocol_version = f.legacy.protocolVersion;
    c.little_endian = f.legacy.littleEndian;
    if (f.legacy.typeSizes) c.type_sizes = f.legacy.typeSizes;
  }
  c.storages = f.storages.length;
  c.storage_bytes = f.storages.reduce((s, st) => s + st.nbytes, 0);
  return c;
}

function modelOf(f: TorchFile): FormatInspection['model'] {
  const weights = modelTensors(f);
  const model: NonNullable<FormatInspection['model']> = {
    class: f.rootClass,
    kind: f.kind,
    keys: f.keys,
    n_params: weights.tensors.reduce((s, t) => s + numelOf(t.shape), 0),
  };
  if (f.kind === 'checkpoint') {
    model.state_dicts = f.candidates;
    model.params_from = weights.key;
    // No prototype: a checkpoint key named "__proto__" is just a key.
    const meta = Object.create(null) as Record<string, unknown>;
    if (f.root instanceof PyDict) {
      for (const [k, v] of f.root.entries) {
        const s = scalar(v);
        if (s !== undefined) meta[keyName(k)] = s;
      }
    }
    model.metadata = meta;
  }
  if (f.kind === 'torchscript') {
    model.code = f.code;
    const items = f.constants instanceof PyTuple ? f.constants.items : Array.isArray(f.constants) ? f.constants : [];
    const byName = new Map<string, TorchTensor>();
    for (const c of f.constantTensors) if (!byName.has(c.name)) byName.set(c.name, c);
    model.constants = items.map((v, index) => {
      const t = byName.get(`constants.${index}`);
      if (t) return { index, kind: 'tensor', dtype: t.type, shape: t.shape };
      const s = scalar(v);
      return s !== undefined ? { index, value: s } : { index, class: v === undefined ? null : describeClass(v) };
    });
  }
  return model;
}

function describeClass(v: PyValue): string {
  if (v instanceof PyTuple) return 'builtins.tuple';
  if (Array.isArray(v)) return 'builtins.list';
  if (v instanceof PyDict) return v.pyClass ?? 'builtins.dict';
  if (v instanceof PyObject) return v.className;
  if (v instanceof PyGlobal) return v.qualified;
  if (v instanceof PyBytes) return 'builtins.bytes';
  return 'builtins.object';
}

export const handler: FormatHandler = {
  async inspect(source) {
    const f = readTorch(source);
    const safety = torchSafety(source);
    const result: FormatInspection = {
      format: 'torch',
      container: containerOf(f),
      producer: { library: 'torch', version: null },
      model: modelOf(f),
      tensors: f.tensors.map(tensorInfo),
      safety,
    };
    if (f.warnings.length) result.warnings = [...f.warnings];
    return result;
  },

  async scan(source) {
    return { format: 'torch', ...torchSafety(source) };
  },
};
