/**
 * CLI.md "Global behaviour", "Exit codes" and the help promise, clause by clause, against the
 * built binary.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeModel } from '../../src/formats/onnx/read.js';
import { encodeModel } from '../../src/formats/onnx/write.js';
import { BIN, ROOT } from '../paths.js';
import { F, expectError, json, listing, mtime, readRows, rowsText, runCli, sha256, tempDir } from './helpers.js';

const ESC = /\x1b\[/;

describe('CLI.md global: --json prints exactly one JSON document on stdout', () => {
  const tmp = tempDir('json');
  const cases: Array<[string, string[], string?]> = [
    ['inspect', ['inspect', F.pipeline, '--json']],
    ['scan', ['scan', F.pipeline, F.evil, '--json']],
    ['predict', ['predict', F.iris, '--json'], rowsText(F.irisRows)],
    ['convert', ['convert', F.pipeline, '--to', 'mlpack', '-o', join(tmp, 'out.mlpack'), '--json']],
    ['verify', ['verify', F.pipeline, '--rows', '20', '--json']],
  ];
  for (const [name, args, input] of cases) {
    it(`${name}: success`, () => {
      const r = runCli(args, input === undefined ? {} : { input });
      assert.ok(r.status === 0 || (name === 'scan' && r.status === 5), r.stderr);
      json(r);
    });
  }

  const errors: Array<[string, string[], number, string?]> = [
    ['unknown command', ['frobnicate', '--json'], 2],
    ['unknown option', ['inspect', F.pipeline, '--bogus', '--json'], 2],
    ['missing argument', ['inspect', '--json'], 2],
    ['too many arguments', ['inspect', F.pipeline, F.pipeline, '--json'], 2],
    ['option without its value', ['convert', F.pipeline, '--to', 'onnx', '--json', '-o'], 2],
    ['required option missing', ['convert', F.pipeline, '-o', join(tmp, 'x.onnx'), '--json'], 2],
    ['missing file', ['inspect', 'no/such/model.pkl', '--json'], 2],
    ['malformed file', ['inspect', F.truncated, '--json'], 3],
    ['unsupported model', ['predict', F.torchZip, '--json'], 4, '[[1]]'],
    ['unsafe model', ['predict', F.evil, '--json'], 5, '[[1]]'],
  ];
  for (const [name, args, exit, input] of errors) {
    it(`error document: ${name} → exit ${exit}`, () => {
      expectError(runCli(args, input === undefined ? {} : { input }), exit, { json: true });
    });
  }

  it('a usage error names no file: error.file is null; a file error names it', () => {
    assert.equal(expectError(runCli(['inspect', '--bogus', F.pipeline, '--json']), 2, { json: true })!.error.file, null);
    expectError(runCli(['inspect', 'no/such/model.pkl', '--json']), 2, { json: true, file: 'no/such/model.pkl', message: /no\/such\/model\.pkl/ });
  });

  it('a malformed pickle error carries the offset, and stderr names the file', () => {
    const doc = expectError(runCli(['inspect', F.truncated, '--json']), 3, { json: true, file: F.truncated })!;
    assert.equal(typeof doc.error.offset, 'number');
    const r = runCli(['inspect', F.truncated]);
    assert.match(r.stderr, new RegExp(`^mlpack: error: .*${F.truncated.split('/').pop()!.replace(/\./g, '\\.')}`, 'm'));
    assert.equal(r.stdout, '', 'no JSON without --json');
  });

  it('predict: an error after the output began closes that document (still one document) with an error member', () => {
    const rows = Array.from({ length: 20_000 }, () => [5.1, 3.5, 1.4, 0.2]) as unknown[];
    rows.push([1, 2, 'x', 4]);
    const path = join(tmp, 'late-error.json');
    writeFileSync(path, JSON.stringify(rows));
    const r = runCli(['predict', F.iris, '--input', path, '--json']);
    assert.equal(r.status, 3, r.stderr);
    const doc = json<{ method: string; outputs: unknown[]; error: { code: string; file: string; message: string } }>(r);
    assert.equal(doc.error.code, 'MALFORMED');
    assert.equal(doc.error.file, path);
    assert.match(doc.error.message, /row 20000/);
    assert.ok(doc.outputs.length < rows.length);
  });

  it('--help and --version print text and exit 0, also with --json; `mlpack` alone is a usage error', () => {
    for (const args of [['--help'], ['--help', '--json'], ['help'], ['inspect', '--help', '--json'], ['help', 'scan']]) {
      const r = runCli(args);
      assert.equal(r.status, 0, args.join(' '));
      assert.match(r.stdout, /^Usage: mlpack/);
    }
    const v = runCli(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+/);
    const bare = runCli([]);
    assert.equal(bare.status, 2);
    assert.equal(bare.stdout, '');
    assert.match(bare.stderr, /^Usage: mlpack/m);
    assert.match(bare.stderr, /^mlpack: error: no command given$/m);
    const unknown = runCli(['help', 'frobnicate', '--json']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^mlpack: error: unknown command 'frobnicate'$/m);
    assert.equal(json<{ error: { code: string } }>(unknown).error.code, 'USAGE');
  });
});

describe('CLI.md: `mlpack --help` and `mlpack <command> --help` describe every flag', () => {
  const flags: Record<string, string[]> = {
    inspect: ['--json', '--tensors'],
    scan: ['--json'],
    predict: ['--input', '--method', '--runtime', '--json', '--trust', '--unsafe-skip-check', 'predict_proba', 'decision_function', 'transform', 'score_samples', 'run', 'native', 'onnx'],
    convert: ['--to', '-o, --output', '--opset', '--compress', '--verify', '--force', '--json', 'onnx', 'mlpack', 'joblib', 'pickle', 'safetensors', '--trust'],
    verify: ['--against', '--input', '--rows', '--rtol', '--atol', '--json', '--trust'],
  };
  it('the program help lists every command, the exit codes and the global options', () => {
    const r = runCli(['--help']);
    for (const c of Object.keys(flags)) assert.match(r.stdout, new RegExp(`^\\s+${c} `, 'm'), c);
    for (let code = 0; code <= 6; code++) assert.match(r.stdout, new RegExp(`^\\s+${code}\\s+\\S`, 'm'), `exit code ${code}`);
    assert.match(r.stdout, /--max-decompressed/);
  });
  for (const [command, names] of Object.entries(flags)) {
    it(`${command} --help`, () => {
      const r = runCli([command, '--help']);
      assert.equal(r.status, 0);
      assert.equal(r.stderr, '');
      for (const n of names) assert.ok(r.stdout.includes(n), `${command} --help mentions ${n}`);
      assert.match(r.stdout, /--max-decompressed/, 'global options are shown too');
    });
  }
});

describe('CLI.md global: diagnostics on stderr, colour only on a TTY without NO_COLOR', () => {
  it('no escape codes when stdout/stderr are not terminals, even with FORCE_COLOR and without NO_COLOR', () => {
    const env = { NO_COLOR: undefined as unknown as string, FORCE_COLOR: '3' };
    for (const args of [['inspect', F.pipeline], ['scan', F.evil], ['inspect', 'no/such/file']]) {
      const r = runCli(args, { env });
      assert.doesNotMatch(r.stdout, ESC, args.join(' '));
      assert.doesNotMatch(r.stderr, ESC, args.join(' '));
    }
  });

  const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
  it('on a terminal: colour, and none with NO_COLOR (needs util-linux `script` for a pty)', { skip: script ? false : 'no `script` command for a pseudo-terminal' }, () => {
    const run = (env: Record<string, string | undefined>) => {
      const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} scan ${JSON.stringify(F.evil)}`;
      const r = spawnSync(script!, ['-qec', cmd, '/dev/null'], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
      return r;
    };
    const coloured = run({ NO_COLOR: undefined, TERM: 'xterm' });
    assert.equal(coloured.status, 5);
    assert.match(coloured.stdout, ESC);
    const plain = run({ NO_COLOR: '1', TERM: 'xterm' });
    assert.equal(plain.status, 5);
    assert.doesNotMatch(plain.stdout, ESC);
    assert.match(plain.stdout, /UNSAFE/);
  });

  it('warnings go to stderr, not into the human view on stdout', () => {
    const tmp = tempDir('warn');
    const proto = decodeModel(readFileSync(F.onnxSymbolic));
    proto.opset_import![0]!.version = 99;
    const path = join(tmp, 'opset99.onnx');
    writeFileSync(path, encodeModel(proto));
    const r = runCli(['inspect', path]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^mlpack: warning: .*opset/m);
    assert.doesNotMatch(r.stdout, /warning|newer than/);
    const j = runCli(['inspect', path, '--json']);
    assert.ok((json<{ warnings: string[] }>(j).warnings ?? []).some((w) => /opset/.test(w)), 'the document keeps them');
  });

  it('a reader that closes stdout early (| head) ends predict quietly', () => {
    const tmp = tempDir('epipe');
    const rows = join(tmp, 'rows.json');
    writeFileSync(rows, JSON.stringify(Array.from({ length: 200_000 }, () => [5.1, 3.5, 1.4, 0.2])));
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} predict ${JSON.stringify(F.iris)} --input ${JSON.stringify(rows)} --json | head -c 16 >/dev/null; echo "exit=\${PIPESTATUS[0]}" >&2`;
    const r = spawnSync('bash', ['-c', cmd], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.match(r.stderr, /exit=0/);
    assert.doesNotMatch(r.stderr, /internal error|EPIPE|\n\s+at /);
  });
});

describe('CLI.md global: formats are found from content, never the extension', () => {
  const tmp = tempDir('content');
  const joblibAsOnnx = join(tmp, 'model.onnx');
  const onnxAsJoblib = join(tmp, 'model.joblib');
  copyFileSync(F.iris, joblibAsOnnx);
  copyFileSync(F.onnxZipmap, onnxAsJoblib);

  it('inspect and scan report the real format', () => {
    assert.equal(json<{ format: string }>(runCli(['inspect', joblibAsOnnx, '--json'])).format, 'joblib');
    assert.equal(json<{ format: string }>(runCli(['inspect', onnxAsJoblib, '--json'])).format, 'onnx');
    const scan = json<{ files: Array<{ format: string; verdict: string }> }>(runCli(['scan', joblibAsOnnx, onnxAsJoblib, '--json']));
    assert.deepEqual(scan.files.map((f) => f.format), ['joblib', 'onnx']);
  });

  it('predict runs each with its real runtime', () => {
    const rows = rowsText(F.irisRows);
    const native = json<{ outputs: unknown[] }>(runCli(['predict', F.iris, '--json'], { input: rows }));
    assert.deepEqual(json<{ outputs: unknown[] }>(runCli(['predict', joblibAsOnnx, '--json'], { input: rows })).outputs, native.outputs);
    const onnx = json<{ method: string; classes: unknown[] }>(runCli(['predict', onnxAsJoblib, '--json'], { input: '[[1, 2, 3, 4]]' }));
    assert.equal(onnx.method, 'predict');
    assert.deepEqual(onnx.classes, [10, 20, 30]);
  });
});

describe("CLI.md global: '-' is stdin/stdout where it makes sense", () => {
  const tmp = tempDir('dash');
  const bytes = readFileSync(F.iris);
  const rows = rowsText(F.irisRows);

  it('inspect - and scan - read the model from stdin', () => {
    const i = json<{ file: string; format: string; sha256: string }>(runCli(['inspect', '-', '--json'], { input: bytes }));
    assert.deepEqual([i.file, i.format, i.sha256], ['-', 'joblib', sha256(F.iris)]);
    const s = runCli(['scan', '-', '--json'], { input: readFileSync(F.evil) });
    assert.equal(s.status, 5);
    assert.equal(json<{ files: Array<{ file: string }> }>(s).files[0]!.file, '-');
    expectError(runCli(['scan', '-', '-', '--json'], { input: bytes }), 2, { json: true });
  });

  it('predict --input - (and no --input) read rows from stdin; a model from stdin takes rows from --input', () => {
    const want = json<{ outputs: unknown[] }>(runCli(['predict', F.iris, '--input', F.irisRows, '--json'])).outputs;
    assert.deepEqual(json<{ outputs: unknown[] }>(runCli(['predict', F.iris, '--input', '-', '--json'], { input: rows })).outputs, want);
    assert.deepEqual(json<{ outputs: unknown[] }>(runCli(['predict', '-', '--input', F.irisRows, '--json'], { input: bytes })).outputs, want);
    expectError(runCli(['predict', '-', '--json'], { input: bytes }), 2, { json: true, message: /both come from stdin/ });
  });

  it('convert - reads stdin (with --verify too); -o - writes the model to stdout and the summary to stderr', () => {
    const out = join(tmp, 'from-stdin.onnx');
    const c = json<{ input: string; verify: { ok: boolean } }>(runCli(['convert', '-', '--to', 'onnx', '-o', out, '--verify', '--json'], { input: bytes }));
    assert.equal(c.input, '-');
    assert.equal(c.verify.ok, true);
    const r = spawnSync(process.execPath, [BIN, 'convert', F.iris, '--to', 'onnx', '-o', '-'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(r.stdout.subarray(0, 16), readFileSync(out).subarray(0, 16), 'stdout holds the ONNX model');
    assert.match(r.stderr.toString(), /^mlpack: wrote .* to stdout$/m);
    expectError(runCli(['convert', F.iris, '--to', 'onnx', '-o', '-', '--json']), 2, { json: true });
    expectError(runCli(['convert', F.iris, '--to', 'onnx', '-o', '-', '--verify']), 2);
  });

  it('verify --input - and --against - read stdin; only one of them may', () => {
    const onnx = join(tmp, 'iris.onnx');
    assert.equal(runCli(['convert', F.iris, '--to', 'onnx', '-o', onnx]).status, 0);
    const a = json<{ ok: boolean; rows: number }>(runCli(['verify', F.iris, '--input', '-', '--json'], { input: rows }));
    assert.equal(a.rows, readRows(F.irisRows).length);
    assert.equal(json<{ ok: boolean }>(runCli(['verify', F.iris, '--against', '-', '--rows', '10', '--json'], { input: readFileSync(onnx) })).ok, true);
    expectError(runCli(['verify', F.iris, '--against', '-', '--input', '-', '--json'], { input: rows }), 2, { json: true });
  });
});

describe('CLI.md global: outputs are atomic, replaced only with --force; inputs are never modified', () => {
  const tmp = tempDir('atomic');
  const input = join(tmp, 'model.joblib');
  copyFileSync(F.pipeline, input);
  const inputSha = sha256(input);
  const inputTime = mtime(input);
  const unchanged = () => {
    assert.equal(sha256(input), inputSha, 'the input bytes did not change');
    assert.equal(mtime(input), inputTime, 'the input was not rewritten');
  };

  it('every target leaves the input untouched and no temporary file', () => {
    const outs: Array<[string, string[]]> = [
      ['onnx', []],
      ['mlpack', ['--compress', 'zstd:5']],
      ['joblib', ['--compress', 'xz']],
      ['pickle', ['--protocol', '2']],
    ];
    for (const [to, extra] of outs) {
      const out = join(tmp, `ok.${to}`);
      const r = runCli(['convert', input, '--to', to, '-o', out, ...extra, '--json']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(json<{ bytes: number }>(r).bytes, readFileSync(out).length);
    }
    unchanged();
    assert.deepEqual(listing(tmp).filter((f) => f.startsWith('.')), [], 'no temporary files');
  });

  it('an existing output is replaced only with --force', () => {
    const out = join(tmp, 'exists.onnx');
    writeFileSync(out, 'keep me');
    expectError(runCli(['convert', input, '--to', 'onnx', '-o', out, '--json']), 2, { json: true, file: out, message: /already exists/ });
    assert.equal(readFileSync(out, 'utf8'), 'keep me');
    assert.equal(runCli(['convert', input, '--to', 'onnx', '-o', out, '--force']).status, 0);
    assert.notEqual(readFileSync(out, 'utf8'), 'keep me');
  });

  it('the input cannot be the output, even with --force, through another spelling or a link', () => {
    const link = join(tmp, 'link.joblib');
    symlinkSync(input, link);
    for (const out of [input, join(tmp, '.', 'model.joblib'), link]) {
      expectError(runCli(['convert', input, '--to', 'joblib', '-o', out, '--force', '--json']), 2, { json: true, message: /is the input file/ });
    }
    unchanged();
  });

  it('failing conversions leave no output and no temporary file', () => {
    const failures: Array<[number, string[]]> = [
      [4, ['convert', F.torchZip, '--to', 'onnx', '-o', join(tmp, 'f1.onnx')]],
      [5, ['convert', F.evil, '--to', 'mlpack', '-o', join(tmp, 'f2.mlpack')]],
      [3, ['convert', F.truncated, '--to', 'joblib', '-o', join(tmp, 'f3.joblib')]],
      [4, ['convert', fixtureSvc(), '--to', 'onnx', '--opset', '9', '-o', join(tmp, 'f4.onnx')]],
      [6, ['convert', input, '--to', 'onnx', '-o', join(tmp, 'f5.onnx'), '--verify', '--rtol', '0', '--atol', '0']],
      [2, ['convert', input, '--to', 'onnx', '-o', join(tmp, 'no-such-folder', 'f6.onnx')]],
    ];
    const before = listing(tmp);
    for (const [exit, args] of failures) {
      const r = runCli([...args, '--json']);
      assert.equal(r.status, exit, `${args.join(' ')}: ${r.stderr}`);
      json(r);
    }
    assert.deepEqual(listing(tmp), before, 'nothing was left behind');
    unchanged();
  });

  it('a directory as output, or an output folder that does not exist, is a usage error', () => {
    expectError(runCli(['convert', input, '--to', 'onnx', '-o', tmp, '--force', '--json']), 2, { json: true, message: /is a directory/ });
    expectError(runCli(['convert', input, '--to', 'onnx', '-o', join(tmp, 'nope', 'x.onnx'), '--json']), 2, { json: true, message: /does not exist/ });
  });
});

function fixtureSvc(): string {
  return join(ROOT, 'fixtures', 'debian', 'sklearn', 'svc_rbf_probability.p4.pkl');
}
