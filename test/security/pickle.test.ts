/**
 * Hostile pickles and joblib files that cost a few bytes but ask for unbounded memory or work:
 * compressed runs of container opcodes, memo GETs of big containers into copying
 * reconstructors, zero-width string arrays, long APPENDS/ADDITEMS batches. Each must end as an
 * MlpackError (or decode, where the input is legitimate), quickly.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterEach, describe, it } from 'node:test';
import { inspect } from '../../src/api/inspect.js';
import { scanFile } from '../../src/api/scan.js';
import { decodePickleSource } from '../../src/formats/pickle/read.js';
import { resetLimits, setLimits } from '../../src/io/limits.js';
import { sourceFromBytes } from '../../src/io/source.js';
import { PyObject, PySet } from '../../src/ir/object-graph.js';
import { assertCleanStderr, runCli } from '../helpers.js';
import { op, pickle, rejectsWith, repeat, noHang } from './helpers.js';

afterEach(() => resetLimits());

/** `[` + n × opcode + `]` as a protocol-2 pickle. */
function listOf(part: Buffer, n: number): Buffer {
  return pickle(op.proto(2), op.emptyList(), op.mark(), repeat(part, n), op.appends(), op.stop());
}

/** A list of `n` small ints in APPENDS batches of 1000 (as CPython writes it), memoised at 0. */
function intList(n: number): Buffer {
  const parts: Buffer[] = [op.emptyList(), op.put(0)];
  for (let i = 0; i < n; i += 1000) parts.push(op.mark(), repeat(op.binint1(7), Math.min(1000, n - i)), op.appends());
  return Buffer.concat(parts);
}

