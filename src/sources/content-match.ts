/**
 * Byte-pattern tests for `FileFilter.keep` predicates, which run on every wanted file of a walk (every
 * executable of an image, say), so they must cost little next to decompression.
 */

/**
 * V8 searches needles of up to 7 bytes with a linear scan (memchr on the first byte, then a compare),
 * and longer ones with Boyer-Moore-Horspool, which on machine code is 4-7× slower (fixture image,
 * 99 MiB of ELF files: ".note.package" 27 ms, ".note.p" 6.5 ms). So 7 bytes of the pattern are
 * searched and the whole compared at each hit. The linear scan is only fast when its first byte is
 * rare, hence `anchorAt`: "\xff Go buildinf:" is searched from "Go buil" (0xff is everywhere in
 * machine code: 33 ms against 6 ms).
 */
const FAST_NEEDLE_BYTES = 7;

/** Whether `pattern` occurs anywhere in `data`; `anchorAt` picks where the searched 7 bytes start. */
export function containsBytes(data: Buffer, pattern: Buffer, anchorAt = 0): boolean {
  if (pattern.length <= FAST_NEEDLE_BYTES) return data.includes(pattern);
  const from = Math.max(0, Math.min(anchorAt, pattern.length - FAST_NEEDLE_BYTES));
  const anchor = pattern.subarray(from, from + FAST_NEEDLE_BYTES);
  let hit = data.indexOf(anchor, from);
  while (hit !== -1) {
    const start = hit - from;
    if (start + pattern.length > data.length) return false;
    if (data.compare(pattern, 0, pattern.length, start, start + pattern.length) === 0) return true;
    hit = data.indexOf(anchor, hit + 1);
  }
  return false;
}

/** Whether any of `patterns` occurs in `data`. */
export function containsAnyBytes(data: Buffer, patterns: readonly Buffer[]): boolean {
  return patterns.some((p) => containsBytes(data, p));
}
