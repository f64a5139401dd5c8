/**
 * Blobs in a registry (distribution-spec "Pulling blobs", "Pushing blobs"):
 * - pull: a stream checked against the digest and size it was asked by, as the bytes flow (a lying
 *   registry fails at the end of the blob, or as soon as it sends more than declared);
 * - push: skipped when HEAD says the blob is there, mounted from another repository of the same
 *   registry when the caller knows one, else uploaded — in one PUT, or in PATCH chunks for big blobs
 *   (a failed chunk is resumed from the offset the registry reports, so an interrupted upload does
 *   not start over).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { WaybillError } from '../errors.ts';
import type { Descriptor } from '../oci/types.ts';
import {
  createDigestVerifier,
  isSha256Digest,
  parseSha256Digest,
  sha256Digest,
  verifyBlob,
} from '../util/digest.ts';
import { pullScope, pushScope } from './client.ts';
import { drainResponse, type HttpResponse, header, NetworkFailure, readBody } from './http.ts';
import type { Target } from './manifests.ts';
import { isRetryableFailure } from './retry.ts';

/** Bytes to push: digest and size known up front, and a way to (re)open them from an offset. */
export interface BlobSource {
  digest: string;
  size: number;
  /** A fresh stream of the bytes from `start` (0 = all); called again when an upload is retried. */
  open(start: number): Readable;
}

export function bufferSource(bytes: Buffer, digest?: string): BlobSource {
  return {
    digest: digest ?? sha256Digest(bytes),
    size: bytes.length,
    open: (start) => Readable.from([bytes.subarray(start)]),
  };
}

/** A file (or a byte range of one, as in an archive) whose digest and size are known. */
export function fileSource(path: string, digest: string, size: number, offset = 0): BlobSource {
  return {
    digest,
    size,
    open: (start) =>
      size - start <= 0
        ? Readable.from([])
        : createReadStream(path, { start: offset + start, end: offset + size - 1, highWaterMark: 1 << 20 }),
  };
}

export type PushResult = 'exists' | 'mounted' | 'uploaded';

export interface PushBlobOptions {
  /** Other repositories of the same registry that may hold the blob (cross-repository mount). */
  mountFrom?: string[];
  /** Blobs larger than this are sent in chunks of `chunkSize`. Default 64 MiB. */
  chunkedAbove?: number;
  /** Default 16 MiB. */
  chunkSize?: number;
  /** Bytes sent so far and the total. */
  onProgress?: (sent: number, total: number) => void;
}

export const DEFAULT_CHUNKED_ABOVE = 64 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
/** Attempts per chunk (and for a whole monolithic upload). */
const UPLOAD_ATTEMPTS = 4;

function blobPath(repository: string, digest: string): string {
  return `/v2/${repository}/blobs/${digest}`;
}

/** The size of the blob if the repository has it, else undefined. */
export async function headBlob(target: Target, digest: string): Promise<number | undefined> {
  const { client, repository, input } = target;
  parseSha256Digest(digest, input);
  const response = await client.request({
    method: 'HEAD',
    path: blobPath(repository, digest),
    scopes: [pullScope(repository)],
    redirects: true,
    accept: [404],
    input,
    what: `blob ${digest}`,
  });
  drainResponse(response);
  if (response.status === 404) return undefined;
  const size = Number(header(response, 'content-length'));
  return Number.isSafeInteger(size) ? size : undefined;
}

/** GET of a blob (redirects followed: registries serve blobs from object stores and CDNs). */
function getBlob(target: Target, descriptor: Descriptor): Promise<HttpResponse> {
  const { client, repository, input } = target;
  parseSha256Digest(descriptor.digest, input);
  return client.request({
    method: 'GET',
    path: blobPath(repository, descriptor.digest),
    scopes: [pullScope(repository)],
    redirects: true,
    input,
    what: `blob ${descriptor.digest}`,
  });
}

/**
 * A stream of the blob's bytes, verified against `descriptor` as they flow: it errors with
 * DIGEST_MISMATCH at the end if the digest differs, or at once if more bytes come than declared.
 */
