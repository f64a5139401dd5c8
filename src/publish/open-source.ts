/**
 * The source of a copy or publish, from a reference: what the graph is read from.
 *
 * | reference | graph |
 * |---|---|
 * | `docker://…` | the registry's manifests, blobs and referrers |
 * | `oci:DIR[:REF]`, `oci-archive:TAR[:REF]` | the layout's index, blobs and attachments |
 * | `file:PATH`, a path to a file (a release directory's `NAME/VERSION/FILE` too) | the file as an OCI artifact (file-artifact.ts), its sidecars as attachments (sidecars.ts) |
 *
 * A directory (`dir:`) or a docker-archive has no OCI form to copy: one line says what to do instead.
 */
import { dirname, resolve } from 'node:path';
import { WaybillError } from '../errors.ts';
import type { BlobCache } from '../registry/blob-cache.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { openRepository } from '../registry/repository.ts';
import { DirectoryBlobStore } from '../sources/blob-store.ts';
import { openTarBlobStore } from '../sources/oci-archive.ts';
import { isRegistryReference } from '../sources/registry.ts';
import type { LocalFile } from './file-graph.ts';
import type { GraphSource } from './graph.ts';
import { LayoutGraphSource } from './layout-endpoint.ts';
import { AddedGraph } from './memory-source.ts';
import { RegistryGraphSource } from './registry-target.ts';
import { isReleaseReference } from './release-location.ts';
import { attachmentOf } from './sidecar-attachment.ts';
import { kitsListing } from './sidecars.ts';

export interface CopySource {
  source: GraphSource;
  /** Set when the source is a local file carried as an OCI artifact. */
  file?: LocalFile;
  /** Set when the source is a registry repository. */
  registry?: RegistryGraphSource;
}

export interface SourceOptions {
  registry?: RegistryOptions;
  cache: BlobCache;
}

/**
 * A layout that `build` made has its rebuild kit next to it, not inside: the kits in the layout's
 * directory that list the image (by its manifest digest) join the graph as attachments.
 */
async function withKits(layout: LayoutGraphSource, layoutPath: string): Promise<GraphSource> {
  const root = (await layout.root()).descriptor;
  const kits = await kitsListing(dirname(resolve(layoutPath)), root.digest);
  if (kits.length === 0) return layout;
  const graph = new AddedGraph(layout.name, layout);
  for (const kit of kits) graph.addReferrer(root.digest, await attachmentOf(root, kit));
  return graph;
}

export async function openCopySource(ref: string, options: SourceOptions): Promise<CopySource> {
  if (isRegistryReference(ref)) {
    const registry = new RegistryGraphSource(openRepository(ref, options.registry), options.cache);
    return { source: registry, registry };
  }
  if (isReleaseReference(ref)) {
    // A file of a release directory (file:///… or https://…): read and checked by release-read.ts.
    const { openArtifact } = await import('../sources/open.ts');
    const artifact = await openArtifact(ref, {
      ...(options.registry ? { registry: options.registry } : {}),
      blobCache: options.cache,
    });
    if (!artifact.release) throw new WaybillError('MALFORMED', ref, 'not a release-directory file');
    return (await import('./file-graph.ts')).releaseFileGraph(ref, artifact.release);
  }
  const { locateArtifact } = await import('../sources/open.ts');
  const location = await locateArtifact(ref);
  switch (location.kind) {
    case 'oci':
      return {
        source: await withKits(
          new LayoutGraphSource(ref, new DirectoryBlobStore(location.path), location.reference || undefined),
          location.path,
        ),
      };
    case 'oci-archive':
      return {
        source: new LayoutGraphSource(
          ref,
          await openTarBlobStore(location.path),
          location.reference || undefined,
        ),
      };
    case 'file':
      // The native formats load only for a file: copying an image needs none of them.
      return (await import('./file-graph.ts')).fileGraph(ref, location.path);
    case 'dir':
      throw new WaybillError(
        'UNSUPPORTED',
        ref,
        'a directory has no OCI form to publish or copy: pack it into a tarball (tar -czf NAME.tar.gz -C DIR .) and stamp that',
      );
    case 'docker-archive':
      throw new WaybillError(
        'UNSUPPORTED',
        ref,
        'a docker-archive has no manifest digest to keep: convert it first (skopeo copy docker-archive:… oci:DIR:TAG), stamp and publish that',
      );
  }
}
