/**
 * `openArtifact(ref)`: the one entry point from a reference string to an Artifact. References use
 * the containers-transports(5) spelling (`oci:DIR:TAG`, `oci-archive:TAR`, `docker-archive:TAR`,
 * `docker://HOST/REPO:TAG`) plus waybill's `file:` and `dir:`, and release-directory URLs
 * (`https://HOST/NAME/VERSION/FILE`, `file:///ROOT/NAME/VERSION/FILE`); without a prefix, the kind is
 * detected from the content.
 */
import { stat } from 'node:fs/promises';
import { BLOCK_SIZE, indexTarFile, isTarHeader } from '../archive/tar-reader.ts';
import { isWaybillError, WaybillError } from '../errors.ts';
import { isReleaseReference } from '../publish/release-location.ts';
import { readFileHead } from '../util/read-head.ts';
import { describeFileType } from '../util/regular-file.ts';
import { openDir } from './dir.ts';
import { openDockerArchive } from './docker-archive.ts';
import { openFile } from './file.ts';
import { openOciLayout } from './oci.ts';
import { openOciArchive } from './oci-archive.ts';
import { releaseWriteError } from './published-read-only.ts';
import { isRegistryReference } from './registry-reference.ts';
import type { Artifact, ListedArtifact, OpenOptions, SourceKind } from './types.ts';

/** Transports naming a local path (`docker://` and release URLs are handled before these). */
type PathKind = Exclude<SourceKind, 'registry' | 'release'>;
const TRANSPORTS: readonly PathKind[] = ['file', 'dir', 'oci', 'oci-archive', 'docker-archive'];
/** Transports whose path may be followed by `:REFERENCE`. */
const WITH_REFERENCE: ReadonlySet<PathKind> = new Set(['oci', 'oci-archive', 'docker-archive']);

type PathInfo = Awaited<ReturnType<typeof stat>>;

