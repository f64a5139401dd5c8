/**
 * Referrers: manifests whose `subject` is another manifest (attachments: records, SBOMs,
 * signatures). distribution-spec 1.1 "Listing Referrers" and "Unavailable Referrers API":
 *
 * - read: `GET /v2/<name>/referrers/<digest>` (paginated); a 404 means the registry has no referrers
 *   API, and the list is then the image index tagged `<alg>-<encoded>` (the referrers tag schema);
 * - write: push the manifest; a registry with the API answers `OCI-Subject`. Without it the client
 *   must add a descriptor to the referrers tag index itself: read, add (no duplicates), write, then
 *   read again to see that no concurrent writer replaced the index in between, merging again if one
 *   did. Updates from one process are serialized per tag; see addToReferrersTag for other processes.
 */
import { WaybillError } from '../errors.ts';
import { INDEX_MEDIA_TYPES, parseImageIndex, parseJsonBlob } from '../oci/parse.ts';
import { type Descriptor, type ImageIndex, MEDIA_TYPE } from '../oci/types.ts';
import { parseSha256Digest, sha256Digest } from '../util/digest.ts';
import { pullScope } from './client.ts';
import { getManifest, manifestMediaType, putManifest, type Target } from './manifests.ts';
import { forEachPage } from './pages.ts';

export type ReferrersSource = 'api' | 'tag';

export interface ReferrerList {
  /** Descriptors of the referring manifests, as the registry (or the tag index) lists them. */
  referrers: Descriptor[];
  via: ReferrersSource;
}

/** Rounds of read-add-write-verify before giving up on a referrers tag others keep rewriting. */
const TAG_UPDATE_ROUNDS = 5;

/**
 * The referrers tag of a digest: the algorithm truncated to 32 characters, "-", the encoded part
 * truncated to 64, characters a tag cannot hold replaced by "-" (`sha256:abc…` → `sha256-abc…`).
 */
