/** Shared helpers for the ONNX tests. */
import assert from 'node:assert/strict';

export { rejectsWith } from '../helpers.js';

/**
 * A decoded or built protobuf message as plain JSON-able data: Longs and bigints → decimal
 * strings, bytes → number arrays, protobufjs defaults (empty arrays, absent fields) dropped, so a
 * built model and its decoded round trip compare equal.
 */
export function plain(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) {
    const items = v.map(plain);
    return items.length ? items : undefined;
  }
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.low === 'number' && typeof o.high === 'number') {
      const big = (BigInt(o.high >>> 0) << 32n) | BigInt(o.low >>> 0);
      return (o.unsigned ? BigInt.asUintN(64, big) : BigInt.asIntN(64, big)).toString();
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) {
      const p = plain(o[k]);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  return undefined;
}

/** Element-wise closeness for float32 outputs. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  }
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function seededFloats(n: number, seed = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}
