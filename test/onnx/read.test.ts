import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MlpackError } from '../../src/errors.js';
import { ModelBuilder } from '../../src/formats/onnx/builder.js';
import { detectOnnx } from '../../src/formats/onnx/detect.js';
import { TensorProtoDataType as DT, type TensorProto } from '../../src/formats/onnx/gen/onnx-proto.js';
import { handler } from '../../src/formats/onnx/handler.js';
import { inspectModel } from '../../src/formats/onnx/inspect.js';
import { toInt64 } from '../../src/formats/onnx/int64.js';
import { decodeModel, decodeTensor, formatValueType, tensorByteSize, valueType } from '../../src/formats/onnx/read.js';
import { attr, encodeModel } from '../../src/formats/onnx/write.js';
import { fixture } from '../paths.js';
import { rejectsWith } from './helpers.js';

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

function small(): Uint8Array {
  const b = new ModelBuilder({ producerName: 'p', producerVersion: '1' });
  const x = b.addInput('X', 'float32', ['N', 2]);
  const w = b.addInitializer('W', 'float32', [2, 2], [1, 2, 3, 4]);
  b.addOutput(b.op('MatMul', [x, w]), 'float32', ['N', 2], { rename: 'Y' });
  return encodeModel(b.build());
}

describe('decodeModel', () => {
  it('refuses truncated protobuf as MALFORMED with the offset', async () => {
    const bytes = small();
    for (const cut of [bytes.length - 1, bytes.length - 30, 12]) {
      const e = await rejectsWith(() => decodeModel(bytes.subarray(0, cut), 'm.onnx'), 'MALFORMED', /m\.onnx is truncated or corrupt: a protobuf field (at offset \d+ needs \d+ bytes but only \d+ remain|claims more bytes than)/);
      assert.equal(e.file, 'm.onnx');
    }
    const e = await rejectsWith(() => handler.inspect({ path: 'cut.onnx', bytes: bytes.subarray(0, bytes.length - 3) }, { format: 'onnx' }, {}), 'MALFORMED');
    assert.equal(e.file, 'cut.onnx');
  });

  it('is still detected as ONNX when truncated, so the reader can say so', () => {
    const bytes = small();
    assert.deepEqual(detectOnnx(bytes), { format: 'onnx' });
    assert.deepEqual(detectOnnx(bytes.subarray(0, bytes.length - 10)), { format: 'onnx' });
    assert.equal(detectOnnx(new TextEncoder().encode('{"not": "onnx"}')), null);
    assert.equal(detectOnnx(new Uint8Array([0x80, 0x04, 0x95])), null);
    assert.equal(detectOnnx(new Uint8Array(0)), null);
  });

  it('refuses garbage, a model without graph, and absurd nesting', async () => {
    await rejectsWith(() => decodeModel(new Uint8Array([0x08, 0x07, 0x3a, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff]), 'g.onnx'), 'MALFORMED');
    await rejectsWith(() => decodeModel(encodeModel({ ir_version: 8, producer_name: 'x' }), 'n.onnx'), 'MALFORMED', /n\.onnx has no graph/);
    // TypeProto nested 200 deep, sequence(sequence(...)), written by hand (the encoder refuses it too).
    const field = (n: number, body: Uint8Array): Uint8Array => Buffer.concat([Buffer.from([(n << 3) | 2]), varint(body.length), body]);
    let type: Uint8Array = field(1, Buffer.from([0x08, DT.FLOAT])); // TypeProto.tensor_type{elem_type}
    for (let i = 0; i < 200; i++) type = field(4, field(1, type)); // TypeProto.sequence_type → Sequence.elem_type
    const deep = Buffer.concat([Buffer.from([0x08, 0x08]), field(7, field(11, field(2, type)))]);
    await rejectsWith(() => decodeModel(deep, 'd.onnx'), 'MALFORMED', /nests messages deeper than 100 levels/);
  });

  it('keeps raw_data as a view of the input', () => {
    const bytes = Buffer.from(small());
    const model = decodeModel(bytes);
    const raw = model.graph!.initializer![0]!.raw_data!;
    assert.equal(raw.buffer, bytes.buffer);
    const t = decodeTensor(model.graph!.initializer![0]!);
    assert.deepEqual(Array.from(t.data as Float32Array), [1, 2, 3, 4]);
  });
});

