/**
 * Caller side of the HDF5 worker (worker.ts). HDF5 is C code: on damaged or hostile metadata
 * it can abort or loop forever (seen with a few flipped bytes in a Keras file: h5py hangs too),
 * so it runs on a worker thread with a deadline. One worker serves the whole process, one
 * request at a time; it is replaced after a timeout, a crash or a wasm abort, and never keeps
 * the process alive on its own.
 *
 * Each request writes the bytes (the ones the caller already hashed, possibly from stdin) to a
 * private temporary file for HDF5 to open, and removes it afterwards.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { MlpackError, malformed } from '../../errors.js';
import type { ErrorCode } from '../../errors.js';
import type { Source } from '../../io/source.js';
import { readSuperblock } from './h5.js';
import type { Superblock } from './h5.js';
import type { KerasModel, KerasTensor } from './keras-types.js';

export interface WorkerRequest {
  id: number;
  /** The temporary copy to open. */
  path: string;
  /** The name errors use (what the user gave). */
  file: string;
  size: number;
  superblock: Superblock;
  job: 'describe' | 'weights';
  optimizer: boolean;
}

export type WorkerReply =
  | { id: number; ok: true; model: KerasModel; tensors: KerasTensor[] | null; poisoned: boolean }
  | {
      id: number;
      ok: false;
      poisoned: boolean;
      error: {
        code: ErrorCode;
        message: string;
        file?: string | undefined;
        offset?: number | undefined;
        field?: string | undefined;
        suggestion?: string | undefined;
        stack?: string | undefined;
      };
    };

export interface Hdf5JobOptions {
  /**
   * Deadline for HDF5 to read the file, in milliseconds. Default: MLPACK_HDF5_TIMEOUT_MS from
   * the environment, else 20 s plus 1 s per 16 MiB.
   */
  timeoutMs?: number;
}

interface Pending {
  file: string;
  resolve: (reply: WorkerReply & { ok: true }) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
  worker: Worker;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();
let queue: Promise<unknown> = Promise.resolve();

function retire(w: Worker): void {
  if (worker === w) worker = null;
  void w.terminate();
}

function failPending(w: Worker, err: unknown | ((p: Pending) => unknown)): void {
  for (const [id, p] of pending) {
    if (p.worker !== w) continue;
    pending.delete(id);
    clearTimeout(p.timer);
    p.reject(typeof err === 'function' ? (err as (p: Pending) => unknown)(p) : err);
  }
}

function spawn(): Worker {
  const w = new Worker(new URL('./worker.js', import.meta.url));
  w.on('message', (reply: WorkerReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.poisoned) retire(w);
    if (reply.ok) {
      p.resolve(reply);
      return;
    }
    const e = reply.error;
    if (e.code === 'INTERNAL') {
      const bug = new Error(`HDF5 worker: ${e.message}`);
      if (e.stack) bug.stack = e.stack;
      p.reject(bug);
      return;
    }
    p.reject(new MlpackError(e.message, { code: e.code, file: e.file, offset: e.offset, field: e.field, suggestion: e.suggestion }));
  });
  w.on('error', (err) => {
    retire(w);
    // A worker that runs out of heap on a hostile file is the file's doing, not a bug.
    if ((err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
      failPending(w, (p: Pending) => malformed(`${p.file}: reading the HDF5 file ran out of memory; its metadata is damaged or hostile`, { file: p.file }));
    } else {
      failPending(w, err);
    }
  });
  w.on('exit', (code) => {
    if (worker === w) worker = null;
    failPending(w, new Error(`HDF5 worker exited (code ${code}) while reading`));
  });
  // Listeners first: adding one re-refs the worker. The pending request's timer keeps the
  // process alive while a read is in flight.
  w.unref();
  return w;
}

function defaultTimeout(size: number): number {
  const env = Number(process.env['MLPACK_HDF5_TIMEOUT_MS']);
  if (Number.isFinite(env) && env > 0) return env;
  return 20_000 + Math.ceil(size / (16 * 1024 * 1024)) * 1000;
}

async function dispatch(
  source: Source,
  job: WorkerRequest['job'],
  optimizer: boolean,
  options: Hdf5JobOptions,
): Promise<WorkerReply & { ok: true }> {
  // A truncated file gets its precise message before HDF5 sees it.
  const superblock = readSuperblock(source.bytes, source.path);
  const dir = mkdtempSync(join(tmpdir(), 'mlpack-h5-'));
  try {
    const path = join(dir, 'model.h5');
    writeFileSync(path, source.bytes, { mode: 0o600 });
    const w = worker ?? (worker = spawn());
    const id = nextId++;
    const timeoutMs = options.timeoutMs ?? defaultTimeout(source.bytes.length);
    return await new Promise<WorkerReply & { ok: true }>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        retire(w);
        reject(
          malformed(
            `${source.path}: HDF5 did not finish reading the file within ${(timeoutMs / 1000).toFixed(1)} s; its metadata is damaged or hostile`,
            { file: source.path, suggestion: 'set MLPACK_HDF5_TIMEOUT_MS to allow more time for a very large file' },
          ),
        );
      }, timeoutMs);
      pending.set(id, { file: source.path, resolve, reject, timer, worker: w });
      const req: WorkerRequest = { id, path, file: source.path, size: source.bytes.length, superblock, job, optimizer };
      w.postMessage(req);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run one read on the HDF5 worker (requests are serialised so each deadline is its own). */
export function runHdf5Job(
  source: Source,
  job: WorkerRequest['job'],
  optimizer: boolean,
  options: Hdf5JobOptions = {},
): Promise<WorkerReply & { ok: true }> {
  const run = queue.then(() => dispatch(source, job, optimizer, options));
  queue = run.catch(() => undefined);
  return run;
}
