/**
 * Integrity on every read: hashes the blobs an image artifact is bound to against the descriptors
 * that name them, and reports each one — what it is, where it is, the digest and size expected and
 * found. Used by `check`, `inspect` and `verify` (src/app/integrity.ts adds the file, tree, record and
 * SBOM bindings on top).
 *
 * Why compressed digests are enough (image-spec descriptor.md, manifest.md, config.md): the record
 * binds the manifest digest; the manifest names the config and every layer blob by the digest of
 * its stored (compressed) bytes; the config names the uncompressed layers by diff_id. Changing any
 * stored byte changes a digest in that chain, so hashing the stored bytes of every blob detects it.
 * A layer whose decompressed bytes disagree with its diff_id was written inconsistently by its
 * producer, not altered later; every layer walk (`sbom`, `stamp`) checks that anyway, so `check`
 * does not pay for decompression. The exception is a layer bound by its diff_id alone — a compressed
 * layer in a docker-archive, whose manifest.json has no digests — which is decompressed and hashed
 * (`BlobJob.diffId`).
 *
 * Speed: each blob is read once, in 4 MiB reads into two reused buffers, the next read in flight on
 * libuv's threadpool while the main thread hashes the current one (node:crypto's update runs on the
 * calling thread; OpenSSL uses the SHA extensions where the CPU has them). Two blobs are hashed at
 * once, so one blob's reads overlap the other's hashing. Measured in docs/bench.md.
 */

import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { WaybillError } from '../errors.ts';
import { type Descriptor, platformString } from '../oci/types.ts';
import {
  type DigestMismatchError,
  describeMismatch,
  isDigestMismatch,
  parseSha256Digest,
} from '../util/digest.ts';
import { type BlobLocation, type BlobStore, locateBlob } from './blob-store.ts';
import { scanLayer } from './layer-scan.ts';
import type { ImageView, IntegrityCheck, IntegrityOptions } from './types.ts';
import { DEFAULT_MAX_FILE_SIZE } from './walk-options.ts';

/** A blob to check: its descriptor and where to find it. */
export interface BlobJob {
  what: string;
  descriptor: Pick<Descriptor, 'digest'> & { size?: number };
  locate(): Promise<BlobLocation>;
  /**
   * The uncompressed digest, when it is what binds the blob (docker-archive compressed layers): the
   * blob is then decompressed and both digests checked.
   */
  diffId?: string;
}

/** Large reads: 4 MiB means few syscalls and threadpool round trips per blob (see docs/bench.md). */
const READ_BYTES = 4 * 1024 * 1024;

/**
 * SHA-256 and length of a byte range, read with a second read in flight while the first is hashed.
 * Reads at most `location.size` bytes; fewer when the file is shorter (then the size says so).
 */
export async function hashLocation(
  location: BlobLocation,
  hooks: { onBytes?: (n: number) => void; signal?: AbortSignal } = {},
): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  const handle = await open(location.file, 'r');
  const end = location.start + location.size;
  let position = location.start;
  try {
    const length = Math.min(location.size, READ_BYTES);
    const buffers = [Buffer.allocUnsafe(length), Buffer.allocUnsafe(length)];
    const read = (which: number) =>
      handle.read(buffers[which] as Buffer, 0, Math.min(length, end - position), position);
    let current = 0;
    let pending = position < end ? read(current) : undefined;
    while (pending) {
      hooks.signal?.throwIfAborted();
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      position += bytesRead;
      const chunk = (buffers[current] as Buffer).subarray(0, bytesRead);
      // The next read goes into the other buffer while this one is hashed.
      current ^= 1;
      pending = position < end ? read(current) : undefined;
      hash.update(chunk);
      hooks.onBytes?.(bytesRead);
    }
  } finally {
    await handle.close();
  }
  return { digest: `sha256:${hash.digest('hex')}`, size: position - location.start };
}

/** A failed check from a DIGEST_MISMATCH thrown while reading something (an attachment, a blob). */
export function mismatchCheck(what: string, e: DigestMismatchError, problem = e.reason): IntegrityCheck {
  const { facts } = e;
  return {
    what: e.what ?? what,
    name: e.where,
    expected: facts.expected,
    ...(facts.expectedSize !== undefined ? { expectedSize: facts.expectedSize } : {}),
    ...(facts.actual !== undefined ? { actual: facts.actual } : {}),
    ...(facts.actualSize !== undefined ? { actualSize: facts.actualSize } : {}),
    passed: false,
    problem,
    checkedBy: 'hash',
  };
}

/** The check of `job`'s blob at `name`: passed when `found` matches, else failed with `problem`. */
function outcome(
  job: BlobJob,
  name: string,
  found: { digest?: string; size?: number },
  problem?: string,
): IntegrityCheck {
  const check: IntegrityCheck = {
    what: job.what,
    name,
    expected: job.descriptor.digest,
    passed: problem === undefined,
    checkedBy: 'hash',
  };
  if (job.descriptor.size !== undefined) check.expectedSize = job.descriptor.size;
  if (found.digest !== undefined) check.actual = found.digest;
  if (found.size !== undefined) check.actualSize = found.size;
  if (problem !== undefined) check.problem = problem;
  return check;
}

