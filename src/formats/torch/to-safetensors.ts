/**
 * torch checkpoint → safetensors (`mlpack convert model.pt --to safetensors [--key model]`).
 *
 * What is exported: a state_dict's tensors; a pickled nn.Module's state_dict; for a checkpoint
 * (a dict holding state dicts next to epoch, optimizer, ...) the entry `key` selects — without
 * a key a checkpoint is a usage error listing the entries that hold tensors. `key` is a key path:
 * `model` selects `model.*` and names the tensors without the `model.` prefix. TorchScript
 * archives are not converted.
 *
 * safetensors stores plain contiguous tensors and has no notion of views or sharing, so:
 * - a non-contiguous view (a transpose, a strided slice, a broadcast) is materialised: its
 *   elements are copied in C order;
 * - tensors that share one storage in the checkpoint (tied weights, slices of one buffer) are
 *   written as separate copies, each holding only its own elements;
 * - contiguous little-endian tensors are written straight from the file's bytes (no copy).
 * The result lists both groups (`copied`, `shared`) so callers can report them.
 *
 * `__metadata__` records `format: pt` (what huggingface's loaders expect), the source file's
 * sha256 and name, the selected key and the mlpack version.
 */
import { basename } from 'node:path';
import { assertSafe } from '../../api/load.js';
import type { SafetyOptions } from '../../api/load.js';
import type { SafetyReport } from '../../api/types.js';
import { malformed, unsupported, usage } from '../../errors.js';
import { sha256Hex } from '../../io/hash.js';
import { limits } from '../../io/limits.js';
import { readSource } from '../../io/source.js';
import type { Source } from '../../io/source.js';
import { VERSION } from '../../version.js';
import { dtypeByName } from '../safetensors/dtypes.js';
import { planSafetensors, writeSafetensors } from '../safetensors/write.js';
import type { SafetensorsInput } from '../safetensors/write.js';
import { detectTorch } from './detect.js';
import { torchSafety } from './handler.js';
import { readTorch } from './read.js';
import type { TorchFile } from './read.js';
import { contiguousBytes, isContiguous } from './tensor.js';
import type { TorchTensor } from './tensor.js';

export interface TorchToSafetensorsOptions extends SafetyOptions {
  /** Checkpoint entry (key path) to export, e.g. `model` or `state_dict`. */
  key?: string;
  /** User metadata (--meta key=value) for `__metadata__`; mlpack's own keys (format, source_*) win. */
  meta?: Record<string, string>;
}

export interface TorchSafetensorsExport {
  /** What will be written, in the caller's naming (relative to `key`). */
  tensors: SafetensorsInput[];
  metadata: Record<string, string>;
  /** Tensors written as contiguous copies because they were non-contiguous views. */
  copied: string[];
  /** Groups of tensors that shared one storage in the checkpoint; each is written separately. */
  shared: string[][];
  /** The key that was exported (null for a whole state_dict/module). */
  key: string | null;
  /** Size of the safetensors file in bytes. */
  size: number;
  safety: SafetyReport;
  warnings: string[];
  /** The file's bytes, streamed (header first, then one tensor at a time). */
  chunks(): AsyncIterable<Uint8Array>;
}

function select(f: TorchFile, key: string | undefined): { key: string | null; tensors: Array<{ name: string; tensor: TorchTensor }> } {
  if (key !== undefined && key !== '') {
    const prefix = `${key}.`;
    const picked = f.tensors.filter((t) => t.name.startsWith(prefix)).map((t) => ({ name: t.name.slice(prefix.length), tensor: t }));
    if (picked.length === 0) {
      const choices = f.candidates.length ? f.candidates : topLevel(f);
      throw usage(`${f.file} has no tensors under key ${JSON.stringify(key)}`, {
        file: f.file,
        field: key,
        suggestion: choices.length ? `choose one of: ${choices.map((c) => `--key ${c}`).join(', ')}` : 'the file holds no tensors',
      });
    }
    return { key, tensors: picked };
  }
  if (f.kind === 'checkpoint') {
    throw usage(`${f.file} is a checkpoint holding several entries; choose which one to export with --key`, {
      file: f.file,
      suggestion: f.candidates.length
        ? `entries holding tensors: ${f.candidates.map((c) => `--key ${c}`).join(', ')}`
        : 'no entry of this checkpoint holds tensors',
    });
  }
  if (f.tensors.length === 0) throw unsupported(`${f.file} holds no tensors to export`, { file: f.file });
  return { key: null, tensors: f.tensors.map((t) => ({ name: t.name, tensor: t })) };
}

