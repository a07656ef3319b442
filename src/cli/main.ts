/**
 * The `mlpack` command line: one file per command, one top-level catch, usage errors exit 2
 * (commander's default 1 is reserved for bugs), results on stdout, everything else on stderr.
 *
 * Decisions on the edges of CLI.md:
 * - `--help`/`-h` (program or command) and `--version` print text on stdout and exit 0, also
 *   with `--json`: they describe the tool rather than run a command. `mlpack` with no command,
 *   or `mlpack help <unknown>`, prints the help on stderr and exits 2 (a usage error).
 * - With `--json`, every failure (commander's usage errors and unknown commands included) prints
 *   one `{"error": {...}}` document; a failure after a streamed document began (predict) closes
 *   that document with an `error` member, so stdout always holds exactly one JSON document.
 * - A reader that closes stdout early (`mlpack predict ... | head`) ends the command quietly.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { setLimits, VERSION } from '../index.js';
import { registerConvert } from './commands/convert.js';
import { registerInspect } from './commands/inspect.js';
import { registerPredict } from './commands/predict.js';
import { registerScan } from './commands/scan.js';
import { registerVerify } from './commands/verify.js';
import { reportError, writeJsonError } from './errors.js';
import { err, isBrokenPipe, stdoutState } from './output.js';

function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a size like 500000000, 512MB or 8GiB');
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const mult = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit] ?? 1;
  return Math.floor(Number(m[1]) * mult);
}

const EPILOG = `
Every command takes --json: one JSON document on stdout (errors too:
{"error": {"code", "message", "file", "offset"?}}); diagnostics go to stderr.
'-' as a file means stdin (inspect, scan, predict --input, verify --input,
convert's input) or stdout (convert -o -). Formats are found from content.

Exit codes:
  0  success (scan: nothing unsafe found)
  1  a bug in mlpack (please report it)
  2  usage error (bad flags, missing arguments, missing files)
  3  malformed or corrupt input
  4  unsupported format, feature, estimator, operator or opset
  5  unsafe content (imports outside the allowlist; see --trust)
  6  verification failed (outputs differ beyond tolerance)`;

/** State the top-level catch needs: whether the running command was given --json. */
interface RunState {
  json: boolean | null;
}

export function buildProgram(state: RunState = { json: null }): Command {
  const program = new Command();
  program
    .name('mlpack')
    .description('Open, inspect, scan, run and convert ML model files (pickle, joblib, PyTorch, Keras HDF5, ONNX, safetensors, .mlpack) without Python and without executing pickle code.')
    .version(VERSION, '-V, --version')
    .addOption(new Option('--max-decompressed <size>', 'largest decompressed stream to accept (default 4GiB; also lifts the 2000:1 ratio check)').argParser(parseBytes))
    .addHelpText('after', EPILOG)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`${err.red('mlpack: error:')} ${str.replace(/^error: /, '')}`) })
    .hook('preAction', (cmd, action) => {
      state.json = Boolean(action.opts<{ json?: boolean }>().json);
      const max = cmd.opts<{ maxDecompressed?: number }>().maxDecompressed;
      // An explicit size limit is the user vouching for the file: it lifts the ratio heuristic too.
      if (max !== undefined) setLimits({ maxDecompressedBytes: max, maxCompressionRatio: Infinity });
    });
  registerInspect(program);
  registerScan(program);
  registerPredict(program);
  registerConvert(program);
  registerVerify(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Before commander has parsed the command line (usage errors), --json is looked for in argv. */
function jsonInArgv(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

function commandName(program: Command, argv: string[]): string | null {
  const names = new Set(program.commands.map((c) => c.name()));
  return argv.slice(2).find((a) => names.has(a)) ?? null;
}

export async function main(argv: string[]): Promise<void> {
  const state: RunState = { json: null };
  const program = buildProgram(state);
  let finished = false;
  // A reader that goes away (EPIPE) is not an error of ours; without a listener Node would crash.
  process.stdout.on('error', (e) => {
    if (isBrokenPipe(e)) stdoutState.broken = true;
  });
  // A command whose promise never settles would otherwise exit 0 with nothing written.
  process.once('exit', (code) => {
    if (finished || code !== 0) return;
    process.stderr.write(`${err.red('mlpack: error:')} internal error: the command stopped before finishing\n`);
    if (stdoutState.json || (state.json ?? jsonInArgv(argv))) writeJsonError({ error: { code: 'INTERNAL', message: 'the command stopped before finishing', file: null } });
    process.exitCode = 1;
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const json = stdoutState.json || (state.json ?? jsonInArgv(argv));
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || (e.code === 'commander.help' && e.exitCode === 0)) {
        process.exitCode = 0;
      } else {
        // Commander already printed `mlpack: error: ...` (or, with no command, the help) on stderr.
        const name = commandName(program, argv);
        let message = e.message.replace(/^error: /, '');
        if (e.code === 'commander.help') {
          // `mlpack` alone or `mlpack help <unknown>`: commander printed the help on stderr.
          const topic = argv[2] === 'help' ? argv[3] : undefined;
          message = topic ? `unknown command '${topic}'` : 'no command given';
          process.stderr.write(`${err.red('mlpack: error:')} ${message}\n`);
        } else {
          process.stderr.write(`${err.dim('mlpack: hint:')} run \`mlpack ${name ? `${name} ` : ''}--help\` for usage\n`);
        }
        if (json) writeJsonError({ error: { code: 'USAGE', message, file: null } });
        process.exitCode = 2;
      }
    } else {
      process.exitCode = reportError(e, json);
    }
  } finally {
    finished = true;
  }
}
