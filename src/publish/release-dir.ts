/**
 * Publishing into a release directory, the layout of tarball-style download sites
 * (docs/publish-directory.md):
 *
 *     ROOT/NAME/index.json                        every published version (release-index.ts)
 *     ROOT/NAME/VERSION/FILE                      the artifact
 *     ROOT/NAME/VERSION/FILE.waybill.json         its sidecars: record, SBOM, bundles, rebuild kit…
 *     ROOT/NAME/VERSION/SHA256SUMS                every file of the version directory (sha256sums.ts)
 *
 * One publication is one operation, under a lock on `ROOT/NAME` (`.waybill.lock`, util/lock.ts):
 *
 * 1. everything is checked first — the names, the bundle (its record must bind the artifact's
 *    digest), the index, and what the version directory already holds: every file there is hashed and
 *    must match the SHA256SUMS it has; a file the new release would replace must be identical. A
 *    published file is never replaced: a different FILE under the same NAME/VERSION is CONFLICT (exit
 *    2), with or without `force`, and nothing is changed. A version may gain files (another
 *    architecture's artifact) but never change one;
 * 2. the new files are written, complete and fsync'd, into a staging directory in `ROOT/NAME`
 *    (util/staging.ts), the artifact streamed through a digest check;
 * 3. renames publish them in an order where a reader never sees a half release as published: the
 *    sidecars (record first), the artifact, then `SHA256SUMS` (now covering them), then `index.json`
 *    last. A crash before the last rename leaves the old index: the release is not listed. A journal
 *    written before the first rename lets the next publication of the name finish the renames.
 *
 * Publishing the same artifact (same digest) again changes nothing and says so. With `force`, the
 * sidecars of an already-published artifact are replaced by the given ones (a signature added later,
 * a corrected SBOM); the artifact itself, and its first publication date, stay.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { parseRfc3339 } from '../policy/rfc3339.ts';
import { parseRecord } from '../record/schema.ts';
import { checkDirectories } from '../util/atomic-write.ts';
import { crashPoint } from '../util/crash-point.ts';
import { DigestCheck, parseSha256Digest, sha256Digest } from '../util/digest.ts';
import { withLock } from '../util/lock.ts';
import { openRegularFile, readRegularFileIfPresent, statRegularFile } from '../util/regular-file.ts';
import { recoverStaging, StagingArea } from '../util/staging.ts';
import { lockName } from '../util/temp-names.ts';
import {
  emptyReleaseIndex,
  FILE_KIND,
  findIndexedArtifact,
  type IndexedArtifact,
  type IndexedFile,
  MAX_INDEX_BYTES,
  parseReleaseIndex,
  type ReleaseIndex,
  serializeReleaseIndex,
  withIndexedArtifact,
} from './release-index.ts';
import { INDEX_FILE, isSidecarName, requireSegment, SUMS_FILE, segmentProblem } from './release-names.ts';
import { formatSha256Sums } from './sha256sums.ts';
import { readVersionDirectory, type VersionFile } from './version-directory.ts';

export interface ReleaseBundle {
  name: string;
  version: string;
  /** The local file to publish. */
  artifactPath: string;
  /** FILE in NAME/VERSION/FILE. */
  artifactFileName: string;
  /** `sha256:<hex>` of the artifact file. */
  digest: string;
  /**
   * Sidecars, each named `FILE.<suffix>`: the record (`FILE.waybill.json`, kind `record`), the SBOM
   * (`FILE.cdx.json` / `FILE.spdx.json`, `sbom`), bundles (`FILE.<kind>.sigstore.json`, `bundle`),
   * `FILE.intoto.jsonl` (`intoto`), the publication statement (`publication`), the rebuild kit
   * (`rebuild-kit`). `kind` is a short lowercase word, recorded in index.json.
   */
  files: Array<{ fileName: string; bytes: Buffer; kind: string }>;
  /** RFC 3339 UTC, or null when unknown. */
  built: string | null;
  /** RFC 3339 UTC. */
  published: string;
}