/** First path segments of the tensor names, for usage hints. */
function topLevel(f: TorchFile): string[] {
  const out = new Set<string>();
  for (const t of f.tensors) {
    const dot = t.name.indexOf('.');
    if (dot > 0) out.add(t.name.slice(0, dot));
  }
  return [...out];
}

/** Output size below which the expansion rule does not apply (as the codecs' 64 MiB floor). */
const EXPAND_FLOOR = 64 * 1024 * 1024;

/** Convert a torch checkpoint (path or loaded source) to a safetensors stream. */
export async function torchToSafetensors(input: string | Source, options: TorchToSafetensorsOptions = {}): Promise<TorchSafetensorsExport> {
  const source = typeof input === 'string' ? await readSource(input) : input;
  if (!detectTorch(source.bytes)) {
    throw unsupported(`${source.path} is not a PyTorch checkpoint; --to safetensors converts torch.save files`, { file: source.path });
  }
  // Decoding runs nothing, so the file is read first: a TorchScript archive is unsupported
  // (exit 4) whatever it imports; anything else must pass the safety gate before export.
  const f = readTorch(source);
  if (f.container === 'torchscript') {
    throw unsupported(`${source.path} is a TorchScript archive; converting TorchScript to safetensors is not supported`, {
      file: source.path,
      suggestion: 'save the module state with torch.save(module.state_dict(), path) and convert that',
    });
  }
  const safety = torchSafety(source);
  assertSafe(source.path, safety, options);
  const picked = select(f, options.key);

  const tensors: SafetensorsInput[] = [];
  const copied: string[] = [];
  const byStorage = new Map<object, string[]>();
  for (const { name, tensor } of picked.tensors) {
    const dt = dtypeByName(tensor.type);
    if (!dt) throw unsupported(`${source.path}: tensor ${tensor.name} is ${tensor.type}, which safetensors cannot store`, { file: source.path, field: tensor.name });
    if (!isContiguous(tensor.shape, tensor.stride)) copied.push(name);
    const group = byStorage.get(tensor.storage) ?? [];
    group.push(name);
    byStorage.set(tensor.storage, group);
    tensors.push({ name, dtype: tensor.type, shape: tensor.shape, data: () => contiguousBytes(tensor) });
  }
  const shared = [...byStorage.values()].filter((g) => g.length > 1);

  const metadata: Record<string, string> = {
    ...options.meta,
    format: 'pt',
    mlpack_version: VERSION,
    source_format: 'torch',
    source_sha256: sha256Hex(source.bytes),
  };
  if (source.path !== '-') metadata.source_file = basename(source.path);
  if (picked.key !== null) metadata.source_key = picked.key;

  const warnings = [...f.warnings];
  if (copied.length) warnings.push(`${copied.length} non-contiguous tensor(s) written as contiguous copies: ${copied.join(', ')}`);
  for (const g of shared) warnings.push(`tensors ${g.join(', ')} share one storage in the checkpoint and are written as separate copies`);

  const { size } = planSafetensors(tensors, metadata);
  // Views are written as copies: a few bytes of storage seen through stride-0 (broadcast) or
  // many overlapping views can expand without end. The codecs' bomb rule bounds the output.
  const maxOut = Math.max(EXPAND_FLOOR, source.bytes.length * limits().maxCompressionRatio);
  if (size > maxOut) {
    throw malformed(`${source.path}: its tensors would expand to ${size} bytes of safetensors from a ${source.bytes.length}-byte checkpoint (views copied out), a ratio beyond ${limits().maxCompressionRatio}`, {
      file: source.path,
      suggestion: 'if the file is trusted, pass --max-decompressed <bytes> (an explicit limit also lifts the ratio check)',
    });
  }
  return {
    tensors,
    metadata,
    copied,
    shared,
    key: picked.key,
    size,
    safety,
    warnings,
    chunks: () => writeSafetensors(tensors, metadata),
  };
}
