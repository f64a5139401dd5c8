/**
 * Graph pieces made on this machine rather than read from a layout or registry: the OCI artifact
 * that carries a file (file-artifact.ts), its sidecars as attachments, and what `publish` adds (the
 * publication statement, new signatures). `AddedGraph` serves them, in front of an optional source
 * whose graph they extend.
 */

import { WaybillError } from '../errors.ts';
import { artifactManifestBytes, EMPTY_CONFIG_BYTES } from '../oci/artifact-manifest.ts';
import { type Descriptor, MEDIA_TYPE } from '../oci/types.ts';
import { type BlobReader, bufferReader, type Graph, type GraphSource } from './graph.ts';

export interface BuiltManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  /** The blobs it references that are not already in the graph it joins. */
  blobs: BlobReader[];
}

export interface AttachmentInput {
  subject: Descriptor;
  artifactType: string;
  /** The bytes, or a reader of a large payload (a rebuild kit) streamed from its file. */
  payload: Buffer | BlobReader;
  mediaType: string;
  annotations: Record<string, string>;
}

/** An OCI 1.1 artifact manifest carrying `payload`, referring to `subject` (as oci/attach.ts writes one). */
export function buildAttachment(input: AttachmentInput): BuiltManifest {
  const config = bufferReader(EMPTY_CONFIG_BYTES, MEDIA_TYPE.ociEmpty);
  const payload = Buffer.isBuffer(input.payload)
    ? bufferReader(input.payload, input.mediaType)
    : input.payload;
  const bytes = artifactManifestBytes({
    artifactType: input.artifactType,
    layers: [payload.descriptor],
    subject: input.subject,
    annotations: input.annotations,
  });
  const descriptor = bufferReader(bytes, MEDIA_TYPE.ociManifest).descriptor;
  descriptor.artifactType = input.artifactType;
  return { descriptor, bytes, blobs: [config, payload] };
}

/** A graph source extended by manifests made here: a new root (a file's artifact) and/or new referrers. */
export class AddedGraph implements GraphSource {
  readonly name: string;
  private readonly base: GraphSource | undefined;
  private rootDescriptor: { descriptor: Descriptor; tag?: string } | undefined;
  private readonly manifests = new Map<string, Buffer>();
  private readonly blobs = new Map<string, BlobReader>();
  private readonly added = new Map<string, Descriptor[]>();

  constructor(name: string, base?: GraphSource) {
    this.name = name;
    this.base = base;
  }

  /** Makes `root` the graph's root (no base source, or one whose root this replaces). */
  setRoot(root: BuiltManifest, tag?: string): void {
    this.rootDescriptor = { descriptor: root.descriptor, ...(tag !== undefined ? { tag } : {}) };
    this.addManifest(root);
  }

  addBlob(reader: BlobReader): void {
    this.blobs.set(reader.descriptor.digest, reader);
  }

  private addManifest(m: BuiltManifest): void {
    this.manifests.set(m.descriptor.digest, m.bytes);
    for (const blob of m.blobs) this.addBlob(blob);
  }

  /** Lists `referrer` as a referrer of `subject`. */
  addReferrer(subject: string, referrer: BuiltManifest): void {
    this.addManifest(referrer);
    const list = this.added.get(subject) ?? [];
    if (!list.some((d) => d.digest === referrer.descriptor.digest)) list.push(referrer.descriptor);
    this.added.set(subject, list);
  }

  async root(): Promise<{ descriptor: Descriptor; tag?: string }> {
    if (this.rootDescriptor) return this.rootDescriptor;
    if (!this.base) throw new WaybillError('USAGE', this.name, 'nothing to copy: no root manifest');
    return this.base.root();
  }

  async manifest(descriptor: Descriptor): Promise<Buffer> {
    const own = this.manifests.get(descriptor.digest);
    if (own) return own;
    if (!this.base) throw new WaybillError('NOT_FOUND', this.name, `no manifest ${descriptor.digest}`);
    return this.base.manifest(descriptor);
  }

  async blob(descriptor: Descriptor): Promise<BlobReader> {
    const own = this.blobs.get(descriptor.digest);
    if (own) return own;
    if (!this.base) throw new WaybillError('NOT_FOUND', this.name, `no blob ${descriptor.digest}`);
    return this.base.blob(descriptor);
  }

  async referrers(subject: string): Promise<Descriptor[]> {
    const listed = this.base ? await this.base.referrers(subject) : [];
    const own = this.added.get(subject) ?? [];
    return [...listed, ...own.filter((d) => !listed.some((l) => l.digest === d.digest))];
  }
}

/** Adds an attachment made here to the graph (and to the source that serves its bytes). */
export function extendGraph(
  graph: Graph,
  added: AddedGraph,
  subject: Descriptor,
  built: BuiltManifest,
): void {
  added.addReferrer(subject.digest, built);
  if (graph.referrers.some((r) => r.descriptor.digest === built.descriptor.digest)) return;
  graph.referrers.push({ subject, descriptor: built.descriptor, bytes: built.bytes });
  for (const blob of built.blobs)
    if (!graph.referrerBlobs.some((d) => d.digest === blob.descriptor.digest))
      graph.referrerBlobs.push(blob.descriptor);
}
