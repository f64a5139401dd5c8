/**
 * What a statement about a build output binds to: a file's own SHA-256 (what `sha256sum` says, even
 * for an oci-archive whose record binds to the image inside), an OCI layout's image manifest (or
 * index) digest, as for its release record.
 */
import { OciLayout, resolveRef } from '../../oci/layout.ts';
import { OCI_ANNOTATION } from '../../oci/types.ts';
import { digestHex, sha256File } from '../../util/digest.ts';

/**
 * The reference of the image in an OCI layout output. Once stamped, the layout also holds the record
 * and SBOM as attachments; the image is the one entry that is not an attachment, named by its tag.
 */
export async function imageReference(dir: string): Promise<string> {
  const { descriptor } = await resolveRef(await OciLayout.open(dir));
  const name = descriptor.annotations?.[OCI_ANNOTATION.refName];
  return name ? `oci:${dir}:${name}` : `oci:${dir}`;
}

/** Image manifest (or index) digest of a layout, file digest of a file (hex): what a statement binds to. */
export async function outputDigest(path: string, kind: 'file' | 'oci-layout'): Promise<string> {
  if (kind === 'file') return (await sha256File(path)).slice('sha256:'.length);
  return digestHex((await resolveRef(await OciLayout.open(path))).descriptor.digest, path);
}
