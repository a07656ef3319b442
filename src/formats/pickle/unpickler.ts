/**
 * A pickle interpreter for protocols 0–5 that never calls anything.
 *
 * Spec: CPython `Lib/pickle.py` and `Lib/pickletools.py` (opcode table, PEP 307, PEP 3154,
 * PEP 574). GLOBAL/STACK_GLOBAL/INST give name references; REDUCE/NEWOBJ/NEWOBJ_EX/OBJ/INST and
 * BUILD produce inert PyObject records. Only globals in the reconstructor table (numpy arrays,
 * dtypes, scalars, a few builtins) are turned into typed values, by pure data transforms.
 *
 * Why not the `pickleparser` package: it materialises every object through user callbacks with
 * no access to the byte stream, so joblib's inline array bytes (read straight after a BUILD),
 * zero-copy views over the file buffer, memo/nesting limits and the offsets `scan` reports
 * would all have to be bolted on from outside. This interpreter is small and owns those concerns.
 */
import { MlpackError, malformed } from '../../errors.js';
import { ByteReader, decodeLatin1, decodeUtf8 } from '../../io/byte-reader.js';
import { limits } from '../../io/limits.js';
import { NdArray, NumpyScalar, PyBytes, PyDType, PyDict, PyGlobal, PyObject, PySet, PyTuple } from '../../ir/object-graph.js';
import type { Construction, PyValue } from '../../ir/object-graph.js';
import { applyArrayState, applyDTypeState } from './numpy.js';
import { RECONSTRUCTORS } from './reconstructors.js';

/** A global the stream imports, as written (before any Python 2 → 3 renaming). */
export interface GlobalRef {
  module: string;
  name: string;
  offset: number;
  opcode: 'GLOBAL' | 'STACK_GLOBAL' | 'INST';
  /** Where the stream sits in its container (e.g. 'stream 2', 'joblib object array'). */
  location?: string | undefined;
}

export interface UnpickleHooks {
  /** BINPERSID/PERSID: torch storages and the like. Default: an inert `persid` record. */
  persistentLoad?(pid: PyValue, offset: number): PyValue;
  /**
   * Called after BUILD applied state to an object; a returned value replaces it on the stack
   * (joblib reads array bytes that follow NumpyArrayWrapper in the stream here).
   */
  afterBuild?(obj: PyObject, unpickler: Unpickler): PyValue | undefined;
}

export interface UnpickleOptions {
  hooks?: UnpickleHooks;
  /** Label for globals recorded by this stream (nested/appended streams). */
  location?: string;
  /** Shared collector, so nested streams add to their parent's list. */
  globals?: GlobalRef[];
  /** Called now and then with (bytes consumed, total bytes) while decoding big streams. */
  onProgress?: (done: number, total: number) => void;
  /** Shared allowance, so the streams of one file (nested ones included) draw on one budget. */
  budget?: DecodeBudget;
}

/** CPython's default_max_str_digits. */
const MAX_INT_DIGITS = 4300;
/** LONG4 payload cap: 8 Mbit, the envelope's integer extension cap (src/formats/mlpack/graph.ts). */
const MAX_LONG_BYTES = 1 << 20;

/** Budget units (~100 bytes of heap each, measured) of a dict, and of an object or bytes record; lists, tuples and sets are 1. */
const DICT_UNITS = 3;
const OBJECT_UNITS = 2;

/**
 * What one decode may build: containers and objects (`limits().maxObjects`, items copied by
 * reconstructors included) and bytes copied out of the input (`limits().maxDecompressedBytes`).
 * Memo GETs make sharing free in the stream, so without it a few bytes of `set(GET big_list)`
 * repeated, or a compressed run of EMPTY_DICT opcodes, could fill the heap.
 */
export class DecodeBudget {
  objects = 0;
  copiedBytes = 0;
  /** Buffers already charged (views of them are free: the memory is shared). */
  readonly paid = new WeakSet<ArrayBufferLike>();
  readonly maxObjects = limits().maxObjects;
  readonly maxCopiedBytes = limits().maxDecompressedBytes;
}

