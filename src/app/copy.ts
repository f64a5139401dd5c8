/**
 * `copy SRC DST`: an artifact with every attachment — record, SBOM, bundles, publication statements,
 * rebuild kit — between any two of an OCI layout, an oci-archive, a registry and a release directory
 * (what `skopeo copy` leaves behind). Digests are kept: the records still bind to what arrives. The
 * order and the resume behaviour are publish/transfer.ts's; nothing is checked or signed (that is
 * `publish`).
 */
import { WaybillError } from '../errors.ts';
import { parseDestination, withGraphSink } from '../publish/destination.ts';
import { collectGraph } from '../publish/graph.ts';
import { openCopySource } from '../publish/open-source.ts';
import { type TransferEvents, type TransferReport, transfer } from '../publish/transfer.ts';
import { BlobCache } from '../registry/blob-cache.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { parseDockerReference } from '../registry/reference.ts';

export interface CopyOptions {
  registry?: RegistryOptions;
  cache?: BlobCache;
  events?: TransferEvents;
  concurrency?: number;
  /** Blobs larger than this are uploaded in chunks (default 64 MiB). */
  chunkedAbove?: number;
  /** The date a release directory's index lists when the artifact carries no publication statement. */
  now?: Date;
}

export interface CopyResult {
  source: string;
  destination: string;
  /** The root manifest's digest (the same at both ends). */
  digest: string;
  changed: boolean;
  message: string;
  /** Attachments carried (found at the source). */
  attachments: number;
  transfer?: TransferReport;
  written?: string[];
}

export async function copyArtifact(src: string, dst: string, options: CopyOptions = {}): Promise<CopyResult> {
  const cache = options.cache ?? new BlobCache();
  const destination = await parseDestination(dst);
  const opened = await openCopySource(src, { registry: options.registry, cache });
  const graph = await collectGraph(opened.source);
  const base = {
    source: src,
    destination: dst,
    digest: graph.root.digest,
    attachments: graph.referrers.length,
  };

  if (destination.kind === 'release-dir') {
    // Loaded only for release directories: a copy between layouts and registries needs neither.
    const { publicationDate, releaseBundleFromGraph } = await import('../publish/graph-release-bundle.ts');
    const { utcSeconds } = await import('../publish/publication.ts');
    const { publishToReleaseDirectory } = await import('../publish/release-dir.ts');
    const bundle = await releaseBundleFromGraph(
      graph,
      opened.source,
      cache,
      (await publicationDate(graph, opened.source)) ?? utcSeconds(options.now ?? new Date()),
      opened.file?.path,
    );
    const outcome = await publishToReleaseDirectory(destination.root, bundle);
    return { ...base, changed: outcome.changed, message: outcome.message, written: outcome.written };
  }
  if (destination.kind === 'registry') {
    const wanted = parseDockerReference(dst).digest;
    if (wanted !== undefined && wanted !== graph.root.digest)
      throw new WaybillError(
        'USAGE',
        dst,
        `the destination names ${wanted}, but the artifact is ${graph.root.digest}: a copy keeps the digest`,
      );
  }
  const report = await withGraphSink(
    destination,
    {
      registry: options.registry,
      cache,
      tag: graph.tag ?? 'latest',
      ...(options.chunkedAbove !== undefined ? { chunkedAbove: options.chunkedAbove } : {}),
    },
    (sink) =>
      transfer(graph, opened.source, sink, {
        ...(options.events ? { events: options.events } : {}),
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      }),
  );
  const carried = `${graph.referrers.length} attachment${graph.referrers.length === 1 ? '' : 's'}`;
  return {
    ...base,
    changed: report.changed,
    message: report.changed
      ? `copied ${graph.root.digest} with ${carried} to ${dst}`
      : `${dst} already holds ${graph.root.digest} with its attachments; nothing done`,
    transfer: report,
  };
}
