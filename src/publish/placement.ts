/**
 * Where `publish` puts an artifact: the destination with its tag resolved (the record's version when
 * the target names none), the target as the publication statement records it, and the destination
 * read as a graph source when it exists — to find what an earlier publish left there.
 */
import { lstat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { WaybillError } from '../errors.ts';
import type { BlobCache } from '../registry/blob-cache.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { DOCKER_TRANSPORT, formatReference, parseDockerReference } from '../registry/reference.ts';
import { openRepository } from '../registry/repository.ts';
import { DirectoryBlobStore } from '../sources/blob-store.ts';
import { openTarBlobStore } from '../sources/oci-archive.ts';
import { canonicalRegistryRef, type Destination, parseDestination } from './destination.ts';
import { fileGraph } from './file-graph.ts';
import type { GraphSource } from './graph.ts';
import { LayoutGraphSource } from './layout-endpoint.ts';
import { RegistryGraphSource } from './registry-target.ts';

/** Where the artifact lands and how the publication statement names it. */
export interface Placement {
  destination: Destination;
  /** The target as the statement records it (`docker://HOST/REPO:TAG`, `oci:DIR:TAG`, `dir:ROOT`). */
  target: string;
  /** The registry reference with its tag resolved. */
  registryRef?: string;
  tag?: string;
}

export async function place(targetRef: string, defaultTag: string): Promise<Placement> {
  const destination = await parseDestination(targetRef);
  switch (destination.kind) {
    case 'registry': {
      const registryRef = destination.explicit ? destination.ref : `${destination.ref}:${defaultTag}`;
      const reference = parseDockerReference(registryRef);
      if (reference.digest !== undefined)
        throw new WaybillError(
          'USAGE',
          targetRef,
          'publish to a tag (docker://HOST/REPO:TAG): a digest cannot be chosen, it is what the artifact hashes to',
        );
      return { destination, target: canonicalRegistryRef(registryRef), registryRef };
    }
    case 'oci':
    case 'oci-archive': {
      const tag = destination.tag ?? defaultTag;
      return { destination, target: `${destination.kind}:${resolve(destination.path)}:${tag}`, tag };
    }
    case 'release-dir':
      return { destination, target: `dir:${resolve(destination.root)}` };
  }
}

/** The destination as a graph source, when it exists: to find what an earlier publish left there. */
export async function existingDestination(
  placement: Placement,
  options: { registry?: RegistryOptions; cache: BlobCache },
  releasePath: string | undefined,
): Promise<GraphSource | undefined> {
  const { destination } = placement;
  const present = async (path: string) => (await lstat(path).catch(() => undefined)) !== undefined;
  switch (destination.kind) {
    case 'registry':
      return new RegistryGraphSource(
        openRepository(placement.registryRef ?? destination.ref, options.registry),
        options.cache,
      );
    case 'oci':
      return (await present(join(destination.path, 'index.json')))
        ? new LayoutGraphSource(destination.ref, new DirectoryBlobStore(destination.path), placement.tag)
        : undefined;
    case 'oci-archive':
      return (await present(destination.path))
        ? new LayoutGraphSource(destination.ref, await openTarBlobStore(destination.path), placement.tag)
        : undefined;
    case 'release-dir':
      return releasePath && (await present(releasePath))
        ? (await fileGraph(releasePath, releasePath)).source
        : undefined;
  }
}

/**
 * The immutable name of what is published: `docker://HOST/REPO@sha256:…` in a registry, the file in a
 * release directory (`releasePath`), else the target and the digest.
 */
export function publishedReference(
  placement: Placement,
  digest: string,
  releasePath: string | undefined,
): string {
  if (placement.destination.kind === 'registry') {
    const at = parseDockerReference(placement.registryRef ?? placement.destination.ref);
    return `${DOCKER_TRANSPORT}${formatReference({ registry: at.registry, repository: at.repository, digest })}`;
  }
  return releasePath ?? `${placement.target}@${digest}`;
}
