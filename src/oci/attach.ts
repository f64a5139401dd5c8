/**
 * Attaching the release record and SBOM to an image as OCI 1.1 artifacts (image-spec manifest.md,
 * "Guidelines for Artifact Usage"): an image manifest with `artifactType`, the empty config
 * descriptor (`application/vnd.oci.empty.v1+json`, the 2-byte `{}`), one layer holding the payload,
 * and `subject` pointing at the image. A registry's referrers API finds such manifests by subject.
 *
 * An OCI layout has no referrers API, so the artifact manifest is listed in index.json WITHOUT
 * `org.opencontainers.image.ref.name` (it is not a tag; `oci:DIR:TAG` still resolves to the image)
 * and WITH `vnd.waybill.referrer` = subject digest plus the descriptor's `artifactType`, which is how
 * `findAttachments` finds it again. Attaching replaces an earlier attachment in the same slot — the
 * same subject, artifactType and annotations (but `created`) — and `detachArtifacts` empties a slot.
 * Note that an `oci:DIR` reference without a tag then no longer resolves in tools that expect
 * exactly one index entry (skopeo): use a tag.
 */
import { WaybillError } from '../errors.ts';
import { OciArchiveLayout } from './archive-layout.ts';
import { artifactManifest, EMPTY_CONFIG, subjectReference } from './artifact-manifest.ts';
import {
  jsonBytes,
  type LayoutStore,
  MAX_BLOB,
  OciLayout,
  readDescribedBlob,
  WAYBILL_REFERRER_ANNOTATION,
} from './layout.ts';
import { parseImageManifest, parseJsonValue } from './parse.ts';
import type { CommitOptions } from './tar-edit.ts';
import { type Descriptor, type ImageIndex, MEDIA_TYPE, OCI_ANNOTATION } from './types.ts';

export { EMPTY_CONFIG } from './artifact-manifest.ts';

/**
 * The caller's annotations (all but `created`) tell attachments of one type apart: Sigstore bundles
 * share one artifactType and differ by the predicate type they carry, so a provenance bundle must
 * not replace the record's bundle. They are listed on the index entry too, where replacement looks.
 */
function slotOf(annotations: Record<string, string>): Record<string, string> {
  return sortedCopy(
    Object.fromEntries(Object.entries(annotations).filter(([k]) => k !== OCI_ANNOTATION.created)),
  );
}

/** Whether index entry `d` is the attachment in this slot (subject, artifactType, annotations). */
function inSlot(d: Descriptor, subject: string, artifactType: string, slot: Record<string, string>): boolean {
  const { [WAYBILL_REFERRER_ANNOTATION]: referrer, ...rest } = d.annotations ?? {};
  return referrer === subject && d.artifactType === artifactType && sameMap(rest, slot);
}

export interface Attachment {
  /** The artifact manifest's descriptor (as listed in index.json). */
  descriptor: Descriptor;
  artifactType: string;
  subject: Descriptor;
  /** The payload layer's descriptor. */
  payload: Descriptor;
  /** The artifact manifest's annotations. */
  annotations: Record<string, string>;
}

export interface AttachOptions {
  /** Annotations for the artifact manifest. `org.opencontainers.image.created` is filled in if absent. */
  annotations?: Record<string, string>;
}

type LayoutArg = string | LayoutStore;

async function storeFor(layout: LayoutArg): Promise<LayoutStore> {
  return typeof layout === 'string' ? OciLayout.open(layout) : layout;
}

/**
 * Writes `payload` as an OCI 1.1 artifact referring to `subject` and lists it in index.json.
 * `subject` must be in the layout (its size is checked). Same inputs give the same manifest digest.
 */
export async function attachArtifact(
  layout: LayoutArg,
  subject: Descriptor,
  artifactType: string,
  payload: Uint8Array,
  payloadMediaType: string,
  annotations: Record<string, string> = {},
): Promise<Attachment> {
  const store = await storeFor(layout);
  if (!artifactType || !payloadMediaType)
    throw new WaybillError('USAGE', store.name, 'artifactType and payload media type are required');
  // The subject must be here: an attachment to nothing would be listed but never found by tag.
  await readDescribedBlob(store, subject, MAX_BLOB);
  const subjectRef = subjectReference(subject);

  const created = annotations[OCI_ANNOTATION.created] ?? (await defaultCreated(store, subjectRef));
  const emptyConfig = await store.writeBlob(Buffer.from('{}'), MEDIA_TYPE.ociEmpty);
  if (emptyConfig.digest !== EMPTY_CONFIG.digest) throw new Error('unreachable: sha256("{}") changed');
  const layer = await store.writeBlob(payload, payloadMediaType);
  const manifest = artifactManifest({
    artifactType,
    layers: [layer],
    subject: subjectRef,
    annotations: sortedCopy({ ...annotations, [OCI_ANNOTATION.created]: created }),
  });
  const written = await store.writeBlob(jsonBytes(manifest), MEDIA_TYPE.ociManifest);
  const slot = slotOf(annotations);
  const descriptor: Descriptor = {
    ...written,
    artifactType,
    annotations: { [WAYBILL_REFERRER_ANNOTATION]: subject.digest, ...slot },
  };

  const index = await store.readIndex();
  const kept = index.manifests.filter((d) => !inSlot(d, subject.digest, artifactType, slot));
  const newIndex: ImageIndex = { ...index, manifests: [...kept, descriptor] };
  await store.writeIndex(newIndex);
  return {
    descriptor,
    artifactType,
    subject: subjectRef,
    payload: layer,
    annotations: manifest.annotations ?? {},
  };
}

