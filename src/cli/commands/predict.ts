import type { Command } from 'commander';
import { checkMethod, classesFor, inputChunks, inputSchema, isMultiIONetwork, loadModel, predictNamed, predictNativeChunks, predictOnnx, readText, unsupported, usage } from '../../index.js';
import type { InputSource, OutputValue, PredictResult } from '../../index.js';
import { out, stdoutState, toJSON, writeStdout } from '../output.js';
import { write } from '../stream.js';
import { safetyOptions, trustOption } from './shared.js';

interface PredictFlags {
  input?: string;
  method?: string;
  runtime?: string;
  json?: boolean;
  trust?: string[];
  unsafeSkipCheck?: boolean;
}

function humanRow(i: number, v: OutputValue): string {
  return `${out.dim(String(i).padStart(6))}  ${typeof v === 'string' ? v : JSON.stringify(v)}`;
}

export function registerPredict(program: Command): void {
  const cmd = program
    .command('predict')
    .description('run a model on input rows (JSON rows, {"inputs": rows}, {"instances": rows}, objects keyed by feature name, NDJSON or CSV with a header; null = NaN)')
    .argument('<model>', "model file (pickle, joblib, .mlpack, Keras HDF5 or ONNX; '-' reads stdin)")
    .option('--input <file>', "input rows ('-' or omitted: stdin); ONNX and Keras models with several inputs take {\"inputs\": {\"<name>\": rows, ...}}")
    .option('--method <m>', 'predict (default) | predict_proba | decision_function | transform | score_samples; ONNX files also run (all outputs by name; the default for graphs that are not a converted classifier/regressor)')
    .option('--runtime <r>', 'native (default for pickle/joblib/.mlpack/HDF5) | onnx (default for ONNX files; converts other models in memory)')
    .option('--json', 'print one JSON document {method, outputs, classes?} (also the default when stdout is not a terminal)');
  trustOption(cmd);
  cmd.action(async (modelPath: string, flags: PredictFlags) => {
    // JSON is also the default when stdout is not a terminal; errors then come as JSON too.
    const json = Boolean(flags.json) || !process.stdout.isTTY;
    stdoutState.json = json;
    const runtime = flags.runtime ?? 'auto';
    if (!['auto', 'native', 'onnx'].includes(runtime)) throw usage(`--runtime must be native or onnx, not "${runtime}"`);
    if (flags.method !== undefined && flags.method !== 'run') checkMethod(flags.method);
    const input: InputSource = { path: flags.input ?? '-' };
    if (modelPath === '-' && input.path === '-') {
      throw usage('the model and the input rows cannot both come from stdin', { suggestion: 'pass the rows with --input <file>' });
    }
    if (input.path === '-' && process.stdin.isTTY) {
      throw usage('no input rows: pass --input <file> or pipe rows on stdin', { suggestion: 'echo \'[[1.0, 2.0]]\' | mlpack predict model.joblib' });
    }
    const model = await loadModel(modelPath, safetyOptions(flags));
    const writeWhole = async (result: PredictResult): Promise<void> => {
      if (json) await writeStdout(toJSON(result));
      else if (Array.isArray(result.outputs)) await writeStdout(result.outputs.map((v, i) => humanRow(i, v)).join('\n'));
      else await writeStdout(toJSON(result.outputs));
    };
    if (model.format === 'onnx' || runtime === 'onnx') {
      if (model.format === 'onnx' && runtime === 'native') throw usage(`${modelPath} is an ONNX file: it runs with --runtime onnx`, { file: modelPath });
      const opts = { ...safetyOptions(flags), ...(flags.method ? { method: flags.method as 'predict' } : {}) };
      await writeWhole(await predictOnnx(model, input, opts));
      return;
    }
    if (flags.method === 'run') throw usage('--method run applies to ONNX files', { suggestion: 'use predict, predict_proba, decision_function, transform or score_samples' });
    const method = checkMethod(flags.method ?? 'predict');
    const ir = model.ir!;
    if (isMultiIONetwork(ir)) {
      // Several inputs or outputs: the whole document is read, each input's rows by name.
      if (method !== 'predict') throw unsupported(`${modelPath}: a Keras network offers predict, not ${method}`, { file: modelPath, field: 'method' });
      await writeWhole(await predictNamed(ir, await readText(input), input.path, 'native'));
      return;
    }
    const chunks = predictNativeChunks(model, inputChunks(input, inputSchema(ir)), method, input.path);
    const classes = classesFor(ir, method);
    if (!json) {
      if (classes) await write(`${out.dim(`classes: ${classes.join(', ')}`)}\n`);
      let i = 0;
      for await (const rows of chunks) for (const v of rows) await write(`${humanRow(i++, v)}\n`);
      stdoutState.done = true;
      return;
    }
    // Stream the JSON document: outputs are written chunk by chunk as they are computed. Nothing
    // is written before the first chunk is ready, so errors found while loading or reading the
    // first rows still give a plain {"error": ...} document; a later error closes this document
    // with an "error" member (CLI.md: one JSON document on stdout).
    const tail = `]${classes ? `,"classes":${JSON.stringify(classes)}` : ''}`;
    let first = true;
    for await (const rows of chunks) {
      let text = '';
      if (first) {
        text = `{"method":${JSON.stringify(method)},"outputs":[`;
        stdoutState.close = (error) => `${tail},"error":${JSON.stringify(error)}}\n`;
      }
      for (const v of rows) {
        text += `${first ? '' : ','}${JSON.stringify(v)}`;
        first = false;
      }
      await write(text);
    }
    stdoutState.close = null;
    await write(first ? `{"method":${JSON.stringify(method)},"outputs":[${tail}}\n` : `${tail}}\n`);
    stdoutState.done = true;
  });
}