export interface PublishOutcome {
  /** `ROOT/NAME/VERSION/FILE`. */
  target: string;
  changed: boolean;
  /** Paths written, relative to ROOT, in the order they were published. */
  written: string[];
  /** One line for the user. */
  message: string;
}

export interface PublishToDirectoryOptions {
  /** Replace the sidecars of an already-published identical artifact (never a different artifact). */
  force?: boolean;
  /** Bytes staged so far, and the total (artifact and sidecars). */
  onProgress?: (done: number, total: number) => void;
}

/** Renames a publication journal may hold: `index.json`, and `VERSION/FILE` in this name. */
function allowedTarget(to: string): boolean {
  if (to === INDEX_FILE) return true;
  const parts = to.split('/');
  return (
    parts.length === 2 &&
    segmentProblem(parts[0] as string, 'version') === undefined &&
    (parts[1] === SUMS_FILE || segmentProblem(parts[1] as string, 'file') === undefined)
  );
}

/** Order of the sidecar renames: the record first (see stamp-transaction.ts), then the SBOM, then the rest. */
function sidecarRank(kind: string): number {
  return kind === 'record' ? 0 : kind === 'sbom' ? 1 : 2;
}

interface CheckedBundle {
  release: ReleaseBundle;
  target: string;
  files: ReleaseBundle['files'];
}

function requireUtcDate(value: string, field: string, input: string): string {
  if (!parseRfc3339(value) || !/[Zz]$/.test(value))
    throw new WaybillError(
      'USAGE',
      input,
      `${field} ${JSON.stringify(value)} is not an RFC 3339 UTC date-time`,
    );
  return value;
}

/** Validates everything about the bundle that needs no directory. USAGE naming what is wrong. */
function checkBundle(root: string, release: ReleaseBundle): CheckedBundle {
  const target = join(root, release.name, release.version, release.artifactFileName);
  const input = `${release.name} ${release.version}`;
  requireSegment(release.name, 'name', input);
  requireSegment(release.version, 'version', input);
  requireSegment(release.artifactFileName, 'file', input);
  parseSha256Digest(release.digest, input, 'the artifact digest');
  if (release.built !== null) requireUtcDate(release.built, 'built', input);
  requireUtcDate(release.published, 'published', input);
  const names = new Set<string>();
  for (const f of release.files) {
    if (!isSidecarName(release.artifactFileName, f.fileName))
      throw new WaybillError(
        'USAGE',
        input,
        `sidecar ${JSON.stringify(f.fileName)} is not named ${release.artifactFileName}.<suffix> (one plain name)`,
      );
    if (names.has(f.fileName)) throw new WaybillError('USAGE', input, `sidecar ${f.fileName} is given twice`);
    names.add(f.fileName);
    if (!FILE_KIND.test(f.kind))
      throw new WaybillError(
        'USAGE',
        input,
        `sidecar ${f.fileName}: kind ${JSON.stringify(f.kind)} is not a short lowercase word`,
      );
    if (f.kind === 'record') {
      const record = parseRecord(f.bytes.toString('utf8'), f.fileName);
      const bound = record.subject.map((s) => `sha256:${s.digest.sha256}`);
      if (!bound.includes(release.digest))
        throw new WaybillError(
          'USAGE',
          f.fileName,
          `the record binds ${bound.join(', ')}, not the artifact ${release.artifactFileName} (${release.digest})`,
        );
    }
  }
  const files = [...release.files].sort(
    (a, b) => sidecarRank(a.kind) - sidecarRank(b.kind) || (a.fileName < b.fileName ? -1 : 1),
  );
  return { release, target, files };
}

async function readIndex(nameDir: string, name: string): Promise<ReleaseIndex> {
  const path = join(nameDir, INDEX_FILE);
  const bytes = await readRegularFileIfPresent(path, {
    maxBytes: MAX_INDEX_BYTES,
    noFollow: true,
    code: 'UNSAFE_PATH',
  });
  return bytes ? parseReleaseIndex(bytes.toString('utf8'), path, name) : emptyReleaseIndex(name);
}

