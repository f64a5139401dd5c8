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
  /** Regular files, once hashed: lowercase hex SHA-256, and where its first bytes are in the heads. */
  sha256?: string;
  headIndex?: number;
}

/** Bytes of each file's head kept for sniffing (SNIFF_BYTES of types.ts). */
export const HEAD_BYTES = 64;
const READ_BYTES = 1024 * 1024;

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

/**
 * Every entry below `root` except waybill's own files, sorted by path. Entries are examined several

/** Every entry below `root` except waybill's own files, sorted by path. */
export function listTreeSync(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const visit = (dir: string, prefix: string) => {
    const names = readdirSync(dir, { encoding: 'buffer' }).map((bytes) => {
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
      const info = lstatSync(absolute, { bigint: true });
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
        const target = readlinkSync(absolute, 'utf8');
        out.push({ ...base, type: 'symlink', size: Buffer.byteLength(target), linkTarget: target });
      } else if (node === 'dir') {
        out.push({ ...base, type: 'dir', size: 0 });
        visit(absolute, path);
      } else if (node === 'file') {
        out.push({ ...base, type: 'file', size: Number(info.size) });
      } else {
        const entry: TreeEntry = { ...base, type: 'other', size: 0 };
        if (node === 'char' || node === 'block') entry.device = deviceNumbers(info.rdev);
        out.push(entry);
      }
    }
  };
  visit(root, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** SHA-256 (hex) and the first HEAD_BYTES of each file, file i's head at i * HEAD_BYTES. */
export function hashFilesSync(paths: readonly string[]): { hex: string[]; heads: Buffer } {
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  const heads = Buffer.alloc(paths.length * HEAD_BYTES);
  const hex = paths.map((path, i) => {
    const hash = createHash('sha256');
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
    return hash.digest('hex');
  });
  return { hex, heads };
}
