/**
 * Torch checkpoints built to hurt the reader through sharing: values shared through the memo
 * that `String()` would expand in an error message, key paths that grow with nesting times key
 * length, tuple keys that double per level, one nested torch.save blob handed to
 * `_load_from_bytes` thousands of times, and checkpoints whose classification was quadratic.
 * Plus a zip whose members overlap, so one deflate stream inflates once per member.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { inspect } from '../../src/api/inspect.js';
import { scanFile } from '../../src/api/scan.js';
import { readTorch } from '../../src/formats/torch/read.js';
import { torchToSafetensors } from '../../src/formats/torch/to-safetensors.js';
import { sourceFromBytes } from '../../src/io/source.js';
import { openZip } from '../../src/io/zip.js';
import { assertCleanStderr, runCli } from '../helpers.js';
import { buildZip, f32 } from '../torch/build.js';
import { LEGACY_MAGIC, laughs, op, pickle, rejectsWith, repeat, noHang } from './helpers.js';

/** `_rebuild_tensor_v2(storage <key> of 1 float, offset, size, stride, False, OrderedDict())`. */
function tensor(key: string, offset: Buffer = op.binint1(0), size: Buffer = pickle(op.binint1(1), op.tuple1()), stride: Buffer = pickle(op.binint1(1), op.tuple1())): Buffer {
  return pickle(
    op.global('torch._utils', '_rebuild_tensor_v2'),
    op.mark(),
    op.mark(),
    op.str('storage'),
    op.global('torch', 'FloatStorage'),
    op.str(key),
    op.str('cpu'),
    op.binint1(1),
    op.tuple(),
    op.binpersid(),
    offset,
    size,
    stride,
    op.newFalse(),
    op.global('collections', 'OrderedDict'),
    op.emptyTuple(),
    op.reduce(),
    op.tuple(),
    op.reduce(),
  );
}

/** A zip checkpoint: `archive/data.pkl` plus storage `0` (one float) and any extra members. */
function checkpoint(dataPkl: Buffer, extra: Array<{ name: string; data: Uint8Array }> = []): Uint8Array {
  return buildZip([
    { name: 'archive/data.pkl', data: dataPkl },
    { name: 'archive/data/0', data: f32([1]) },
    { name: 'archive/version', data: Buffer.from('3\n') },
    ...extra,
  ]);
}

const source = (bytes: Uint8Array, path = 'hostile.pt') => sourceFromBytes(path, bytes);

