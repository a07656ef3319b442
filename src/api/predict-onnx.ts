/**
 * Prediction with onnxruntime-node: ONNX files directly, and scikit-learn models converted in
 * memory (`--runtime onnx`). onnxruntime loads only here (dynamic import), never for commands
 * that do not run ONNX.
 */
import { dirname } from 'node:path';
import { MlpackError, malformed, unsupported, usage } from '../errors.js';
import { classifierLabels, modelKind, outputRoles } from '../formats/onnx/inspect.js';
import type { Tensor as OnnxTensor } from '../formats/onnx/types.js';
import type { Label, Method } from '../ir/model.js';
import { isMultiIONetwork } from '../keras/ir.js';
import { asMatrix } from '../runtime/data.js';
import type { Table } from '../runtime/data.js';
import type { InputSource } from '../runtime/input.js';
import type { LoadedModel } from './load.js';
import { checkMethod, classesFor, inputChunks, inputSchema, jsonNumber, onRows } from './predict.js';
import type { OutputValue, PredictOptions, PredictResult } from './predict.js';

type Session = Awaited<ReturnType<(typeof import('../runtime/ort/session.js'))['createSession']>>;

/** Which output of an mlpack/skl2onnx-style graph answers which method. */
const OUTPUT_FOR: Record<Method, readonly string[]> = {
  predict: ['label', 'variable'],
  predict_proba: ['probabilities'],
  decision_function: ['scores'],
  transform: ['variable'],
  score_samples: ['score_samples'],
};

function tensorValue(v: number | bigint | string | boolean): OutputValue {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number') return jsonNumber(v);
  return v;
}

/** Split a tensor into per-row values (rows = first dimension), nested for higher ranks. */
export function tensorRows(t: OnnxTensor, squeezeColumn = false): OutputValue[] {
  const data = t.data as ArrayLike<number | bigint | string | boolean>;
  const shape = t.shape;
  const bool = t.dtype === 'bool';
  const at = (i: number): OutputValue => (bool ? data[i] === 1 || data[i] === true : tensorValue(data[i]!));
  if (shape.length === 0) return [at(0)];
  const rows = shape[0]!;
  const inner = shape.slice(1);
  const per = inner.reduce((a, b) => a * b, 1);
  const build = (offset: number, dims: number[]): OutputValue => {
    if (dims.length === 0) return at(offset);
    const stride = dims.slice(1).reduce((a, b) => a * b, 1);
    return Array.from({ length: dims[0]! }, (_, k) => build(offset + k * stride, dims.slice(1)));
  };
  return Array.from({ length: rows }, (_, r) => (squeezeColumn && per === 1 ? at(r) : build(r * per, inner)));
}

async function session(bytes: Uint8Array, file: string | undefined, baseDir: string | null): Promise<Session> {
  const { createSession } = await import('../runtime/ort/session.js');
  return createSession(bytes, { file, baseDir });
}

/** The whole input text (file or stdin), read once. */
export async function readText(input: InputSource): Promise<string> {
  if (input.text !== undefined) return input.text;
  const { readFile } = await import('node:fs/promises');
  if (input.path === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(input.path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw usage(`${input.path} is a directory, not an input file`, { file: input.path });
    throw usage(`no such input file: ${input.path}`, { file: input.path });
  }
}

function parseDocument(text: string, input: InputSource): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw malformed(`${input.path === '-' ? 'standard input' : input.path} is not valid JSON: ${(err as Error).message}`, { file: input.path });
  }
}

/** `{"inputs": {"<name>": rows, ...}}` (or "instances"): the rows of each named graph input. */
function namedInputs(text: string): Record<string, unknown> | null {
  if (!text.trimStart().startsWith('{')) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return null;
  const v = (doc as Record<string, unknown>)['inputs'] ?? (doc as Record<string, unknown>)['instances'];
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * CLI.md: `predict` is the default for converted classifiers/regressors (mlpack's and skl2onnx's
 * label/probabilities or `variable` outputs), `run` for every other graph.
 */
function isConvertedEstimator(graph: NonNullable<Session['model']['graph']>, props: Array<{ key?: string; value?: string }> | undefined, outputs: string[]): boolean {
  if (outputRoles(graph).label !== undefined) return true;
  const recorded = props?.find((p) => p.key === 'model_kind')?.value;
  const regressor = recorded === 'regressor' || recorded === 'classifier' || modelKind(graph) === 'regressor';
  return regressor && outputs.some((o) => OUTPUT_FOR.predict.includes(o));
}

const TYPED: Record<string, (n: number) => ArrayLike<unknown> & { [i: number]: unknown }> = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  int32: (n) => new Int32Array(n),
  int64: (n) => new BigInt64Array(n),
  int8: (n) => new Int8Array(n),
  uint8: (n) => new Uint8Array(n),
  int16: (n) => new Int16Array(n),
  uint16: (n) => new Uint16Array(n),
  bool: (n) => new Uint8Array(n),
};

