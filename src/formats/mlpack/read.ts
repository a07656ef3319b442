/**
 * Reading `.mlpack` envelopes (docs/FORMAT.md). `readEnvelopeMetadata` parses only the prelude
 * and header (the payload is not touched); `readEnvelope` checks the footer, verifies the
 * payload's sha256, decompresses once into one buffer and decodes the graph with typed-array
 * views over that buffer (or over the file itself when the payload is stored uncompressed).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { MlpackError, malformed, unsupported } from '../../errors.js';
import type { CodecName } from '../../io/codecs/index.js';
import { limits } from '../../io/limits.js';
import type { Source } from '../../io/source.js';
import type { PyValue } from '../../ir/object-graph.js';
import { checkDepth } from '../pickle/depth.js';
import type { GlobalRef } from '../pickle/unpickler.js';
import type { NumpyModule } from '../pickle/write.js';
import {
  ALIGNMENT,
  DIGEST_BYTES,
  ENVELOPE_CODECS,
  FOOTER_BYTES,
  FOOTER_MAGIC,
  FORMAT_MAJOR,
  MAX_HEADER_BYTES,
  MLPACK_MAGIC,
  PAYLOAD_KINDS,
  PRELUDE_BYTES,
  alignUp,
} from './format.js';
import type { PayloadKind } from './format.js';
import { BigIntBox, Float64Box, SurrogateStrBox, UNPACKR, decodeGraph } from './graph.js';
import type { EnvelopeMetadata } from './metadata.js';
import type { PayloadDescriptor } from './write.js';
import { preview } from '../preview.js';

export interface EnvelopeHeader {
  version: { major: number; minor: number };
  metadata: EnvelopeMetadata;
  payload: PayloadDescriptor;
  /** The decoded header map, unknown fields included. */
  header: Record<string, unknown>;
  /** Header bytes (the msgpack map). */
  headerBytes: number;
  /** File offset where the stored payload starts. */
  payloadOffset: number;
}

export interface ReadEnvelope extends EnvelopeHeader {
  payloadKind: PayloadKind;
  /** The object graph (payload kind 'object-graph'). */
  object?: PyValue;
  /** The ONNX model bytes (payload kind 'onnx'). */
  onnx?: Uint8Array;
  /** Globals the object graph imports when pickled, for `judgeGlobals`. */
  globals: GlobalRef[];
  numpyModule: NumpyModule;
  /** Stored (possibly compressed) payload bytes. */
  storedBytes: number;
  /** Hex sha256 of the stored payload, as verified. */
  sha256: string;
  checksumVerified: boolean;
}

export interface ReadEnvelopeOptions {
  /** Verify the payload checksum (default true). */
  verify?: boolean;
  onProgress?: (done: number, total: number) => void;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);

function field(file: string, what: string, offset = 0): MlpackError {
  return malformed(`${file}: envelope ${what}`, { file, offset });
}

/** Header nesting mlpack itself writes is 4 levels; user metadata is flat. */
const MAX_HEADER_DEPTH = 64;

/**
 * The decoded header as plain JSON data: inspect returns parts of it as they are, and the
 * library's results are `JSON.stringify`-able (STYLE.md 1), so 64-bit integers (bigints),
 * extension boxes, binary strings and timestamps become numbers and strings here, and absurd
 * nesting (which would overflow the stack of every later serialiser) is refused.
 */
function plainHeader(v: unknown, file: string, depth = 0): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Float64Box || v instanceof SurrogateStrBox) return v.value;
  if (v instanceof BigIntBox) return v.value.toString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (depth >= MAX_HEADER_DEPTH) throw field(file, `header nests deeper than ${MAX_HEADER_DEPTH} levels`, PRELUDE_BYTES);
  if (Array.isArray(v)) return v.map((x) => plainHeader(x, file, depth + 1));
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = plainHeader(x, file, depth + 1);
    return out;
  }
  return null;
}

