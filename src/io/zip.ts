/**
 * A small, bounded zip reader over a file already in memory (PyTorch checkpoints, TorchScript
 * archives). It reads the central directory, stored and deflated members and zip64 records,
 * and never writes anything to disk.
 *
 * Spec: PKWARE APPNOTE.TXT 6.3.x (https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT) — 4.3.6 local file header, 4.3.12 central directory header,
 * 4.3.14–4.3.16 zip64 end of central directory record/locator and end of central directory,
 * 4.5.3 zip64 extended information extra field (0x0001).
 *
 * Every offset and size read from the archive is checked against the bytes present before it
 * is used; stored members are returned as views of the file buffer (no copy), deflated ones are
 * inflated with an output cap taken from the central directory and `limits()` (per member and for
 * the whole archive, so many small bombs cannot add up). Member names are
 * confined: no absolute paths, no `..` segments, no backslashes or NULs, no duplicates.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { malformed, unsupported } from '../errors.js';
import { decodeLatin1 } from './byte-reader.js';
import { limits } from './limits.js';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
/** 4.3.16: the fixed part of the end of central directory record. */
const EOCD_SIZE = 22;
/** The EOCD comment length is a u16, so the record sits within the last 22 + 65535 bytes. */
const EOCD_SEARCH = EOCD_SIZE + 0xffff;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
/** Past this size a member whose inflated/deflated ratio exceeds the cap is treated as a bomb. */
const RATIO_FLOOR = 64 * 1024 * 1024;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated (others are refused when read). */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  /** Uncompressed size from the central directory (zip64 value when present). */
  size: number;
  localHeaderOffset: number;
  /** File offset of the member's first data byte (after its local header). */
  dataOffset: number;
  isDirectory: boolean;
}

export interface ZipReadOptions {
  /** Check the member's CRC-32 (always done for deflated members). */
  verifyCrc?: boolean;
}

export class ZipArchive {
  readonly file: string;
  readonly bytes: Uint8Array;
  /** Members in central-directory order. */
  readonly entries: readonly ZipEntry[];
  /** File offset where the central directory starts. */
  readonly centralDirectoryOffset: number;
  readonly zip64: boolean;
  private readonly byName: Map<string, ZipEntry>;
  /** Bytes inflated so far from this archive (bounded by `limits().maxDecompressedBytes`). */
  private inflated = 0;

