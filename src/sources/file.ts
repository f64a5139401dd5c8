/**
 * `file:PATH`: one file. Its digest is the SHA-256 of its bytes; its walk goes inside when a
 * container walker claims it (a plain tarball, or a format registered later), else yields the file
 * itself under its base name.
 */
import { basename } from 'node:path';
import { sha256File } from '../util/digest.ts';
import { readFileHead } from '../util/read-head.ts';
import { readRegularFile, statRegularFile } from '../util/regular-file.ts';
import { findContainerWalker, HEAD_BYTES } from './container-walkers.ts';
import { type Artifact, type FileEntry, type FileFilter, SNIFF_BYTES, type WalkResult } from './types.ts';
import { DEFAULT_MAX_FILE_SIZE, type SourceWalkOptions } from './walk-options.ts';

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
      const walker = findContainerWalker(await readFileHead(path, HEAD_BYTES), path);
      if (walker) return walker.walk(path, filter, options);
      return walkSingleFile(path, filter, options);
    },
  };
}
