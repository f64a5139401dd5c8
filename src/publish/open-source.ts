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
import { basename } from 'node:path';
import { WaybillError } from '../errors.ts';
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
import { AddedGraph, type AttachmentInput, buildAttachment } from './memory-source.ts';
import { RegistryGraphSource } from './registry-target.ts';
import { collectSidecars, type Sidecar } from './sidecars.ts';

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
  for (const sidecar of sidecars) {
    let payload: AttachmentInput['payload'];
    if (sidecar.bytes) payload = sidecar.bytes;
    else {
      // A kit is streamed from its file, never read whole.
      const kitDigest = await sha256File(sidecar.path);
      const descriptor = { mediaType: sidecar.mediaType, digest: kitDigest, size: sidecar.size };
      payload = localReader(descriptor, fileSource(sidecar.path, kitDigest, sidecar.size), sidecar.path);
    }
    const built = buildAttachment({
      subject: artifact.manifest.descriptor,
      artifactType: sidecar.artifactType,
      payload,
      mediaType: sidecar.mediaType,
      annotations: sidecar.annotations,
    });
    graph.addReferrer(artifact.manifest.descriptor.digest, built);
  }
  return {
    source: graph,
    file: { path, name: basename(path), digest, size, kind: artifact.kind, record, sidecars },
  };
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
        source: new LayoutGraphSource(
          ref,
          new DirectoryBlobStore(location.path),
          location.reference || undefined,
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
