/**
 * An artifact as an OCI graph, and the two ends a copy moves it between. A graph is a root manifest
 * or index, what it references (platform manifests, configs, layers) and its referrers (OCI 1.1
 * artifacts whose `subject` is the root or one of its manifests: records, SBOMs, bundles,
 * publication statements), which `skopeo copy` leaves behind and waybill carries along.
 *
 * Every end — an OCI layout, an oci-archive, a registry repository, a file with its sidecars built in
 * memory — implements `GraphSource` (reading) and/or `GraphSink` (writing); transfer.ts moves a graph
 * from one to the other in the order that never shows a half-copied artifact.
 */
import { pipeline, Readable } from 'node:stream';
import { WaybillError } from '../errors.ts';
import {
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  parseImageIndex,
  parseImageManifest,
} from '../oci/parse.ts';
import type { Descriptor } from '../oci/types.ts';
import type { BlobSource, PushResult } from '../registry/blobs.ts';
import { createDigestVerifier, sha256Digest } from '../util/digest.ts';

/** How to get a blob's bytes. */
export interface BlobReader {
  descriptor: Descriptor;
  /** The bytes on this machine (a file, a byte range of an archive, a buffer), re-openable from an offset. */
  local?: BlobSource;
  /** The same registry holds it in this repository: a sink on that registry can mount it. */
  mountFrom?: { registry: string; repository: string };
  /** A stream of the bytes, verified against the descriptor as they flow. */
  open(): Promise<Readable>;
}

export interface GraphSource {
  /** The reference as given, for messages. */
  readonly name: string;
  /** The root descriptor (what the reference names) and the tag it was found under, if any. */
  root(): Promise<{ descriptor: Descriptor; tag?: string }>;
  /** A manifest or index, verified against its descriptor. */
  manifest(descriptor: Descriptor): Promise<Buffer>;
  blob(descriptor: Descriptor): Promise<BlobReader>;
  /** Manifests whose `subject` is `subject` (any artifactType), as listed by the source. */
  referrers(subject: string): Promise<Descriptor[]>;
}

export interface GraphSink {
  readonly name: string;
  /** What the destination's tag names now (undefined: nothing, or no tag at this destination). */
  tagged(): Promise<Descriptor | undefined>;
  /** Digests of the referrers of `subject` the destination lists already. */
  referrerDigests(subject: string): Promise<Set<string>>;
  putBlob(reader: BlobReader, onBytes?: (n: number) => void): Promise<PushResult>;
  /** A manifest or index stored by its digest, not tagged. */
  putManifest(descriptor: Descriptor, bytes: Buffer): Promise<void>;
  /** A referrer manifest stored and listed as a referrer of `subject`. */
  putReferrer(subject: Descriptor, descriptor: Descriptor, bytes: Buffer): Promise<void>;
  /** Points the destination's tag at `descriptor` (the last step). */
  tag(descriptor: Descriptor, bytes: Buffer): Promise<void>;
  /** Makes everything visible at once where the end allows it (a layout's index.json, an archive). */
  commit(): Promise<void>;
  /** Drops what was staged (archive) after a failure. */
  abort(): Promise<void>;
}

/** Manifests nested deeper than this (index → index → …) are refused. */
const MAX_DEPTH = 4;
/** Referrers read per subject, and manifests per graph: a hostile listing is not fetched forever. */
export const MAX_REFERRERS_PER_SUBJECT = 100;
const MAX_MANIFESTS = 10_000;

export interface GraphManifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

export interface GraphReferrer extends GraphManifest {
  subject: Descriptor;
}

export interface Graph {
  root: Descriptor;
  tag?: string;
  /** Every manifest and index below and including the root, children before their parents. */
  manifests: GraphManifest[];
  /** Every blob (configs, layers) of those manifests, each once. */
  blobs: Descriptor[];
  /** Referrers, each after its subject's referrers chain (a signature on a record comes after the record). */
  referrers: GraphReferrer[];
  /** Blobs of the referrers (their configs and payloads), each once. */
  referrerBlobs: Descriptor[];
}

function isManifestType(mediaType: string): boolean {
  return MANIFEST_MEDIA_TYPES.has(mediaType) || INDEX_MEDIA_TYPES.has(mediaType);
}

/**
 * Layers a registry must not receive from us: Windows "foreign" layers (`urls` to Microsoft's CDN,
 * a non-distributable media type), which skopeo also leaves out by default.
 */
function isForeign(d: Descriptor): boolean {
  return (d.urls?.length ?? 0) > 0 && /nondistributable|foreign/.test(d.mediaType);
}

class GraphBuilder {
  readonly manifests: GraphManifest[] = [];
  readonly blobs: Descriptor[] = [];
  readonly referrers: GraphReferrer[] = [];
  readonly referrerBlobs: Descriptor[] = [];
  private readonly seen = new Set<string>();
  private readonly seenBlobs = new Set<string>();
  private readonly source: GraphSource;

  constructor(source: GraphSource) {
    this.source = source;
  }

  markSeen(digest: string): void {
    this.seen.add(digest);
  }

  private count(): void {
    if (this.manifests.length + this.referrers.length > MAX_MANIFESTS)
      throw new WaybillError(
        'LIMIT',
        this.source.name,
        `more than ${MAX_MANIFESTS} manifests in one artifact`,
      );
  }

  private addBlob(d: Descriptor, into: Descriptor[]): void {
    if (this.seenBlobs.has(d.digest) || isForeign(d)) return;
    this.seenBlobs.add(d.digest);
    into.push(d);
  }

