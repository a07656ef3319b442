/**
 * Edge cases of the preprocessing family against scikit-learn 1.2.1's own answers
 * (fixtures/extra/preprocessing, written by fixtures/generate/gen_extra_preprocessing.py): string and missing-value
 * categories, handle_unknown modes, drop and infrequent grouping, imputer variants, selectors,
 * decompositions. Natively every case must match at the default tolerance, and where
 * scikit-learn raised, mlpack must refuse with exit 3 naming the row and column. The ONNX
 * conversion of every case that has an answer must match in float32 and float64.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MlpackError } from '../../src/errors.js';
import { loadModel } from '../../src/api/load.js';
import { inputSchema, jsonNumber, predict } from '../../src/api/predict.js';
import { INPUT_NAME, convertToOnnx, onnxFeeds, onnxInputFor } from '../../src/convert/onnx/convert.js';
import { matrix } from '../../src/runtime/data.js';
import { evaluate } from '../../src/runtime/native/registry.js';
import { readInputChunks } from '../../src/runtime/input.js';
import { createSession, run } from '../../src/runtime/ort/session.js';
import type { OrtSession } from '../../src/runtime/ort/session.js';
import { readJSON } from '../helpers.js';
import { ROOT } from '../paths.js';
import { DEFAULT_TOLERANCE, compareOutputs } from '../runtime/compare.js';
import type { Expected, Tolerance } from '../runtime/compare.js';

const DIR = join(ROOT, 'fixtures', 'extra', 'preprocessing');

interface Outcome {
  dtype?: string;
  shape?: number[];
  values?: unknown;
  error?: string;
  message?: string;
}

interface Case {
  id: string;
  file: string;
  class: string;
  note: string;
  input: unknown[];
  methods: Record<string, Outcome>;
}

const { cases } = readJSON<{ cases: Case[] }>(join(DIR, 'cases.json'));

/** Where scikit-learn raised: the row and column (as mlpack names them) the error must point at. */
const ERROR_AT: Record<string, RegExp> = {
  ohe_strings_error: /row 2, column 0 holds unknown category "purple"/,
  ordinal_error: /row 1, column 1 holds unknown category 30/,
  label_encoder_unknown: /row 1 holds "daisy"/,
  indicator_new_missing: /row 1, column 1 has a missing value/,
};

/** Models mlpack refuses (exit 4 naming what), though scikit-learn answered: natively and for ONNX. */
const REFUSED: Record<string, RegExp> = {
  knn_imputer_missing_value: /KNNImputer treats -1 as missing; .*missing_values=np\.nan only/,
};

async function assertRefused(c: Case, action: () => Promise<unknown>): Promise<void> {
  await assert.rejects(action(), (err: unknown) => {
    assert.ok(err instanceof MlpackError, `expected an MlpackError, got ${String(err)}`);
    assert.equal(err.exitCode, 4, err.message);
    assert.match(err.message, REFUSED[c.id]!);
    return true;
  });
}

/** Per-case tolerance overrides (none needed: every case matches at rtol 1e-9 / atol 1e-12). */
const TOLERANCE: Record<string, Tolerance> = {};

const FLOAT32: Tolerance = { rtol: 1e-4, atol: 1e-5 };
/** float64 graphs still compute in another order than numpy (MatMul, ReduceSum). */
const FLOAT64: Tolerance = { rtol: 1e-9, atol: 1e-12 };

const text = (c: Case) => ({ path: `${c.id}.json`, text: JSON.stringify(c.input) });