describe('decodeTensor', () => {
  const tensor = (over: Partial<TensorProto>): TensorProto => ({ name: 't', data_type: DT.FLOAT, dims: [2], ...over });

  it('checks raw_data and typed field lengths against the shape', async () => {
    await rejectsWith(() => decodeTensor(tensor({ raw_data: new Uint8Array(7) }), { file: 'm.onnx' }), 'MALFORMED', /tensor "t" has 7 bytes of float32 data, its shape \[2\] needs 8/);
    await rejectsWith(() => decodeTensor(tensor({ float_data: [1] })), 'MALFORMED', /1 values in float_data, its float32 shape \[2\] needs 2/);
    await rejectsWith(() => decodeTensor(tensor({})), 'MALFORMED', /0 values in float_data/);
    await rejectsWith(() => decodeTensor(tensor({ data_type: DT.STRING, string_data: [new Uint8Array(1)] })), 'MALFORMED', /string tensor "t" has 1 elements, its shape needs 2/);
    await rejectsWith(() => decodeTensor(tensor({ data_type: 0 })), 'MALFORMED', /has no data_type/);
    await rejectsWith(() => decodeTensor(tensor({ data_type: 99 })), 'UNSUPPORTED', /element type 99/);
    await rejectsWith(() => decodeTensor(tensor({ dims: [-1] })), 'MALFORMED', /negative dimension/);
    await rejectsWith(() => decodeTensor(tensor({ dims: Array(65).fill(1) })), 'MALFORMED', /65 dimensions/);
    await rejectsWith(() => decodeTensor(tensor({ dims: [2 ** 20, 2 ** 20, 2 ** 10] })), 'MALFORMED', /claims \d+ elements/);
    await rejectsWith(() => decodeTensor(tensor({ dims: [toInt64(2n ** 60n)] })), 'MALFORMED', /beyond the range/);
    await rejectsWith(() => decodeTensor(tensor({ data_type: DT.INT4, raw_data: new Uint8Array(1) })), 'UNSUPPORTED', /packed int4/);
  });

  it('copies misaligned raw_data', () => {
    const buf = new Uint8Array(9);
    new DataView(buf.buffer).setFloat32(1, 1.5, true);
    new DataView(buf.buffer).setFloat32(5, -2, true);
    const t = decodeTensor(tensor({ raw_data: buf.subarray(1) }));
    assert.deepEqual(Array.from(t.data as Float32Array), [1.5, -2]);
  });

  it('sizes packed and string tensors', () => {
    assert.equal(tensorByteSize(tensor({ data_type: DT.INT4, dims: [5] })), 3);
    assert.equal(tensorByteSize(tensor({ data_type: DT.UINT2, dims: [5] })), 2);
    assert.equal(tensorByteSize(tensor({ data_type: DT.STRING, string_data: [new Uint8Array(3), new Uint8Array(4)] })), 7);
  });
});

describe('value types', () => {
  it('reads symbolic, unknown and missing dims', () => {
    const t = valueType({ tensor_type: { elem_type: DT.FLOAT, shape: { dim: [{ dim_param: 'batch' }, {}, { dim_value: 3 }] } } });
    assert.deepEqual(t, { kind: 'tensor', dtype: 'float32', shape: ['batch', null, 3] });
    assert.deepEqual(valueType({ tensor_type: { elem_type: DT.INT64 } }), { kind: 'tensor', dtype: 'int64', shape: null });
    assert.equal(formatValueType(valueType({ map_type: { key_type: DT.STRING, value_type: { tensor_type: { elem_type: DT.DOUBLE } } } })), 'map(string,tensor(float64))');
    assert.equal(formatValueType(valueType({ optional_type: { elem_type: { sequence_type: { elem_type: { tensor_type: { elem_type: DT.BOOL } } } } } })), 'optional(seq(tensor(bool)))');
    assert.equal(formatValueType(valueType({ opaque_type: { domain: 'com.x', name: 'Thing' } })), 'opaque(com.x.Thing)');
    assert.equal(formatValueType(valueType({})), 'unknown');
  });
});

