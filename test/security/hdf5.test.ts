/**
 * Keras HDF5 files that reach outside themselves (HDF5 external links and external raw storage
 * follow any path on the real file system), that nest their JSON config deeper than any
 * serialiser can follow, and the pure-JS parts of the reader fed hostile sizes: weight-name
 * lists whose naming was quadratic and marshalled lambdas with long strings.
 * Fixtures: fixtures/hostile/extra/hdf5 (fixtures/generate/gen_hostile_hdf5.py).
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { inspect } from '../../src/api/inspect.js';
import { kerasTensorNames } from '../../src/formats/hdf5/keras-read.js';
import { readKerasModel, readKerasWeights } from '../../src/formats/hdf5/keras.js';
import { decodeCodeObject } from '../../src/formats/hdf5/marshal.js';
import { readSource } from '../../src/io/source.js';
import { fixture } from '../paths.js';
import { rejectsWith, noHang } from './helpers.js';

const dir = (name: string) => fixture('hostile', 'extra', 'hdf5', name);
/** Where gen_hostile_hdf5.py points the link and the external storage. */
const LINK_TARGET = '/tmp/mlpack-hostile-elink-target.h5';
const EFL_TARGET = '/tmp/mlpack-hostile-efl-target.bin';

describe('HDF5 files that name other files', () => {
  before(async () => {
    // Real targets, so a reader that follows them would succeed (and leak their bytes).
    writeFileSync(EFL_TARGET, Buffer.from(Float32Array.of(1, 2, 3, 4).buffer));
    const { copyFileSync } = await import('node:fs');
    copyFileSync(dir('elink_target.h5'), LINK_TARGET);
  });
  after(() => {
    rmSync(EFL_TARGET, { force: true });
    rmSync(LINK_TARGET, { force: true });
  });

  it('a weight that is an external link to an absolute path is UNSUPPORTED', { timeout: 60_000 }, async () => {
    const source = await readSource(dir('external_link.h5'));
    await rejectsWith(() => readKerasWeights(source), 'UNSUPPORTED', /refers to another file \("\/tmp\/mlpack-hostile-elink-target\.h5"\)/);
    await rejectsWith(() => inspect(source), 'UNSUPPORTED', /external link/);
  });

  it('a weight stored in an external raw-data file is UNSUPPORTED, never read', { timeout: 60_000 }, async () => {
    const source = await readSource(dir('external_storage.h5'));
    await rejectsWith(() => readKerasWeights(source), 'UNSUPPORTED', /refers to another file \("\/tmp\/mlpack-hostile-efl-target\.bin"\)/);
    // Describing it reads no data: the layout is listed, the values never are.
    const model = await readKerasModel(source);
    assert.deepEqual(model.weights.map((w) => w.name), ['dense/kernel', 'dense/bias']);
  });

  it('the worker still reads ordinary files afterwards', { timeout: 60_000 }, async () => {
    const { tensors } = await readKerasWeights(await readSource(fixture('keras', 'mlp.h5')));
    assert.ok(tensors.length > 0);
  });
});

describe('Keras JSON nested too deep', () => {
  it('a model_config nested 5,000 levels deep is MALFORMED (it overflowed JSON.stringify and structured clone)', { timeout: 60_000 }, async () => {
    await rejectsWith(async () => inspect(await readSource(dir('deep_config.h5'))), 'MALFORMED', /nests JSON deeper than 256 levels/);
  });
});

describe('pure-JS parts of the Keras reader', () => {
  it('naming 100,000 distinct weights of one layer is linear', () => {
    const names = Array.from({ length: 100_000 }, (_, i) => `layer/scope${i}/kernel:0`);
    const out = noHang(() => kerasTensorNames('layer', names));
    return out.then((n) => {
      assert.equal(n.length, 100_000);
      assert.equal(n[0], 'layer/scope0/kernel');
    });
  });

  it('naming keeps the shortest unique tail', () => {
    assert.deepEqual(kerasTensorNames('lstm_1', ['lstm_1/lstm_1_2/kernel:0', 'lstm_1/lstm_1_2/bias:0']), ['lstm_1/kernel', 'lstm_1/bias']);
    assert.deepEqual(kerasTensorNames('bi', ['bi/forward/kernel:0', 'bi/backward/kernel:0']), ['bi/forward/kernel', 'bi/backward/kernel']);
  });

  it('a marshalled lambda with a 300,000-character ASCII constant decodes', () => {
    // 3.8-3.10 layout: 6 int32s, co_code, consts ('a' string), names, varnames, freevars, cellvars, filename, name, firstlineno, lnotab
    const i32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(n);
      return b;
    };
    const ascii = (s: string) => Buffer.concat([Buffer.from('a'), i32(s.length), Buffer.from(s, 'latin1')]);
    const short = (s: string) => Buffer.concat([Buffer.from([0x7a, s.length]), Buffer.from(s, 'latin1')]);
    const bytes = Buffer.concat([
      Buffer.from('c'),
      i32(1), i32(0), i32(0), i32(1), i32(2), i32(67),
      Buffer.from('s'), i32(2), Buffer.from([0x64, 0x00]),
      Buffer.from(')\x01'), ascii('x'.repeat(300_000)),
      Buffer.from(')\x00'), Buffer.from(')\x00'), Buffer.from(')\x00'), Buffer.from(')\x00'),
      short('<stdin>'), short('<lambda>'), i32(1), Buffer.from('s'), i32(0),
    ]);
    const code = decodeCodeObject(bytes);
    assert.equal(code.name, '<lambda>');
    assert.equal((code.consts[0] as string).length, 300_000);
  });
});
