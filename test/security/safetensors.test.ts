/**
 * safetensors headers are JSON the file chooses: values quoted in error messages may be nested a
 * hundred thousand levels deep or hold millions of items, and `__metadata__.format` may name an
 * Object.prototype property.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from '../../src/api/inspect.js';
import { readSafetensors } from '../../src/formats/safetensors/read.js';
import { sourceFromBytes } from '../../src/io/source.js';
import { rejectsWith, noHang } from './helpers.js';

function file(headerJson: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const header = Buffer.from(headerJson, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, data]);
}

describe('safetensors header values quoted in errors', () => {
  it('a shape nested 100,000 levels deep is MALFORMED (JSON.stringify of it overflowed the stack)', { timeout: 20_000 }, async () => {
    const shape = '['.repeat(100_000) + ']'.repeat(100_000);
    const bytes = file(`{"t":{"dtype":"F32","shape":${shape},"data_offsets":[0,0]}}`);
    await noHang(() => rejectsWith(() => readSafetensors(bytes, 'deep.safetensors'), 'MALFORMED', /has shape \[/));
  });

  it('data_offsets of 5 million items give a short message', async () => {
    const offsets = `[${new Array(5_000_000).fill('0').join(',')}]`;
    const bytes = file(`{"t":{"dtype":"F32","shape":[0],"data_offsets":${offsets}}}`);
    await rejectsWith(() => inspect(sourceFromBytes('long.safetensors', bytes)), 'MALFORMED', /data_offsets \[0, 0, /);
  });
});

describe('__metadata__ keys that name Object.prototype properties', () => {
  it('format "constructor" is reported as written, not as Object', async () => {
    for (const format of ['constructor', 'toString', '__proto__']) {
      const bytes = file(JSON.stringify({ __metadata__: { format }, t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }), new Uint8Array(4));
      const r = await inspect(sourceFromBytes('meta.safetensors', bytes));
      const doc = JSON.parse(JSON.stringify(r)) as typeof r;
      assert.equal(doc.producer?.library, format);
      assert.equal(doc.producer?.version, null);
    }
  });
});
