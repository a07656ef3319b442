import type { Command } from 'commander';
import { verify } from '../../index.js';
import type { VerifyOptions } from '../../index.js';
import { toJSON, writeStdout } from '../output.js';
import { renderVerify } from '../render/verify.js';
import { nonNegativeInteger, nonNegativeNumber, positiveInteger, safetyOptions, trustOption } from './shared.js';

interface Flags {
  against?: string;
  input?: string;
  rows?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
  json?: boolean;
  trust?: string[];
  unsafeSkipCheck?: boolean;
}

export function registerVerify(program: Command): void {
  const cmd = program
    .command('verify')
    .description('compare the native evaluator with onnxruntime on the same rows; exit 6 when any output differs beyond tolerance')
    .argument('<model>', "source model (pickle, joblib, .mlpack or Keras HDF5; '-' reads stdin)")
    .option('--against <onnx>', "ONNX file (or .mlpack envelope holding one) to check; default: convert the model in memory ('-' reads stdin)")
    .option('--input <file>', "input rows, in any form predict takes (default: generated rows inside the ranges the model reveals; '-' reads stdin)")
    .option('--rows <n>', 'number of generated rows when there is no --input (default 200)', positiveInteger)
    .option('--rtol <r>', 'relative tolerance (default 1e-4)', nonNegativeNumber)
    .option('--atol <a>', 'absolute tolerance (default 1e-5); a value passes when |a - b| <= atol + rtol * |a|', nonNegativeNumber)
    .option('--seed <n>', 'seed for generated rows (default 0)', nonNegativeInteger)
    .option('--json', 'print one JSON document {ok, rows, methods: {<method>: {max_abs_diff, max_rel_diff, mismatches}}}');
  trustOption(cmd);
  cmd.action(async (model: string, flags: Flags) => {
    const options: VerifyOptions = { ...safetyOptions(flags) };
    if (flags.against) options.against = flags.against;
    if (flags.input) options.input = flags.input;
    if (flags.rows !== undefined) options.rows = flags.rows;
    if (flags.rtol !== undefined) options.rtol = flags.rtol;
    if (flags.atol !== undefined) options.atol = flags.atol;
    if (flags.seed !== undefined) options.seed = flags.seed;
    const result = await verify(model, options);
    await writeStdout(flags.json ? toJSON(result) : renderVerify(result));
    if (!result.ok) process.exitCode = 6;
  });
}
