/** Shared pieces of the codec tests: the fixture manifest and small assertions. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorCode, MlpackError } from '../../src/errors.js';
import type { CodecName } from '../../src/io/codecs/index.js';
import { rejectsWith as rejectsWithError } from '../helpers.js';
import { fixture } from '../paths.js';

export const DIR = fixture('codecs');

export interface FixtureEntry {
  file: string;
  codec: CodecName;
  original: string;
  members: number;
  bytes: number;
  note?: string;
}

export interface Manifest {
  originals: Record<string, { length: number; sha256: string }>;
  files: FixtureEntry[];
}

export const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Manifest;

export function load(entry: FixtureEntry | string): Buffer {
  return readFileSync(join(DIR, typeof entry === 'string' ? entry : entry.file));
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Runs `fn` and checks it rejects with an MlpackError of `code` (returns the error). */
export function rejectsWith(code: ErrorCode, fn: () => Promise<unknown>, message?: RegExp): Promise<MlpackError> {
  return rejectsWithError(fn, code, message);
}

/** Deterministic pseudo-random bytes with some structure (xorshift32). */
export function structuredBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  let x = seed | 0 || 1;
  let i = 0;
  for (; i + 8 <= length; i += 8) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    // float64 values on a coarse grid, like rounded model parameters
    view.setFloat64(i, Math.round(((x >>> 0) % 2000) - 1000) / 8, true);
  }
  for (; i < length; i++) out[i] = i & 0xff;
  return out;
}

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const p of stream) {
    parts.push(p);
    total += p.length;
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
