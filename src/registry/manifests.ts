/**
 * Manifests and indexes in a registry (distribution-spec "Pulling manifests", "Pushing manifests"):
 * fetched whole under the 4 MiB limit the spec asks every client and registry to support, checked
 * against the digest they were asked by (or the one the registry states, for a tag), and typed by
 * their Content-Type, which must agree with the document's own `mediaType`.
 */
import { WaybillError } from '../errors.ts';
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES, MAX_JSON_BLOB_BYTES } from '../oci/parse.ts';
import { type Descriptor, MEDIA_TYPE } from '../oci/types.ts';
import { isSha256Digest, sha256Digest } from '../util/digest.ts';
import { pullScope, pushScope, type RegistryClient } from './client.ts';
import { drainResponse, header, readBody } from './http.ts';

/** Manifests larger than this are refused, fetched or pushed (distribution-spec: at least 4 MiB). */
export const MAX_MANIFEST_BYTES = MAX_JSON_BLOB_BYTES;

/** Every manifest type waybill reads, most specific first (schema 1 is not asked for). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.dockerManifestList,
  MEDIA_TYPE.dockerManifest,
].join(', ');

const KNOWN_TYPES: ReadonlySet<string> = new Set([...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES]);

export interface FetchedManifest {
  bytes: Buffer;
  /** The manifest's media type (Content-Type, agreeing with the document's `mediaType`). */
  mediaType: string;
  digest: string;
  descriptor: Descriptor;
}

export interface Target {
  client: RegistryClient;
  repository: string;
  /** Names the reference in errors. */
  input: string;
}

function contentType(value: string | undefined): string | undefined {
  const type = value?.split(';')[0]?.trim().toLowerCase();
  return type === '' ? undefined : type;
}

/**
 * The media type of a fetched manifest: the Content-Type, which must match the document's
 * `mediaType` when it has one; a document without `mediaType` served as plain JSON is typed by its
 * shape (`manifests` → index, else image manifest).
 */
export function manifestMediaType(bytes: Buffer, served: string | undefined, input: string): string {
  let doc: Record<string, unknown>;
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    doc = parsed as Record<string, unknown>;
  } catch {
    throw new WaybillError('MALFORMED', input, 'the manifest is not a JSON object');
  }
  const own = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (doc.schemaVersion === 1 || served?.startsWith('application/vnd.docker.distribution.manifest.v1'))
    throw new WaybillError(
      'UNSUPPORTED',
      input,
      'Docker schema 1 manifests are not supported (deprecated since 2017)',
    );
  if (served && KNOWN_TYPES.has(served)) {
    if (own !== undefined && own !== served)
      throw new WaybillError(
        'MALFORMED',
        input,
        `the registry serves a ${served} whose mediaType says ${own}`,
      );
    return served;
  }
  if (own !== undefined) {
    if (!KNOWN_TYPES.has(own)) throw new WaybillError('UNSUPPORTED', input, `manifest of type ${own}`);
    return own;
  }
  return Array.isArray(doc.manifests) ? MEDIA_TYPE.ociIndex : MEDIA_TYPE.ociManifest;
}

/**
 * Fetches `/v2/<name>/manifests/<reference>` (a tag or a digest). By digest, the bytes must hash to
 * it; by tag, to the `Docker-Content-Digest` the registry states when it states one.
 */
export async function getManifest(target: Target, reference: string): Promise<FetchedManifest> {
  const { client, repository, input } = target;
  const what = `manifest ${reference}`;
  const response = await client.request({
    method: 'GET',
    path: `/v2/${repository}/manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: [pullScope(repository)],
    input,
    what,
  });
  const bytes = await readBody(response, MAX_MANIFEST_BYTES, input, what);
  const digest = sha256Digest(bytes);
  const expected = isSha256Digest(reference) ? reference : header(response, 'docker-content-digest');
  if (expected !== undefined && isSha256Digest(expected) && expected !== digest) {
    throw new WaybillError(
      'DIGEST_MISMATCH',
      input,
      `${what}: the registry sent content whose digest is ${digest}, not ${expected}`,
    );
  }
  const mediaType = manifestMediaType(bytes, contentType(header(response, 'content-type')), input);
  return { bytes, mediaType, digest, descriptor: { mediaType, digest, size: bytes.length } };
}

/** HEAD of a manifest: its descriptor, or undefined when the tag or digest is not there. */
export async function headManifest(target: Target, reference: string): Promise<Descriptor | undefined> {
  const { client, repository, input } = target;
  const response = await client.request({
    method: 'HEAD',
    path: `/v2/${repository}/manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: [pullScope(repository)],
    accept: [404],
    input,
    what: `manifest ${reference}`,
  });
  drainResponse(response);
  if (response.status === 404) return undefined;
  const digest = header(response, 'docker-content-digest');
  const size = Number(header(response, 'content-length'));
  const mediaType = contentType(header(response, 'content-type'));
  if (
    digest &&
    isSha256Digest(digest) &&
    Number.isSafeInteger(size) &&
    mediaType &&
    KNOWN_TYPES.has(mediaType)
  )
    return { mediaType, digest, size };
  // Registries that leave out the digest on HEAD: the GET says everything.
  return (await getManifest(target, reference)).descriptor;
}

export interface PushedManifest {
  descriptor: Descriptor;
  /** The registry answered `OCI-Subject`: it indexes referrers itself (referrers API). */
  subjectProcessed: boolean;
}

/** Pushes a manifest or index under a tag or its digest. */
export async function putManifest(
  target: Target,
  reference: string,
  bytes: Buffer,
  mediaType: string,
  extraHeaders: Record<string, string> = {},
): Promise<PushedManifest> {
  const { client, repository, input } = target;
  const what = `manifest ${reference}`;
  if (bytes.length > MAX_MANIFEST_BYTES)
    throw new WaybillError(
      'LIMIT',
      input,
      `${what} of ${bytes.length} bytes is larger than ${MAX_MANIFEST_BYTES}`,
    );
  const digest = sha256Digest(bytes);
  if (isSha256Digest(reference) && reference !== digest)
    throw new WaybillError('DIGEST_MISMATCH', input, `${what}: the bytes hash to ${digest}`);
  const response = await client.request({
    method: 'PUT',
    path: `/v2/${repository}/manifests/${reference}`,
    headers: { 'content-type': mediaType, ...extraHeaders },
    body: bytes,
    scopes: [pushScope(repository)],
    input,
    what,
  });
  drainResponse(response);
  const stated = header(response, 'docker-content-digest');
  if (stated && isSha256Digest(stated) && stated !== digest)
    throw new WaybillError(
      'DIGEST_MISMATCH',
      input,
      `${what}: the registry stored ${stated}, the bytes hash to ${digest}`,
    );
  return {
    descriptor: { mediaType, digest, size: bytes.length },
    subjectProcessed: header(response, 'oci-subject') !== undefined,
  };
}
