/**
 * An oci-archive (a tar of an OCI image layout, containers-transports(5) `oci-archive:`) as a
 * `LayoutStore`: reads come from the tar, writes are kept in memory until `commit()`, which rewrites
 * the archive atomically (see tar-edit.ts). Nothing is extracted to disk.
 */
import { WaybillError } from '../errors.ts';
import { sha256Digest } from '../util/digest.ts';
import { blobPath, jsonBytes, type LayoutStore, MAX_BLOB, verifyDigest } from './layout.ts';
import { MAX_JSON_BLOB_BYTES, parseImageIndex, parseOciLayoutFile } from './parse.ts';
import { type CommitOptions, TarFileEditor } from './tar-edit.ts';
import type { Descriptor, ImageIndex } from './types.ts';

export class OciArchiveLayout implements LayoutStore {
  readonly name: string;
  private readonly tar: TarFileEditor;

  private constructor(name: string, tar: TarFileEditor) {
    this.name = name;
    this.tar = tar;
  }

  static async open(path: string): Promise<OciArchiveLayout> {
    return OciArchiveLayout.fromEditor(await TarFileEditor.open(path));
  }

  /** A layout view over a tar being edited (docker save archives since Docker 25 are also OCI layouts). */
  static async fromEditor(tar: TarFileEditor): Promise<OciArchiveLayout> {
    const path = tar.path;
    if (!tar.has('oci-layout') || !tar.has('index.json')) {
      throw new WaybillError(
        'MALFORMED',
        path,
        'not an oci-archive (no oci-layout or index.json in the tar)',
      );
    }
    parseOciLayoutFile(await tar.read('oci-layout', 4096), `${path}:oci-layout`);
    return new OciArchiveLayout(path, tar);
  }

  async readIndex(): Promise<ImageIndex> {
    return parseImageIndex(await this.tar.read('index.json', MAX_JSON_BLOB_BYTES), `${this.name}:index.json`);
  }

  async writeIndex(index: ImageIndex): Promise<void> {
    this.tar.put('index.json', jsonBytes(index));
  }

  async readBlob(digest: string, options: { maxSize?: number } = {}): Promise<Buffer> {
    const path = blobPath(digest, this.name);
    if (!this.tar.has(path))
      throw new WaybillError('NOT_FOUND', `${this.name}@${digest}`, 'blob is not in the archive');
    const bytes = await this.tar.read(path, options.maxSize ?? MAX_BLOB);
    verifyDigest(bytes, digest, `${this.name}:${path}`);
    return bytes;
  }

  async writeBlob(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    if (!(await this.hasBlob(digest, bytes.length))) this.tar.put(blobPath(digest), Buffer.from(bytes));
    return { mediaType, digest, size: bytes.length };
  }

  async hasBlob(digest: string, size: number): Promise<boolean> {
    return this.tar.size(blobPath(digest)) === size;
  }

  /** Rewrites the archive with the changes (atomic rename). Returns false when nothing changed. */
  async commit(options?: CommitOptions): Promise<boolean> {
    return this.tar.commit(options);
  }
}

/** Opens an oci-archive, runs `fn` on it, and commits the changes only if `fn` succeeds. */
export async function withOciArchive<T>(
  path: string,
  fn: (store: OciArchiveLayout) => Promise<T>,
  options?: CommitOptions,
): Promise<T> {
  const store = await OciArchiveLayout.open(path);
  const result = await fn(store);
  await store.commit(options);
  return result;
}