async function statOrUndefined(path: string): Promise<PathInfo | undefined> {
  try {
    return await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * The artifact must exist and be a regular file or a directory: a FIFO, a device (`/dev/zero`,
 * `/dev/urandom`) or a socket is refused here, before anything opens it, whatever the transport.
 */
async function requireExisting(ref: string, path: string): Promise<PathInfo> {
  if (path === '') throw new WaybillError('USAGE', ref, 'the reference names no path');
  const info = await statOrUndefined(path);
  if (!info) {
    // The path is named once: twice when the reference is the plain path reads as a stutter.
    const reason = path === ref ? 'no such file or directory' : `${path}: no such file or directory`;
    throw new WaybillError('NOT_FOUND', ref, reason);
  }
  if (!info.isFile() && !info.isDirectory())
    throw new WaybillError(
      'USAGE',
      ref,
      `${path} is ${describeFileType(info)}, not a regular file or directory`,
    );
  return info;
}

/**
 * Splits `PATH[:REF]` as skopeo does (at the first colon), unless the whole string is an existing
 * path — then a colon in a file name still works.
 */
async function splitReference(rest: string): Promise<{ path: string; reference?: string }> {
  if (await statOrUndefined(rest)) return { path: rest };
  const colon = rest.indexOf(':');
  if (colon === -1) return { path: rest };
  return { path: rest.slice(0, colon), reference: rest.slice(colon + 1) };
}

/** Where a reference points: its transport (given or detected from the content), path and `:REF`. */
export interface ArtifactLocation {
  kind: PathKind;
  path: string;
  /** The part after `PATH:` for transports that take one (a tag, a digest, `@N`); absent without. */
  reference?: string;
}

/**
 * Resolves a reference to its kind and path without opening the artifact: enough to lock it (stamp)
 * before reading it. The path must exist and be a regular file or directory, as the kind requires.
 */
export async function locateArtifact(ref: string): Promise<ArtifactLocation> {
  if (isRegistryReference(ref)) {
    throw new WaybillError('USAGE', ref, 'a registry reference has no local path to lock or write');
  }
  if (isReleaseReference(ref)) throw releaseWriteError(ref);
  const prefixed = /^([a-z][a-z0-9-]*):(.*)$/s.exec(ref);
  if (prefixed) {
    const transport = prefixed[1] as string;
    if ((TRANSPORTS as readonly string[]).includes(transport))
      return locateWithTransport(ref, transport as PathKind, prefixed[2] as string);
    if (!(await statOrUndefined(ref))) {
      throw new WaybillError(
        'USAGE',
        ref,
        `unknown transport "${transport}:"; use one of ${TRANSPORTS.map((t) => `${t}:`).join(', ')}, docker:// or a plain path`,
      );
    }
  }
  await requireExisting(ref, ref);
  return { kind: await detectKind(ref), path: ref };
}

async function locateWithTransport(ref: string, kind: PathKind, rest: string): Promise<ArtifactLocation> {
  const { path, reference } = WITH_REFERENCE.has(kind) ? await splitReference(rest) : { path: rest };
  const info = await requireExisting(ref, path);
  const wantsDirectory = kind === 'dir' || kind === 'oci';
  if (wantsDirectory && !info.isDirectory())
    throw new WaybillError('USAGE', ref, `${path} is not a directory`);
  if (!wantsDirectory && !info.isFile())
    throw new WaybillError('USAGE', ref, `${path} is not a regular file`);
  return reference === undefined ? { kind, path } : { kind, path, reference };
}

export async function openArtifact(
  ref: string,
  options: OpenOptions & { digest: false },
): Promise<ListedArtifact>;
export async function openArtifact(ref: string, options?: OpenOptions): Promise<Artifact>;
export async function openArtifact(
  ref: string,
  options: OpenOptions = {},
): Promise<Artifact | ListedArtifact> {
  // The registry client is loaded for `docker://` references only, the release reader for release
  // URLs only.
  const artifact = isRegistryReference(ref)
    ? await (await import('./registry.ts')).openRegistryImage(ref, options)
    : isReleaseReference(ref)
      ? await (await import('./release.ts')).openReleaseArtifact(ref, options)
      : await openLocated(ref, await locateArtifact(ref), options);
  // Kept so a multi-platform walk can reopen the same reference per platform with the same options.
  artifact.options ??= options;
  return artifact;
}

/** Opens what `locateArtifact` found. */
export async function openLocated(
  ref: string,
  location: ArtifactLocation,
  options: OpenOptions & { digest: false },
): Promise<Artifact | ListedArtifact>;
export async function openLocated(
  ref: string,
  location: ArtifactLocation,
  options?: OpenOptions,
): Promise<Artifact>;
export async function openLocated(
  ref: string,
  { kind, path, reference }: ArtifactLocation,
  options: OpenOptions = {},
): Promise<Artifact | ListedArtifact> {
  switch (kind) {
    case 'file':
      return openFile(ref, path);
    case 'dir':
      return options.digest === false ? openDir(ref, path, { digest: false }) : openDir(ref, path);
    case 'oci':
      return openOciLayout(ref, path, reference === '' ? undefined : reference, options);
    case 'oci-archive':
      return openOciArchive(ref, path, reference === '' ? undefined : reference, options);
    case 'docker-archive':
      return openDockerArchive(ref, path, reference, options);
  }
}

/** What a plain path holds, from its content. */
export async function detectKind(path: string): Promise<PathKind> {
  const info = await stat(path);
  if (info.isDirectory()) return (await statOrUndefined(`${path}/oci-layout`))?.isFile() ? 'oci' : 'dir';
  const head = await readFileHead(path, BLOCK_SIZE);
  if (head.length < BLOCK_SIZE || !isTarHeader(head)) return 'file';
  try {
    const index = await indexTarFile(path);
    if (index.has('oci-layout') && index.has('index.json')) return 'oci-archive';
    if (index.has('manifest.json')) return 'docker-archive';
  } catch (e) {
    // A damaged tarball is still a file; walking it reports the damage.
    if (!isWaybillError(e)) throw e;
  }
  return 'file';
}
