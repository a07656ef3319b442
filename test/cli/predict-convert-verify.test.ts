/**
 * predict / convert / verify through the built binary: every input form CLI.md lists, exit codes,
 * JSON shapes, streaming on a small heap, atomic outputs and round trips.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertCleanStderr, readJSON, runCli, writePerturbedOnnx } from '../helpers.js';
import { fixture } from '../paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'mlpack-cli-'));
const IRIS = fixture('debian', 'sklearn', 'dataframe_logreg_iris.z3.joblib');
const IRIS_ROWS = readJSON<number[][]>(fixture('debian', 'inputs', 'dataframe_logreg_iris.json'));
const IRIS_NAMES = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];
const IRIS_PROBA = readJSON<{ values: number[][] }>(fixture('debian', 'expected', 'dataframe_logreg_iris.predict_proba.json')).values;
const IRIS_PRED = readJSON<{ values: number[] }>(fixture('debian', 'expected', 'dataframe_logreg_iris.predict.json')).values;
const STRINGS = fixture('debian', 'sklearn', 'logistic_regression_string_labels.p4.pkl');
const STRING_ROWS = readJSON<number[][]>(fixture('debian', 'inputs', 'logistic_regression_string_labels.json'));
const STRING_PRED = readJSON<{ values: string[] }>(fixture('debian', 'expected', 'logistic_regression_string_labels.predict.json')).values;

interface Prediction {
  method: string;
  outputs: unknown[];
  classes?: unknown[];
}

function predict(args: string[], input: string, env: Record<string, string> = {}): { status: number; doc: Prediction | null; stderr: string } {
  const r = runCli(['predict', ...args], { input, env });
  return { status: r.status, doc: r.status === 0 ? (JSON.parse(r.stdout) as Prediction) : null, stderr: r.stderr };
}

describe('mlpack predict: input forms', () => {
  const csv = [IRIS_NAMES.map((n) => `"${n}"`).join(','), ...IRIS_ROWS.map((r) => r.join(','))].join('\n');
  const forms: Record<string, string> = {
    'JSON rows': JSON.stringify(IRIS_ROWS),
    '{"inputs": rows}': JSON.stringify({ inputs: IRIS_ROWS }),
    '{"instances": rows}': JSON.stringify({ instances: IRIS_ROWS }),
    'objects keyed by feature name': JSON.stringify(IRIS_ROWS.map((r) => Object.fromEntries(IRIS_NAMES.map((n, i) => [n, r[i]])))),
    'NDJSON rows': IRIS_ROWS.map((r) => JSON.stringify(r)).join('\n'),
    'NDJSON objects': IRIS_ROWS.map((r) => JSON.stringify(Object.fromEntries(IRIS_NAMES.map((n, i) => [n, r[i]])))).join('\n'),
    'CSV with a header': csv,
    'CSV with reordered columns': [
      [...IRIS_NAMES].reverse().map((n) => `"${n}"`).join(','),
      ...IRIS_ROWS.map((r) => [...r].reverse().join(',')),
    ].join('\n'),
  };
  for (const [name, text] of Object.entries(forms)) {
    it(`${name} gives scikit-learn's predict_proba`, () => {
      const r = predict([IRIS, '--method', 'predict_proba', '--json'], text);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.doc!.method, 'predict_proba');
      assert.deepEqual(r.doc!.classes, [0, 1, 2]);
      r.doc!.outputs.forEach((row, i) => (row as number[]).forEach((v, k) => assert.ok(Math.abs(v - IRIS_PROBA[i]![k]!) <= 1e-12 + 1e-9 * Math.abs(IRIS_PROBA[i]![k]!))));
    });
  }

  it('--input file works like stdin; labels keep their type (numbers)', () => {
    const path = join(tmp, 'rows.json');
    writeFileSync(path, JSON.stringify(IRIS_ROWS));
    const r = runCli(['predict', IRIS, '--input', path, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as Prediction).outputs, IRIS_PRED);
  });

  it('string labels stay strings', () => {
    const r = predict([STRINGS, '--json'], JSON.stringify(STRING_ROWS));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.doc!.outputs, STRING_PRED);
  });

  it('null is NaN: a model that imputes takes it', () => {
    const model = fixture('debian', 'sklearn', 'hist_gradient_boosting_regressor_nan.p4.pkl');
    const rows = readJSON<Array<Array<number | null>>>(fixture('debian', 'inputs', 'hist_gradient_boosting_regressor_nan.json'));
    assert.ok(rows.flat().includes(null));
    const want = readJSON<{ values: number[] }>(fixture('debian', 'expected', 'hist_gradient_boosting_regressor_nan.predict.json')).values;
    const r = predict([model, '--json'], JSON.stringify(rows));
    assert.equal(r.status, 0, r.stderr);
    (r.doc!.outputs as number[]).forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-9 * Math.abs(want[i]!) + 1e-12));
  });
});

describe('mlpack predict: errors', () => {
  const cases: Array<[string, string[], string, number, RegExp]> = [
    ['wrong width names the row', [IRIS], '[[1,2,3,4],[1,2,3]]', 3, /row 1 has 3 values but the model takes 4/],
    ['unknown feature name', [IRIS], JSON.stringify([{ ...Object.fromEntries(IRIS_NAMES.map((n) => [n, 1])), colour: 2 }]), 3, /unknown feature "colour"/],
    ['missing feature name', [IRIS], JSON.stringify([{ [IRIS_NAMES[0]!]: 1 }]), 3, /lacks feature/],
    ['non-numeric value names row and column', [IRIS], '[[1,2,"x",4]]', 3, /row 0, column (2|"petal length \(cm\)"): "x" is not a number/],
    ['invalid JSON', [IRIS], '[[1,2,', 3, /not valid JSON/],
    ['no rows', [IRIS], '[]', 3, /no input rows/],
    ['a method the estimator lacks', [fixture('debian', 'sklearn', 'linear_regression.p4.pkl'), '--method', 'predict_proba'], '[[1,2,3,4,5,6,7]]', 4, /has no predict_proba; it offers predict/],
    ['an unknown method', [IRIS, '--method', 'explain'], '[[1,2,3,4]]', 2, /unknown method "explain"/],
    ['an unsafe model is refused', [fixture('hostile', 'malicious', 'iris-pipeline-nested-attr-p4.pkl')], '[[1,2,3,4]]', 5, /posix\.system.*refusing/],
  ];
  for (const [name, args, input, code, message] of cases) {
    it(`${name} → exit ${code}`, () => {
      const r = runCli(['predict', ...args, '--json'], { input });
      assert.equal(r.status, code, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(assertCleanStderr(r.stderr), null, r.stderr);
      assert.ok((JSON.parse(r.stdout) as { error: { code: string } }).error.code);
    });
  }

  it('--trust names the global: the model runs and its payload is never executed', () => {
    const marker = '/tmp/mlpack-pwned-iris-pipeline-nested-attr-p4';
    const before = existsSync(marker);
    const r = runCli(['predict', fixture('hostile', 'malicious', 'iris-pipeline-nested-attr-p4.pkl'), '--trust', 'posix.system', '--json'], { input: JSON.stringify(IRIS_ROWS.slice(0, 3)) });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as Prediction).outputs.length, 3);
    assert.equal(existsSync(marker), before, 'the payload ran');
  });
});

describe('mlpack predict: streaming', () => {
  it('300k CSV rows on a 48 MB heap', () => {
    const lines = ['a,b,c,d'];
    for (let i = 0; i < 300_000; i++) lines.push(`${(i % 70) / 10 + 1},${(i % 30) / 10 + 2},${(i % 60) / 10 + 1},${(i % 25) / 10}`);
    const plain = fixture('debian', 'sklearn', 'logistic_regression_multiclass_iris.p4.pkl');
    const r = runCli(['predict', plain, '--json'], { input: lines.join('\n'), env: { NODE_OPTIONS: '--max-old-space-size=48' } });
    assert.equal(r.status, 0, r.stderr.slice(0, 500));
    const doc = JSON.parse(r.stdout) as Prediction;
    assert.equal(doc.outputs.length, 300_000);
  });
});

describe('mlpack convert and verify', () => {
  const model = fixture('debian', 'sklearn', 'pipeline_standardscaler_logreg.z3.joblib');
  const onnx = join(tmp, 'pipe.onnx');

  it('convert --to onnx --verify writes the file, reports the check and exits 0', () => {
    const r = runCli(['convert', model, '--to', 'onnx', '-o', onnx, '--verify', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { input: string; output: string; to: string; bytes: number; verify: { ok: boolean; rows: number; methods: Record<string, { mismatches: number }> } };
    assert.equal(doc.to, 'onnx');
    assert.equal(doc.output, onnx);
    assert.equal(doc.bytes, readFileSync(onnx).length);
    assert.equal(doc.verify.ok, true);
    assert.ok(doc.verify.methods['predict'] && doc.verify.methods['predict_proba']);
    assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('.tmp-')), [], 'no temporary files left');
  });

  it('an existing output is replaced only with --force', () => {
    const again = runCli(['convert', model, '--to', 'onnx', '-o', onnx]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already exists/);
    assert.equal(runCli(['convert', model, '--to', 'onnx', '-o', onnx, '--force']).status, 0);
  });

  it('predict on the ONNX file (default runtime onnx) and --runtime onnx agree with native', () => {
    const rows = JSON.stringify(readJSON(fixture('debian', 'inputs', 'pipeline_standardscaler_logreg.json')));
    const native = predict([model, '--method', 'predict_proba', '--json'], rows).doc!;
    const viaFile = predict([onnx, '--method', 'predict_proba', '--json'], rows).doc!;
    const inMemory = predict([model, '--runtime', 'onnx', '--method', 'predict_proba', '--json'], rows).doc!;
    for (const other of [viaFile, inMemory]) {
      assert.equal(other.outputs.length, native.outputs.length);
      other.outputs.forEach((row, i) => (row as number[]).forEach((v, k) => assert.ok(Math.abs(v - (native.outputs[i] as number[])[k]!) < 1e-5)));
    }
    assert.deepEqual(predict([onnx, '--json'], rows).doc!.outputs, predict([model, '--json'], rows).doc!.outputs);
  });

  it('verify: a deliberately perturbed ONNX model exits 6 naming the mismatches', () => {
    const bad = join(tmp, 'perturbed.onnx');
    writePerturbedOnnx(onnx, bad);
    const r = runCli(['verify', model, '--against', bad, '--json']);
    assert.equal(r.status, 6, r.stderr);
    const doc = JSON.parse(r.stdout) as { ok: boolean; methods: Record<string, { mismatches: number; max_abs_diff: number }> };
    assert.equal(doc.ok, false);
    assert.ok(Object.values(doc.methods).some((m) => m.mismatches > 0 && m.max_abs_diff > 1e-3));
    assert.equal(runCli(['verify', model, '--against', onnx]).status, 0);
  });

  it('convert --to mlpack, then predict from the envelope gives identical outputs', () => {
    const env = join(tmp, 'pipe.mlpack');
    assert.equal(runCli(['convert', model, '--to', 'mlpack', '-o', env, '--meta', 'owner=ci']).status, 0);
    const info = JSON.parse(runCli(['inspect', '--json', env]).stdout) as { format: string; model: { class: string } };
    assert.equal(info.format, 'mlpack');
    assert.equal(info.model.class, 'sklearn.pipeline.Pipeline');
    const rows = JSON.stringify(readJSON(fixture('debian', 'inputs', 'pipeline_standardscaler_logreg.json')));
    assert.deepEqual(predict([env, '--method', 'predict_proba', '--json'], rows).doc, predict([model, '--method', 'predict_proba', '--json'], rows).doc);
  });

  it('convert --to joblib and --to pickle write files that inspect as the same model', () => {
    for (const [to, extra] of [['joblib', ['--compress', 'xz']], ['pickle', ['--protocol', '2']]] as const) {
      const out = join(tmp, `pipe.${to}`);
      const r = runCli(['convert', model, '--to', to, '-o', out, ...extra, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const a = JSON.parse(runCli(['inspect', '--json', out]).stdout) as { tensors: unknown; model: unknown };
      const b = JSON.parse(runCli(['inspect', '--json', model]).stdout) as { tensors: unknown; model: unknown };
      assert.deepEqual(a.model, b.model);
      assert.deepEqual(a.tensors, b.tensors);
    }
  });

  it('--opset: an estimator that cannot be lowered at that opset is exit 4 naming it; an older opset that works converts', () => {
    const svc = fixture('debian', 'sklearn', 'svc_rbf_probability.p4.pkl');
    const old = runCli(['convert', svc, '--to', 'onnx', '--opset', '9', '-o', join(tmp, 'svc9.onnx')]);
    assert.equal(old.status, 4, old.stderr);
    assert.match(old.stderr, /SVC.*opset 9/);
    assert.equal(runCli(['convert', svc, '--to', 'onnx', '--opset', '5', '-o', join(tmp, 'svc5.onnx')]).status, 4);
    const pipe = runCli(['convert', model, '--to', 'onnx', '--opset', '9', '-o', join(tmp, 'pipe9.onnx'), '--verify', '--json']);
    assert.equal(pipe.status, 0, pipe.stderr);
    assert.equal((JSON.parse(pipe.stdout) as { verify: { ok: boolean } }).verify.ok, true);
  });
});
