/**
 * `.mlpack` envelopes whose checksums are valid but whose msgpack is hostile: a graph node tag
 * nested a million levels deep, a compressed run of empty arrays, 64-bit integers and deep
 * nesting in the header (which inspect hands back), and a legitimate list too long to spread.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { inspect } from '../../src/api/inspect.js';
import { DIGEST_BYTES, FOOTER_BYTES, PRELUDE_BYTES, alignUp, encodeFooter } from '../../src/formats/mlpack/format.js';
import { PACKR } from '../../src/formats/mlpack/graph.js';
import { readEnvelope, readEnvelopeMetadata } from '../../src/formats/mlpack/read.js';
import { sourceFromBytes } from '../../src/io/source.js';
import { envelopeBytes, splitEnvelope } from '../envelope/helpers.js';
import { assertCleanStderr, runCli } from '../helpers.js';
import { rejectsWith, noHang } from './helpers.js';

/** An envelope from raw header bytes and a stored payload, with valid digests. */
function assemble(header: Uint8Array, payload: Uint8Array, uncompressed: number): Uint8Array {
  const prelude = new Uint8Array(PRELUDE_BYTES);
  prelude.set(Buffer.from('MLPACK\0', 'latin1'));
  prelude[7] = 1;
  new DataView(prelude.buffer).setUint32(12, header.length, true);
  const digest = createHash('sha256').update(prelude).update(header).digest();
  const at = alignUp(PRELUDE_BYTES + header.length + DIGEST_BYTES);
  const out = new Uint8Array(at + payload.length + FOOTER_BYTES);
  out.set(prelude, 0);
  out.set(header, PRELUDE_BYTES);
  out.set(digest, PRELUDE_BYTES + header.length);
  out.set(payload, at);
  out.set(encodeFooter({ storedBytes: payload.length, payloadBytes: uncompressed, sha256: createHash('sha256').update(payload).digest() }), at + payload.length);
  return out;
}

/** A header like mlpack writes, for an object-graph payload of `graphBytes` bytes and no tensors. */
function graphHeader(graphBytes: number, compression = 'none', patch: (h: Record<string, unknown>) => void = () => {}): Uint8Array {
  const header: Record<string, unknown> = {
    format: 'mlpack',
    metadata: { mlpack_version: '0.1.0', created: '2024-01-02T03:04:05.000Z', source: null, producer: null, model: null, signature: null, user: {} },
    payload: { kind: 'object-graph', compression, checksum: 'sha256', bytes: graphBytes, graph_bytes: graphBytes, blob_offset: graphBytes, blob_bytes: 0, tensors: 0 },
  };
  patch(header);
  return PACKR.pack(header);
}

