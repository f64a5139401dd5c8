/**
 * Moves a graph (graph.ts) from a source to a sink in the order that never shows a half-copied
 * artifact to a reader who finds it by its tag:
 *
 *   1. blobs (configs, layers), several at once;
 *   2. manifests by digest, children before the index that lists them, the root last;
 *   3. attachments: their blobs, then each referrer manifest (listed by the referrers API or added to
 *      the referrers tag);
 *   4. the tag, last.
 *
 * Whatever an interrupted run already put there is found (HEAD) and skipped, so running again
 * resumes. When the destination's tag already names the root and lists every attachment, nothing is
 * written at all: `changed: false`.
 */
import { WaybillError } from '../errors.ts';
import { parseImageManifest } from '../oci/parse.ts';
import type { Descriptor } from '../oci/types.ts';
import type { PushResult } from '../registry/blobs.ts';
import { eachLimited } from '../util/each-limited.ts';
import type { Graph, GraphReferrer, GraphSink, GraphSource } from './graph.ts';

/**
 * Blobs moved at once: as many as skopeo (six), so an image of a few big layers moves them all
 * together instead of leaving the last one alone at the end; within the registry client's 8
 * connections per registry.
 */
export const DEFAULT_CONCURRENCY = 6;

export interface TransferEvents {
  blobStart?(descriptor: Descriptor): void;
  /** Bytes moved for a blob since the last call (negative when a broken download starts over). */
  blobBytes?(descriptor: Descriptor, n: number): void;
  blobDone?(descriptor: Descriptor, result: PushResult): void;
}

export interface TransferReport {
  /** False: the destination held all of it already, nothing was written. */
  changed: boolean;
  root: Descriptor;
  /** The tag was moved to the root in this run. */
  tagged: boolean;
  blobs: { uploaded: number; mounted: number; existing: number; bytes: number };
  manifests: number;
  /** Attachments written in this run, and how many were there already. */
  referrers: { written: Descriptor[]; present: number };
}

export interface TransferOptions {
  concurrency?: number;
  events?: TransferEvents;
}

/** The blobs the referrers in `referrers` need (their configs and payloads). */
function blobsOf(referrers: GraphReferrer[], all: Descriptor[], input: string): Descriptor[] {
  const wanted = new Set<string>();
  for (const r of referrers) {
    const manifest = parseImageManifest(r.bytes, `${input}@${r.descriptor.digest}`);
    for (const d of [manifest.config, ...manifest.layers]) wanted.add(d.digest);
  }
  return all.filter((d) => wanted.has(d.digest));
}

export async function transfer(
  graph: Graph,
  source: GraphSource,
  sink: GraphSink,
  options: TransferOptions = {},
): Promise<TransferReport> {
  const events = options.events ?? {};
  const report: TransferReport = {
    changed: false,
    root: graph.root,
    tagged: false,
    blobs: { uploaded: 0, mounted: 0, existing: 0, bytes: 0 },
    manifests: 0,
    referrers: { written: [], present: 0 },
  };
  const current = await sink.tagged();
  const imageThere = current?.digest === graph.root.digest;
  const listed = new Map<string, Set<string>>();
  const missing: GraphReferrer[] = [];
  for (const r of graph.referrers) {
    let digests = listed.get(r.subject.digest);
    if (!digests) {
      digests = await sink.referrerDigests(r.subject.digest);
      listed.set(r.subject.digest, digests);
    }
    if (digests.has(r.descriptor.digest)) report.referrers.present++;
    else missing.push(r);
  }
  if (imageThere && missing.length === 0) {
    await sink.abort();
    return report;
  }
  report.changed = true;

  const pushBlobs = (blobs: Descriptor[]) =>
    eachLimited(blobs, options.concurrency ?? DEFAULT_CONCURRENCY, async (d) => {
      events.blobStart?.(d);
      const reader = await source.blob(d);
      const result = await sink.putBlob(reader, (n) => {
        report.blobs.bytes += n;
        events.blobBytes?.(d, n);
      });
      report.blobs[result === 'exists' ? 'existing' : result]++;
      events.blobDone?.(d, result);
    });

  try {
    if (!imageThere) {
      await pushBlobs(graph.blobs);
      for (const m of graph.manifests) {
        await sink.putManifest(m.descriptor, m.bytes);
        report.manifests++;
      }
    }
    await pushBlobs(blobsOf(missing, [...graph.referrerBlobs, ...graph.blobs], source.name));
    for (const r of missing) {
      await sink.putReferrer(r.subject, r.descriptor, r.bytes);
      report.referrers.written.push(r.descriptor);
    }
    if (!imageThere) {
      const root = graph.manifests.at(-1);
      if (!root || root.descriptor.digest !== graph.root.digest)
        throw new WaybillError('MALFORMED', source.name, 'the root manifest was not read');
      await sink.tag(root.descriptor, root.bytes);
      report.tagged = true;
    }
    await sink.commit();
  } catch (e) {
    await sink.abort();
    throw e;
  }
  return report;
}
