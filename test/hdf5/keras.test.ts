/**
 * The Keras HDF5 reader against fixtures/keras (written by fixtures/generate/gen_keras.py in
 * Keras' exact layouts): layers, configs, inbound graph, weight names/shapes/dtypes/values,
 * optimizer state, safety findings and the error codes of broken files.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MlpackError } from '../../src/errors.js';
import { handler } from '../../src/formats/hdf5/handler.js';
import { readKerasModel, readKerasWeights } from '../../src/formats/hdf5/keras.js';
import type { KerasTensor } from '../../src/formats/hdf5/keras.js';
import { halfToNumber } from '../../src/ir/dtype.js';
import { readJSON } from '../helpers.js';
import { fixture } from '../paths.js';

interface ManifestTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
  sha256: string;
  first: number[];
}
interface ManifestWeight extends ManifestTensor {
  weight_name: string;
  hdf5_path: string;
  tensor: string;
}
interface ManifestLayer {
  name: string;
  class: string;
  inbound: { layer: string; node_index: number; tensor_index: number }[][];
  in_layer_names: boolean;
  weights: ManifestWeight[];
}
interface ManifestEntry {
  file: string;
  error?: 'MALFORMED' | 'UNSUPPORTED';
  exit_code?: number;
  hangs_hdf5?: boolean;
  keras_version: string;
  backend: string | null;
  layout: 'full-model' | 'weights-only';
  model_class: string | null;
  model_name: string | null;
  layer_names: string[];
  layers: ManifestLayer[] | null;
  inputs: { name: string; shape: Array<number | null>; dtype: string }[] | null;
  outputs: string[] | null;
  training: { optimizer: string; loss: unknown; metrics: unknown } | null;
  tensors: ManifestTensor[];
  optimizer_weights: string[];
  safety: {
    verdict: 'safe' | 'unsafe';
    globals: string[];
    findings: { global: string; severity: string; layer: string; code?: { co_name: string; co_filename: string; co_firstlineno: number } }[];
  };
  expected: string | null;
}
interface Expected {
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

const MANIFEST = readJSON<{ files: ManifestEntry[] }>(fixture('keras', 'manifest.json'));
const MODELS = MANIFEST.files.filter((e) => e.error === undefined);
const BROKEN = MANIFEST.files.filter((e) => e.error !== undefined);

function source(name: string): { path: string; bytes: Uint8Array } {
  const path = fixture('keras', name);
  return { path, bytes: readFileSync(path) };
}

function leBytes(t: KerasTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function firstValues(t: KerasTensor, n: number): number[] {
  const head = Array.from(t.data.subarray(0, n) as ArrayLike<number | bigint>, (v) => Number(v));
  return t.dtype === 'float16' ? head.map(halfToNumber) : head;
}

describe('keras fixtures: structure', () => {
  for (const entry of MODELS) {
    it(entry.file, async () => {
      const m = await readKerasModel(source(entry.file));
      assert.equal(m.layout, entry.layout);
      assert.equal(m.keras_version, entry.keras_version);
      assert.equal(m.backend, entry.backend);
      assert.deepEqual(m.layer_names, entry.layer_names);
      if (entry.layout === 'full-model') {
        assert.equal(m.model_class, entry.model_class);
        assert.equal(m.model_name, entry.model_name);
        const layers = entry.layers!;
        assert.deepEqual(m.layers.map((l) => [l.name, l.class_name]), layers.map((l) => [l.name, l.class]));
        for (const [i, l] of layers.entries()) {
          const got = m.layers[i]!;
          assert.deepEqual(got.inbound, l.inbound, `inbound of ${l.name}`);
          assert.equal(got.in_layer_names, l.in_layer_names, `in_layer_names of ${l.name}`);
          assert.deepEqual(
            got.weights.map((w) => ({ weight_name: w.weight_name, hdf5_path: w.hdf5_path, tensor: w.name, dtype: w.dtype, shape: w.shape })),
            l.weights.map((w) => ({ weight_name: w.weight_name, hdf5_path: w.hdf5_path, tensor: w.tensor, dtype: w.dtype, shape: w.shape })),
            `weights of ${l.name}`,
          );
          assert.ok(got.config && typeof got.config === 'object');
        }
        assert.deepEqual(m.inputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype })), entry.inputs);
        assert.deepEqual(m.outputs.map((o) => o.name), entry.outputs);
        if (entry.training === null) assert.equal(m.training, null);
        else {
          assert.equal(m.training?.optimizer, entry.training.optimizer);
          assert.deepEqual(m.training?.loss, entry.training.loss);
          assert.deepEqual(m.training?.metrics, entry.training.metrics);
        }
      } else {
        assert.equal(m.model_class, null);
        assert.deepEqual(m.layers.map((l) => [l.name, l.class_name]), entry.layer_names.map((n) => [n, null]));
      }
      assert.deepEqual(m.optimizer_weights.map((w) => w.weight_name), entry.optimizer_weights);
    });
  }
});

describe('keras fixtures: weight values', () => {
  for (const entry of MODELS) {
    it(entry.file, async () => {
      const { tensors } = await readKerasWeights(source(entry.file), { optimizer: true });
      assert.deepEqual(
        tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
        entry.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
      );
      for (const [i, want] of entry.tensors.entries()) {
        const t = tensors[i]!;
        assert.equal(t.data.byteLength, want.bytes, `${t.name} bytes`);
        assert.equal(createHash('sha256').update(leBytes(t)).digest('hex'), want.sha256, `${t.name} sha256`);
        assert.deepEqual(firstValues(t, want.first.length), want.first, `${t.name} first values`);
      }
    });
  }
});

describe('keras fixtures: safety', () => {
  for (const entry of MODELS) {
    it(entry.file, async () => {
      const m = await readKerasModel(source(entry.file));
      assert.equal(m.safety.verdict, entry.safety.verdict);
      assert.deepEqual(m.safety.globals, entry.safety.globals);
      assert.deepEqual(
        m.safety.findings.map((f) => [f.global, f.severity]),
        entry.safety.findings.map((f) => [f.global, f.severity]),
      );
      for (const [i, f] of entry.safety.findings.entries()) {
        const got = m.safety.findings[i]!;
        assert.match(got.message ?? '', new RegExp(`\\b${f.layer}\\b`), 'the finding names the layer');
        if (f.code) {
          const lambda = m.lambdas.find((l) => l.layer === f.layer);
          assert.equal(lambda?.code?.name, f.code.co_name);
          assert.equal(lambda?.code?.filename, f.code.co_filename);
          assert.equal(lambda?.code?.firstlineno, f.code.co_firstlineno);
          assert.match(got.message ?? '', /model\.py, line 12/);
        }
      }
    });
  }

  it('scan reports the Lambda fixture unsafe and the MLP safe', async () => {
    const lambda = await handler.scan!(source('lambda.h5'), { format: 'keras-h5' });
    assert.equal(lambda.verdict, 'unsafe');
    assert.equal(lambda.format, 'keras-h5');
    assert.equal(lambda.findings[0]?.severity, 'critical');
    assert.equal(lambda.findings[0]?.global, 'keras.layers.Lambda');
    const mlp = await handler.scan!(source('mlp.h5'), { format: 'keras-h5' });
    assert.equal(mlp.verdict, 'safe');
    assert.deepEqual(mlp.findings, []);
  });
});

describe('keras fixtures: expected forward-pass files match the graph', () => {
  for (const entry of MODELS.filter((e) => e.expected)) {
    it(entry.file, async () => {
      const m = await readKerasModel(source(entry.file));
      const exp = readJSON<Expected>(fixture('keras', entry.expected!));
      assert.deepEqual(Object.keys(exp.inputs).sort(), m.inputs.map((i) => i.name).sort());
      assert.deepEqual(Object.keys(exp.outputs).sort(), m.outputs.map((o) => o.name).sort());
    });
  }
});

/** Per-row shape of a nested array (the numpy output of one row). */
function rowShape(v: unknown): number[] {
  const shape: number[] = [];
  for (let x = v; Array.isArray(x); x = x[0]) shape.push(x.length);
  return shape;
}

