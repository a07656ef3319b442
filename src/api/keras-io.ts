/**
 * Keras networks with several inputs or several outputs (a seq2seq decoder fed by an encoder's
 * states, a two-headed model). CLI.md gives ONNX files with several inputs
 * `{"inputs": {"<name>": rows, ...}}`; a Keras network with several inputs takes the same, natively
 * and through onnxruntime, rather than asking for a conversion first. Outputs: one entry per row
 * when the network has one output (as for any model), an object keyed by output name when it has
 * several (as ONNX `run` gives them).
 *
 * The whole input document is read at once (no streaming): every input's rows are needed
 * together. Rows are nested arrays shaped like the input (`null` = NaN), checked per row.
 */
import { malformed, usage } from '../errors.js';
import { assertRunnable, sizeOf } from '../keras/ir.js';
import type { KerasNetworkIR } from '../keras/ir.js';
import type { Tensor } from '../formats/onnx/types.js';
import type { OrtSession } from '../runtime/ort/session.js';
import { runNetwork } from '../runtime/native/keras.js';
import { normal, rng } from '../runtime/random.js';
import type { OutputValue } from './predict.js';
import { tensorRows } from './predict-onnx.js';

/** Each input's rows, flattened in C order, in the network's input order. */
export interface NamedFeeds {
  rows: number;
  data: Float64Array[];
}

function where(path: string): string {
  return path === '-' ? 'standard input' : path;
}

/** Read `{"inputs": {"<name>": rows, ...}}` (or `"instances"`; plain rows for a one-input network). */
export function parseNamedFeeds(ir: KerasNetworkIR, text: string, path: string): NamedFeeds {
  const file = path === '-' ? undefined : path;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw malformed(`${where(path)} is not valid JSON: ${(err as Error).message}`, { file });
  }
  const names = ir.inputs.map((i) => i.name);
  const wrapped = doc && typeof doc === 'object' && !Array.isArray(doc) ? ((doc as Record<string, unknown>)['inputs'] ?? (doc as Record<string, unknown>)['instances']) : doc;
  let perInput: unknown[];
  if (wrapped && typeof wrapped === 'object' && !Array.isArray(wrapped)) {
    const named = wrapped as Record<string, unknown>;
    const stray = Object.keys(named).find((k) => !names.includes(k));
    if (stray !== undefined) {
      throw malformed(`${where(path)}: the network has no input ${JSON.stringify(stray)} (its inputs: ${names.join(', ')})`, { file, field: stray });
    }
    perInput = ir.inputs.map((i) => named[i.name]);
  } else if (ir.inputs.length === 1) {
    perInput = [wrapped];
  } else {
    throw malformed(`${where(path)}: the network takes ${names.length} inputs (${names.join(', ')}); give {"inputs": {"<name>": rows, ...}}`, { file });
  }
  let rows = -1;
  const data = ir.inputs.map((input, k) => {
    const given = perInput[k];
    if (!Array.isArray(given)) {
      throw malformed(`${where(path)}: no rows for input "${input.name}" (give {"inputs": {"${input.name}": rows, ...}})`, { file, field: input.name });
    }
    if (rows >= 0 && given.length !== rows) {
      throw malformed(`${where(path)}: input "${input.name}" has ${given.length} rows but "${names[0]}" has ${rows}`, { file, field: input.name });
    }
    rows = given.length;
    return flattenRows(given, input.name, input.shape, path);
  });
  return { rows: Math.max(rows, 0), data };
}

function flattenRows(rows: unknown[], name: string, shape: number[], path: string): Float64Array {
  const file = path === '-' ? undefined : path;
  const per = sizeOf(shape);
  const out = new Float64Array(rows.length * per);
  let at = 0;
  rows.forEach((row, r) => {
    const walk = (v: unknown, depth: number, index: string): void => {
      if (depth === shape.length) {
        if (v === null) out[at++] = NaN;
        else if (typeof v === 'number') out[at++] = v;
        else if (typeof v === 'boolean') out[at++] = Number(v);
        else throw malformed(`${where(path)}: input "${name}" row ${r}${index}: ${JSON.stringify(v)?.slice(0, 40)} is not a number`, { file, field: `row ${r}` });
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[depth]) {
        throw malformed(`${where(path)}: input "${name}" row ${r}${index} should be an array of ${shape[depth]} (row shape ${JSON.stringify(shape)})`, {
          file,
          field: `row ${r}`,
        });
      }
      v.forEach((x, i) => walk(x, depth + 1, `${index}[${i}]`));
    };
    walk(row, 0, '');
  });
  return out;
}

