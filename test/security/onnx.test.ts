/**
 * ONNX models with more parts than a spread call can take, op types and metadata keys that
 * collide with Object.prototype, dims whose product overflows, and external data that points at
 * a FIFO, a symlink loop, an over-long path, or holds strings.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from '../../src/api/inspect.js';
import { readExternalData } from '../../src/formats/onnx/external.js';
import type { ExternalDataRef } from '../../src/formats/onnx/external.js';
import type { ModelProto } from '../../src/formats/onnx/gen/onnx-proto.js';
import { encodeModelProto } from '../../src/formats/onnx/proto.js';
import { sourceFromBytes } from '../../src/io/source.js';
import { rejectsWith, noHang } from './helpers.js';

function model(graph: NonNullable<ModelProto['graph']>, extra: Partial<ModelProto> = {}): Uint8Array {
  return encodeModelProto({ ir_version: 8, opset_import: [{ domain: '', version: 17 }], graph, ...extra } as ModelProto);
}

const FLOAT = 1;

describe('ONNX models with many parts', () => {
  it('200,000 initializers inspect (they used to be spread into push)', { timeout: 60_000 }, async () => {
    const initializer = Array.from({ length: 200_000 }, (_, i) => ({ name: `t${i}`, data_type: FLOAT, dims: [1], float_data: [i] }));
    const r = await inspect(sourceFromBytes('many.onnx', model({ name: 'g', initializer, node: [], input: [], output: [] })));
    assert.equal(r.tensors.length, 200_000);
    assert.deepEqual(r.container?.['external_data'], []);
  });

  it('a subgraph of 200,000 nodes inspects', { timeout: 60_000 }, async () => {
    const body = { name: 'body', node: Array.from({ length: 200_000 }, (_, i) => ({ op_type: 'Identity', input: [`x${i}`], output: [`y${i}`] })) };
    const ifNode = { op_type: 'If', input: ['c'], output: ['o'], attribute: [{ name: 'then_branch', type: 5, g: body }] };
    const r = await inspect(sourceFromBytes('sub.onnx', model({ name: 'g', node: [ifNode], input: [], output: [] })));
    assert.equal((r.model?.['subgraph_ops'] as Record<string, number>)['Identity'], 200_000);
  });
});

describe('names that collide with Object.prototype', () => {
  it('op types "constructor", "__proto__" and "toString" are counted; metadata keys kept', async () => {
    const node = ['constructor', 'constructor', '__proto__', 'toString'].map((op_type, i) => ({ op_type, input: [], output: [`o${i}`] }));
    const bytes = model({ name: 'g', node, input: [], output: [] }, { metadata_props: [{ key: '__proto__', value: 'x' }, { key: 'constructor', value: 'y' }] });
    const r = await inspect(sourceFromBytes('proto.onnx', bytes));
    const again = JSON.parse(JSON.stringify(r)) as typeof r;
    assert.deepEqual(again.model?.['ops'], JSON.parse('{"__proto__": 1, "constructor": 2, "toString": 1}'));
    assert.deepEqual(Object.entries(again.model?.['metadata'] as object), [['__proto__', 'x'], ['constructor', 'y']]);
  });
});

describe('tensor dims', () => {
  it('dims whose product overflows before a 0 give an empty tensor, not NaN', async () => {
    const dims = [...new Array<number>(40).fill(2 ** 52), 0];
    const r = await inspect(sourceFromBytes('dims.onnx', model({ name: 'g', initializer: [{ name: 'e', data_type: FLOAT, dims }], node: [], input: [], output: [] })));
    assert.equal(r.tensors[0]!.bytes, 0);
    assert.equal(r.model?.['n_params'], 0);
  });
});

describe('external data on a hostile file system', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlpack-onnx-ext-'));
    execFileSync('mkfifo', [join(dir, 'fifo.bin')]);
    symlinkSync('loop-b', join(dir, 'loop-a'));
    symlinkSync('loop-a', join(dir, 'loop-b'));
    writeFileSync(join(dir, 'data.bin'), Buffer.alloc(16));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const ref = (location: string): ExternalDataRef => ({ tensor: 't', location, offset: 0, length: null, checksum: null });

  it('a FIFO is MALFORMED at once (opening it would block until a writer came)', { timeout: 20_000 }, async () => {
    await noHang(() => rejectsWith(() => readExternalData(ref('fifo.bin'), dir, 16, 'm.onnx'), 'MALFORMED', /not a regular file/));
  });

  it('a symlink loop and an over-long location are MALFORMED, not internal errors', async () => {
    await rejectsWith(() => readExternalData(ref('loop-a'), dir, 16, 'm.onnx'), 'MALFORMED', /loop of symlinks/);
    await rejectsWith(() => readExternalData(ref(`${'x'.repeat(300)}/`.repeat(20)), dir, 16, 'm.onnx'), 'MALFORMED', /too long|does not exist/);
  });

  it('data of no fixed size (string or unknown dtype) is UNSUPPORTED instead of reading the whole file', async () => {
    await rejectsWith(() => readExternalData(ref('data.bin'), dir, null, 'm.onnx'), 'UNSUPPORTED', /no fixed size/);
    assert.equal((await readExternalData(ref('data.bin'), dir, 16, 'm.onnx')).length, 16);
  });
});