export async function openBlob(target: Target, descriptor: Descriptor): Promise<Readable> {
  const { input } = target;
  const what = `blob ${descriptor.digest}`;
  const response = await getBlob(target, descriptor);
  const declared = Number(header(response, 'content-length'));
  if (Number.isFinite(declared) && declared !== descriptor.size) {
    response.body.destroy();
    throw new WaybillError(
      'DIGEST_MISMATCH',
      input,
      `${what}: the registry sends ${declared} bytes, the descriptor says ${descriptor.size}`,
    );
  }
  const verifier = createDigestVerifier(descriptor.digest, {
    input: `${input}: ${what}`,
    size: descriptor.size,
  });
  response.body.on('error', (e: NodeJS.ErrnoException) =>
    verifier.destroy(
      e instanceof NetworkFailure
        ? e
        : new NetworkFailure(e.code ?? 'ECONNRESET', `${response.url.host} broke off ${what}`, { cause: e }),
    ),
  );
  // A mismatch found before the caller starts reading (a small blob arrives whole at once) must not
  // be an unhandled 'error' event: the stream keeps it and the caller's read rejects with it.
  verifier.on('error', () => {});
  return response.body.pipe(verifier);
}

/** A small blob (config, attachment payload) read whole and verified. */
export async function readBlob(target: Target, descriptor: Descriptor, maxBytes: number): Promise<Buffer> {
  const { input } = target;
  const what = `blob ${descriptor.digest}`;
  if (descriptor.size > maxBytes)
    throw new WaybillError(
      'LIMIT',
      input,
      `${what} of ${descriptor.size} bytes is larger than the ${maxBytes}-byte limit`,
    );
  const bytes = await readBody(await getBlob(target, descriptor), maxBytes, input, what);
  verifyBlob(bytes, descriptor.digest, { input: `${input}: ${what}`, size: descriptor.size });
  return bytes;
}

/** Where an upload continues: the absolute URL of the session. */
function locationOf(response: HttpResponse, input: string): URL {
  const location = header(response, 'location');
  if (!location)
    throw new WaybillError('MALFORMED', input, 'the registry started an upload without a Location');
  try {
    return new URL(location, response.url);
  } catch {
    throw new WaybillError('MALFORMED', input, 'the registry gave an upload Location that is not a URL');
  }
}

/**
 * Tries to mount `digest` from `from` into the target repository. True when mounted; false when the
 * registry started an ordinary upload session instead (then `session` is its location).
 */
export async function mountBlob(
  target: Target,
  digest: string,
  from: string,
): Promise<{ mounted: true } | { mounted: false; session: URL }> {
  const { client, repository, input } = target;
  const response = await client.request({
    method: 'POST',
    path: `/v2/${repository}/blobs/uploads/`,
    query: { mount: digest, from },
    scopes: [pushScope(repository), pullScope(from)],
    input,
    what: `mount of blob ${digest} from ${from}`,
  });
  drainResponse(response);
  if (response.status === 201) return { mounted: true };
  return { mounted: false, session: locationOf(response, input) };
}

async function startUpload(target: Target, digest: string): Promise<URL> {
  const { client, repository, input } = target;
  const response = await client.request({
    method: 'POST',
    path: `/v2/${repository}/blobs/uploads/`,
    scopes: [pushScope(repository)],
    input,
    what: `upload of blob ${digest}`,
  });
  drainResponse(response);
  return locationOf(response, input);
}

function withDigest(session: URL, digest: string): URL {
  const url = new URL(session);
  url.searchParams.set('digest', digest);
  return url;
}

/** Counts bytes as they are sent, for progress. */
function counted(stream: Readable, onBytes: (n: number) => void): Readable {
  stream.on('data', (chunk: Buffer) => onBytes(chunk.length));
  return stream;
}

function isRetryable(e: unknown): boolean {
  if (isRetryableFailure(e)) return true;
  return e instanceof WaybillError && e.code === 'NETWORK';
}

async function uploadMonolithic(
  target: Target,
  source: BlobSource,
  session: URL,
  options: PushBlobOptions,
): Promise<void> {
  const { client, repository, input } = target;
  const response = await client.request({
    method: 'PUT',
    url: withDigest(session, source.digest),
    headers: { 'content-type': 'application/octet-stream' },
    // A failed upload is retried by pushBlob with a new session, not re-sent to this one.
    retry: false,
    body: {
      length: source.size,
      open: () => counted(source.open(0), (n) => options.onProgress?.(n, source.size)),
    },
    scopes: [pushScope(repository)],
    input,
    what: `upload of blob ${source.digest}`,
  });
  drainResponse(response);
}

