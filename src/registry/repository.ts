/**
 * One repository of a registry, the object the rest of waybill uses: every distribution operation
 * (manifests, blobs, tags, referrers) bound to a `docker://` reference, sharing one client (tokens,
 * connections) per registry. Like go-containerregistry's `remote` package: small, lazy, spec-driven.
 *
 *   const repo = openRepository('docker://127.0.0.1:5000/hello:1.0', { insecure: true });
 *   const root = await repo.getManifest();              // the tag (or digest) of the reference
 *   const layer = await repo.openBlob(descriptor);      // a verified stream
 *   await repo.pushBlob(bufferSource(bytes));           // skipped when present
 *   await repo.putManifest('1.0', bytes, mediaType);
 *   await repo.pushReferrer(artifactManifestBytes);     // API or referrers tag, whichever exists
 */
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/types.ts';
import {
  type BlobSource,
  headBlob,
  mountBlob,
  openBlob,
  type PushBlobOptions,
  type PushResult,
  pushBlob,
  readBlob,
} from './blobs.ts';
import { type RegistryOptions, registryClient } from './client.ts';
import {
  type FetchedManifest,
  getManifest,
  headManifest,
  type PushedManifest,
  putManifest,
  type Target,
} from './manifests.ts';
import {
  DOCKER_TRANSPORT,
  formatReference,
  type ImageReference,
  manifestReference,
  parseDockerReference,
} from './reference.ts';
import {
  addToReferrersTag,
  listReferrers,
  type PushedReferrer,
  pushReferrer,
  type ReferrerList,
} from './referrers.ts';
import { listTags } from './tags.ts';

export class Repository {
  readonly reference: ImageReference;
  /** The repository path (`library/alpine`). */
  readonly name: string;
  private readonly target: Target;
  private readonly options: RegistryOptions;

  constructor(reference: ImageReference, options: RegistryOptions = {}) {
    this.reference = reference;
    this.options = options;
    this.name = reference.repository;
    this.target = {
      client: registryClient(reference.registry, options),
      repository: reference.repository,
      input: `${DOCKER_TRANSPORT}${formatReference(reference)}`,
    };
  }

  /** `docker://registry/repository[:tag][@digest]`, as errors name it. */
  get input(): string {
    return this.target.input;
  }

  /** The manifest of `reference` (default: the reference's digest, else its tag). */
  getManifest(reference: string = manifestReference(this.reference)): Promise<FetchedManifest> {
    return getManifest(this.target, reference);
  }

  headManifest(reference: string = manifestReference(this.reference)): Promise<Descriptor | undefined> {
    return headManifest(this.target, reference);
  }

  /** Pushes a manifest or index under a tag, or under its digest. */
  putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<PushedManifest> {
    return putManifest(this.target, reference, bytes, mediaType);
  }

  headBlob(digest: string): Promise<number | undefined> {
    return headBlob(this.target, digest);
  }

  openBlob(descriptor: Descriptor): Promise<Readable> {
    return openBlob(this.target, descriptor);
  }

  readBlob(descriptor: Descriptor, maxBytes: number): Promise<Buffer> {
    return readBlob(this.target, descriptor, maxBytes);
  }

  pushBlob(source: BlobSource, options?: PushBlobOptions): Promise<PushResult> {
    return pushBlob(this.target, source, options);
  }

  /** Mounts a blob from another repository of the registry; false when the registry would not. */
  async mountBlob(digest: string, from: string): Promise<boolean> {
    return (await mountBlob(this.target, digest, from)).mounted;
  }

  listTags(pageSize?: number): Promise<string[]> {
    return listTags(this.target, pageSize);
  }

  listReferrers(subject: string, artifactType?: string): Promise<ReferrerList> {
    return listReferrers(this.target, subject, artifactType);
  }

  /** Pushes an artifact manifest with a `subject` and makes it a listed referrer. */
  pushReferrer(bytes: Buffer, mediaType?: string): Promise<PushedReferrer> {
    return pushReferrer(this.target, bytes, mediaType);
  }

  /** Adds an already pushed manifest to the referrers tag of `subject` (registries without the API). */
  addToReferrersTag(subject: string, descriptor: Descriptor): Promise<void> {
    return addToReferrersTag(this.target, subject, descriptor);
  }

  /** Another repository of the same registry, sharing this one's client (tokens, connections). */
  sibling(repository: string): Repository {
    return new Repository({ registry: this.reference.registry, repository }, this.options);
  }
}

/** Opens `docker://…` (or an already parsed reference). Nothing is fetched until asked. */
export function openRepository(ref: string | ImageReference, options: RegistryOptions = {}): Repository {
  return new Repository(typeof ref === 'string' ? parseDockerReference(ref) : ref, options);
}
