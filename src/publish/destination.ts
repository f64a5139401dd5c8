/**
 * Where a copy or publish goes, from a reference:
 *
 * | reference | destination |
 * |---|---|
 * | `docker://HOST/REPO[:TAG][@DIGEST]` | a registry repository; the tag moves last |
 * | `oci:DIR[:TAG]` | an OCI layout directory (created when missing); index.json written once |
 * | `oci-archive:TAR[:TAG]` | an oci-archive (created, or rewritten with one rename) |
 * | `dir:ROOT`, `file:///ROOT` | a release directory (`ROOT/NAME/VERSION/FILE` + sidecars), src/publish/release-dir.ts |
 *
 * Layout destinations are written under their lock (the one `stamp` takes), so a stamp and a copy
 * into the same layout never interleave.
 */
import { lstat } from 'node:fs/promises';
import { WaybillError } from '../errors.ts';
import { OciLayout } from '../oci/layout.ts';
import type { BlobCache } from '../registry/blob-cache.ts';
import { fileSource } from '../registry/blobs.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { DOCKER_TRANSPORT, formatReference, parseDockerReference } from '../registry/reference.ts';
import { openRepository } from '../registry/repository.ts';
import type { GraphSink } from './graph.ts';
import { ArchiveSink, LayoutDirectorySink } from './layout-endpoint.ts';
import { RegistryGraphSink } from './registry-target.ts';
import { parseReleaseTarget } from './release-location.ts';

export type Destination =
  | {
      kind: 'registry';
      ref: string /** Whether the reference names a tag or digest itself. */;
      explicit: boolean;
    }
  | { kind: 'oci' | 'oci-archive'; ref: string; path: string; tag?: string }
  | { kind: 'release-dir'; ref: string; root: string };

/** A layout tag: what a docker tag may be (no control characters, nothing a path could misread). */
const LAYOUT_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

/** `docker://host/repo` names neither a tag nor a digest: the caller chooses the tag. */
function namesTagOrDigest(rest: string): boolean {
  const lastSlash = rest.lastIndexOf('/');
  return rest.includes('@') || rest.indexOf(':', lastSlash + 1) !== -1;
}

export async function parseDestination(ref: string): Promise<Destination> {
  if (ref.startsWith(DOCKER_TRANSPORT)) {
    parseDockerReference(ref);
    return { kind: 'registry', ref, explicit: namesTagOrDigest(ref.slice(DOCKER_TRANSPORT.length)) };
  }
  const layout = /^(oci|oci-archive):(.*)$/s.exec(ref);
  if (layout) {
    const kind = layout[1] as 'oci' | 'oci-archive';
    const rest = layout[2] as string;
    // As skopeo splits: PATH[:TAG] at the first colon, unless the whole names something that exists.
    const colon = rest.indexOf(':');
    const whole = colon === -1 || (await exists(rest));
    const path = whole ? rest : rest.slice(0, colon);
    const tag = whole ? undefined : rest.slice(colon + 1);
    if (path === '') throw new WaybillError('USAGE', ref, 'the destination names no path');
    if (tag !== undefined && !LAYOUT_TAG.test(tag))
      throw new WaybillError(
        'USAGE',
        ref,
        `tag ${JSON.stringify(tag)} is not a valid tag (letters, digits, "_", "." and "-", at most 128)`,
      );
    return { kind, ref, path, ...(tag !== undefined ? { tag } : {}) };
  }
  // A release directory: `dir:ROOT` or `file:///ROOT` (release-location.ts reads both).
  const root = parseReleaseTarget(ref);
  if (root !== undefined) return { kind: 'release-dir', ref, root };
  throw new WaybillError(
    'USAGE',
    ref,
    'unknown destination: use docker://HOST/REPO:TAG, oci:DIR[:TAG], oci-archive:TAR[:TAG], dir:ROOT or file:///ROOT',
  );
}

/** `docker://host/repo:tag` in canonical form (Docker Hub short names expanded). */
export function canonicalRegistryRef(ref: string): string {
  return `${DOCKER_TRANSPORT}${formatReference(parseDockerReference(ref))}`;
}

export interface SinkOptions {
  registry?: RegistryOptions;
  cache: BlobCache;
  chunkedAbove?: number;
}

/**
 * Runs `work` with a sink for `destination` (registry or layout; a release directory is no graph
 * sink), holding a layout's lock for the whole time. `tag`: the tag to move (registry destinations
 * carry their own; a layout without one gets it from here).
 */
export async function withGraphSink<T>(
  destination: Exclude<Destination, { kind: 'release-dir' }>,
  options: SinkOptions & { tag?: string; registryRef?: string },
  work: (sink: GraphSink) => Promise<T>,
): Promise<T> {
  if (destination.kind === 'registry') {
    const repository = openRepository(options.registryRef ?? destination.ref, options.registry);
    return work(
      new RegistryGraphSink(
        repository,
        options.cache,
        options.chunkedAbove !== undefined ? { chunkedAbove: options.chunkedAbove } : {},
      ),
    );
  }
  const tag = destination.tag ?? options.tag;
  // The lock `stamp` takes (loaded here only: a push to a registry needs none of the stamp code).
  const { withStampLock } = await import('../app/stamp-transaction.ts');
  if (destination.kind === 'oci') {
    // The lock file lives inside the layout: create the layout first.
    await OciLayout.init(destination.path);
    return withStampLock(destination.ref, { kind: 'oci', path: destination.path }, async () =>
      work(await LayoutDirectorySink.open(destination.path, tag)),
    );
  }
  const archiveExists = await exists(destination.path);
  return withStampLock(destination.ref, { kind: 'oci-archive', path: destination.path }, async () =>
    work(
      await ArchiveSink.open(destination.path, archiveExists, tag, async (reader, onBytes) => {
        const file = await options.cache.fetch(reader.descriptor, () => reader.open(), onBytes);
        return fileSource(file, reader.descriptor.digest, reader.descriptor.size);
      }),
    ),
  );
}
