/** CLI.md "mlpack scan": JSON shape, findings, exit 0/3/5 (and 2 for unreadable files). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { F, expectError, json, runCli } from './helpers.js';

interface ScanDoc {
  files: Array<{ file: string; verdict: string; globals: string[]; findings: Array<{ global?: string; severity: string; offset?: number }> }>;
}

function scan(files: string[]): { status: number; doc: ScanDoc } {
  const r = runCli(['scan', ...files, '--json']);
  return { status: r.status, doc: json<ScanDoc>(r) };
}

describe('CLI.md scan', () => {
  it('JSON: {files: [{file, verdict, globals, findings}]}, one entry per file in order', () => {
    const { status, doc } = scan([F.pipeline, F.onnxZipmap, F.safetensors, F.torchZip]);
    assert.equal(status, 0);
    assert.deepEqual(doc.files.map((f) => f.file), [F.pipeline, F.onnxZipmap, F.safetensors, F.torchZip]);
    for (const f of doc.files) {
      assert.equal(f.verdict, 'safe');
      assert.ok(Array.isArray(f.globals) && Array.isArray(f.findings));
      assert.deepEqual(f.findings, []);
    }
    assert.ok(doc.files[0]!.globals.includes('sklearn.pipeline.Pipeline'));
  });

  it('exit 5 when any file is unsafe; findings are {global, severity, offset}', () => {
    const { status, doc } = scan([F.pipeline, F.evil]);
    assert.equal(status, 5);
    assert.deepEqual(doc.files.map((f) => f.verdict), ['safe', 'unsafe']);
    const f = doc.files[1]!.findings[0]!;
    assert.deepEqual([f.global, f.severity, f.offset], ['os.system', 'critical', 0]);
    assert.ok(doc.files[1]!.globals.includes('os.system'));
  });

  it('pickles inside containers are scanned: torch zip members and Keras Lambda layers', () => {
    const torch = scan([F.torchEvil]);
    assert.equal(torch.status, 5);
    assert.ok(torch.doc.files[0]!.findings.some((x) => x.global === 'os.system' && typeof x.offset === 'number'));
    const keras = scan([F.kerasLambda]);
    assert.equal(keras.status, 5);
    assert.equal(keras.doc.files[0]!.verdict, 'unsafe');
  });

  it('a stream that cannot be decoded to its end: an error finding with the offset, exit 3', () => {
    const { status, doc } = scan([F.pipeline, F.truncated]);
    assert.equal(status, 3);
    const f = doc.files[1]!;
    assert.notEqual(f.verdict, 'safe', 'not passed');
    assert.equal(f.findings[0]!.severity, 'error');
    assert.equal(typeof f.findings[0]!.offset, 'number');
  });

  it('exit 5 when an unsafe global came before the undecodable part; 5 also wins over 3 across files', () => {
    const one = scan([F.globalThenTruncated]);
    assert.equal(one.status, 5);
    assert.deepEqual(one.doc.files[0]!.findings.map((x) => x.severity).sort(), ['critical', 'error']);
    assert.equal(scan([F.truncated, F.evil]).status, 5);
  });

  it('a file that cannot be read is reported per file and exits 2; no files is a usage error', () => {
    const { status, doc } = scan([F.pipeline, 'no/such/file.pkl']);
    assert.equal(status, 2);
    assert.equal(doc.files[1]!.file, 'no/such/file.pkl');
    assert.equal(doc.files[1]!.findings[0]!.severity, 'error');
    expectError(runCli(['scan', '--json']), 2, { json: true });
  });

  it('human view: one line per file, exit codes unchanged', () => {
    const r = runCli(['scan', F.pipeline, F.evil]);
    assert.equal(r.status, 5);
    assert.match(r.stdout, /^safe\s+.*pipeline_standardscaler_logreg/m);
    assert.match(r.stdout, /^UNSAFE\s+.*os-system-global-p0\.pkl/m);
    assert.match(r.stdout, /critical os\.system/);
  });
});