describe('object budget', () => {
  it('a compressed run of EMPTY_DICT opcodes is MALFORMED, not a full heap', { timeout: 30_000 }, async () => {
    const raw = listOf(op.emptyDict(), 3_000_000);
    const file = deflateSync(raw, { level: 9 });
    assert.ok(file.length < 10_000, `${file.length} bytes`);
    await noHang(() => rejectsWith(() => inspect(sourceFromBytes('bomb.joblib', file)), 'MALFORMED', /more than 1000000 objects/));
  });

  it('the CLI refuses it with exit 3 on a 256 MiB heap', { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlpack-sec-'));
    try {
      const path = join(dir, 'bomb.joblib');
      writeFileSync(path, deflateSync(listOf(op.emptyDict(), 3_000_000), { level: 9 }));
      for (const cmd of ['inspect', 'scan']) {
        const r = runCli([cmd, path, '--json'], { env: { NODE_OPTIONS: '--max-old-space-size=256' } });
        assert.equal(r.status, 3, `${cmd}: ${r.stderr}`);
        assert.equal(assertCleanStderr(r.stderr), null, r.stderr);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('set(GET big_list) repeated pays for every copy', { timeout: 30_000 }, async () => {
    // 100k-item list, then 10,000 × set(list): 10^9 copied items without the budget.
    const call = pickle(op.global('builtins', 'set'), op.get(0), op.tuple1(), op.reduce());
    const raw = pickle(op.proto(2), intList(100_000), op.pop(), op.emptyList(), op.mark(), repeat(call, 10_000), op.appends(), op.stop());
    await noHang(() => rejectsWith(() => decodePickleSource(sourceFromBytes('sets.pkl', raw), null), 'MALFORMED', /objects/));
  });

  it('a few set(GET list) copies of a legitimate size still decode', async () => {
    const call = pickle(op.global('builtins', 'frozenset'), op.get(0), op.tuple1(), op.reduce());
    const raw = pickle(op.proto(2), intList(10_000), op.pop(), op.emptyList(), op.mark(), repeat(call, 5), op.appends(), op.stop());
    const d = await decodePickleSource(sourceFromBytes('sets.pkl', raw), null);
    assert.ok(Array.isArray(d.value) && d.value.length === 5 && d.value.every((s) => s instanceof PySet && s.items.length === 10_000));
  });

  it('the limit can be raised for a trusted file', async () => {
    setLimits({ maxObjects: 10_000_000 });
    const d = await decodePickleSource(sourceFromBytes('dicts.pkl', listOf(op.emptyDict(), 400_000)), null);
    assert.equal((d.value as unknown[]).length, 400_000);
  });

  it('the pickle stack cap (maxStackItems) is enforced', async () => {
    setLimits({ maxStackItems: 1000 });
    const raw = pickle(op.proto(2), repeat(op.mark(), 2000), op.stop());
    await rejectsWith(() => decodePickleSource(sourceFromBytes('marks.pkl', raw), null), 'MALFORMED', /stack holds more than 1000/);
  });
});

describe('tensor names of plain pickles (src/sklearn/tensors.ts)', () => {
  // Key paths share prefixes as V8 ropes: without limits().maxNameChars this became a RangeError
  // only when a name passed V8's string limit.
  it('a 600-level chain of dicts keyed by one shared 1 MiB string is an MlpackError', async () => {
    const parts: Buffer[] = [op.proto(2), op.str('k'.repeat(1 << 20)), op.put(0), op.pop(), op.emptyDict(), op.put(1)];
    for (let i = 1; i <= 600; i++) parts.push(op.get(i), op.get(0), op.emptyDict(), op.put(i + 1), op.setitem(), op.pop());
    parts.push(op.stop());
    await rejectsWith(() => inspect(sourceFromBytes('chain.pkl', Buffer.concat(parts))), 'MALFORMED', /key path is longer than/);
  });
});

describe('integers whose decimal form costs superlinear time', () => {
  it('INT/LONG text over 4300 digits is MALFORMED, as CPython 3.11+ refuses it', async () => {
    for (const opcode of ['I', 'L']) {
      const raw = pickle(Buffer.from(`${opcode}${'7'.repeat(2_000_000)}\n`, 'latin1'), op.stop());
      await noHang(() => rejectsWith(() => decodePickleSource(sourceFromBytes('long.pkl', raw), null), 'MALFORMED', /4300-digit limit/));
    }
    const ok = await decodePickleSource(sourceFromBytes('long.pkl', pickle(Buffer.from(`L${'7'.repeat(4300)}L\n`, 'latin1'), op.stop())), null);
    assert.equal(typeof ok.value, 'bigint');
  });

  it('a LONG4 over 1 MiB is MALFORMED', async () => {
    const n = (1 << 20) + 1;
    const head = Buffer.alloc(5);
    head[0] = 0x8b;
    head.writeInt32LE(n, 1);
    const raw = pickle(op.proto(2), head, Buffer.alloc(n, 1), op.stop());
    await rejectsWith(() => decodePickleSource(sourceFromBytes('long4.pkl', raw), null), 'MALFORMED', /LONG4 integer of 1048577 bytes/);
  });
});

describe('numpy arrays that cost nothing in the file', () => {
  /** `_reconstruct(ndarray, (0,), b'b')` + BUILD `(1, (n,), dtype(code), False, b'')`. */
  function emptyArray(code: string, n: bigint): Buffer {
    const le: number[] = [];
    for (let v = n; v > 0n || le.length === 0; v >>= 8n) le.push(Number(v & 0xffn));
    if (le[le.length - 1]! & 0x80) le.push(0);
    return pickle(
      op.proto(2),
      op.global('numpy.core.multiarray', '_reconstruct'),
      op.global('numpy', 'ndarray'),
      op.binint1(0),
      op.tuple1(),
      op.bytes(Buffer.from('b')),
      op.tuple3(),
      op.reduce(),
      op.mark(),
      op.binint1(1),
      op.long1(le),
      op.tuple1(),
      op.global('numpy', 'dtype'),
      op.str(code),
      op.newFalse(),
      op.newTrue(),
      op.tuple3(),
      op.reduce(),
      op.newFalse(),
      op.bytes(new Uint8Array(0)),
      op.tuple(),
      op.build(),
      op.stop(),
    );
  }

  it('a zero-width string array of 2**32-1 elements is MALFORMED (it would be 4 billion JS strings)', { timeout: 20_000 }, async () => {
    for (const code of ['S0', 'U0']) {
      await noHang(() => rejectsWith(() => inspect(sourceFromBytes('s0.pkl', emptyArray(code, 2n ** 32n - 1n))), 'MALFORMED', /zero-width/));
    }
  });

  it('small zero-width arrays still read', async () => {
    const d = await decodePickleSource(sourceFromBytes('s0.pkl', emptyArray('S0', 3n)), null);
    assert.deepEqual((d.value as { data: unknown }).data, ['', '', '']);
  });
});

describe('long batches that used to overflow the stack through spread calls', () => {
  it('ADDITEMS with 200,000 items in one batch decodes', async () => {
    const raw = pickle(op.proto(4), op.emptySet(), op.mark(), repeat(op.binint1(1), 200_000), op.additems(), op.stop());
    const d = await decodePickleSource(sourceFromBytes('set.pkl', raw), null);
    assert.ok(d.value instanceof PySet && d.value.items.length === 200_000);
  });

  it('an object receiving 200,000 APPENDS items decodes, inspects and scans', async () => {
    const raw = pickle(
      op.proto(2),
      op.global('collections', 'deque'),
      op.emptyTuple(),
      op.reduce(),
      op.mark(),
      repeat(op.binint1(1), 200_000),
      op.appends(),
      op.stop(),
    );
    const d = await decodePickleSource(sourceFromBytes('deque.pkl', raw), null);
    assert.ok(d.value instanceof PyObject && d.value.listItems?.length === 200_000);
    await inspect(sourceFromBytes('deque.pkl', raw));
    const dir = mkdtempSync(join(tmpdir(), 'mlpack-sec-'));
    try {
      writeFileSync(join(dir, 'deque.pkl'), raw);
      const r = await scanFile(join(dir, 'deque.pkl'));
      assert.equal(r.error, undefined, r.error?.message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
