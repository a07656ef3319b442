import { MlpackError } from '../index.js';
import type { ErrorJSON } from '../index.js';
import { err, isBrokenPipe, stdoutState, toJSON } from './output.js';

/**
 * CLI.md's error document. `file` is always present (null when no file is at fault, e.g. a bad
 * flag); `offset` only when known.
 */
export type CliErrorJSON = { error: Omit<ErrorJSON['error'], 'file'> & { file: string | null } };

export function errorDocument(e: MlpackError): CliErrorJSON {
  const { code, message, file, ...rest } = e.toJSON().error;
  return { error: { code, message, file: file ?? null, ...rest } };
}

/** The one JSON document on stdout for an error: closes a streamed document, never adds a second one. */
export function writeJsonError(doc: CliErrorJSON): void {
  if (stdoutState.broken) return;
  if (stdoutState.close) {
    const text = stdoutState.close(doc.error);
    stdoutState.close = null;
    stdoutState.done = true;
    process.stdout.write(text);
    return;
  }
  // A whole document already went out (the error came after it): stderr carries the error.
  if (stdoutState.done) return;
  stdoutState.done = true;
  process.stdout.write(`${toJSON(doc)}\n`);
}

/** The stderr message names the file at fault when the message itself does not. */
function stderrMessage(e: MlpackError): string {
  // One line: messages relayed from onnxruntime or the OS may hold newlines.
  const message = oneLine(e.message);
  if (!e.file) return message;
  const label = e.file === '-' ? 'standard input' : e.file;
  return message.includes(e.file) || message.includes(label) ? message : `${label}: ${message}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Print an error per CLI.md and return the exit code. Non-MlpackErrors are bugs (exit 1). */
export function reportError(e: unknown, json: boolean): number {
  if (isBrokenPipe(e)) {
    // The reader of stdout went away (`| head`): stop quietly, with the exit code so far.
    stdoutState.broken = true;
    return Number(process.exitCode ?? 0);
  }
  if (e instanceof MlpackError) {
    process.stderr.write(`${err.red('mlpack: error:')} ${stderrMessage(e)}\n`);
    if (e.suggestion) process.stderr.write(`${err.dim('mlpack: hint:')} ${oneLine(e.suggestion)}\n`);
    if (json) writeJsonError(errorDocument(e));
    if (process.env['MLPACK_DEBUG'] === '1' && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${err.red('mlpack: error:')} internal error: ${oneLine(message)}\n`);
  process.stderr.write(
    process.env['MLPACK_DEBUG'] === '1' && e instanceof Error && e.stack
      ? `${e.stack}\n`
      : `${err.dim('mlpack: hint:')} this is a bug in mlpack; rerun with MLPACK_DEBUG=1 for a stack trace and report it\n`,
  );
  if (json) writeJsonError({ error: { code: 'INTERNAL', message, file: null } });
  return 1;
}
