/**
 * Where CLI output goes: results on stdout (one JSON document with --json), diagnostics and
 * progress on stderr, colour only on a TTY and never with NO_COLOR.
 */
import { Chalk } from 'chalk';
import type { ChalkInstance } from 'chalk';

export function colorEnabled(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env['TERM'] !== 'dumb';
}

export const out: ChalkInstance = new Chalk({ level: colorEnabled(process.stdout) ? 1 : 0 });
export const err: ChalkInstance = new Chalk({ level: colorEnabled(process.stderr) ? 1 : 0 });

/**
 * What has gone to stdout so far, so that an error never adds a second JSON document (CLI.md:
 * exactly one document on stdout). `close` finishes a document that is being streamed (predict)
 * with an `error` member; `done` means a whole document (or binary output) was written.
 */
export const stdoutState: { done: boolean; close: ((error: unknown) => string) | null; broken: boolean; json: boolean } = {
  done: false,
  close: null,
  broken: false,
  /** The command prints JSON without --json (predict into a pipe): its errors are JSON too. */
  json: false,
};

/** EPIPE: whoever read stdout has gone (`mlpack ... | head`); not an error of ours. */
export function isBrokenPipe(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'EPIPE';
}

/** JSON with bigint as string and typed arrays as plain arrays (results should not hold them, but never crash). */
export function toJSON(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? Number(x) : x));
      return v;
    },
    2,
  );
}

/** Write a piece of the result to stdout, waiting for the write (and so for backpressure). */
export function writeRaw(chunk: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (e) => (e ? reject(e) : resolve()));
  });
}

/** Write the whole result (one JSON document or the human view) to stdout. */
export async function writeStdout(text: string): Promise<void> {
  await writeRaw(text.endsWith('\n') ? text : `${text}\n`);
  stdoutState.done = true;
}

export function warn(message: string): void {
  process.stderr.write(`${err.yellow('mlpack: warning:')} ${message}\n`);
}

/** A progress line on stderr for long reads, only when stderr is a terminal. */
export function progressReporter(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.floor((done / total) * 100) : 0;
    if (pct === last) return;
    last = pct;
    process.stderr.write(`\r${label} ${pct}%${pct >= 100 ? '\n' : ''}`);
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
