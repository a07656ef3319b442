/**
 * Property tests through the top-level API (`inspect`, `scanFile`): one valid file per format,
 * mutated by byte flips, cuts, inserts, deletes and — aimed at length fields — 32/64-bit values
 * overwritten with extremes. Whatever comes out must be a result or an MlpackError, and must
 * not hang. Covers what the per-format fuzzers do not: ONNX via the API, ONNX inside a
 * `.mlpack` envelope (mutated before wrapping, so the checksums pass), joblib < 0.10 sidecar
 * `.npy` files, and length-field mutations of torch and safetensors files.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { inspect } from '../../src/api/inspect.js';
import { scanFile } from '../../src/api/scan.js';
import { MlpackError } from '../../src/errors.js';
import { sourceFromBytes } from '../../src/io/source.js';
import { envelopeBytes } from '../envelope/helpers.js';
import { HANG_MS } from '../helpers.js';
import { fixture } from '../paths.js';

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'u64'; at: number; high: number }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; n: number };

const EXTREMES = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(...EXTREMES) }),
  fc.record({ kind: fc.constant('u64' as const), at: fc.nat(), high: fc.constantFrom(0, 1, 0x1fffff, 0x7fffffff, 0xffffffff) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
);

function apply(bytes: Uint8Array, muts: Mutation[]): Buffer {
  let out = Buffer.from(bytes);
  for (const m of muts) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    switch (m.kind) {
      case 'flip':
        out[at] = m.value;
        break;
      case 'u32':
        if (at + 4 <= out.length) out.writeUInt32LE(m.value >>> 0, at);
        break;
      case 'u64':
        if (at + 8 <= out.length) {
          out.writeUInt32LE(0xffffffff, at);
          out.writeUInt32LE(m.high >>> 0, at + 4);
        }
        break;
      case 'cut':
        out = out.subarray(0, at);
        break;
      case 'insert':
        out = Buffer.concat([out.subarray(0, at), Buffer.from(m.bytes), out.subarray(at)]);
        break;
      case 'delete':
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.n)]);
        break;
    }
  }
  return out;
}

/** Run `fn`; anything but an MlpackError (or a run past the hang guard) fails the property. */
async function onlyMlpackErrors(what: string, fn: () => Promise<unknown>, ms = HANG_MS): Promise<void> {
  const t = Date.now();
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof MlpackError)) throw new Error(`${what}: non-MlpackError escaped: ${(err as Error)?.stack ?? String(err)}`);
    assert.ok(err.message.length < 20_000, `${what}: an error message of ${err.message.length} characters`);
  }
  assert.ok(Date.now() - t < ms, `${what} took ${Date.now() - t} ms`);
}

const muts = fc.array(mutation, { minLength: 1, maxLength: 4 });

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mlpack-fuzz-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** inspect from bytes, then scan from a file on disk. */
async function inspectAndScan(name: string, bytes: Uint8Array): Promise<void> {
  await onlyMlpackErrors(`inspect ${name}`, () => inspect(sourceFromBytes(name, bytes)));
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  await onlyMlpackErrors(`scan ${name}`, async () => {
    const r = await scanFile(path);
    // scan reports decode errors as findings; an internal error must never hide there.
    if (r.error) assert.notEqual(r.error.code, 'INTERNAL', r.error.message);
  });
}

describe('mutated files through the top-level API', () => {
  for (const name of ['zipmap_linear.onnx', 'typed_fields.onnx', 'ir3_initializer_inputs.onnx']) {
    it(`onnx ${name}`, { timeout: 120_000 }, async () => {
      const base = readFileSync(fixture('onnx', name));
      await fc.assert(
        fc.asyncProperty(muts, (m) => inspectAndScan(name, apply(base, m))),
        { numRuns: 800, seed: 101 },
      );
    });
  }

  it('onnx inside a .mlpack envelope (mutated before wrapping: checksums valid)', { timeout: 120_000 }, async () => {
    const base = readFileSync(fixture('onnx', 'zipmap_linear.onnx'));
    await fc.assert(
      fc.asyncProperty(muts, fc.constantFrom<'none' | 'zstd'>('none', 'zstd'), async (m, compress) => {
        const bytes = await envelopeBytes({ onnx: apply(base, m) }, { compress });
        await inspectAndScan('wrapped.mlpack', bytes);
      }),
      { numRuns: 400, seed: 102 },
    );
  });

  for (const [dirName, name] of [['torch', 'state_dict_legacy.pt'], ['torch', 'state_dict_zip.pt'], ['torch', 'torchscript.pt'], ['safetensors', 'state_dict.safetensors']] as const) {
    it(`length fields of ${dirName}/${name}`, { timeout: 120_000 }, async () => {
      const base = readFileSync(fixture(dirName, name));
      await fc.assert(
        fc.asyncProperty(muts, (m) => inspectAndScan(name, apply(base, m))),
        { numRuns: 600, seed: 103 },
      );
    });
  }
});

describe('joblib < 0.10 sidecar files', () => {
  const stem = 'joblib_0.9.2_pickle_py34_np19.pkl';
  const sidecars = ['_01.npy', '_02.npy', '_03.npy', '_04.npy'].map((s) => `${stem}${s}`);

  it('a mutated sidecar .npy (or the pickle naming it) gives a result or an MlpackError', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlpack-fuzz-sidecar-'));
    try {
      for (const f of [stem, ...sidecars]) copyFileSync(fixture('legacy-joblib', f), join(dir, f));
      const originals = new Map([stem, ...sidecars].map((f) => [f, readFileSync(join(dir, f))]));
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(stem, ...sidecars), muts, async (target, m) => {
          writeFileSync(join(dir, target), apply(originals.get(target)!, m));
          try {
            await onlyMlpackErrors(`inspect (${target} mutated)`, () => inspect(join(dir, stem)));
            await onlyMlpackErrors(`scan (${target} mutated)`, async () => {
              const r = await scanFile(join(dir, stem));
              if (r.error) assert.notEqual(r.error.code, 'INTERNAL', r.error.message);
            });
          } finally {
            writeFileSync(join(dir, target), originals.get(target)!);
          }
        }),
        { numRuns: 800, seed: 104 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
