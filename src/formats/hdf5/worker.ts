/**
 * The HDF5 worker thread: opens the temporary copy remote.ts wrote, reads the Keras structure
 * (and weights when asked) with h5wasm, and posts plain data back (typed arrays transferred).
 * Errors travel as `{code, message, ...}` and become MlpackErrors again on the caller's side.
 */
import { parentPort } from 'node:worker_threads';
import { MlpackError } from '../../errors.js';
import { openHdf5File, wasmAborted } from './h5.js';
import { describeFile, readTensors } from './keras-read.js';
import type { WorkerReply, WorkerRequest } from './remote.js';

// h5wasm reports a wasm abort with a line on console.error; the caller gets the error anyway.
console.error = (): void => undefined;

const port = parentPort;
if (!port) throw new Error('src/formats/hdf5/worker.js must run as a worker thread');

port.on('message', (req: WorkerRequest) => {
  void handle(req).then((reply) => {
    const transfer = reply.ok && reply.tensors ? reply.tensors.map((t) => t.data.buffer as ArrayBuffer) : [];
    try {
      port.postMessage(reply, transfer);
    } catch (err) {
      // The reply could not be cloned (it is built from the file: say so rather than go silent).
      const message = `${req.file}: the model read from this HDF5 file cannot be passed back (${err instanceof Error ? err.message : String(err)})`;
      port.postMessage({ id: req.id, ok: false, poisoned: false, error: { code: 'MALFORMED', message, file: req.file } } satisfies WorkerReply);
    }
  });
});

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  try {
    const h5 = await openHdf5File(req.path, req.file, req.size);
    try {
      const model = describeFile(h5, req.superblock);
      const tensors = req.job === 'weights' ? readTensors(h5, model, req.optimizer, req.size) : null;
      return { id: req.id, ok: true, model, tensors, poisoned: wasmAborted() };
    } finally {
      h5.close();
    }
  } catch (err) {
    if (err instanceof MlpackError) {
      return {
        id: req.id,
        ok: false,
        poisoned: wasmAborted(),
        error: { code: err.code, message: err.message, file: err.file, offset: err.offset, field: err.field, suggestion: err.suggestion },
      };
    }
    const e = err instanceof Error ? err : new Error(String(err));
    return { id: req.id, ok: false, poisoned: true, error: { code: 'INTERNAL', message: e.message, stack: e.stack } };
  }
}
