/**
 * Reading the files a filter wants from a `dir:` tree. Each candidate is opened once, as a regular
 * file only and never through a link (util/regular-file.ts); when the filter sniffs, its first bytes
 * decide whether anything more is read; then what the walk keeps of it: a file the filter condenses
 * is condensed from the few ranges it needs on disk (an executable's headers and metadata sections,
 * whatever its size), others are read whole into one reused buffer and copied out only when kept.
 * Synchronous calls, one after the other: tens of thousands of awaited opens and reads would cost
 * more in promises than the reads themselves.
 */
import { closeSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { openRegularFileSync } from '../util/regular-file.ts';
import { condenseFromFile, SPILL_MIN_BYTES } from './spill.ts';
import {
  type FileEntry,
  type FileFilter,
  keptBytes,
  SNIFF_BYTES,
  sizeLimit,
  tooLargeReason,
  type WalkResult,
} from './types.ts';

/**
 * Files from this size are condensed from disk when the filter condenses them. Below it the
 * executable condenser keeps a file whole anyway (formats/executable/condense.ts), so reading it
 * whole costs no more.
 */
const CONDENSE_FROM_DISK_BYTES = 256 * 1024;

/** What reading one wanted file gave: its kept bytes, or why it was skipped, or neither (dropped). */
export interface ReadOutcome {
  kept?: Buffer;
  skipped?: string;
}

/** Buffers one reader reuses from file to file. */
export interface ReadBuffers {
  head: Buffer;
  scratch: Buffer;
}

export function readBuffers(): ReadBuffers {
  return { head: Buffer.allocUnsafe(SNIFF_BYTES), scratch: Buffer.alloc(0) };
}

/**
 * Reads one wanted regular file of the tree at `root` (its path relative to it); `sniff`: the filter
 * answered 'sniff', and its `sniff` sees the first bytes before anything more is read. `onRead` gets
 * the size of a file read past its head.
 */
export function readWantedSync(
  root: string,
  entry: FileEntry,
  sniff: boolean,
  filter: FileFilter,
  maxFileSize: number,
  buffers: ReadBuffers,
  onRead?: (bytes: number) => void,
): ReadOutcome {
  // Wanted by name, but too large to hold (or larger than its readers read: a package database of
  // hundreds of MiB is hostile, FileFilter.maxSize): skipped unopened. A sniffed file is looked at first.
  const limit = sizeLimit(filter, entry, maxFileSize);
  const tooLarge = (bytes: number) => ({ skipped: tooLargeReason(bytes, limit, maxFileSize) });
  if (!sniff && entry.size > limit) return tooLarge(entry.size);
  const path = join(root, entry.path);
  const { fd, size } = openRegularFileSync(path, { noFollow: true, input: path });
  try {
    if (sniff) {
      const n = readFully(fd, buffers.head.subarray(0, Math.min(SNIFF_BYTES, size)), 0);
      if (!filter.sniff?.(entry, buffers.head.subarray(0, n))) return {};
      if (entry.size > limit) return tooLarge(entry.size);
    }
    // Grown since it was listed: what is read is what is there now.
    if (size > limit) return tooLarge(size);
    const kept = keptFromDisk(fd, size, path, entry, filter, buffers);
    onRead?.(size);
    return kept === undefined ? {} : { kept };
  } finally {
    closeSync(fd);
  }
}

/**
 * A walk's part once the filter wanted `entry` (`keep`: true, or 'sniff' for a regular file whose
 * head is still to be looked at): a link, directory or other node is kept with no bytes; a regular
 * file is read (`readWantedSync`) and kept, skipped with its reason, or dropped. Both `dir:` walks
 * (dir.ts, tree-share.ts) end every entry here, so they keep the same files.
 */
export function takeWanted(
  root: string,
  entry: FileEntry,
  keep: true | 'sniff',
  filter: FileFilter,
  maxFileSize: number,
  buffers: ReadBuffers,
  result: WalkResult,
  onRead?: (bytes: number) => void,
): void {
  if (entry.type !== 'file') {
    result.files.push({ entry, data: Buffer.alloc(0), earlier: [] });
    return;
  }
  const { kept, skipped } = readWantedSync(
    root,
    entry,
    keep === 'sniff',
    filter,
    maxFileSize,
    buffers,
    onRead,
  );
  if (skipped !== undefined) result.skipped.push({ path: entry.path, reason: skipped });
  if (kept !== undefined) result.files.push({ entry, data: kept, earlier: [] });
}

/** What the walk keeps of a wanted file: undefined when the filter drops it (`keptBytes`). */
function keptFromDisk(
  fd: number,
  size: number,
  path: string,
  entry: FileEntry,
  filter: FileFilter,
  buffers: ReadBuffers,
): Buffer | undefined {
  if (filter.condense && size >= CONDENSE_FROM_DISK_BYTES) {
    const condensed = condenseFromFile(filter, entry, fd, size);
    if (condensed) return !filter.keep || filter.keep(entry, condensed) ? condensed : undefined;
  }
  // Most files read whole are executables the filter then drops: one buffer serves them all.
  const reuse = size <= SPILL_MIN_BYTES;
  if (reuse && buffers.scratch.length < size)
    buffers.scratch = Buffer.allocUnsafe(Math.min(SPILL_MIN_BYTES, Math.max(size, 1024 * 1024)));
  const target = reuse ? buffers.scratch.subarray(0, size) : Buffer.allocUnsafe(size);
  if (readFully(fd, target, 0) !== size)
    throw new WaybillError('MALFORMED', path, 'changed size while being read');
  return keptBytes(filter, entry, target, reuse);
}

/** Fills `target` from `position`; fewer bytes only at the end of the file. */
function readFully(fd: number, target: Buffer, position: number): number {
  let done = 0;
  while (done < target.length) {
    const n = readSync(fd, target, done, target.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
