/**
 * Loading a model for inference: decode the file, refuse unsafe content unless the user trusts
 * it by name, and build the IR. Shared by predict, convert and verify.
 */
import { MlpackError } from '../errors.js';
import { decodePickleSource } from '../formats/pickle/read.js';
import { detectFormat } from '../formats/registry.js';
import { readSource } from '../io/source.js';
import type { Source } from '../io/source.js';
import type { EstimatorIR } from '../ir/model.js';
import type { PyValue } from '../ir/object-graph.js';
import { judgeGlobals } from '../safety/classify.js';
import { readModelIR } from '../sklearn/registry.js';
import { findModelRoot, producerOf } from '../sklearn/view.js';
import type { FormatName, SafetyReport } from './types.js';

export interface SafetyOptions {
  /** Globals (`module.name`) the user vouches for (`--trust`, repeatable). */
  trust?: string[];
  /** Skip the safety gate entirely (`--unsafe-skip-check`). Nothing is executed either way. */
  unsafeSkipCheck?: boolean;
}

export interface LoadedModel {
  source: Source;
  format: FormatName;
  /** The decoded Python object of the model (pickle/joblib/envelope sources). */
  object: PyValue | null;
  ir: EstimatorIR | null;
  safety: SafetyReport | null;
  /** Raw ONNX bytes for ONNX files. */
  onnx?: Uint8Array;
  /** The scikit-learn version recorded in the model, if any. */
  sklearnVersion?: string;
  /** The library that wrote the model and its version, when the file says. */
  producer?: { library: string; version: string | null };
}

/** Refuse to use a model that imports globals outside the allowlist, unless trusted. */
export function assertSafe(path: string, safety: SafetyReport, options: SafetyOptions): void {
  if (options.unsafeSkipCheck) return;
  const trusted = new Set(options.trust ?? []);
  const blocking = safety.findings.filter((f) => f.severity !== 'error' && f.global !== undefined && !trusted.has(f.global));
  if (blocking.length === 0) return;
  const names = blocking.map((f) => `${f.global} (${f.severity})`).join(', ');
  throw new MlpackError(`${path} imports globals outside the allowlist: ${names}; refusing to use it`, {
    code: 'UNSAFE',
    file: path,
    offset: blocking[0]!.offset,
    suggestion: `inspect it with \`mlpack scan ${path}\`; if you trust the file, pass ${blocking.map((f) => `--trust ${f.global}`).join(' ')}`,
  });
}

export async function loadModel(input: string | Source, options: SafetyOptions = {}): Promise<LoadedModel> {
  const source = typeof input === 'string' ? await readSource(input) : input;
  try {
    const { detection } = detectFormat(source);
    if (detection.format === 'onnx') {
      return { source, format: 'onnx', object: null, ir: null, safety: null, onnx: source.bytes };
    }
    if (detection.format === 'mlpack') {
      const { readEnvelope } = await import('../formats/mlpack/read.js');
      const env = await readEnvelope(source);
      if (env.onnx) return { source, format: 'onnx', object: null, ir: null, safety: null, onnx: env.onnx };
      const safety = judgeGlobals(env.globals);
      assertSafe(source.path, safety, options);
      const root = findModelRoot(env.object);
      const loaded: LoadedModel = { source, format: 'mlpack', object: env.object ?? null, ir: readModelIR(root.model, source.path), safety };
      const version = producerOf(root, safety.globals)?.version;
      if (version) loaded.sklearnVersion = version;
      loaded.producer = { library: 'scikit-learn', version: version ?? null };
      return loaded;
    }
    if (detection.format === 'keras-h5') {
      const { loadKerasModel } = await import('../keras/load.js');
      const keras = await loadKerasModel(source);
      assertSafe(source.path, keras.safety, options);
      return { source, format: 'keras-h5', object: null, ir: keras.ir, safety: keras.safety, producer: { library: 'keras', version: keras.kerasVersion } };
    }
    if (detection.format !== 'pickle' && detection.format !== 'joblib') {
      const what = detection.format === 'torch' ? 'a PyTorch file (mlpack does not run PyTorch code)' : `a ${detection.format} file (tensors, not a runnable model)`;
      throw new MlpackError(`${source.path} is ${what}; mlpack cannot run it`, {
        code: 'UNSUPPORTED',
        file: source.path,
        suggestion:
          detection.format === 'torch'
            ? 'inspect it, convert a state_dict with `mlpack convert --to safetensors`, or export the model to ONNX with torch.onnx.export and predict from that'
            : 'inspect it with `mlpack inspect`',
      });
    }
    const decoded = await decodePickleSource(source, detection.compression ?? null);
    const safety = judgeGlobals(decoded.globals, { error: decoded.error, extra: decoded.nestedErrors });
    assertSafe(source.path, safety, options);
    const root = findModelRoot(decoded.value);
    const ir = readModelIR(root.model, source.path);
    const loaded: LoadedModel = { source, format: decoded.format, object: decoded.value ?? null, ir, safety };
    const version = producerOf(root, safety.globals)?.version;
    if (version) loaded.sklearnVersion = version;
    loaded.producer = { library: 'scikit-learn', version: version ?? null };
    return loaded;
  } catch (err) {
    if (err instanceof MlpackError && err.file === undefined) err.file = source.path;
    throw err;
  }
}
