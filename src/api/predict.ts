/**
 * `predict`: rows in, scikit-learn's answers out. Input streams in chunks through the native
 * evaluator (or onnxruntime); outputs are produced per chunk so callers can write as they go.
 */
import { MlpackError, unsupported, usage } from '../errors.js';
import type { EstimatorIR, Label, Method } from '../ir/model.js';
import { METHODS } from '../ir/model.js';
import { isMultiIONetwork } from '../keras/ir.js';
import type { Output, Table } from '../runtime/data.js';
import { readInputChunks } from '../runtime/input.js';
import type { InputSchema, InputSource } from '../runtime/input.js';
import { evaluate } from '../runtime/native/registry.js';
import { loadModel } from './load.js';
import type { LoadedModel, SafetyOptions } from './load.js';

export type Runtime = 'native' | 'onnx';

export interface PredictOptions extends SafetyOptions {
  method?: Method | 'run';
  runtime?: Runtime;
}

export type OutputValue = Label | null | OutputValue[] | { [k: string]: OutputValue };

export interface PredictResult {
  method: string;
  outputs: OutputValue[] | Record<string, OutputValue>;
  classes?: Label[];
}

export function inputSchema(ir: EstimatorIR): InputSchema {
  const schema: InputSchema = { nFeatures: ir.nFeatures, featureNames: ir.featureNames };
  if (ir.oneDimensionalInput) schema.oneDimensional = true;
  if (ir.inputShape && ir.inputShape.length > 1) schema.rowShape = ir.inputShape;
  return schema;
}

/** JSON-safe number: NaN → null, ±inf → "Infinity"/"-Infinity" (as the reference outputs record them). */
export function jsonNumber(v: number): number | string | null {
  if (Number.isNaN(v)) return null;
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/** One JSON value per input row. */
export function outputRows(o: Output): OutputValue[] {
  if (o.kind === 'labels') return o.values;
  if (o.kind === 'vector') return Array.from(o.data, jsonNumber);
  if (o.rowShape && o.rowShape.length > 1) {
    const shape = o.rowShape;
    const per = o.cols;
    const nest = (offset: number, dims: number[]): OutputValue => {
      if (dims.length === 0) return jsonNumber(o.data[offset]!);
      const stride = dims.slice(1).reduce((a, b) => a * b, 1);
      return Array.from({ length: dims[0]! }, (_, k) => nest(offset + k * stride, dims.slice(1)));
    };
    return Array.from({ length: o.rows }, (_, r) => nest(r * per, shape));
  }
  const rows: OutputValue[] = new Array(o.rows);
  for (let r = 0; r < o.rows; r++) rows[r] = Array.from(o.data.subarray(r * o.cols, (r + 1) * o.cols), jsonNumber);
  return rows;
}

export function checkMethod(method: string): Method {
  if (!(METHODS as readonly string[]).includes(method)) {
    throw usage(`unknown method "${method}"`, { suggestion: `methods: ${METHODS.join(', ')}` });
  }
  return method as Method;
}

/** Run `fn` on input rows: a MALFORMED error it raises is a fault of the rows, so it names the input file. */
export function onRows<T>(inputPath: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MlpackError && err.code === 'MALFORMED' && err.file === undefined) err.file = inputPath;
    throw err;
  }
}

/**
 * Input rows in chunks; an error in the rows names the input file (`-` for stdin) rather than
 * the model, which a caller would otherwise attach.
 */
export async function* inputChunks(input: InputSource, schema: InputSchema): AsyncGenerator<Table> {
  try {
    yield* readInputChunks(input, schema);
  } catch (err) {
    if (err instanceof MlpackError && err.file === undefined) err.file = input.path;
    throw err;
  }
}

/** Evaluate chunks of rows with the native evaluator, yielding per-row outputs. */
export async function* predictNativeChunks(model: LoadedModel, input: AsyncIterable<Table>, method: Method, inputPath?: string): AsyncGenerator<OutputValue[]> {
  const ir = model.ir!;
  for await (const chunk of input) {
    // A value the evaluator cannot use ("x" where a number is needed) is a fault of the rows.
    yield inputPath === undefined ? outputRows(evaluate(ir, chunk, method)) : onRows(inputPath, () => outputRows(evaluate(ir, chunk, method)));
  }
}

export function classesFor(ir: EstimatorIR, method: Method): Label[] | undefined {
  if (!ir.classes) return undefined;
  if (method === 'predict' || method === 'predict_proba' || method === 'decision_function') return ir.classes.values;
  return undefined;
}

/** Library form: whole result in memory. The CLI streams instead. */
export async function predict(modelPath: string, input: InputSource, options: PredictOptions = {}): Promise<PredictResult> {
  const model = await loadModel(modelPath, options);
  if (model.format === 'onnx' || options.runtime === 'onnx') {
    const { predictOnnx } = await import('./predict-onnx.js');
    return predictOnnx(model, input, options);
  }
  const method = checkMethod(options.method ?? 'predict');
  if (isMultiIONetwork(model.ir)) {
    if (method !== 'predict') throw unsupported(`${model.source.path}: a Keras network offers predict, not ${method}`, { field: 'method' });
    const [{ predictNamed }, { readText }] = await Promise.all([import('./keras-io.js'), import('./predict-onnx.js')]);
    return predictNamed(model.ir, await readText(input), input.path, 'native');
  }
  const outputs: OutputValue[] = [];
  for await (const rows of predictNativeChunks(model, inputChunks(input, inputSchema(model.ir!)), method, input.path)) outputs.push(...rows);
  const result: PredictResult = { method, outputs };
  const classes = classesFor(model.ir!, method);
  if (classes) result.classes = classes;
  return result;
}
