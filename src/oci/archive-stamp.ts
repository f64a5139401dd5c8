/**
 * Stamping images stored as single tar files (containers-transports(5)):
 *
 * - `oci-archive:` is a tar of an OCI layout: stamped exactly like a layout directory, through an
 *   in-memory overlay of the tar, then written as a NEW tar next to the original and renamed over it.
 * - `docker-archive:` (`docker save` format) has a `manifest.json` listing each image's config file,
 *   RepoTags and layer files, and no manifest annotations: only the config LABELS are stamped. The
 *   config file gets its new content's digest as its name (`<hex>.json`, or `blobs/sha256/<hex>` in
 *   the Docker 25+ layout), manifest.json points at it, RepoTags and layers are kept. The image ID of
 *   a docker-archive image is its config digest, so that is the digest returned.
 *   Docker 25+ archives are also OCI layouts (index.json + blobs); there every OCI manifest that uses
 *   the same config is stamped too, so both views agree.
 *
 * In both cases a failure before the rename leaves the original archive byte for byte as it was.
 */
import { WaybillError } from '../errors.ts';
import { sha256Digest } from '../util/digest.ts';
import { OciArchiveLayout } from './archive-layout.ts';
import { isManifestMediaType, jsonBytes, readDescribedBlob, verifyDigest } from './layout.ts';
import { MAX_JSON_BLOB_BYTES, parseImageConfig, parseImageManifest, parseJsonValue } from './parse.ts';
import { type StampFacts, type StampResult, stampAnnotations, stampLayout, withLabels } from './stamp.ts';
import type { CommitOptions } from './tar-edit.ts';
import { TarFileEditor } from './tar-edit.ts';

/** Stamps image `ref` (tag, digest, or the only image) inside an oci-archive, rewriting it atomically. */
export async function stampOciArchive(
  archivePath: string,
  ref: string | undefined,
  facts: StampFacts,
  options?: CommitOptions,
): Promise<StampResult> {
  const store = await OciArchiveLayout.open(archivePath);
  const result = await stampLayout(store, ref, facts);
  await store.commit(options);
  return result;
}

export interface DockerArchiveStampResult {
  /** Config digests (the image ID) before and after. */
  oldDigest: string;
  newDigest: string;
  repoTags: string[];
  /** Present when the archive is also an OCI layout and its manifest was stamped as well. */
  oci?: StampResult;
}

/** One element of docker save's manifest.json. Other fields are kept as they are. */
interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
  [key: string]: unknown;
}

/**
 * Stamps config labels of the image `ref` in a docker-archive: a RepoTag (`name:tag`), `@N` (the
 * N-th image, as skopeo spells it), or nothing for an archive with one image.
 */
export async function stampDockerArchive(
  archivePath: string,
  ref: string | undefined,
  facts: StampFacts,
  options?: CommitOptions,
): Promise<DockerArchiveStampResult> {
  const values = stampAnnotations(facts);
  const tar = await TarFileEditor.open(archivePath);
  const entries = parseDockerManifest(await readRequired(tar, 'manifest.json'), archivePath);
  const position = chooseImage(entries, ref, archivePath);
  const entry = entries[position]!;
  const oldPath = entry.Config;
  const oldBytes = await readRequired(tar, oldPath);
  const oldDigest = sha256Digest(oldBytes);
  // The file name is the digest by convention; a mismatch means the archive was tampered with.
  const named = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(oldPath);
  if (named) verifyDigest(oldBytes, `sha256:${named[1]}`, `${archivePath}:${oldPath}`);

  const newBytes = jsonBytes(withLabels(parseImageConfig(oldBytes, `${archivePath}:${oldPath}`), values));
  const newDigest = sha256Digest(newBytes);
  const newHex = newDigest.slice('sha256:'.length);
  const newPath = named ? oldPath.replace(named[1]!, newHex) : `${newHex}.json`;
  const isOciLayout = tar.has('index.json') && tar.has('oci-layout');

  let oci: StampResult | undefined;
  if (isOciLayout) oci = await stampOciView(tar, oldDigest, facts);
  tar.put(newPath, newBytes);
  const stillUsed = entries.some((e, i) => i !== position && e.Config === oldPath);
  // In a Docker 25+ archive the old config is also an OCI blob other manifests may reference; keep it.
  if (!stillUsed && !isOciLayout && newPath !== oldPath) tar.remove(oldPath);
  const newEntries = entries.map((e, i) => (i === position ? { ...e, Config: newPath } : e));
  tar.put('manifest.json', jsonBytes(newEntries));
  await tar.commit(options);
  return { oldDigest, newDigest, repoTags: entry.RepoTags ?? [], oci };
}

