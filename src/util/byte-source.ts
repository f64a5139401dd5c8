/**
 * Random access to the bytes of one file, wherever they are: a buffer in memory, or a file on disk
 * that a walk spilled a large entry to (read in ranges, never whole). Readers that need only a few
 * parts of a large file (an executable's headers and metadata sections) take a ByteSource, so the
 * same code condenses a file in memory and one too large to hold.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset`; throws RangeError outside [0, size). */
  read(offset: number, length: number): Buffer;
}

function checkRange(size: number, offset: number, length: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  )
    throw new RangeError(`bytes ${offset}+${length} lie outside the ${size}-byte source`);
}

/** A buffer as a ByteSource: reads are views, not copies. */
export function bufferSource(buf: Buffer): ByteSource {
  return {
    size: buf.length,
    read(offset, length) {
      checkRange(buf.length, offset, length);
      return buf.subarray(offset, offset + length);
    },
  };
}

/**
 * A file on disk as a ByteSource (synchronous positional reads): a path, opened here and released by
 * `close`, or a descriptor the caller opened (and closes). `start`: where the source's bytes begin in
 * the file (an entry stored inside an archive).
 */
export function fileSource(file: string | number, size: number, start = 0): ByteSource & { close(): void } {
  const owned = typeof file === 'string';
  const fd = owned ? openSync(file, 'r') : file;
  return {
    size,
    read(offset, length) {
      checkRange(size, offset, length);
      const out = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, start + offset + done);
        if (n === 0) throw new RangeError(`file ends at ${offset + done}, before ${offset + length}`);
        done += n;
      }
      return out;
    },
    close() {
      if (owned) closeSync(fd);
    },
  };
}
