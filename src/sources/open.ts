/**
 * `openArtifact(ref)`: the one entry point from a reference string to an Artifact. References use
 * the containers-transports(5) spelling (`oci:DIR:TAG`, `oci-archive:TAR`, `docker-archive:TAR`,
 * `docker://HOST/REPO:TAG`) plus waybill's `file:` and `dir:`; without a prefix, the kind is
 * detected from the content.
 */
import { open, stat } from 'node:fs/promises';
import { BLOCK_SIZE, indexTarFile, isTarHeader } from '../archive/tar-reader.ts';
import { isWaybillError, WaybillError } from '../errors.ts';
import { openDir } from './dir.ts';
import { openDockerArchive } from './docker-archive.ts';
import { openFile } from './file.ts';
import { openOciLayout } from './oci.ts';
import { openOciArchive } from './oci-archive.ts';
import { isRegistryReference, openRegistryImage } from './registry.ts';
import type { Artifact, OpenOptions, SourceKind } from './types.ts';

/** Transports naming a local path (`docker://` is handled before these). */
type PathKind = Exclude<SourceKind, 'registry'>;
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

async function requireExisting(ref: string, path: string): Promise<PathInfo> {
  if (path === '') throw new WaybillError('USAGE', ref, 'the reference names no path');
  const info = await statOrUndefined(path);
  if (!info) throw new WaybillError('NOT_FOUND', ref, `${path}: no such file or directory`);
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

export async function openArtifact(ref: string, options: OpenOptions = {}): Promise<Artifact> {
  const artifact = await openAny(ref, options);
  artifact.options ??= options;
  return artifact;
}

async function openAny(ref: string, options: OpenOptions): Promise<Artifact> {
  if (isRegistryReference(ref)) return openRegistryImage(ref, options);
  const prefixed = /^([a-z][a-z0-9-]*):(.*)$/s.exec(ref);
  if (prefixed) {
    const transport = prefixed[1] as string;
    if ((TRANSPORTS as readonly string[]).includes(transport)) {
      return openWithTransport(ref, transport as PathKind, prefixed[2] as string, options);
    }
    if (!(await statOrUndefined(ref))) {
      throw new WaybillError(
        'USAGE',
        ref,
        `unknown transport "${transport}:"; use one of ${TRANSPORTS.map((t) => `${t}:`).join(', ')}, docker:// or a plain path`,
      );
    }
  }
  return openDetected(ref, ref, options);
}

async function openWithTransport(
  ref: string,
  kind: PathKind,
  rest: string,
  options: OpenOptions,
): Promise<Artifact> {
  const { path, reference } = WITH_REFERENCE.has(kind) ? await splitReference(rest) : { path: rest };
  const info = await requireExisting(ref, path);
  const wantsDirectory = kind === 'dir' || kind === 'oci';
  if (wantsDirectory && !info.isDirectory())
    throw new WaybillError('USAGE', ref, `${path} is not a directory`);
  if (!wantsDirectory && !info.isFile())
    throw new WaybillError('USAGE', ref, `${path} is not a regular file`);
  switch (kind) {
    case 'file':
      return openFile(ref, path);
    case 'dir':
      return openDir(ref, path);
    case 'oci':
      return openOciLayout(ref, path, reference === '' ? undefined : reference, options);
    case 'oci-archive':
      return openOciArchive(ref, path, reference === '' ? undefined : reference, options);
    case 'docker-archive':
      return openDockerArchive(ref, path, reference, options);
  }
}

/** What a plain path holds, from its content. */
export async function detectKind(path: string): Promise<SourceKind> {
  const info = await stat(path);
  if (info.isDirectory()) return (await statOrUndefined(`${path}/oci-layout`))?.isFile() ? 'oci' : 'dir';
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    head = Buffer.alloc(BLOCK_SIZE);
    const { bytesRead } = await handle.read(head, 0, BLOCK_SIZE, 0);
    if (bytesRead < BLOCK_SIZE) return 'file';
  } finally {
    await handle.close();
  }
  if (!isTarHeader(head)) return 'file';
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

async function openDetected(ref: string, path: string, options: OpenOptions): Promise<Artifact> {
  await requireExisting(ref, path);
  const kind = await detectKind(path);
  switch (kind) {
    case 'oci':
      return openOciLayout(ref, path, undefined, options);
    case 'dir':
      return openDir(ref, path);
    case 'oci-archive':
      return openOciArchive(ref, path, undefined, options);
    case 'docker-archive':
      return openDockerArchive(ref, path, undefined, options);
    default:
      return openFile(ref, path);
  }
}