/** The offset an upload session has reached (GET on the session: `Range: 0-<last>`). */
async function uploadedSoFar(target: Target, session: URL): Promise<number> {
  const { client, repository, input } = target;
  const response = await client.request({
    method: 'GET',
    url: session,
    scopes: [pushScope(repository)],
    input,
    what: 'upload status',
  });
  drainResponse(response);
  const range = /^(?:bytes=)?0-(\d+)$/.exec(header(response, 'range') ?? '');
  // distribution answers `0-0` both for nothing and for one byte received: count it as nothing
  // (re-sending one byte is harmless; skipping one is not).
  const last = range ? Number(range[1]) : 0;
  return last > 0 ? last + 1 : 0;
}

async function uploadChunked(
  target: Target,
  source: BlobSource,
  start: URL,
  options: PushBlobOptions,
): Promise<void> {
  const { client, repository, input } = target;
  const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  let session = start;
  let offset = 0;
  let failures = 0;
  while (offset < source.size) {
    const end = Math.min(source.size, offset + chunkSize);
    const from = offset;
    try {
      const response = await client.request({
        method: 'PATCH',
        url: session,
        headers: {
          'content-type': 'application/octet-stream',
          // distribution-spec: inclusive range, no unit.
          'content-range': `${from}-${end - 1}`,
        },
        body: { length: end - from, open: () => sliceStream(source, from, end) },
        // Retried below, from the offset the registry reports.
        retry: false,
        scopes: [pushScope(repository)],
        input,
        what: `chunk ${from}-${end - 1} of blob ${source.digest}`,
      });
      drainResponse(response);
      session = locationOf(response, input);
      offset = end;
      options.onProgress?.(end - from, source.size);
    } catch (e) {
      if (!isRetryable(e) || ++failures >= UPLOAD_ATTEMPTS) throw e;
      // Resume where the registry says it is, not where we think we were.
      offset = await uploadedSoFar(target, session);
    }
  }
  const response = await client.request({
    method: 'PUT',
    url: withDigest(session, source.digest),
    scopes: [pushScope(repository)],
    input,
    what: `upload of blob ${source.digest}`,
  });
  drainResponse(response);
}

function sliceStream(source: BlobSource, start: number, end: number): Readable {
  const stream = source.open(start);
  async function* take(): AsyncGenerator<Buffer> {
    let left = end - start;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
        left -= part.length;
        yield part;
        if (left <= 0) break;
      }
    } finally {
      stream.destroy();
    }
  }
  return Readable.from(take());
}

/**
 * Puts a blob into the repository unless it is there. Returns what was done. The registry checks
 * the digest when the upload completes (a mismatch is DIGEST_MISMATCH).
 */
export async function pushBlob(
  target: Target,
  source: BlobSource,
  options: PushBlobOptions = {},
): Promise<PushResult> {
  const { input } = target;
  if (!isSha256Digest(source.digest)) parseSha256Digest(source.digest, input);
  if ((await headBlob(target, source.digest)) !== undefined) return 'exists';
  let session: URL | undefined;
  for (const from of options.mountFrom ?? []) {
    if (from === target.repository) continue;
    const mount = await mountBlob(target, source.digest, from);
    if (mount.mounted) return 'mounted';
    session = mount.session;
    break;
  }
  const chunked = source.size > (options.chunkedAbove ?? DEFAULT_CHUNKED_ABOVE);
  for (let attempt = 1; ; attempt++) {
    try {
      session ??= await startUpload(target, source.digest);
      if (chunked) await uploadChunked(target, source, session, options);
      else await uploadMonolithic(target, source, session, options);
      return 'uploaded';
    } catch (e) {
      if (!isRetryable(e) || attempt >= UPLOAD_ATTEMPTS) throw e;
      // A failed monolithic PUT leaves the session in an unknown state: start a new one, unless the
      // blob made it after all.
      session = undefined;
      if ((await headBlob(target, source.digest)) !== undefined) return 'uploaded';
    }
  }
}
