/** A sidecar (publish/sidecars.ts) as an OCI attachment of its artifact. */
import type { Descriptor } from '../oci/types.ts';
import { fileSource } from '../registry/blobs.ts';
import { sha256File } from '../util/digest.ts';
import { localReader } from './graph.ts';
import { type AttachmentInput, type BuiltManifest, buildAttachment } from './memory-source.ts';
import type { Sidecar } from './sidecars.ts';

/** A sidecar as an attachment of `subject` (a kit is streamed from its file, never read whole). */
export async function attachmentOf(subject: Descriptor, sidecar: Sidecar): Promise<BuiltManifest> {
  let payload: AttachmentInput['payload'];
  if (sidecar.bytes) payload = sidecar.bytes;
  else {
    const digest = await sha256File(sidecar.path);
    const descriptor = { mediaType: sidecar.mediaType, digest, size: sidecar.size };
    payload = localReader(descriptor, fileSource(sidecar.path, digest, sidecar.size), sidecar.path);
  }
  return buildAttachment({
    subject,
    artifactType: sidecar.artifactType,
    payload,
    mediaType: sidecar.mediaType,
    annotations: sidecar.annotations,
  });
}
