/**
 * What a version directory of a release directory holds before a publication changes it: every
 * file, hashed, checked against the directory's SHA256SUMS. A file that differs from its listed
 * digest was changed outside waybill (or damaged): publishing next to it would list it as good, so it
 * stops the publication (DIGEST_MISMATCH naming the file and both digests). Only regular files belong
 * there: a link, directory or device is refused (UNSAFE_PATH) rather than hashed or listed. Hidden
 * names (waybill's transient files, a server's dotfiles) are not part of the release.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { sha256File } from '../util/digest.ts';
import { describeFileType, readRegularFileIfPresent } from '../util/regular-file.ts';
import { ReleaseIntegrityError } from './release-integrity.ts';
import { SUMS_FILE } from './release-names.ts';
import { MAX_SUMS_BYTES, parseSha256Sums } from './sha256sums.ts';

export interface VersionFile {
  digest: string;
  size: number;
}

export interface VersionDirectory {
  /** Every regular, visible file but SHA256SUMS, by name. */
  files: Map<string, VersionFile>;
  /** What SHA256SUMS lists (empty when there is none). */
  sums: Map<string, string>;
}

export async function readVersionDirectory(dir: string): Promise<VersionDirectory> {
  const files = new Map<string, VersionFile>();
  const sums = new Map<string, string>();
  const info = await lstat(dir).catch(() => undefined);
  if (!info) return { files, sums };
  if (!info.isDirectory())
    throw new WaybillError(
      'UNSAFE_PATH',
      dir,
      `is ${describeFileType(info)}, not a directory; nothing published`,
    );
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    if (entry.name.startsWith('.') || entry.name === SUMS_FILE) continue;
    const path = join(dir, entry.name);
    if (!entry.isFile()) {
      const what = describeFileType(await lstat(path));
      throw new WaybillError('UNSAFE_PATH', path, `is ${what}; a release directory holds regular files only`);
    }
    files.set(entry.name, {
      digest: await sha256File(path, undefined, { noFollow: true }),
      size: (await lstat(path)).size,
    });
  }
  const sumsPath = join(dir, SUMS_FILE);
  const text = await readRegularFileIfPresent(sumsPath, {
    maxBytes: MAX_SUMS_BYTES,
    noFollow: true,
    code: 'UNSAFE_PATH',
  });
  for (const line of text ? parseSha256Sums(text.toString('utf8'), sumsPath) : []) {
    sums.set(line.name, line.digest);
    const actual = files.get(line.name)?.digest;
    if (actual !== undefined && actual !== line.digest)
      throw new ReleaseIntegrityError(dir, line.name, actual, line.digest, 'SHA256SUMS');
  }
  return { files, sums };
}
