/**
 * Reading attachments (release record, SBOM) pushed to a registry as OCI 1.1 artifacts whose
 * `subject` is an image: found through the referrers API or the referrers tag, then each artifact
 * manifest is fetched by digest and trusted only for what it says itself — its subject must be the
 * image, its artifactType the one asked for — before its payload layer is fetched and verified.
 *
 * The layout writer (src/oci/attach.ts) replaces an earlier attachment of the same type; a
 * registry keeps every one that was pushed, so the newest wins: the latest
 * `org.opencontainers.image.created` annotation, then the highest digest (deterministic).
 */
import { WaybillError } from '../errors.ts';
import { MAX_BLOB } from '../oci/layout.ts';
import { parseImageManifest } from '../oci/parse.ts';
import { type Descriptor, MEDIA_TYPE, OCI_ANNOTATION } from '../oci/types.ts';
import type { Repository } from './repository.ts';

/** Referrers looked at per query: a hostile list of thousands is not fetched one by one. */
export const MAX_REFERRERS_READ = 100;

export interface RegistryAttachment {
  /** The artifact manifest's descriptor. */
  descriptor: Descriptor;
  artifactType: string;
  subject: string;
  payload: Descriptor;
  annotations: Record<string, string>;
}

/** Reads and checks one artifact manifest; undefined when it is not an attachment to `subject`. */
async function readAttachmentManifest(
  repository: Repository,
  digest: string,
  subject: string,
): Promise<RegistryAttachment | undefined> {
  const fetched = await repository.getManifest(digest);
  if (fetched.mediaType !== MEDIA_TYPE.ociManifest) return undefined;
  const manifest = parseImageManifest(fetched.bytes, `${repository.input}@${digest}`);
  if (manifest.subject?.digest !== subject) return undefined;
  const payload = manifest.layers[0];
  if (!payload) return undefined;
  return {
    descriptor: fetched.descriptor,
    artifactType: manifest.artifactType ?? manifest.config.mediaType,
    subject,
    payload,
    annotations: manifest.annotations ?? {},
  };
}

function newestFirst(a: RegistryAttachment, b: RegistryAttachment): number {
  const ca = a.annotations[OCI_ANNOTATION.created] ?? '';
  const cb = b.annotations[OCI_ANNOTATION.created] ?? '';
  if (ca !== cb) return ca < cb ? 1 : -1;
  return a.descriptor.digest < b.descriptor.digest ? 1 : -1;
}

/** Attachments of `subject` of one artifactType, newest first. */
export async function findRegistryAttachments(
  repository: Repository,
  subject: string,
  artifactType: string,
): Promise<RegistryAttachment[]> {
  const { referrers } = await repository.listReferrers(subject, artifactType);
  const found: RegistryAttachment[] = [];
  const seen = new Set<string>();
  for (const descriptor of referrers.slice(0, MAX_REFERRERS_READ)) {
    if (seen.has(descriptor.digest) || descriptor.mediaType !== MEDIA_TYPE.ociManifest) continue;
    seen.add(descriptor.digest);
    const attachment = await readAttachmentManifest(repository, descriptor.digest, subject);
    if (attachment && attachment.artifactType === artifactType) found.push(attachment);
  }
  return found.sort(newestFirst);
}

/** The payload of an attachment, verified against its manifest's layer descriptor. */
export async function readRegistryAttachmentPayload(
  repository: Repository,
  attachment: RegistryAttachment,
): Promise<Buffer> {
  return repository.readBlob(attachment.payload, MAX_BLOB);
}

/**
 * The payload of the attachment manifest `digest` when it is attached to `subject` (a record's
 * `oci:<digest>` location); undefined when that manifest is missing or about another image.
 */
export async function readRegistryAttachmentAt(
  repository: Repository,
  digest: string,
  subject: string,
): Promise<Buffer | undefined> {
  let attachment: RegistryAttachment | undefined;
  try {
    attachment = await readAttachmentManifest(repository, digest, subject);
  } catch (e) {
    if (e instanceof WaybillError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
  return attachment ? readRegistryAttachmentPayload(repository, attachment) : undefined;
}

/**
 * The payload of the attachment of `subject` titled `fileName` (`org.opencontainers.image.title`):
 * a sidecar of a file published as an OCI artifact (`NAME.cdx.json`), found by the name a record's
 * `manifest.location` gives. Undefined when none has that title.
 */
export async function readRegistrySidecar(
  repository: Repository,
  subject: string,
  fileName: string,
): Promise<Buffer | undefined> {
  const { referrers } = await repository.listReferrers(subject);
  for (const descriptor of referrers.slice(0, MAX_REFERRERS_READ)) {
    if (descriptor.mediaType !== MEDIA_TYPE.ociManifest) continue;
    const attachment = await readAttachmentManifest(repository, descriptor.digest, subject);
    if (attachment?.annotations[OCI_ANNOTATION.title] === fileName)
      return readRegistryAttachmentPayload(repository, attachment);
  }
  return undefined;
}
