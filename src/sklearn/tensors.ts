/**
 * Names every numeric array reachable from a model by its path through pickled state —
 * the rule in docs/TENSOR-NAMES.md, mirrored in Python by fixtures/generate/common.py.
 */
import type { TensorInfo } from '../api/types.js';
import { malformed } from '../errors.js';
import { preview } from '../formats/preview.js';
import { limits } from '../io/limits.js';
import { NdArray, PyDict, PyObject, PyTuple } from '../ir/object-graph.js';
import type { PyValue } from '../ir/object-graph.js';

export interface NamedArray extends TensorInfo {
  array: NdArray;
}

/**
 * The walk is bounded like the torch reader's: names share their prefixes as V8 ropes until they
 * are printed, so a deep chain of dicts keyed by one memo-shared long string would otherwise only
 * fail (with a RangeError) when a name passes V8's string limit. `limits().maxNameChars` caps both
 * one path and all the names together.
 */
export function walkTensors(root: PyValue): NamedArray[] {
  const out: NamedArray[] = [];
  const seen = new Set<object>();
  const maxChars = limits().maxNameChars;
  let chars = 0;
  /** `p` extended by `k`: after a dot for a key, directly for an index such as `[3]`. */
  const extend = (p: string, k: string, dot: boolean): string => {
    if (p.length + k.length >= maxChars) {
      throw malformed(`a tensor's key path is longer than ${maxChars} characters (nesting ${preview(p, 40)}…)`);
    }
    return dot && p ? `${p}.${k}` : `${p}${k}`;
  };
  const join = (p: string, k: string): string => extend(p, k, true);
  const index = (p: string, i: string): string => extend(p, i, false);

  const walk = (v: PyValue | undefined, path: string): void => {
    if (v === null || v === undefined || typeof v !== 'object') return;
    if (seen.has(v)) return;
    if (v instanceof NdArray) {
      seen.add(v);
      if (v.dtype.hasObject) {
        const data = v.data as PyValue[];
        const shape = v.shape;
        const idx = new Array<number>(shape.length).fill(0);
        for (let i = 0; i < data.length; i++) {
          walk(data[i], index(path, idx.map((x) => `[${x}]`).join('')));
          for (let k = shape.length - 1; k >= 0; k--) {
            if (++idx[k]! < shape[k]!) break;
            idx[k] = 0;
          }
        }
      } else {
        chars += path.length;
        if (chars > maxChars) throw malformed(`the tensor names add up to more than ${maxChars} characters; the object graph repeats deep paths`);
        out.push({ name: path, dtype: v.dtype.name, shape: [...v.shape], bytes: v.size * v.dtype.itemsize, array: v });
      }
      return;
    }
    if (v instanceof PyObject) {
      seen.add(v);
      const s = v.state;
      if (s instanceof PyTuple && s.items.length === 2 && (s.items[0] === null || s.items[0] instanceof PyDict) && s.items[1] instanceof PyDict) {
        walk(s.items[0], path);
        walk(s.items[1], path);
      } else {
        walk(s, path);
      }
      return;
    }
    if (v instanceof PyDict) {
      seen.add(v);
      for (const [k, val] of v.entries) {
        if (typeof k === 'string') walk(val, join(path, k));
        else if (typeof k === 'bigint' || typeof k === 'boolean') walk(val, index(path, `[${typeof k === 'boolean' ? (k ? 'True' : 'False') : k}]`));
      }
      return;
    }
    if (Array.isArray(v) || v instanceof PyTuple) {
      seen.add(v);
      const list = Array.isArray(v) ? v : v.items;
      for (let i = 0; i < list.length; i++) walkItem(list[i]!, index(path, `[${i}]`));
    }
  };

  /** A list/tuple item; a named step `(name, estimator, ...)` is transparent for its estimator. */
  const walkItem = (item: PyValue, path: string): void => {
    if (item instanceof PyTuple && !seen.has(item) && item.items.length >= 2 && typeof item.items[0] === 'string' && item.items[1] instanceof PyObject) {
      seen.add(item);
      walk(item.items[1], path);
      for (let j = 2; j < item.items.length; j++) walk(item.items[j], index(path, `[${j}]`));
      return;
    }
    walk(item, path);
  };

  walk(root, '');
  return out;
}
