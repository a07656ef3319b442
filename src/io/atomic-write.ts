/**
 * Outputs are written to a temporary file in the destination folder and renamed into place,
 * so a reader never sees a half-written model and a crash leaves the old file intact.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MlpackError, usage } from '../errors.js';

export interface AtomicWriteOptions {
  /** Replace an existing file (CLI `--force`). */
  force?: boolean;
}

/** Write `chunks` to `path` atomically. `-` writes to stdout. */
export async function writeFileAtomic(
  path: string,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options: AtomicWriteOptions = {},
): Promise<number> {
  if (path === '-') {
    let total = 0;
    for await (const chunk of chunks) {
      total += chunk.length;
      await new Promise<void>((resolve, reject) => process.stdout.write(chunk, (err) => (err ? reject(err) : resolve())));
    }
    return total;
  }
  if (!options.force && existsSync(path)) {
    throw usage(`output ${path} already exists`, { file: path, suggestion: 'pass --force to replace it' });
  }
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
  let total = 0;
  let handle: FileHandle;
  try {
    handle = await open(tmp, 'wx');
  } catch (err) {
    throw writeError(path, err);
  }
  try {
    for await (const chunk of chunks) {
      let done = 0;
      while (done < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, done, chunk.length - done);
        done += bytesWritten;
      }
      total += chunk.length;
    }
    await handle.sync();
    await handle.close();
    await rename(tmp, path);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw writeError(path, err);
  }
  return total;
}

/** Errors of the user's choosing (a folder that is missing or read-only, a full disk) are usage errors. */
const USER_ERRNO: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its folder path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  EISDIR: 'it is a folder',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  ENAMETOOLONG: 'the name is too long',
};

function writeError(path: string, err: unknown): MlpackError {
  if (err instanceof MlpackError) return err;
  const why = USER_ERRNO[(err as NodeJS.ErrnoException)?.code ?? ''];
  if (why) return usage(`cannot write ${path}: ${why}`, { file: path, cause: err });
  return new MlpackError(`cannot write ${path}: ${(err as Error).message}`, { code: 'INTERNAL', file: path, cause: err });
}