/** Python 2 module/name spellings → Python 3 (CPython `_compat_pickle`), for resolution only. */
const IMPORT_MAPPING: Record<string, string> = {
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
  Queue: 'queue',
  cPickle: 'pickle',
  _pickle: 'pickle',
  UserDict: 'collections',
  UserList: 'collections',
  UserString: 'collections',
  exceptions: 'builtins',
  urllib2: 'urllib.request',
  commands: 'subprocess',
  cStringIO: 'io',
  StringIO: 'io',
};
const NAME_MAPPING: Record<string, [string, string]> = {
  '__builtin__.xrange': ['builtins', 'range'],
  '__builtin__.reduce': ['functools', 'reduce'],
  '__builtin__.intern': ['sys', 'intern'],
  '__builtin__.unichr': ['builtins', 'chr'],
  '__builtin__.unicode': ['builtins', 'str'],
  '__builtin__.long': ['builtins', 'int'],
  '__builtin__.basestring': ['builtins', 'str'],
  '__builtin__.execfile': ['builtins', 'exec'],
  'itertools.izip': ['builtins', 'zip'],
  'itertools.imap': ['builtins', 'map'],
  'itertools.ifilter': ['builtins', 'filter'],
};

/** The Python 3 name a Python 2 global resolves to. */
export function canonicalGlobal(module: string, name: string): [string, string] {
  const byName = NAME_MAPPING[`${module}.${name}`];
  if (byName) return byName;
  return [IMPORT_MAPPING[module] ?? module, name];
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1',
  0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

export class Unpickler {
  readonly reader: ByteReader;
  readonly globals: GlobalRef[];
  protocol = 0;
  private readonly hooks: UnpickleHooks;
  private readonly location: string | undefined;
  private readonly onProgress: ((done: number, total: number) => void) | undefined;
  private stack: PyValue[] = [];
  private marks: number[] = [];
  private readonly memo = new Map<number, PyValue>();
  /** Offset of the opcode being executed (for errors and findings). */
  private opOffset = 0;
  readonly budget: DecodeBudget;

  constructor(reader: ByteReader, options: UnpickleOptions = {}) {
    this.reader = reader;
    this.hooks = options.hooks ?? {};
    this.location = options.location;
    this.globals = options.globals ?? [];
    this.onProgress = options.onProgress;
    this.budget = options.budget ?? new DecodeBudget();
  }

  /** Decode one pickle, up to and including its STOP opcode. */
  load(): PyValue {
    try {
      return this.run();
    } catch (err) {
      if (err instanceof MlpackError) throw err;
      // A hostile stream must never surface as a crash: anything unexpected is corrupt input.
      throw malformed(`corrupt pickle at offset ${this.reader.base + this.opOffset}: ${(err as Error).message}`, {
        offset: this.reader.base + this.opOffset,
        cause: err,
      });
    }
  }

  /** Count `objects` new objects and `bytes` bytes copied out of the input against the budget. */
  charge(objects: number, bytes = 0): void {
    const b = this.budget;
    b.objects += objects;
    b.copiedBytes += bytes;
    if (b.objects > b.maxObjects) {
      this.fail(`pickle builds more than ${b.maxObjects} objects; a model holds far fewer, so the stream is hostile or not a model`);
    }
    if (b.copiedBytes > b.maxCopiedBytes) {
      this.fail(`pickle copies more than ${b.maxCopiedBytes} bytes while rebuilding its objects, over the decompression limit`);
    }
  }

  /**
   * Charge a value a reconstructor, BUILD or a hook produced: the copies it made (set/dict items,
   * strings decoded from array bytes, byte and element buffers not viewing the input).
   */
  private chargeValue(v: PyValue | undefined): void {
    if (v === null || typeof v !== 'object') return;
    if (v instanceof PySet || v instanceof PyTuple) this.charge(1 + v.items.length);
    else if (v instanceof PyDict) this.charge(DICT_UNITS + v.size);
    else if (v instanceof PyBytes) this.charge(OBJECT_UNITS, this.copied(v.data));
    else if (v instanceof NdArray) {
      const d = v.data;
      // Strings decoded from fixed-width bytes: ~25 bytes each, a quarter of a unit.
      if (Array.isArray(d)) this.charge(OBJECT_UNITS + (v.dtype.hasObject ? 0 : Math.ceil(d.length / 4)));
      else this.charge(OBJECT_UNITS, this.copied(d));
    } else if (v instanceof NumpyScalar) this.charge(OBJECT_UNITS, this.copied(v.raw));
    else this.charge(OBJECT_UNITS);
  }

  /** Bytes of a buffer not yet paid for: 0 for views of the input or of an earlier copy. */
  private copied(view: ArrayBufferView): number {
    const buf = view.buffer;
    if (buf === this.reader.buffer.buffer || this.budget.paid.has(buf)) return 0;
    this.budget.paid.add(buf);
    return buf.byteLength;
  }

  private fail(message: string): never {
    const offset = this.reader.base + this.opOffset;
    throw malformed(`${message} (opcode ${OPCODE_NAMES[this.reader.buffer[this.opOffset]!] ?? '?'} at offset ${offset})`, { offset });
  }

  private pop(): PyValue {
    if (this.stack.length === 0 || (this.marks.length > 0 && this.stack.length <= this.marks[this.marks.length - 1]!)) {
      this.fail('pickle stack underflow');
    }
    return this.stack.pop()!;
  }

  private top(): PyValue {
    if (this.stack.length === 0) this.fail('pickle stack underflow');
    return this.stack[this.stack.length - 1]!;
  }

  private popMark(): PyValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail('no MARK on the pickle stack');
    const items = this.stack.slice(mark);
    this.stack.length = mark;
    return items;
  }

  private memoPut(index: number, value: PyValue): void {
    if (!this.memo.has(index) && this.memo.size >= limits().maxMemoEntries) {
      this.fail(`pickle memo exceeds ${limits().maxMemoEntries} entries`);
    }
    this.memo.set(index, value);
  }

  private memoGet(index: number): PyValue {
    const v = this.memo.get(index);
    if (v === undefined) this.fail(`memo index ${index} was never stored`);
    return v;
  }

  private recordGlobal(module: string, name: string, opcode: GlobalRef['opcode']): PyGlobal {
    const offset = this.reader.base + this.opOffset;
    this.globals.push({ module, name, offset, opcode, location: this.location });
    return new PyGlobal(module, name, offset);
  }

  /** Text line of a protocol-0 opcode, without the newline. */
  private textLine(what: string): string {
    return decodeLatin1(this.reader.line(what));
  }

  private length4(what: string): number {
    const n = this.reader.int32(what);
    if (n < 0) this.fail(`negative length ${n} for ${what}`);
    return n;
  }

  private length8(what: string): number {
    const n = this.reader.uint64(what);
    if (n > this.reader.remaining) {
      this.fail(`${what} declares ${n} bytes but only ${this.reader.remaining} remain`);
    }
    return n;
  }

  private readUtf8(n: number, what: string): string {
    const at = this.reader.offset;
    return decodeUtf8(this.reader.bytes(n, what), what, at);
  }

  private construct(callable: PyValue, args: PyValue[], how: Construction, kwargs?: PyDict): PyValue {
    if (callable instanceof PyGlobal && (how === 'reduce' || how === 'newobj')) {
      const [module, name] = canonicalGlobal(callable.module, callable.name);
      const rebuild = RECONSTRUCTORS.get(`${module}.${name}`);
      if (rebuild) {
        const value = rebuild(args, this.reader.base + this.opOffset);
        if (value !== undefined) {
          this.chargeValue(value);
          return value;
        }
      }
    }
    this.charge(OBJECT_UNITS);
    return new PyObject(callable, args, how, this.reader.base + this.opOffset, kwargs);
  }

  private tupleArgs(v: PyValue, what: string): PyValue[] {
    if (v instanceof PyTuple) return v.items;
    if (Array.isArray(v)) return v; // protocol 0 producers sometimes pass lists; CPython accepts any iterable for *args
    this.fail(`${what} arguments must be a tuple`);
  }

  private run(): PyValue {
    const r = this.reader;
    const stack = this.stack;
    const maxStack = limits().maxStackItems;
    let ops = 0;
    for (;;) {
      if (this.onProgress && (++ops & 0xff) === 0) this.onProgress(r.position, r.end);
      if (stack.length + this.marks.length > maxStack) {
        this.fail(`pickle stack holds more than ${maxStack} items and marks`);
      }
      this.opOffset = r.position;
      const op = r.byte('a pickle opcode');
      switch (op) {
        case 0x80: { // PROTO (2)
          const p = r.byte('protocol number');
          if (p > 5) this.fail(`unsupported pickle protocol ${p}`);
          this.protocol = p;
          break;
        }
        case 0x95: { // FRAME (4): a length hint; frames are transparent but must fit the stream
          this.length8('FRAME');
          break;
        }
        case 0x2e: { // STOP (0)
          const value = this.pop();
          return value;
        }
        case 0x28: // MARK (0)
          this.marks.push(stack.length);
          break;
        case 0x30: // POP (0)
          if (this.marks.length > 0 && this.marks[this.marks.length - 1] === stack.length) this.marks.pop();
          else this.pop();
          break;
        case 0x31: // POP_MARK (1)
          this.popMark();
          break;
        case 0x32: // DUP (0)
          stack.push(this.top());
          break;

        // ---- numbers -------------------------------------------------------------------------
        case 0x4e: stack.push(null); break; // NONE (0)
        case 0x88: stack.push(true); break; // NEWTRUE (2)
        case 0x89: stack.push(false); break; // NEWFALSE (2)
        case 0x4b: stack.push(BigInt(r.byte('BININT1'))); break; // BININT1 (1)
        case 0x4d: stack.push(BigInt(r.uint16('BININT2'))); break; // BININT2 (1)
        case 0x4a: stack.push(BigInt(r.int32('BININT'))); break; // BININT (1)
        case 0x8a: { // LONG1 (2)
          const n = r.byte('LONG1 length');
          stack.push(decodeLong(r.bytes(n, 'LONG1 digits')));
          break;
        }
        case 0x8b: { // LONG4 (2)
          const n = this.length4('LONG4');
          // Printing a huge integer in decimal is superlinear: cap it as the envelope's ext 2 does.
          if (n > MAX_LONG_BYTES) this.fail(`LONG4 integer of ${n} bytes is over the ${MAX_LONG_BYTES}-byte limit`);
          stack.push(decodeLong(r.bytes(n, 'LONG4 digits')));
          break;
        }
        case 0x49: { // INT (0): decimal text; "00"/"01" are False/True
          const text = this.textLine('INT');
          if (text === '00') stack.push(false);
          else if (text === '01') stack.push(true);
          else stack.push(this.parseIntText(text, 'INT'));
          break;
        }
        case 0x4c: { // LONG (0): decimal text with optional trailing L
          const text = this.textLine('LONG');
          stack.push(this.parseIntText(text.endsWith('L') ? text.slice(0, -1) : text, 'LONG'));
          break;
        }
        case 0x46: { // FLOAT (0): repr() text
          const text = this.textLine('FLOAT').trim();
          const v = parsePyFloat(text);
          if (v === undefined) this.fail(`FLOAT text ${JSON.stringify(text.slice(0, 40))} is not a number`);
          stack.push(v);
          break;
        }
        case 0x47: // BINFLOAT (1): 8-byte big-endian double
          stack.push(r.float64BE('BINFLOAT'));
          break;

        // ---- strings and bytes ---------------------------------------------------------------
        case 0x53: { // STRING (0): a quoted Python 2 str repr
          stack.push(decodeLatin1(this.unquote(this.textLine('STRING'))));
          break;
        }
        case 0x54: { // BINSTRING (1): Python 2 str, 4-byte signed length; decoded as latin-1
          const n = this.length4('BINSTRING');
          stack.push(decodeLatin1(r.bytes(n, 'BINSTRING data')));
          break;
        }
        case 0x55: { // SHORT_BINSTRING (1)
          const n = r.byte('SHORT_BINSTRING length');
          stack.push(decodeLatin1(r.bytes(n, 'SHORT_BINSTRING data')));
          break;
        }
        case 0x56: { // UNICODE (0): raw-unicode-escape text
          stack.push(decodeRawUnicodeEscape(r.line('UNICODE')));
          break;
        }
        case 0x58: { // BINUNICODE (1)
          const n = r.uint32('BINUNICODE length');
          stack.push(this.readUtf8(n, 'BINUNICODE data'));
          break;
        }
        case 0x8c: { // SHORT_BINUNICODE (4)
          const n = r.byte('SHORT_BINUNICODE length');
          stack.push(this.readUtf8(n, 'SHORT_BINUNICODE data'));
          break;
        }
        case 0x8d: { // BINUNICODE8 (4)
          const n = this.length8('BINUNICODE8');
          stack.push(this.readUtf8(n, 'BINUNICODE8 data'));
          break;
        }
        case 0x42: { // BINBYTES (3)
          this.charge(OBJECT_UNITS);
          const n = r.uint32('BINBYTES length');
          stack.push(new PyBytes(r.bytes(n, 'BINBYTES data')));
          break;
        }
        case 0x43: { // SHORT_BINBYTES (3)
          this.charge(OBJECT_UNITS);
          const n = r.byte('SHORT_BINBYTES length');
          stack.push(new PyBytes(r.bytes(n, 'SHORT_BINBYTES data')));
          break;
        }
        case 0x8e: { // BINBYTES8 (4)
          this.charge(OBJECT_UNITS);
          const n = this.length8('BINBYTES8');
          stack.push(new PyBytes(r.bytes(n, 'BINBYTES8 data')));
          break;
        }
        case 0x96: { // BYTEARRAY8 (5)
          this.charge(OBJECT_UNITS);
          const n = this.length8('BYTEARRAY8');
          stack.push(new PyBytes(r.bytes(n, 'BYTEARRAY8 data'), true));
          break;
        }
        case 0x97: // NEXT_BUFFER (5): out-of-band buffers live outside the file
          throw new MlpackError(
            `pickle uses an out-of-band buffer (NEXT_BUFFER at offset ${r.base + this.opOffset}), which a file cannot supply`,
            { code: 'UNSUPPORTED', offset: r.base + this.opOffset },
          );
        case 0x98: // READONLY_BUFFER (5): marks the top buffer read-only; no effect on data
          this.top();
          break;

        // ---- containers (each charged against the decode budget) ------------------------------
        case 0x29: this.charge(1); stack.push(new PyTuple([])); break; // EMPTY_TUPLE (1)
        case 0x85: this.charge(1); stack.push(new PyTuple([this.pop()])); break; // TUPLE1 (2)
        case 0x86: { // TUPLE2 (2)
          this.charge(1);
          const b = this.pop();
          const a = this.pop();
          stack.push(new PyTuple([a, b]));
          break;
        }
        case 0x87: { // TUPLE3 (2)
          this.charge(1);
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          stack.push(new PyTuple([a, b, c]));
          break;
        }
        case 0x74: this.charge(1); stack.push(new PyTuple(this.popMark())); break; // TUPLE (0)
        case 0x5d: this.charge(1); stack.push([]); break; // EMPTY_LIST (1)
        case 0x6c: this.charge(1); stack.push(this.popMark()); break; // LIST (0)
        case 0x7d: this.charge(DICT_UNITS); stack.push(new PyDict()); break; // EMPTY_DICT (1)
        case 0x64: { // DICT (0)
          this.charge(DICT_UNITS);
          const items = this.popMark();
          if (items.length % 2) this.fail('DICT needs an even number of items');
          const d = new PyDict();
          for (let i = 0; i < items.length; i += 2) d.set(items[i]!, items[i + 1]!);
          stack.push(d);
          break;
        }
        case 0x8f: this.charge(1); stack.push(new PySet([], false)); break; // EMPTY_SET (4)
        case 0x91: this.charge(1); stack.push(new PySet(this.popMark(), true)); break; // FROZENSET (4)
        case 0x61: { // APPEND (0)
          const item = this.pop();
          this.appendTo(this.top(), [item]);
          break;
        }
        case 0x65: { // APPENDS (1)
          const items = this.popMark();
          this.appendTo(this.top(), items);
          break;
        }
        case 0x73: { // SETITEM (0)
          const value = this.pop();
          const key = this.pop();
          this.setItems(this.top(), [key, value]);
          break;
        }
        case 0x75: { // SETITEMS (1)
          const items = this.popMark();
          if (items.length % 2) this.fail('SETITEMS needs an even number of items');
          this.setItems(this.top(), items);
          break;
        }
        case 0x90: { // ADDITEMS (4)
          const items = this.popMark();
          const target = this.top();
          if (!(target instanceof PySet) || target.frozen) this.fail('ADDITEMS target is not a set');
          for (const item of items) target.items.push(item);
          break;
        }

        // ---- memo ----------------------------------------------------------------------------
        case 0x70: this.memoPut(this.parseIndex(this.textLine('PUT'), 'PUT'), this.top()); break; // PUT (0)
        case 0x71: this.memoPut(r.byte('BINPUT index'), this.top()); break; // BINPUT (1)
        case 0x72: this.memoPut(r.uint32('LONG_BINPUT index'), this.top()); break; // LONG_BINPUT (1)
        case 0x94: this.memoPut(this.memo.size, this.top()); break; // MEMOIZE (4)
        case 0x67: stack.push(this.memoGet(this.parseIndex(this.textLine('GET'), 'GET'))); break; // GET (0)
        case 0x68: stack.push(this.memoGet(r.byte('BINGET index'))); break; // BINGET (1)
        case 0x6a: stack.push(this.memoGet(r.uint32('LONG_BINGET index'))); break; // LONG_BINGET (1)

        // ---- globals and object construction -------------------------------------------------
        case 0x63: { // GLOBAL (0): "module\nname\n"
          const module = this.textLine('GLOBAL module');
          const name = this.textLine('GLOBAL name');
          stack.push(this.recordGlobal(module, name, 'GLOBAL'));
          break;
        }
        case 0x93: { // STACK_GLOBAL (4): module and name strings from the stack (possibly memo GETs)
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two str operands');
          stack.push(this.recordGlobal(module, name, 'STACK_GLOBAL'));
          break;
        }
        case 0x82: case 0x83: case 0x84: { // EXT1/EXT2/EXT4 (2): copyreg extension registry codes
          const code = op === 0x82 ? r.byte('EXT1 code') : op === 0x83 ? r.uint16('EXT2 code') : r.int32('EXT4 code');
          // The registry is process state of the writer: the code cannot be resolved from the file.
          throw new MlpackError(
            `pickle refers to copyreg extension code ${code} (opcode at offset ${r.base + this.opOffset}), which only the writing process can resolve`,
            { code: 'UNSUPPORTED', offset: r.base + this.opOffset },
          );
        }
        case 0x52: { // REDUCE (0): callable(*args)
          const args = this.pop();
          const callable = this.pop();
          stack.push(this.construct(callable, this.tupleArgs(args, 'REDUCE'), 'reduce'));
          break;
        }
        case 0x81: { // NEWOBJ (2): cls.__new__(cls, *args)
          const args = this.pop();
          const cls = this.pop();
          stack.push(this.construct(cls, this.tupleArgs(args, 'NEWOBJ'), 'newobj'));
          break;
        }
        case 0x92: { // NEWOBJ_EX (4): cls.__new__(cls, *args, **kwargs)
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          if (!(kwargs instanceof PyDict)) this.fail('NEWOBJ_EX keyword arguments must be a dict');
          stack.push(this.construct(cls, this.tupleArgs(args, 'NEWOBJ_EX'), 'newobj_ex', kwargs));
          break;
        }
        case 0x6f: { // OBJ (1): MARK cls args... OBJ
          const items = this.popMark();
          if (items.length === 0) this.fail('OBJ needs a class');
          stack.push(this.construct(items[0]!, items.slice(1), 'obj'));
          break;
        }
        case 0x69: { // INST (0): MARK args... INST "module\nname\n"
          const module = this.textLine('INST module');
          const name = this.textLine('INST name');
          const cls = this.recordGlobal(module, name, 'INST');
          stack.push(this.construct(cls, this.popMark(), 'inst'));
          break;
        }
        case 0x62: { // BUILD (0): obj.__setstate__(state) or obj.__dict__.update(state)
          const state = this.pop();
          const obj = this.top();
          this.build(obj, state);
          break;
        }
        case 0x51: { // BINPERSID (1)
          const pid = this.pop();
          stack.push(this.persistent(pid));
          break;
        }
        case 0x50: { // PERSID (0)
          stack.push(this.persistent(this.textLine('PERSID')));
          break;
        }
        default:
          this.fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }

  private persistent(pid: PyValue): PyValue {
    this.charge(OBJECT_UNITS);
    const offset = this.reader.base + this.opOffset;
    if (this.hooks.persistentLoad) return this.hooks.persistentLoad(pid, offset);
    return new PyObject(null, [pid], 'persid', offset);
  }

  private appendTo(target: PyValue, items: PyValue[]): void {
    if (Array.isArray(target)) {
      for (const item of items) target.push(item);
    } else if (target instanceof PyObject) {
      const into = (target.listItems ??= []);
      for (const item of items) into.push(item);
    } else {
      this.fail(`APPEND target is a ${describe(target)}, not a list`);
    }
  }

  private setItems(target: PyValue, items: PyValue[]): void {
    if (target instanceof PyDict) {
      for (let i = 0; i < items.length; i += 2) target.set(items[i]!, items[i + 1]!);
    } else if (target instanceof PyObject) {
      const into = (target.dictItems ??= []);
      for (let i = 0; i < items.length; i += 2) into.push([items[i]!, items[i + 1]!]);
    } else {
      this.fail(`SETITEM target is a ${describe(target)}, not a dict`);
    }
  }

  private build(obj: PyValue, state: PyValue): void {
    if (obj instanceof NdArray) {
      applyArrayState(obj, state, this.reader.base + this.opOffset);
      this.chargeValue(obj);
    } else if (obj instanceof PyDType) {
      applyDTypeState(obj, state, this.reader.base + this.opOffset);
    } else if (obj instanceof PyObject) {
      obj.state = state;
      if (this.hooks.afterBuild) {
        const replaced = this.hooks.afterBuild(obj, this);
        if (replaced !== undefined) {
          this.chargeValue(replaced);
          this.stack[this.stack.length - 1] = replaced;
        }
      }
    } else if (obj instanceof PyDict && obj.pyClass) {
      obj.state = state; // a dict subclass with instance attributes
    } else {
      this.fail(`BUILD target is a ${describe(obj)}, which takes no state`);
    }
  }

  private parseIntText(text: string, what: string): bigint {
    // CPython 3.11+ refuses int text over 4300 digits (sys.int_info.default_max_str_digits) for the
    // same reason: parsing decimal is superlinear, so 100 MB of digits would take minutes.
    if (text.length > MAX_INT_DIGITS + 2) this.fail(`${what} text of ${text.length} characters is over the ${MAX_INT_DIGITS}-digit limit`);
    if (!/^[+-]?\d+$/.test(text.trim())) this.fail(`${what} text ${JSON.stringify(text.slice(0, 40))} is not an integer`);
    return BigInt(text.trim());
  }

  private parseIndex(text: string, what: string): number {
    if (!/^\d+$/.test(text)) this.fail(`${what} index ${JSON.stringify(text.slice(0, 40))} is not a number`);
    const n = Number(text);
    if (!Number.isSafeInteger(n)) this.fail(`${what} index ${text.slice(0, 40)} is out of range`);
    return n;
  }

  /** STRING's argument: a Python 2 repr in single or double quotes with backslash escapes. */
  private unquote(text: string): Uint8Array {
    const q = text[0];
    if (text.length < 2 || (q !== "'" && q !== '"') || text[text.length - 1] !== q) {
      this.fail('STRING argument is not a quoted string');
    }
    return decodeStringEscape(text.slice(1, -1));
  }
}

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return v.constructor.name;
  return typeof v;
}

/** Little-endian two's-complement integer of any length (LONG1/LONG4). */
export function decodeLong(bytes: Uint8Array): bigint {
  const n = bytes.length;
  if (n === 0) return 0n;
  let hex = '';
  for (let i = n - 1; i >= 0; i--) hex += bytes[i]!.toString(16).padStart(2, '0');
  let v = BigInt(`0x${hex}`);
  if (bytes[n - 1]! & 0x80) v -= 1n << BigInt(n * 8);
  return v;
}

/** Python float repr text, including inf/nan spellings. */
function parsePyFloat(text: string): number | undefined {
  const t = text.toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '-nan' || t === '+nan') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** Python 2 `string_escape`: \\ \' \" \n \r \t \a \b \f \v \xhh \ooo. */
function decodeStringEscape(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c || i + 1 >= text.length) {
      out.push(c & 0xff);
      continue;
    }
    const e = text[++i]!;
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, a: 7, b: 8, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '\n': -1 };
    if (e in simple) {
      if (simple[e]! >= 0) out.push(simple[e]!);
    } else if (e === 'x') {
      out.push(parseInt(text.slice(i + 1, i + 3), 16) & 0xff);
      i += 2;
    } else if (e >= '0' && e <= '7') {
      let j = i;
      while (j < i + 3 && j < text.length && text[j]! >= '0' && text[j]! <= '7') j++;
      out.push(parseInt(text.slice(i, j), 8) & 0xff);
      i = j - 1;
    } else {
      out.push(0x5c, e.charCodeAt(0) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** `raw-unicode-escape`: bytes are latin-1 except \uXXXX and \UXXXXXXXX escapes. */
function decodeRawUnicodeEscape(bytes: Uint8Array): string {
  const text = decodeLatin1(bytes);
  if (!text.includes('\\u') && !text.includes('\\U')) return text;
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string | undefined, u8: string | undefined) =>
    String.fromCodePoint(parseInt((u4 ?? u8)!, 16)),
  );
}

/** Every pickle opcode's name, for tools and error messages. */
export function opcodeName(op: number): string | undefined {
  return OPCODE_NAMES[op];
}
