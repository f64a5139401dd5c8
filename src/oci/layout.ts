/**
 * Minimal read/write access to an OCI image layout (image-spec image-layout.md): `oci-layout`,
 * `index.json` and content-addressed `blobs/sha256/<hex>`. The documents are parsed by the same
 * parsers the read side uses (parse.ts), so whatever waybill writes it can read back.
 *
 * Every blob read is checked against its digest; every write goes to a temp file in the same
 * directory and is renamed into place, so a crash leaves either the old file or the new one. Writing
 * a blob that exists is a no-op (content addressing makes it the same bytes).
 *
 * `LayoutStore` is the small interface stamping and attaching work against, so the same code runs on a
 * layout directory (`OciLayout`) and on an oci-archive tar (`OciArchiveLayout`, archive-layout.ts).
 */
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { checkDirectories, writeFileAtomic } from '../util/atomic-write.ts';
import { digestHex, isSha256Digest, sha256Digest, verifyBlob } from '../util/digest.ts';
import { readRegularFile, readRegularFileIfPresent } from '../util/regular-file.ts';
import {
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  MAX_JSON_BLOB_BYTES,
  parseImageIndex,
  parseOciLayoutFile,
} from './parse.ts';
import { type Descriptor, type ImageIndex, OCI_ANNOTATION } from './types.ts';

/**
 * Marks an index.json entry as a waybill attachment (an OCI 1.1 artifact manifest with a `subject`).
 * The value is the subject's digest. Such entries carry no `ref.name`, so they are not tags, and
 * `resolveRef()` without a reference ignores them.
 */
export const WAYBILL_REFERRER_ANNOTATION = 'vnd.waybill.referrer';

/** Default cap for `readBlob` (attachment payloads: SBOMs, records). Layers are never read whole. */
export const MAX_BLOB = 512 * 1024 * 1024;

const OCI_LAYOUT_FILE = '{"imageLayoutVersion":"1.0.0"}';

export interface LayoutStore {
  /** Where the layout lives (directory or archive path), for error messages. */
  readonly name: string;
  readIndex(): Promise<ImageIndex>;
  writeIndex(index: ImageIndex): Promise<void>;
  /** The blob's bytes, verified against `digest`. */
  readBlob(digest: string, options?: { maxSize?: number }): Promise<Buffer>;
  /** Stores `bytes` under their sha256 digest; returns a descriptor for them. */
  writeBlob(bytes: Uint8Array, mediaType: string): Promise<Descriptor>;
  /** Whether a blob of this digest and size is stored already (content addressing: the same bytes). */
  hasBlob(digest: string, size: number): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------------
// Digests (sha256 only, like the read side: util/digest.ts)

/** Checks `bytes` against `digest`: DIGEST_MISMATCH when they differ, MALFORMED for a bad digest. */
export function verifyDigest(bytes: Buffer, digest: string, input: string): void {
  verifyBlob(bytes, digest, { input });
}

/** Relative path of a blob inside a layout: `blobs/sha256/<hex>` (digest syntax already rules out `..`). */
export function blobPath(digest: string, input = digest): string {
  return `blobs/sha256/${digestHex(digest, input)}`;
}

export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_MEDIA_TYPES.has(mediaType);
}

export function isManifestMediaType(mediaType: string): boolean {
  return MANIFEST_MEDIA_TYPES.has(mediaType);
}

/** Reads a blob named by a descriptor, checking size and digest. */
export async function readDescribedBlob(
  store: LayoutStore,
  d: Descriptor,
  maxSize = MAX_JSON_BLOB_BYTES,
): Promise<Buffer> {
  if (d.size > maxSize) {
    throw new WaybillError(
      'LIMIT',
      `${store.name}@${d.digest}`,
      `blob is ${d.size} bytes, over the ${maxSize} limit`,
    );
  }
  const bytes = await store.readBlob(d.digest, { maxSize });
  if (bytes.length !== d.size) {
    throw new WaybillError(
      'MALFORMED',
      `${store.name}@${d.digest}`,
      `blob is ${bytes.length} bytes, descriptor says ${d.size}`,
    );
  }
  return bytes;
}

