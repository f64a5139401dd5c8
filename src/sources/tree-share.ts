/**
 * One thread's share of a `dir:` walk done by several (tree-walk.ts): it takes directories from the
 * shared stack (dir-queue.ts), lists each (one `lstat` per entry, as tree-list.ts does), gives its
 * subdirectories back to the stack, and shows every entry to the filter at once, reading the files
 * it wants (tree-read.ts). Listing and reading overlap across threads instead of one thread listing
 * the whole tree before any file is read.
 *
 * Each entry is the same FileEntry the listed walk (dir.ts) shows, and a wanted file is read by the
 * same code, so the files kept are the same; only their order differs, and the caller sorts them.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { fileTypeOf } from '../util/regular-file.ts';
import type { DirQueue } from './dir-queue.ts';
import { entryNames, isWaybillFile } from './tree-list.ts';
import { readBuffers, takeWanted } from './tree-read.ts';
import type { FileEntry, FileFilter, WalkResult } from './types.ts';

const NO_NAMES: ReadonlySet<string> = new Set();

export interface ShareOptions {
  maxFileSize: number;
  /** Called after each directory this thread lists (progress, abort checks); may throw to stop. */
  onDirectory?: () => void;
}

/**
 * Lists and reads until the walk is over or stopped (a helper thread: waiting for work blocks it).
 * Throws what listing or reading throws, after stopping the walk for every other thread.
 */
export function walkShare(
  root: string,
  queue: DirQueue,
  filter: FileFilter,
  options: ShareOptions,
): WalkResult {
  const share = shareOf(root, queue, filter, options);
  try {
    for (let dir = queue.take(); dir !== undefined; dir = queue.take()) share.listTaken(dir);
  } catch (e) {
    queue.stop();
    throw e;
  }
  return share.result;
}

/**
 * The same share for the main thread, whose waits for work yield to its event loop instead of
 * blocking it: a helper that dies holding a directory (out of memory, its thread ended) never
 * finishes it, and only its `exit` event, which must be able to run, stops the walk.
 */
export async function walkShareYielding(
  root: string,
  queue: DirQueue,
  filter: FileFilter,
  options: ShareOptions,
): Promise<WalkResult> {
  const share = shareOf(root, queue, filter, options);
  try {
    for (;;) {
      const dir = queue.take(false);
      if (dir !== undefined) share.listTaken(dir);
      else if (queue.stopped || queue.pending === 0) break;
      else await queue.settle();
    }
  } catch (e) {
    queue.stop();
    throw e;
  }
  return share.result;
}

/** One thread's part: `listTaken` lists a directory taken from the queue, then finishes it. */
function shareOf(
  root: string,
  queue: DirQueue,
  filter: FileFilter,
  options: ShareOptions,
): { listTaken(dir: string): void; result: WalkResult } {
  const result: WalkResult = { files: [], skipped: [] };
  const buffers = readBuffers();
  const onRead = (bytes: number) => queue.addRead(bytes);
  // Subdirectories the full stack could not take: listed by this thread before it finishes the
  // directory it took, so the walk cannot end while they wait.
  const own: string[] = [];
  const list = (dir: string) => {
    const absolute = dir === '' ? root : `${root}/${dir}`;
    const names = entryNames(absolute);
    // Only a sidecar (every suffix ends in .json) asks about its siblings (as tree-list.ts).
    const siblings = names.some((name) => name.endsWith('.json')) ? new Set(names) : NO_NAMES;
    let listed = 0;
    for (const name of names) {
      if (isWaybillFile(name, siblings)) continue;
      const path = dir === '' ? name : `${dir}/${name}`;
      const info = lstatSync(`${absolute}/${name}`);
      const node = fileTypeOf(info);
      const entry: FileEntry = {
        path,
        type: node === 'file' || node === 'dir' || node === 'symlink' ? node : 'other',
        size: node === 'file' ? info.size : 0,
        mode: info.mode & 0o7777,
      };
      if (node === 'symlink') {
        const target = readlinkSync(`${absolute}/${name}`, 'utf8');
        entry.linkTarget = target;
        entry.size = Buffer.byteLength(target);
      } else if (node === 'file') listed += info.size;
      else if (node === 'dir' && !queue.give(path)) own.push(path);
      let keep = filter.want(entry);
      // Only regular files are read or sniffed, never through a link: FIFOs and devices are listed.
      if (keep === 'sniff' && !(entry.type === 'file' && filter.sniff)) keep = false;
      if (keep) takeWanted(root, entry, keep, filter, options.maxFileSize, buffers, result, onRead);
    }
    queue.addListed(listed);
    options.onDirectory?.();
  };
  const listTaken = (dir: string) => {
    list(dir);
    for (let next = own.pop(); next !== undefined; next = own.pop()) {
      if (queue.stopped) break;
      list(next);
    }
    queue.finish();
  };
  return { listTaken, result };
}

/** JavaScript string order of paths, the order the listed walk shows entries in (tree-list.ts). */
export function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