/**
 * Publishes `release` into the release directory at `root` (which must exist). Returns what changed;
 * throws CONFLICT when the directory holds a different file under the release's name and version,
 * and a one-line WaybillError for anything unreadable — in both cases with nothing changed.
 */
export async function publishToReleaseDirectory(
  root: string,
  release: ReleaseBundle,
  options: PublishToDirectoryOptions = {},
): Promise<PublishOutcome> {
  const bundle = checkBundle(root, release);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory())
    throw new WaybillError(
      'NOT_FOUND',
      root,
      info ? 'is not a directory' : 'no such directory (create the release directory first)',
    );
  await statRegularFile(release.artifactPath);
  await checkDirectories(root, release.name, { create: true });
  const nameDir = join(root, release.name);
  return withLock(join(nameDir, lockName('')), nameDir, async () => {
    await crashPoint('release:locked');
    const recovery = await recoverStaging(nameDir, '', allowedTarget);
    const outcome = await publishLocked(root, nameDir, bundle, options);
    if (recovery.completed.length === 0) return outcome;
    return {
      ...outcome,
      changed: true,
      written: [...recovery.completed.map((to) => `${release.name}/${to}`), ...outcome.written],
      message: `finished an interrupted publication (${recovery.completed.join(', ')}); ${outcome.message}`,
    };
  });
}

async function publishLocked(
  root: string,
  nameDir: string,
  { release, target, files }: CheckedBundle,
  options: PublishToDirectoryOptions,
): Promise<PublishOutcome> {
  const { name, version, artifactFileName: file, digest } = release;
  const index = await readIndex(nameDir, name);
  const indexed = findIndexedArtifact(index, version, file);
  const existing = await readVersionDirectory(join(nameDir, version));
  const present = existing.files.get(file);
  const conflict = (held: string) =>
    new WaybillError(
      'CONFLICT',
      target,
      `already holds ${held}, not this release's ${digest}; a published file is never replaced (publish a new version)`,
    );
  if (present && present.digest !== digest) throw conflict(present.digest);
  if (indexed && indexed.digest !== digest) throw conflict(`${indexed.digest} (in ${name}/${INDEX_FILE})`);
  checkNameClash(index, version, file, files);

  const sidecarsDiffer = files.some((f) => existing.files.get(f.fileName)?.digest !== sha256Digest(f.bytes));
  const complete = indexed !== undefined && present !== undefined && existing.sums.get(file) === digest;
  if (complete && !(options.force && sidecarsDiffer)) {
    const hint = sidecarsDiffer
      ? ' (the given sidecars differ from the published ones: force replaces them)'
      : '';
    return {
      target,
      changed: false,
      written: [],
      message: `${name} ${version}: ${file} (${digest}) is already published in ${root}; nothing changed${hint}`,
    };
  }

  // The version directory after this publication: what is there, with the new files over it.
  const final = new Map<string, VersionFile>(existing.files);
  const staged: Array<{ name: string; kind?: string; bytes?: Buffer }> = [];
  for (const f of files) {
    const d = sha256Digest(f.bytes);
    if (existing.files.get(f.fileName)?.digest === d) continue;
    staged.push({ name: f.fileName, kind: f.kind, bytes: f.bytes });
    final.set(f.fileName, { digest: d, size: f.bytes.length });
  }
  const artifactSize = (await statRegularFile(release.artifactPath)).size;
  if (!present) {
    staged.push({ name: file });
    final.set(file, { digest, size: artifactSize });
  }
  const sums = formatSha256Sums([...final].map(([n, f]) => ({ name: n, digest: f.digest })));
  const entry: IndexedArtifact = {
    file,
    digest,
    size: artifactSize,
    built: release.built,
    // The first publication's date stays: a repair or a forced sidecar update is not a new release.
    published: indexed?.published ?? release.published,
    files: sidecarEntries(indexed, files, final),
  };
  const newIndex = serializeReleaseIndex(withIndexedArtifact(index, version, entry));

  await checkDirectories(nameDir, version, { create: true });
  const staging = await StagingArea.create(nameDir, '');
  const written: string[] = [];
  try {
    const total = artifactSize + files.reduce((sum, f) => sum + f.bytes.length, 0);
    let done = 0;
    const progress = (n: number) => {
      done += n;
      options.onProgress?.(done, total);
    };
    for (const s of staged) {
      if (s.bytes) await staging.write(s.name, s.bytes);
      else await stageArtifact(staging, s.name, release.artifactPath, digest, progress);
      if (s.bytes) progress(s.bytes.length);
      staging.publish(s.name, `${version}/${s.name}`);
      written.push(`${name}/${version}/${s.name}`);
    }
    await staging.write(SUMS_FILE, sums);
    staging.publish(SUMS_FILE, `${version}/${SUMS_FILE}`);
    written.push(`${name}/${version}/${SUMS_FILE}`);
    await staging.write(INDEX_FILE, newIndex);
    staging.publish(INDEX_FILE, INDEX_FILE);
    written.push(`${name}/${INDEX_FILE}`);
    await crashPoint('release:staged');
    await staging.commit();
  } finally {
    await staging.discard();
  }
  const what = present
    ? staged.length > 0
      ? 'its sidecars'
      : `the ${SUMS_FILE} and index entry of ${file}`
    : `${file} and ${files.length} sidecar${files.length === 1 ? '' : 's'}`;
  return {
    target,
    changed: true,
    written,
    message: `published ${name} ${version}: ${what} in ${join(root, name, version)}; ${name}/${INDEX_FILE} lists it`,
  };
}