/** Canonical bytes for a JSON document waybill writes: no whitespace, keys in the order given. */
export function jsonBytes(doc: unknown): Buffer {
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

// ---------------------------------------------------------------------------------------------------
// Resolving a reference inside index.json

export interface ResolvedRef {
  descriptor: Descriptor;
  /** Position of the entry in index.json `manifests`. */
  position: number;
}

/**
 * Finds the entry a reference names: a digest (`sha256:…`), a `ref.name` (tag), or, with no reference,
 * the only image entry (waybill attachments do not count). Mirrors containers-transports(5) `oci:`.
 */
export function resolveRefInIndex(index: ImageIndex, ref: string | undefined, input: string): ResolvedRef {
  const entries = index.manifests.map((descriptor, position) => ({ descriptor, position }));
  if (ref === undefined || ref === '') {
    const images = entries.filter(
      (e) => e.descriptor.annotations?.[WAYBILL_REFERRER_ANNOTATION] === undefined,
    );
    if (images.length === 1) return images[0]!;
    throw new WaybillError(
      images.length === 0 ? 'NOT_FOUND' : 'USAGE',
      input,
      images.length === 0
        ? 'the layout holds no image'
        : `the layout holds ${images.length} images; name one by tag`,
    );
  }
  const byDigest = isSha256Digest(ref);
  const found = entries.find((e) =>
    byDigest ? e.descriptor.digest === ref : e.descriptor.annotations?.[OCI_ANNOTATION.refName] === ref,
  );
  if (!found) throw new WaybillError('NOT_FOUND', `${input}:${ref}`, 'no such reference in index.json');
  return found;
}

export async function resolveRef(store: LayoutStore, ref?: string): Promise<ResolvedRef> {
  return resolveRefInIndex(await store.readIndex(), ref, store.name);
}

// ---------------------------------------------------------------------------------------------------
// A layout directory

export class OciLayout implements LayoutStore {
  readonly dir: string;
  readonly name: string;

  constructor(dir: string) {
    this.dir = dir;
    this.name = dir;
  }

  /**
   * Opens an existing layout: `oci-layout` must exist and name a 1.x layout version. Its files are
   * read only as regular files inside the layout: a link, FIFO or device there is refused.
   */
  static async open(dir: string): Promise<OciLayout> {
    const path = join(dir, 'oci-layout');
    const bytes = await readRegularFileIfPresent(path, { noFollow: true, maxBytes: 4096, code: 'MALFORMED' });
    if (!bytes) throw new WaybillError('NOT_FOUND', dir, 'not an OCI layout (no oci-layout file)');
    parseOciLayoutFile(bytes, path);
    return new OciLayout(dir);
  }

  /** Creates an empty layout (no-op for files that exist). */
  static async init(dir: string): Promise<OciLayout> {
    await mkdir(dir, { recursive: true });
    await checkDirectories(dir, 'blobs/sha256', { create: true });
    if (!(await exists(join(dir, 'oci-layout'))))
      await writeFileAtomic(join(dir, 'oci-layout'), Buffer.from(OCI_LAYOUT_FILE));
    if (!(await exists(join(dir, 'index.json')))) {
      await writeFileAtomic(join(dir, 'index.json'), jsonBytes({ schemaVersion: 2, manifests: [] }));
    }
    return new OciLayout(dir);
  }

  async readIndex(): Promise<ImageIndex> {
    const path = join(this.dir, 'index.json');
    const bytes = await readLayoutFile(path, MAX_JSON_BLOB_BYTES);
    return parseImageIndex(bytes, path);
  }

  async writeIndex(index: ImageIndex): Promise<void> {
    await writeFileAtomic(join(this.dir, 'index.json'), jsonBytes(index));
  }

  async readBlob(digest: string, options: { maxSize?: number } = {}): Promise<Buffer> {
    const path = join(this.dir, blobPath(digest, this.name));
    const bytes = await readLayoutFile(path, options.maxSize ?? MAX_BLOB);
    verifyDigest(bytes, digest, path);
    return bytes;
  }

  async hasBlob(digest: string, size: number): Promise<boolean> {
    // lstat: a link or FIFO at a blob path is not "the blob"; writing it is then refused.
    const info = await lstat(join(this.dir, blobPath(digest))).catch(() => undefined);
    return info?.isFile() === true && info.size === size;
  }

  async writeBlob(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    // Content addressing: a blob of the right size under its digest is these bytes (readBlob verifies).
    if (!(await this.hasBlob(digest, bytes.length))) {
      await checkDirectories(this.dir, 'blobs/sha256', { create: true });
      await writeFileAtomic(join(this.dir, blobPath(digest)), bytes);
    }
    return { mediaType, digest, size: bytes.length };
  }
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

/** A file of the layout: a regular file, not a link out of it, nor a FIFO or device (which would hang). */
async function readLayoutFile(path: string, maxSize: number): Promise<Buffer> {
  return readRegularFile(path, { noFollow: true, maxBytes: maxSize, code: 'MALFORMED' });
}
