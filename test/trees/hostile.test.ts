/**
 * Model files are untrusted input: a tree whose node array has a cycle, a shared or out-of-range
 * child, a feature outside the input, a truncated or re-typed record array, or an ensemble whose
 * attributes disagree with each other must be refused as MALFORMED (exit 3) — never a hang, a
 * TypeError, or a wrong answer. Fixtures are decoded, mutated in memory, then read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MlpackError } from '../../src/errors.js';
import { decodePickleSource } from '../../src/formats/pickle/read.js';
import { detectFormat } from '../../src/formats/registry.js';
import { readSource } from '../../src/io/source.js';
import type { EstimatorIR } from '../../src/ir/model.js';
import { NdArray, PyObject } from '../../src/ir/object-graph.js';
import type { PyValue } from '../../src/ir/object-graph.js';
import { rng } from '../../src/runtime/random.js';
import { matrix } from '../../src/runtime/data.js';
import { evaluate } from '../../src/runtime/native/registry.js';
import { readModelIR } from '../../src/sklearn/registry.js';
import { findModelRoot } from '../../src/sklearn/view.js';
import { fixture } from '../paths.js';

const TIMEOUT = { timeout: 20_000 };

async function load(half: string, file: string): Promise<PyObject> {
  const source = await readSource(fixture(half, 'sklearn', file));
  const { detection } = detectFormat(source);
  const decoded = await decodePickleSource(source, detection.compression ?? null);
  const root = findModelRoot(decoded.value).model;
  assert.ok(root instanceof PyObject);
  return root;
}

function attrOf(obj: PyValue | undefined, name: string): PyValue | undefined {
  assert.ok(obj instanceof PyObject, `expected an object holding ${name}`);
  return obj.attr(name);
}

function setAttr(obj: PyObject, name: string, value: PyValue): void {
  const state = obj.state;
  assert.ok(state && 'set' in (state as object), 'object state is a dict');
  (state as { set(k: string, v: PyValue): void }).set(name, value);
}

/** Write one field of record `i` of a structured array, by the field's own dtype. */
function setField(arr: NdArray, i: number, name: string, value: number): void {
  const f = arr.dtype.fields!.find((x) => x.name === name)!;
  const bytes = arr.data as Uint8Array;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = i * arr.dtype.itemsize + f.offset;
  const le = f.dtype.byteOrder !== '>';
  switch (`${f.dtype.kind}${f.dtype.itemsize}`) {
    case 'i8': view.setBigInt64(at, BigInt(value), le); break;
    case 'u4': view.setUint32(at, value, le); break;
    case 'f8': view.setFloat64(at, value, le); break;
    case 'u1': view.setUint8(at, value); break;
    default: throw new Error(`test helper: field ${name} has dtype ${f.dtype.str}`);
  }
}

/** Index of the first interior node other than the root. */
function firstInnerNodeAfterRoot(nodes: NdArray): number {
  const f = nodes.dtype.fields!.find((x) => x.name === 'left_child')!;
  const bytes = nodes.data as Uint8Array;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 1; i < nodes.shape[0]!; i++) if (view.getBigInt64(i * nodes.dtype.itemsize + f.offset, true) !== -1n) return i;
  throw new Error('test helper: the tree has a single split');
}

function nodesOf(treeEstimator: PyValue | undefined): NdArray {
  const nodes = attrOf(attrOf(treeEstimator, 'tree_') as PyObject, 'nodes');
  assert.ok(nodes instanceof NdArray);
  return nodes;
}

