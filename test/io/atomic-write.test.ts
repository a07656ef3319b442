/** writeFileAtomic: failures of the user's making are usage errors naming the file; nothing is left behind. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeFileAtomic } from '../../src/io/atomic-write.js';
import { rejectsWith } from '../helpers.js';

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlpack-atomic-'));

  it('writes the chunks and leaves no temporary file', async () => {
    const out = join(dir, 'ok.bin');
    const n = await writeFileAtomic(out, [Buffer.from('ab'), Buffer.from('cd')]);
    assert.equal(n, 4);
    assert.equal(readFileSync(out, 'utf8'), 'abcd');
    assert.deepEqual(readdirSync(dir), ['ok.bin']);
  });

  it('an existing output without force is a usage error and is left as it was', async () => {
    const out = join(dir, 'ok.bin');
    await rejectsWith(() => writeFileAtomic(out, [Buffer.from('zz')]), 'USAGE', /already exists/);
    assert.equal(readFileSync(out, 'utf8'), 'abcd');
  });

  it('a folder path through a regular file is a usage error naming the output', async () => {
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    const out = join(file, 'model.onnx');
    const err = await rejectsWith(() => writeFileAtomic(out, [Buffer.from('zz')]), 'USAGE', /not a folder/);
    assert.equal(err.file, out);
  });

  it('a folder as the output, with force, is a usage error and the temporary file is removed', async () => {
    const sub = join(dir, 'sub');
    await writeFileAtomic(join(dir, 'keep'), [Buffer.from('k')]);
    mkdirSync(sub);
    await rejectsWith(() => writeFileAtomic(sub, [Buffer.from('zz')], { force: true }), 'USAGE', /cannot write .*sub/);
    assert.deepEqual(readdirSync(dir).sort(), ['keep', 'ok.bin', 'plain', 'sub']);
  });

  it('a failing source stream removes the temporary file and passes its error on', async () => {
    async function* failing(): AsyncIterable<Uint8Array> {
      yield Buffer.from('partial');
      throw new Error('source broke');
    }
    await assert.rejects(() => writeFileAtomic(join(dir, 'broken.bin'), failing()), /source broke/);
    assert.ok(!readdirSync(dir).some((n) => n.startsWith('.broken.bin') || n === 'broken.bin'));
  });
});
