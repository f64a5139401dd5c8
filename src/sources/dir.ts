/**
 * `dir:PATH`: a directory tree. Symlinks are reported as symlinks and never followed, so nothing
 * outside the tree is read; FIFOs, sockets and device nodes are listed as what they are (`other` in
 * a walk) and never opened. A regular file swapped for a FIFO, a device or a link while the tree is
 * read is refused, never read (util/regular-file.ts).
 *
 * The tree digest (the artifact digest) covers what decides how the tree behaves once installed:
 * content, link targets, permission bits including setuid/setgid/sticky, numeric owner and group,
 * and the kind and device numbers of device nodes. Swapping a file for a setuid-root one, or
 * /dev/null for /dev/mem, changes it. Times are left out (a copy or checkout changes them); so are
 * waybill's own files inside the tree (see `isWaybillFile`). The canonical form is documented in
 * docs/record.md ("Directory digests"):
 *
 *     "waybill-tree-v2" NUL, then for each entry below the root, in ascending JavaScript string order
 *     of its relative POSIX path:
 *     <path> NUL <type> NUL <mode> NUL <uid> NUL <gid> NUL <size> NUL <content> NUL
 *
 * <type>: file|dir|symlink|char|block|fifo|socket; <mode>: mode & 07777 in octal without leading
 * zeros; <uid>, <gid>: decimal; <size>: decimal (files: bytes; symlinks: UTF-8 bytes of the target;
 * others 0); <content>: lowercase hex SHA-256 of a file's bytes or of a symlink's target,
 * `<major>,<minor>` (decimal) for char and block devices, empty otherwise. Paths cannot contain NUL,
 * so records are unambiguous.
 */
import { createHash, type Hash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { WaybillError } from '../errors.ts';
import { entryAt, fileEntryAt, HEAD_BYTES, nodeOf, type TreeEntry } from './tree-list.ts';
import { readBuffers, takeWanted } from './tree-read.ts';
import { type ScannedTree, scanTree } from './tree-scan.ts';
import { treeHelpers, walkTreeShared } from './tree-walk.ts';
import {
  type Artifact,
  type FileFilter,
  type ListedArtifact,
  SNIFF_BYTES,
  type WalkResult,
} from './types.ts';
import { DEFAULT_MAX_FILE_SIZE, type SourceWalkOptions } from './walk-options.ts';

export { isWaybillFile, type TreeEntry } from './tree-list.ts';

/** Every entry below `root` except waybill's own files, sorted by path (listed off the main thread). */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const { tree } = await scanTree(root, { hash: false });
  return tree.paths.map((_, i) => entryAt(tree, i));
}

/**
 * The canonical tree digest described at the top of this file, over a listing whose regular files
 * carry their `sha256` (hex).
 */
export async function treeDigest(entries: TreeEntry[]): Promise<string> {
  const hash = startDigest();
  for (const entry of entries) {
    if (entry.node === 'file' && entry.sha256 === undefined)
      throw new Error(`treeDigest: ${entry.path} was not hashed`);
    hash.update(digestRecord(entry, entry.sha256 ?? ''));
  }
  return `sha256:${hash.digest('hex')}`;
}

/** The same digest over a scanned tree, entry by entry, without an object per entry. */
function scannedDigest({ tree, digests }: ScannedTree): string {
  const hash = startDigest();
  for (let i = 0; i < tree.paths.length; i++) {
    const node = nodeOf(tree, i);
    const content = node === 'file' ? digests.toString('hex', i * 32, (i + 1) * 32) : '';
    hash.update(digestRecord(entryAt(tree, i), content));
  }
  return `sha256:${hash.digest('hex')}`;
}

function startDigest(): Hash {
  return createHash('sha256').update('waybill-tree-v2\0');
}

