/** CLI.md "mlpack predict": input forms, output shape, methods, runtimes, ONNX and Keras rules. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fixture } from '../paths.js';
import { F, expectError, json, readRows, rowsText, runCli, tempDir } from './helpers.js';

interface Prediction {
  method: string;
  outputs: unknown;
  classes?: unknown[];
}

function predict(args: string[], input: string): Prediction {
  const r = runCli(['predict', ...args, '--json'], { input });
  assert.equal(r.status, 0, r.stderr);
  const doc = json<Prediction>(r);
  assert.deepEqual(Object.keys(doc).filter((k) => !['method', 'outputs', 'classes'].includes(k)), [], 'only method, outputs, classes');
  return doc;
}

function expected<T = unknown>(name: string, method: string): T {
  return (JSON.parse(readFileSync(fixture('debian', 'expected', `${name}.${method}.json`), 'utf8')) as { values: T }).values;
}

function close(a: unknown, b: unknown, tol = 1e-9): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length);
    a.forEach((x, i) => close(x, b[i], tol));
  } else if (typeof a === 'number' && typeof b === 'number') {
    assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${a} vs ${b}`);
  } else assert.deepEqual(a, b);
}

const NAMES = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];

describe('CLI.md predict: every input form', () => {
  const rows = readRows(F.irisRows);
  const want = expected<number[]>('dataframe_logreg_iris', 'predict');
  const forms: Record<string, string> = {
    'a JSON array of rows': JSON.stringify(rows),
    '{"inputs": rows}': JSON.stringify({ inputs: rows }),
    '{"instances": rows}': JSON.stringify({ instances: rows }),
    'objects keyed by feature name': JSON.stringify(rows.map((r) => Object.fromEntries(NAMES.map((n, i) => [n, r[i]])))),
    'NDJSON, one row per line': rows.map((r) => JSON.stringify(r)).join('\n'),
    'CSV with a header': [NAMES.map((n) => `"${n}"`).join(','), ...rows.map((r) => r.join(','))].join('\n'),
  };
  for (const [name, text] of Object.entries(forms)) {
    it(name, () => {
      const doc = predict([F.iris], text);
      assert.equal(doc.method, 'predict');
      assert.deepEqual(doc.outputs, want, 'one label per row, numbers stay numbers');
      assert.deepEqual(doc.classes, [0, 1, 2]);
    });
  }

  it('objects keyed by feature name need feature names in the model', () => {
    const obj = JSON.stringify([{ a: 1, b: 2 }]);
    expectError(runCli(['predict', F.pipeline, '--json'], { input: obj }), 3, { json: true, message: /feature name/ });
  });

  it('null means NaN', () => {
    const nanRows = readRows<Array<Array<number | null>>>(F.nanRows);
    assert.ok(nanRows.flat().includes(null));
    close(predict([F.nan], JSON.stringify(nanRows)).outputs, expected('hist_gradient_boosting_regressor_nan', 'predict'));
  });

  it('bad input: invalid JSON and no rows are exit 3 naming the input file', () => {
    const path = join(tempDir('predict-bad'), 'rows.json');
    writeFileSync(path, '[[1, 2,');
    expectError(runCli(['predict', F.iris, '--input', path, '--json']), 3, { json: true, file: path, message: /not valid JSON/ });
    expectError(runCli(['predict', F.iris, '--json'], { input: '[]' }), 3, { json: true, file: '-', message: /no input rows/ });
    expectError(runCli(['predict', F.iris, '--input', 'no/such/rows.json', '--json']), 2, { json: true, file: 'no/such/rows.json' });
  });
});

describe('CLI.md predict: output and methods', () => {
  it('labels keep their type: strings stay strings', () => {
    const doc = predict([F.strings], rowsText(F.stringRows));
    assert.deepEqual(doc.outputs, expected('logistic_regression_string_labels', 'predict'));
    assert.ok((doc.classes ?? []).every((c) => typeof c === 'string'));
  });

  it('predict_proba and decision_function: one array per row, with the classes', () => {
    const rows = rowsText(F.irisRows);
    const proba = predict([F.iris, '--method', 'predict_proba'], rows);
    assert.equal(proba.method, 'predict_proba');
    close(proba.outputs, expected('dataframe_logreg_iris', 'predict_proba'));
    assert.deepEqual(proba.classes, [0, 1, 2]);
    const dec = predict([F.iris, '--method', 'decision_function'], rows);
    close(dec.outputs, expected('dataframe_logreg_iris', 'decision_function'));
  });

  it('transform and score_samples', () => {
    const scaler = fixture('debian', 'sklearn', 'standard_scaler.p4.pkl');
    const t = predict([scaler, '--method', 'transform'], rowsText(fixture('debian', 'inputs', 'standard_scaler.json')));
    close(t.outputs, expected('standard_scaler', 'transform'));
    assert.equal(t.classes, undefined, 'classes only where they apply');
    const forest = fixture('debian', 'sklearn', 'isolation_forest.p4.pkl');
    const s = predict([forest, '--method', 'score_samples'], rowsText(fixture('debian', 'inputs', 'isolation_forest.json')));
    close(s.outputs, expected('isolation_forest', 'score_samples'));
  });

  it('a regressor: numbers, no classes', () => {
    const doc = predict([F.regressor], rowsText(F.regressorRows));
    close(doc.outputs, expected('linear_regression', 'predict'));
    assert.equal(doc.classes, undefined);
  });

  it('--method: unknown is a usage error (2); one the estimator lacks is unsupported (4)', () => {
    const rows = rowsText(F.irisRows);
    expectError(runCli(['predict', F.iris, '--method', 'explain', '--json'], { input: rows }), 2, { json: true });
    expectError(runCli(['predict', F.regressor, '--method', 'predict_proba', '--json'], { input: rowsText(F.regressorRows) }), 4, { json: true });
    expectError(runCli(['predict', F.iris, '--method', 'run', '--json'], { input: rows }), 2, { json: true });
  });

  it('--runtime: native is the default for pickle/joblib, onnx converts in memory; other values are usage errors', () => {
    const rows = rowsText(F.irisRows);
    const native = predict([F.iris, '--method', 'predict_proba'], rows);
    assert.deepEqual(predict([F.iris, '--method', 'predict_proba', '--runtime', 'native'], rows), native);
    const onnx = predict([F.iris, '--method', 'predict_proba', '--runtime', 'onnx'], rows);
    close(onnx.outputs, native.outputs, 1e-5);
    assert.deepEqual(onnx.classes, native.classes);
    expectError(runCli(['predict', F.iris, '--runtime', 'tpu', '--json'], { input: rows }), 2, { json: true });
  });
});

describe('CLI.md predict: ONNX files', () => {
  const tmp = tempDir('predict-onnx');

  it('label/probabilities graphs: predict (the default) gives labels, predict_proba probabilities, with the classes', () => {
    const rows = '[[1, 2, 3, 4], [0, 0, 0, 0]]';
    const p = predict([F.onnxZipmap], rows);
    assert.equal(p.method, 'predict');
    assert.deepEqual(p.classes, [10, 20, 30]);
    assert.ok((p.outputs as unknown[]).every((v) => typeof v === 'number' && [10, 20, 30].includes(v)));
    const proba = predict([F.onnxZipmap, '--method', 'predict_proba'], rows);
    assert.equal((proba.outputs as number[][])[0]!.length, 3);
    close((proba.outputs as number[][]).map((r) => r.reduce((a, b) => a + b, 0)), [1, 1], 1e-5);
  });

  it('--method run: an object keyed by output name, ZipMap output as a list of objects keyed by label', () => {
    const doc = predict([F.onnxZipmap, '--method', 'run'], '[[1, 2, 3, 4]]');
    const outputs = doc.outputs as Record<string, unknown[]>;
    assert.deepEqual(Object.keys(outputs), ['output_label', 'output_probability']);
    const zip = outputs['output_probability']![0] as Record<string, number>;
    assert.deepEqual(Object.keys(zip), ['10', '20', '30']);
  });

  it('run is the default for a graph that is not a converted estimator; symbolic batch dims take any row count', () => {
    const doc = predict([F.onnxSymbolic], '[[1, 2], [3, 4], [5, 6]]');
    assert.equal(doc.method, 'run');
    assert.deepEqual(doc.outputs, { y: [[1, 2], [3, 4], [5, 6]] });
  });

  it('the runtime is onnx for ONNX files; --runtime native is a usage error', () => {
    expectError(runCli(['predict', F.onnxZipmap, '--runtime', 'native', '--json'], { input: '[[1,2,3,4]]' }), 2, { json: true });
  });

  it('a converted regressor answers predict by default, like its source model', () => {
    const out = join(tmp, 'regressor.onnx');
    assert.equal(runCli(['convert', F.regressor, '--to', 'onnx', '-o', out]).status, 0);
    const rows = rowsText(F.regressorRows);
    const doc = predict([out], rows);
    assert.equal(doc.method, 'predict');
    close(doc.outputs, predict([F.regressor], rows).outputs, 1e-5);
    assert.deepEqual(Object.keys(predict([out, '--method', 'run'], rows).outputs as object), ['variable']);
  });

  it('a converted classifier answers predict/predict_proba as the source model', () => {
    const out = join(tmp, 'iris.onnx');
    assert.equal(runCli(['convert', F.iris, '--to', 'onnx', '-o', out]).status, 0);
    const rows = rowsText(F.irisRows);
    assert.deepEqual(predict([out], rows), predict([F.iris], rows));
    close(predict([out, '--method', 'predict_proba'], rows).outputs, expected('dataframe_logreg_iris', 'predict_proba'), 1e-5);
  });

  it('several inputs take {"inputs": {"<name>": rows}}; plain rows are refused naming the inputs', () => {
    const out = join(tmp, 'functional.onnx');
    assert.equal(runCli(['convert', F.kerasFunctional, '--to', 'onnx', '-o', out]).status, 0);
    const exp = JSON.parse(readFileSync(fixture('keras', 'functional.expected.json'), 'utf8')) as { inputs: Record<string, number[][]>; outputs: Record<string, number[][]> };
    const doc = predict([out], JSON.stringify({ inputs: exp.inputs }));
    assert.equal(doc.method, 'run');
    close((doc.outputs as Record<string, unknown>)['variable'], exp.outputs['dense_3'], 1e-4);
    expectError(runCli(['predict', out, '--json'], { input: JSON.stringify(exp.inputs['input_1']) }), 3, { json: true, message: /input_1, input_2/ });
  });

  it('a single input also takes its rows by name', () => {
    assert.deepEqual(predict([F.onnxSymbolic], JSON.stringify({ inputs: { x: [[1, 2]] } })).outputs, { y: [[1, 2]] });
  });
});

describe('CLI.md predict: Keras models take rows shaped like the input', () => {
  for (const name of ['mlp', 'conv2d']) {
    it(`${name}.h5`, () => {
      const exp = JSON.parse(readFileSync(fixture('keras', `${name}.expected.json`), 'utf8')) as { inputs: Record<string, unknown[]>; outputs: Record<string, unknown[]> };
      const doc = predict([fixture('keras', `${name}.h5`)], JSON.stringify(Object.values(exp.inputs)[0]));
      assert.equal(doc.method, 'predict');
      close(doc.outputs, Object.values(exp.outputs)[0], 1e-6);
    });
  }

  it('an unsafe Keras model (Lambda) is refused with exit 5', () => {
    expectError(runCli(['predict', F.kerasLambda, '--json'], { input: '[[1, 2, 3]]' }), 5, { json: true, file: F.kerasLambda });
  });
});