/**
 * Removes from index.json the attachment in one slot (subject, artifactType and annotations, as
 * `attachArtifact` replaces them); returns how many. Their blobs stay (unreferenced).
 */
export async function detachArtifacts(
  layout: LayoutArg,
  subjectDigest: string,
  artifactType: string,
  annotations: Record<string, string> = {},
): Promise<number> {
  const store = await storeFor(layout);
  const index = await store.readIndex();
  const slot = slotOf(annotations);
  const kept = index.manifests.filter((d) => !inSlot(d, subjectDigest, artifactType, slot));
  const removed = index.manifests.length - kept.length;
  if (removed > 0) await store.writeIndex({ ...index, manifests: kept });
  return removed;
}

/**
 * The created time when the caller gives none: SOURCE_DATE_EPOCH, else the subject's own
 * `created` annotation, else now. Reproducible builds set SOURCE_DATE_EPOCH.
 */
async function defaultCreated(store: LayoutStore, subject: Descriptor): Promise<string> {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch))
    return new Date(Number(epoch) * 1000).toISOString().replace('.000Z', 'Z');
  if (subject.mediaType === MEDIA_TYPE.ociManifest || subject.mediaType === MEDIA_TYPE.ociIndex) {
    const doc = parseJsonValue(await store.readBlob(subject.digest), `${store.name}@${subject.digest}`) as {
      annotations?: Record<string, unknown>;
    } | null;
    const created = doc?.annotations?.[OCI_ANNOTATION.created];
    if (typeof created === 'string') return created;
  }
  return new Date().toISOString();
}

/**
 * Attachments whose `subject` is `subjectDigest`, optionally of one artifactType, sorted by
 * artifactType then digest. Looks at index.json entries marked by waybill or carrying an
 * `artifactType` (other tools' artifacts listed the same way), and trusts only the manifest itself.
 */
export async function findAttachments(
  layout: LayoutArg,
  subjectDigest: string,
  artifactType?: string,
): Promise<Attachment[]> {
  const store = await storeFor(layout);
  const index = await store.readIndex();
  const found: Attachment[] = [];
  const seen = new Set<string>();
  for (const d of index.manifests) {
    if (d.mediaType !== MEDIA_TYPE.ociManifest || seen.has(d.digest)) continue;
    const marked = d.annotations?.[WAYBILL_REFERRER_ANNOTATION];
    if (marked === undefined && d.artifactType === undefined) continue;
    if (marked !== undefined && marked !== subjectDigest) continue;
    seen.add(d.digest);
    const manifest = parseImageManifest(await readDescribedBlob(store, d), `${store.name}@${d.digest}`);
    if (manifest.subject?.digest !== subjectDigest) continue;
    const type = manifest.artifactType ?? manifest.config.mediaType;
    if (artifactType !== undefined && type !== artifactType) continue;
    const payload = manifest.layers[0];
    if (!payload) continue;
    found.push({
      descriptor: d,
      artifactType: type,
      subject: manifest.subject,
      payload,
      annotations: manifest.annotations ?? {},
    });
  }
  return found.sort(
    (a, b) => compare(a.artifactType, b.artifactType) || compare(a.descriptor.digest, b.descriptor.digest),
  );
}

/** The payload bytes of an attachment (size and digest verified against the artifact manifest). */
export async function readAttachment(
  layout: LayoutArg,
  attachment: Attachment | Descriptor,
): Promise<Buffer> {
  const store = await storeFor(layout);
  const descriptor = 'payload' in attachment ? attachment.descriptor : attachment;
  const manifest = parseImageManifest(
    await readDescribedBlob(store, descriptor),
    `${store.name}@${descriptor.digest}`,
  );
  const payload = manifest.layers[0];
  if (!payload)
    throw new WaybillError(
      'MALFORMED',
      `${store.name}@${descriptor.digest}`,
      'artifact manifest has no payload layer',
    );
  return readDescribedBlob(store, payload, MAX_BLOB);
}

// ---------------------------------------------------------------------------------------------------
// oci-archive: the same operations through an atomic rewrite of the tar

export async function attachToOciArchive(
  archivePath: string,
  subject: Descriptor,
  artifactType: string,
  payload: Uint8Array,
  payloadMediaType: string,
  annotations: Record<string, string> = {},
  options?: CommitOptions,
): Promise<Attachment> {
  const store = await OciArchiveLayout.open(archivePath);
  const attachment = await attachArtifact(
    store,
    subject,
    artifactType,
    payload,
    payloadMediaType,
    annotations,
  );
  await store.commit(options);
  return attachment;
}

export async function findAttachmentsInOciArchive(
  archivePath: string,
  subjectDigest: string,
  artifactType?: string,
): Promise<Attachment[]> {
  return findAttachments(await OciArchiveLayout.open(archivePath), subjectDigest, artifactType);
}

export async function readAttachmentFromOciArchive(
  archivePath: string,
  attachment: Attachment | Descriptor,
): Promise<Buffer> {
  return readAttachment(await OciArchiveLayout.open(archivePath), attachment);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function sortedCopy(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(map)
      .sort()
      .map((k) => [k, map[k]!]),
  );
}
