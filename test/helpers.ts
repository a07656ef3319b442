/** Shared test helpers: fixture manifests, running the built CLI, comparing numbers. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { MlpackError, type ErrorCode } from '../src/errors.js';
import { decodeModel } from '../src/formats/onnx/read.js';
import { encodeModel } from '../src/formats/onnx/write.js';
import { BIN, ROOT } from './paths.js';

export function readJSON<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run the built `mlpack` binary (what users run) with no stdin unless given. */
export function runCli(args: string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    input: options.input ?? '',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** No stack trace or internal-error text ever reaches a user for bad input. */
export function assertCleanStderr(stderr: string): string | null {
  if (/^\s+at .+:\d+:\d+\)?$/m.test(stderr)) return 'stderr holds a stack trace';
  if (/internal error/.test(stderr)) return 'stderr reports an internal error';
  return null;
}

/**
 * Assert that `fn` throws or rejects with an MlpackError of `code` whose message matches `re`,
 * and that the message is short enough for one terminal line's worth of context.
 */
export async function rejectsWith(fn: () => unknown, code: ErrorCode, re?: RegExp): Promise<MlpackError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected an MlpackError ${code}, got a result`);
  assert.ok(caught instanceof MlpackError, `expected an MlpackError ${code}, got ${caught instanceof Error ? caught.stack : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (re) assert.match(caught.message, re);
  assert.ok(caught.message.length < 4000, `message of ${caught.message.length} characters`);
  return caught;
}

/**
 * Write to `dest` a copy of the ONNX model at `src` with one weight moved by +5: the first
 * float initializer of rank 2 (a coefficient matrix) — the model still loads, but answers wrong.
 */
export function writePerturbedOnnx(src: string, dest: string): void {
  const proto = decodeModel(readFileSync(src));
  const init = proto.graph!.initializer!.find((t) => (t.dims?.length ?? 0) === 2 && t.raw_data && t.raw_data.length >= 8);
  assert.ok(init, `${src} has no rank-2 raw-data initializer to perturb`);
  const raw = Buffer.from(init.raw_data!);
  raw.writeFloatLE(raw.readFloatLE(0) + 5, 0);
  init.raw_data = raw;
  writeFileSync(dest, encodeModel(proto));
}

/**
 * A hang guard, not a speed test (speed is measured by `npm run bench`): hostile inputs whose
 * naive handling is superlinear (a million-digit integer, a quadratic memo walk) would run for
 * minutes or forever; bounded handling ends in well under a second. The bound sits far above
 * any machine's time for the bounded path, so a slow CI machine cannot fail it.
 */
export const HANG_MS = 60_000;

export async function noHang<T>(fn: () => Promise<T> | T): Promise<T> {
  const t = Date.now();
  const out = await fn();
  const took = Date.now() - t;
  assert.ok(took < HANG_MS, `took ${took} ms: the input is handled superlinearly (hang guard ${HANG_MS} ms)`);
  return out;
}
