/**
 * `verify`: the native evaluator and onnxruntime on the same rows, every shared method compared
 * within tolerances (NaN equal to NaN, labels exactly). A conversion CI can trust.
 */
import { dirname } from 'node:path';
import { MlpackError, usage } from '../errors.js';
import type { EstimatorIR, Method } from '../ir/model.js';
import type { Cell, Table } from '../runtime/data.js';
import { normal, rng } from '../runtime/random.js';
import { detectFormat } from '../formats/registry.js';
import { readSource } from '../io/source.js';
import type { Source } from '../io/source.js';
import { evaluate } from '../runtime/native/registry.js';
import { loadModel } from './load.js';
import type { SafetyOptions } from './load.js';
import { inputChunks, inputSchema, onRows, outputRows } from './predict.js';
import type { OutputValue } from './predict.js';
import { readText, tensorRows } from './predict-onnx.js';
import { isMultiIONetwork } from '../keras/ir.js';
import type { KerasNetworkIR } from '../keras/ir.js';
import type { OrtSession } from '../runtime/ort/session.js';

export interface VerifyOptions extends SafetyOptions {
  /** An ONNX file to check against; default: convert the model in memory. */
  against?: string;
  /** Input rows; default: `rows` generated rows inside the ranges the model reveals. */
  input?: string;
  rows?: number;
  rtol?: number;
  atol?: number;
  /** Seed for generated rows. */
  seed?: number;
}

export interface MethodReport {
  max_abs_diff: number;
  max_rel_diff: number;
  mismatches: number;
  /** Index of the first mismatching row, when there is one. */
  first_mismatch?: number;
}

export interface VerifyResult {
  ok: boolean;
  model: string;
  against: string;
  rows: number;
  rtol: number;
  atol: number;
  methods: Record<string, MethodReport>;
}

export const DEFAULT_RTOL = 1e-4;
export const DEFAULT_ATOL = 1e-5;

/** Column ranges from the first node that reveals them (pipelines: their first step). */
function columnsOf(ir: EstimatorIR): EstimatorIR['columns'] | undefined {
  if (ir.columns) return ir.columns;
  const steps = (ir as { steps?: Array<{ node: EstimatorIR | null }> }).steps;
  const first = steps?.find((s) => s.node)?.node;
  return first ? columnsOf(first) : undefined;
}

/** Rows inside the training ranges the model reveals (else standard-normal-ish values). */
export function generateRows(ir: EstimatorIR, n: number, seed = 0): Table {
  const cols = ir.nFeatures ?? 0;
  if (cols === 0) throw usage(`${ir.sourceClass} does not say how many features it takes; give rows with --input`);
  const info = columnsOf(ir);
  const rand = rng(seed);
  const cells: Cell[] = new Array(n * cols);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < cols; c++) {
      const col = info?.[c];
      let v: Cell;
      if (col?.kind === 'category' && col.categories?.length) {
        v = col.categories[Math.floor(rand() * col.categories.length)]! as Cell;
      } else if (col && col.min !== undefined && col.max !== undefined && Number.isFinite(col.min) && Number.isFinite(col.max)) {
        v = col.min + (col.max - col.min) * rand();
      } else {
        v = normal(rand);
      }
      cells[r * cols + c] = v;
    }
  }
  return { kind: 'table', rows: n, cols, cells, names: ir.featureNames };
}

/** ONNX output answering a method, for graphs mlpack or skl2onnx wrote. */
const OUTPUT_FOR: Partial<Record<Method, readonly string[]>> = {
  predict: ['label', 'variable'],
  predict_proba: ['probabilities'],
  transform: ['variable'],
  decision_function: ['scores'],
  score_samples: ['score_samples'],
};

