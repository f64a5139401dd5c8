/**
 * Blobs pulled from registries, kept by digest under the user's cache directory
 * (`$XDG_CACHE_HOME/waybill/blobs/sha256/<hex>`, default `~/.cache/waybill`), so a second `sbom`,
 * `check` or `inspect` of the same image downloads nothing.
 *
 * A blob enters the cache only whole and verified: it streams through the digest check into a temp
 * file that is renamed into place when the stream ends cleanly (util/atomic-write.ts). Entries are never
 * trusted blindly on the way out either: a cached file that is not a regular file of the declared
 * size is fetched again, and every reader verifies the digest as it reads (layer scans, manifest and
 * config parsing do). Deleting the directory at any time is safe.
 */
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/types.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { digestHex, verifyBlob } from '../util/digest.ts';
import { removeInterruptedDownloads } from './cache-leftovers.ts';
import { backoffDelay, DEFAULT_RETRY_POLICY, isRetryableFailure } from './retry.ts';

/** `$XDG_CACHE_HOME/waybill`, else `~/.cache/waybill` (XDG Base Directory specification). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const base = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : join(home, '.cache');
  return join(base, 'waybill');
}

/** Downloads retried after a broken connection mid-blob (the whole blob again, re-verified). */
const DOWNLOAD_ATTEMPTS = 3;

export class BlobCache {
  readonly root: string;
  private readonly pending = new Map<string, Promise<string>>();

  constructor(root: string = defaultCacheDir()) {
    this.root = root;
  }

  private dir(): string {
    return join(this.root, 'blobs', 'sha256');
  }

  private prepared: Promise<void> | undefined;

  /**
   * Creates the directory, and removes the temp files interrupted downloads left in the cache (a
   * killed process cannot clean up after itself; cache-leftovers.ts says which go).
   */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await mkdir(this.dir(), { recursive: true, mode: 0o700 });
      await removeInterruptedDownloads(this.root);
    })();
    return this.prepared;
  }

  /** Where a blob is (or would be) cached. */
  path(digest: string): string {
    return join(this.dir(), digestHex(digest));
  }

  /** The cached file of `descriptor` when it is a regular file of the declared size. */
  async lookup(descriptor: Descriptor): Promise<string | undefined> {
    const path = this.path(descriptor.digest);
    const info = await lstat(path).catch(() => undefined);
    return info?.isFile() && info.size === descriptor.size ? path : undefined;
  }

  /**
   * The cached file of `descriptor`, downloading it with `openVerified` when absent. That stream
   * must check the digest and size as it flows and fail on a mismatch (Repository.openBlob does):
   * the file is renamed into the cache only after the stream ended cleanly. Concurrent calls for one
   * digest share the download.
   */
  fetch(
    descriptor: Descriptor,
    openVerified: () => Promise<Readable>,
    onBytes?: (n: number) => void,
  ): Promise<string> {
    const running = this.pending.get(descriptor.digest);
    if (running) return running;
    const job = this.download(descriptor, openVerified, onBytes).finally(() =>
      this.pending.delete(descriptor.digest),
    );
    this.pending.set(descriptor.digest, job);
    return job;
  }

  private async download(
    descriptor: Descriptor,
    openVerified: () => Promise<Readable>,
    onBytes?: (n: number) => void,
  ): Promise<string> {
    const cached = await this.lookup(descriptor);
    if (cached) return cached;
    await this.prepare();
    const path = this.path(descriptor.digest);
    await dropNonRegularEntry(path);
    await downloadToFile(path, openVerified, onBytes);
    return path;
  }

  /**
   * A blob cached under a file name of its own, `files/sha256/<hex>/<name>`: a file published as an
   * OCI artifact, whose kind the native formats tell partly by its name (`.whl`, `.tar.gz`). `name`
   * must be a plain file name (the caller checks it).
   */
  async fetchNamed(
    descriptor: Descriptor,
    name: string,
    openVerified: () => Promise<Readable>,
    onBytes?: (n: number) => void,
  ): Promise<string> {
    const dir = join(this.root, 'files', 'sha256', digestHex(descriptor.digest));
    const path = join(dir, name);
    const info = await lstat(path).catch(() => undefined);
    if (info?.isFile() && info.size === descriptor.size) return path;
    await this.prepare();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await dropNonRegularEntry(path);
    await downloadToFile(path, openVerified, onBytes);
    return path;
  }

  /** Puts bytes already in memory (a manifest fetched by tag) into the cache, verified. */
  async store(descriptor: Descriptor, bytes: Buffer): Promise<string> {
    verifyBlob(bytes, descriptor.digest, { input: descriptor.digest, size: descriptor.size });
    const cached = await this.lookup(descriptor);
    if (cached) return cached;
    await this.prepare();
    const path = this.path(descriptor.digest);
    await dropNonRegularEntry(path);
    await writeFileAtomic(path, bytes, { mode: 0o600 });
    return path;
  }
}

/**
 * Writes what `openVerified` streams to `path` through the one writer, whole or not at all. The
 * stream must verify its bytes as they flow (a digest check) and fail on a mismatch: the file is
 * renamed into place only after it ended cleanly. A connection broken midway is retried, the whole
 * download again (`DOWNLOAD_ATTEMPTS` in all), with progress taken back by what the failed attempt
 * had counted.
 */
export async function downloadToFile(
  path: string,
  openVerified: () => Promise<Readable>,
  onBytes?: (n: number) => void,
  /** 0600 in the user's cache; a layout's blobs are readable by others, like every other file of it. */
  mode = 0o600,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let received = 0;
    const counted = async function* (stream: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const chunk of stream) {
        received += chunk.length;
        onBytes?.(chunk.length);
        yield chunk;
      }
    };
    try {
      const stream = await openVerified();
      // An error before the write starts reading (a small blob arriving whole) stays in the
      // stream for the read to throw; it must not also be an unhandled 'error' event.
      stream.on('error', () => {});
      await writeFileAtomic(path, counted(stream), { mode });
      return;
    } catch (e) {
      if (!isRetryableFailure(e) || attempt >= DOWNLOAD_ATTEMPTS) throw e;
      if (received > 0) onBytes?.(-received);
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, DEFAULT_RETRY_POLICY)));
    }
  }
}

/**
 * A link, FIFO or device planted at a cache entry is not a hit, and the one writer refuses to
 * replace it; in the user's own cache it is removed (unlink takes the entry itself, never what a
 * link points at) so the verified download can take its place.
 */
async function dropNonRegularEntry(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (info && !info.isFile() && !info.isDirectory()) await unlink(path);
}
