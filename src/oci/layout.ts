/**
 * Minimal read/write access to an OCI image layout (image-spec image-layout.md): `oci-layout`,
 * `index.json` and content-addressed `blobs/<alg>/<hex>`. This is the WRITE side's own view; the read
 * side (src/sources) has its own, streaming one.
 *
 * Every blob read is checked against its digest; every write goes to a temp file in the same
 * directory and is renamed into place, so a crash leaves either the old file or the new one. Writing
 * a blob that exists is a no-op (content addressing makes it the same bytes).
 *
 * `LayoutStore` is the small interface stamping and attaching work against, so the same code runs on a
 * layout directory (`OciLayout`) and on an oci-archive tar (`OciArchiveLayout`, archive-layout.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { WaybillError } from '../errors.ts';
import {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPE,
  OCI_ANNOTATION,
} from './types.ts';

/**
 * Marks an index.json entry as a waybill attachment (an OCI 1.1 artifact manifest with a `subject`).
 * The value is the subject's digest. Such entries carry no `ref.name`, so they are not tags, and
 * `resolveRef()` without a reference ignores them.
 */
export const WAYBILL_REFERRER_ANNOTATION = 'vnd.waybill.referrer';

/** Manifests and indexes are small (registries cap them at 4 MiB); configs somewhat larger. */
export const MAX_JSON_BLOB = 16 * 1024 * 1024;
/** Default cap for `readBlob` (attachment payloads: SBOMs, records). Layers are never read whole. */
export const MAX_BLOB = 512 * 1024 * 1024;

const OCI_LAYOUT_FILE = '{"imageLayoutVersion":"1.0.0"}';
const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

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
// Digests

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Checks the digest syntax waybill can verify (sha256, sha512; image-spec descriptor.md#digests). */
export function checkDigest(digest: unknown, input: string): string {
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) {
    throw new WaybillError(
      'MALFORMED',
      input,
      `not a sha256/sha512 digest: ${JSON.stringify(digest)?.slice(0, 80)}`,
    );
  }
  return digest;
}

export function verifyDigest(bytes: Uint8Array, digest: string, input: string): void {
  const [alg, hex] = checkDigest(digest, input).split(':') as [string, string];
  const actual = createHash(alg).update(bytes).digest('hex');
  if (actual !== hex) {
    throw new WaybillError('DIGEST_MISMATCH', input, `content is ${alg}:${actual}, not ${digest}`);
  }
}

/** Relative path of a blob inside a layout: `blobs/<alg>/<hex>` (digest syntax already rules out `..`). */
export function blobPath(digest: string, input = digest): string {
  const [alg, hex] = checkDigest(digest, input).split(':') as [string, string];
  return `blobs/${alg}/${hex}`;
}

// ---------------------------------------------------------------------------------------------------
// Parsing the JSON documents (parse, don't validate: typed values out, unknown fields kept)

