/**
 * Listing and hashing a `dir:` tree, synchronously, for a worker thread that does nothing else
 * (tree-worker.ts): one `lstat` per entry, every regular file opened once (regular files only, never
 * through a link: util/regular-file.ts) and read into one reused buffer. Synchronous calls on a
 * thread of their own cost a fraction of what the same calls cost as promises on the main thread
 * (a 22 000-entry tree: seconds of promise and GC work, and a main heap grown past 150 MiB).
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { escapeBytes } from '../archive/tar-reader.ts';
import { WaybillError } from '../errors.ts';
import { type FileType, fileTypeOf, openRegularFileSync } from '../util/regular-file.ts';
import { isTransientName } from '../util/temp-names.ts';
import type { FileEntry } from './types.ts';

export interface TreeEntry extends FileEntry {
  absolute: string;
  /** What the entry is on disk; a walk shows char, block, fifo and socket as `other`. */
  node: FileType;
  uid: number;
  gid: number;
  /** `major,minor` of a char or block device. */
  device?: string;
  /** Regular files, once hashed: lowercase hex SHA-256. */
  sha256?: string;
}

/** Bytes of each file's head kept for sniffing (SNIFF_BYTES of types.ts). */
export const HEAD_BYTES = 64;
const READ_BYTES = 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The sidecar suffixes of a file artifact (record/sidecar.ts, app/attachments.ts): all end in .json. */
const SIDECAR_SUFFIXES = ['.waybill.json', '.cdx.json', '.spdx.json'];
const NO_NAMES: ReadonlySet<string> = new Set();

/**
 * waybill's own files inside a tree, left out of its digest and walk, so that stamping something
 * inside a tree does not change the tree:
 * - transient files of a stamp in progress or interrupted: temp files and staging directories
 *   (`.NAME.waybill-PID-RANDOM.tmp`), locks (`.NAME.waybill.lock`, `.lock.break`) and journals
 *   (`.NAME.waybill-journal.json`);
 * - sidecars of a file next to them: `X.waybill.json`, `X.cdx.json`, `X.spdx.json` when `X` itself
 *   is in the same directory (the artifact X stays covered by the digest).
 */
export function isWaybillFile(name: string, siblings: ReadonlySet<string>): boolean {
  // Every such name starts with a dot (transient) or ends in .json (sidecar): asked of every entry
  // of a tree, most are answered by these two comparisons, without the patterns.
  if (name.charCodeAt(0) !== 0x2e && !name.endsWith('.json')) return false;
  if (isTransientName(name)) return true;
  return SIDECAR_SUFFIXES.some(
    (suffix) =>
      name.length > suffix.length && name.endsWith(suffix) && siblings.has(name.slice(0, -suffix.length)),
  );
}

