/**
 * A local file as the graph a copy or publish moves: the file as an OCI artifact
 * (file-artifact.ts) with its sidecars (sidecars.ts) attached. Loaded only when the source is a file.
 */
import { basename } from 'node:path';
import { readSidecar } from '../record/sidecar.ts';
import type { ReleaseRecord } from '../record/types.ts';
import { fileSource } from '../registry/blobs.ts';
import { sha256File } from '../util/digest.ts';
import { statRegularFile } from '../util/regular-file.ts';
import { type FileKind, fileArtifact } from './file-artifact.ts';
import type { GraphSource } from './graph.ts';
import { AddedGraph } from './memory-source.ts';
import { attachmentOf } from './sidecar-attachment.ts';
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

/** A local file as an OCI artifact with its sidecars attached. */
export async function fileGraph(
  ref: string,
  path: string,
): Promise<{ source: GraphSource; file: LocalFile }> {
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