function compare(native: OutputValue[], onnx: OutputValue[], rtol: number, atol: number): MethodReport {
  const report: MethodReport = { max_abs_diff: 0, max_rel_diff: 0, mismatches: 0 };
  const n = Math.max(native.length, onnx.length);
  for (let r = 0; r < n; r++) {
    const a = ([] as OutputValue[]).concat(native[r] ?? [NaN as unknown as OutputValue]).flat(4);
    const b = ([] as OutputValue[]).concat(onnx[r] ?? [NaN as unknown as OutputValue]).flat(4);
    let bad = a.length !== b.length;
    for (let k = 0; k < Math.min(a.length, b.length); k++) {
      const x = a[k];
      const y = b[k];
      if (typeof x === 'number' && typeof y === 'number') {
        if (Number.isNaN(x) && Number.isNaN(y)) continue;
        const d = Math.abs(x - y);
        const rel = d / Math.max(Math.abs(x), Number.MIN_VALUE);
        if (d > report.max_abs_diff) report.max_abs_diff = d;
        if (Number.isFinite(rel) && rel > report.max_rel_diff) report.max_rel_diff = rel;
        if (!(d <= atol + rtol * Math.abs(x))) bad = true;
      } else if (x !== y && !(x === null && y === null)) {
        // Labels (and null = NaN) compare exactly.
        bad = true;
      }
    }
    if (bad) {
      report.mismatches++;
      report.first_mismatch ??= r;
    }
  }
  return report;
}

/** The ONNX bytes of `--against`: an ONNX file or an .mlpack envelope holding one, found by content. */
async function readAgainst(path: string): Promise<Uint8Array> {
  const source = await readSource(path);
  const { detection } = detectFormat(source);
  if (detection.format === 'onnx') return source.bytes;
  if (detection.format === 'mlpack') {
    const model = await loadModel(source);
    if (model.onnx) return model.onnx;
  }
  throw usage(`--against takes an ONNX file, and ${path === '-' ? 'standard input' : path} is ${detection.format === 'mlpack' ? 'an .mlpack envelope without an ONNX payload' : `a ${detection.format} file`}`, {
    file: path,
    suggestion: 'convert the model first (`mlpack convert <model> --to onnx -o model.onnx`), or leave --against out to convert in memory',
  });
}

/** The ONNX side: `--against`, or the model converted in memory. */
async function againstSession(ir: EstimatorIR, modelPath: string, options: VerifyOptions): Promise<OrtSession> {
  const { createSession } = await import('../runtime/ort/session.js');
  const { convertToOnnx } = await import('../convert/onnx/convert.js');
  let bytes: Uint8Array;
  let baseDir: string | null = null;
  if (options.against) {
    bytes = await readAgainst(options.against);
    baseDir = options.against === '-' ? null : dirname(options.against);
  } else {
    bytes = convertToOnnx(ir);
  }
  return createSession(bytes, { file: options.against ?? `${modelPath} (converted in memory)`, baseDir });
}

/**
 * A Keras network with several inputs or outputs (src/api/keras-io.ts): rows by input name, and
 * one `predict` report over every output of each row.
 */
async function verifyNamed(ir: KerasNetworkIR, modelPath: string, options: VerifyOptions, rtol: number, atol: number): Promise<VerifyResult> {
  const { generateNamedFeeds, parseNamedFeeds, runNamedNative, runNamedOnnx } = await import('./keras-io.js');
  const feeds = options.input
    ? parseNamedFeeds(ir, await readText({ path: options.input }), options.input)
    : generateNamedFeeds(ir, options.rows ?? 200, options.seed ?? 0);
  const session = await againstSession(ir, modelPath, options);
  try {
    const perRow = (outs: OutputValue[][]): OutputValue[] => Array.from({ length: feeds.rows }, (_, r) => outs.map((o) => o[r]!).flat(8) as OutputValue[]);
    const native = perRow(runNamedNative(ir, feeds));
    const onnx = perRow(await runNamedOnnx(ir, session, feeds));
    const methods = { predict: compare(native, onnx, rtol, atol) };
    return { ok: methods.predict.mismatches === 0, model: modelPath, against: options.against ?? '(in-memory conversion)', rows: feeds.rows, rtol, atol, methods };
  } finally {
    await session.dispose();
  }
}