/** Linux dev_t encoding (glibc gnu_dev_major / gnu_dev_minor), as `major,minor`. */
function deviceNumbers(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major},${minor}`;
}

/** What an entry is on disk, as a code: its index here. */
const NODE_TYPES: readonly FileType[] = ['file', 'dir', 'symlink', 'char', 'block', 'fifo', 'socket'];

/**
 * A listing, column by column: a 131 000-entry tree is a few MiB of typed arrays and path strings,
 * where an object per entry (copied between threads) cost hundreds of MiB. Entries are sorted by path;
 * entry i is `paths[i]` with `nodes[i]` (an index into NODE_TYPES), and so on.
 */
export interface PackedTree {
  root: string;
  paths: string[];
  nodes: Uint8Array;
  modes: Uint16Array;
  uids: Uint32Array;
  gids: Uint32Array;
  /** Files: bytes; symlinks: UTF-8 bytes of the target; others 0. */
  sizes: Float64Array;
  /** Symlink targets and `major,minor` of devices, by entry index. */
  extras: Map<number, string>;
}

export function nodeOf(tree: PackedTree, i: number): FileType {
  return NODE_TYPES[tree.nodes[i] as number] as FileType;
}

/** Entry i as an object (the walk and the tests use these; the listing itself keeps none). */
export function entryAt(tree: PackedTree, i: number): TreeEntry {
  const node = nodeOf(tree, i);
  const path = tree.paths[i] as string;
  const entry: TreeEntry = {
    path,
    type: node === 'file' || node === 'dir' || node === 'symlink' ? node : 'other',
    size: tree.sizes[i] as number,
    mode: tree.modes[i] as number,
    absolute: join(tree.root, path),
    node,
    uid: tree.uids[i] as number,
    gid: tree.gids[i] as number,
  };
  const extra = tree.extras.get(i);
  if (node === 'symlink') entry.linkTarget = extra ?? '';
  else if (extra !== undefined) entry.device = extra;
  return entry;
}

/**
 * The names in a directory, refusing one that is not UTF-8 (MALFORMED). Read as strings, which
 * decode faster; only a directory where one came out with a replacement character is read again as
 * bytes, to tell a real U+FFFD from bytes that were not UTF-8.
 */
export function entryNames(dir: string): string[] {
  const names = readdirSync(dir);
  if (!names.some((name) => name.includes('\uFFFD'))) return names;
  return readdirSync(dir, { encoding: 'buffer' }).map((bytes) => {
    try {
      return utf8.decode(bytes);
    } catch {
      throw new WaybillError(
        'MALFORMED',
        join(dir, bytes.toString('latin1')),
        `file name is not UTF-8: ${escapeBytes(bytes)}`,
      );
    }
  });
}

/** Entry i as a walk shows it (char, block, fifo and socket as `other`): nothing else is built. */
export function fileEntryAt(tree: PackedTree, i: number): FileEntry {
  const node = nodeOf(tree, i);
  const entry: FileEntry = {
    path: tree.paths[i] as string,
    type: node === 'file' || node === 'dir' || node === 'symlink' ? node : 'other',
    size: tree.sizes[i] as number,
    mode: tree.modes[i] as number,
  };
  if (node === 'symlink') entry.linkTarget = tree.extras.get(i) ?? '';
  return entry;
}

/** Every entry below `root` except waybill's own files, sorted by path. */
export function listTreeSync(root: string): PackedTree {
  // Columns from the start (no object per entry), in the order found; sorted by path at the end.
  const paths: string[] = [];
  const nodes: number[] = [];
  const modes: number[] = [];
  const uids: number[] = [];
  const gids: number[] = [];
  const sizes: number[] = [];
  const extras = new Map<number, string>();
  const visit = (dir: string, prefix: string) => {
    const names = entryNames(dir);
    // Only a sidecar (every suffix ends in .json) asks about its siblings: most directories of a
    // root filesystem have none, and a set per directory is garbage on every one of them.
    const siblings = names.some((name) => name.endsWith('.json')) ? new Set(names) : NO_NAMES;
    for (const name of names) {
      if (isWaybillFile(name, siblings)) continue;
      const absolute = `${dir}/${name}`;
      const path = prefix === '' ? name : `${prefix}/${name}`;
      // Plain numbers (a bigint Stats costs twice as much, on every entry); a device's number is
      // read again as a bigint, as all 64 bits of dev_t count.
      const info = lstatSync(absolute);
      const node = fileTypeOf(info);
      const i = paths.length;
      paths.push(path);
      nodes.push(NODE_TYPES.indexOf(node));
      modes.push(info.mode & 0o7777);
      uids.push(info.uid);
      gids.push(info.gid);
      let size = 0;
      if (node === 'symlink') {
        const target = readlinkSync(absolute, 'utf8');
        extras.set(i, target);
        size = Buffer.byteLength(target);
      } else if (node === 'file') size = info.size;
      else if (node === 'char' || node === 'block')
        extras.set(i, deviceNumbers(lstatSync(absolute, { bigint: true }).rdev));
      sizes.push(size);
      if (node === 'dir') visit(absolute, path);
    }
  };
  visit(root, '');
  const order = paths
    .map((_, i) => i)
    .sort((a, b) => {
      const pa = paths[a] as string;
      const pb = paths[b] as string;
      return pa < pb ? -1 : pa > pb ? 1 : 0;
    });
  const n = order.length;
  const tree: PackedTree = {
    root,
    paths: new Array<string>(n),
    nodes: new Uint8Array(n),
    modes: new Uint16Array(n),
    uids: new Uint32Array(n),
    gids: new Uint32Array(n),
    sizes: new Float64Array(n),
    extras: new Map(),
  };
  order.forEach((from, to) => {
    tree.paths[to] = paths[from] as string;
    tree.nodes[to] = nodes[from] as number;
    tree.modes[to] = modes[from] as number;
    tree.uids[to] = uids[from] as number;
    tree.gids[to] = gids[from] as number;
    tree.sizes[to] = sizes[from] as number;
    const extra = extras.get(from);
    if (extra !== undefined) tree.extras.set(to, extra);
  });
  return tree;
}

/**
 * SHA-256 (32 bytes each, file i at i * 32) and the first HEAD_BYTES of each file (at i * HEAD_BYTES)
 * of files given relative to `root`.
 */
export function hashFilesSync(root: string, paths: readonly string[]): { digests: Buffer; heads: Buffer } {
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  const digests = Buffer.alloc(paths.length * 32);
  const heads = Buffer.alloc(paths.length * HEAD_BYTES);
  paths.forEach((relative, i) => {
    const hash = createHash('sha256');
    const path = join(root, relative);
    const { fd } = openRegularFileSync(path, { noFollow: true, input: path });
    try {
      let position = 0;
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, position);
        if (n === 0) break;
        if (position < HEAD_BYTES)
          buffer.copy(heads, i * HEAD_BYTES + position, 0, Math.min(n, HEAD_BYTES - position));
        hash.update(buffer.subarray(0, n));
        position += n;
      }
    } finally {
      closeSync(fd);
    }
    hash.digest().copy(digests, i * 32);
  });
  return { digests, heads };
}
