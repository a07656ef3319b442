/** CLI.md "mlpack verify": flags, JSON shape, exit 6 when outputs differ, usage errors. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writePerturbedOnnx } from '../helpers.js';
import { F, expectError, json, readRows, runCli, tempDir } from './helpers.js';

interface VerifyDoc {
  ok: boolean;
  rows: number;
  methods: Record<string, { max_abs_diff: number; max_rel_diff: number; mismatches: number }>;
}

const tmp = tempDir('verify');
const onnx = join(tmp, 'pipe.onnx');

function verify(args: string[], input?: string): { status: number; doc: VerifyDoc } {
  const r = runCli(['verify', ...args, '--json'], input === undefined ? {} : { input });
  return { status: r.status, doc: json<VerifyDoc>(r) };
}

describe('CLI.md verify', () => {
  it('in-memory conversion over generated rows: {ok, rows, methods: {<m>: {max_abs_diff, max_rel_diff, mismatches}}}', () => {
    const { status, doc } = verify([F.pipeline, '--rows', '25']);
    assert.equal(status, 0);
    assert.equal(doc.ok, true);
    assert.equal(doc.rows, 25);
    assert.deepEqual(Object.keys(doc.methods).sort(), ['decision_function', 'predict', 'predict_proba']);
    for (const m of Object.values(doc.methods)) {
      assert.equal(typeof m.max_abs_diff, 'number');
      assert.equal(typeof m.max_rel_diff, 'number');
      assert.equal(m.mismatches, 0);
    }
  });

  it('--against an ONNX file and --input rows', () => {
    assert.equal(runCli(['convert', F.pipeline, '--to', 'onnx', '-o', onnx]).status, 0);
    const { status, doc } = verify([F.pipeline, '--against', onnx, '--input', F.pipelineRows]);
    assert.equal(status, 0);
    assert.equal(doc.rows, readRows(F.pipelineRows).length);
  });

  it('--rtol/--atol: zero tolerance fails with exit 6 and mismatch counts', () => {
    const { status, doc } = verify([F.pipeline, '--against', onnx, '--rtol', '0', '--atol', '0', '--rows', '50']);
    assert.equal(status, 6);
    assert.equal(doc.ok, false);
    assert.ok(Object.values(doc.methods).some((m) => m.mismatches > 0));
  });

  it('a perturbed ONNX model exits 6; the human view says MISMATCH', () => {
    const bad = join(tmp, 'perturbed.onnx');
    writePerturbedOnnx(onnx, bad);
    const { status, doc } = verify([F.pipeline, '--against', bad]);
    assert.equal(status, 6);
    assert.equal(doc.ok, false);
    const human = runCli(['verify', F.pipeline, '--against', bad]);
    assert.equal(human.status, 6);
    assert.match(human.stdout, /MISMATCH/);
  });

  it('bad flag values are usage errors (exit 2)', () => {
    for (const flags of [['--rows', '-1'], ['--rows', '0'], ['--rows', '2.5'], ['--rtol', 'abc'], ['--atol', '-1'], ['--seed', 'x']]) {
      expectError(runCli(['verify', F.pipeline, ...flags, '--json']), 2, { json: true });
    }
    expectError(runCli(['verify', F.pipeline, '--input', F.pipelineRows, '--rows', '5', '--json']), 2, { json: true });
  });

  it('the wrong kind of file: an ONNX model to verify, or a non-ONNX --against, is a usage error', () => {
    expectError(runCli(['verify', onnx, '--json']), 2, { json: true, file: onnx });
    expectError(runCli(['verify', F.pipeline, '--against', F.pipeline, '--json']), 2, { json: true, file: F.pipeline, message: /joblib file/ });
    expectError(runCli(['verify', F.pipeline, '--against', 'no/such.onnx', '--json']), 2, { json: true, file: 'no/such.onnx' });
  });

  it('rows that do not fit the model are malformed input (3) naming the input file', () => {
    const rows = join(tmp, 'narrow.json');
    writeFileSync(rows, '[[1, 2]]');
    expectError(runCli(['verify', F.pipeline, '--input', rows, '--json']), 3, { json: true, file: rows });
  });

  it('an unsafe model is refused (5) unless trusted', () => {
    expectError(runCli(['verify', F.evil, '--json']), 5, { json: true, file: F.evil });
  });
});