describe('keras inspect: output shapes inferred from the network equal the generator\'s numpy outputs', () => {
  for (const entry of MODELS.filter((e) => e.expected)) {
    it(entry.file, async () => {
      const doc = await handler.inspect(source(entry.file), { format: 'keras-h5' }, {});
      const exp = readJSON<Expected>(fixture('keras', entry.expected!));
      const outputs = doc.model?.['outputs'] as { name: string; shape: Array<number | null> | null; dtype: string | null }[];
      assert.ok(outputs.length > 0);
      if ((doc.safety as { verdict: string }).verdict === 'unsafe') {
        // A Lambda or custom layer is not evaluated (and not built): the shape stays unknown.
        assert.deepEqual(outputs.map((o) => [o.shape, o.dtype]), outputs.map(() => [null, null]));
        return;
      }
      for (const o of outputs) {
        const rows = exp.outputs[o.name] as unknown[];
        assert.deepEqual(o.shape, [null, ...rowShape(rows[0])], o.name);
        assert.equal(o.dtype, 'float32');
      }
    });
  }

});

describe('keras inspect document (CLI.md keras-h5)', () => {
  it('mlp.h5', async () => {
    const doc = await handler.inspect(source('mlp.h5'), { format: 'keras-h5' }, {});
    assert.equal(doc.format, 'keras-h5');
    assert.deepEqual(doc.producer, { library: 'keras', version: '2.2.4', backend: 'tensorflow' });
    assert.equal(doc.container['layout'], 'full-model');
    assert.deepEqual(doc.container['hdf5_superblock'], { offset: 0, version: 0 });
    assert.equal(doc.model?.class, 'Sequential');
    assert.equal(doc.model?.kind, 'network');
    const layers = doc.model?.['layers'] as { name: string; class: string; config: Record<string, unknown>; inbound: unknown[] }[];
    assert.deepEqual(layers.map((l) => l.class), ['Dense', 'Dropout', 'Dense']);
    assert.equal(layers[0]?.config['units'], 16);
    assert.deepEqual(layers[1]?.inbound, [[{ layer: 'dense_1', node_index: 0, tensor_index: 0 }]]);
    assert.deepEqual(doc.model?.['inputs'], [{ name: 'dense_1_input', shape: [null, 8], dtype: 'float32' }]);
    assert.deepEqual((doc.model?.['outputs'] as { name: string }[]).map((o) => o.name), ['dense_2']);
    assert.deepEqual(
      (doc.model?.['training'] as { optimizer: string; loss: string; metrics: string[] }),
      {
        optimizer: 'Adam',
        loss: 'categorical_crossentropy',
        metrics: ['accuracy'],
        optimizer_config: (doc.model?.['training'] as { optimizer_config: unknown }).optimizer_config,
      },
    );
    assert.equal(doc.model?.['n_params'], 8 * 16 + 16 + 16 * 3 + 3);
    assert.deepEqual(doc.tensors.slice(0, 2), [
      { name: 'dense_1/kernel', dtype: 'float32', shape: [8, 16], bytes: 512 },
      { name: 'dense_1/bias', dtype: 'float32', shape: [16], bytes: 64 },
    ]);
    assert.equal(doc.tensors[4]?.name, 'optimizer/Adam/iterations');
    assert.equal(doc.safety?.verdict, 'safe');
    assert.doesNotThrow(() => JSON.stringify(doc));
  });

  it('a weights-only file has no architecture but lists every weight', async () => {
    const doc = await handler.inspect(source('mlp_weights_only.h5'), { format: 'keras-h5' }, {});
    assert.equal(doc.container['layout'], 'weights-only');
    assert.equal(doc.container['weights_root'], '/');
    assert.equal(doc.model?.['training'], null);
    assert.deepEqual(doc.tensors.map((t) => t.name), ['dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias']);
  });
});

