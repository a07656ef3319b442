/**
 * Read-only description of a marshalled CPython code object: what a Keras Lambda layer stores.
 * Nothing is ever executed or even turned into code; the walk only reports the name, file,
 * first line and simple constants so `scan` can say which function a file would run.
 *
 * Format: CPython Python/marshal.c (w_object / r_object). Code objects (TYPE_CODE 'c'):
 *   3.5–3.7:  argcount kwonlyargcount nlocals stacksize flags (5 int32), code, consts, names,
 *             varnames, freevars, cellvars, filename, name, firstlineno (int32), lnotab
 *   3.8–3.10: argcount posonlyargcount kwonlyargcount nlocals stacksize flags (6 int32), then
 *             as above (3.10: linetable instead of lnotab)
 *   3.11+:    argcount posonlyargcount kwonlyargcount stacksize flags (5 int32), code, consts,
 *             names, localsplusnames, localspluskinds (bytes), filename, name, qualname,
 *             firstlineno, linetable, exceptiontable
 * Keras stores `marshal.dumps(func.__code__)` base64-encoded (Keras 2, generic_utils.func_dump)
 * or decoded to text with `raw_unicode_escape` (Keras 1).
 */

export interface CodeObjectInfo {
  /** Which header layout matched. */
  layout: 'python3.5-3.7' | 'python3.8-3.10' | 'python3.11+';
  argcount: number;
  name: string | null;
  qualname: string | null;
  filename: string | null;
  firstlineno: number | null;
  /** Constants: numbers, strings, booleans, null; nested code objects and containers as a short description. */
  consts: Array<number | string | boolean | null>;
  names: string[];
  varnames: string[];
}

export class MarshalError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

/** Marshal nests shallowly for code objects; anything deeper is not a Keras lambda. */
const MAX_DEPTH = 64;
/** A container in a lambda's constants is small; refuse absurd counts before looping. */
const MAX_ITEMS = 1 << 20;
/**
 * Objects one decode may read, retries included: a code object whose 3.5–3.7 header fails is
 * read again as 3.8–3.10, so nested code objects could otherwise be re-read 2^depth times.
 */
const MAX_STEPS = 4 << 20;

interface CodeMarker {
  code: CodeObjectInfo;
}
type MValue = null | boolean | number | bigint | string | Uint8Array | MValue[] | CodeMarker | { other: string };

class Reader {
  private readonly d: Uint8Array;
  private readonly view: DataView;
  i = 0;
  private readonly refs: MValue[] = [];
  private depth = 0;
  private steps = 0;