describe('hostile graph sections (checksums valid)', () => {
  it('a node tag nested 1,000,000 levels deep is MALFORMED (String() of it overflowed the stack)', { timeout: 20_000 }, async () => {
    const depth = 1_000_000;
    // [root [0], nodes [[<deep>]], tensors []]
    const graph = Buffer.concat([Buffer.from([0x93, 0x91, 0x00, 0x91, 0x91]), Buffer.alloc(depth, 0x91), Buffer.from([0xc0, 0x90])]);
    const bytes = assemble(graphHeader(graph.length), graph, graph.length);
    await noHang(() => rejectsWith(() => readEnvelope(sourceFromBytes('deep.mlpack', bytes)), 'MALFORMED', /unknown tag \[/));
  });

  it('a node id that is a deeply nested array is MALFORMED too', async () => {
    const graph = Buffer.concat([Buffer.from([0x93, 0x91]), Buffer.alloc(100_000, 0x91), Buffer.from([0xc0, 0x90, 0x90])]);
    const bytes = assemble(graphHeader(graph.length), graph, graph.length);
    await rejectsWith(() => readEnvelope(sourceFromBytes('deep.mlpack', bytes)), 'MALFORMED', /refers to node \[/);
  });

  it('a gzip payload of 40 million empty arrays is refused before decoding (2 GiB of heap otherwise)', { timeout: 30_000 }, async () => {
    const n = 40_000_000;
    const graph = Buffer.alloc(n + 8, 0x90);
    graph.set([0x93, 0x91, 0x00, 0xdd, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff], 0);
    const stored = gzipSync(graph, { level: 9 });
    assert.ok(stored.length < 100_000, `${stored.length} bytes`);
    const bytes = assemble(graphHeader(graph.length, 'gzip'), stored, graph.length);
    await noHang(() => rejectsWith(() => inspect(sourceFromBytes('bomb.mlpack', bytes)), 'MALFORMED', /arrays and maps/));
  });

  it('1,000 arrays naming one misaligned 8 MiB tensor share one copy (not 8 GiB of copies)', { timeout: 30_000 }, async () => {
    const n = 1000;
    const tensorBytes = 8 << 20;
    const dtype = [9, '<f8', 'float64', 'f', 8, '<', null, null, null, null, null];
    const arrays = Array.from({ length: n }, () => [8, [1], [tensorBytes / 8], 'numpy.ndarray', false, 0]);
    const list = [1, Array.from({ length: n }, (_, i) => [i + 2])];
    const graph = PACKR.pack([[0], [list, dtype, ...arrays], [[1, tensorBytes]]]);
    const blobOffset = alignUp(graph.length);
    const payload = new Uint8Array(blobOffset + tensorBytes + 1);
    payload.set(graph, 0);
    const header = graphHeader(payload.length, 'none', (h) => {
      Object.assign(h['payload'] as Record<string, unknown>, { graph_bytes: graph.length, blob_offset: blobOffset, blob_bytes: tensorBytes + 1, tensors: 1 });
    });
    const env = await noHang(() => readEnvelope(sourceFromBytes('shared.mlpack', assemble(header, payload, payload.length))));
    const items = env.object as Array<{ data: Float64Array }>;
    assert.equal(items.length, n);
    assert.equal(items[0]!.data.length, tensorBytes / 8);
    assert.ok(items.every((a) => a.data === items[0]!.data));
  });

  it('a list of 200,000 items (spread into push before) reads back', { timeout: 30_000 }, async () => {
    const list = Array.from({ length: 200_000 }, (_, i) => BigInt(i));
    const env = await readEnvelope(sourceFromBytes('list.mlpack', await envelopeBytes(list)));
    assert.equal((env.object as unknown[]).length, 200_000);
  });
});

describe('hostile headers (digest valid)', () => {
  it('64-bit integers in the metadata and payload come back as JSON-safe numbers', async () => {
    const graph = PACKR.pack([null, [], []]);
    const header = graphHeader(graph.length, 'none', (h) => {
      (h['metadata'] as Record<string, unknown>)['user'] = { n: 5n, huge: 2n ** 63n + 1n };
      (h['payload'] as Record<string, unknown>)['level'] = 3n;
      (h['payload'] as Record<string, unknown>)['bytes'] = BigInt(graph.length);
    });
    const r = await inspect(sourceFromBytes('ints.mlpack', assemble(header, graph, graph.length)));
    const doc = JSON.parse(JSON.stringify(r)) as typeof r;
    assert.deepEqual(doc.container?.['user_metadata'], { n: 5, huge: '9223372036854775809' });
    assert.equal(doc.container?.['level'], 3);
  });

  it('the CLI prints that document as JSON', { timeout: 120_000 }, () => {
    const graph = PACKR.pack([null, [], []]);
    const header = graphHeader(graph.length, 'none', (h) => {
      (h['metadata'] as Record<string, unknown>)['user'] = { n: 5n };
    });
    const dir = mkdtempSync(join(tmpdir(), 'mlpack-sec-'));
    try {
      const path = join(dir, 'ints.mlpack');
      writeFileSync(path, assemble(header, graph, graph.length));
      const r = runCli(['inspect', path, '--json'], { env: { NODE_OPTIONS: '--max-old-space-size=256' } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(assertCleanStderr(r.stderr), null, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as { container: { user_metadata: unknown } }).container.user_metadata, { n: 5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('metadata nested 1,000,000 levels deep is MALFORMED', { timeout: 20_000 }, async () => {
    const graph = PACKR.pack([null, [], []]);
    const header = Buffer.from(graphHeader(graph.length, 'none', (h) => ((h['metadata'] as Record<string, unknown>)['deep'] = 'PLACEHOLDER')));
    const marker = header.indexOf(Buffer.from([0xab, ...Buffer.from('PLACEHOLDER')]));
    assert.ok(marker > 0);
    const deep = Buffer.concat([Buffer.alloc(1_000_000, 0x91), Buffer.from([0xc0])]);
    const hostile = Buffer.concat([header.subarray(0, marker), deep, header.subarray(marker + 12)]);
    const bytes = assemble(hostile, graph, graph.length);
    await noHang(() => assert.throws(() => readEnvelopeMetadata(bytes, 'deep.mlpack'), /nests deeper than 64 levels/));
    await rejectsWith(() => inspect(sourceFromBytes('deep.mlpack', bytes)), 'MALFORMED', /nests deeper/);
  });

  it('the fixture-style header of a real envelope still reads unchanged', async () => {
    const real = await envelopeBytes([1n, 2n]);
    const parts = splitEnvelope(real);
    assert.deepEqual(readEnvelopeMetadata(real).metadata, parts.header['metadata']);
  });
});