  constructor(file: string, bytes: Uint8Array, entries: ZipEntry[], centralDirectoryOffset: number, zip64: boolean) {
    this.file = file;
    this.bytes = bytes;
    this.entries = entries;
    this.centralDirectoryOffset = centralDirectoryOffset;
    this.zip64 = zip64;
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  get(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The member's bytes: a view of the file for stored members, an inflated copy otherwise. */
  read(member: string | ZipEntry, options: ZipReadOptions = {}): Uint8Array {
    const entry = typeof member === 'string' ? this.byName.get(member) : member;
    if (!entry) throw malformed(`${this.file} has no zip member ${JSON.stringify(member)}`, { file: this.file });
    const raw = this.bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
    let out: Uint8Array;
    if (entry.method === METHOD_STORED) {
      if (entry.compressedSize !== entry.size) {
        throw malformed(
          `${this.file}: stored zip member ${entry.name} declares ${entry.size} bytes but holds ${entry.compressedSize}`,
          { file: this.file, offset: entry.localHeaderOffset },
        );
      }
      out = raw;
    } else if (entry.method === METHOD_DEFLATED) {
      out = this.inflate(entry, raw);
    } else {
      throw unsupported(`${this.file}: zip member ${entry.name} uses compression method ${entry.method}; only stored and deflated members are read`, {
        file: this.file,
        offset: entry.localHeaderOffset,
      });
    }
    if (options.verifyCrc || entry.method !== METHOD_STORED) {
      const actual = crc32(out) >>> 0;
      if (actual !== entry.crc32) {
        throw malformed(
          `${this.file}: zip member ${entry.name} fails its CRC-32 check (stored ${hex(entry.crc32)}, computed ${hex(actual)})`,
          { file: this.file, offset: entry.localHeaderOffset },
        );
      }
    }
    return out;
  }

  private inflate(entry: ZipEntry, raw: Uint8Array): Uint8Array {
    const cap = limits().maxDecompressedBytes;
    if (entry.size > cap - this.inflated) {
      throw malformed(`${this.file}: zip member ${entry.name} declares ${entry.size} inflated bytes, above the ${cap}-byte limit${this.inflated ? ` (${this.inflated} already inflated from this archive)` : ''}`, {
        file: this.file,
        offset: entry.localHeaderOffset,
        suggestion: 'raise the limit with --max-decompressed if the file is trusted',
      });
    }
    if (entry.size > RATIO_FLOOR && entry.size / Math.max(1, entry.compressedSize) > limits().maxCompressionRatio) {
      throw malformed(`${this.file}: zip member ${entry.name} inflates ${entry.compressedSize} bytes to ${entry.size}, a ratio beyond ${limits().maxCompressionRatio}`, {
        file: this.file,
        offset: entry.localHeaderOffset,
      });
    }
    // Members may overlap (their data spans are not checked for it), so one compressed run can be
    // inflated once per member naming it: the ratio also holds for the archive as a whole.
    const total = this.inflated + entry.size;
    if (total > RATIO_FLOOR && total / Math.max(1, this.bytes.length) > limits().maxCompressionRatio) {
      throw malformed(`${this.file}: zip members inflate to ${total} bytes from a ${this.bytes.length}-byte archive, a ratio beyond ${limits().maxCompressionRatio}`, {
        file: this.file,
        offset: entry.localHeaderOffset,
        suggestion: 'this looks like a decompression bomb; if the file is trusted, pass --max-decompressed <bytes>',
      });
    }
    let out: Buffer;
    try {
      // One byte of headroom so a stream longer than declared is caught rather than cut.
      out = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size + 1) });
    } catch (err) {
      throw malformed(`${this.file}: zip member ${entry.name} does not inflate: ${(err as Error).message}`, {
        file: this.file,
        offset: entry.dataOffset,
        cause: err,
      });
    }
    if (out.length !== entry.size) {
      throw malformed(`${this.file}: zip member ${entry.name} inflates to ${out.length} bytes, not the ${entry.size} its header declares`, {
        file: this.file,
        offset: entry.dataOffset,
      });
    }
    this.inflated += out.length;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Local file header signature at offset 0. */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Parse the central directory of a zip archive held in `bytes`. */
export function openZip(bytes: Uint8Array, file: string): ZipArchive {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (message: string, offset?: number) => malformed(`${file}: ${message}`, { file, offset });
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number, what: string): number => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`${what} at offset ${at} is ${v}, beyond any real file size`, at);
    return Number(v);
  };

  // 4.3.16 end of central directory record: search backwards, the comment must fit in the file.
  let eocd = -1;
  const stop = Math.max(0, bytes.length - EOCD_SEARCH);
  for (let at = bytes.length - EOCD_SIZE; at >= stop; at--) {
    if (bytes[at] === 0x50 && bytes[at + 1] === 0x4b && bytes[at + 2] === 0x05 && bytes[at + 3] === 0x06) {
      if (at + EOCD_SIZE + u16(at + 20) <= bytes.length) {
        eocd = at;
        break;
      }
    }
  }
  if (eocd < 0) throw fail('zip archive has no end-of-central-directory record (the file is truncated or not a zip)', bytes.length);
  if (u32(eocd) !== SIG_EOCD) throw fail('bad end-of-central-directory signature', eocd);
  const diskNumber = u16(eocd + 4);
  const cdDisk = u16(eocd + 6);
  let total = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  let zip64 = false;
  let cdLimit = eocd;

  // 4.3.15 zip64 locator sits right before the EOCD; it is authoritative when present.
  if (eocd >= 20 && u32(eocd - 20) === SIG_EOCD64_LOCATOR) {
    const recordAt = u64(eocd - 20 + 8, 'zip64 end-of-central-directory offset');
    if (u32(eocd - 20 + 16) > 1) throw unsupported(`${file}: multi-disk zip archives are not supported`, { file, offset: eocd - 20 });
    if (recordAt + 56 > eocd - 20) throw fail(`zip64 end-of-central-directory record offset ${recordAt} lies outside the archive`, eocd - 20);
    if (u32(recordAt) !== SIG_EOCD64) throw fail(`no zip64 end-of-central-directory record at offset ${recordAt}`, recordAt);
    if (u32(recordAt + 16) !== 0 || u32(recordAt + 20) !== 0) {
      throw unsupported(`${file}: multi-disk zip archives are not supported`, { file, offset: recordAt });
    }
    total = u64(recordAt + 32, 'zip64 entry count');
    cdSize = u64(recordAt + 40, 'zip64 central directory size');
    cdOffset = u64(recordAt + 48, 'zip64 central directory offset');
    zip64 = true;
    cdLimit = recordAt;
  } else if (diskNumber !== 0 || cdDisk !== 0) {
    throw unsupported(`${file}: multi-disk zip archives are not supported`, { file, offset: eocd });
  }
  if (cdOffset + cdSize > cdLimit) {
    throw fail(`central directory (offset ${cdOffset}, ${cdSize} bytes) runs past the end-of-central-directory record at ${cdLimit}`, eocd);
  }
  if (total * CENTRAL_SIZE > cdSize) throw fail(`central directory of ${cdSize} bytes cannot hold the ${total} entries it declares`, eocd);

  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  let at = cdOffset;
  const cdEnd = cdOffset + cdSize;
  for (let i = 0; i < total; i++) {
    if (at + CENTRAL_SIZE > cdEnd) throw fail(`central directory entry ${i} at offset ${at} is truncated`, at);
    if (u32(at) !== SIG_CENTRAL) throw fail(`central directory entry ${i} at offset ${at} has a bad signature`, at);
    const flags = u16(at + 8);
    const method = u16(at + 10);
    const crc = u32(at + 16);
    let compressedSize = u32(at + 20);
    let size = u32(at + 24);
    const nameLen = u16(at + 28);
    const extraLen = u16(at + 30);
    const commentLen = u16(at + 32);
    let diskStart = u16(at + 34);
    let localHeaderOffset = u32(at + 42);
    const next = at + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > cdEnd) throw fail(`central directory entry ${i} at offset ${at} runs past the central directory`, at);
    const nameBytes = bytes.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLen);
    // 4.4.4 bit 11: the name is UTF-8; otherwise CP437, read here as latin-1 (torch writes ASCII).
    const name = flags & 0x800 ? Buffer.from(nameBytes).toString('utf8') : decodeLatin1(nameBytes);
    // 4.5.3 zip64 extended information: only the fields whose 32-bit value is saturated, in order.
    let extra = at + CENTRAL_SIZE + nameLen;
    const extraEnd = extra + extraLen;
    while (extra + 4 <= extraEnd) {
      const id = u16(extra);
      const len = u16(extra + 2);
      if (extra + 4 + len > extraEnd) throw fail(`extra field of zip member ${JSON.stringify(name)} is truncated`, extra);
      if (id === 0x0001) {
        let p = extra + 4;
        const end = p + len;
        const take = (what: string): number => {
          if (p + 8 > end) throw fail(`zip64 extra field of member ${JSON.stringify(name)} lacks its ${what}`, extra);
          const v = u64(p, `zip64 ${what}`);
          p += 8;
          return v;
        };
        if (size === 0xffffffff) size = take('uncompressed size');
        if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
        if (diskStart === 0xffff) {
          if (p + 4 > end) throw fail(`zip64 extra field of member ${JSON.stringify(name)} lacks its disk number`, extra);
          diskStart = u32(p);
        }
      }
      extra += 4 + len;
    }
    if (diskStart !== 0) throw unsupported(`${file}: zip member ${JSON.stringify(name)} starts on disk ${diskStart}; multi-disk archives are not supported`, { file, offset: at });
    checkName(name, file, at);
    if (seen.has(name)) throw fail(`zip member ${JSON.stringify(name)} appears twice in the central directory`, at);
    seen.add(name);
    if (flags & 0x1) throw unsupported(`${file}: zip member ${JSON.stringify(name)} is encrypted`, { file, offset: at });

    // 4.3.7 local file header: its own name/extra lengths decide where the data starts.
    if (localHeaderOffset + LOCAL_SIZE > cdOffset) {
      throw fail(`zip member ${JSON.stringify(name)} has its local header at offset ${localHeaderOffset}, past the member area (which ends at ${cdOffset})`, at);
    }
    if (u32(localHeaderOffset) !== SIG_LOCAL) throw fail(`zip member ${JSON.stringify(name)} has no local header at offset ${localHeaderOffset}`, localHeaderOffset);
    const localNameLen = u16(localHeaderOffset + 26);
    const localExtraLen = u16(localHeaderOffset + 28);
    const dataOffset = localHeaderOffset + LOCAL_SIZE + localNameLen + localExtraLen;
    if (dataOffset > cdOffset) throw fail(`local header of zip member ${JSON.stringify(name)} at offset ${localHeaderOffset} runs into the central directory`, localHeaderOffset);
    const localName = bytes.subarray(localHeaderOffset + LOCAL_SIZE, localHeaderOffset + LOCAL_SIZE + localNameLen);
    if (Buffer.compare(localName, nameBytes) !== 0) {
      throw fail(`zip member ${JSON.stringify(name)} is named ${JSON.stringify(decodeLatin1(localName))} in its local header`, localHeaderOffset);
    }
    if (dataOffset + compressedSize > cdOffset) {
      throw fail(`zip member ${JSON.stringify(name)} declares ${compressedSize} bytes at offset ${dataOffset}, past the member area (which ends at ${cdOffset})`, localHeaderOffset);
    }
    entries.push({
      name,
      method,
      flags,
      crc32: crc,
      compressedSize,
      size,
      localHeaderOffset,
      dataOffset,
      isDirectory: name.endsWith('/'),
    });
    at = next;
  }
  return new ZipArchive(file, bytes, entries, cdOffset, zip64);
}

/** Names stay inside the archive: relative, forward slashes, no `..`, no NUL or drive letters. */
function checkName(name: string, file: string, offset: number): void {
  const bad =
    name.length === 0 ? 'is empty'
    : name.includes('\0') ? 'contains a NUL byte'
    : name.includes('\\') ? 'contains a backslash'
    : name.startsWith('/') ? 'is an absolute path'
    : /^[A-Za-z]:/.test(name) ? 'starts with a drive letter'
    : name.split('/').some((s) => s === '..') ? 'climbs out of the archive with ".."'
    : null;
  if (bad) throw malformed(`${file}: zip member name ${JSON.stringify(name)} ${bad}`, { file, offset });
}
