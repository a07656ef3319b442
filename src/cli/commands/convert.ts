import type { Command } from 'commander';
import { convert, TARGETS, usage } from '../../index.js';
import type { ConvertOptions, Target } from '../../index.js';
import { err, formatBytes, stdoutState, toJSON, warn, writeStdout } from '../output.js';
import { renderVerify } from '../render/verify.js';
import { collect, integer, nonNegativeNumber, positiveInteger, safetyOptions, trustOption } from './shared.js';

interface Flags {
  to: string;
  output?: string;
  opset?: number;
  mlOpset?: number;
  float64?: boolean;
  compress?: string;
  protocol?: number;
  meta?: string[];
  key?: string;
  verify?: boolean;
  rtol?: number;
  atol?: number;
  force?: boolean;
  json?: boolean;
  trust?: string[];
  unsafeSkipCheck?: boolean;
}

export function registerConvert(program: Command): void {
  const cmd = program
    .command('convert')
    .description('convert a model: scikit-learn/Keras → ONNX, any model → .mlpack envelope, back to pickle/joblib, torch → safetensors (outputs are written atomically; the input is never modified)')
    .argument('<input>', "model file ('-' reads stdin)")
    .requiredOption('--to <format>', TARGETS.join(' | '))
    .option('-o, --output <file>', "output file (required; written atomically; '-' writes to stdout, without --json or --verify)")
    .option('--opset <n>', 'ONNX: default-domain opset (default 21; exit 4 when mlpack or onnxruntime cannot use it)', positiveInteger)
    .option('--ml-opset <n>', 'ONNX: ai.onnx.ml opset (default 3)', positiveInteger)
    .option('--float64', 'ONNX: double input and arithmetic where the operators allow')
    .option('--compress <codec[:level]>', 'payload compression (mlpack: none zlib gzip brotli zstd, default zstd; joblib: none zlib gzip bz2 lzma xz lz4, default none)')
    .option('--protocol <n>', 'pickle protocol for --to pickle/joblib (2–5, default 4)', integer)
    .option('--meta <key=value>', 'user metadata recorded in a .mlpack envelope, ONNX metadata_props or safetensors __metadata__ (repeatable)', collect)
    .option('--key <key>', 'torch checkpoint entry to export to safetensors (e.g. model)')
    .option('--verify', 'ONNX: run verify on the written file before it takes the output name; on mismatch exit 6 and keep no output')
    .option('--rtol <r>', 'relative tolerance for --verify (default 1e-4)', nonNegativeNumber)
    .option('--atol <a>', 'absolute tolerance for --verify (default 1e-5)', nonNegativeNumber)
    .option('--force', 'replace an existing output file')
    .option('--json', 'print one JSON document {input, output, to, bytes, verify?}');
  trustOption(cmd);
  cmd.action(async (input: string, flags: Flags) => {
    if (!flags.output) throw usage('convert needs an output file: -o <file>');
    const toStdout = flags.output === '-';
    if (toStdout && flags.json) throw usage('-o - writes the model to stdout, so --json has nowhere to go', { suggestion: 'write to a file with -o <file>' });
    if (toStdout && process.stdout.isTTY) throw usage('refusing to write a binary model to a terminal (-o -)', { suggestion: 'redirect stdout to a file or a pipe' });
    const meta: Record<string, string> = {};
    for (const kv of flags.meta ?? []) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw usage(`--meta takes key=value, not "${kv}"`);
      meta[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const options: ConvertOptions = { to: flags.to as Target, output: flags.output, ...safetyOptions(flags) };
    if (flags.force) options.force = true;
    if (flags.opset !== undefined) options.opset = flags.opset;
    if (flags.mlOpset !== undefined) options.mlOpset = flags.mlOpset;
    if (flags.float64) options.float64 = true;
    if (flags.compress !== undefined) options.compress = flags.compress;
    if (flags.protocol !== undefined) options.protocol = flags.protocol;
    if (Object.keys(meta).length) options.meta = meta;
    if (flags.key !== undefined) options.key = flags.key;
    if (flags.verify) options.verify = true;
    if (flags.rtol !== undefined) options.rtol = flags.rtol;
    if (flags.atol !== undefined) options.atol = flags.atol;
    const result = await convert(input, options);
    for (const w of result.warnings ?? []) warn(w);
    if (toStdout) {
      // stdout carried the model itself: the summary is a diagnostic.
      stdoutState.done = true;
      process.stderr.write(`${err.dim(`mlpack: wrote ${formatBytes(result.bytes)} (${result.to}) to stdout`)}\n`);
    } else if (flags.json) await writeStdout(toJSON(result));
    else {
      const head = result.written === false ? `not written: ${result.output} failed verification` : `wrote ${result.output} (${result.to}, ${formatBytes(result.bytes)})`;
      await writeStdout(`${head}${result.verify ? `\n${renderVerify(result.verify)}` : ''}`);
    }
    if (result.verify && !result.verify.ok) process.exitCode = 6;
  });
}
