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
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { digestHex, isSha256Digest, sha256Digest, verifyBlob } from '../util/digest.ts';
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

  /** Opens an existing layout: `oci-layout` must exist and name a 1.x layout version. */
  static async open(dir: string): Promise<OciLayout> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, 'oci-layout'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new WaybillError('NOT_FOUND', dir, `not an OCI layout (oci-layout: ${code ?? 'unreadable'})`, {
        cause: e,
      });
    }
    parseOciLayoutFile(bytes, join(dir, 'oci-layout'));
    return new OciLayout(dir);
  }

  /** Creates an empty layout (no-op for files that exist). */
  static async init(dir: string): Promise<OciLayout> {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    if (!(await exists(join(dir, 'oci-layout'))))
      await writeFileAtomic(join(dir, 'oci-layout'), Buffer.from(OCI_LAYOUT_FILE));
    if (!(await exists(join(dir, 'index.json')))) {
      await writeFileAtomic(join(dir, 'index.json'), jsonBytes({ schemaVersion: 2, manifests: [] }));
    }
    return new OciLayout(dir);
  }

  async readIndex(): Promise<ImageIndex> {
    const path = join(this.dir, 'index.json');
    const bytes = await readFileLimited(path, MAX_JSON_BLOB_BYTES);
    return parseImageIndex(bytes, path);
  }

  async writeIndex(index: ImageIndex): Promise<void> {
    await writeFileAtomic(join(this.dir, 'index.json'), jsonBytes(index));
  }

  async readBlob(digest: string, options: { maxSize?: number } = {}): Promise<Buffer> {
    const path = join(this.dir, blobPath(digest, this.name));
    const bytes = await readFileLimited(path, options.maxSize ?? MAX_BLOB);
    verifyDigest(bytes, digest, path);
    return bytes;
  }

  async writeBlob(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    const path = join(this.dir, blobPath(digest));
    const existing = await stat(path).catch(() => undefined);
    // Content addressing: a blob of the right size under its digest is these bytes (readBlob verifies).
    if (!existing || existing.size !== bytes.length) {
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, bytes);
    }
    return { mediaType, digest, size: bytes.length };
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function readFileLimited(path: string, maxSize: number): Promise<Buffer> {
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new WaybillError('NOT_FOUND', path, `cannot read (${e.code ?? e.message})`, { cause: e });
  });
  if (!info.isFile()) throw new WaybillError('MALFORMED', path, 'is not a regular file');
  if (info.size > maxSize)
    throw new WaybillError('LIMIT', path, `is ${info.size} bytes, over the ${maxSize} limit`);
  return readFile(path);
}
