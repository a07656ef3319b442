/** CLI.md "mlpack inspect": the JSON document, common fields and every per-format block. */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { F, json, runCli, sha256, tempDir } from './helpers.js';

interface Doc {
  file: string;
  size_bytes: number;
  sha256: string;
  format: string;
  container: Record<string, unknown>;
  producer: Record<string, unknown> | null;
  model: Record<string, unknown> & { class: string; kind: string };
  tensors: Array<{ name: string; dtype: string; shape: number[]; bytes: number; stride?: number[]; storage_offset?: number }>;
  safety?: { verdict: string; globals: string[]; findings: Array<{ global?: string; severity: string; offset?: number }> };
}

function inspect(path: string): Doc {
  const r = runCli(['inspect', path, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return json<Doc>(r);
}

const KINDS = ['classifier', 'regressor', 'transformer', 'clusterer', 'outlier_detector', 'network', 'unknown', 'state_dict', 'checkpoint', 'module', 'torchscript'];

/** The fields every document carries, whatever the format. */
function common(doc: Doc, path: string, format: string): void {
  assert.equal(doc.file, path);
  assert.equal(doc.size_bytes, statSync(path).size);
  assert.equal(doc.sha256, sha256(path));
  assert.equal(doc.format, format);
  assert.ok(doc.container && typeof doc.container === 'object');
  assert.ok('producer' in doc && 'model' in doc);
  assert.ok(Array.isArray(doc.tensors), 'tensors is always present in --json');
  for (const t of doc.tensors) {
    assert.equal(typeof t.name, 'string');
    assert.equal(typeof t.dtype, 'string');
    assert.ok(Array.isArray(t.shape));
    assert.equal(typeof t.bytes, 'number');
  }
  if (['pickle', 'joblib', 'torch', 'keras-h5'].includes(format)) {
    assert.ok(doc.safety, `safety is present for ${format}`);
    assert.ok(['safe', 'unsafe'].includes(doc.safety.verdict));
    assert.ok(Array.isArray(doc.safety.globals) && Array.isArray(doc.safety.findings));
  } else if (format !== 'mlpack') {
    // An envelope holds a decoded object graph and reports its globals; onnx/safetensors cannot carry code.
    assert.equal(doc.safety, undefined, `${format} carries no code`);
  }
  if (doc.model) assert.ok(KINDS.includes(doc.model.kind), doc.model.kind);
}

describe('CLI.md inspect: pickle and joblib', () => {
  it('joblib: container protocol/compression, producer from _sklearn_version, model tree, tensors, safety', () => {
    const doc = inspect(F.pipeline);
    common(doc, F.pipeline, 'joblib');
    assert.equal(doc.container['protocol'], 4);
    assert.equal(doc.container['compression'], 'zlib');
    assert.deepEqual([doc.producer!['library'], doc.producer!['version']], ['scikit-learn', '1.2.1']);
    assert.equal(doc.model.class, 'sklearn.pipeline.Pipeline');
    assert.equal(doc.model.kind, 'classifier');
    assert.equal(doc.model['n_features_in'], 30);
    assert.equal(doc.model['feature_names'], null);
    assert.deepEqual(doc.model['classes'], [0, 1]);
    assert.equal(typeof doc.model['params'], 'object');
    const steps = doc.model['steps'] as Array<{ name: string; class: string }>;
    assert.deepEqual(steps.map((s) => [s.name, s.class]), [
      ['scaler', 'sklearn.preprocessing._data.StandardScaler'],
      ['clf', 'sklearn.linear_model._logistic.LogisticRegression'],
    ]);
    assert.deepEqual(doc.tensors.find((t) => t.name === 'steps[1].coef_'), { name: 'steps[1].coef_', dtype: 'float64', shape: [1, 30], bytes: 240 });
    assert.equal(doc.safety!.verdict, 'safe');
    assert.ok(doc.safety!.globals.includes('sklearn.pipeline.Pipeline'));
  });

  it('pickle: compression null, feature names, no steps for a single estimator', () => {
    const doc = inspect(F.irisPickle);
    common(doc, F.irisPickle, 'pickle');
    assert.equal(doc.container['protocol'], 2);
    assert.equal(doc.container['compression'], null);
    assert.deepEqual(doc.model['feature_names'], ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)']);
    assert.equal(doc.model['n_features_in'], 4);
    assert.deepEqual(doc.model['classes'], [0, 1, 2]);
  });

  it('string class labels stay strings', () => {
    const classes = inspect(F.strings).model['classes'] as unknown[];
    assert.ok(classes.length > 0 && classes.every((c) => typeof c === 'string'));
  });

  it('an unsafe pickle: verdict unsafe, findings {global, severity, offset}', () => {
    const doc = inspect(F.evil);
    assert.equal(doc.safety!.verdict, 'unsafe');
    const f = doc.safety!.findings[0]!;
    assert.deepEqual([f.global, f.severity, f.offset], ['os.system', 'critical', 0]);
  });

  it('--tensors lists the tensors in the human view; without it they are only counted', () => {
    const withTensors = runCli(['inspect', F.pipeline, '--tensors']);
    assert.equal(withTensors.status, 0);
    assert.match(withTensors.stdout, /steps\[1\]\.coef_/);
    const without = runCli(['inspect', F.pipeline]);
    assert.doesNotMatch(without.stdout, /steps\[1\]\.coef_/);
    assert.match(without.stdout, /--tensors/);
  });
});

describe('CLI.md inspect: keras-h5', () => {
  it('full model: producer {library, version, backend}, layout, layers, inputs/outputs, training, tensor names', () => {
    const doc = inspect(F.kerasFunctional);
    common(doc, F.kerasFunctional, 'keras-h5');
    assert.deepEqual(doc.producer, { library: 'keras', version: '2.2.4', backend: 'tensorflow' });
    assert.equal(doc.container['layout'], 'full-model');
    assert.equal(doc.model.kind, 'network');
    assert.ok(['Model', 'Functional', 'Sequential'].includes(doc.model.class));
    const layers = doc.model['layers'] as Array<Record<string, unknown>>;
    for (const l of layers) for (const k of ['name', 'class', 'config', 'inbound']) assert.ok(k in l, `layer.${k}`);
    assert.ok(Array.isArray(layers.find((l) => l['name'] === 'dense_3')!['inbound']));
    const inputs = doc.model['inputs'] as Array<Record<string, unknown>>;
    assert.deepEqual(inputs, [
      { name: 'input_1', shape: [null, 6], dtype: 'float32' },
      { name: 'input_2', shape: [null, 6], dtype: 'float32' },
    ]);
    const outputs = doc.model['outputs'] as Array<Record<string, unknown>>;
    assert.deepEqual(outputs.map((o) => Object.keys(o).sort()), [['dtype', 'name', 'shape']]);
    assert.equal(outputs[0]!['name'], 'dense_3');
    const training = doc.model['training'] as Record<string, unknown>;
    assert.deepEqual([training['optimizer'], training['loss'], training['metrics']], ['SGD', 'binary_crossentropy', ['accuracy']]);
    const names = doc.tensors.map((t) => t.name);
    assert.deepEqual(names.slice(0, 2), ['dense_1/kernel', 'dense_1/bias']);
    const firstOptimizer = names.findIndex((n) => n.startsWith('optimizer/'));
    assert.ok(firstOptimizer > 0, 'optimizer state is listed');
    assert.ok(names.slice(firstOptimizer).every((n) => n.startsWith('optimizer/')), 'optimizer state comes after every weight');
    assert.ok(names.slice(0, firstOptimizer).every((n) => /^[^/]+\/[^/]+$/.test(n)), '<layer>/<weight>');
  });

  it('weights-only layout and an untrained model: training null', () => {
    const doc = inspect(F.kerasWeightsOnly);
    assert.equal(doc.container['layout'], 'weights-only');
    assert.equal(doc.model['training'], null);
    assert.deepEqual(doc.tensors.map((t) => t.name).slice(0, 2), ['dense_1/kernel', 'dense_1/bias']);
  });

  it('a Lambda layer is an unsafe safety finding', () => {
    const doc = inspect(F.kerasLambda);
    assert.equal(doc.safety!.verdict, 'unsafe');
    assert.ok(doc.safety!.findings.some((f) => f.global === 'keras.layers.Lambda' && f.severity === 'critical'));
  });
});

describe('CLI.md inspect: onnx', () => {
  it('container {ir_version, opset_import, external_data}, producer, model {class, kind, graph, inputs, outputs, ops, metadata}', () => {
    const doc = inspect(F.onnxZipmap);
    common(doc, F.onnxZipmap, 'onnx');
    assert.equal(doc.container['ir_version'], 8);
    assert.deepEqual(doc.container['opset_import'], [
      { domain: '', version: 15 },
      { domain: 'ai.onnx.ml', version: 1 },
    ]);
    assert.deepEqual(doc.container['external_data'], []);
    assert.deepEqual(Object.keys(doc.producer!).slice(0, 2), ['library', 'version']);
    assert.equal(doc.model.class, 'onnx.ModelProto');
    assert.equal(doc.model.kind, 'classifier');
    assert.equal(doc.model['graph'], 'zipmap_linear');
    assert.deepEqual(doc.model['ops'], { Identity: 1, 'ai.onnx.ml:LinearClassifier': 1, 'ai.onnx.ml:ZipMap': 1 });
    assert.deepEqual(doc.model['metadata'], {});
    const inputs = doc.model['inputs'] as Array<{ name: string; dtype: string; shape: unknown[] }>;
    assert.deepEqual([inputs[0]!.name, inputs[0]!.dtype, inputs[0]!.shape], ['X', 'float32', [null, 4]]);
    const outputs = doc.model['outputs'] as Array<{ name: string }>;
    assert.deepEqual(outputs.map((o) => o.name), ['output_label', 'output_probability']);
  });

  it('symbolic dimensions are strings, metadata_props a map, initializers the tensors', () => {
    const doc = inspect(F.onnxSymbolic);
    const inputs = doc.model['inputs'] as Array<{ shape: unknown[] }>;
    assert.deepEqual(inputs[0]!.shape, ['N', 2]);
    assert.deepEqual(doc.model['metadata'], { purpose: 'typed fields', author: 'mlpack' });
    assert.ok(doc.tensors.length > 0);
  });

  it('external data is listed in the container', () => {
    const doc = inspect(F.onnxExternal);
    const ext = doc.container['external_data'] as Array<Record<string, unknown>>;
    assert.deepEqual(ext.map((e) => e['location']), ['weights.bin', 'weights.bin']);
    assert.deepEqual(doc.tensors.map((t) => t.name), ['W', 'B']);
  });

  it('a converted model records its source in metadata and its producer is mlpack', () => {
    const out = join(tempDir('inspect-onnx'), 'pipe.onnx');
    assert.equal(runCli(['convert', F.pipeline, '--to', 'onnx', '-o', out]).status, 0);
    const doc = inspect(out);
    assert.equal(doc.producer!['library'], 'mlpack');
    const meta = doc.model['metadata'] as Record<string, string>;
    assert.equal(meta['source_sha256'], sha256(F.pipeline));
    assert.equal(meta['source_library_version'], '1.2.1');
  });
});

describe('CLI.md inspect: torch', () => {
  it('zip checkpoint: container.kind, model {kind, keys, n_params}, tensors named by key path with stride/storage_offset', () => {
    const doc = inspect(F.torchCheckpoint);
    common(doc, F.torchCheckpoint, 'torch');
    assert.equal(doc.container['kind'], 'zip');
    assert.equal(doc.model.kind, 'checkpoint');
    assert.deepEqual(doc.model['keys'], ['model_state_dict', 'optimizer_state_dict', 'epoch', 'loss']);
    assert.equal(typeof doc.model['n_params'], 'number');
    const buffer = doc.tensors.find((t) => t.name === 'optimizer_state_dict.state.0.momentum_buffer');
    assert.ok(buffer, 'key paths joined with "."');
    for (const t of doc.tensors) {
      assert.ok(Array.isArray(t.stride), `${t.name}.stride`);
      assert.equal(typeof t.storage_offset, 'number');
    }
  });

  it('legacy state_dict, torchscript and pickled module kinds', () => {
    const legacy = inspect(F.torchLegacy);
    assert.deepEqual([legacy.container['kind'], legacy.model.kind], ['legacy', 'state_dict']);
    const script = inspect(F.torchScript);
    assert.deepEqual([script.container['kind'], script.model.kind], ['torchscript', 'torchscript']);
    assert.equal(inspect(F.torchModule).model.kind, 'module');
  });

  it('views keep their stride and storage offset', () => {
    const doc = inspect(F.torchViews);
    assert.ok(doc.tensors.some((t) => (t.storage_offset ?? 0) > 0), 'a view with a storage offset');
  });
});

describe('CLI.md inspect: safetensors and mlpack', () => {
  it('safetensors: model from the header, tensors as stored, no safety block', () => {
    const doc = inspect(F.safetensors);
    common(doc, F.safetensors, 'safetensors');
    assert.ok(Array.isArray(doc.model['keys']));
    assert.deepEqual(new Set(doc.tensors.map((t) => t.name)), new Set(doc.model['keys'] as string[]));
  });

  it('safetensors written by convert: producer from the metadata block', () => {
    const out = join(tempDir('inspect-st'), 'sd.safetensors');
    assert.equal(runCli(['convert', F.torchZip, '--to', 'safetensors', '-o', out]).status, 0);
    const doc = inspect(out);
    assert.equal(doc.producer!['library'], 'torch');
    assert.equal((doc.container['metadata'] as Record<string, string>)['source_sha256'], sha256(F.torchZip));
  });

  it('mlpack: producer and model from the envelope, user metadata kept', () => {
    const out = join(tempDir('inspect-mlpack'), 'pipe.mlpack');
    assert.equal(runCli(['convert', F.pipeline, '--to', 'mlpack', '-o', out, '--meta', 'owner=ci']).status, 0);
    const doc = inspect(out);
    common(doc, out, 'mlpack');
    assert.deepEqual([doc.producer!['library'], doc.producer!['version']], ['scikit-learn', '1.2.1']);
    assert.equal(doc.model.class, 'sklearn.pipeline.Pipeline');
    assert.deepEqual(doc.container['user_metadata'], { owner: 'ci' });
    assert.deepEqual(doc.tensors, inspect(F.pipeline).tensors);
  });
});
