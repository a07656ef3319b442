/**
 * Decode a pickle or joblib file: undo the outer compression, then decode every pickle stream
 * in it (a file may hold several concatenated streams; the first is the model). Nothing is
 * executed; every imported global is recorded for `scan`.
 */
import { dirname } from 'node:path';
import { MlpackError, malformed } from '../../errors.js';
import { ByteReader } from '../../io/byte-reader.js';
import type { CodecName } from '../../io/codecs/index.js';
import { limits } from '../../io/limits.js';
import type { Finding } from '../../api/types.js';
import type { Source } from '../../io/source.js';
import type { PyValue } from '../../ir/object-graph.js';
import { joblibHooks, readZfile } from '../joblib/read.js';
import { checkDepth } from './depth.js';
import { DecodeBudget, Unpickler } from './unpickler.js';
import type { GlobalRef, UnpickleHooks } from './unpickler.js';

export interface DecodedPickle {
  format: 'pickle' | 'joblib';
  /** Outer compression, joblib's name for it, or null. */
  compression: string | null;
  /** Protocol of the first stream (0 and 1 have no PROTO opcode: reported as 0). */
  protocol: number;
  /** The first stream's object (undefined when it could not be decoded). */
  value: PyValue | undefined;
  /** Objects of the following streams, if the file has more than one. */
  extraStreams: PyValue[];
  globals: GlobalRef[];
  /** Size of the pickle bytes after decompression. */
  payloadBytes: number;
  /** What stopped decoding (only in tolerant mode; strict mode throws it). */
  error?: MlpackError;
  /** Decode errors inside nested torch.save bytes (torch.storage._load_from_bytes), scanned too. */
  nestedErrors: Finding[];
  warnings: string[];
}

export interface DecodeOptions {
  /** Keep what was decoded and report the error instead of throwing (scan). */
  tolerant?: boolean;
  /** Extra unpickler hooks (torch storages). */
  hooks?: UnpickleHooks;
  onProgress?: (done: number, total: number) => void;
}

const JOBLIB_WRAPPER = /(^|\.)joblib\.numpy_pickle(_compat)?$/;

function codecOf(compression: string): CodecName {
  return compression as CodecName;
}

/** Decompress (if needed) and decode all pickle streams of a pickle/joblib file. */
export async function decodePickleSource(source: Source, compression: string | null, options: DecodeOptions = {}): Promise<DecodedPickle> {
  const result: DecodedPickle = {
    format: compression ? 'joblib' : 'pickle',
    compression,
    protocol: 0,
    value: undefined,
    extraStreams: [],
    globals: [],
    payloadBytes: 0,
    nestedErrors: [],
    warnings: [],
  };
  try {
    let bytes = source.bytes;
    if (compression === 'zfile') bytes = readZfile(bytes, source.path);
    else if (compression) {
      // Codecs load only when a file is compressed (lzma-native, zstd etc. are native modules).
      const { decompress } = await import('../../io/codecs/index.js');
      bytes = await decompress(codecOf(compression), bytes, {
        file: source.path,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    }
    result.payloadBytes = bytes.length;
    decodeStreams(bytes, source, result, options);
  } catch (err) {
    if (!(err instanceof MlpackError)) throw err;
    if (err.file === undefined) err.file = source.path;
    if (!options.tolerant) throw err;
    result.error = err;
  }
  if (result.globals.some((g) => JOBLIB_WRAPPER.test(g.module))) result.format = 'joblib';
  await scanNestedTorch(result, source.path);
  return result;
}

/**
 * A pickled torch tensor carries its storage as `torch.storage._load_from_bytes(<torch.save
 * bytes>)`, which torch unpickles in turn: those embedded files are scanned like the outer one.
 */
async function scanNestedTorch(result: DecodedPickle, file: string): Promise<void> {
  if (!result.globals.some((g) => g.module === 'torch.storage' && g.name === '_load_from_bytes')) return;
  const { nestedAllowance, nestedTorchFiles, scanTorchBytes } = await import('../torch/scan.js');
  // One allowance for all of them: the same blob handed over many times is scanned once, and
  // all nested files together may not exceed a few times the payload.
  const into = { globals: result.globals, errors: result.nestedErrors };
  const allowance = nestedAllowance(into, result.payloadBytes);
  for (const root of [result.value ?? null, ...result.extraStreams]) {
    for (const nested of nestedTorchFiles(root)) {
      const where = `torch.storage._load_from_bytes at offset ${nested.offset}`;
      if (allowance.bytes + nested.bytes.length > allowance.max) {
        into.errors.push({ severity: 'error', location: where, message: `nested torch.save bytes add up to more than ${allowance.max} bytes; the rest is not scanned` });
        return;
      }
      allowance.bytes += nested.bytes.length;
      scanTorchBytes(nested.bytes, file, into, where, 1);
    }
  }
}

function decodeStreams(bytes: Uint8Array, source: Source, result: DecodedPickle, options: DecodeOptions): void {
  const reader = new ByteReader(bytes);
  const ctx = { dir: source.path === '-' ? null : dirname(source.path), file: source.path };
  const joblib = joblibHooks(ctx);
  const hooks: UnpickleHooks = {
    afterBuild: (obj, u) => options.hooks?.afterBuild?.(obj, u) ?? joblib.afterBuild!(obj, u),
  };
  if (options.hooks?.persistentLoad) hooks.persistentLoad = options.hooks.persistentLoad;
  // One allowance for the whole file: 10,000 streams may not each build the maximum.
  const budget = new DecodeBudget();
  let n = 0;
  while (reader.remaining > 0) {
    if (n >= limits().maxStreams) throw malformed(`${source.path} holds more than ${limits().maxStreams} pickle streams`, { offset: reader.offset });
    const start = reader.offset;
    const u = new Unpickler(reader, {
      hooks,
      globals: result.globals,
      budget,
      location: n === 0 ? undefined : `stream ${n + 1} at offset ${start}`,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    if (n === 0) {
      result.value = u.load();
      result.protocol = u.protocol;
      checkDepth(result.value, start);
    } else {
      // Python stops after the first stream; we decode the rest for scanning, and a broken
      // trailing stream is reported without discarding the model before it.
      try {
        const value = u.load();
        checkDepth(value, start);
        result.extraStreams.push(value);
      } catch (err) {
        if (!(err instanceof MlpackError)) throw err;
        result.error = err;
        result.warnings.push(`bytes after the model at offset ${start} are not a valid pickle stream: ${err.message}`);
        break;
      }
    }
    n++;
    options.onProgress?.(reader.position, bytes.length);
  }
  if (n > 1) result.warnings.push(`${source.path} holds ${n} concatenated pickle streams; only the first is the model, all were scanned`);
}