/** Rows (nested arrays) → a tensor of the input's element type; the shape comes from the rows. */
function feedFromRows(name: string, dtype: string, rows: unknown[], declared: Array<number | string | null> | null): OnnxTensor {
  const shape: number[] = [rows.length];
  let probe: unknown = rows[0];
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  if (declared && declared.length !== shape.length) {
    // A [N, F] input given as flat scalars for F = 1, or rank mismatch: say what was expected.
    throw malformed(`input "${name}" expects rank ${declared.length} (${JSON.stringify(declared)}) but the rows have shape ${JSON.stringify(shape)}`, { field: name });
  }
  declared?.forEach((d, i) => {
    if (i > 0 && typeof d === 'number' && d !== shape[i]) {
      throw malformed(`input "${name}" dimension ${i} must be ${d} but the rows give ${shape[i]}`, { field: name });
    }
  });
  const flat = (rows as unknown[]).flat(shape.length);
  const size = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== size) throw malformed(`input "${name}" rows are ragged (expected ${size} values, got ${flat.length})`, { field: name });
  if (dtype === 'string') {
    return { dtype: 'string', shape, data: flat.map((v) => (v === null ? '' : String(v))) };
  }
  const make = TYPED[dtype];
  if (!make) throw unsupported(`input "${name}" has element type ${dtype}, which predict cannot feed`, { field: name });
  const data = make(size);
  for (let i = 0; i < size; i++) {
    const v = flat[i];
    const num = v === null ? NaN : typeof v === 'boolean' ? Number(v) : typeof v === 'number' ? v : NaN;
    if (typeof v !== 'number' && v !== null && typeof v !== 'boolean') {
      throw malformed(`input "${name}" element ${i}: ${JSON.stringify(v)} is not a number`, { field: name });
    }
    data[i] = dtype === 'int64' ? BigInt(Math.trunc(Number.isFinite(num) ? num : 0)) : num;
  }
  return { dtype: dtype as OnnxTensor['dtype'], shape, data: data as unknown as OnnxTensor['data'] };
}

function tableFeed(name: string, dtype: string, t: Table): OnnxTensor {
  const m = asMatrix(t);
  const make = TYPED[dtype];
  if (!make) throw unsupported(`input "${name}" has element type ${dtype}, which predict cannot feed from rows`, { field: name });
  const data = make(m.data.length);
  for (let i = 0; i < m.data.length; i++) data[i] = dtype === 'int64' ? BigInt(Math.trunc(m.data[i]!)) : m.data[i]!;
  return { dtype: dtype as OnnxTensor['dtype'], shape: [m.rows, m.cols], data: data as unknown as OnnxTensor['data'] };
}

/** Results for a converted/ONNX classifier-style graph and one method. */
function methodOutput(outs: Record<string, OnnxTensor>, method: Method, file: string): OutputValue[] {
  const name = OUTPUT_FOR[method].find((n) => n in outs);
  if (!name) throw unsupported(`${file}: the ONNX graph has no output for ${method} (outputs: ${Object.keys(outs).join(', ')})`, { field: 'method' });
  return tensorRows(outs[name]!, true);
}

