/**
 * Builders for hostile inputs (pickle opcodes, legacy torch files) and the assertions every
 * security test makes: only an MlpackError of the expected code comes out, in bounded time.
 */

/** Pickle opcodes as bytes (CPython Lib/pickletools.py names). */
export const op = {
  proto: (n: number) => Buffer.from([0x80, n]),
  stop: () => Buffer.from([0x2e]),
  mark: () => Buffer.from([0x28]),
  pop: () => Buffer.from([0x30]),
  none: () => Buffer.from([0x4e]),
  emptyList: () => Buffer.from([0x5d]),
  emptyDict: () => Buffer.from([0x7d]),
  emptyTuple: () => Buffer.from([0x29]),
  emptySet: () => Buffer.from([0x8f]),
  append: () => Buffer.from([0x61]),
  appends: () => Buffer.from([0x65]),
  setitem: () => Buffer.from([0x73]),
  setitems: () => Buffer.from([0x75]),
  additems: () => Buffer.from([0x90]),
  tuple: () => Buffer.from([0x74]),
  tuple1: () => Buffer.from([0x85]),
  tuple2: () => Buffer.from([0x86]),
  tuple3: () => Buffer.from([0x87]),
  reduce: () => Buffer.from([0x52]),
  newobj: () => Buffer.from([0x81]),
  build: () => Buffer.from([0x62]),
  binpersid: () => Buffer.from([0x51]),
  newTrue: () => Buffer.from([0x88]),
  newFalse: () => Buffer.from([0x89]),
  binint1: (n: number) => Buffer.from([0x4b, n]),
  binint: (n: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(n, 1);
    return b;
  },
  /** LONG1 with the given little-endian two's-complement bytes. */
  long1: (bytes: number[]) => Buffer.from([0x8a, bytes.length, ...bytes]),
  put: (i: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0x72;
    b.writeUInt32LE(i, 1);
    return b;
  },
  get: (i: number) => {
    const b = Buffer.alloc(5);
    b[0] = 0x6a;
    b.writeUInt32LE(i, 1);
    return b;
  },
  str: (s: string) => {
    const d = Buffer.from(s, 'utf8');
    const b = Buffer.alloc(5);
    b[0] = 0x58;
    b.writeUInt32LE(d.length, 1);
    return Buffer.concat([b, d]);
  },
  bytes: (d: Uint8Array) => {
    const b = Buffer.alloc(5);
    b[0] = 0x42;
    b.writeUInt32LE(d.length, 1);
    return Buffer.concat([b, d]);
  },
  global: (module: string, name: string) => Buffer.from(`c${module}\n${name}\n`, 'latin1'),
};

export const pickle = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

/** `n` copies of the same opcode bytes. */
export function repeat(part: Buffer, n: number): Buffer {
  const out = Buffer.alloc(part.length * n);
  for (let i = 0; i < n; i++) part.copy(out, i * part.length);
  return out;
}

/**
 * A list shared `fanout` times per level, `levels` deep, through the memo ("billion laughs"):
 * a few KiB that `String()` would expand to fanout^levels items. Leaves the list on the stack.
 */
export function laughs(levels: number, fanout: number, memoBase = 0): Buffer {
  const parts: Buffer[] = [op.emptyList(), op.put(memoBase)];
  for (let l = 1; l <= levels; l++) {
    parts.push(op.pop(), op.emptyList(), op.mark(), repeat(op.get(memoBase + l - 1), fanout), op.appends(), op.put(memoBase + l));
  }
  return Buffer.concat(parts);
}

/** The legacy torch magic number pickle (protocol 2, LONG1 of 0x1950a86a20f9469cfc6c). */
export const LEGACY_MAGIC = pickle(op.proto(2), op.long1([0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]), op.stop());

export { rejectsWith } from '../helpers.js';

export { HANG_MS, noHang } from '../helpers.js';