describe('preprocessing edge cases: native evaluator vs scikit-learn 1.2.1', () => {
  for (const c of cases) {
    for (const [method, want] of Object.entries(c.methods)) {
      it(`${c.id} ${method}`, async () => {
        const path = join(DIR, c.file);
        if (REFUSED[c.id]) {
          await assertRefused(c, () => predict(path, text(c), { method: method as 'transform' }));
          return;
        }
        if (want.error) {
          await assert.rejects(predict(path, text(c), { method: method as 'transform' }), (err: unknown) => {
            assert.ok(err instanceof MlpackError, `expected an MlpackError, got ${String(err)}`);
            assert.equal(err.exitCode, 3, err.message);
            const at = ERROR_AT[c.id];
            assert.ok(at, `no expected location for ${c.id}`);
            assert.match(err.message, at);
            return true;
          });
          return;
        }
        const result = await predict(path, text(c), { method: method as 'transform' });
        const diff = compareOutputs(result.outputs as unknown[], want as Expected, TOLERANCE[c.id] ?? DEFAULT_TOLERANCE, method === 'predict');
        assert.equal(diff, null, diff ?? '');
      });
    }
  }
});

/** Which ONNX output answers which method for these models. */
const OUTPUT_FOR: Record<string, string> = { transform: 'variable', predict: 'label', predict_proba: 'probabilities', score_samples: 'score_samples' };

function rowsOf(t: { shape: number[]; data: ArrayLike<unknown> }): unknown[] {
  const vals = Array.from(t.data as ArrayLike<number | bigint | string>, (v) => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? jsonNumber(v) : v));
  if (t.shape.length === 1) return vals;
  const cols = t.shape[1]!;
  return Array.from({ length: t.shape[0]! }, (_, r) => vals.slice(r * cols, (r + 1) * cols));
}

const sessions: OrtSession[] = [];
after(() => sessions.forEach((s) => s.dispose()));

for (const float of ['float32', 'float64'] as const) {
  describe(`preprocessing edge cases: ONNX (${float}) vs scikit-learn 1.2.1`, () => {
    for (const c of cases) {
      const answered = Object.entries(c.methods).filter(([, w]) => !w.error);
      if (answered.length === 0) continue;
      it(c.id, async () => {
        if (REFUSED[c.id]) {
          await assertRefused(c, () => loadModel(join(DIR, c.file)));
          return;
        }
        const model = await loadModel(join(DIR, c.file));
        const ir = model.ir!;
        const session = await createSession(convertToOnnx(ir, { float64: float === 'float64' }));
        sessions.push(session);
        const chunks = [];
        for await (const chunk of readInputChunks(text(c), inputSchema(ir))) chunks.push(chunk);
        const outputs = await run(session, onnxFeeds(onnxInputFor(ir, float), chunks[0]!));
        for (const [method, want] of answered) {
          // RFE over a regressor: `variable` is the prediction, so its transform has no ONNX output.
          const name = c.id === 'rfe_linear' ? (method === 'predict' ? 'variable' : null) : OUTPUT_FOR[method]!;
          if (name === null) continue;
          assert.ok(outputs[name], `${method}: no ONNX output ${name}`);
          const tol = float === 'float32' ? FLOAT32 : FLOAT64;
          const diff = compareOutputs(rowsOf(outputs[name]!), want as Expected, tol, name === 'label');
          assert.equal(diff, null, `${method}: ${diff}`);
        }
      });
    }
  });
}

describe('KNNImputer on an empty batch', () => {
  for (const id of ['knn_imputer_uniform_k5', 'knn_imputer_empty_column_indicator', 'knn_imputer_keep_empty']) {
    it(`${id}: zero rows in, zero rows out (native and ONNX)`, async () => {
      const model = await loadModel(join(DIR, `${id}.pkl`));
      const ir = model.ir!;
      const out = evaluate(ir, matrix(0, ir.nFeatures!), 'transform');
      assert.equal(out.kind === 'matrix' ? out.rows : -1, 0);
      assert.equal(out.kind === 'matrix' ? out.cols : -1, ir.nOutputs);
      // onnxruntime's TopK crashes the process on zero rows: the graph pads one and slices it off.
      const session = await createSession(convertToOnnx(ir));
      sessions.push(session);
      const outputs = await run(session, { [INPUT_NAME]: { dtype: 'float32', shape: [0, ir.nFeatures!], data: new Float32Array(0) } });
      assert.deepEqual(outputs['variable']!.shape, [0, ir.nOutputs]);
    });
  }
});
