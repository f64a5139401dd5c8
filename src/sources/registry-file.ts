/**
 * A file published to a registry as an OCI artifact (publish/file-artifact.ts, or ORAS): a manifest
 * whose config is not an image config and that has exactly one layer — the file. Consumers read it
 * as the file itself (`kind: 'file'`): the layer is pulled once into the blob cache under its own
 * name (`org.opencontainers.image.title`), and everything that reads files (native facts, the SBOM
 * walk, message signatures) reads that copy; its statements are the manifest's referrers.
 */

import { IMAGE_CONFIG_MEDIA_TYPES } from '../oci/parse.ts';
import { type Descriptor, type ImageManifest, OCI_ANNOTATION } from '../oci/types.ts';
import { digestHex } from '../util/digest.ts';

/** The file's layer when `manifest` carries one file, else undefined (an image, or several files). */
export function singleFileLayer(manifest: ImageManifest): Descriptor | undefined {
  if (IMAGE_CONFIG_MEDIA_TYPES.has(manifest.config.mediaType)) return undefined;
  return manifest.layers.length === 1 ? manifest.layers[0] : undefined;
}

/** A plain, safe file name: the layer's title when it is one, else `<hex>.bin`. */
export function publishedFileName(layer: Descriptor): string {
  const title = layer.annotations?.[OCI_ANNOTATION.title];
  if (title !== undefined && /^[A-Za-z0-9][A-Za-z0-9._+~@-]{0,254}$/.test(title)) return title;
  return `${digestHex(layer.digest)}.bin`;
}