export function parseJson(bytes: Uint8Array, input: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new WaybillError('MALFORMED', input, `not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkStringMap(v: unknown, what: string, input: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw new WaybillError('MALFORMED', input, `${what} must be an object of strings`);
  }
  return v as Record<string, string>;
}

export function parseDescriptor(v: unknown, input: string, where = 'descriptor'): Descriptor {
  if (!isObject(v)) throw new WaybillError('MALFORMED', input, `${where} is not an object`);
  if (typeof v.mediaType !== 'string' || v.mediaType === '') {
    throw new WaybillError('MALFORMED', input, `${where} has no mediaType`);
  }
  checkDigest(v.digest, input);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw new WaybillError('MALFORMED', input, `${where} has no valid size`);
  }
  checkStringMap(v.annotations, `${where} annotations`, input);
  if (v.artifactType !== undefined && typeof v.artifactType !== 'string') {
    throw new WaybillError('MALFORMED', input, `${where} artifactType must be a string`);
  }
  if (v.platform !== undefined) {
    const p = v.platform;
    if (!isObject(p) || typeof p.architecture !== 'string' || typeof p.os !== 'string') {
      throw new WaybillError('MALFORMED', input, `${where} platform needs architecture and os strings`);
    }
    if (p.variant !== undefined && typeof p.variant !== 'string') {
      throw new WaybillError('MALFORMED', input, `${where} platform variant must be a string`);
    }
  }
  return v as unknown as Descriptor;
}

function checkSchemaVersion(v: Record<string, unknown>, input: string): void {
  if (v.schemaVersion !== 2) throw new WaybillError('MALFORMED', input, 'schemaVersion is not 2');
}

export function parseIndex(bytes: Uint8Array, input: string): ImageIndex {
  const v = parseJson(bytes, input);
  if (!isObject(v)) throw new WaybillError('MALFORMED', input, 'image index is not a JSON object');
  checkSchemaVersion(v, input);
  if (!Array.isArray(v.manifests))
    throw new WaybillError('MALFORMED', input, 'image index has no manifests array');
  v.manifests.forEach((d, i) => {
    parseDescriptor(d, input, `manifests[${i}]`);
  });
  checkStringMap(v.annotations, 'annotations', input);
  if (v.subject !== undefined) parseDescriptor(v.subject, input, 'subject');
  return v as unknown as ImageIndex;
}

export function parseManifest(bytes: Uint8Array, input: string): ImageManifest {
  const v = parseJson(bytes, input);
  if (!isObject(v)) throw new WaybillError('MALFORMED', input, 'image manifest is not a JSON object');
  checkSchemaVersion(v, input);
  parseDescriptor(v.config, input, 'config');
  if (!Array.isArray(v.layers))
    throw new WaybillError('MALFORMED', input, 'image manifest has no layers array');
  v.layers.forEach((d, i) => {
    parseDescriptor(d, input, `layers[${i}]`);
  });
  checkStringMap(v.annotations, 'annotations', input);
  if (v.subject !== undefined) parseDescriptor(v.subject, input, 'subject');
  return v as unknown as ImageManifest;
}

export function parseConfig(bytes: Uint8Array, input: string): ImageConfig {
  const v = parseJson(bytes, input);
  if (!isObject(v)) throw new WaybillError('MALFORMED', input, 'image config is not a JSON object');
  if (typeof v.architecture !== 'string' || typeof v.os !== 'string') {
    throw new WaybillError('MALFORMED', input, 'image config needs architecture and os strings');
  }
  if (v.config !== undefined && v.config !== null) {
    if (!isObject(v.config))
      throw new WaybillError('MALFORMED', input, 'image config "config" is not an object');
    if (v.config.Labels !== null) checkStringMap(v.config.Labels, 'config.Labels', input);
  }
  if (v.created !== undefined && typeof v.created !== 'string') {
    throw new WaybillError('MALFORMED', input, 'image config "created" is not a string');
  }
  return v as unknown as ImageConfig;
}

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE.ociIndex || mediaType === MEDIA_TYPE.dockerManifestList;
}

export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPE.ociManifest || mediaType === MEDIA_TYPE.dockerManifest;
}

/** Reads a blob named by a descriptor, checking size and digest. */
export async function readDescribedBlob(
  store: LayoutStore,
  d: Descriptor,
  maxSize = MAX_JSON_BLOB,
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
  const byDigest = DIGEST_RE.test(ref);
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
// Atomic file writing

/** Writes `bytes` to `path` through a temp file in the same directory, fsync'd, then renamed. */
export async function writeFileAtomic(path: string, bytes: Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempSibling(path);
  const handle = await open(tmp, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, mode);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (e) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** A fresh name next to `path`, so a rename onto `path` stays within one filesystem. */
export function tempSibling(path: string): string {
  return join(
    dirname(path),
    `.${path.split('/').pop()}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
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
    let text: string;
    try {
      text = await readFile(join(dir, 'oci-layout'), 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new WaybillError('NOT_FOUND', dir, `not an OCI layout (oci-layout: ${code ?? 'unreadable'})`, {
        cause: e,
      });
    }
    const v = parseJson(Buffer.from(text), join(dir, 'oci-layout'));
    const version = isObject(v) ? v.imageLayoutVersion : undefined;
    if (typeof version !== 'string' || !version.startsWith('1.')) {
      throw new WaybillError(
        'UNSUPPORTED',
        dir,
        `image layout version ${JSON.stringify(version)} is not 1.x`,
      );
    }
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
    const bytes = await readFileLimited(path, MAX_JSON_BLOB);
    return parseIndex(bytes, path);
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