export async function verify(model: string | Source, options: VerifyOptions = {}): Promise<VerifyResult> {
  const modelPath = typeof model === 'string' ? model : model.path;
  const rtol = options.rtol ?? DEFAULT_RTOL;
  const atol = options.atol ?? DEFAULT_ATOL;
  for (const [flag, v] of [['--rtol', rtol], ['--atol', atol]] as const) {
    if (!Number.isFinite(v) || v < 0) throw usage(`${flag} must be a non-negative number, not ${v}`);
  }
  if (options.rows !== undefined && (!Number.isInteger(options.rows) || options.rows < 1)) throw usage(`--rows must be a positive integer, not ${options.rows}`);
  if (options.seed !== undefined && (!Number.isInteger(options.seed) || options.seed < 0)) throw usage(`--seed must be a non-negative integer, not ${options.seed}`);
  if (options.input !== undefined && (options.rows !== undefined || options.seed !== undefined)) {
    throw usage('--rows and --seed shape generated rows; with --input the rows come from the file');
  }
  const stdinUsers = [modelPath, options.input, options.against].filter((p) => p === '-');
  if (stdinUsers.length > 1) throw usage('only one of the model, --input and --against can come from stdin (-)');
  const loaded = await loadModel(model, options);
  if (loaded.format === 'onnx' || !loaded.ir) {
    throw usage(`${modelPath} is an ONNX file; verify takes the source model (pickle/joblib/.mlpack/Keras HDF5) and --against <onnx>`, { file: modelPath });
  }
  const ir = loaded.ir;
  if (isMultiIONetwork(ir)) return verifyNamed(ir, modelPath, options, rtol, atol);
  let table: Table;
  if (options.input) {
    const chunks: Table[] = [];
    for await (const c of inputChunks({ path: options.input }, inputSchema(ir))) chunks.push(c);
    table = { kind: 'table', rows: 0, cols: chunks[0]!.cols, cells: [], names: chunks[0]!.names };
    for (const c of chunks) {
      table.rows += c.rows;
      for (const cell of c.cells) table.cells.push(cell);
    }
  } else {
    table = generateRows(ir, options.rows ?? 200, options.seed ?? 0);
  }
  const inputPath = options.input;
  const rowsOf = <T>(fn: () => T): T => (inputPath === undefined ? fn() : onRows(inputPath, fn));

  const { run } = await import('../runtime/ort/session.js');
  const { onnxFeeds, onnxInputFor } = await import('../convert/onnx/convert.js');
  const session = await againstSession(ir, modelPath, options);
  try {
    // Feed what the graph declares: mlpack's own input convention (float or string input), with
    // the width and element type of a foreign --against file's single input.
    const spec = onnxInputFor(ir);
    const declared = session.inputs[0];
    if (declared && declared.type.kind === 'tensor') {
      spec.name = declared.name;
      if (declared.type.dtype === 'float64' || declared.type.dtype === 'float32' || declared.type.dtype === 'string') spec.dtype = declared.type.dtype;
    }
    const outs = await run(session, rowsOf(() => onnxFeeds(spec, table)));
    const methods: Record<string, MethodReport> = {};
    for (const method of ir.methods) {
      const name = OUTPUT_FOR[method]?.find((o) => o in outs);
      if (!name) continue;
      const native = rowsOf(() => outputRows(evaluate(ir, table, method)));
      methods[method] = compare(native, tensorRows(outs[name]!, true), rtol, atol);
    }
    if (Object.keys(methods).length === 0) {
      throw new MlpackError(`${options.against ?? 'the converted model'} has no output that matches a method of ${ir.sourceClass}`, { code: 'VERIFY_FAILED' });
    }
    const ok = Object.values(methods).every((m) => m.mismatches === 0);
    return { ok, model: modelPath, against: options.against ?? '(in-memory conversion)', rows: table.rows, rtol, atol, methods };
  } finally {
    await session.dispose();
  }
}