  constructor(data: Uint8Array) {
    this.d = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.i + n > this.d.length) {
      throw new MarshalError(`marshal data ends inside ${what} at byte ${this.i}`, this.i);
    }
  }

  u8(what = 'a type byte'): number {
    this.need(1, what);
    return this.d[this.i++]!;
  }

  i32(what = 'an int32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.i, true);
    this.i += 4;
    return v;
  }

  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.d.subarray(this.i, this.i + n);
    this.i += n;
    return v;
  }

  count(what: string): number {
    const n = this.i32(what);
    if (n < 0 || n > MAX_ITEMS || n > this.d.length - this.i) {
      throw new MarshalError(`marshal ${what} has an impossible length ${n} at byte ${this.i - 4}`, this.i - 4);
    }
    return n;
  }

  peekType(): number | undefined {
    const b = this.d[this.i];
    return b === undefined ? undefined : b & 0x7f;
  }

  obj(): MValue {
    if (++this.steps > MAX_STEPS) throw new MarshalError(`marshal data takes more than ${MAX_STEPS} steps to read`, this.i);
    if (++this.depth > MAX_DEPTH) throw new MarshalError(`marshal data nests deeper than ${MAX_DEPTH} levels`, this.i);
    try {
      return this.objInner();
    } finally {
      this.depth--;
    }
  }

  private objInner(): MValue {
    const at = this.i;
    const code = this.u8();
    const flagRef = (code & 0x80) !== 0;
    const t = String.fromCharCode(code & 0x7f);
    let slot = -1;
    if (flagRef) {
      slot = this.refs.length;
      this.refs.push(null);
    }
    const keep = (v: MValue): MValue => {
      if (slot >= 0) this.refs[slot] = v;
      return v;
    };
    // (Not String.fromCharCode(...b): spreading a long string's bytes overflows the stack.)
    const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
    const utf8 = (b: Uint8Array): string => new TextDecoder('utf-8').decode(b);
    switch (t) {
      case '0': return keep(null); // TYPE_NULL
      case 'N': return keep(null); // TYPE_NONE
      case 'F': return keep(false);
      case 'T': return keep(true);
      case 'S': return keep({ other: 'StopIteration' });
      case '.': return keep({ other: 'Ellipsis' });
      case 'i': return keep(this.i32('an int'));
      case 'l': {
        // TYPE_LONG: int32 digit count (sign = sign of the count), 15-bit digits
        const n = this.i32('a long size');
        const digits = Math.abs(n);
        if (digits > MAX_ITEMS) throw new MarshalError(`marshal long with ${digits} digits at byte ${at}`, at);
        let v = 0n;
        const raw = this.take(2 * digits, 'a long');
        for (let k = digits - 1; k >= 0; k--) v = (v << 15n) | BigInt(raw[2 * k]! | (raw[2 * k + 1]! << 8));
        return keep(n < 0 ? -v : v);
      }
      case 'f': {
        // TYPE_FLOAT: 1-byte length + ASCII repr
        const n = this.u8('a float length');
        return keep(Number(latin1(this.take(n, 'a float'))));
      }
      case 'g': {
        this.need(8, 'a binary float');
        const v = this.view.getFloat64(this.i, true);
        this.i += 8;
        return keep(v);
      }
      case 'x': {
        const a = this.u8('a complex');
        this.take(a, 'a complex');
        const b = this.u8('a complex');
        this.take(b, 'a complex');
        return keep({ other: 'complex' });
      }
      case 'y':
        this.take(16, 'a binary complex');
        return keep({ other: 'complex' });
      case 's': return keep(this.take(this.count('bytes'), 'bytes'));
      case 't':
      case 'u': return keep(utf8(this.take(this.count('a string'), 'a string')));
      case 'a':
      case 'A': return keep(latin1(this.take(this.count('an ASCII string'), 'an ASCII string')));
      case 'z':
      case 'Z': {
        const n = this.u8('a short string length');
        return keep(latin1(this.take(n, 'a short string')));
      }
      case ')': {
        const n = this.u8('a small tuple length');
        const out: MValue[] = [];
        keep(out);
        for (let k = 0; k < n; k++) out.push(this.obj());
        return out;
      }
      case '(':
      case '[':
      case '<':
      case '>': {
        const n = this.count('a container');
        const out: MValue[] = [];
        keep(out);
        for (let k = 0; k < n; k++) out.push(this.obj());
        return out;
      }
      case '{': {
        const out: MValue[] = [];
        keep(out);
        for (let guard = 0; guard <= MAX_ITEMS; guard++) {
          if (this.peekType() === 0x30) {
            this.i++; // TYPE_NULL ends a dict
            return out;
          }
          out.push(this.obj(), this.obj());
        }
        throw new MarshalError(`marshal dict too long at byte ${at}`, at);
      }
      case 'r': {
        const idx = this.i32('a reference');
        if (idx < 0 || idx >= this.refs.length) throw new MarshalError(`marshal reference ${idx} out of range at byte ${at}`, at);
        return this.refs[idx] ?? null;
      }
      case 'c': {
        const v: CodeMarker = { code: this.code() };
        return keep(v);
      }
      default:
        throw new MarshalError(`unknown marshal type ${JSON.stringify(t)} (0x${code.toString(16)}) at byte ${at}`, at);
    }
  }

  private code(): CodeObjectInfo {
    const start = this.i;
    const refsAt = this.refs.length;
    try {
      return this.codeWith(5);
    } catch (err) {
      if (!(err instanceof MarshalError)) throw err;
      this.i = start;
      this.refs.length = refsAt;
      return this.codeWith(6);
    }
  }

  private codeWith(nints: 5 | 6): CodeObjectInfo {
    const ints: number[] = [];
    for (let k = 0; k < nints; k++) ints.push(this.i32('a code object header'));
    if (this.peekType() !== 0x73) throw new MarshalError(`code object bytecode is not a bytes object at byte ${this.i}`, this.i);
    this.obj(); // co_code
    const consts = this.obj();
    const names = this.obj();
    const locals = this.obj();
    const next = this.obj();
    let layout: CodeObjectInfo['layout'];
    let filename: MValue;
    let name: MValue;
    let qualname: MValue = null;
    if (nints === 5 && next instanceof Uint8Array) {
      // 3.11+: localspluskinds, then filename, name, qualname, firstlineno, linetable, exceptiontable
      layout = 'python3.11+';
      filename = this.obj();
      name = this.obj();
      qualname = this.obj();
    } else {
      // freevars was `next`; cellvars, filename, name follow
      layout = nints === 5 ? 'python3.5-3.7' : 'python3.8-3.10';
      this.obj(); // co_cellvars
      filename = this.obj();
      name = this.obj();
    }
    const firstlineno = this.i32('co_firstlineno');
    this.obj(); // lnotab / linetable
    if (layout === 'python3.11+') this.obj(); // exceptiontable
    if (typeof filename !== 'string' || typeof name !== 'string') {
      throw new MarshalError('code object filename/name are not strings', this.i);
    }
    return {
      layout,
      argcount: ints[0] ?? 0,
      name,
      qualname: typeof qualname === 'string' ? qualname : null,
      filename,
      firstlineno,
      consts: Array.isArray(consts) ? consts.map(describeConst) : [],
      names: stringList(names),
      varnames: stringList(locals),
    };
  }
}