export function referrersTag(digest: string): string {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon).slice(0, 32);
  const encoded = digest.slice(colon + 1).slice(0, 64);
  return `${algorithm}-${encoded}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

function matches(descriptor: Descriptor, artifactType: string | undefined): boolean {
  return artifactType === undefined || descriptor.artifactType === artifactType;
}

/** The referrers of `subject`, optionally of one artifactType, from the API or the tag schema. */
export async function listReferrers(
  target: Target,
  subject: string,
  artifactType?: string,
): Promise<ReferrerList> {
  const { client, repository, input } = target;
  parseSha256Digest(subject, input, 'subject digest');
  const referrers: Descriptor[] = [];
  let missing = false;
  await forEachPage(
    client,
    {
      method: 'GET',
      path: `/v2/${repository}/referrers/${subject}`,
      ...(artifactType ? { query: { artifactType } } : {}),
      headers: { accept: MEDIA_TYPE.ociIndex },
      scopes: [pullScope(repository)],
      accept: [404],
      input,
      what: `referrers of ${subject}`,
    },
    ({ response, body }) => {
      if (response.status === 404) {
        missing = true;
        return;
      }
      const index = parseImageIndex(body, `${input}: referrers of ${subject}`);
      // A registry that did not apply the filter returns everything: filter here.
      // Not a spread: a hostile registry's list can be longer than the call stack allows arguments.
      for (const d of index.manifests) if (matches(d, artifactType)) referrers.push(d);
    },
  );
  if (!missing) return { referrers, via: 'api' };
  const tagged = await readReferrersTag(target, subject);
  return { referrers: (tagged?.index.manifests ?? []).filter((d) => matches(d, artifactType)), via: 'tag' };
}

interface TaggedIndex {
  index: ImageIndex;
  digest: string;
}

/**
 * The image index under the referrers tag of `subject`, or undefined when there is none. Reading
 * treats a tag holding something else as no referrers (spec: "SHOULD assume there are no
 * referrers"); writing refuses to replace it (see addToReferrersTag).
 */
async function readReferrersTag(
  target: Target,
  subject: string,
  strict = false,
): Promise<TaggedIndex | undefined> {
  const tag = referrersTag(subject);
  let fetched: Awaited<ReturnType<typeof getManifest>>;
  try {
    fetched = await getManifest(target, tag);
  } catch (e) {
    if (e instanceof WaybillError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
  if (!INDEX_MEDIA_TYPES.has(fetched.mediaType)) {
    if (!strict) return undefined;
    throw new WaybillError(
      'MALFORMED',
      target.input,
      `the referrers tag ${tag} holds a ${fetched.mediaType}, not an image index; not changed`,
    );
  }
  const index = parseImageIndex(fetched.bytes, `${target.input}: referrers tag ${tag}`);
  return { index, digest: fetched.digest };
}

/** The descriptor a referrers list holds for a manifest (artifactType, annotations copied). */
export function referrerDescriptor(
  bytes: Buffer,
  mediaType: string,
  digest: string,
  input: string,
): Descriptor {
  const doc = parseJsonBlob(bytes, input);
  const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
  const config = doc.config as { mediaType?: unknown } | undefined;
  const artifactType =
    typeof doc.artifactType === 'string' && doc.artifactType !== ''
      ? doc.artifactType
      : !INDEX_MEDIA_TYPES.has(mediaType) && typeof config?.mediaType === 'string'
        ? config.mediaType
        : undefined;
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  if (doc.annotations && typeof doc.annotations === 'object')
    descriptor.annotations = { ...(doc.annotations as Record<string, string>) };
  return descriptor;
}

function indexBytes(index: ImageIndex): Buffer {
  return Buffer.from(JSON.stringify(index));
}

/**
 * Updates of one referrers tag from this process, one after the other: a read-modify-write racing
 * another in the same process would drop one of the two entries. (Writers in other processes are
 * only caught by the re-read below, which narrows the window but cannot close it without conditional
 * requests, which docker-registry does not support.)
 */
const tagLocks = new Map<string, Promise<void>>();

async function withTagLock<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = tagLocks.get(key) ?? Promise.resolve();
  let release: () => void = () => {};
  const current = new Promise<void>((resolve) => {
    release = resolve;
  });
  const chained = previous.then(() => current);
  tagLocks.set(key, chained);
  await previous;
  try {
    return await work();
  } finally {
    release();
    if (tagLocks.get(key) === chained) tagLocks.delete(key);
  }
}

/** Adds `descriptor` to the referrers tag index of `subject` (read, add, write, verify). */
export async function addToReferrersTag(
  target: Target,
  subject: string,
  descriptor: Descriptor,
): Promise<void> {
  const tag = referrersTag(subject);
  const key = `${target.client.registry}/${target.repository}:${tag}`;
  await withTagLock(key, async () => {
    for (let round = 1; round <= TAG_UPDATE_ROUNDS; round++) {
      const current = await readReferrersTag(target, subject, true);
      const index: ImageIndex = current?.index ?? {
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociIndex,
        manifests: [],
      };
      if (index.manifests.some((d) => d.digest === descriptor.digest)) return;
      const updated: ImageIndex = {
        ...index,
        mediaType: MEDIA_TYPE.ociIndex,
        manifests: [...index.manifests, descriptor],
      };
      await putManifest(target, tag, indexBytes(updated), MEDIA_TYPE.ociIndex);
      // Another writer may have replaced the index between our read and write: look again.
      const after = await readReferrersTag(target, subject, true);
      if (after?.index.manifests.some((d) => d.digest === descriptor.digest)) return;
    }
    throw new WaybillError(
      'NETWORK',
      target.input,
      `the referrers tag ${tag} kept changing under concurrent writers; ${descriptor.digest} was not added`,
    );
  });
}

export interface PushedReferrer {
  descriptor: Descriptor;
  via: ReferrersSource;
}

/**
 * Pushes an artifact manifest (or index) that has a `subject`, by digest, and makes it findable as a
 * referrer: by the registry itself (it answered OCI-Subject), else through the referrers tag.
 */
export async function pushReferrer(
  target: Target,
  bytes: Buffer,
  mediaType?: string,
): Promise<PushedReferrer> {
  const { input } = target;
  const type = mediaType ?? manifestMediaType(bytes, undefined, input);
  const doc = parseJsonBlob(bytes, input);
  const subject = (doc.subject as { digest?: unknown } | undefined)?.digest;
  if (typeof subject !== 'string')
    throw new WaybillError('USAGE', input, 'the manifest to attach has no subject');
  parseSha256Digest(subject, input, 'subject digest');
  const pushed = await putManifest(target, sha256Digest(bytes), bytes, type);
  const descriptor = referrerDescriptor(bytes, type, pushed.descriptor.digest, input);
  if (pushed.subjectProcessed) return { descriptor, via: 'api' };
  await addToReferrersTag(target, subject, descriptor);
  return { descriptor, via: 'tag' };
}