function safeInt(v: unknown): number | null {
  const n = typeof v === 'bigint' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/**
 * Prelude, header and header digest only. Works on the first bytes of a file as well as on all
 * of it; never decompresses anything.
 */
export function readEnvelopeMetadata(bytes: Uint8Array, file = '<envelope>'): EnvelopeHeader {
  if (bytes.length < PRELUDE_BYTES) {
    throw malformed(`${file} is truncated: an envelope prelude needs ${PRELUDE_BYTES} bytes, the file has ${bytes.length}`, { file, offset: 0 });
  }
  for (let i = 0; i < MLPACK_MAGIC.length; i++) {
    if (bytes[i] !== MLPACK_MAGIC[i]) throw malformed(`${file} is not an mlpack envelope (bad magic at offset ${i})`, { file, offset: i });
  }
  const major = bytes[7]!;
  const minor = bytes[8]!;
  if (major > FORMAT_MAJOR) {
    throw unsupported(`${file} is an mlpack envelope of format version ${major}.${minor}, newer than this mlpack reads (${FORMAT_MAJOR}.x)`, {
      file,
      offset: 7,
      field: 'format_version',
      suggestion: 'upgrade mlpack to read it',
    });
  }
  if (major === 0) throw malformed(`${file}: envelope format version 0.${minor} does not exist`, { file, offset: 7, field: 'format_version' });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(12, true);
  if (headerLength > MAX_HEADER_BYTES) {
    throw malformed(`${file}: envelope header length ${headerLength} at offset 12 is over the ${MAX_HEADER_BYTES}-byte limit`, { file, offset: 12 });
  }
  const digestEnd = PRELUDE_BYTES + headerLength + DIGEST_BYTES;
  if (bytes.length < digestEnd) {
    throw malformed(`${file} is truncated: the envelope header needs ${digestEnd} bytes, the file has ${bytes.length}`, { file, offset: bytes.length });
  }
  const headerBytes = bytes.subarray(PRELUDE_BYTES, PRELUDE_BYTES + headerLength);
  const digest = createHash('sha256').update(bytes.subarray(0, PRELUDE_BYTES + headerLength)).digest();
  if (!timingSafeEqual(digest, bytes.subarray(PRELUDE_BYTES + headerLength, digestEnd))) {
    throw malformed(`${file}: envelope header sha256 checksum mismatch (the header is corrupt)`, {
      file,
      offset: PRELUDE_BYTES + headerLength,
      field: 'header_sha256',
    });
  }
  let header: unknown;
  try {
    header = UNPACKR.unpack(headerBytes);
  } catch (err) {
    throw malformed(`${file}: envelope header is not valid msgpack: ${(err as Error).message.slice(0, 120)}`, { file, offset: PRELUDE_BYTES, cause: err });
  }
  header = plainHeader(header, file);
  if (!isRecord(header)) throw field(file, 'header is not a map', PRELUDE_BYTES);
  const metadata = header['metadata'];
  const payload = header['payload'];
  if (!isRecord(metadata)) throw field(file, 'header has no metadata map', PRELUDE_BYTES);
  if (!isRecord(payload)) throw field(file, 'header has no payload map', PRELUDE_BYTES);
  if (typeof payload['kind'] !== 'string') throw field(file, 'payload has no kind', PRELUDE_BYTES);
  if (typeof payload['compression'] !== 'string') throw field(file, 'payload has no compression', PRELUDE_BYTES);
  if (typeof payload['checksum'] !== 'string') throw field(file, 'payload has no checksum name', PRELUDE_BYTES);
  if (safeInt(payload['bytes']) === null) throw field(file, 'payload has no valid byte count', PRELUDE_BYTES);
  return {
    version: { major, minor },
    metadata: metadata as EnvelopeMetadata,
    payload: payload as PayloadDescriptor,
    header,
    headerBytes: headerLength,
    payloadOffset: alignUp(digestEnd, ALIGNMENT),
  };
}

/** Read and verify a whole envelope. */
export async function readEnvelope(source: Source, options: ReadEnvelopeOptions = {}): Promise<ReadEnvelope> {
  const file = source.path;
  const bytes = source.bytes;
  const head = readEnvelopeMetadata(bytes, file);
  const p = head.payload;
  const kind = p.kind;
  if (!(PAYLOAD_KINDS as readonly string[]).includes(kind)) {
    throw unsupported(`${file} carries a ${preview(kind)} payload, which this mlpack cannot read (it reads ${PAYLOAD_KINDS.join(', ')})`, {
      file,
      field: 'payload.kind',
      suggestion: 'upgrade mlpack to read it',
    });
  }
  if (!(ENVELOPE_CODECS as readonly string[]).includes(p.compression)) {
    throw unsupported(`${file}: envelope payload is compressed with ${preview(p.compression)}, which this mlpack cannot read`, { file, field: 'payload.compression' });
  }
  if (p.checksum !== 'sha256') {
    throw unsupported(`${file}: envelope payload checksum ${preview(p.checksum)} is not one this mlpack can verify (sha256)`, { file, field: 'payload.checksum' });
  }
  const payloadBytes = safeInt(p.bytes)!;
  if (payloadBytes > limits().maxDecompressedBytes) {
    throw malformed(`${file}: envelope payload declares ${payloadBytes} bytes, over the ${limits().maxDecompressedBytes}-byte limit`, { file, field: 'payload.bytes' });
  }

  // Footer: stored length, uncompressed length, sha256, end magic.
  const start = head.payloadOffset;
  if (bytes.length < start + FOOTER_BYTES) {
    throw malformed(`${file} is truncated: the envelope ends at byte ${bytes.length}, before its payload and footer`, { file, offset: bytes.length });
  }
  const footerAt = bytes.length - FOOTER_BYTES;
  const footer = bytes.subarray(footerAt);
  for (let i = 0; i < FOOTER_MAGIC.length; i++) {
    if (footer[FOOTER_BYTES - FOOTER_MAGIC.length + i] !== FOOTER_MAGIC[i]) {
      throw malformed(`${file} is truncated or damaged: the envelope footer magic is missing at offset ${bytes.length - FOOTER_MAGIC.length}`, {
        file,
        offset: bytes.length - FOOTER_MAGIC.length,
      });
    }
  }
  const fview = new DataView(footer.buffer, footer.byteOffset, FOOTER_BYTES);
  const stored = Number(fview.getBigUint64(0, true));
  const declared = Number(fview.getBigUint64(8, true));
  if (stored !== footerAt - start) {
    throw malformed(`${file} is truncated or damaged: the footer says the payload is ${stored} bytes, the file holds ${footerAt - start}`, {
      file,
      offset: footerAt,
      field: 'footer.stored_bytes',
    });
  }
  if (declared !== payloadBytes) {
    throw malformed(`${file}: the footer's payload size ${declared} disagrees with the header's ${payloadBytes}`, { file, offset: footerAt + 8 });
  }
  const storedPayload = bytes.subarray(start, footerAt);
  const verify = options.verify ?? true;
  const digest = verify ? createHash('sha256').update(storedPayload).digest() : Buffer.from(footer.subarray(16, 48));
  if (verify && !timingSafeEqual(digest, footer.subarray(16, 48))) {
    throw malformed(`${file}: envelope payload sha256 checksum mismatch (expected ${Buffer.from(footer.subarray(16, 48)).toString('hex')}, got ${digest.toString('hex')})`, {
      file,
      offset: footerAt + 16,
      field: 'payload.sha256',
    });
  }
  options.onProgress?.(0.5, 1);

  let payload: Uint8Array;
  if (p.compression === 'none') {
    if (stored !== payloadBytes) throw malformed(`${file}: uncompressed envelope payload is ${stored} bytes, the header says ${payloadBytes}`, { file, offset: start });
    payload = storedPayload;
  } else {
    const { decompress } = await import('../../io/codecs/index.js');
    payload = await decompress(p.compression as CodecName, storedPayload, { file, baseOffset: start, maxBytes: payloadBytes });
    if (payload.length !== payloadBytes) {
      throw malformed(`${file}: envelope payload decompressed to ${payload.length} bytes, the header says ${payloadBytes}`, { file, offset: start });
    }
  }
  options.onProgress?.(0.8, 1);

  const numpyModule: NumpyModule = p.numpy_module === 'numpy._core' ? 'numpy._core' : 'numpy.core';
  const result: ReadEnvelope = {
    ...head,
    payloadKind: kind as PayloadKind,
    globals: [],
    numpyModule,
    storedBytes: stored,
    sha256: digest.toString('hex'),
    checksumVerified: verify,
  };
  if (kind === 'onnx') {
    result.onnx = payload;
    return result;
  }
  const graphBytes = safeInt(p.graph_bytes);
  const blobOffset = safeInt(p.blob_offset);
  const blobBytes = safeInt(p.blob_bytes);
  if (graphBytes === null || blobOffset === null || blobBytes === null || graphBytes > blobOffset || blobOffset + blobBytes !== payloadBytes) {
    throw malformed(`${file}: envelope graph layout (graph ${preview(p.graph_bytes)}, blob at ${preview(p.blob_offset)} of ${preview(p.blob_bytes)} bytes) does not fit the ${payloadBytes}-byte payload`, {
      file,
      field: 'payload.graph_bytes',
    });
  }
  const graph = decodeGraph(payload.subarray(0, graphBytes), payload.subarray(blobOffset, blobOffset + blobBytes), {
    file,
    payloadOffset: start,
    numpyModule,
  });
  try {
    // The same bound as for pickles, so every later walk over the graph can recurse safely.
    checkDepth(graph.root, start);
  } catch (err) {
    if (!(err instanceof MlpackError)) throw err;
    throw malformed(`${file}: envelope object graph is nested deeper than ${limits().maxDepth} levels`, { file, offset: start, cause: err });
  }
  result.object = graph.root;
  result.globals = graph.globals;
  options.onProgress?.(1, 1);
  return result;
}