export async function predictOnnx(model: LoadedModel, input: InputSource, options: PredictOptions): Promise<PredictResult> {
  const file = model.source.path;
  const baseDir = file === '-' ? null : dirname(file);
  if (model.format !== 'onnx') {
    if (isMultiIONetwork(model.ir)) {
      if ((options.method ?? 'predict') !== 'predict') throw unsupported(`${file}: a Keras network offers predict, not ${options.method}`, { field: 'method' });
      const { predictNamed } = await import('./keras-io.js');
      return predictNamed(model.ir, await readText(input), input.path, 'onnx');
    }
    // A scikit-learn model run through onnxruntime: convert in memory first.
    const { convertToOnnx, onnxFeeds, onnxInputFor } = await import('../convert/onnx/convert.js');
    const ir = model.ir!;
    const method = checkMethod(options.method ?? 'predict');
    if (!ir.methods.includes(method)) throw unsupported(`${ir.sourceClass.split('.').pop()} has no ${method}; it offers ${ir.methods.join(', ')}`);
    const s = await session(convertToOnnx(ir), file, null);
    const { run } = await import('../runtime/ort/session.js');
    const outputs: OutputValue[] = [];
    try {
      for await (const chunk of inputChunks(input, inputSchema(ir))) {
        const outs = await run(s, onRows(input.path, () => onnxFeeds(onnxInputFor(ir), chunk)));
        outputs.push(...methodOutput(outs, method, file));
      }
    } finally {
      await s.dispose();
    }
    const result: PredictResult = { method, outputs };
    const classes = classesFor(ir, method);
    if (classes) result.classes = classes;
    return result;
  }

  const s = await session(model.onnx!, file, baseDir);
  const { run } = await import('../runtime/ort/session.js');
  try {
    const graph = s.model.graph!;
    const roles = outputRoles(graph);
    const converted = isConvertedEstimator(graph, s.model.metadata_props, s.outputs.map((o) => o.name));
    const requested = options.method ?? (converted ? 'predict' : 'run');
    if (requested !== 'run') checkMethod(requested);
    const feeds: Record<string, OnnxTensor> = {};
    const inputs = s.inputs;
    const tensorInput = (i: (typeof inputs)[number]) => (i.type.kind === 'tensor' ? i.type : null);
    if (inputs.length === 0) throw unsupported(`${file} has no inputs to feed`);
    const first = inputs[0]!;
    const firstType = tensorInput(first);
    if (!firstType) throw unsupported(`${file}: input "${first.name}" is not a tensor (${first.typeName})`, { field: first.name });
    const rank2 = inputs.length === 1 && firstType.shape !== null && firstType.shape.length === 2 && firstType.dtype !== 'string';
    const text = await readText(input);
    const src: InputSource = { path: input.path, text };
    const named = namedInputs(text);
    if (rank2 && !named) {
      // Plain [N, F] input: every row form (JSON, NDJSON, CSV) goes through the row reader.
      const width = firstType.shape![1];
      const chunks: Table[] = [];
      for await (const c of inputChunks(src, { nFeatures: typeof width === 'number' ? width : null, featureNames: null })) chunks.push(c);
      const all: Table = { kind: 'table', rows: 0, cols: chunks[0]?.cols ?? 0, cells: [], names: null };
      for (const c of chunks) {
        all.rows += c.rows;
        for (const cell of c.cells) all.cells.push(cell);
      }
      feeds[first.name] = onRows(input.path, () => tableFeed(first.name, firstType.dtype ?? 'float32', all));
    } else {
      const doc = named ? null : parseDocument(text, input);
      const rowsDoc = named ?? (doc && typeof doc === 'object' && !Array.isArray(doc) ? ((doc as Record<string, unknown>)['inputs'] ?? (doc as Record<string, unknown>)['instances']) : doc);
      for (const i of inputs) {
        const t = tensorInput(i);
        if (!t) throw unsupported(`${file}: input "${i.name}" is not a tensor (${i.typeName})`, { field: i.name });
        let rows: unknown;
        if (rowsDoc && typeof rowsDoc === 'object' && !Array.isArray(rowsDoc)) rows = (rowsDoc as Record<string, unknown>)[i.name];
        else if (inputs.length === 1) rows = rowsDoc;
        if (!Array.isArray(rows)) {
          throw malformed(
            inputs.length > 1
              ? `the model has ${inputs.length} inputs (${inputs.map((x) => x.name).join(', ')}); give {"inputs": {"<name>": rows, ...}} with rows for "${i.name}"`
              : `expected a JSON array of rows for input "${i.name}"`,
            { field: i.name, file: input.path },
          );
        }
        feeds[i.name] = onRows(input.path, () => feedFromRows(i.name, t.dtype ?? 'float32', rows, t.shape));
      }
    }
    const outs = await run(s, feeds);
    if (requested === 'run') {
      const result: Record<string, OutputValue> = {};
      for (const o of s.outputs) {
        const zip = s.zipmaps[o.name];
        if (zip) {
          const probs = outs[o.name] ?? outs[zip.source];
          if (!probs) continue;
          result[o.name] = tensorRows(probs).map((row) => Object.fromEntries(zip.labels.map((l, k) => [String(l), (row as OutputValue[])[k]!])));
        } else if (outs[o.name]) {
          result[o.name] = tensorRows(outs[o.name]!);
        }
      }
      return { method: 'run', outputs: result };
    }
    const method = requested as Method;
    const nameFor = method === 'predict' ? roles.label : method === 'predict_proba' ? roles.probabilities : undefined;
    const out = nameFor ? outs[nameFor] ?? (s.zipmaps[nameFor] ? outs[s.zipmaps[nameFor]!.source] : undefined) : undefined;
    const outputs = out ? tensorRows(out, true) : methodOutput(outs, method, file);
    const result: PredictResult = { method, outputs };
    const labels = classifierLabels(graph) ?? metadataClasses(s.model.metadata_props);
    if (labels && (method === 'predict' || method === 'predict_proba')) result.classes = labels as Label[];
    return result;
  } catch (err) {
    if (err instanceof MlpackError && err.file === undefined) err.file = file;
    throw err;
  } finally {
    await s.dispose();
  }
}

function metadataClasses(props: Array<{ key?: string; value?: string }> | undefined): Label[] | null {
  const entry = props?.find((p) => p.key === 'classes');
  if (!entry?.value) return null;
  try {
    const v = JSON.parse(entry.value) as unknown;
    return Array.isArray(v) ? (v as Label[]) : null;
  } catch {
    return null;
  }
}
