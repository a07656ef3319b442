/**
 * Lowering a whole model's IR to an ONNX model: one input (see onnxInputFor), the root lowered
 * through the family registry, and the outputs skl2onnx users know: `label` + `probabilities` for
 * classifiers, `variable` for regressors and transformers (plus `scores` where the estimator has
 * them).
 *
 * The input, derived from the root IR:
 * - by default `float_input`, float32 [N, F] (float64 with `float64: true`);
 * - when some input column is categorical with string categories (`ir.columns`), `string_input`,
 *   tensor(string) [N, F] instead, as skl2onnx types string features: every cell as text.
 *   Numeric cells of a mixed frame are fed as decimal text (onnxFeeds) and the lowering that
 *   reads a numeric column Casts it to float;
 * - for estimators that take a flat list of values (`ir.oneDimensionalInput`, LabelEncoder), the
 *   same choice of name and type with shape [N];
 * - for networks (Keras), the network's first input under its Keras name (the InputLayer, or
 *   Keras' implicit `<first layer>_input`), shape ['N', ...per-row shape]; feeds are the flat rows
 *   reshaped. A network's further inputs are graph inputs its lowering adds under their names.
 */
import { MlpackError, unsupported } from '../../errors.js';
import { ModelBuilder } from '../../formats/onnx/builder.js';
import { DEFAULT_ML_OPSET, DEFAULT_OPSET, ML_DOMAIN } from '../../formats/onnx/versions.js';
import { encodeModel } from '../../formats/onnx/write.js';
import type { Tensor } from '../../formats/onnx/types.js';
import type { EstimatorIR } from '../../ir/model.js';
import { assertRunnable, isKerasNetwork } from '../../keras/ir.js';
import { asMatrix } from '../../runtime/data.js';
import type { Frame } from '../../runtime/data.js';
import { VERSION } from '../../version.js';
import { lowerNode } from './registry.js';
import type { LowerContext, LowerOutputs, TensorRef } from './types.js';

export interface OnnxConvertOptions {
  opset?: number;
  mlOpset?: number;
  /** Work in float64 (double input and ops) where the operators allow. */
  float64?: boolean;
  /** metadata_props to record (source sha256, library, version...). */
  metadata?: Record<string, string>;
}

export const INPUT_NAME = 'float_input';
export const STRING_INPUT_NAME = 'string_input';

/** The one graph input of a converted model. */
export interface OnnxInput {
  name: string;
  dtype: 'float32' | 'float64' | 'string';
  /** ['N', F], ['N'] for a flat list of values, or ['N', ...per-row shape] for networks. */
  shape: ['N', number] | ['N'] | ['N', ...number[]];
  /**
   * Further graph inputs / outputs of the conversion (networks with several): rows feed one
   * input and answer from one output, so onnxFeeds refuses such models (exit 4).
   */
  otherInputs?: string[];
  otherOutputs?: string[];
}

/** The graph input for a model's IR (the rule in the module comment). */
export function onnxInputFor(ir: EstimatorIR, float: 'float32' | 'float64' = 'float32'): OnnxInput {
  if (isKerasNetwork(ir)) {
    assertRunnable(ir);
    const [first, ...rest] = ir.inputs;
    const spec: OnnxInput = { name: first!.name, dtype: float, shape: ['N', ...first!.shape] };
    if (rest.length > 0) spec.otherInputs = rest.map((i) => i.name);
    if (ir.outputs.length > 1) spec.otherOutputs = ir.outputs.slice(1).map((o) => o.name);
    return spec;
  }
  const text = ir.columns?.some((c) => c.kind === 'category' && c.categories?.some((v) => typeof v === 'string')) ?? false;
  const name = text ? STRING_INPUT_NAME : INPUT_NAME;
  const dtype = text ? 'string' : float;
  if (ir.oneDimensionalInput) return { name, dtype, shape: ['N'] };
  if (ir.nFeatures === null) throw unsupported(`${ir.sourceClass} does not record its number of input features, so its ONNX input cannot be typed`);
  return { name, dtype, shape: ['N', ir.nFeatures] };
}

/**
 * Input rows as the feed of a converted model's input: numbers for a float input, text for a
 * string one (numbers as their decimal text, missing cells as "NaN", which lowerings read as the
 * missing value).
 */