describe('inspectModel', () => {
  it('reports a built classifier like CLI.md asks', () => {
    const b = new ModelBuilder({ producerName: 'mlpack', producerVersion: '0.1.0', domain: 'org.example', modelVersion: 3, graphName: 'clf' });
    const x = b.addInput('X', 'float32', ['N', 4]);
    const w = b.addInitializer('coef', 'float32', [4, 3], new Float32Array(12));
    const c = b.addInitializer('intercept', 'float64', [3], [0, 0, 0]);
    const z = b.op('Gemm', [x, w, b.op('Cast', [c], { to: attr.int(DT.FLOAT) })]);
    b.addOutput(b.op('ArgMax', [z], { axis: attr.int(1), keepdims: attr.int(0) }), 'int64', ['N'], { rename: 'label' });
    b.addOutput(b.op('Softmax', [z]), 'float32', ['N', 3], { rename: 'probabilities' });
    b.setMetadata('sklearn_class', 'LogisticRegression');
    const r = inspectModel(decodeModel(encodeModel(b.build())), 'clf.onnx');
    assert.equal(r.format, 'onnx');
    assert.deepEqual(r.container, { ir_version: 10, opset_import: [{ domain: '', version: 21 }], external_data: [] });
    assert.deepEqual(r.producer, { library: 'mlpack', version: '0.1.0', domain: 'org.example', model_version: 3 });
    const m = r.model!;
    assert.equal(m.class, 'onnx.ModelProto');
    assert.equal(m.kind, 'classifier');
    assert.equal(m.graph, 'clf');
    assert.deepEqual(m.inputs, [{ name: 'X', dtype: 'float32', shape: ['N', 4], type: 'tensor(float32)', is_initializer: false }]);
    assert.deepEqual(m.outputs, [
      { name: 'label', dtype: 'int64', shape: ['N'], type: 'tensor(int64)' },
      { name: 'probabilities', dtype: 'float32', shape: ['N', 3], type: 'tensor(float32)' },
    ]);
    assert.deepEqual(m.feeds, ['X']);
    assert.deepEqual(m.ops, { ArgMax: 1, Cast: 1, Gemm: 1, Identity: 2, Softmax: 1 });
    assert.deepEqual(m.metadata, { sklearn_class: 'LogisticRegression' });
    assert.deepEqual(m.output_roles, { label: 'label', probabilities: 'probabilities' });
    assert.equal(m.classes, null);
    assert.equal(m.n_params, 15);
    assert.deepEqual(r.tensors, [
      { name: 'coef', dtype: 'float32', shape: [4, 3], bytes: 48 },
      { name: 'intercept', dtype: 'float64', shape: [3], bytes: 24 },
    ]);
    assert.equal(r.warnings, undefined);
    assert.equal('safety' in r, false);
  });

  it('flags custom domains and versions beyond onnxruntime, and classifies by op', () => {
    const b = new ModelBuilder({ opsets: { '': 27 }, irVersion: 14 });
    const x = b.addInput('X', 'float32', [1]);
    b.addOutput(b.op('Foo', [x], {}, { domain: 'com.example' }), 'float32', [1]);
    b.addOutput(b.op('FusedGemm', [x], {}, { domain: 'com.microsoft' }), 'float32', [1]);
    const r = inspectModel(b.build());
    assert.deepEqual(r.warnings, [
      'uses the custom operator domain "com.example" (Foo): it needs a runtime that implements these operators',
      'uses onnxruntime\'s contrib domain "com.microsoft" (FusedGemm): only onnxruntime runs these operators',
      'opset ai.onnx 27 is newer than onnxruntime-node 1.30.0 runs (26)',
      'ir_version 14 is newer than onnxruntime-node 1.30.0 reads (13)',
    ]);
    assert.equal(r.model!.kind, 'network');
    assert.deepEqual(r.model!.ops, { 'com.example:Foo': 1, 'com.microsoft:FusedGemm': 1 });

    const t = new ModelBuilder();
    const y = t.addInput('X', 'float32', [1]);
    t.addOutput(t.op('Scaler', [y], { scale: attr.floats([1]), offset: attr.floats([0]) }, { domain: 'ai.onnx.ml' }), 'float32', [1]);
    assert.equal(inspectModel(t.build()).model!.kind, 'transformer');
    const r2 = new ModelBuilder();
    const z = r2.addInput('X', 'float32', [1]);
    r2.addOutput(r2.op('LinearRegressor', [z], { coefficients: attr.floats([1]) }, { domain: 'ai.onnx.ml' }), 'float32', [1]);
    assert.equal(inspectModel(r2.build()).model!.kind, 'regressor');
  });

  it('a model_kind metadata prop naming a CLI.md kind wins over the graph shape; anything else is ignored', () => {
    const build = (kind: string) => {
      const b = new ModelBuilder();
      const x = b.addInput('X', 'float32', [1, 2]);
      b.addOutput(b.op('ReduceSum', [x], {}), 'float32', [1]);
      b.setMetadata('model_kind', kind);
      return inspectModel(b.build()).model!.kind;
    };
    assert.equal(build('clusterer'), 'clusterer');
    assert.equal(build('outlier_detector'), 'outlier_detector');
    assert.equal(build('spaceship'), 'network');
    assert.equal(build('__proto__'), 'network');
  });

  it('counts subgraph nodes apart and lists non-tensor outputs readably', () => {
    const b = new ModelBuilder();
    const cond = b.addInput('cond', 'bool', []);
    const x = b.addInput('x', 'float32', [2]);
    const g1 = b.subgraph('then');
    g1.addOutput(g1.op('Neg', [x]), 'float32', [2]);
    const g2 = b.subgraph('else');
    g2.addOutput(g2.op('Abs', [x]), 'float32', [2]);
    const y = b.op('If', [cond], { then_branch: attr.graph(g1.buildGraph()), else_branch: attr.graph(g2.buildGraph()) });
    b.addOutputOfType(b.op('SequenceConstruct', [y]), { kind: 'sequence', elem: { kind: 'tensor', dtype: 'float32', shape: [2] } });
    const m = inspectModel(b.build()).model!;
    assert.deepEqual(m.ops, { If: 1, SequenceConstruct: 1 });
    assert.deepEqual(m.subgraph_ops, { Abs: 1, Neg: 1 });
    assert.deepEqual(m.outputs, [{ name: 'SequenceConstruct_out', dtype: null, shape: null, type: 'seq(tensor(float32))' }]);
  });

  it('matches the typed-fields fixture written by onnx.helper', async () => {
    const path = fixture('onnx', 'typed_fields.onnx');
    const r = await handler.inspect({ path, bytes: readFileSync(path) }, { format: 'onnx' }, {});
    const t = Object.fromEntries(r.tensors.map((x) => [x.name, x]));
    assert.deepEqual(t.str_string_data, { name: 'str_string_data', dtype: 'string', shape: [3], bytes: 10 });
    assert.deepEqual(t.c64_float_data, { name: 'c64_float_data', dtype: 'complex64', shape: [2], bytes: 16 });
    assert.deepEqual(t.empty_f32, { name: 'empty_f32', dtype: 'float32', shape: [0, 4], bytes: 0 });
  });
});

describe('fuzz', () => {
  it('mutated models decode, inspect and read their tensors or fail with an MlpackError', () => {
    const seeds = [small(), readFileSync(fixture('onnx', 'typed_fields.onnx')), readFileSync(fixture('onnx', 'zipmap_linear.onnx'))];
    fc.assert(
      fc.property(
        fc.nat(seeds.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        (which, edits, cut) => {
          const src = seeds[which]!;
          const bytes = Buffer.from(src);
          for (const [pos, value] of edits) bytes[pos % bytes.length] = value;
          const input = cut === undefined ? bytes : bytes.subarray(0, cut % bytes.length);
          try {
            const model = decodeModel(input, 'fuzz.onnx');
            inspectModel(model, 'fuzz.onnx');
            for (const t of model.graph!.initializer ?? []) {
              try {
                decodeTensor(t, { file: 'fuzz.onnx' });
              } catch (err) {
                if (!(err instanceof MlpackError)) throw err;
              }
            }
          } catch (err) {
            if (!(err instanceof MlpackError)) throw err;
          }
        },
      ),
      { numRuns: 3000, seed: 42 },
    );
  });
});
