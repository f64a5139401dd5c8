/**
 * What `waybill db import` reads, one source per path: a directory of OSV JSON files (walked
 * recursively, symbolic links not followed), an osv.dev `all.zip` export (or any zip of OSV JSON),
 * a single OSV JSON file, or one of waybill's own data files (an end-of-life table, release dates;
 * see data-files.ts). Each source has a digest so an audit can say exactly which data it used: the
 * SHA-256 of the file, or for a directory of the sorted list of (path, file digest).
 *
 * Zips are read in memory with the project's zip reader and its limits: entries that would leave the
 * archive root refuse the whole archive (UNSAFE_PATH), and so do decompression bombs (a ratio
 * over 100:1 past 1 MiB, an entry over 64 MiB, or more than WAYBILL_MAX_UNCOMPRESSED_BYTES inflated in
 * total).
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { maxOutputBytes } from '../archive/decompress.ts';
import { isZipHead, openZip } from '../archive/zip-reader.ts';
import { WaybillError } from '../errors.ts';
import { readListedFileSync } from '../util/regular-file.ts';

export type SourceKind = 'osv-dir' | 'osv-zip' | 'osv-file' | 'waybill-data';

/** One JSON document of a source: where it is (for messages) and its bytes. */
export interface SourceEntry {
  path: string;
  bytes: Buffer;
}

export interface ImportSource {
  /** The absolute path the source was read from; its key in the database. */
  name: string;
  kind: SourceKind;
  /** The documents, read lazily (a zip of advisories can be large); iterate once. */
  entries(): AsyncIterable<SourceEntry>;
  /** `sha256:…` of the file, or of a directory's sorted (path, digest) list; known after `entries`. */
  digest(): string;
}

// OSV JSON compresses 5–30x; an entry past 1 MiB that expands 100x is a bomb, not an advisory.
const ZIP_LIMITS = {
  maxEntries: 2_000_000,
  maxRatio: 100,
  ratioFloor: 1024 * 1024,
  maxDepth: 0,
};
/** No advisory is this large (the biggest osv.dev records, kernel CVEs, are a few MiB). */
const MAX_ENTRY_BYTES = 64 * 1024 * 1024;
/** A zip (or JSON file) argument is read whole into memory; Node reads no single file past 2 GiB. */
const MAX_SOURCE_FILE_BYTES = 2 * 1024 ** 3 - 1;

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

async function walkJson(dir: string, out: string[], depth: number): Promise<void> {
  if (depth > 32) throw new WaybillError('LIMIT', dir, 'directories nested more than 32 deep');
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    if (name.startsWith('.')) continue; // .git and editor files are not advisories
    const path = join(dir, name);
    const info = await lstat(path); // links inside the tree are not followed
    if (info.isDirectory()) await walkJson(path, out, depth + 1);
    else if (info.isFile() && name.endsWith('.json')) out.push(path);
  }
}

async function directorySource(path: string): Promise<ImportSource> {
  const files: string[] = [];
  await walkJson(path, files, 0);
  const listing = createHash('sha256');
  let done = false;
  return {
    name: path,
    kind: 'osv-dir',
    async *entries() {
      for (const file of files) {
        // Bounded like a zip entry, and the file read is the one listed (not a link put there since).
        const bytes = readListedFileSync(file, { maxBytes: MAX_ENTRY_BYTES, noFollow: true });
        listing.update(`${relative(path, file)}\0${sha256(bytes)}\n`);
        yield { path: file, bytes };
      }
      done = true;
    },
    digest: () => {
      if (!done) throw new Error('digest() before entries() finished');
      return `sha256:${listing.copy().digest('hex')}`;
    },
  };
}

function zipSource(path: string, bytes: Buffer): ImportSource {
  // Opening reads the whole central directory: unsafe names and entry counts are refused here,
  // before anything is imported.
  const zip = openZip(bytes, path, { limits: { ...ZIP_LIMITS, maxTotalUncompressed: maxOutputBytes() } });
  const entries = zip.entries
    .filter((e) => !e.isDirectory && e.name.endsWith('.json'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    name: path,
    kind: 'osv-zip',
    async *entries() {
      for (const entry of entries) {
        if (entry.encrypted)
          throw new WaybillError('UNSUPPORTED', `${path}:${entry.name}`, 'encrypted zip entry');
        if (entry.uncompressedSize > MAX_ENTRY_BYTES) {
          throw new WaybillError(
            'LIMIT',
            `${path}:${entry.name}`,
            `${entry.uncompressedSize} bytes: larger than any advisory (limit ${MAX_ENTRY_BYTES})`,
          );
        }
        yield { path: `${path}:${entry.name}`, bytes: zip.read(entry) };
      }
    },
    digest: () => `sha256:${sha256(bytes)}`,
  };
}

/** Read one `db import` argument. Throws WaybillError for anything that is not a readable source. */
export async function readImportSource(arg: string): Promise<ImportSource> {
  const path = resolve(arg);
  // The argument itself may be a link the user chose; links inside a directory are not followed.
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new WaybillError(
      'NOT_FOUND',
      arg,
      e.code === 'ENOENT' ? 'no such file or directory' : `cannot read (${e.code})`,
    );
  });
  if (info.isDirectory()) return directorySource(path);
  if (!info.isFile()) throw new WaybillError('UNSUPPORTED', arg, 'not a file or directory');
  if (info.size > MAX_SOURCE_FILE_BYTES)
    throw new WaybillError(
      'LIMIT',
      arg,
      `${info.size} bytes: larger than the ${MAX_SOURCE_FILE_BYTES}-byte limit for one file (split the advisories into a directory)`,
    );
  const bytes = await readFile(path);
  if (isZipHead(bytes)) return zipSource(path, bytes);
  const kind: SourceKind = /"kind"\s*:\s*"waybill\.dev\//.test(bytes.subarray(0, 4096).toString('utf8'))
    ? 'waybill-data'
    : 'osv-file';
  return {
    name: path,
    kind,
    async *entries() {
      yield { path, bytes };
    },
    digest: () => `sha256:${sha256(bytes)}`,
  };
}