  /** The manifest `d` and everything below it, children first. */
  async walk(d: Descriptor, depth: number, blobs: Descriptor[]): Promise<Buffer> {
    if (depth > MAX_DEPTH)
      throw new WaybillError('LIMIT', this.source.name, `manifests nested deeper than ${MAX_DEPTH}`);
    const bytes = await this.source.manifest(d);
    const where = `${this.source.name}@${d.digest}`;
    if (INDEX_MEDIA_TYPES.has(d.mediaType)) {
      const index = parseImageIndex(bytes, where);
      for (const child of index.manifests) {
        if (!isManifestType(child.mediaType) || this.seen.has(child.digest)) continue;
        this.seen.add(child.digest);
        const childBytes = await this.walk(child, depth + 1, blobs);
        this.manifests.push({ descriptor: child, bytes: childBytes });
        this.count();
      }
    } else {
      const manifest = parseImageManifest(bytes, where);
      this.addBlob(manifest.config, blobs);
      for (const layer of manifest.layers) this.addBlob(layer, blobs);
    }
    return bytes;
  }

  /** Referrers of `subject` and, one level down, referrers of those (a signature on a record). */
  async collectReferrers(subject: Descriptor, depth: number): Promise<void> {
    const listed = await this.source.referrers(subject.digest);
    for (const d of listed.slice(0, MAX_REFERRERS_PER_SUBJECT)) {
      if (!MANIFEST_MEDIA_TYPES.has(d.mediaType) || this.seen.has(d.digest)) continue;
      this.seen.add(d.digest);
      // Its blobs are listed now; transfer.ts pushes only those of the referrers it writes.
      const bytes = await this.walk(d, MAX_DEPTH, this.referrerBlobs);
      // The listing is only a hint: the manifest itself must name the subject.
      const manifest = parseImageManifest(bytes, `${this.source.name}@${d.digest}`);
      if (manifest.subject?.digest !== subject.digest) continue;
      const descriptor: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
      const artifactType = manifest.artifactType ?? d.artifactType;
      if (artifactType) descriptor.artifactType = artifactType;
      this.referrers.push({ subject, descriptor, bytes });
      this.count();
      if (depth < 2) await this.collectReferrers(descriptor, depth + 1);
    }
  }
}

/** Reads the whole graph of `source`: manifests and blob descriptors (no blob bytes), and referrers. */
export async function collectGraph(source: GraphSource): Promise<Graph> {
  const { descriptor: root, tag } = await source.root();
  if (!isManifestType(root.mediaType))
    throw new WaybillError('UNSUPPORTED', source.name, `the reference names a ${root.mediaType}`);
  const builder = new GraphBuilder(source);
  const blobs: Descriptor[] = [];
  builder.markSeen(root.digest);
  const rootBytes = await builder.walk(root, 0, blobs);
  builder.manifests.push({ descriptor: root, bytes: rootBytes });
  for (const d of blobs) builder.blobs.push(d);
  // Referrers of every manifest: a multi-platform image has a record per platform.
  for (const m of [...builder.manifests]) await builder.collectReferrers(m.descriptor, 1);
  return {
    root,
    ...(tag !== undefined ? { tag } : {}),
    manifests: builder.manifests,
    blobs: builder.blobs,
    referrers: builder.referrers,
    referrerBlobs: builder.referrerBlobs,
  };
}

// ---------------------------------------------------------------------------------------------------
// Blobs held in memory (the files of an artifact built for a push: manifests, statements, bundles)

export function bufferReader(bytes: Buffer, mediaType: string): BlobReader {
  const descriptor: Descriptor = { mediaType, digest: sha256Digest(bytes), size: bytes.length };
  return {
    descriptor,
    local: {
      digest: descriptor.digest,
      size: bytes.length,
      open: (start) => Readable.from([bytes.subarray(start)]),
    },
    open: async () => Readable.from([bytes]),
  };
}

/** A reader over a local source, its stream checked against the descriptor as it flows. */
export function localReader(descriptor: Descriptor, local: BlobSource, input: string): BlobReader {
  return {
    descriptor,
    local,
    // pipeline: a read error of the file reaches the reader as an error of the returned stream.
    open: async () =>
      pipeline(
        local.open(0),
        createDigestVerifier(descriptor.digest, { input, size: descriptor.size }),
        () => {},
      ),
  };
}

/** The payload layer of an attachment manifest, and its artifactType and annotations. */
export function attachmentParts(
  referrer: GraphManifest,
  input: string,
): { payload: Descriptor | undefined; artifactType: string; annotations: Record<string, string> } {
  const manifest = parseImageManifest(referrer.bytes, `${input}@${referrer.descriptor.digest}`);
  return {
    payload: manifest.layers[0],
    artifactType: manifest.artifactType ?? manifest.config.mediaType,
    annotations: manifest.annotations ?? {},
  };
}

/** Reads a small blob whole (an attachment's payload), verified; LIMIT past `maxBytes`. */
export async function readSmallBlob(
  source: GraphSource,
  descriptor: Descriptor,
  maxBytes: number,
): Promise<Buffer> {
  if (descriptor.size > maxBytes)
    throw new WaybillError(
      'LIMIT',
      `${source.name}@${descriptor.digest}`,
      `an attachment of ${descriptor.size} bytes is larger than the ${maxBytes}-byte limit`,
    );
  const stream = await (await source.blob(descriptor)).open();
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
