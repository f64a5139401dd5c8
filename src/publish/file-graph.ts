/**
 * A file as the graph a copy or publish moves: the file as an OCI artifact (file-artifact.ts) with its
 * sidecars (sidecars.ts) attached — a local file with the sidecars beside it, or a file in a release
 * directory (a `file:///…` or `https://…` release URL) with the sidecars its SHA256SUMS lists, each
 * read and checked by release-read.ts. Loaded only when the source is a file.
 */
import { basename } from 'node:path';
import { parseRecord } from '../record/schema.ts';
import { readSidecar, SIDECAR_SUFFIX } from '../record/sidecar.ts';
import type { ReleaseRecord } from '../record/types.ts';
import { fileSource } from '../registry/blobs.ts';
import { sha256File } from '../util/digest.ts';
import { statRegularFile } from '../util/regular-file.ts';
import { type FileKind, fileArtifact } from './file-artifact.ts';
import type { GraphSource } from './graph.ts';
import { AddedGraph } from './memory-source.ts';
import type { OpenedRelease } from './release-read.ts';
import { attachmentOf } from './sidecar-attachment.ts';
import { collectSidecars, kitAsSidecar, type Sidecar, sidecarFromBytes } from './sidecars.ts';

export interface LocalFile {
  /** The file on this machine (for a release URL: its checked copy). */
  path: string;
  /** The file's name (what it is published as). */
  name: string;
  digest: string;
  size: number;
  kind: FileKind;
  record: ReleaseRecord | undefined;
  sidecars: Sidecar[];
}

/** Rebuild kits are source archives: carried whole up to this size. */
const MAX_KIT_BYTES = 1024 * 1024 * 1024;

async function graphOf(
  ref: string,
  file: Omit<LocalFile, 'kind'>,
): Promise<{ source: GraphSource; file: LocalFile }> {
  const local = fileSource(file.path, file.digest, file.size);
  const artifact = await fileArtifact(
    file.path,
    { digest: file.digest, size: file.size, local },
    file.record,
    file.name,
  );
  const graph = new AddedGraph(ref);
  graph.setRoot(artifact.manifest);
  for (const sidecar of file.sidecars)
    graph.addReferrer(
      artifact.manifest.descriptor.digest,
      await attachmentOf(artifact.manifest.descriptor, sidecar),
    );
  return { source: graph, file: { ...file, kind: artifact.kind } };
}

/** A local file as an OCI artifact with its sidecars attached. */
export async function fileGraph(
  ref: string,
  path: string,
): Promise<{ source: GraphSource; file: LocalFile }> {
  const { size } = await statRegularFile(path, { input: ref });
  const digest = await sha256File(path);
  const record = await readSidecar(path);
  const sidecars = await collectSidecars(path, digest);
  return graphOf(ref, { path, name: basename(path), digest, size, record, sidecars });
}

/** A file of a release directory (opened and checked by release-read.ts) with the sidecars it lists. */
export async function releaseFileGraph(
  ref: string,
  release: OpenedRelease,
): Promise<{ source: GraphSource; file: LocalFile }> {
  const name = release.location.file;
  const sidecars: Sidecar[] = [];
  let record: ReleaseRecord | undefined;
  for (const sidecarName of release.sidecarNames) {
    const bytes =
      release.sidecars.get(sidecarName)?.bytes ?? (await release.readFile(sidecarName, MAX_KIT_BYTES));
    if (!bytes) continue;
    const where = release.locate(sidecarName);
    const sidecar =
      sidecarFromBytes(name, sidecarName, bytes, where) ?? kitAsSidecar(sidecarName, bytes, where);
    if (!sidecar) continue;
    sidecars.push(sidecar);
    if (sidecarName === `${name}${SIDECAR_SUFFIX}`) record = parseRecord(bytes.toString('utf8'), where);
  }
  return graphOf(ref, {
    path: release.artifactPath,
    name,
    digest: release.digest,
    size: release.size,
    record,
    sidecars,
  });
}
