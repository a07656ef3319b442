/**
 * A short rendering of a value read from a file, for error messages. `String()` and
 * `JSON.stringify()` recurse through nested arrays and expand shared ones: on hostile input (a
 * list nested a million levels deep, or one list shared a thousand times through pickle memo
 * GETs, itself shared a thousand times, ...) they overflow the stack or try to build gigabytes.
 * `preview` looks at most a few levels deep and stops at `max` characters.
 */
import { NdArray, PyBytes, PyDict, PyGlobal, PyObject, PySet, PyTuple } from '../ir/object-graph.js';

const MAX_LEVELS = 3;
const MAX_ITEMS = 8;

export function preview(value: unknown, max = 60): string {
  const text = render(value, 0, max + 1);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function render(v: unknown, level: number, budget: number): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > budget ? v.slice(0, budget) : v);
    case 'number':
    case 'boolean':
      return String(v);
    case 'bigint': {
      // toString is linear in hex, not in decimal: size the number first.
      const hex = (v < 0n ? -v : v).toString(16);
      return hex.length > 24 ? `<${hex.length * 4}-bit integer>` : v.toString();
    }
    case 'object':
      break;
    default:
      return `<${typeof v}>`;
  }
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v instanceof PyBytes) return `<${v.data.length} bytes>`;
  if (v instanceof PyGlobal) return v.qualified;
  if (v instanceof PyObject) return `<${v.className} object>`;
  if (v instanceof NdArray) return `<array of shape (${v.shape.slice(0, MAX_ITEMS).join(', ')})>`;
  if (v instanceof PyDict) return `<dict of ${v.size} items>`;
  const items = Array.isArray(v) ? v : v instanceof PyTuple || v instanceof PySet ? v.items : null;
  if (items === null) return `<${(v as object).constructor?.name ?? 'object'}>`;
  const [open, close] = v instanceof PyTuple ? ['(', ')'] : v instanceof PySet ? ['{', '}'] : ['[', ']'];
  if (level >= MAX_LEVELS) return `${open}…${close}`;
  let out = open;
  for (let i = 0; i < items.length; i++) {
    if (i >= MAX_ITEMS || out.length >= budget) return `${out}, … (${items.length} items)${close}`;
    out += (i ? ', ' : '') + render(items[i], level + 1, budget - out.length);
  }
  return out + close;
}