describe('broken keras files', () => {
  for (const entry of BROKEN) {
    it(`${entry.file} → ${entry.error}`, async () => {
      // HDF5 never returns on hdf5_loop.h5: the worker deadline must turn that into an error.
      const options = entry.hangs_hdf5 ? { timeoutMs: 2000 } : {};
      await assert.rejects(readKerasModel(source(entry.file), options), (err: unknown) => {
        assert.ok(err instanceof MlpackError, String(err));
        assert.equal(err.code, entry.error);
        assert.equal(err.exitCode, entry.exit_code);
        assert.ok(err.message.includes(entry.file), err.message);
        if (entry.hangs_hdf5) assert.match(err.message, /did not finish reading the file within 2\.0 s/);
        return true;
      });
    });
  }

  it('after a timed-out file, the next file reads normally (fresh worker)', async () => {
    await assert.rejects(readKerasModel(source('hdf5_loop.h5'), { timeoutMs: 1000 }));
    const m = await readKerasModel(source('mlp.h5'));
    assert.deepEqual(m.layer_names, ['dense_1', 'dropout_1', 'dense_2']);
  });

  it('a corrupted symbol table is MALFORMED, with HDF5 quoted', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('keras', 'mlp.h5')));
    for (let i = 2000; i < bytes.length; i += 97) bytes[i] = bytes[i]! ^ 0x5a;
    await assert.rejects(readKerasWeights({ path: 'corrupt.h5', bytes }), (err: unknown) => {
      assert.ok(err instanceof MlpackError, String(err));
      assert.equal(err.code, 'MALFORMED');
      assert.match(err.message, /^corrupt\.h5: HDF5 could not read /);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
  });

  it('a model_config that is not JSON is MALFORMED', async () => {
    // Same length as the real attribute so the file layout stays intact.
    const bytes = new Uint8Array(readFileSync(fixture('keras', 'keras1.h5')));
    const text = Buffer.from(bytes).toString('latin1');
    const at = text.indexOf('{"config": [');
    assert.ok(at > 0);
    bytes[at] = 0x3c; // '<'
    await assert.rejects(readKerasModel({ path: 'bad-json.h5', bytes }), (err: unknown) => {
      assert.ok(err instanceof MlpackError);
      assert.equal(err.code, 'MALFORMED');
      assert.equal(err.field, 'model_config');
      return true;
    });
  });
});
