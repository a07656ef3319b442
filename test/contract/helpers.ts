/**
 * Helpers for the CLI contract tests (test/contract): each test file pins one section of
 * ../shared/CLI.md against the built `mlpack` binary, spawned as users run it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCleanStderr, runCli } from '../helpers.js';
import type { CliResult } from '../helpers.js';
import { fixture } from '../paths.js';

export { runCli };
export type { CliResult };

/** Fixtures the contract tests share (all committed under fixtures/). */
export const F = {
  pipeline: fixture('debian', 'sklearn', 'pipeline_standardscaler_logreg.z3.joblib'),
  pipelineRows: fixture('debian', 'inputs', 'pipeline_standardscaler_logreg.json'),
  iris: fixture('debian', 'sklearn', 'dataframe_logreg_iris.z3.joblib'),
  irisPickle: fixture('debian', 'sklearn', 'dataframe_logreg_iris.p2.pkl'),
  irisRows: fixture('debian', 'inputs', 'dataframe_logreg_iris.json'),
  strings: fixture('debian', 'sklearn', 'logistic_regression_string_labels.p4.pkl'),
  stringRows: fixture('debian', 'inputs', 'logistic_regression_string_labels.json'),
  regressor: fixture('debian', 'sklearn', 'linear_regression.p4.pkl'),
  regressorRows: fixture('debian', 'inputs', 'linear_regression.json'),
  nan: fixture('debian', 'sklearn', 'hist_gradient_boosting_regressor_nan.p4.pkl'),
  nanRows: fixture('debian', 'inputs', 'hist_gradient_boosting_regressor_nan.json'),
  evil: fixture('hostile', 'malicious', 'os-system-global-p0.pkl'),
  truncated: fixture('hostile', 'malformed', 'iris-pipeline-p4-trunc-half.pkl'),
  globalThenTruncated: fixture('hostile', 'malformed', 'global-then-truncated.pkl'),
  kerasMlp: fixture('keras', 'mlp.h5'),
  kerasFunctional: fixture('keras', 'functional.h5'),
  kerasLambda: fixture('keras', 'lambda.h5'),
  kerasWeightsOnly: fixture('keras', 'mlp_weights_only.h5'),
  onnxZipmap: fixture('onnx', 'zipmap_linear.onnx'),
  onnxSymbolic: fixture('onnx', 'typed_fields.onnx'),
  onnxExternal: fixture('onnx', 'external', 'model.onnx'),
  torchCheckpoint: fixture('torch', 'checkpoint_sgd.pt'),
  torchLegacy: fixture('torch', 'state_dict_legacy.pt'),
  torchZip: fixture('torch', 'state_dict_zip.pt'),
  torchScript: fixture('torch', 'torchscript.pt'),
  torchModule: fixture('torch', 'module_pickled.pt'),
  torchViews: fixture('torch', 'views.pt'),
  torchEvil: fixture('torch', 'malicious_zip.pt'),
  safetensors: fixture('safetensors', 'state_dict.safetensors'),
} as const;

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `mlpack-contract-${label}-`));
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Files in a folder, hidden temporaries included. */
export function listing(dir: string): string[] {
  return readdirSync(dir).sort();
}

export function mtime(path: string): number {
  return statSync(path).mtimeMs;
}

/**
 * CLI.md, global behaviour: stdout holds exactly one JSON document (JSON.parse rejects two) and
 * stderr no stack trace.
 */
export function json<T = Record<string, unknown>>(r: CliResult): T {
  assert.equal(assertCleanStderr(r.stderr), null, r.stderr);
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch (err) {
    assert.fail(`stdout is not exactly one JSON document (${(err as Error).message}): ${r.stdout.slice(0, 300)} | stderr: ${r.stderr.slice(0, 300)}`);
  }
  assert.ok(doc !== null && typeof doc === 'object', 'the document is an object');
  return doc as T;
}

export interface ErrorDoc {
  error: { code: string; message: string; file: string | null; offset?: number; [k: string]: unknown };
}

const EXIT_CODES: Record<string, number> = { INTERNAL: 1, USAGE: 2, MALFORMED: 3, UNSUPPORTED: 4, UNSAFE: 5, VERIFY_FAILED: 6 };

/**
 * CLI.md, errors: exit code as the table says, one `mlpack: error: <message>` line (plus hint
 * lines) on stderr and, with --json, `{"error": {"code", "message", "file", "offset"?}}` on stdout.
 */
export function expectError(r: CliResult, exit: number, options: { json?: boolean; message?: RegExp; file?: string | null } = {}): ErrorDoc | null {
  assert.equal(r.status, exit, `exit ${r.status}, expected ${exit}; stderr: ${r.stderr}`);
  assert.equal(assertCleanStderr(r.stderr), null, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  const errors = lines.filter((l) => l.startsWith('mlpack: error: '));
  assert.equal(errors.length, 1, `one error line, got: ${r.stderr}`);
  const others = lines.filter((l) => !l.startsWith('mlpack: error: ') && !l.startsWith('mlpack: hint: ') && !l.startsWith('mlpack: warning: '));
  assert.deepEqual(others, [], `stderr holds only the error, hint and warning lines: ${r.stderr}`);
  if (options.message) assert.match(errors[0]!, options.message);
  if (!options.json) return null;
  const doc = json<ErrorDoc>(r);
  assert.deepEqual(Object.keys(doc), ['error']);
  assert.equal(EXIT_CODES[doc.error.code], exit, `code ${doc.error.code} maps to exit ${exit}`);
  assert.equal(typeof doc.error.message, 'string');
  assert.ok('file' in doc.error, 'error.file is present (null when no file is at fault)');
  if (options.file !== undefined) assert.equal(doc.error.file, options.file);
  if ('offset' in doc.error) assert.equal(typeof doc.error.offset, 'number');
  return doc;
}

/** Input rows from a fixture, as text for stdin. */
export function rowsText(path: string): string {
  return readFileSync(path, 'utf8');
}

export function readRows<T = number[][]>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
