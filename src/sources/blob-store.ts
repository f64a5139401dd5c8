/**
 * Where the blobs of an image live: a directory (OCI layout) or byte ranges of an uncompressed tar
 * (oci-archive, docker-archive, indexed once and never extracted). Everything downstream sees a
 * `BlobLocation` — a file and a byte range — which is also what crosses into worker threads.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openIndexedEntry, type TarIndex } from '../archive/tar-reader.ts';
import { WaybillError } from '../errors.ts';
import { MAX_JSON_BLOB_BYTES } from '../oci/parse.ts';
import type { Descriptor } from '../oci/types.ts';
import { digestHex, verifyBlob } from '../util/digest.ts';
import { openRegularFile, statRegularFile } from '../util/regular-file.ts';

export interface BlobLocation {
  /** The file holding the bytes. */
  file: string;
  /** Offset of the first byte. */
  start: number;
  /** Number of bytes stored there (may differ from the descriptor: then the digest check fails). */
  size: number;
  /** Name for errors: `layout/blobs/sha256/…` or `archive.tar:blobs/sha256/…`. */
  name: string;
}

export interface BlobStore {
  /** The layout directory or archive path. */
  readonly root: string;
  /** Locates a file of the layout by its relative name (`index.json`, `blobs/sha256/…`). */
  locateFile(name: string): Promise<BlobLocation | undefined>;
  /**
   * Locates a blob by its descriptor, for stores that need the media type to fetch it (a registry
   * serves manifests and blobs from different endpoints). Throws when the blob cannot be had.
   */
  locateBlob?(descriptor: Descriptor): Promise<BlobLocation>;
}

export function blobName(digest: string): string {
  return `blobs/sha256/${digestHex(digest)}`;
}

/** Read size for blobs: 1 MiB reads instead of 64 KiB mean 16× fewer syscalls, callbacks and chunks. */
const READ_CHUNK_BYTES = 1024 * 1024;

export function openLocation(location: BlobLocation): Readable {
  if (location.size === 0) return Readable.from([]);
  return createReadStream(location.file, {
    start: location.start,
    end: location.start + location.size - 1,
    highWaterMark: READ_CHUNK_BYTES,
  });
}

/** Reads a located file whole, refusing anything larger than `maxBytes`. */
export async function readLocation(location: BlobLocation, maxBytes = MAX_JSON_BLOB_BYTES): Promise<Buffer> {
  if (location.size > maxBytes) {
    throw new WaybillError(
      'LIMIT',
      location.name,
      `${location.size} bytes is larger than the ${maxBytes}-byte limit`,
    );
  }
  const { handle } = await openRegularFile(location.file, { input: location.name, code: 'MALFORMED' });
  try {
    const buf = Buffer.alloc(location.size);
    const { bytesRead } = await handle.read(buf, 0, location.size, location.start);
    if (bytesRead !== location.size)
      throw new WaybillError('MALFORMED', location.name, 'file is shorter than expected');
    return buf;
  } finally {
    await handle.close();
  }
}

export async function locateBlob(store: BlobStore, descriptor: Descriptor): Promise<BlobLocation> {
  if (store.locateBlob) return store.locateBlob(descriptor);
  const name = blobName(descriptor.digest);
  const location = await store.locateFile(name);
  if (!location) {
    throw new WaybillError('MALFORMED', `${store.root}: ${name}`, `blob ${descriptor.digest} is missing`);
  }
  return location;
}

/**
 * Reads a small JSON blob (index, manifest, config) and checks it against its descriptor; `what`
 * names it in a DIGEST_MISMATCH (`image config`).
 */
export async function readVerifiedBlob(
  store: BlobStore,
  descriptor: Descriptor,
  what?: string,
): Promise<{ bytes: Buffer; name: string }> {
  const location = await locateBlob(store, descriptor);
  if (descriptor.size > MAX_JSON_BLOB_BYTES) {
    throw new WaybillError(
      'LIMIT',
      location.name,
      `descriptor size ${descriptor.size} is larger than ${MAX_JSON_BLOB_BYTES}`,
    );
  }
  const bytes = await readLocation(location);
  verifyBlob(bytes, descriptor.digest, { input: location.name, size: descriptor.size, what });
  return { bytes, name: location.name };
}

/**
 * An OCI layout directory. Its files (`index.json`, blobs) must be regular files in the layout: a
 * symbolic link (which would read outside it), a FIFO (which would hang the read) or a device is
 * refused by name, never opened.
 */
export class DirectoryBlobStore implements BlobStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  async locateFile(name: string): Promise<BlobLocation | undefined> {
    const file = join(this.root, name);
    try {
      const info = await statRegularFile(file, { noFollow: true, code: 'MALFORMED' });
      return { file, start: 0, size: info.size, name: file };
    } catch (e) {
      const code = ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw e;
    }
  }
}

/**
 * A layout as it will be once a stamp is committed: the files a stamp prepared (new manifests,
 * configs, index.json, attachments), staged elsewhere on disk, in front of the layout or archive
 * they will be published into. Lets the new image be opened and recorded before anything in the
 * layout changes (app/stamp.ts).
 */
export class OverlayBlobStore implements BlobStore {
  readonly root: string;
  private readonly base: BlobStore;
  private readonly staged: ReadonlyMap<string, string>;

  /** `staged`: layout-relative name (`index.json`, `blobs/sha256/<hex>`) → the staged file. */
  constructor(base: BlobStore, staged: ReadonlyMap<string, string>) {
    this.root = base.root;
    this.base = base;
    this.staged = staged;
  }

  async locateFile(name: string): Promise<BlobLocation | undefined> {
    const file = this.staged.get(name);
    if (file === undefined) return this.base.locateFile(name);
    const info = await statRegularFile(file, { noFollow: true, code: 'MALFORMED' });
    return { file, start: 0, size: info.size, name: `${this.root}:${name} (staged)` };
  }
}

/** An uncompressed tar holding a layout (oci-archive) or a docker save image. */
export class TarBlobStore implements BlobStore {
  readonly root: string;
  readonly index: TarIndex;
  constructor(root: string, index: TarIndex) {
    this.root = root;
    this.index = index;
  }

  async locateFile(name: string): Promise<BlobLocation | undefined> {
    const entry = this.index.get(name);
    if (!entry || (entry.type !== 'file' && entry.type !== 'hardlink')) return undefined;
    return { file: this.root, start: entry.offset, size: entry.size, name: `${this.root}:${name}` };
  }

  open(name: string): Readable | undefined {
    const entry = this.index.get(name);
    return entry ? openIndexedEntry(this.root, entry) : undefined;
  }
}
