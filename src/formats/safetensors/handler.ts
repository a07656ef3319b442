/**
 * inspect for safetensors files (CLI.md: producer and model from the `__metadata__` block,
 * tensors as stored). safetensors holds no code, so there is nothing to scan.
 */
import type { ProducerInfo } from '../../api/types.js';
import type { FormatHandler, FormatInspection } from '../types.js';
import { readSafetensors } from './read.js';
import type { SafetensorsFile } from './read.js';

/** `__metadata__["format"]` values writers use → the library that wrote the tensors. */
const FORMAT_LIBRARIES: Record<string, string> = {
  pt: 'torch',
  torch: 'torch',
  tf: 'tensorflow',
  flax: 'flax',
  np: 'numpy',
  numpy: 'numpy',
  mlx: 'mlx',
  paddle: 'paddle',
};

function producerOf(f: SafetensorsFile): ProducerInfo | null {
  const m = f.metadata;
  if (!m) return null;
  const format = Object.hasOwn(m, 'format') ? m.format! : null;
  // Own keys only: a format named "constructor" must not find Object.prototype.constructor.
  const library = format === null ? null : Object.hasOwn(FORMAT_LIBRARIES, format) ? FORMAT_LIBRARIES[format]! : format;
  const own = (k: string): string | null => (Object.hasOwn(m, k) ? m[k]! : null);
  const version = own(`${library}_version`) ?? own('version');
  const producer: ProducerInfo = { library, version };
  if (format !== null) producer.format = format;
  if (Object.hasOwn(m, 'mlpack_version')) {
    producer.converter = 'mlpack';
    producer.converter_version = m.mlpack_version;
  }
  return producer;
}

export const handler: FormatHandler = {
  async inspect(source) {
    const f = readSafetensors(source.bytes, source.path);
    const bytes = f.tensors.reduce((s, t) => s + (t.end - t.begin), 0);
    const result: FormatInspection = {
      format: 'safetensors',
      container: {
        header_bytes: f.headerBytes,
        data_offset: f.dataOffset,
        data_bytes: bytes,
        aligned: f.dataOffset % 8 === 0,
        metadata: f.metadata,
      },
      producer: producerOf(f),
      model: {
        class: 'state_dict',
        kind: 'state_dict',
        keys: f.tensors.map((t) => t.name),
        n_params: f.tensors.reduce((s, t) => s + t.shape.reduce((a, d) => a * d, 1), 0),
        metadata: f.metadata,
      },
      tensors: f.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: t.end - t.begin })),
    };
    if (f.warnings.length) result.warnings = f.warnings;
    return result;
  },
};
