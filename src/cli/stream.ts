/** Writing large results to stdout as they are produced, honouring backpressure. */
import { once } from 'node:events';
import { stdoutState } from './output.js';

function brokenPipe(): Error {
  return Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
}

export async function write(text: string): Promise<void> {
  if (stdoutState.broken) throw brokenPipe();
  // `once` rejects when the stream errors (EPIPE) while we wait for it to drain.
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
  if (stdoutState.broken) throw brokenPipe();
}
