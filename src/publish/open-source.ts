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
import { basename, dirname, resolve } from 'node:path';
import { WaybillError } from '../errors.ts';
import type { Descriptor } from '../oci/types.ts';
import { readSidecar } from '../record/sidecar.ts';
import type { ReleaseRecord } from '../record/types.ts';
import type { BlobCache } from '../registry/blob-cache.ts';
import { fileSource } from '../registry/blobs.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { openRepository } from '../registry/repository.ts';
import { DirectoryBlobStore } from '../sources/blob-store.ts';
import { openTarBlobStore } from '../sources/oci-archive.ts';
import { locateArtifact } from '../sources/open.ts';
import { isRegistryReference } from '../sources/registry.ts';
import { sha256File } from '../util/digest.ts';
import { statRegularFile } from '../util/regular-file.ts';
import { type FileKind, fileArtifact } from './file-artifact.ts';
import { type GraphSource, localReader } from './graph.ts';
import { LayoutGraphSource } from './layout-endpoint.ts';
import { AddedGraph, type AttachmentInput, type BuiltManifest, buildAttachment } from './memory-source.ts';
import { RegistryGraphSource } from './registry-target.ts';
import { collectSidecars, kitsListing, type Sidecar } from './sidecars.ts';

export interface LocalFile {
  path: string;
  /** The file's name (what it is published as). */
  name: string;
  digest: string;
  size: number;
  kind: FileKind;
  record: ReleaseRecord | undefined;
  sidecars: Sidecar[];
}

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

/** A sidecar as an attachment of `subject` (a kit is streamed from its file, never read whole). */
async function attachmentOf(subject: Descriptor, sidecar: Sidecar): Promise<BuiltManifest> {
  let payload: AttachmentInput['payload'];
  if (sidecar.bytes) payload = sidecar.bytes;
  else {
    const digest = await sha256File(sidecar.path);
    const descriptor = { mediaType: sidecar.mediaType, digest, size: sidecar.size };
    payload = localReader(descriptor, fileSource(sidecar.path, digest, sidecar.size), sidecar.path);
  }
  return buildAttachment({
    subject,
    artifactType: sidecar.artifactType,
    payload,
    mediaType: sidecar.mediaType,
    annotations: sidecar.annotations,
  });
}

/** A local file as an OCI artifact with its sidecars attached. */
export async function fileGraph(ref: string, path: string): Promise<CopySource> {
  const { size } = await statRegularFile(path, { input: ref });
  const digest = await sha256File(path);
  const local = fileSource(path, digest, size);
  const record = await readSidecar(path);
  const artifact = await fileArtifact(path, { digest, size, local }, record);
  const graph = new AddedGraph(ref);
  graph.setRoot(artifact.manifest);
  const sidecars = await collectSidecars(path, digest);
  for (const sidecar of sidecars)
    graph.addReferrer(
      artifact.manifest.descriptor.digest,
      await attachmentOf(artifact.manifest.descriptor, sidecar),
    );
  return {
    source: graph,
    file: { path, name: basename(path), digest, size, kind: artifact.kind, record, sidecars },
  };
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
      return fileGraph(ref, location.path);
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