function describeConst(v: MValue): number | string | boolean | null {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return `<bytes ${v.length}>`;
  if (Array.isArray(v)) return `<tuple ${v.length}>`;
  if ('code' in v) return `<code ${v.code.name ?? '?'}>`;
  return `<${v.other}>`;
}

function stringList(v: MValue): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Decode marshal bytes that start with a code object. Throws MarshalError. */
export function decodeCodeObject(data: Uint8Array): CodeObjectInfo {
  const r = new Reader(data);
  const first = r.peekType();
  if (first !== 0x63) {
    throw new MarshalError(`marshal data does not start with a code object (type byte 0x${(data[0] ?? 0).toString(16)})`, 0);
  }
  const v = r.obj();
  if (v === null || typeof v !== 'object' || !('code' in v)) throw new MarshalError('marshal data is not a code object', 0);
  return v.code;
}

/**
 * The marshal bytes behind a Keras `function` string: base64 text (Keras 2, may contain
 * newlines) or marshal bytes decoded with `raw_unicode_escape` (Keras 1: code points < 256
 * are bytes; larger ones were written as \\uXXXX / \\UXXXXXXXX).
 */
export function lambdaBytes(text: string): { encoding: 'base64' | 'raw_unicode_escape'; bytes: Uint8Array } {
  if (/^[A-Za-z0-9+/=\s]+$/.test(text) && text.replace(/\s+/g, '').length % 4 === 0) {
    return { encoding: 'base64', bytes: new Uint8Array(Buffer.from(text, 'base64')) };
  }
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 256) out.push(c);
    else {
      const esc = c > 0xffff ? `\\U${c.toString(16).padStart(8, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
      for (const e of esc) out.push(e.charCodeAt(0));
    }
  }
  return { encoding: 'raw_unicode_escape', bytes: Uint8Array.from(out) };
}