function assertMalformed(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MlpackError, `expected MlpackError, got ${String(err)}`);
    assert.equal(err.code, 'MALFORMED', err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

for (const half of ['debian', 'modern']) {
  describe(`trees family: hostile tree arrays (${half})`, () => {
    const tree = () => load(half, 'decision_tree_classifier.p4.pkl');

    it('a node that is its own child is refused', TIMEOUT, async () => {
      const m = await tree();
      setField(nodesOf(m), 0, 'left_child', 0);
      assertMalformed(() => readModelIR(m), /node 0/);
    });

    it('a back edge (cycle) is refused, not walked forever', TIMEOUT, async () => {
      const m = await tree();
      const nodes = nodesOf(m);
      const inner = firstInnerNodeAfterRoot(nodes);
      setField(nodes, inner, 'right_child', 0);
      assertMalformed(() => readModelIR(m), new RegExp(`node ${inner} .*(cycle|outside)`));
    });

    it('a child index past the node array is refused', TIMEOUT, async () => {
      const m = await tree();
      setField(nodesOf(m), 0, 'right_child', 1_000_000_000);
      assertMalformed(() => readModelIR(m));
    });

    it('a child shared by two nodes (a DAG) is refused', TIMEOUT, async () => {
      const m = await tree();
      const nodes = nodesOf(m);
      const view = new DataView((nodes.data as Uint8Array).buffer, (nodes.data as Uint8Array).byteOffset);
      const leftOf0 = Number(view.getBigInt64(nodes.dtype.fields!.find((f) => f.name === 'left_child')!.offset, true));
      setField(nodes, 0, 'right_child', leftOf0);
      assertMalformed(() => readModelIR(m), /one parent|shares/);
    });

    it('a leaf with one child is refused', TIMEOUT, async () => {
      const m = await tree();
      setField(nodesOf(m), 0, 'left_child', -1);
      assertMalformed(() => readModelIR(m));
    });

    it('a split on a feature outside the input is refused', TIMEOUT, async () => {
      const m = await tree();
      setField(nodesOf(m), 0, 'feature', 99);
      assertMalformed(() => readModelIR(m), /feature 99/);
    });

    it('a record array missing a field is refused', TIMEOUT, async () => {
      const m = await tree();
      const nodes = nodesOf(m);
      nodes.dtype.fields = nodes.dtype.fields!.filter((f) => f.name !== 'threshold');
      assertMalformed(() => readModelIR(m), /threshold/);
    });

    it('a field re-typed to a non-number is refused', TIMEOUT, async () => {
      const m = await tree();
      const nodes = nodesOf(m);
      const f = nodes.dtype.fields!.find((x) => x.name === 'threshold')!;
      f.dtype = Object.assign(Object.create(Object.getPrototypeOf(f.dtype) as object), f.dtype, { kind: 'U', itemsize: 8 });
      assertMalformed(() => readModelIR(m));
    });

    it('a truncated node array is refused', TIMEOUT, async () => {
      const m = await tree();
      const nodes = nodesOf(m);
      nodes.data = (nodes.data as Uint8Array).subarray(0, nodes.dtype.itemsize * 2);
      assertMalformed(() => readModelIR(m), /bytes/);
    });

    it('values whose shape disagrees with the nodes are refused', TIMEOUT, async () => {
      const m = await tree();
      const values = attrOf(attrOf(m, 'tree_'), 'values') as NdArray;
      values.shape = [values.shape[0]! - 1, values.shape[1]!, values.shape[2]!];
      assertMalformed(() => readModelIR(m), /values/);
    });

    it('a forest member that is not a tree is refused', TIMEOUT, async () => {
      const m = await load(half, 'random_forest_classifier.p4.pkl');
      const ests = attrOf(m, 'estimators_') as PyValue[];
      ests[3] = 'not a tree';
      assert.throws(() => readModelIR(m), (err: unknown) => err instanceof MlpackError && (err.code === 'MALFORMED' || err.code === 'UNSUPPORTED'));
    });

    it('a forest tree with another class count is refused', TIMEOUT, async () => {
      const m = await load(half, 'random_forest_classifier.p4.pkl');
      setAttr(m, 'classes_', (await load(half, 'decision_tree_classifier.p4.pkl')).attr('classes_')!);
      assertMalformed(() => readModelIR(m));
    });

    it('GradientBoosting estimators_ of the wrong shape are refused', TIMEOUT, async () => {
      const m = await load(half, 'gradient_boosting_classifier_binary.p4.pkl');
      const est = attrOf(m, 'estimators_') as NdArray;
      est.shape = [est.shape[0]! / 5, 5];
      assertMalformed(() => readModelIR(m), /per stage/);
    });

    it('HistGradientBoosting predictor cycles are refused', TIMEOUT, async () => {
      const m = await load(half, 'hist_gradient_boosting_classifier_binary.p4.pkl');
      const pred = ((attrOf(m, '_predictors') as PyValue[])[2] as PyValue[])[0] as PyObject;
      const nodes = pred.attr('nodes') as NdArray;
      setField(nodes, 1, 'left', 0);
      assertMalformed(() => readModelIR(m));
    });

    it('a HistGradientBoosting predictor feature outside the input is refused', TIMEOUT, async () => {
      const m = await load(half, 'hist_gradient_boosting_regressor_nan.p4.pkl');
      const pred = ((attrOf(m, '_predictors') as PyValue[])[0] as PyValue[])[0] as PyObject;
      setField(pred.attr('nodes') as NdArray, 0, 'feature_idx', 4000);
      assertMalformed(() => readModelIR(m), /feature 4000/);
    });

    it('IsolationForest feature subsets naming missing columns are refused', TIMEOUT, async () => {
      const m = await load(half, 'isolation_forest.p4.pkl');
      const feats = attrOf(m, 'estimators_features_') as NdArray[];
      (feats[0]!.data as BigInt64Array)[2] = 77n;
      assertMalformed(() => readModelIR(m), /column 77/);
    });

    it('AdaBoost with fewer weights than estimators is refused', TIMEOUT, async () => {
      const m = await load(half, 'adaboost_classifier.p4.pkl');
      const w = attrOf(m, 'estimator_weights_') as NdArray;
      setAttr(m, 'estimator_weights_', new NdArray(w.dtype, [3], (w.data as Float64Array).subarray(0, 3)));
      assertMalformed(() => readModelIR(m), /weights/);
    });
  });
}

describe('trees family: hostile categorical splits', () => {
  it('a bitset index past the bitset table is refused', TIMEOUT, async () => {
    const m = await load('debian', 'hist_gradient_boosting_classifier_categorical.p4.pkl');
    for (const it of attrOf(m, '_predictors') as PyValue[][]) {
      const pred = it[0] as PyObject;
      const nodes = pred.attr('nodes') as NdArray;
      const cat = nodes.dtype.fields!.find((f) => f.name === 'is_categorical')!;
      const bytes = nodes.data as Uint8Array;
      for (let i = 0; i < nodes.shape[0]!; i++) {
        if (bytes[i * nodes.dtype.itemsize + cat.offset] === 1) {
          setField(nodes, i, 'bitset_idx', 99);
          assertMalformed(() => readModelIR(m), /bitset 99/);
          return;
        }
      }
    }
    assert.fail('the categorical fixture has no categorical split');
  });
});


describe('trees family: random corruption of node arrays', () => {
  const files = ['decision_tree_regressor.p4.pkl', 'random_forest_classifier.p4.pkl', 'hist_gradient_boosting_regressor_nan.p4.pkl', 'isolation_forest.p4.pkl'];
  for (const file of files) {
    it(`${file}: 40 corrupted copies are read or refused, never crash or hang`, TIMEOUT, async () => {
      const next = rng(file.length * 7919);
      for (let trial = 0; trial < 40; trial++) {
        const m = await load('debian', file);
        const arrays: NdArray[] = [];
        const collect = (v: PyValue | undefined, depth: number): void => {
          if (depth > 6 || v === undefined || v === null) return;
          if (v instanceof NdArray && v.dtype.fields) arrays.push(v);
          else if (v instanceof PyObject) for (const n of v.attrNames()) collect(v.attr(n), depth + 1);
          else if (Array.isArray(v)) v.forEach((x) => collect(x, depth + 1));
        };
        collect(m, 0);
        assert.ok(arrays.length > 0);
        for (let k = 0; k < 6; k++) {
          const arr = arrays[Math.floor(next() * arrays.length)]!;
          const bytes = arr.data as Uint8Array;
          bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
        }
        let ir: EstimatorIR;
        try {
          ir = readModelIR(m);
        } catch (err) {
          assert.ok(err instanceof MlpackError, `trial ${trial}: ${String(err)}`);
          continue;
        }
        const f = ir.nFeatures ?? 1;
        const x = matrix(3, f, Float64Array.from({ length: 3 * f }, (_, i) => (i % 2 ? NaN : next() * 4 - 2)));
        try {
          evaluate(ir, x, ir.methods[0]!);
        } catch (err) {
          assert.ok(err instanceof MlpackError, `trial ${trial}: ${String(err)}`);
        }
      }
    });
  }
});
