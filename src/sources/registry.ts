/**
 * `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`: an image in a registry, read like an OCI layout
 * through a blob store whose blobs come from the registry. Opening fetches only the manifest (or
 * index), and the manifests and configs of its platforms; a walk fetches the chosen platform's
 * layers, a few at a time, each verified by digest on the way into the user's blob cache
 * (src/registry/blob-cache.ts), then scans them from there like any layout's. Nothing is fetched
 * twice: a second command on the same image reads the cache.
 */
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, parseImageManifest } from '../oci/parse.ts';
import { type Descriptor, MEDIA_TYPE } from '../oci/types.ts';
import { BlobCache } from '../registry/blob-cache.ts';
import type { FetchedManifest } from '../registry/manifests.ts';
import { formatReference, type ImageReference, parseDockerReference } from '../registry/reference.ts';
import { openRepository, type Repository } from '../registry/repository.ts';
import { eachLimited } from '../util/each-limited.ts';
import type { BlobLocation, BlobStore } from './blob-store.ts';
import { openFile } from './file.ts';
import { imageDigest, requireSelected, resolveImage, walkImage } from './image.ts';
import { verifyImageBlobs } from './integrity.ts';
import { publishedFileName, singleFileLayer } from './registry-file.ts';
import type { Artifact, OpenOptions } from './types.ts';
import type { SourceWalkOptions } from './walk-options.ts';

/** Layers downloaded at once: enough to fill a link, few enough not to thrash a small disk. */
const PARALLEL_DOWNLOADS = 3;

/** Blobs of one registry repository, located in the blob cache (fetched on first use). */
export class RegistryBlobStore implements BlobStore {
  readonly root: string;
  readonly repository: Repository;
  readonly cache: BlobCache;

  constructor(repository: Repository, cache: BlobCache) {
    this.repository = repository;
    this.cache = cache;
    this.root = repository.input;
  }

  /** A registry has no layout files (`oci-layout`, `index.json`). */
  async locateFile(): Promise<BlobLocation | undefined> {
    return undefined;
  }

  private location(descriptor: Descriptor, file: string): BlobLocation {
    const { registry, repository } = this.repository.reference;
    return { file, start: 0, size: descriptor.size, name: `${registry}/${repository}@${descriptor.digest}` };
  }

  async locateBlob(descriptor: Descriptor, onBytes?: (n: number) => void): Promise<BlobLocation> {
    const cached = await this.cache.lookup(descriptor);
    if (cached) return this.location(descriptor, cached);
    if (INDEX_MEDIA_TYPES.has(descriptor.mediaType) || MANIFEST_MEDIA_TYPES.has(descriptor.mediaType)) {
      // Manifests come from the manifests endpoint, verified against the digest they are asked by.
      const fetched = await this.repository.getManifest(descriptor.digest);
      return this.location(descriptor, await this.cache.store(descriptor, fetched.bytes));
    }
    const file = await this.cache.fetch(descriptor, () => this.repository.openBlob(descriptor), onBytes);
    return this.location(descriptor, file);
  }

  /**
   * Fetches every blob of `descriptors` not yet cached, `PARALLEL_DOWNLOADS` at a time. After a
   * failure no new download starts, and the error is thrown once the running ones have settled (so
   * no download is left writing behind the caller's back).
   */
  async prefetch(descriptors: Descriptor[], onBytes?: (n: number) => void): Promise<void> {
    await eachLimited(descriptors, PARALLEL_DOWNLOADS, async (descriptor) => {
      await this.locateBlob(descriptor, onBytes);
    });
  }
}

export async function openRegistryImage(ref: string, options: OpenOptions = {}): Promise<Artifact> {
  const reference = parseDockerReference(ref);
  const repository = openRepository(reference, options.registry);
  const cache = options.blobCache ?? new BlobCache();
  const store = new RegistryBlobStore(repository, cache);
  const root = await repository.getManifest();
  await cache.store(root.descriptor, root.bytes);
  const file = await openRegistryFile(ref, root, repository, reference, cache, options);
  if (file) return file;
  const image = await resolveImage(store, root.descriptor, reference.tag, options, ref);

  const walk = async (filter: Parameters<Artifact['walk']>[0], walkOptions: SourceWalkOptions = {}) => {
    const selected = requireSelected(image, ref);
    const layers = selected.manifest.layers;
    const missing: Descriptor[] = [];
    for (const layer of layers) if (!(await cache.lookup(layer))) missing.push(layer);
    // One progress bar for both halves: downloading what is missing, then scanning every layer.
    const downloadTotal = missing.reduce((sum, d) => sum + d.size, 0);
    const scanTotal = layers.reduce((sum, d) => sum + d.size, 0);
    let downloaded = 0;
    const report = walkOptions.onProgress;
    await store.prefetch(
      missing,
      report
        ? (n) => {
            downloaded += n;
            report(downloaded, downloadTotal + scanTotal);
          }
        : undefined,
    );
    return walkImage(store, image, ref, filter, {
      ...walkOptions,
      ...(report
        ? { onProgress: (done: number) => report(downloadTotal + done, downloadTotal + scanTotal) }
        : {}),
    });
  };

  return {
    ref,
    kind: 'registry',
    path: formatReference(reference),
    digest: imageDigest(image, ref),
    image,
    registry: { repository, reference, subject: imageDigest(image, ref) },
    options,
    walk,
    // Every blob the record is bound to, layers included: fetched into the cache (verified on the way
    // in) when missing, then hashed where it lies, so a changed byte in the registry's storage or in
    // the local cache fails as it does in a layout.
    verifyBlobs: (integrityOptions) => verifyImageBlobs(store, image, integrityOptions),
  };
}

/**
 * A file published as an OCI artifact (registry-file.ts): pulled into the blob cache under its own
 * name and opened as that file; undefined when `root` is not one.
 */
async function openRegistryFile(
  ref: string,
  root: FetchedManifest,
  repository: Repository,
  reference: ImageReference,
  cache: BlobCache,
  options: OpenOptions,
): Promise<Artifact | undefined> {
  if (root.mediaType !== MEDIA_TYPE.ociManifest) return undefined;
  const layer = singleFileLayer(parseImageManifest(root.bytes, `${ref}@${root.digest}`));
  if (!layer) return undefined;
  const path = await cache.fetchNamed(layer, publishedFileName(layer), () => repository.openBlob(layer));
  const file = await openFile(ref, path);
  return { ...file, registry: { repository, reference, subject: root.digest }, options };
}

export { registryWriteError } from './published-read-only.ts';
export { isRegistryReference } from './registry-reference.ts';
