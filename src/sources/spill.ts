/**
 * Wanted files too large to read whole into memory (an image's 100 MiB Go program or native
 * module): the entry's content is written to a private temporary file as it arrives, the filter
 * condenses it from there (reading a few ranges), and only the condensed copy is kept. A file the
 * filter cannot condense is read back whole, as a walk always did, so nothing is lost but the memory.
 * Synchronous: the layer scan that feeds it hands over pieces of a reused buffer (layer-scan.ts).
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSource } from '../util/byte-source.ts';
import { type FileEntry, type FileFilter, keptBytes } from './types.ts';

/** Wanted files above this many bytes are condensed from disk rather than read into memory. */
export const SPILL_MIN_BYTES = 4 * 1024 * 1024;

/** One entry's content on its way to disk; `kept` or `discard` ends it and removes the file. */
export class SpilledFile {
  private readonly dir: string;
  private readonly path: string;
  private fd: number | undefined;
  private size = 0;

  constructor() {
    // A fresh private directory (0700) and an exclusive create (0600): nothing else can be there.
    this.dir = mkdtempSync(join(tmpdir(), 'waybill-spill-'));
    this.path = join(this.dir, 'content');
    try {
      this.fd = openSync(this.path, 'wx+', 0o600);
    } catch (e) {
      this.discard();
      throw e;
    }
  }

  write(piece: Buffer): void {
    let done = 0;
    while (done < piece.length) done += writeSync(this.fd as number, piece, done, piece.length - done);
    this.size += piece.length;
  }

  /** `keptBytes` of the whole content: condensed from the file, else the file read back whole. */
  kept(filter: FileFilter, entry: FileEntry): Buffer | undefined {
    try {
      return keptFromFile(filter, entry, this.fd as number, this.size);
    } finally {
      this.discard();
    }
  }

  /** Removes the file (after `kept`, or when the scan stops). */
  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * What a walk keeps of `size` bytes on disk at `start` in the open file `fd` (a spilled entry, or an
 * entry stored uncompressed inside an archive): `keptBytes` of its condensed copy, else of the whole
 * content read back.
 */
export function keptFromFile(
  filter: FileFilter,
  entry: FileEntry,
  fd: number,
  size: number,
  start = 0,
): Buffer | undefined {
  const condensed = condenseFromFile(filter, entry, fd, size, start);
  if (condensed) return !filter.keep || filter.keep(entry, condensed) ? condensed : undefined;
  const source = fileSource(fd, size, start);
  return keptBytes(filter, entry, size === 0 ? Buffer.alloc(0) : source.read(0, size), false);
}

/**
 * The filter's condensed copy of a file on disk (a path or an open descriptor; `start`: where its
 * bytes begin in that file), or undefined.
 */
export function condenseFromFile(
  filter: FileFilter,
  entry: FileEntry,
  file: string | number,
  size: number,
  start = 0,
): Buffer | undefined {
  if (!filter.condense) return undefined;
  const source = fileSource(file, size, start);
  try {
    return filter.condense(entry, source);
  } finally {
    source.close();
  }
}
