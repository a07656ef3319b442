/**
 * `convert`: scikit-learn models to ONNX; any model to a `.mlpack` envelope; object graphs back
 * to pickle/joblib that Python loads; torch state_dicts to safetensors. Outputs are written
 * atomically and an existing output is replaced only with `force`.
 */
import { constants as fsConstants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { access, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { MlpackError, unsupported, usage } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { sha256Hex } from '../io/hash.js';
import { CODECS, isCodecName } from '../io/codecs/index.js';
import { readSource } from '../io/source.js';
import type { Source } from '../io/source.js';
import { assertSafe, loadModel } from './load.js';
import type { SafetyOptions } from './load.js';
import type { VerifyResult } from './verify.js';

import { TARGETS } from './targets.js';
import type { Target } from './targets.js';

export { TARGETS };
export type { Target };

export interface ConvertOptions extends SafetyOptions {
  to: Target;
  output: string;
  force?: boolean;
  opset?: number;
  mlOpset?: number;
  float64?: boolean;
  /** codec[:level] for mlpack/joblib outputs. */
  compress?: string;
  /** Pickle protocol for --to pickle (2–5, default 4). */
  protocol?: number;
  /** User metadata (--meta key=value): the envelope's metadata block, ONNX metadata_props, safetensors `__metadata__`. */
  meta?: Record<string, string>;
  /** Checkpoint key for torch → safetensors (--key model). */
  key?: string;
  verify?: boolean;
  rtol?: number;
  atol?: number;
}

export interface ConvertResult {
  input: string;
  output: string;
  to: Target;
  bytes: number;
  verify?: VerifyResult;
  /** false when --verify failed and the output was not kept (absent otherwise). */
  written?: boolean;
  /** Non-fatal observations about the conversion (the CLI prints them on stderr). */
  warnings?: string[];
}

export function parseCompress(spec: string | undefined): { codec: string; level?: number } | undefined {
  if (spec === undefined) return undefined;
  const parts = spec.split(':');
  const [codec, level] = parts;
  if (!codec || parts.length > 2) throw usage(`--compress takes codec[:level], e.g. zstd or zlib:6, not "${spec}"`);
  // A codec mlpack does not know at all is a bad flag value; a known one that the target cannot
  // carry (zstd for joblib) is the writer's "unsupported" (exit 4).
  if (!isCodecName(codec)) throw usage(`--compress: unknown codec "${codec}"`, { suggestion: `codecs: ${Object.keys(CODECS).join(', ')}` });
  if (level === undefined) return { codec };
  const n = Number(level);
  if (level.trim() === '' || !Number.isInteger(n)) throw usage(`--compress level must be an integer, not "${level}"`);
  return { codec, level: n };
}

/** Every flag given must take effect: one that does not apply to the target is a usage error. */
function checkFlags(options: ConvertOptions): void {
  const to = options.to;
  const given = (name: string, v: unknown): string | null => (v === undefined || v === false ? null : name);
  const onnxOnly = [given('--opset', options.opset), given('--ml-opset', options.mlOpset), given('--float64', options.float64), given('--verify', options.verify)].filter(Boolean);
  if (to !== 'onnx' && onnxOnly.length) throw usage(`${onnxOnly.join(', ')} ${onnxOnly.length > 1 ? 'apply' : 'applies'} to --to onnx, not --to ${to}`);
  for (const [flag, v] of [['--opset', options.opset], ['--ml-opset', options.mlOpset]] as const) {
    // A value that is no opset at all is a bad flag; a real opset mlpack cannot write is "unsupported".
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw usage(`${flag} must be a positive integer, not ${v}`);
  }
  if ((options.rtol !== undefined || options.atol !== undefined) && !options.verify) throw usage('--rtol and --atol are tolerances for --verify');
  if (options.protocol !== undefined && to !== 'pickle' && to !== 'joblib') throw usage(`--protocol applies to --to pickle and --to joblib, not --to ${to}`);
  if (options.protocol !== undefined && (!Number.isInteger(options.protocol) || options.protocol < 2 || options.protocol > 5)) {
    throw usage(`--protocol must be 2, 3, 4 or 5, not ${options.protocol}`);
  }
  if (options.compress !== undefined) {
    const c = parseCompress(options.compress);
    if (to === 'onnx' || to === 'safetensors' || (to === 'pickle' && c?.codec !== 'none')) {
      throw usage(`--compress applies to --to mlpack and --to joblib, not --to ${to}`, { suggestion: to === 'pickle' ? 'write --to joblib for a compressed pickle' : undefined });
    }
  }
  if (options.key !== undefined && to !== 'safetensors') throw usage(`--key applies to --to safetensors, not --to ${to}`);
  if (options.meta && Object.keys(options.meta).length && to !== 'mlpack' && to !== 'onnx' && to !== 'safetensors') {
    throw usage(`--meta applies to --to mlpack, onnx and safetensors, not --to ${to}`);
  }
  if (options.output === '-' && options.verify) throw usage('--verify needs an output file to check, not stdout (-o -)');
}

/**
 * The output may be replaced only with `force`, must sit in an existing folder, and is never the
 * input (compared by path and by file identity, so `./m.joblib`, links and `--force` cannot
 * overwrite it).
 */
async function checkOutput(inputPath: string, output: string, force: boolean): Promise<void> {
  if (output === '-') return;
  if (inputPath !== '-') {
    const [a, b] = await Promise.all([stat(inputPath).catch(() => null), stat(output).catch(() => null)]);
    if (resolve(inputPath) === resolve(output) || (a && b && a.dev === b.dev && a.ino === b.ino)) {
      throw usage(`the output ${output} is the input file; inputs are never modified`, { file: output });
    }
  }
  const existing = await stat(output).catch(() => null);
  if (existing?.isDirectory()) throw usage(`output ${output} is a directory`, { file: output, suggestion: 'give a file name, e.g. -o model.onnx' });
  if (existing && !force) throw usage(`output ${output} already exists`, { file: output, suggestion: 'pass --force to replace it' });
  const folder = dirname(resolve(output));
  const dir = await stat(folder).catch(() => null);
  if (!dir?.isDirectory()) throw usage(`cannot write ${output}: the folder ${dirname(output)} does not exist`, { file: output });
  try {
    await access(folder, fsConstants.W_OK);
  } catch {
    throw usage(`cannot write ${output}: the folder ${dirname(output)} is not writable`, { file: output });
  }
}

/** The oldest default-domain opset mlpack's lowerings write (onnxruntime runs opset 7 and newer). */
export const MIN_OPSET = 7;

async function checkLoadable(onnx: Uint8Array, sourceClass: string, opset: number | undefined, mlOpset: number | undefined): Promise<void> {
  const { createSession } = await import('../runtime/ort/session.js');
  try {
    const session = await createSession(onnx, { file: 'the converted model' });
    await session.dispose();
  } catch (err) {
    if (!(err instanceof MlpackError)) throw err;
    throw unsupported(
      `${sourceClass.split('.').pop()} cannot be lowered to ONNX at opset ${opset ?? 'default'} (ai.onnx.ml ${mlOpset ?? 'default'}): ${err.message}`,
      { suggestion: 'use a newer --opset (the default is 21)', cause: err },
    );
  }
}

export async function convert(inputPath: string, options: ConvertOptions): Promise<ConvertResult> {
  if (!(TARGETS as readonly string[]).includes(options.to)) {
    throw usage(`--to must be one of ${TARGETS.join(', ')}, not "${options.to}"`);
  }
  checkFlags(options);
  await checkOutput(inputPath, options.output, options.force ?? false);
  // Read once: `-` (stdin) cannot be read twice, and --verify checks the same bytes.
  const source = await readSource(inputPath);
  if (options.to === 'safetensors') {
    const { torchToSafetensors } = await import('../formats/torch/to-safetensors.js');
    const exported = await torchToSafetensors(source, {
      ...(options.key !== undefined ? { key: options.key } : {}),
      ...(options.meta ? { meta: options.meta } : {}),
      ...(options.trust ? { trust: options.trust } : {}),
      ...(options.unsafeSkipCheck ? { unsafeSkipCheck: true } : {}),
    });
    const bytes = await writeFileAtomic(options.output, exported.chunks(), { force: options.force ?? false });
    return { input: inputPath, output: options.output, to: options.to, bytes, ...(exported.warnings.length ? { warnings: exported.warnings } : {}) };
  }
  if (options.to === 'mlpack' || options.to === 'pickle' || options.to === 'joblib') {
    // Writers work on the lossless object graph (or an ONNX payload); no IR is needed.
    const { prepareOutput } = await import('../formats/mlpack/convert.js');
    const compress = parseCompress(options.compress);
    const prepared = await prepareOutput(source, options.to, {
      ...(compress ? { compress: compress.codec, ...(compress.level !== undefined ? { level: compress.level } : {}) } : {}),
      ...(options.protocol !== undefined ? { protocol: options.protocol as 2 | 3 | 4 | 5 } : {}),
      ...(options.meta && options.to === 'mlpack' ? { meta: options.meta } : {}),
    });
    if (prepared.input.safety) assertSafe(inputPath, prepared.input.safety, options);
    const bytes = await writeFileAtomic(options.output, prepared.chunks, { force: options.force ?? false });
    return { input: inputPath, output: options.output, to: options.to, bytes };
  }
  const model = await loadModel(source, options);
  switch (options.to) {
    case 'onnx': {
      if (!model.ir) throw unsupported(`${inputPath} is already ONNX`, { file: inputPath });
      const { convertToOnnx } = await import('../convert/onnx/convert.js');
      const { ORT_MAX_ML_OPSET, ORT_MAX_OPSET } = await import('../formats/onnx/versions.js');
      if (options.opset !== undefined && (options.opset < MIN_OPSET || options.opset > ORT_MAX_OPSET)) {
        throw unsupported(`--opset ${options.opset} is outside what mlpack writes and onnxruntime-node runs (${MIN_OPSET}–${ORT_MAX_OPSET})`);
      }
      if (options.mlOpset !== undefined && (options.mlOpset < 1 || options.mlOpset > ORT_MAX_ML_OPSET)) {
        throw unsupported(`--ml-opset ${options.mlOpset} is outside 1–${ORT_MAX_ML_OPSET}`);
      }
      const onnx = convertToOnnx(model.ir, {
        ...(options.opset !== undefined ? { opset: options.opset } : {}),
        ...(options.mlOpset !== undefined ? { mlOpset: options.mlOpset } : {}),
        ...(options.float64 ? { float64: true } : {}),
        metadata: {
          ...options.meta,
          ...(inputPath !== '-' ? { source_file: basename(inputPath) } : {}),
          source_sha256: sha256Hex(model.source.bytes),
          source_format: model.format,
          ...(model.producer ? { source_library: model.producer.library } : {}),
          ...(model.producer?.version ? { source_library_version: model.producer.version } : {}),
        },
      });
      if (options.opset !== undefined || options.mlOpset !== undefined) {
        // At a non-default opset, let onnxruntime check every operator's schema before writing:
        // an estimator whose lowering needs a newer operator is "unsupported at that opset".
        await checkLoadable(onnx, model.ir.sourceClass, options.opset, options.mlOpset);
      }
      if (!options.verify) {
        const bytes = await writeFileAtomic(options.output, [onnx], { force: options.force ?? false });
        return { input: inputPath, output: options.output, to: options.to, bytes };
      }
      return writeVerified(source, onnx, options);
    }
    default:
      throw unsupported(`converting to ${options.to} is not available yet`);
  }
}

/**
 * `--verify`: the ONNX file is written next to the output under a hidden name, checked there, and
 * renamed into place only when it passes. A conversion that fails verification (exit 6) leaves
 * neither an output nor a temporary file behind; `written: false` says so.
 */
async function writeVerified(source: Source, onnx: Uint8Array, options: ConvertOptions): Promise<ConvertResult> {
  const staging = join(dirname(options.output), `.${basename(options.output)}.verify-${randomBytes(6).toString('hex')}`);
  const bytes = await writeFileAtomic(staging, [onnx], { force: false });
  const result: ConvertResult = { input: source.path, output: options.output, to: options.to, bytes };
  try {
    const { verify } = await import('./verify.js');
    const report = await verify(source, {
      against: staging,
      ...(options.rtol !== undefined ? { rtol: options.rtol } : {}),
      ...(options.atol !== undefined ? { atol: options.atol } : {}),
      ...(options.trust ? { trust: options.trust } : {}),
      ...(options.unsafeSkipCheck ? { unsafeSkipCheck: true } : {}),
    });
    result.verify = { ...report, against: options.output };
    if (report.ok) await rename(staging, options.output);
    else result.written = false;
  } finally {
    await rm(staging, { force: true });
  }
  return result;
}
