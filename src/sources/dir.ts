/**
 * `dir:PATH`: a directory tree. Symlinks are reported as symlinks and never followed, so nothing
 * outside the tree is read; sockets, fifos and devices are `other` and never opened.
 *
 * Tree digest (the artifact digest): SHA-256 over one record per entry below the root, entries in
 * ascending JavaScript string order of their relative POSIX path, each record being
 *
 *     <path> NUL <type> NUL <mode> NUL <size> NUL <content> NUL
 *
 * where <type> is file|dir|symlink|other, <mode> the permission bits (mode & 07777) in octal without
 * leading zeros, <size> decimal (files: bytes; symlinks: UTF-8 bytes of the target; others: 0) and
 * <content> the lowercase hex SHA-256 of the file's bytes or of the symlink target, empty for
 * directories and others. Paths cannot contain NUL, so records are unambiguous. Owners and times are
 * left out on purpose: a checkout or copy changes them without changing the release.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeBytes } from '../archive/tar-reader.ts';
import { WaybillError } from '../errors.ts';
import { sha256File } from '../util/digest.ts';
import { readFileHead } from '../util/read-head.ts';
import {
  type Artifact,
  type FileEntry,
  type FileFilter,
  keptBytes,
  SNIFF_BYTES,
  type WalkResult,
} from './types.ts';
import { DEFAULT_MAX_FILE_SIZE, type SourceWalkOptions } from './walk-options.ts';

interface TreeEntry extends FileEntry {
  absolute: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Every entry below `root`, sorted by path. */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const visit = async (dir: string, prefix: string) => {
    const names = await readdir(dir, { encoding: 'buffer' });
    for (const raw of names) {
      let name: string;
      try {
        name = utf8.decode(raw);
      } catch {
        throw new WaybillError(
          'MALFORMED',
          join(dir, raw.toString('latin1')),
          `file name is not UTF-8: ${escapeBytes(raw)}`,
        );
      }
      const absolute = join(dir, name);
      const path = prefix === '' ? name : `${prefix}/${name}`;
      const info = await lstat(absolute);
      const mode = info.mode & 0o7777;
      if (info.isSymbolicLink()) {
        const target = await readlink(absolute);
        out.push({
          path,
          type: 'symlink',
          size: Buffer.byteLength(target),
          mode,
          linkTarget: target,
          absolute,
        });
      } else if (info.isDirectory()) {
        out.push({ path, type: 'dir', size: 0, mode, absolute });
        await visit(absolute, path);
      } else if (info.isFile()) {
        out.push({ path, type: 'file', size: info.size, mode, absolute });
      } else {
        out.push({ path, type: 'other', size: 0, mode, absolute });
      }
    }
  };
  await visit(root, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The canonical tree digest described at the top of this file. */
export async function treeDigest(entries: TreeEntry[]): Promise<string> {
  const hash = createHash('sha256');
  for (const entry of entries) {
    let content = '';
    if (entry.type === 'file') content = (await sha256File(entry.absolute)).slice('sha256:'.length);
    else if (entry.type === 'symlink')
      content = createHash('sha256')
        .update(entry.linkTarget ?? '')
        .digest('hex');
    hash.update(`${entry.path}\0${entry.type}\0${entry.mode.toString(8)}\0${entry.size}\0${content}\0`);
  }
  return `sha256:${hash.digest('hex')}`;
}

async function walkTree(root: string, filter: FileFilter, options: SourceWalkOptions): Promise<WalkResult> {
  const entries = await listTree(root);
  const max = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const total = entries.reduce((sum, e) => sum + (e.type === 'file' ? e.size : 0), 0);
  let done = 0;
  const result: WalkResult = { files: [], skipped: [] };
  for (const { absolute, ...entry } of entries) {
    options.signal?.throwIfAborted();
    let keep = filter.want(entry);
    if (keep === 'sniff')
      keep =
        entry.type === 'file' && filter.sniff
          ? filter.sniff(entry, await readFileHead(absolute, SNIFF_BYTES))
          : false;
    if (!keep) continue;
    if (entry.type === 'file' && entry.size > max) {
      result.skipped.push({
        path: entry.path,
        reason: `${entry.size} bytes is larger than maxFileSize ${max}`,
      });
      continue;
    }
    const read = entry.type === 'file' ? await readFile(absolute) : Buffer.alloc(0);
    done += read.length;
    options.onProgress?.(done, total);
    const data = entry.type === 'file' ? keptBytes(filter, entry, read, false) : read;
    if (data === undefined) continue;
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
