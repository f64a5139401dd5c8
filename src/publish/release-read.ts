/**
 * Reading one published file of a release directory — `https://HOST/NAME/VERSION/FILE`, or
 * `file:///ROOT/NAME/VERSION/FILE` on this machine — with everything published beside it, checked
 * before anything is believed:
 *
 * 1. `VERSION/SHA256SUMS` must exist and list FILE: it is what every other file is checked against;
 * 2. `NAME/index.json`, when present, must agree with it on FILE and its sidecars (an entry missing
 *    from the index is noted: a publication writes the index last, so it was not finished);
 * 3. the statement sidecars SHA256SUMS lists for FILE (the record `FILE.waybill.json`, the SBOM
 *    `FILE.cdx.json` / `FILE.spdx.json`, signed bundles `FILE.<kind>.sigstore.json`,
 *    `FILE.intoto.jsonl`…) are read into memory, each checked against SHA256SUMS;
 * 4. the release record must bind the digest SHA256SUMS gives FILE;
 * 5. the artifact itself: read in place for a local directory (its digest computed), or downloaded
 *    once into the user cache (`$XDG_CACHE_HOME/waybill/releases/sha256/<hex>/FILE`, keeping its name,
 *    which format detection reads), checked as it streams; a later run finds it there and checks it
 *    again before use.
 *
 * A disagreement anywhere is a `ReleaseIntegrityError` naming the file and both digests. Other
 * sidecars (a rebuild kit) are listed and read on demand with `readFile`, checked the same way.
 */
