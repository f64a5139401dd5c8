/**
 * `oci-archive:TAR[:REF]`: an OCI layout packed in an uncompressed tar (containers-transports(5)).
 * The tar is indexed once (headers only) and blobs are read in place by byte range: never extracted.
 */
import { indexTarFile } from '../archive/tar-reader.ts';
import { TarBlobStore } from './blob-store.ts';
import { openLayoutStore } from './oci.ts';
import type { Artifact, OpenOptions } from './types.ts';

export async function openOciArchive(
  ref: string,
  tarPath: string,
  refName: string | undefined,
  options: OpenOptions = {},
): Promise<Artifact> {
  return openLayoutStore(ref, 'oci-archive', tarPath, await openTarBlobStore(tarPath), refName, options);
}

export async function openTarBlobStore(tarPath: string): Promise<TarBlobStore> {
  return new TarBlobStore(tarPath, await indexTarFile(tarPath));
}
