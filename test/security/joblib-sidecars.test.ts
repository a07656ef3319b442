/**
 * joblib < 0.10 sidecar files (`<model>_01.npy`, 'ZF' zfiles) are opened by name from the
 * model's folder: that name and that folder are attacker-controlled. A sidecar must be a regular
 * file inside the folder (no symlink out, no FIFO that blocks forever), and a sidecar named by
 * many wrappers is read once.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from '../../src/api/inspect.js';
import { scanFile } from '../../src/api/scan.js';
import { decodePickleSource } from '../../src/formats/pickle/read.js';
import { readSource } from '../../src/io/source.js';
import { NdArray } from '../../src/ir/object-graph.js';
import { op, rejectsWith, noHang } from './helpers.js';

/** A pickle holding a list of `NDArrayWrapper(filename=...)` objects, as joblib 0.9 wrote it. */
function wrappers(names: string[]): Buffer {
  const parts: Buffer[] = [op.proto(3), op.emptyList(), op.mark()];
  for (const name of names) {
    parts.push(
      op.global('joblib.numpy_pickle', 'NDArrayWrapper'),
      op.emptyTuple(),
      op.newobj(),
      op.emptyDict(),
      op.mark(),
      op.str('filename'),
      op.str(name),
      op.str('allow_mmap'),
      op.newTrue(),
      op.str('subclass'),
      op.global('numpy', 'ndarray'),
      op.setitems(),
      op.build(),
    );
  }
  parts.push(op.appends(), op.stop());
  return Buffer.concat(parts);
}

/** A version 1.0 .npy file of float64 zeros. */
function npy(n: number): Buffer {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${n},), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.alloc(8 * n)]);
}

let root: string;
let model: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'mlpack-sidecar-'));
  model = join(root, 'model');
  mkdirSync(model);
  writeFileSync(join(root, 'outside.npy'), npy(4));
  writeFileSync(join(model, 'ok.npy'), npy(4));
  writeFileSync(join(model, 'big.npy'), npy(1 << 19)); // 4 MiB
  symlinkSync(join(root, 'outside.npy'), join(model, 'escape.npy'));
  symlinkSync('ok.npy', join(model, 'inside-link.npy'));
  execFileSync('mkfifo', [join(model, 'fifo.npy')]);
});

after(() => rmSync(root, { recursive: true, force: true }));

function write(name: string, bytes: Buffer): string {
  const path = join(model, name);
  writeFileSync(path, bytes);
  return path;
}

describe('legacy joblib sidecars', () => {
  it('a plain sidecar and a symlink that stays in the folder read', async () => {
    const d = await decodePickleSource(await readSource(write('ok.pkl', wrappers(['ok.npy', 'inside-link.npy']))), null);
    const arrays = d.value as NdArray[];
    assert.ok(arrays.every((a) => a instanceof NdArray && a.shape[0] === 4));
  });

  it('a symlink leaving the model folder is MALFORMED', async () => {
    const path = write('escape.pkl', wrappers(['escape.npy']));
    await rejectsWith(async () => decodePickleSource(await readSource(path), null), 'MALFORMED', /outside the model folder/);
    const r = await scanFile(path);
    assert.equal(r.verdict, 'unsafe');
    assert.ok(r.findings.some((f) => f.severity === 'error' && /outside the model folder/.test(f.message ?? '')), JSON.stringify(r.findings));
  });

  it('a FIFO is MALFORMED at once instead of blocking the read forever', { timeout: 20_000 }, async () => {
    const path = write('fifo.pkl', wrappers(['fifo.npy']));
    await noHang(() => rejectsWith(async () => inspect(path), 'MALFORMED', /not a regular file/));
  });

  it('names that climb out, are empty or hold a NUL are MALFORMED', async () => {
    for (const name of ['../outside.npy', '', 'a\0b.npy', '/etc/passwd']) {
      const path = write('names.pkl', wrappers([name]));
      await rejectsWith(async () => decodePickleSource(await readSource(path), null), 'MALFORMED');
    }
  });

  it('one 4 MiB sidecar named by 3,000 wrappers is read once (not 12 GiB)', { timeout: 30_000 }, async () => {
    const path = write('many.pkl', wrappers(new Array<string>(3000).fill('big.npy')));
    const d = await noHang(async () => decodePickleSource(await readSource(path), null));
    const arrays = d.value as NdArray[];
    assert.equal(arrays.length, 3000);
    assert.ok(arrays.every((a) => a === arrays[0]));
  });
});
