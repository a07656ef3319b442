/**
 * Property tests over mutated envelopes (fast-check): whatever the bytes, reading either succeeds
 * or throws an MlpackError — never another exception, never a hang. Mutations are applied both
 * to the raw file (caught by the checksums) and to the payload with checksums recomputed, so the
 * header and graph decoders themselves see hostile input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MlpackError } from '../../src/errors.js';
import { PACKR } from '../../src/formats/mlpack/graph.js';
import { readEnvelope, readEnvelopeMetadata } from '../../src/formats/mlpack/read.js';
import { sourceFromBytes } from '../../src/io/source.js';
import { syntheticGraph } from '../writers/synthetic.js';
import { HANG_MS } from '../helpers.js';
import { envelopeBytes, joinEnvelope, splitEnvelope } from './helpers.js';
import type { Parts } from './helpers.js';

type Mutation = { kind: 'flip'; at: number; value: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: number[] } | { kind: 'delete'; at: number; n: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
);

function apply(bytes: Uint8Array, muts: Mutation[]): Uint8Array {
  let out = Buffer.from(bytes);
  for (const m of muts) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.kind === 'flip') {
      out = Buffer.from(out);
      out[at] = m.value;
    } else if (m.kind === 'cut') out = out.subarray(0, at);
    else if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from(m.bytes), out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(at + m.n)]);
  }
  return out;
}

async function readsCleanly(bytes: Uint8Array): Promise<void> {
  const started = Date.now();
  try {
    await readEnvelope(sourceFromBytes('fuzz.mlpack', bytes));
  } catch (e) {
    if (!(e instanceof MlpackError)) throw new Error(`non-MlpackError escaped: ${(e as Error)?.stack ?? String(e)}`);
  }
  assert.ok(Date.now() - started < HANG_MS, `reading a mutated envelope took over ${HANG_MS} ms (hang guard)`);
}

describe('envelope fuzzing', () => {
  let plain: Uint8Array;
  let zstd: Uint8Array;
  let parts: Parts;

  it('prepares envelopes', async () => {
    plain = await envelopeBytes(syntheticGraph(), { compress: 'none' });
    zstd = await envelopeBytes(syntheticGraph(), { compress: 'zstd' });
    parts = splitEnvelope(plain);
  });

  it('mutated files (any byte, cut, insert, delete) fail cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (compressed, muts) => {
        await readsCleanly(apply(compressed ? zstd : plain, muts));
      }),
      { numRuns: 300 },
    );
  });

  it('mutated payloads with valid checksums fail cleanly (the graph decoder sees them)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }), async (flips) => {
        const payload = parts.payload.slice();
        // Most of the interesting structure is in the graph section at the start.
        const span = Math.min(payload.length, 8192);
        for (const f of flips) payload[f.at % span] = f.value;
        await readsCleanly(joinEnvelope({ ...parts, payload }));
      }),
      { numRuns: 400 },
    );
  });

  it('mutated headers with valid digests fail cleanly', async () => {
    const headerValue = fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }), fc.constant(-1), fc.constant(2 ** 40));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('kind', 'compression', 'checksum', 'bytes', 'graph_bytes', 'blob_offset', 'blob_bytes', 'numpy_module', 'level'), headerValue, async (key, value) => {
        const header = structuredClone(parts.header) as Record<string, Record<string, unknown>>;
        header['payload']![key] = value;
        const bytes = joinEnvelope({ ...parts, header });
        await readsCleanly(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary msgpack graph sections with valid checksums fail cleanly', async () => {
    const msg = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.integer({ min: -3, max: 20 }),
        fc.string({ maxLength: 4 }),
        fc.boolean(),
        fc.uint8Array({ maxLength: 8 }),
        fc.array(tie('value'), { maxLength: 6 }),
      ),
    })).value;
    // Nodes shaped like real ones ([tag, ...fields]) so the decoder gets past the first checks.
    const node = fc.tuple(fc.integer({ min: 0, max: 14 }), fc.array(msg, { maxLength: 10 })).map(([tag, fields]) => [tag, ...fields]);
    await fc.assert(
      fc.asyncProperty(msg, fc.array(node, { maxLength: 8 }), msg, async (root, nodes, table) => {
        const graph = Uint8Array.from(PACKR.pack([root, nodes, table]));
        const header = structuredClone(parts.header) as Record<string, Record<string, unknown>>;
        const blob = 128;
        const blobOffset = Math.ceil(graph.length / 64) * 64;
        Object.assign(header['payload']!, { bytes: blobOffset + blob, graph_bytes: graph.length, blob_offset: blobOffset, blob_bytes: blob, compression: 'none' });
        const payload = new Uint8Array(blobOffset + blob);
        payload.set(graph);
        await readsCleanly(joinEnvelope({ ...parts, header, payload, uncompressedBytes: payload.length }));
      }),
      { numRuns: 500 },
    );
  });

  it('metadata reads of mutated prefixes fail cleanly', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (muts) => {
        try {
          readEnvelopeMetadata(apply(plain, muts));
        } catch (e) {
          if (!(e instanceof MlpackError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});
