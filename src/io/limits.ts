/**
 * Every length read from a file is checked against one of these caps before anything is
 * allocated. Each cap says why it exists; `setLimits` lets the CLI raise the ones a user
 * may legitimately need to raise (`--max-decompressed`, ...).
 */

export interface Limits {
  /** Decompressed bytes of one joblib/zip/envelope stream: a zip bomb must not exhaust memory. */
  maxDecompressedBytes: number;
  /** Decompressed/compressed ratio above which a stream is treated as a bomb (only past 64 MiB). */
  maxCompressionRatio: number;
  /** Pickle memo entries: a memo bomb (PUT with huge indices, or millions of MEMOIZE) is refused. */
  maxMemoEntries: number;
  /** Nested containers/objects while decoding or walking: deep nesting must not blow the JS stack. */
  maxDepth: number;
  /** Items on the pickle stack + marks: bounded work per byte of input. */
  maxStackItems: number;
  /** Array dimensions: numpy itself caps ndim at 64. */
  maxNdim: number;
  /** Elements of one array: a shape like (2**40,) with no bytes behind it is refused early. */
  maxArrayElements: number;
  /** One string/bytes object read from a length prefix must fit in the bytes that remain. */
  maxStringBytes: number;
  /** Concatenated pickle streams in one file (scan walks all of them). */
  maxStreams: number;
  /**
   * Objects one decode may build (pickle, envelope graph), in units of ~100 bytes of heap (a dict
   * counts 3, items copied by reconstructors 1 each): a few KiB of compressed EMPTY_DICT opcodes,
   * or one big list re-read through memo GETs, must not exhaust memory. About 100 MB of heap;
   * the largest fixture model builds 550 objects.
   */
  maxObjects: number;
  /**
   * Characters in all the key-path names one reader makes (torch tensor names): deep nesting times
   * many references must not build names beyond what one JSON document can hold.
   */
  maxNameChars: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxDecompressedBytes: 4 * 1024 ** 3,
  maxCompressionRatio: 2000,
  maxMemoEntries: 10_000_000,
  maxDepth: 2_000,
  maxStackItems: 50_000_000,
  maxNdim: 64,
  maxArrayElements: 2 ** 32,
  maxStringBytes: 2 ** 31 - 1,
  maxStreams: 10_000,
  maxObjects: 1_000_000,
  maxNameChars: 64 * 1024 * 1024,
});

let current: Limits = { ...DEFAULT_LIMITS };

export function limits(): Readonly<Limits> {
  return current;
}

export function setLimits(patch: Partial<Limits>): void {
  current = { ...current, ...patch };
}

export function resetLimits(): void {
  current = { ...DEFAULT_LIMITS };
}
