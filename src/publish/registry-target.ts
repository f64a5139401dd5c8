/**
 * A registry repository as a copy end (src/registry/ does the protocol):
 *
 * - reading: manifests by digest (verified), blobs streamed and verified, or read from the blob
 *   cache when an earlier command pulled them; referrers through the API or the referrers tag;
 * - writing: blobs skipped when present (HEAD), mounted from the source repository when both are on
 *   the same registry, else uploaded (chunked above 64 MiB, resuming a broken chunk from the offset
 *   the registry reports); a blob that is not on this machine is pulled into the blob cache first,
 *   so an upload can be retried from a file. Manifests by digest, referrers listed by the API or the
 *   referrers tag, and the tag last.
 */
import type { Descriptor } from '../oci/types.ts';
import type { BlobCache } from '../registry/blob-cache.ts';
import { fileSource, type PushResult } from '../registry/blobs.ts';
import type { Repository } from '../registry/repository.ts';
import type { BlobReader, GraphSink, GraphSource } from './graph.ts';

export class RegistryGraphSource implements GraphSource {
  readonly name: string;
  private readonly repository: Repository;
  private readonly cache: BlobCache;
  private rootBytes: { digest: string; bytes: Buffer } | undefined;

  constructor(repository: Repository, cache: BlobCache) {
    this.repository = repository;
    this.cache = cache;
    this.name = repository.input;
  }

  async root(): Promise<{ descriptor: Descriptor; tag?: string }> {
    const fetched = await this.repository.getManifest();
    this.rootBytes = { digest: fetched.digest, bytes: fetched.bytes };
    const { tag, digest } = this.repository.reference;
    return { descriptor: fetched.descriptor, ...(tag !== undefined && digest === undefined ? { tag } : {}) };
  }

  async manifest(descriptor: Descriptor): Promise<Buffer> {
    // The root was fetched (and verified) by tag already: not asked for twice.
    if (this.rootBytes?.digest === descriptor.digest) return this.rootBytes.bytes;
    return (await this.repository.getManifest(descriptor.digest)).bytes;
  }

  async blob(descriptor: Descriptor): Promise<BlobReader> {
    const cached = await this.cache.lookup(descriptor);
    const { registry, repository } = this.repository.reference;
    return {
      descriptor,
      ...(cached ? { local: fileSource(cached, descriptor.digest, descriptor.size) } : {}),
      mountFrom: { registry, repository },
      open: () => this.repository.openBlob(descriptor),
    };
  }

  async referrers(subject: string): Promise<Descriptor[]> {
    return (await this.repository.listReferrers(subject)).referrers;
  }
}

export class RegistryGraphSink implements GraphSink {
  readonly name: string;
  private readonly repository: Repository;
  private readonly cache: BlobCache;
  /** The tag to move last; undefined when the destination names a digest. */
  private readonly tagName: string | undefined;
  private readonly chunkedAbove: number | undefined;

  constructor(repository: Repository, cache: BlobCache, options: { chunkedAbove?: number } = {}) {
    this.repository = repository;
    this.cache = cache;
    this.name = repository.input;
    const { tag, digest } = repository.reference;
    this.tagName = digest === undefined ? tag : undefined;
    this.chunkedAbove = options.chunkedAbove;
  }

  async tagged(): Promise<Descriptor | undefined> {
    return this.repository.headManifest();
  }

  async referrerDigests(subject: string): Promise<Set<string>> {
    const { referrers } = await this.repository.listReferrers(subject);
    return new Set(referrers.map((d) => d.digest));
  }

  async putBlob(reader: BlobReader, onBytes?: (n: number) => void): Promise<PushResult> {
    const { descriptor } = reader;
    const { registry } = this.repository.reference;
    const sameRegistry = reader.mountFrom?.registry === registry ? reader.mountFrom.repository : undefined;
    let local = reader.local;
    if (!local) {
      if ((await this.repository.headBlob(descriptor.digest)) !== undefined) return 'exists';
      if (sameRegistry !== undefined && sameRegistry !== this.repository.name) {
        if (await this.repository.mountBlob(descriptor.digest, sameRegistry)) return 'mounted';
      }
      const path = await this.cache.fetch(descriptor, () => reader.open());
      local = fileSource(path, descriptor.digest, descriptor.size);
    }
    return this.repository.pushBlob(local, {
      ...(sameRegistry !== undefined ? { mountFrom: [sameRegistry] } : {}),
      ...(this.chunkedAbove !== undefined ? { chunkedAbove: this.chunkedAbove } : {}),
      ...(onBytes ? { onProgress: (n: number) => onBytes(n) } : {}),
    });
  }

  async putManifest(descriptor: Descriptor, bytes: Buffer): Promise<void> {
    await this.repository.putManifest(descriptor.digest, bytes, descriptor.mediaType);
  }

  async putReferrer(_subject: Descriptor, descriptor: Descriptor, bytes: Buffer): Promise<void> {
    await this.repository.pushReferrer(bytes, descriptor.mediaType);
  }

  async tag(descriptor: Descriptor, bytes: Buffer): Promise<void> {
    if (this.tagName === undefined) return;
    await this.repository.putManifest(this.tagName, bytes, descriptor.mediaType);
  }

  async commit(): Promise<void> {}

  async abort(): Promise<void> {}
}
