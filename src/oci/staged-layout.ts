/**
 * A stamp of an image as ONE operation: a `LayoutStore` in front of a layout directory or an
 * oci-archive whose writes (new configs and manifests, attachment manifests and payloads, the moved
 * tag in index.json) are staged in a private directory (util/staging.ts) and published together:
 *
 * - a layout directory: the new blobs are renamed into `blobs/sha256/` first, `index.json` last, so
 *   the tag moves only once the image, its SBOM and its record are all there;
 * - an oci-archive: a new tar holding everything is written into the staging directory and renamed
 *   over the archive in one step.
 *
 * Until then nothing a reader sees changes, and `stagedFiles()` lets the new state be opened anyway
 * (sources' OverlayBlobStore): the stamped image is recorded from exactly what will be published.
 */
import { WaybillError } from '../errors.ts';
import { digestHex, sha256Digest } from '../util/digest.ts';
import type { StagingArea } from '../util/staging.ts';
import type { OciArchiveLayout } from './archive-layout.ts';
import { blobPath, jsonBytes, type LayoutStore, OciLayout } from './layout.ts';
import type { Descriptor, ImageIndex } from './types.ts';

interface StagedBlob {
  bytes: Buffer;
  /** The file's name in the staging directory (the digest's hex). */
  name: string;
}

export class StagedLayout implements LayoutStore {
  readonly name: string;
  private readonly base: OciLayout | OciArchiveLayout;
  private readonly staging: StagingArea;
  private readonly blobs = new Map<string, StagedBlob>();
  private index: ImageIndex | undefined;
  /** The staged file holding `index`, written when first asked for; each version gets a new name. */
  private indexName: string | undefined;
  private indexVersion = 0;

  constructor(base: OciLayout | OciArchiveLayout, staging: StagingArea) {
    this.base = base;
    this.name = base.name;
    this.staging = staging;
  }

  async readIndex(): Promise<ImageIndex> {
    return this.index ?? this.base.readIndex();
  }

  async writeIndex(index: ImageIndex): Promise<void> {
    this.index = index;
    this.indexName = undefined;
  }

  async readBlob(digest: string, options: { maxSize?: number } = {}): Promise<Buffer> {
    const staged = this.blobs.get(digest);
    if (!staged) return this.base.readBlob(digest, options);
    if (options.maxSize !== undefined && staged.bytes.length > options.maxSize)
      throw new WaybillError('LIMIT', `${this.name}@${digest}`, `blob is over the ${options.maxSize} limit`);
    return staged.bytes;
  }

  async hasBlob(digest: string, size: number): Promise<boolean> {
    return this.blobs.get(digest)?.bytes.length === size || this.base.hasBlob(digest, size);
  }

  async writeBlob(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    if (!(await this.hasBlob(digest, bytes.length))) {
      const name = digestHex(digest);
      await this.staging.write(name, bytes);
      this.blobs.set(digest, { bytes: Buffer.from(bytes), name });
    }
    return { mediaType, digest, size: bytes.length };
  }

  /** Layout-relative names (`index.json`, `blobs/sha256/<hex>`) of everything staged → staged files. */
  async stagedFiles(): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    for (const [digest, blob] of this.blobs) files.set(blobPath(digest), this.staging.file(blob.name));
    const index = await this.stagedIndex();
    if (index) files.set('index.json', this.staging.file(index));
    return files;
  }

  /** The staged index.json's name in the staging directory, written on first use. */
  private async stagedIndex(): Promise<string | undefined> {
    if (!this.index) return undefined;
    if (!this.indexName) {
      const name = `index-${++this.indexVersion}.json`;
      await this.staging.write(name, jsonBytes(this.index));
      this.indexName = name;
    }
    return this.indexName;
  }

  /**
   * Plans the publication in the staging area (the caller commits it): for a layout directory the
   * blobs, then index.json; for an oci-archive a whole new tar named `archiveName` in the staging
   * directory, renamed over the archive.
   */
  async publish(archiveName?: string): Promise<void> {
    if (this.base instanceof OciLayout) {
      for (const [digest, blob] of [...this.blobs].sort(([a], [b]) => (a < b ? -1 : 1)))
        this.staging.publish(blob.name, blobPath(digest));
      const index = await this.stagedIndex();
      if (index) this.staging.publish(index, 'index.json');
      return;
    }
    if (archiveName === undefined) throw new Error('publish: an oci-archive needs the archive name');
    for (const blob of this.blobs.values()) await this.base.writeBlob(blob.bytes, 'application/octet-stream');
    if (this.index) await this.base.writeIndex(this.index);
    if (await this.base.commit({ output: this.staging.file(archiveName) }))
      this.staging.publish(archiveName, archiveName);
  }
}
