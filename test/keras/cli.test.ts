/**
 * The built `mlpack` binary on Keras files (CLI.md: "Keras models take rows shaped like the
 * model's input (nested arrays)"): predict / convert --to onnx --verify / verify, the ONNX file
 * answering for the network, and the exit codes of files that cannot run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertCleanStderr, readJSON, runCli } from '../helpers.js';
import { fixture } from '../paths.js';

interface Expected {
  inputs: Record<string, unknown[]>;
  outputs: Record<string, unknown[]>;
}

const dir = mkdtempSync(join(tmpdir(), 'mlpack-keras-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const expected = (name: string): Expected => readJSON<Expected>(fixture('keras', `${name}.expected.json`));

function closeTo(got: unknown, want: unknown, rtol: number, atol: number, what: string): void {
  const g = ([got] as unknown[]).flat(8) as number[];
  const w = ([want] as unknown[]).flat(8) as number[];
  assert.equal(g.length, w.length, `${what}: ${g.length} values, expected ${w.length}`);
  w.forEach((v, i) => assert.ok(Math.abs(g[i]! - v) <= atol + rtol * Math.abs(v), `${what}[${i}]: ${g[i]} vs ${v}`));
}

describe('mlpack CLI: Keras networks', () => {
  it('predict takes nested rows (stdin) and returns one output row per input row', () => {
    const exp = expected('lstm');
    const r = runCli(['predict', fixture('keras', 'lstm.h5'), '--json'], { input: JSON.stringify({ inputs: exp.inputs['lstm_1_input'] }) });
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { method: string; outputs: number[][] };
    assert.equal(doc.method, 'predict');
    assert.equal(doc.outputs.length, 3);
    closeTo(doc.outputs, exp.outputs['dense_1'], 1e-6, 1e-12, 'lstm');
  });

  it('predict reads a JSON file of image rows ([H, W, C] each)', () => {
    const exp = expected('conv2d');
    const file = join(dir, 'conv2d.json');
    writeFileSync(file, JSON.stringify(exp.inputs['conv2d_1_input']));
    const r = runCli(['predict', fixture('keras', 'conv2d.h5'), '--input', file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    closeTo((JSON.parse(r.stdout) as { outputs: unknown }).outputs, exp.outputs['dense_1'], 1e-6, 1e-12, 'conv2d');
  });

  it('convert --to onnx --verify, then predict from the ONNX file', () => {
    const out = join(dir, 'gru.onnx');
    const c = runCli(['convert', fixture('keras', 'gru.h5'), '--to', 'onnx', '-o', out, '--verify', '--json']);
    assert.equal(c.status, 0, c.stderr);
    const doc = JSON.parse(c.stdout) as { to: string; verify: { ok: boolean } };
    assert.equal(doc.to, 'onnx');
    assert.equal(doc.verify.ok, true);
    const exp = expected('gru');
    const p = runCli(['predict', out, '--json'], { input: JSON.stringify(exp.inputs['gru_input']) });
    assert.equal(p.status, 0, p.stderr);
    const outputs = (JSON.parse(p.stdout) as { outputs: Record<string, unknown> }).outputs;
    closeTo(outputs['variable'], exp.outputs['dense'], 1e-4, 1e-5, 'gru via onnx');
  });

  it('a converted two-input network takes {"inputs": {name: rows}} as an ONNX file', () => {
    const out = join(dir, 'functional.onnx');
    assert.equal(runCli(['convert', fixture('keras', 'functional.h5'), '--to', 'onnx', '-o', out]).status, 0);
    const exp = expected('functional');
    const p = runCli(['predict', out, '--json'], { input: JSON.stringify({ inputs: exp.inputs }) });
    assert.equal(p.status, 0, p.stderr);
    closeTo((JSON.parse(p.stdout) as { outputs: Record<string, unknown> }).outputs['variable'], exp.outputs['dense_3'], 1e-4, 1e-5, 'functional via onnx');
  });

  it('verify runs native and onnxruntime on generated rows', () => {
    const r = runCli(['verify', fixture('keras', 'embedding.h5'), '--rows', '50', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { ok: boolean; rows: number };
    assert.equal(doc.ok, true);
    assert.equal(doc.rows, 50);
  });

  it('a Lambda layer: exit 5 (unsafe); trusted, exit 4 naming the layer', () => {
    const rows = JSON.stringify([[1, 2, 3]]);
    const r = runCli(['predict', fixture('keras', 'lambda.h5'), '--json'], { input: rows });
    assert.equal(r.status, 5, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'UNSAFE');
    assert.equal(assertCleanStderr(r.stderr), null);
    const c = runCli(['convert', fixture('keras', 'lambda.h5'), '--to', 'onnx', '-o', join(dir, 'lambda.onnx')]);
    assert.equal(c.status, 5, c.stderr);
    const t = runCli(['predict', fixture('keras', 'lambda.h5'), '--trust', 'keras.layers.Lambda'], { input: rows });
    assert.equal(t.status, 4, t.stderr);
    assert.match(t.stderr, /^mlpack: error: .*lambda\.h5: layer lambda \(Lambda\)/m);
    assert.equal(assertCleanStderr(t.stderr), null);
  });

  // Several inputs or outputs (src/api/keras-io.ts): rows by input name, as for ONNX files with
  // several inputs; several outputs come back keyed by output name.
  for (const [name, runtime, rtol, atol] of [
    ['functional', 'native', 1e-6, 1e-12],
    ['functional', 'onnx', 1e-4, 1e-5],
    ['masked_seq2seq', 'native', 1e-6, 1e-12],
    ['masked_seq2seq', 'onnx', 1e-4, 1e-5],
  ] as const) {
    it(`a two-input network (${name}) predicts from {"inputs": {name: rows}} (--runtime ${runtime})`, () => {
      const exp = expected(name);
      const file = join(dir, `${name}.inputs.json`);
      writeFileSync(file, JSON.stringify({ inputs: exp.inputs }));
      const r = runCli(['predict', fixture('keras', `${name}.h5`), '--input', file, '--runtime', runtime, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { method: string; outputs: unknown[] };
      assert.equal(doc.method, 'predict');
      const [output] = Object.keys(exp.outputs);
      assert.equal(doc.outputs.length, (exp.outputs[output!] as unknown[]).length);
      closeTo(doc.outputs, exp.outputs[output!], rtol, atol, `${name} ${runtime}`);
    });
  }

  for (const [runtime, rtol, atol] of [['native', 1e-6, 1e-12], ['onnx', 1e-4, 1e-5]] as const) {
    it(`a two-output network answers {output name: rows} (--runtime ${runtime})`, () => {
      const exp = expected('activations');
      const r = runCli(['predict', fixture('keras', 'activations.h5'), '--runtime', runtime, '--json'], { input: JSON.stringify(exp.inputs['input_1']) });
      assert.equal(r.status, 0, r.stderr);
      const outputs = (JSON.parse(r.stdout) as { outputs: Record<string, unknown> }).outputs;
      assert.deepEqual(Object.keys(outputs), ['concatenate', 'activation']);
      for (const o of ['concatenate', 'activation']) closeTo(outputs[o], exp.outputs[o], rtol, atol, `activations ${o} ${runtime}`);
    });
  }

  it('verify compares every output of several-input and several-output networks', () => {
    for (const name of ['functional', 'activations', 'masked_seq2seq']) {
      const r = runCli(['verify', fixture('keras', `${name}.h5`), '--rows', '30', '--json']);
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { ok: boolean; rows: number; methods: Record<string, { mismatches: number }> };
      assert.equal(doc.ok, true, name);
      assert.equal(doc.rows, 30);
      assert.deepEqual(Object.keys(doc.methods), ['predict']);
    }
    const file = join(dir, 'functional.verify.json');
    writeFileSync(file, JSON.stringify({ inputs: expected('functional').inputs }));
    const v = runCli(['verify', fixture('keras', 'functional.h5'), '--input', file, '--json']);
    assert.equal(v.status, 0, v.stderr);
    assert.equal((JSON.parse(v.stdout) as { ok: boolean }).ok, true);
  });

  it('several inputs: plain rows, an unknown input name or a missing input exit 3 naming the inputs', () => {
    const model = fixture('keras', 'functional.h5');
    const plain = runCli(['predict', model], { input: '[[1, 2, 3, 4, 5, 6]]' });
    assert.equal(plain.status, 3, plain.stderr);
    assert.match(plain.stderr, /takes 2 inputs \(input_1, input_2\)/);
    const stray = runCli(['predict', model], { input: JSON.stringify({ inputs: { input_1: [[1]], nope: [[1]] } }) });
    assert.equal(stray.status, 3, stray.stderr);
    assert.match(stray.stderr, /no input "nope"/);
    const missing = runCli(['predict', model], { input: JSON.stringify({ inputs: { input_1: expected('functional').inputs['input_1'] } }) });
    assert.equal(missing.status, 3, missing.stderr);
    assert.match(missing.stderr, /no rows for input "input_2"/);
    for (const r of [plain, stray, missing]) assert.equal(assertCleanStderr(r.stderr), null);
  });

  it('a weights-only file exits 4', () => {
    const r = runCli(['predict', fixture('keras', 'mlp_weights_only.h5')], { input: '[[1, 2, 3, 4, 5, 6, 7, 8]]' });
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /weights only/);
  });

  it('rows that do not fit the input shape exit 3', () => {
    const r = runCli(['predict', fixture('keras', 'lstm.h5')], { input: '[[[1, 2]]]' });
    assert.equal(r.status, 3, r.stderr);
    assert.equal(assertCleanStderr(r.stderr), null);
  });

});
