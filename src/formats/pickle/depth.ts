/**
 * Nesting depth of a decoded object graph, computed without recursion. Python's own pickler
 * cannot write structures deeper than its recursion limit (~1000), so anything deeper than
 * `limits().maxDepth` is hostile; refusing it here lets every later walk recurse safely.
 */
import { malformed } from '../../errors.js';
import { limits } from '../../io/limits.js';
import { NdArray, NumpyScalar, PyDict, PyObject, PySet, PyTuple } from '../../ir/object-graph.js';
import type { PyValue } from '../../ir/object-graph.js';

/** Direct children of a graph node (empty for leaves). */
export function childrenOf(v: PyValue): PyValue[] {
  if (v === null || typeof v !== 'object') return [];
  if (Array.isArray(v)) return v;
  if (v instanceof PyTuple || v instanceof PySet) return v.items;
  if (v instanceof PyDict) {
    const out: PyValue[] = [];
    for (const [k, val] of v.entries) out.push(k, val);
    if (v.state !== undefined) out.push(v.state);
    return out;
  }
  if (v instanceof PyObject) {
    const out: PyValue[] = [v.callable, ...v.args];
    if (v.kwargs) out.push(v.kwargs);
    if (v.state !== undefined) out.push(v.state);
    if (v.listItems) for (const item of v.listItems) out.push(item); // (a spread overflows the stack past ~100k items)
    if (v.dictItems) for (const [k, val] of v.dictItems) out.push(k, val);
    return out;
  }
  if (v instanceof NdArray) return Array.isArray(v.data) && v.dtype.hasObject ? (v.data as PyValue[]) : [];
  if (v instanceof NumpyScalar) return v.dtype.hasObject ? [v.value] : [];
  return [];
}

export function checkDepth(root: PyValue, offset: number): void {
  const max = limits().maxDepth;
  const depth = new Map<object, number>();
  const onStack = new Set<object>();
  // Explicit post-order DFS: frames of [node, children, next child index].
  const frames: Array<[object, PyValue[], number]> = [];
  const enter = (v: PyValue): void => {
    if (v === null || typeof v !== 'object' || depth.has(v) || onStack.has(v)) return;
    const kids = childrenOf(v);
    if (kids.length === 0) {
      depth.set(v, 1);
      return;
    }
    onStack.add(v);
    frames.push([v, kids, 0]);
    if (frames.length > max) {
      throw malformed(`pickle nesting is deeper than ${max} levels (stream at offset ${offset}); Python itself cannot write that`, { offset });
    }
  };
  enter(root);
  while (frames.length) {
    const frame = frames[frames.length - 1]!;
    const [node, kids, i] = frame;
    if (i < kids.length) {
      frame[2] = i + 1;
      enter(kids[i]!);
      continue;
    }
    let d = 0;
    for (const k of kids) if (k !== null && typeof k === 'object') d = Math.max(d, depth.get(k) ?? 0);
    if (d + 1 > max) {
      throw malformed(`pickle nesting is deeper than ${max} levels (stream at offset ${offset}); Python itself cannot write that`, { offset });
    }
    depth.set(node, d + 1);
    onStack.delete(node);
    frames.pop();
  }
}