/** The check of one located blob: hashed, or decompressed and hashed when it carries a diff_id. */
async function checkLocated(
  job: BlobJob,
  location: BlobLocation,
  hooks: { onBytes: (n: number) => void; signal?: AbortSignal },
): Promise<IntegrityCheck> {
  const expected = job.descriptor;
  if (job.diffId !== undefined) {
    try {
      await scanLayer(
        {
          location,
          input: `${location.name} (${job.what})`,
          digest: expected.digest,
          ...(expected.size !== undefined ? { size: expected.size } : {}),
          diffId: job.diffId,
          image: true,
          maxFileSize: DEFAULT_MAX_FILE_SIZE,
        },
        { want: () => false },
        hooks,
      );
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
      if (!isDigestMismatch(e)) {
        // Changed bytes in a compressed stream usually break the stream before any digest is done.
        return outcome(job, location.name, {}, `cannot be decompressed to check its diff_id: ${e.reason}`);
      }
      const part = e.facts.expected === job.diffId ? 'uncompressed bytes (diff_id): ' : '';
      return { ...mismatchCheck(job.what, e, `${part}${e.reason}`), name: location.name };
    }
    // The scan checked the stored bytes' digest and size, and the diff_id.
    return outcome(job, location.name, {
      digest: expected.digest,
      ...(expected.size !== undefined ? { size: expected.size } : {}),
    });
  }
  const found = await hashLocation(location, hooks);
  const matches =
    found.digest === expected.digest && (expected.size === undefined || found.size === expected.size);
  if (matches) return outcome(job, location.name, found);
  const facts = {
    expected: expected.digest,
    actual: found.digest,
    actualSize: found.size,
    ...(expected.size !== undefined ? { expectedSize: expected.size } : {}),
  };
  return outcome(job, location.name, found, describeMismatch(facts));
}

/**
 * Checks every job's blob, `concurrency` at a time; results in job order. A blob that cannot be
 * located or read (missing, not a regular file, unreadable) is a failed check naming why, not an
 * exception: the caller decides whether that stops it (`check`) or is reported (`verify`). Blobs
 * with the same digest and location (a layer listed twice, one config shared by platforms) are read
 * once.
 */
export async function hashBlobs(jobs: BlobJob[], options: IntegrityOptions = {}): Promise<IntegrityCheck[]> {
  const located: Array<{ location: BlobLocation } | { error: WaybillError }> = [];
  for (const job of jobs) {
    options.signal?.throwIfAborted();
    // A digest that is not sha256 cannot be checked: the descriptor itself is bad input.
    parseSha256Digest(job.descriptor.digest, job.what);
    try {
      located.push({ location: await job.locate() });
    } catch (e) {
      if (!(e instanceof WaybillError)) throw e;
      located.push({ error: e });
    }
  }
  const walked = (job: BlobJob) => options.verified?.has(job.descriptor.digest) === true;
  const total = located.reduce(
    (sum, l, i) => sum + ('error' in l || walked(jobs[i] as BlobJob) ? 0 : l.location.size),
    0,
  );
  let done = 0;
  const onBytes = (n: number) => {
    done += n;
    options.onProgress?.(done, total);
  };
  const results: IntegrityCheck[] = new Array(jobs.length);
  const byKey = new Map<string, Promise<IntegrityCheck>>();
  const run = async (i: number) => {
    const job = jobs[i] as BlobJob;
    const found = located[i] as { location: BlobLocation } | { error: WaybillError };
    if ('error' in found) {
      const { input, reason } = found.error;
      results[i] = outcome(job, input || job.what, {}, `${reason}; expected ${job.descriptor.digest}`);
      return;
    }
    const { location } = found;
    if (walked(job)) {
      const size = job.descriptor.size;
      results[i] = {
        what: job.what,
        name: location.name,
        expected: job.descriptor.digest,
        actual: job.descriptor.digest,
        ...(size !== undefined ? { expectedSize: size, actualSize: size } : {}),
        passed: true,
        checkedBy: 'walk',
      };
      return;
    }
    const key = `${location.file}\0${location.start}\0${location.size}\0${job.descriptor.digest}\0${job.diffId ?? ''}`;
    let pending = byKey.get(key);
    if (!pending) {
      pending = checkLocated(job, location, {
        onBytes,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      byKey.set(key, pending);
    }
    results[i] = { ...(await pending), what: job.what };
  };
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await run(next++);
  };
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 2));
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  return results;
}

/**
 * The blobs an image view is bound to: the index it was resolved through (if any), and for the
 * selected platform — or every platform when none is selected, the record then being bound to the
 * index — its manifest, config and layers.
 */
export function imageBlobJobs(store: BlobStore, view: ImageView): BlobJob[] {
  const jobs: BlobJob[] = [];
  const add = (what: string, descriptor: Descriptor) =>
    jobs.push({ what, descriptor, locate: () => locateBlob(store, descriptor) });
  if (view.index?.descriptor) add('image index', view.index.descriptor);
  const platforms = view.selected ? [view.selected] : view.platforms;
  for (const image of platforms) {
    const of = platforms.length > 1 ? ` (${platformString(image.platform)})` : '';
    add(`image manifest${of}`, image.descriptor);
    add(`image config${of}`, image.manifest.config);
    const layers = image.manifest.layers;
    for (const [i, layer] of layers.entries()) add(`layer ${i + 1} of ${layers.length}${of}`, layer);
  }
  return jobs;
}

/** Hashes every blob of an image view in `store` against its descriptor. */
export function verifyImageBlobs(
  store: BlobStore,
  view: ImageView,
  options: IntegrityOptions = {},
): Promise<IntegrityCheck[]> {
  return hashBlobs(imageBlobJobs(store, view), options);
}
