/**
 * External tensor data, followed safely.
 * Spec: https://github.com/onnx/onnx/blob/main/docs/ExternalData.md — `external_data` holds
 * key/value pairs `location` (path relative to the model file's folder), `offset` and `length`
 * (bytes, optional), `checksum` (SHA-1, optional); `data_location` is EXTERNAL.
 *
 * A model file is untrusted: its `location` must not reach outside the model's folder, so
 * absolute paths, `..` segments and symlinks whose target leaves the folder are refused, and the
 * byte range must lie inside the file.
 */
import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { MlpackError, malformed, unsupported, usage } from '../../errors.js';
import { preview } from '../preview.js';
import { TensorProtoDataLocation, type TensorProto } from './gen/onnx-proto.js';

export interface ExternalDataRef {
  tensor: string;
  location: string;
  /** Byte offset into the file (0 when absent). */
  offset: number;
  /** Byte count, or null when absent (to the end of the file). */
  length: number | null;
  checksum: string | null;
}

export function isExternal(t: TensorProto): boolean {
  return t.data_location === TensorProtoDataLocation.EXTERNAL;
}

function parseSize(value: string, key: string, tensor: string, file?: string): number {
  // ExternalData.md: offset/length are decimal integers written as strings.
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw malformed(`${file ?? 'ONNX model'}: external data ${key} "${value}" of tensor "${tensor}" is not a byte count`, {
      file,
      field: `${tensor}.external_data.${key}`,
    });
  }
  return Number(value);
}

/** The external_data entries of one tensor, validated for form (not yet for the file system). */
export function externalDataRef(t: TensorProto, file?: string): ExternalDataRef {
  const tensor = t.name ?? '';
  const entries = new Map<string, string>();
  for (const e of t.external_data ?? []) entries.set(e.key ?? '', e.value ?? '');
  const location = entries.get('location');
  if (location === undefined || location === '') {
    throw malformed(`${file ?? 'ONNX model'}: tensor "${tensor}" stores its data externally but has no location`, {
      file,
      field: `${tensor}.external_data`,
    });
  }
  const offset = entries.has('offset') ? parseSize(entries.get('offset')!, 'offset', tensor, file) : 0;
  const length = entries.has('length') ? parseSize(entries.get('length')!, 'length', tensor, file) : null;
  return { tensor, location, offset, length, checksum: entries.get('checksum') ?? null };
}

/**
 * Why a location is refused before touching the file system, or null when its form is fine.
 * Both separators count: a model written on Windows may use `\`.
 */
export function unsafeLocationReason(location: string): string | null {
  if (location.includes('\0')) return 'contains a NUL byte';
  if (isAbsolute(location) || location.startsWith('/') || location.startsWith('\\') || /^[A-Za-z]:/.test(location)) {
    return 'is an absolute path';
  }
  if (location.split(/[\\/]/).includes('..')) return 'climbs out of the model folder with ".."';
  return null;
}

/** The location as messages quote it: the file chose it, so it may be any length. */
const loc = (ref: ExternalDataRef): string => preview(ref.location, 160);

function inside(dir: string, target: string): boolean {
  const rel = relative(dir, target);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * A file-system error on a path the model names. The path comes from the file, so a loop, an
 * over-long name or a missing file is the model's fault (MALFORMED); a permission problem is the
 * reader's (USAGE, as for the model file itself).
 */
function fsError(err: unknown, ref: ExternalDataRef, where: string, field: string, file?: string): MlpackError {
  if (err instanceof MlpackError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const name = `external data file ${loc(ref)} of tensor "${ref.tensor}"`;
  if (code === 'ENOENT' || code === 'ENOTDIR') return malformed(`${where}: ${name} does not exist`, { file, field, cause: err });
  if (code === 'EACCES' || code === 'EPERM') return usage(`${where}: permission denied reading ${name}`, { file, field, cause: err });
  const why = code === 'ELOOP' ? 'runs into a loop of symlinks' : code === 'ENAMETOOLONG' ? 'is a path too long to open' : `cannot be opened (${code ?? 'unknown error'})`;
  return malformed(`${where}: ${name} ${why}`, { file, field, cause: err });
}

/**
 * Read the bytes of one external tensor from `baseDir` (the folder of the model file).
 * `expectedBytes`, when known, must equal the range length.
 */
export async function readExternalData(
  ref: ExternalDataRef,
  baseDir: string,
  expectedBytes: number | null,
  file?: string,
): Promise<Uint8Array> {
  const where = file ?? 'ONNX model';
  const field = `${ref.tensor}.external_data.location`;
  const reason = unsafeLocationReason(ref.location);
  if (reason) {
    throw malformed(`${where}: external data location ${loc(ref)} of tensor "${ref.tensor}" ${reason}`, {
      file,
      field,
      suggestion: 'external data must be a relative path inside the model folder',
    });
  }
  let realDir: string;
  let realTarget: string;
  try {
    realDir = await realpath(baseDir);
    realTarget = await realpath(resolve(baseDir, ref.location));
  } catch (err) {
    throw fsError(err, ref, where, field, file);
  }
  if (!inside(realDir, realTarget)) {
    throw malformed(`${where}: external data location ${loc(ref)} of tensor "${ref.tensor}" resolves outside the model folder`, {
      file,
      field,
      suggestion: 'a symlink in the model folder points elsewhere; copy the data file next to the model instead',
    });
  }
  // Only regular files, checked before opening: opening a FIFO blocks until someone writes to it.
  // O_NONBLOCK keeps it so should one replace the file between the check and the open.
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    if (!(await stat(realTarget)).isFile()) {
      throw malformed(`${where}: external data ${loc(ref)} of tensor "${ref.tensor}" is not a regular file`, { file, field });
    }
    handle = await open(realTarget, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw fsError(err, ref, where, field, file);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      throw malformed(`${where}: external data ${loc(ref)} of tensor "${ref.tensor}" is not a regular file`, { file, field });
    }
    if (expectedBytes === null) {
      throw unsupported(`${where}: tensor "${ref.tensor}" keeps data of no fixed size (strings, or an unknown element type) in ${loc(ref)}, which mlpack does not read`, {
        file,
        field: `${ref.tensor}.external_data`,
      });
    }
    const length = ref.length ?? st.size - ref.offset;
    if (ref.offset > st.size || length < 0 || ref.offset + length > st.size) {
      throw malformed(
        `${where}: external data of tensor "${ref.tensor}" asks for bytes ${ref.offset}..${ref.offset + Math.max(length, 0)} of ${loc(ref)}, which has ${st.size}`,
        { file, field: `${ref.tensor}.external_data`, offset: ref.offset },
      );
    }
    if (expectedBytes !== null && length !== expectedBytes) {
      throw malformed(
        `${where}: external data of tensor "${ref.tensor}" is ${length} bytes but its dtype and shape need ${expectedBytes}`,
        { file, field: `${ref.tensor}.external_data.length` },
      );
    }
    if (length > 2 ** 31 - 1) {
      throw unsupported(`${where}: external tensor "${ref.tensor}" is ${length} bytes, over the 2 GiB a single buffer may hold`, { file });
    }
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(out, done, length - done, ref.offset + done);
      if (bytesRead === 0) throw malformed(`${where}: external data file ${loc(ref)} shrank while reading`, { file, field });
      done += bytesRead;
    }
    return out;
  } finally {
    await handle.close();
  }
}