describe('values shared through the memo never reach String()', () => {
  // 300^4 = 8.1e9 list items if printed.
  it('a legacy protocol-version pickle that is a "billion laughs" list is UNSUPPORTED, quickly', { timeout: 20_000 }, async () => {
    const file = Buffer.concat([LEGACY_MAGIC, pickle(op.proto(2), laughs(4, 300), op.stop())]);
    await noHang(() => rejectsWith(() => readTorch(source(file)), 'UNSUPPORTED', /legacy torch serialization protocol \[/));
  });

  it('through the CLI: exit 4 and one clean error line on a 256 MiB heap', { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlpack-sec-'));
    try {
      const path = join(dir, 'laughs.pt');
      writeFileSync(path, Buffer.concat([LEGACY_MAGIC, pickle(op.proto(2), laughs(4, 300), op.stop())]));
      const r = runCli(['inspect', path], { env: { NODE_OPTIONS: '--max-old-space-size=256' } });
      assert.equal(r.status, 4, r.stderr);
      assert.equal(assertCleanStderr(r.stderr), null, r.stderr);
      assert.ok(r.stderr.length < 2000, `${r.stderr.length} characters on stderr`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a legacy magic pickle with a shared list after the magic is MALFORMED', { timeout: 20_000 }, async () => {
    const magicThenList = Buffer.concat([LEGACY_MAGIC.subarray(0, -1), op.pop(), laughs(4, 300, 10), op.stop()]);
    await noHang(() => rejectsWith(() => inspect(source(magicThenList)), 'MALFORMED', /legacy magic number \(found \[/));
  });

  it('a storage offset that is a shared list is MALFORMED naming the tensor', { timeout: 20_000 }, async () => {
    const data = pickle(op.proto(2), op.emptyDict(), op.str('w'), tensor('0', pickle(laughs(4, 300, 100))), op.setitem(), op.stop());
    await noHang(() => rejectsWith(() => inspect(source(checkpoint(data))), 'MALFORMED', /tensor w has storage offset \[/));
  });
});

describe('tensor names', () => {
  it('a 600-level chain of dicts keyed by one shared 1 MiB string is MALFORMED (not a 600 MiB name)', { timeout: 30_000 }, async () => {
    const parts: Buffer[] = [op.proto(2), op.str('k'.repeat(1 << 20)), op.put(0), op.pop(), op.emptyDict(), op.put(1)];
    for (let i = 1; i <= 600; i++) parts.push(op.get(i), op.get(0), op.emptyDict(), op.put(i + 1), op.setitem(), op.pop());
    parts.push(op.stop());
    await noHang(() => rejectsWith(() => inspect(source(checkpoint(Buffer.concat(parts)))), 'MALFORMED', /key path is longer than/));
  });

  it('a tuple key that doubles per level (2^60 parts) gets a bounded name', { timeout: 20_000 }, async () => {
    const parts: Buffer[] = [op.proto(2), op.emptyDict(), op.str('a'), op.tuple1(), op.put(0), op.pop()];
    for (let i = 0; i < 60; i++) parts.push(op.get(i), op.get(i), op.tuple2(), op.put(i + 1), op.pop());
    parts.push(op.get(60), tensor('0'), op.setitem(), op.stop());
    const r = await noHang(() => inspect(source(checkpoint(Buffer.concat(parts)))));
    assert.equal(r.tensors.length, 1);
    assert.ok(r.tensors[0]!.name.length < 2000 && r.tensors[0]!.name.endsWith('…)'), r.tensors[0]!.name.slice(0, 100));
  });

  it('a checkpoint with 200,000-item lists inspects and scans (no spread into push)', { timeout: 30_000 }, async () => {
    const big = pickle(op.emptyList(), op.mark(), repeat(op.binint1(3), 200_000), op.appends());
    const data = pickle(op.proto(2), op.emptyDict(), op.str('w'), tensor('0'), op.setitem(), op.str('vocab'), big, op.setitem(), op.stop());
    const bytes = checkpoint(data);
    const r = await inspect(source(bytes));
    assert.equal(r.model?.kind, 'checkpoint');
    const dir = mkdtempSync(join(tmpdir(), 'mlpack-sec-'));
    try {
      writeFileSync(join(dir, 'big.pt'), bytes);
      const s = await scanFile(join(dir, 'big.pt'));
      assert.equal(s.error, undefined, s.error?.message);
      assert.equal(s.verdict, 'safe');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('work that grew with the square of the input', () => {
  it('40,000 checkpoint entries each holding a shared tensor classify in linear time', { timeout: 60_000 }, async () => {
    const parts: Buffer[] = [op.proto(2), op.emptyDict(), tensor('0'), op.put(0), op.pop()];
    for (let i = 0; i < 40_000; i++) parts.push(op.str(`k${i}`), op.emptyList(), op.get(0), op.append(), op.setitem());
    parts.push(op.stop());
    const r = await noHang(() => inspect(source(checkpoint(Buffer.concat(parts)))));
    assert.equal(r.tensors.length, 40_000);
    assert.equal((r.model?.['state_dicts'] as string[]).length, 40_000);
  });

  it('40,000 TorchScript constants naming one tensor list in linear time', { timeout: 60_000 }, async () => {
    const constants = pickle(op.proto(2), tensor('0'), op.put(0), op.pop(), op.mark(), repeat(op.get(0), 40_000), op.tuple(), op.stop());
    const data = pickle(op.proto(2), op.emptyDict(), op.stop());
    const bytes = checkpoint(data, [
      { name: 'archive/constants.pkl', data: constants },
      { name: 'archive/constants/0', data: f32([2]) },
    ]);
    const r = await noHang(() => inspect(source(bytes)));
    assert.equal((r.model?.['constants'] as unknown[]).length, 40_000);
  });
});

describe('converting views out', () => {
  it('a one-float storage broadcast to 2**30 elements is refused before writing 4 GiB of safetensors', async () => {
    const data = pickle(op.proto(2), op.emptyDict(), op.str('w'), tensor('0', op.binint1(0), pickle(op.binint(2 ** 30), op.tuple1()), pickle(op.binint1(0), op.tuple1())), op.setitem(), op.stop());
    await rejectsWith(() => torchToSafetensors(source(checkpoint(data))), 'MALFORMED', /expand to 4294967\d+ bytes/);
  });

  it('a small broadcast still converts', async () => {
    const data = pickle(op.proto(2), op.emptyDict(), op.str('w'), tensor('0', op.binint1(0), pickle(op.binint(1000), op.tuple1()), pickle(op.binint1(0), op.tuple1())), op.setitem(), op.stop());
    const out = await torchToSafetensors(source(checkpoint(data)));
    assert.deepEqual(out.copied, ['w']);
  });
});

describe('nested torch.save files', () => {
  it('one blob handed to _load_from_bytes 3,000 times is scanned once', { timeout: 60_000 }, async () => {
    // The nested archive's data.pkl is 600k cheap opcodes and imports os.system.
    const inner = buildZip([
      { name: 'inner/data.pkl', data: pickle(op.proto(2), repeat(pickle(op.none(), op.pop()), 300_000), op.global('os', 'system'), op.pop(), op.none(), op.stop()) },
    ]);
    const call = pickle(op.get(0), op.get(1), op.tuple1(), op.reduce());
    const outer = pickle(
      op.proto(2),
      op.global('torch.storage', '_load_from_bytes'),
      op.put(0),
      op.pop(),
      op.bytes(inner),
      op.put(1),
      op.pop(),
      op.emptyList(),
      op.mark(),
      repeat(call, 3000),
      op.appends(),
      op.stop(),
    );
    const dir = mkdtempSync(join(tmpdir(), 'mlpack-sec-'));
    try {
      writeFileSync(join(dir, 'outer.pkl'), outer);
      const r = await noHang(() => scanFile(join(dir, 'outer.pkl')));
      assert.equal(r.verdict, 'unsafe');
      assert.ok(r.globals.includes('os.system'), r.globals.join(', '));
      assert.equal(r.findings.filter((f) => f.global === 'os.system').length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('zip members that overlap', () => {
  /**
   * APPNOTE allows nothing of the kind, but a reader that follows each central-directory entry
   * will do it: member i's data is a stored deflate block quoting member i+1's local header, then
   * member i+1's data, ..., then one deflate stream of zeros. Each member inflates the whole
   * kernel; n members inflate n times it from one copy (D. Fifield, "A better zip bomb", 2019).
   */
  function overlapping(n: number, kernelBytes: number): Uint8Array {
    const kernel = deflateRawSync(Buffer.alloc(kernelBytes), { level: 9 });
    const zeros = Buffer.alloc(kernelBytes);
    const headers: Buffer[] = new Array(n);
    const datas: Buffer[] = new Array(n);
    const sizes: number[] = new Array(n);
    const crcs: number[] = new Array(n);
    for (let j = n - 1; j >= 0; j--) {
      const name = Buffer.from(`archive/m${j}`);
      if (j === n - 1) {
        datas[j] = kernel;
        sizes[j] = kernelBytes;
        crcs[j] = crc32(zeros) >>> 0;
      } else {
        const next = headers[j + 1]!;
        const quote = Buffer.from([0x00, next.length & 0xff, next.length >> 8, ~next.length & 0xff, (~next.length >> 8) & 0xff]);
        datas[j] = Buffer.concat([quote, next, datas[j + 1]!]);
        sizes[j] = next.length + sizes[j + 1]!;
        let c = crc32(next);
        for (let k = j + 2; k < n; k++) c = crc32(headers[k]!, c);
        crcs[j] = crc32(zeros, c) >>> 0;
      }
      const h = Buffer.alloc(30);
      h.writeUInt32LE(0x04034b50, 0);
      h.writeUInt16LE(20, 4);
      h.writeUInt16LE(8, 8);
      h.writeUInt32LE(crcs[j]!, 14);
      h.writeUInt32LE(datas[j]!.length, 18);
      h.writeUInt32LE(sizes[j]!, 22);
      h.writeUInt16LE(name.length, 26);
      headers[j] = Buffer.concat([h, name]);
    }
    // File: header_0 quote_0 header_1 quote_1 ... header_{n-1} kernel; data_0 spans all of it.
    const body = Buffer.concat([headers[0]!, datas[0]!]);
    const central: Buffer[] = [];
    let offset = 0;
    for (let j = 0; j < n; j++) {
      const name = headers[j]!.subarray(30);
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(20, 4);
      c.writeUInt16LE(20, 6);
      c.writeUInt16LE(8, 10);
      c.writeUInt32LE(crcs[j]!, 16);
      c.writeUInt32LE(datas[j]!.length, 20);
      c.writeUInt32LE(sizes[j]!, 24);
      c.writeUInt16LE(name.length, 28);
      c.writeUInt32LE(offset, 42);
      central.push(c, name);
      offset += headers[j]!.length + 5; // the next local header follows this one's 5-byte quote
    }
    const cd = Buffer.concat(central);
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(n, 8);
    eocd.writeUInt16LE(n, 10);
    eocd.writeUInt32LE(cd.length, 12);
    eocd.writeUInt32LE(body.length, 16);
    return Buffer.concat([body, cd, eocd]);
  }

  it('the construction is a valid archive whose members each inflate the kernel', () => {
    const zip = openZip(overlapping(4, 1 << 16), 'small.zip');
    for (const e of zip.entries) assert.ok(zip.read(e).length >= 1 << 16);
  });

  it('24 members of 8 MiB from a ~9 KiB archive stop at the archive-wide ratio', { timeout: 30_000 }, async () => {
    const bytes = overlapping(24, 8 << 20);
    assert.ok(bytes.length < 12_000, `${bytes.length} bytes`);
    const zip = openZip(bytes, 'overlap.zip');
    await noHang(() =>
      rejectsWith(() => {
        for (const e of zip.entries) zip.read(e);
      }, 'MALFORMED', /a ratio beyond 2000/),
    );
  });
});
