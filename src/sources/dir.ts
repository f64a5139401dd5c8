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
import { createHash } from 'node:crypto';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeBytes } from '../archive/tar-reader.ts';
import { WaybillError } from '../errors.ts';
import { sha256File } from '../util/digest.ts';
import { readFileHead } from '../util/read-head.ts';
import { type FileType, fileTypeOf, readRegularFile } from '../util/regular-file.ts';
import { isTransientName } from '../util/temp-names.ts';
import { type Artifact, type FileEntry, type FileFilter, SNIFF_BYTES, type WalkResult } from './types.ts';
import { DEFAULT_MAX_FILE_SIZE, type SourceWalkOptions } from './walk-options.ts';

export interface TreeEntry extends FileEntry {
  absolute: string;
  /** What the entry is on disk; a walk shows char, block, fifo and socket as `other`. */
  node: FileType;
  uid: number;
  gid: number;
  /** `major,minor` of a char or block device. */
  device?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The sidecar suffixes of a file artifact (record/sidecar.ts, app/attachments.ts). */
const SIDECAR_SUFFIXES = ['.waybill.json', '.cdx.json', '.spdx.json'];

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

/** Every entry below `root` except waybill's own files, sorted by path. */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const visit = async (dir: string, prefix: string) => {
    const raw = await readdir(dir, { encoding: 'buffer' });
    const names = raw.map((bytes) => {
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
    const siblings = new Set(names);
    for (const name of names) {
      if (isWaybillFile(name, siblings)) continue;
      const absolute = join(dir, name);
      const path = prefix === '' ? name : `${prefix}/${name}`;
      const info = await lstat(absolute, { bigint: true });
      const node = fileTypeOf(info);
      const base = {
        path,
        mode: Number(info.mode & 0o7777n),
        absolute,
        node,
        uid: Number(info.uid),
        gid: Number(info.gid),
      };
      if (node === 'symlink') {
        const target = await readlink(absolute);
        out.push({ ...base, type: 'symlink', size: Buffer.byteLength(target), linkTarget: target });
      } else if (node === 'dir') {
        out.push({ ...base, type: 'dir', size: 0 });
        await visit(absolute, path);
      } else if (node === 'file') {
        out.push({ ...base, type: 'file', size: Number(info.size) });
      } else {
        const entry: TreeEntry = { ...base, type: 'other', size: 0 };
        if (node === 'char' || node === 'block') entry.device = deviceNumbers(info.rdev);
        out.push(entry);
      }
    }
  };
  await visit(root, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The canonical tree digest described at the top of this file. */
export async function treeDigest(entries: TreeEntry[]): Promise<string> {
  const hash = createHash('sha256');
  hash.update('waybill-tree-v2\0');
  for (const entry of entries) {
    let content = '';
    if (entry.node === 'file')
      content = (
        await sha256File(entry.absolute, undefined, { noFollow: true, input: entry.absolute })
      ).slice('sha256:'.length);
    else if (entry.node === 'symlink')
      content = createHash('sha256')
        .update(entry.linkTarget ?? '')
        .digest('hex');
    else if (entry.device !== undefined) content = entry.device;
    const fields = [
      entry.path,
      entry.node,
      entry.mode.toString(8),
      entry.uid,
      entry.gid,
      entry.size,
      content,
    ];
    hash.update(`${fields.join('\0')}\0`);
  }
  return `sha256:${hash.digest('hex')}`;
}

async function walkTree(root: string, filter: FileFilter, options: SourceWalkOptions): Promise<WalkResult> {
  const entries = await listTree(root);
  const max = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const total = entries.reduce((sum, e) => sum + (e.type === 'file' ? e.size : 0), 0);
  let done = 0;
  const result: WalkResult = { files: [], skipped: [] };
  for (const { absolute, node: _node, uid: _uid, gid: _gid, device: _device, ...entry } of entries) {
    options.signal?.throwIfAborted();
    let keep = filter.want(entry);
    if (keep === 'sniff')
      keep =
        entry.type === 'file' && filter.sniff
          ? filter.sniff(entry, await readFileHead(absolute, SNIFF_BYTES, 0, { noFollow: true }))
          : false;
    if (!keep) continue;
    if (entry.type === 'file' && entry.size > max) {
      result.skipped.push({
        path: entry.path,
        reason: `${entry.size} bytes is larger than maxFileSize ${max}`,
      });
      continue;
    }
    // Only regular files are read, never through a link: FIFOs and devices are listed, not opened.
    const data =
      entry.type === 'file' ? await readRegularFile(absolute, { noFollow: true }) : Buffer.alloc(0);
    done += data.length;
    options.onProgress?.(done, total);
    if (entry.type === 'file' && filter.keep && !filter.keep(entry, data)) continue;
    result.files.push({ entry, data, earlier: [] });
  }
  return result;
}

export async function openDir(ref: string, path: string): Promise<Artifact> {
  const info = await stat(path);
  if (!info.isDirectory()) throw new WaybillError('USAGE', ref, `${path} is not a directory`);
  const digest = await treeDigest(await listTree(path));
  return {
    ref,
    kind: 'dir',
    path,
    digest,
    walk: (filter, options: SourceWalkOptions = {}) => walkTree(path, filter, options),
  };
}
