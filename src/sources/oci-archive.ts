/**
 * `oci-archive:TAR[:REF]`: an OCI layout packed in an uncompressed tar (containers-transports(5)).
 * The tar is indexed once (headers only) and blobs are read in place by byte range: never extracted.
 */
import { indexTarFile } from '../archive/tar-reader.ts';
import { TarBlobStore } from './blob-store.ts';
import { imageDigest, resolveLayoutImage, walkImage } from './image.ts';
import { verifyImageBlobs } from './integrity.ts';
import type { Artifact, OpenOptions } from './types.ts';

export async function openOciArchive(
  ref: string,
  tarPath: string,
  refName: string | undefined,
  options: OpenOptions = {},
): Promise<Artifact> {
  const store = new TarBlobStore(tarPath, await indexTarFile(tarPath));
  const image = await resolveLayoutImage(store, refName, options, ref);
  return {
    ref,
    kind: 'oci-archive',
    path: tarPath,
    digest: imageDigest(image, ref),
    image,
    walk: (filter, walkOptions) => walkImage(store, image, ref, filter, walkOptions),
    verifyBlobs: (integrityOptions) => verifyImageBlobs(store, image, integrityOptions),
  };
}