/** One entry's record; `fileContent` is a regular file's hex SHA-256. */
function digestRecord(entry: TreeEntry, fileContent: string): string {
  let content = '';
  if (entry.node === 'file') content = fileContent;
  else if (entry.node === 'symlink')
    content = createHash('sha256')
      .update(entry.linkTarget ?? '')
      .digest('hex');
  else if (entry.device !== undefined) content = entry.device;
  const fields = [entry.path, entry.node, entry.mode.toString(8), entry.uid, entry.gid, entry.size, content];
  return `${fields.join('\0')}\0`;
}

/**
 * The walk over the listing `openDir` made (one listing per artifact): the filter sees every entry;
 * the regular files it wants, or wants to sniff, are then read (tree-read.ts). A tree that was
 * hashed has every file's first bytes already, so sniffing opens nothing: only wanted files are
 * opened again.
 */
async function walkTree(
  { tree, heads }: ScannedTree,
  filter: FileFilter,
  options: SourceWalkOptions,
): Promise<WalkResult> {
  const max = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const hashed = heads.length > 0;
  let total = 0;
  for (let i = 0; i < tree.paths.length; i++)
    if (nodeOf(tree, i) === 'file') total += tree.sizes[i] as number;
  let done = 0;
  const onRead = (bytes: number) => {
    done += bytes;
    options.onProgress?.(done, total);
  };
  const result: WalkResult = { files: [], skipped: [] };
  const buffers = readBuffers();
  for (let i = 0; i < tree.paths.length; i++) {
    if ((i & 0x3ff) === 0) options.signal?.throwIfAborted();
    const entry = fileEntryAt(tree, i);
    let keep = filter.want(entry);
    // Only regular files are read or sniffed, never through a link: FIFOs and devices are listed.
    if (keep === 'sniff' && !(entry.type === 'file' && filter.sniff)) keep = false;
    else if (keep === 'sniff' && hashed) {
      const head = heads.subarray(i * HEAD_BYTES, i * HEAD_BYTES + Math.min(entry.size, SNIFF_BYTES));
      keep = (filter.sniff as NonNullable<FileFilter['sniff']>)(entry, head);
    }
    if (keep) takeWanted(tree.root, entry, keep, filter, max, buffers, result, onRead);
  }
  return result;
}

/**
 * Opens a tree: listed, and every regular file hashed for the tree digest, unless `digest` is false
 * (a command that only lists what is inside, `sbom`): then nothing is listed or read until a walk,
 * which reads only what it wants, and the artifact has no digest.
 */
export async function openDir(ref: string, path: string): Promise<Artifact>;
export async function openDir(ref: string, path: string, options: { digest: false }): Promise<ListedArtifact>;
export async function openDir(
  ref: string,
  path: string,
  options: { digest?: boolean } = {},
): Promise<Artifact | ListedArtifact> {
  const info = await stat(path);
  if (!info.isDirectory()) throw new WaybillError('USAGE', ref, `${path} is not a directory`);
  if (options.digest === false)
    return { ref, kind: 'dir', path, walk: (filter, walkOptions) => walkUnlisted(path, filter, walkOptions) };
  const scanned = await scanTree(path, { hash: true });
  const walk = (filter: FileFilter, walkOptions: SourceWalkOptions = {}) =>
    walkTree(scanned, filter, walkOptions);
  return { ref, kind: 'dir', path, digest: scannedDigest(scanned), walk };
}

/**
 * The walk of a tree nothing has listed yet (no digest wanted): listed and read by several threads
 * together when the filter can be rebuilt on workers (tree-walk.ts); else, or when that walk fails
 * anywhere, listed whole on a worker first and then read in path order, which meets the same first
 * error on every run.
 */
async function walkUnlisted(
  root: string,
  filter: FileFilter,
  options: SourceWalkOptions = {},
): Promise<WalkResult> {
  const helpers = treeHelpers(options);
  if (helpers > 0) {
    const shared = await walkTreeShared(root, filter, options, helpers);
    if (shared) return shared;
  }
  return walkTree(await scanTree(root, { hash: false }), filter, options);
}
