/**
 * `file:PATH`: one file. Its digest is the SHA-256 of its bytes; its walk goes inside when a
 * container walker claims it (a plain tarball, or a format registered later), else yields the file
 * itself under its base name.
 */
import { basename } from 'node:path';
import { detectCompression } from '../archive/decompress.ts';
import { sha256File } from '../util/digest.ts';
import { readFileHead } from '../util/read-head.ts';
import { readRegularFile, statRegularFile } from '../util/regular-file.ts';
import { findContainerWalker, HEAD_BYTES } from './container-walkers.ts';
import { type Artifact, type FileEntry, type FileFilter, SNIFF_BYTES, type WalkResult } from './types.ts';
import { DEFAULT_MAX_FILE_SIZE, type SourceWalkOptions } from './walk-options.ts';

/**
 * A tarball in bzip2, which node:zlib does not decode and no dependency here does: described as the
 * file it is, with a warning that what it holds was not listed, never an SBOM silently empty.
 */
const BZIP2_TARBALL_NAME = /\.(?:tar\.bz2|tbz2?|tb2)$/i;
const BZIP2_UNREAD =
  'a bzip2 tarball: its content is not read (bzip2 is not supported; recompress it with gzip, zstd or xz)';

function isBzip2Tarball(head: Buffer, path: string): boolean {
  return BZIP2_TARBALL_NAME.test(path) && detectCompression(head) === 'bzip2';
}

async function walkSingleFile(
  path: string,
  filter: FileFilter,
  options: SourceWalkOptions,
): Promise<WalkResult> {
  const info = await statRegularFile(path);
  const entry: FileEntry = { path: basename(path), type: 'file', size: info.size, mode: info.mode & 0o7777 };
  let keep = filter.want(entry);
  if (keep === 'sniff')
    keep = filter.sniff ? filter.sniff(entry, await readFileHead(path, SNIFF_BYTES)) : false;
  options.onProgress?.(info.size, info.size);
  if (!keep) return { files: [], skipped: [] };
  const max = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  if (info.size > max) {
    return {
      files: [],
      skipped: [{ path: entry.path, reason: `${info.size} bytes is larger than maxFileSize ${max}` }],
    };
  }
  const data = await readRegularFile(path);
  if (filter.keep && !filter.keep(entry, data)) return { files: [], skipped: [] };
  return { files: [{ entry, data, earlier: [] }], skipped: [] };
}

/**
 * Opens the file at `path`. `verifiedDigest` is for a caller that has just hashed the file itself (a
 * download checked as it streamed): it is not hashed a second time.
 */
export async function openFile(ref: string, path: string, verifiedDigest?: string): Promise<Artifact> {
  const digest = verifiedDigest ?? (await sha256File(path));
  return {
    ref,
    kind: 'file',
    path,
    digest,
    async walk(filter, options: SourceWalkOptions = {}) {
      options.signal?.throwIfAborted();
      const head = await readFileHead(path, HEAD_BYTES);
      const walker = findContainerWalker(head, path);
      if (walker) return walker.walk(path, filter, options);
      const result = await walkSingleFile(path, filter, options);
      if (isBzip2Tarball(head, path)) result.skipped.push({ path: basename(path), reason: BZIP2_UNREAD });
      return result;
    },
  };
}
