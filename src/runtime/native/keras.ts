/**
 * Native evaluation of Keras networks (src/keras/ir.ts): nodes in order over float64 buffers,
 * each value freed after its last use. `predict` takes one input and gives one output per row
 * (rows × the output's per-row shape) through the evaluator registry; networks with several
 * inputs or outputs run through `runNetwork`, which `predict`/`verify` call with rows by input
 * name (src/api/keras-io.ts).
 */
import { unsupported } from '../../errors.js';
import type { Method } from '../../ir/model.js';
import { assertRunnable, isKerasNetwork, sizeOf } from '../../keras/ir.js';
import type { KerasNetworkIR, KerasNode } from '../../keras/ir.js';
import { asMatrix, matrix } from '../data.js';
import type { Frame, Output } from '../data.js';
import { activate } from './keras-activations.js';
import * as k from './keras-ops.js';
import type { NativeFamily } from './types.js';

const PRELU_CACHE = new WeakMap<KerasNode, Float64Array>();

function runNode(ir: KerasNetworkIR, node: KerasNode, xs: Float64Array[], n: number): Float64Array[] {
  const inShape = ir.shapes[node.inputs[0]!]!;
  const outShape = ir.shapes[node.outputs[0]!]!;
  const x = xs[0]!;
  const op = node.op;
  switch (op.op) {
    case 'identity':
    case 'reshape':
      return [x];
    case 'activation': {
      const y = Float64Array.from(x);
      activate(op.activation, y, outShape);
      return [y];
    }
    case 'dense': {
      const rows = x.length / op.nIn;
      const y = new Float64Array(rows * op.units);
      k.gemm(x, rows, op.nIn, op.kernel, op.units, op.bias, y);
      activate(op.activation, y, outShape);
      return [y];
    }
    case 'conv': {
      const y = k.conv(x, n, inShape, outShape, op.window, op.inChannels, op.filters, op.kernel, op.bias);
      activate(op.activation, y, outShape);
      return [y];
    }
    case 'depthwise_conv': {
      const y = k.depthwiseConv(x, n, inShape, outShape, op.window, op.inChannels, op.multiplier, op.kernel, op.bias);
      activate(op.activation, y, outShape);
      return [y];
    }
    case 'pool':
      return [k.pool(x, n, inShape, outShape, op.window, op.mode)];
    case 'global_pool': {
      const c = inShape[inShape.length - 1]!;
      if (op.masked) return [k.maskedAverage(x, xs[1]!, n, inShape[0]!, c)];
      return [k.globalPool(x, n, sizeOf(inShape) / c, c, op.mode)];
    }
    case 'batchnorm': {
      const inner = sizeOf(inShape.slice(op.axis + 1));
      const channels = inShape[op.axis]!;
      return [k.batchnorm(x, x.length / (channels * inner), channels, inner, op.mean, op.scale, op.offset)];
    }
    case 'affine': {
      const y = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) y[i] = x[i]! * op.scale + op.offset;
      return [y];
    }
    case 'embedding':
      return [k.embedding(x, op.table, op.inputDim, op.outputDim, sizeOf(inShape), `${ir.file}: layer ${node.layer} (${node.cls})`)];
    case 'merge':
      return [k.merge(xs, op.mode)];
    case 'concat': {
      const outer = n * sizeOf(outShape.slice(0, op.axis));
      return [k.concat(xs, outer, node.inputs.map((v) => sizeOf(ir.shapes[v]!.slice(op.axis))))];
    }
    case 'permute':
      return [k.permute(x, n, inShape, op.perm)];
    case 'pad':
    case 'crop':
      return [k.padOrCrop(x, n, inShape, outShape, op.before, op.op === 'crop')];
    case 'repeat':
      return [k.repeat(x, n, op.n, inShape[0]!)];
    case 'reverse':
      return [k.reverseSteps(x, n, inShape[0]!, sizeOf(inShape.slice(1)))];
    case 'prelu': {
      let alpha = PRELU_CACHE.get(node);
      if (!alpha) PRELU_CACHE.set(node, (alpha = k.expandAlpha(op.alpha, op.shape, inShape)));
      return [k.prelu(x, sizeOf(inShape), alpha)];
    }
    case 'rnn':
      return op.masked ? k.rnn(op, x, n, xs.slice(1, -1), xs[xs.length - 1]!) : k.rnn(op, x, n, xs.slice(1));
    case 'mask_nonzero':
      return [Float64Array.from(x, (v) => (v !== 0 ? 1 : 0))];
    case 'masking':
      return k.masking(x, inShape[inShape.length - 1]!, op.value);
    case 'mask_combine': {
      const y = Float64Array.from(x);
      for (const m of xs.slice(1)) for (let i = 0; i < y.length; i++) y[i] = op.mode === 'and' ? y[i]! * m[i]! : Math.max(y[i]!, m[i]!);
      return [y];
    }
  }
}

/**
 * Run the network on `n` rows: one buffer per model input (rows × the input's per-row size, C
 * order), one buffer back per model output.
 */
export function runNetwork(ir: KerasNetworkIR, feeds: Float64Array[], n: number): Float64Array[] {
  assertRunnable(ir);
  const values: Array<Float64Array | undefined> = new Array(ir.shapes.length);
  ir.inputs.forEach((input, i) => {
    const feed = feeds[i];
    if (!feed || feed.length !== n * sizeOf(input.shape)) {
      throw new TypeError(`keras network ${ir.file}: feed ${i} holds ${feed?.length ?? 0} values for ${n} rows of ${JSON.stringify(input.shape)}`);
    }
    values[input.value] = feed;
  });
  const lastUse = new Array<number>(ir.shapes.length).fill(-1);
  ir.nodes.forEach((node, i) => node.inputs.forEach((v) => (lastUse[v] = i)));
  for (const o of ir.outputs) lastUse[o.value] = Infinity;
  ir.nodes.forEach((node, i) => {
    const xs = node.inputs.map((v) => values[v]!);
    const ys = runNode(ir, node, xs, n);
    node.outputs.forEach((v, j) => (values[v] = ys[j]));
    for (const v of node.inputs) if (lastUse[v] === i) values[v] = undefined;
  });
  return ir.outputs.map((o) => values[o.value]!);
}

export const keras: NativeFamily = {
  types: ['keras_network'],
  run(node, input: Frame, method: Method): Output {
    if (!isKerasNetwork(node) || method !== 'predict') throw new TypeError(`keras evaluator called with ${node.type}.${method}`);
    assertRunnable(node);
    if (node.inputs.length !== 1 || node.outputs.length !== 1) {
      const what =
        node.inputs.length !== 1
          ? `takes ${node.inputs.length} inputs (${node.inputs.map((i) => i.name).join(', ')})`
          : `has ${node.outputs.length} outputs (${node.outputs.map((o) => o.name).join(', ')})`;
      throw unsupported(`${node.file}: the network ${what}; a table of rows feeds one input and answers from one output`, {
        file: node.file,
        suggestion: '`mlpack predict` (or predict() in the library) takes {"inputs": {"<name>": rows, ...}} and answers every output by name',
      });
    }
    const x = asMatrix(input);
    const [y] = runNetwork(node, [x.data], x.rows);
    const out = matrix(x.rows, sizeOf(node.outputShape), y);
    if (node.outputShape.length > 1) out.rowShape = node.outputShape;
    return out;
  },
};