/**
 * Stamps, in a Docker 25+ archive, every index.json entry whose manifest uses the config being
 * stamped (the same image under each of its tags), so the OCI view and manifest.json agree: both
 * end up naming the same new config blob, because stamping the same config gives the same bytes.
 */
async function stampOciView(
  tar: TarFileEditor,
  oldConfigDigest: string,
  facts: StampFacts,
): Promise<StampResult | undefined> {
  const store = await OciArchiveLayout.fromEditor(tar);
  const index = await store.readIndex();
  let last: StampResult | undefined;
  for (const d of index.manifests) {
    if (!isManifestMediaType(d.mediaType)) continue;
    const manifest = parseImageManifest(await readDescribedBlob(store, d), `${tar.path}@${d.digest}`);
    if (manifest.config.digest !== oldConfigDigest) continue;
    // Each call moves the first entry still naming the old digest; the result is the same every time.
    last = await stampLayout(store, d.digest, facts);
  }
  return last;
}

async function readRequired(tar: TarFileEditor, path: string): Promise<Buffer> {
  if (!tar.has(path))
    throw new WaybillError('MALFORMED', tar.path, `not a docker-archive: no ${path} in the tar`);
  return tar.read(path, MAX_JSON_BLOB_BYTES);
}

function parseDockerManifest(bytes: Buffer, archive: string): DockerManifestEntry[] {
  const where = `${archive}:manifest.json`;
  const v = parseJsonValue(bytes, where);
  if (!Array.isArray(v) || v.length === 0)
    throw new WaybillError('MALFORMED', where, 'must be a non-empty JSON array');
  v.forEach((e, i) => {
    const ok =
      typeof e === 'object' &&
      e !== null &&
      typeof e.Config === 'string' &&
      e.Config !== '' &&
      Array.isArray(e.Layers) &&
      e.Layers.every((l: unknown) => typeof l === 'string') &&
      (e.RepoTags === undefined ||
        e.RepoTags === null ||
        (Array.isArray(e.RepoTags) && e.RepoTags.every((t: unknown) => typeof t === 'string')));
    if (!ok)
      throw new WaybillError('MALFORMED', where, `entry ${i} needs Config, Layers and string RepoTags`);
  });
  return v as DockerManifestEntry[];
}

function chooseImage(entries: DockerManifestEntry[], ref: string | undefined, archive: string): number {
  if (ref === undefined || ref === '') {
    if (entries.length === 1) return 0;
    throw new WaybillError(
      'USAGE',
      archive,
      `the archive holds ${entries.length} images; name one by tag or @N`,
    );
  }
  const at = /^@(\d+)$/.exec(ref);
  if (at) {
    const n = Number(at[1]);
    if (n < entries.length) return n;
    throw new WaybillError('NOT_FOUND', `${archive}:${ref}`, `the archive holds ${entries.length} images`);
  }
  const i = entries.findIndex((e) => (e.RepoTags ?? []).includes(ref));
  if (i === -1) throw new WaybillError('NOT_FOUND', `${archive}:${ref}`, 'no image with this RepoTag');
  return i;
}
