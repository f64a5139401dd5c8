/** `oci:DIR[:REF]`: an OCI image layout directory (image-spec image-layout.md). */
import { DirectoryBlobStore } from './blob-store.ts';
import { imageDigest, resolveLayoutImage, walkImage } from './image.ts';
import { verifyImageBlobs } from './integrity.ts';
import type { Artifact, OpenOptions } from './types.ts';

export async function openOciLayout(
  ref: string,
  dir: string,
  refName: string | undefined,
  options: OpenOptions = {},
): Promise<Artifact> {
  const store = new DirectoryBlobStore(dir);
  const image = await resolveLayoutImage(store, refName, options, ref);
  return {
    ref,
    kind: 'oci',
    path: dir,
    digest: imageDigest(image, ref),
    image,
    walk: (filter, walkOptions) => walkImage(store, image, ref, filter, walkOptions),
    verifyBlobs: (integrityOptions) => verifyImageBlobs(store, image, integrityOptions),
  };
}
