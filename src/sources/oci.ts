/** `oci:DIR[:REF]`: an OCI image layout directory (image-spec image-layout.md). */
import { type BlobStore, DirectoryBlobStore } from './blob-store.ts';
import { imageDigest, resolveLayoutImage, walkImage } from './image.ts';
import { verifyImageBlobs } from './integrity.ts';
import type { Artifact, OpenOptions } from './types.ts';

export async function openOciLayout(
  ref: string,
  dir: string,
  refName: string | undefined,
  options: OpenOptions = {},
): Promise<Artifact> {
  return openLayoutStore(ref, 'oci', dir, new DirectoryBlobStore(dir), refName, options);
}

/**
 * An image in any layout-shaped store: a layout directory, an oci-archive's tar, or either seen
 * through the overlay of a stamp being prepared (OverlayBlobStore).
 */
export async function openLayoutStore(
  ref: string,
  kind: 'oci' | 'oci-archive',
  path: string,
  store: BlobStore,
  refName: string | undefined,
  options: OpenOptions = {},
): Promise<Artifact> {
  const image = await resolveLayoutImage(store, refName, options, ref);
  return {
    ref,
    kind,
    path,
    digest: imageDigest(image, ref),
    image,
    walk: (filter, walkOptions) => walkImage(store, image, ref, filter, walkOptions),
    verifyBlobs: (integrityOptions) => verifyImageBlobs(store, image, integrityOptions),
  };
}