/** Rows for `verify`: indices inside an Embedding's range, standard-normal values elsewhere. */
export function generateNamedFeeds(ir: KerasNetworkIR, rows: number, seed = 0): NamedFeeds {
  const rand = rng(seed);
  const data = ir.inputs.map((input) => {
    const out = new Float64Array(rows * sizeOf(input.shape));
    for (let i = 0; i < out.length; i++) {
      if (input.indexRange) out[i] = input.indexRange.min + Math.floor(rand() * (input.indexRange.max - input.indexRange.min));
      else out[i] = normal(rand);
    }
    return out;
  });
  return { rows, data };
}

/** Per-output rows, in the network's output order. */
export type NamedOutputs = OutputValue[][];

function outputRowsOf(ir: KerasNetworkIR, k: number, rows: number, data: Float64Array | Float32Array): OutputValue[] {
  return tensorRows({ dtype: 'float64', shape: [rows, ...ir.shapes[ir.outputs[k]!.value]!], data });
}

export function runNamedNative(ir: KerasNetworkIR, feeds: NamedFeeds): NamedOutputs {
  const outs = runNetwork(ir, feeds.data, feeds.rows);
  return outs.map((y, k) => outputRowsOf(ir, k, feeds.rows, y));
}

/**
 * Graph values for the network's inputs or outputs: by name where the graph has it (mlpack's
 * lowering keeps the Keras names, and calls the first output `variable`, src/convert/onnx/keras.ts),
 * else the graph's remaining values in order.
 */
function matchByName<T extends { name: string }>(declared: readonly T[], names: string[], firstAlias: string | null): T[] {
  const byName = new Map(declared.map((d) => [d.name, d]));
  const picked = names.map((n, k) => byName.get(k === 0 && firstAlias && byName.has(firstAlias) ? firstAlias : n) ?? null);
  const rest = declared.filter((d) => !picked.includes(d));
  return picked.map((p) => p ?? rest.shift()!);
}

/** Run a session of the network's ONNX conversion (or an `--against` file of the same interface). */
export async function runNamedOnnx(ir: KerasNetworkIR, session: OrtSession, feeds: NamedFeeds): Promise<NamedOutputs> {
  const { run } = await import('../runtime/ort/session.js');
  if (session.inputs.length !== ir.inputs.length || session.outputs.length !== ir.outputs.length) {
    throw usage(
      `${session.file ?? 'the ONNX model'} has ${session.inputs.length} inputs and ${session.outputs.length} outputs; the network has ${ir.inputs.length} and ${ir.outputs.length}`,
    );
  }
  const tensors: Record<string, Tensor> = {};
  const inputs = matchByName(session.inputs, ir.inputs.map((i) => i.name), null);
  const outputs = matchByName(session.outputs, ir.outputs.map((o) => o.name), 'variable');
  inputs.forEach((declared, k) => {
    const dtype = declared.type.kind === 'tensor' && declared.type.dtype === 'float64' ? 'float64' : 'float32';
    const data = dtype === 'float64' ? feeds.data[k]! : Float32Array.from(feeds.data[k]!);
    tensors[declared.name] = { dtype, shape: [feeds.rows, ...ir.inputs[k]!.shape], data };
  });
  const outs = await run(session, tensors);
  return outputs.map((o, k) => {
    const t = outs[o.name]!;
    return outputRowsOf(ir, k, feeds.rows, t.data as Float32Array);
  });
}

/** CLI.md's `outputs`: rows for one output, an object keyed by output name for several. */
export function namedResult(ir: KerasNetworkIR, outputs: NamedOutputs): OutputValue[] | Record<string, OutputValue> {
  if (outputs.length === 1) return outputs[0]!;
  return Object.fromEntries(ir.outputs.map((o, k) => [o.name, outputs[k]!]));
}

/** `predict` for a network with several inputs or outputs, natively or through onnxruntime. */
export async function predictNamed(
  ir: KerasNetworkIR,
  text: string,
  inputPath: string,
  runtime: 'native' | 'onnx',
): Promise<{ method: 'predict'; outputs: OutputValue[] | Record<string, OutputValue> }> {
  assertRunnable(ir);
  const feeds = parseNamedFeeds(ir, text, inputPath);
  if (runtime === 'native') return { method: 'predict', outputs: namedResult(ir, runNamedNative(ir, feeds)) };
  const { convertToOnnx } = await import('../convert/onnx/convert.js');
  const { createSession } = await import('../runtime/ort/session.js');
  const session = await createSession(convertToOnnx(ir), { file: `${ir.file} (converted in memory)`, baseDir: null });
  try {
    return { method: 'predict', outputs: namedResult(ir, await runNamedOnnx(ir, session, feeds)) };
  } finally {
    await session.dispose();
  }
}