/**
 * The index's sidecar list for the artifact: the given sidecars, and those of an earlier publication
 * of the same artifact that are still in the directory (a forced update replaces, never removes).
 */
function sidecarEntries(
  indexed: IndexedArtifact | undefined,
  files: ReleaseBundle['files'],
  final: Map<string, VersionFile>,
): IndexedFile[] {
  const entries = new Map<string, IndexedFile>();
  for (const f of indexed?.files ?? []) {
    const now = final.get(f.name);
    if (now) entries.set(f.name, { ...f, digest: now.digest, size: now.size });
  }
  for (const f of files)
    entries.set(f.fileName, {
      name: f.fileName,
      kind: f.kind,
      digest: sha256Digest(f.bytes),
      size: f.bytes.length,
    });
  return [...entries.values()];
}

/** A name the new artifact or its sidecars would take that another artifact of the version owns. */
function checkNameClash(
  index: ReleaseIndex,
  version: string,
  file: string,
  files: ReleaseBundle['files'],
): void {
  const others =
    index.versions.find((v) => v.version === version)?.artifacts.filter((a) => a.file !== file) ?? [];
  const owner = new Map<string, string>();
  for (const a of others) for (const n of [a.file, ...a.files.map((f) => f.name)]) owner.set(n, a.file);
  for (const n of [file, ...files.map((f) => f.fileName)]) {
    const held = owner.get(n);
    if (held)
      throw new WaybillError(
        'CONFLICT',
        `${index.name}/${version}/${n}`,
        `is already published as part of ${held}`,
      );
  }
}

/** Copies the artifact into the staging area through a digest check: what is published is `digest`. */
async function stageArtifact(
  staging: StagingArea,
  name: string,
  source: string,
  digest: string,
  progress: (n: number) => void,
): Promise<void> {
  const out = await staging.create(name);
  const check = new DigestCheck(digest, { input: source });
  const { handle } = await openRegularFile(source);
  try {
    for await (const chunk of handle.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      check.update(chunk);
      await out.write(chunk);
      progress(chunk.length);
    }
    check.finish();
    await out.finish();
  } catch (e) {
    await out.abort();
    throw e;
  } finally {
    await handle.close();
  }
}