export function onnxFeeds(input: OnnxInput, rows: Frame): Record<string, Tensor> {
  if (input.otherInputs?.length) {
    throw unsupported(`the converted model takes ${input.otherInputs.length + 1} inputs (${[input.name, ...input.otherInputs].join(', ')}); rows feed one`, {
      suggestion: '`mlpack predict` (either runtime) takes {"inputs": {"<name>": rows, ...}}',
    });
  }
  if (input.otherOutputs?.length) {
    throw unsupported(`the converted model has ${input.otherOutputs.length + 1} outputs (variable, ${input.otherOutputs.join(', ')}); rows answer from one`, {
      suggestion: '`mlpack predict` (either runtime) answers every output by name',
    });
  }
  const shape = input.shape.length === 1 ? [rows.rows] : input.shape.length > 2 ? [rows.rows, ...(input.shape.slice(1) as number[])] : [rows.rows, rows.cols];
  if (input.dtype !== 'string') {
    const x = asMatrix(rows);
    return { [input.name]: { dtype: input.dtype, shape, data: input.dtype === 'float32' ? Float32Array.from(x.data) : Float64Array.from(x.data) } };
  }
  const cells = rows.kind === 'matrix' ? Array.from(rows.data) : rows.cells;
  const text = cells.map((c) => (typeof c === 'string' ? c : c === null || (typeof c === 'number' && Number.isNaN(c)) ? 'NaN' : String(c)));
  return { [input.name]: { dtype: 'string', shape, data: text } };
}

/** Convert an IR tree to ONNX bytes. Unsupported estimators/opsets are exit 4 naming them. */
export function convertToOnnx(ir: EstimatorIR, options: OnnxConvertOptions = {}): Uint8Array {
  const opset = options.opset ?? DEFAULT_OPSET;
  const mlOpset = options.mlOpset ?? DEFAULT_ML_OPSET;
  const float = options.float64 ? 'float64' : 'float32';
  const b = new ModelBuilder({
    opsets: { '': opset, [ML_DOMAIN]: mlOpset },
    producerName: 'mlpack',
    producerVersion: VERSION,
    graphName: (ir.sourceClass.split('.').pop() ?? 'model').toLowerCase(),
  });
  const spec = onnxInputFor(ir, float);
  const input: TensorRef = { name: b.addInput(spec.name, spec.dtype, spec.shape), dtype: spec.dtype, cols: spec.shape.length > 2 ? ir.nFeatures : (spec.shape[1] ?? null) };
  const ctx: LowerContext = {
    b,
    float,
    opset,
    mlOpset,
    lower: (node, x, path) => lowerNode(node, x, ctx, path),
    unsupported: (node, why) => {
      throw unsupported(`cannot convert ${node.sourceClass.split('.').pop()} to ONNX at opset ${opset} (ai.onnx.ml ${mlOpset}): ${why}`, {
        suggestion: 'try another --opset, or keep the model native (mlpack predict --runtime native)',
      });
    },
  };
  let out: LowerOutputs;
  try {
    out = lowerNode(ir, input, ctx, '');
  } catch (err) {
    if (err instanceof MlpackError) throw err;
    throw new MlpackError(`ONNX lowering of ${ir.sourceClass} failed: ${(err as Error).message}`, { code: 'INTERNAL', cause: err });
  }
  const shape = (t: TensorRef) => (t.cols === null ? ['N'] : ['N', t.cols]);
  // A network's output can be a tensor per row (a sequence, a feature map): declare its shape.
  const variableShape = (t: TensorRef) => (isKerasNetwork(ir) && ir.outputShape.length > 1 ? ['N', ...ir.outputShape] : shape(t));
  if (out.label) b.addOutput(out.label.name, out.label.dtype, shape(out.label), { rename: 'label' });
  if (out.probabilities) b.addOutput(out.probabilities.name, out.probabilities.dtype, shape(out.probabilities), { rename: 'probabilities' });
  if (out.variable) b.addOutput(out.variable.name, out.variable.dtype, variableShape(out.variable), { rename: 'variable' });
  if (out.scores) b.addOutput(out.scores.name, out.scores.dtype, shape(out.scores), { rename: 'scores' });
  if (out.scoreSamples) b.addOutput(out.scoreSamples.name, out.scoreSamples.dtype, shape(out.scoreSamples), { rename: 'score_samples' });
  if (!out.label && !out.variable && !out.probabilities) throw unsupported(`${ir.sourceClass} lowered to no output`);
  b.setMetadata('mlpack_version', VERSION);
  b.setMetadata('model_class', ir.sourceClass);
  b.setMetadata('model_kind', ir.kind);
  if (ir.classes) b.setMetadata('classes', JSON.stringify(ir.classes.values));
  for (const [k, v] of Object.entries(options.metadata ?? {})) b.setMetadata(k, v);
  return encodeModel(b.build());
}