import { lstat, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { artifactLimits } from '../archive/artifact-budget.ts';
import { WaybillError } from '../errors.ts';
import { parseRecordSidecar } from '../record/sidecar.ts';
import { defaultCacheDir, downloadToFile } from '../registry/blob-cache.ts';
import { removeInterruptedDownloads } from '../registry/cache-leftovers.ts';
import { describeUrl, header, NetworkFailure } from '../registry/http.ts';
import { isSidecarOf } from '../sign/bundle-files.ts';
import { DigestCheck, digestHex, sha256Digest, sha256File } from '../util/digest.ts';
import { readRegularFileIfPresent } from '../util/regular-file.ts';
import {
  findIndexedArtifact,
  type IndexedArtifact,
  MAX_INDEX_BYTES,
  parseReleaseIndex,
  type ReleaseIndex,
} from './release-index.ts';
import { ReleaseIntegrityError } from './release-integrity.ts';
import { parseReleaseLocation, type ReleaseLocation } from './release-location.ts';
import { INDEX_FILE, isSidecarName, SUMS_FILE } from './release-names.ts';
import { type ChecksumLine, MAX_SUMS_BYTES, parseSha256Sums } from './sha256sums.ts';
import { type SiteOptions, siteGet, siteRead } from './site-http.ts';

/** A sidecar is read whole into memory: past this it is not a statement or an SBOM. */
export const MAX_SIDECAR_BYTES = 256 * 1024 * 1024;
/**
 * All the statement sidecars of one file together: SHA256SUMS may list any number of
 * `FILE.<kind>.sigstore.json`, and each is held in memory, so one limit per file is no bound.
 */
export const MAX_SIDECARS_TOTAL_BYTES = 512 * 1024 * 1024;

/** Suffixes of the sidecars read eagerly, beside the bundle names bundle-files.ts knows. */
const STATEMENT_SUFFIXES = ['.waybill.json', '.cdx.json', '.spdx.json', '.audit.json'];

export interface ReleaseSidecar {
  name: string;
  bytes: Buffer;
  digest: string;
}

export interface OpenedRelease {
  location: ReleaseLocation;
  /** The artifact's digest: what SHA256SUMS lists, and what its bytes were checked to be. */
  digest: string;
  size: number;
  /** The artifact on this machine: in the release directory itself, or the checked download. */
  artifactPath: string;
  /** Whether the artifact was downloaded now (false: local, or found in the cache). */
  downloaded: boolean;
  sums: ChecksumLine[];
  /** `NAME/index.json`, when the directory has one. */
  index?: ReleaseIndex;
  /** This artifact's entry in the index, when listed. */
  indexed?: IndexedArtifact;
  /** The statement sidecars (see above), checked against SHA256SUMS, by name. */
  sidecars: Map<string, ReleaseSidecar>;
  /** Every sidecar SHA256SUMS lists for the artifact (the read ones and the others), sorted. */
  sidecarNames: string[];
  /** Facts a reader should know (an entry missing from index.json). */
  notes: string[];
  /** The URL (or local path) of a file in the version directory, for messages. */
  locate(name: string): string;
  /** Any sidecar of the artifact SHA256SUMS lists, read and checked; undefined when not listed. */
  readFile(name: string, maxBytes?: number): Promise<Buffer | undefined>;
}

export interface ReadReleaseOptions {
  /** The user cache directory (default `$XDG_CACHE_HOME/waybill`). */
  cacheDir?: string;
  /** Transport settings for http(s) sites. */
  site?: SiteOptions;
  /** Download progress of the artifact: bytes so far, and the total when known. */
  onProgress?: (done: number, total: number) => void;
}

/** How files of one release directory are reached: a local root, or a download site. */
interface SiteReader {
  describe(segments: string[]): string;
  read(segments: string[], what: string, maxBytes: number): Promise<Buffer | undefined>;
}

function siteReader(location: ReleaseLocation, options: ReadReleaseOptions): SiteReader {
  const { site, input } = location;
  if (site.kind === 'local') {
    return {
      describe: (segments) => join(site.root, ...segments),
      read: (segments, _what, maxBytes) =>
        readRegularFileIfPresent(join(site.root, ...segments), { maxBytes, code: 'MALFORMED' }),
    };
  }
  const urlOf = (segments: string[]) => new URL(segments.map(encodeURIComponent).join('/'), site.root);
  return {
    describe: (segments) => describeUrl(urlOf(segments)),
    read: (segments, what, maxBytes) => siteRead(urlOf(segments), input, what, maxBytes, options.site),
  };
}

/** Is `name` a sidecar read eagerly (a record, SBOM or signed statement)? */
function isStatementSidecar(file: string, name: string): boolean {
  return STATEMENT_SUFFIXES.some((s) => name === `${file}${s}`) || isSidecarOf(file, name);
}

/** The digests a release record binds (`subject[].digest.sha256`). */
function recordDigests(bytes: Buffer, where: string): string[] {
  const record = parseRecordSidecar(bytes, where);
  return record.subject.map((s) => `sha256:${s.digest.sha256}`);
}

export async function openRelease(ref: string, options: ReadReleaseOptions = {}): Promise<OpenedRelease> {
  const location = parseReleaseLocation(ref);
  const { name, version, file, input } = location;
  const site = siteReader(location, options);

  const sumsBytes = await site.read([name, version, SUMS_FILE], SUMS_FILE, MAX_SUMS_BYTES);
  if (!sumsBytes)
    throw new WaybillError(
      'NOT_FOUND',
      input,
      `${site.describe([name, version, SUMS_FILE])} is missing: not a published release directory entry`,
    );
  const sums = parseSha256Sums(sumsBytes.toString('utf8'), site.describe([name, version, SUMS_FILE]));
  const byName = new Map(sums.map((l) => [l.name, l.digest]));
  const digest = byName.get(file);
  if (!digest) throw new WaybillError('NOT_FOUND', input, `${file} is not listed in ${SUMS_FILE}`);

  const notes: string[] = [];
  const indexBytes = await site.read([name, INDEX_FILE], INDEX_FILE, MAX_INDEX_BYTES);
  const index = indexBytes
    ? parseReleaseIndex(indexBytes.toString('utf8'), site.describe([name, INDEX_FILE]), name)
    : undefined;
  const indexed = index ? findIndexedArtifact(index, version, file) : undefined;
  if (!index) notes.push(`${name}/${INDEX_FILE} is missing: the release is not listed`);
  else if (!indexed)
    notes.push(`${INDEX_FILE} does not list ${version}/${file}: its publication was not finished`);
  if (indexed) {
    if (indexed.digest !== digest)
      throw new ReleaseIntegrityError(input, file, digest, indexed.digest, 'index.json');
    for (const f of indexed.files) {
      const listed = byName.get(f.name);
      if (listed !== f.digest)
        throw new ReleaseIntegrityError(input, f.name, listed ?? 'not in SHA256SUMS', f.digest, 'index.json');
    }
  }

  const readChecked = async (sidecar: string, maxBytes: number): Promise<Buffer | undefined> => {
    const listed = byName.get(sidecar);
    if (!listed || !isSidecarName(file, sidecar)) return undefined;
    const bytes = await site.read([name, version, sidecar], sidecar, maxBytes);
    if (!bytes)
      throw new WaybillError('NOT_FOUND', input, `${sidecar} is listed in ${SUMS_FILE} but missing`);
    const actual = sha256Digest(bytes);
    if (actual !== listed) throw new ReleaseIntegrityError(input, sidecar, actual, listed, 'SHA256SUMS');
    return bytes;
  };

  const sidecarNames = sums.map((l) => l.name).filter((n) => isSidecarName(file, n));
  const sidecars = new Map<string, ReleaseSidecar>();
  let left = MAX_SIDECARS_TOTAL_BYTES;
  for (const sidecar of sidecarNames.filter((n) => isStatementSidecar(file, n))) {
    const bytes = await readChecked(sidecar, Math.min(MAX_SIDECAR_BYTES, left)).catch((e: unknown) => {
      if (e instanceof WaybillError && e.code === 'LIMIT' && left < MAX_SIDECAR_BYTES)
        throw new WaybillError(
          'LIMIT',
          input,
          `the statement sidecars SHA256SUMS lists for ${file} add up to more than ${MAX_SIDECARS_TOTAL_BYTES} bytes`,
        );
      throw e;
    });
    left -= (bytes as Buffer).length;
    sidecars.set(sidecar, { name: sidecar, bytes: bytes as Buffer, digest: sha256Digest(bytes as Buffer) });
  }
  const record = sidecars.get(`${file}.waybill.json`);
  if (record) {
    const bound = recordDigests(record.bytes, site.describe([name, version, record.name]));
    if (!bound.includes(digest))
      throw new ReleaseIntegrityError(input, file, digest, bound.join(', '), 'the release record');
  }

  const size = indexed?.size;
  const artifact =
    location.site.kind === 'local'
      ? await checkLocalArtifact(location, location.site.root, digest)
      : await fetchArtifact(location, site, digest, size, options);
  return {
    location,
    digest,
    size: artifact.size,
    artifactPath: artifact.path,
    downloaded: artifact.downloaded,
    sums,
    ...(index ? { index } : {}),
    ...(indexed ? { indexed } : {}),
    sidecars,
    sidecarNames,
    notes,
    locate: (n) => site.describe([name, version, n]),
    readFile: (sidecar, maxBytes = MAX_SIDECAR_BYTES) => readChecked(sidecar, maxBytes),
  };
}

interface LocalArtifact {
  path: string;
  size: number;
  downloaded: boolean;
}

async function checkLocalArtifact(
  location: ReleaseLocation,
  root: string,
  digest: string,
): Promise<LocalArtifact> {
  const path = join(root, location.name, location.version, location.file);
  const actual = await sha256File(path, undefined, { input: location.input });
  if (actual !== digest)
    throw new ReleaseIntegrityError(location.input, location.file, actual, digest, 'SHA256SUMS');
  return { path, size: (await stat(path)).size, downloaded: false };
}

/** `CACHE/releases/sha256/<hex>/FILE`: by digest, under the file's own name. */
export function releaseCachePath(cacheDir: string, digest: string, file: string): string {
  return join(cacheDir, 'releases', 'sha256', digestHex(digest), file);
}

async function fetchArtifact(
  location: ReleaseLocation,
  site: SiteReader,
  digest: string,
  size: number | undefined,
  options: ReadReleaseOptions,
): Promise<LocalArtifact> {
  if (location.site.kind !== 'http') throw new Error('fetchArtifact: not an http site');
  const { input, file } = location;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const path = releaseCachePath(cacheDir, digest, file);
  const cached = await lstat(path).catch(() => undefined);
  if (cached?.isFile()) {
    // Checked again before use: the cache is the user's, but a file can be damaged or replaced.
    if ((await sha256File(path)) === digest) return { path, size: cached.size, downloaded: false };
  }
  if (cached) await rm(path, { force: true });
  // A download of this or another release killed midway left its temp file: removed now.
  await removeInterruptedDownloads(cacheDir);
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const url = new URL(
    [location.name, location.version, file].map(encodeURIComponent).join('/'),
    location.site.root,
  );
  const limit = artifactLimits().maxBytes;
  let total = 0;
  let received = 0;
  await downloadToFile(
    path,
    async () => {
      const response = await siteGet(url, input, file, options.site);
      if (!response)
        throw new WaybillError(
          'NOT_FOUND',
          input,
          `${site.describe([location.name, location.version, file])}: not found`,
        );
      const declared = Number(header(response, 'content-length'));
      // More bytes than index.json lists cannot be the release: refused before downloading them. Fewer
      // are downloaded and hashed, so the error names both digests.
      if (Number.isFinite(declared) && size !== undefined && declared > size) {
        response.body.destroy();
        throw new ReleaseIntegrityError(input, file, `${declared} bytes`, `${size} bytes`, 'index.json');
      }
      total = size ?? (Number.isFinite(declared) ? declared : 0);
      if (total > limit) {
        response.body.destroy();
        throw new WaybillError(
          'LIMIT',
          input,
          `${file} is ${total} bytes, over the ${limit}-byte limit (WAYBILL_MAX_ARTIFACT_BYTES)`,
        );
      }
      return Readable.from(checkedBytes(response.body, { input, file, digest, limit, size }));
    },
    (n) => {
      received += n;
      options.onProgress?.(received, total);
    },
  );
  return { path, size: (await lstat(path)).size, downloaded: true };
}

/** The bytes of `body`, hashed as they pass; at the end, an integrity error if they are not `digest`. */
async function* checkedBytes(
  body: AsyncIterable<Buffer>,
  expected: { input: string; file: string; digest: string; limit: number; size: number | undefined },
): AsyncGenerator<Buffer> {
  const { input, file, digest, limit, size } = expected;
  const check = new DigestCheck(undefined, { input });
  let seen = 0;
  const chunks = body[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await chunks.next();
    } catch (e) {
      // A connection broken midway: retryable (downloadToFile starts the file again). A transfer
      // below the minimum rate already says so.
      if (e instanceof NetworkFailure) throw e;
      const code = (e as NodeJS.ErrnoException).code ?? 'ECONNRESET';
      throw new NetworkFailure(code, `the connection broke off while reading ${file}`, { cause: e });
    }
    if (next.done) break;
    const chunk = next.value;
    seen += chunk.length;
    if (size !== undefined && seen > size)
      throw new ReleaseIntegrityError(input, file, `more than ${size} bytes`, `${size} bytes`, 'index.json');
    if (seen > limit)
      throw new WaybillError(
        'LIMIT',
        input,
        `${file} is over the ${limit}-byte limit (WAYBILL_MAX_ARTIFACT_BYTES)`,
      );
    check.update(chunk);
    yield chunk;
  }
  const actual = check.finish().digest;
  if (actual !== digest) throw new ReleaseIntegrityError(input, file, actual, digest, 'SHA256SUMS');
}
