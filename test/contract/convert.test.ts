/** CLI.md "mlpack convert": flags, JSON shape, --verify and the exit codes of bad flag values. */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { F, expectError, json, listing, runCli, tempDir } from './helpers.js';

interface ConvertDoc {
  input: string;
  output: string;
  to: string;
  bytes: number;
  verify?: { ok: boolean; rows: number; methods: Record<string, { max_abs_diff: number; max_rel_diff: number; mismatches: number }> };
  written?: boolean;
}

const tmp = tempDir('convert');
let n = 0;
const out = (ext: string): string => join(tmp, `out${n++}.${ext}`);

function convert(args: string[]): ConvertDoc {
  const r = runCli(['convert', ...args, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return json<ConvertDoc>(r);
}

function inspect(path: string): { format: string; container: Record<string, unknown>; model: Record<string, unknown> } {
  return json(runCli(['inspect', path, '--json']));
}

describe('CLI.md convert: targets and the JSON document', () => {
  for (const [to, input] of [
    ['onnx', F.pipeline],
    ['mlpack', F.pipeline],
    ['joblib', F.irisPickle],
    ['pickle', F.pipeline],
    ['safetensors', F.torchZip],
  ] as const) {
    it(`--to ${to}: {input, output, to, bytes}; the file has that format`, () => {
      const o = out(to);
      const doc = convert([input, '--to', to, '-o', o]);
      assert.deepEqual(Object.keys(doc), ['input', 'output', 'to', 'bytes']);
      assert.deepEqual([doc.input, doc.output, doc.to], [input, o, to]);
      assert.equal(doc.bytes, statSync(o).size);
      assert.equal(inspect(o).format, to === 'pickle' ? 'pickle' : to === 'joblib' ? 'joblib' : to);
    });
  }

  it('--to and -o are required; an unknown --to is a usage error', () => {
    expectError(runCli(['convert', F.pipeline, '-o', out('x'), '--json']), 2, { json: true });
    expectError(runCli(['convert', F.pipeline, '--to', 'onnx', '--json']), 2, { json: true, message: /-o/ });
    expectError(runCli(['convert', F.pipeline, '--to', 'xyz', '-o', out('x'), '--json']), 2, { json: true, message: /--to must be one of/ });
  });
});

describe('CLI.md convert: --opset, --compress, --protocol', () => {
  it('--opset N writes that opset; a non-integer is a usage error, one out of range unsupported (4)', () => {
    const o = out('onnx');
    convert([F.pipeline, '--to', 'onnx', '--opset', '15', '-o', o]);
    const ops = inspect(o).container['opset_import'] as Array<{ domain: string; version: number }>;
    assert.equal(ops.find((x) => x.domain === '')!.version, 15);
    expectError(runCli(['convert', F.pipeline, '--to', 'onnx', '--opset', 'abc', '-o', out('onnx'), '--json']), 2, { json: true });
    expectError(runCli(['convert', F.pipeline, '--to', 'onnx', '--opset', '-3', '-o', out('onnx'), '--json']), 2, { json: true });
    expectError(runCli(['convert', F.pipeline, '--to', 'onnx', '--opset', '99', '-o', out('onnx'), '--json']), 4, { json: true });
  });

  it('--compress codec[:level] for mlpack and joblib outputs', () => {
    const m = out('mlpack');
    convert([F.pipeline, '--to', 'mlpack', '--compress', 'zlib:9', '-o', m]);
    assert.equal(inspect(m).container['compression'], 'zlib');
    const j = out('joblib');
    convert([F.pipeline, '--to', 'joblib', '--compress', 'gzip', '-o', j]);
    assert.equal(inspect(j).container['compression'], 'gzip');
  });

  it('bad --compress values: unknown codec or level is a usage error; a codec joblib cannot read is unsupported', () => {
    expectError(runCli(['convert', F.pipeline, '--to', 'mlpack', '--compress', 'zstd:99', '-o', out('mlpack'), '--json']), 2, { json: true });
    expectError(runCli(['convert', F.pipeline, '--to', 'mlpack', '--compress', 'lolz', '-o', out('mlpack'), '--json']), 2, { json: true });
    expectError(runCli(['convert', F.pipeline, '--to', 'mlpack', '--compress', 'zlib:high', '-o', out('mlpack'), '--json']), 2, { json: true });
    expectError(runCli(['convert', F.pipeline, '--to', 'joblib', '--compress', 'zstd', '-o', out('joblib'), '--json']), 4, { json: true });
  });

  it('--protocol 2–5 for pickle/joblib; anything else is a usage error', () => {
    const p = out('pkl');
    convert([F.pipeline, '--to', 'pickle', '--protocol', '2', '-o', p]);
    assert.equal(inspect(p).container['protocol'], 2);
    for (const bad of ['9', '1', 'abc', '2.5']) {
      expectError(runCli(['convert', F.pipeline, '--to', 'pickle', '--protocol', bad, '-o', out('pkl'), '--json']), 2, { json: true });
    }
  });

  it('a flag that does not apply to the target is a usage error, not silently ignored', () => {
    const cases: string[][] = [
      ['--to', 'mlpack', '--verify'],
      ['--to', 'joblib', '--opset', '15'],
      ['--to', 'onnx', '--protocol', '4'],
      ['--to', 'onnx', '--compress', 'zlib'],
      ['--to', 'pickle', '--compress', 'gzip'],
      ['--to', 'onnx', '--key', 'model'],
      ['--to', 'joblib', '--meta', 'a=b'],
      ['--to', 'onnx', '--rtol', '0.1'],
    ];
    for (const flags of cases) {
      const o = out('x');
      expectError(runCli(['convert', F.pipeline, ...flags, '-o', o, '--json']), 2, { json: true });
      assert.equal(existsSync(o), false);
    }
  });

  it('--meta key=value is recorded in ONNX metadata_props', () => {
    const o = out('onnx');
    convert([F.pipeline, '--to', 'onnx', '--meta', 'owner=ci', '-o', o]);
    assert.equal((inspect(o).model['metadata'] as Record<string, string>)['owner'], 'ci');
  });

  it('--meta key=value is recorded in safetensors __metadata__; mlpack\'s own keys win', () => {
    const o = out('st');
    convert([F.torchCheckpoint, '--to', 'safetensors', '--key', 'model_state_dict', '--meta', 'owner=ci', '--meta', 'format=np', '-o', o]);
    const metadata = inspect(o).container['metadata'] as Record<string, string>;
    assert.equal(metadata['owner'], 'ci');
    assert.equal(metadata['format'], 'pt');
    assert.equal(metadata['source_key'], 'model_state_dict');
  });

  it('torch → safetensors: a checkpoint needs --key', () => {
    expectError(runCli(['convert', F.torchCheckpoint, '--to', 'safetensors', '-o', out('st'), '--json']), 2, { json: true, message: /--key/ });
    convert([F.torchCheckpoint, '--to', 'safetensors', '--key', 'model_state_dict', '-o', out('st')]);
  });
});

describe('CLI.md convert: --verify', () => {
  it('ok: the document carries verify {ok, rows, methods}; exit 0', () => {
    const o = out('onnx');
    const doc = convert([F.pipeline, '--to', 'onnx', '--verify', '-o', o]);
    assert.equal(doc.verify!.ok, true);
    assert.equal(doc.verify!.rows, 200);
    for (const m of Object.values(doc.verify!.methods)) assert.deepEqual(Object.keys(m).slice(0, 3), ['max_abs_diff', 'max_rel_diff', 'mismatches']);
    assert.ok(existsSync(o));
  });

  it('mismatch: exit 6, the report in one document, and no output left behind', () => {
    const dir = tempDir('convert-verify');
    const o = join(dir, 'strict.onnx');
    const r = runCli(['convert', F.pipeline, '--to', 'onnx', '--verify', '--rtol', '0', '--atol', '0', '-o', o, '--json']);
    assert.equal(r.status, 6, r.stderr);
    const doc = json<ConvertDoc>(r);
    assert.equal(doc.verify!.ok, false);
    assert.ok(Object.values(doc.verify!.methods).some((m) => m.mismatches > 0));
    assert.equal(doc.written, false);
    assert.deepEqual(listing(dir), []);
  });
});
