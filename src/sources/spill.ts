/**
 * Wanted files too large to read whole into memory (an image's 100 MiB Go program or native
 * module): the entry's content is written to a private temporary file as it arrives, the filter
 * condenses it from there (reading a few ranges), and only the condensed copy is kept. A file the
 * filter cannot condense is read back whole, as a walk always did, so nothing is lost but the memory.
 * Synchronous: the layer scan that feeds it hands over pieces of a reused buffer (layer-scan.ts).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
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
      const condensed = condenseFromFile(filter, entry, this.fd as number, this.size);
      if (condensed) return !filter.keep || filter.keep(entry, condensed) ? condensed : undefined;
      return keptBytes(filter, entry, readFileSync(this.path), false);
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

/** The filter's condensed copy of a file on disk (a path or an open descriptor), or undefined. */
export function condenseFromFile(
  filter: FileFilter,
  entry: FileEntry,
  file: string | number,
  size: number,
): Buffer | undefined {
  if (!filter.condense) return undefined;
  const source = fileSource(file, size);
  try {
    return filter.condense(entry, source);
  } finally {
    source.close();
  }
}
