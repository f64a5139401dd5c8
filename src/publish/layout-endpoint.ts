/**
 * OCI layouts as copy ends: a layout directory or an oci-archive read in place (blobs are byte
 * ranges of files, never extracted), and written as a layout directory or a rewritten oci-archive.
 *
 * A layout has no referrers API: attachments are index.json entries without a tag, marked
 * `vnd.waybill.referrer` = subject digest (as oci/attach.ts writes them) or carrying an
 * `artifactType` (other tools); collectGraph trusts only the manifest's own `subject`.
 *
 * Writing a directory: blobs and manifests go to `blobs/sha256/` first (unreferenced, harmless), then
 * ONE atomic index.json write lists the attachments and moves the tag together. Writing an archive:
 * everything is staged and the archive is rewritten with one rename (oci/tar-edit.ts). The caller
 * holds the layout's lock (app/stamp-transaction.ts `withStampLock`).
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { WaybillError } from '../errors.ts';
import { OciArchiveLayout } from '../oci/archive-layout.ts';
import {
  blobPath,
  jsonBytes,
  type LayoutStore,
  OciLayout,
  resolveRefInIndex,
  WAYBILL_REFERRER_ANNOTATION,
} from '../oci/layout.ts';
import { MANIFEST_MEDIA_TYPES } from '../oci/parse.ts';
import { TarFileEditor } from '../oci/tar-edit.ts';
import { type Descriptor, type ImageIndex, OCI_ANNOTATION } from '../oci/types.ts';
import { downloadToFile } from '../registry/blob-cache.ts';
import { type BlobSource, fileSource, type PushResult } from '../registry/blobs.ts';
import { type BlobStore, locateBlob, readVerifiedBlob } from '../sources/blob-store.ts';
import { readLayoutIndex } from '../sources/image.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { verifyBlob } from '../util/digest.ts';
import { type BlobReader, type GraphSink, type GraphSource, localReader } from './graph.ts';

function refNameOf(d: Descriptor): string | undefined {
  return d.annotations?.[OCI_ANNOTATION.refName];
}

/** Index entries that may be attachments of `subject` (the manifest itself decides). */
function referrerCandidates(index: ImageIndex, subject: string): Descriptor[] {
  return index.manifests.filter((d) => {
    if (!MANIFEST_MEDIA_TYPES.has(d.mediaType) || refNameOf(d) !== undefined) return false;
    const marked = d.annotations?.[WAYBILL_REFERRER_ANNOTATION];
    return marked === subject || (marked === undefined && d.artifactType !== undefined);
  });
}

/** Reads a layout (directory or archive) through its BlobStore. */
export class LayoutGraphSource implements GraphSource {
  readonly name: string;
  private readonly store: BlobStore;
  private readonly refName: string | undefined;
  private index: ImageIndex | undefined;

  constructor(name: string, store: BlobStore, refName: string | undefined) {
    this.name = name;
    this.store = store;
    this.refName = refName;
  }

  private async readIndex(): Promise<ImageIndex> {
    this.index ??= await readLayoutIndex(this.store);
    return this.index;
  }

  async root(): Promise<{ descriptor: Descriptor; tag?: string }> {
    const { descriptor } = resolveRefInIndex(await this.readIndex(), this.refName, this.name);
    const tag = this.refName ?? refNameOf(descriptor);
    return { descriptor, ...(tag !== undefined ? { tag } : {}) };
  }

  async manifest(descriptor: Descriptor): Promise<Buffer> {
    return (await readVerifiedBlob(this.store, descriptor)).bytes;
  }

  async blob(descriptor: Descriptor): Promise<BlobReader> {
    const location = await locateBlob(this.store, descriptor);
    if (location.size !== descriptor.size)
      throw new WaybillError(
        'DIGEST_MISMATCH',
        location.name,
        `blob is ${location.size} bytes, the descriptor says ${descriptor.size}`,
      );
    return localReader(
      descriptor,
      fileSource(location.file, descriptor.digest, descriptor.size, location.start),
      location.name,
    );
  }

  async referrers(subject: string): Promise<Descriptor[]> {
    return referrerCandidates(await this.readIndex(), subject);
  }
}

/** Counts bytes as they pass, for progress. */
async function* counted(stream: Readable, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    onBytes?.(chunk.length);
    yield chunk;
  }
}

async function* streamOf(reader: BlobReader): AsyncGenerator<Buffer> {
  yield* (await reader.open()) as AsyncIterable<Buffer>;
}

/** What both layout sinks share: the index kept in memory and written once, tag and referrer entries. */
abstract class LayoutSinkBase implements GraphSink {
  readonly name: string;
  protected readonly tagName: string | undefined;
  protected index: ImageIndex;
  protected readonly store: LayoutStore;

  constructor(name: string, store: LayoutStore, index: ImageIndex, tagName: string | undefined) {
    this.name = name;
    this.store = store;
    this.index = index;
    this.tagName = tagName;
  }

  async tagged(): Promise<Descriptor | undefined> {
    if (this.tagName === undefined) return undefined;
    return this.index.manifests.find((d) => refNameOf(d) === this.tagName);
  }

  async referrerDigests(subject: string): Promise<Set<string>> {
    return new Set(
      this.index.manifests
        .filter((d) => d.annotations?.[WAYBILL_REFERRER_ANNOTATION] === subject)
        .map((d) => d.digest),
    );
  }

  abstract putBlob(reader: BlobReader, onBytes?: (n: number) => void): Promise<PushResult>;

  async putManifest(descriptor: Descriptor, bytes: Buffer): Promise<void> {
    verifyBlob(bytes, descriptor.digest, {
      input: `${this.name}@${descriptor.digest}`,
      size: descriptor.size,
    });
    await this.store.writeBlob(bytes, descriptor.mediaType);
  }

  async putReferrer(subject: Descriptor, descriptor: Descriptor, bytes: Buffer): Promise<void> {
    await this.putManifest(descriptor, bytes);
    if (this.index.manifests.some((d) => d.digest === descriptor.digest)) return;
    const entry: Descriptor = {
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
    };
    if (descriptor.artifactType) entry.artifactType = descriptor.artifactType;
    entry.annotations = { [WAYBILL_REFERRER_ANNOTATION]: subject.digest };
    this.index = { ...this.index, manifests: [...this.index.manifests, entry] };
  }

  async tag(descriptor: Descriptor, bytes: Buffer): Promise<void> {
    await this.putManifest(descriptor, bytes);
    const entry: Descriptor = {
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
    };
    if (descriptor.platform) entry.platform = descriptor.platform;
    if (descriptor.artifactType) entry.artifactType = descriptor.artifactType;
    const kept =
      this.tagName === undefined
        ? this.index.manifests
        : this.index.manifests.filter((d) => refNameOf(d) !== this.tagName);
    if (this.tagName !== undefined) entry.annotations = { [OCI_ANNOTATION.refName]: this.tagName };
    this.index = { ...this.index, manifests: [...kept, entry] };
  }

  async commit(): Promise<void> {
    await this.store.writeIndex(this.index);
  }

  async abort(): Promise<void> {}
}

/** An OCI layout directory (created when missing). */
export class LayoutDirectorySink extends LayoutSinkBase {
  private readonly dir: string;

  private constructor(dir: string, store: OciLayout, index: ImageIndex, tagName: string | undefined) {
    super(dir, store, index, tagName);
    this.dir = dir;
  }

  static async open(dir: string, tagName: string | undefined): Promise<LayoutDirectorySink> {
    const store = await OciLayout.init(dir);
    return new LayoutDirectorySink(dir, store, await store.readIndex(), tagName);
  }

  async putBlob(reader: BlobReader, onBytes?: (n: number) => void): Promise<PushResult> {
    const { descriptor } = reader;
    if (await this.store.hasBlob(descriptor.digest, descriptor.size)) return 'exists';
    const path = join(this.dir, blobPath(descriptor.digest));
    // A local source is read once; a download is fetched again after a broken connection.
    if (reader.local) await writeFileAtomic(path, counted(await reader.open(), onBytes));
    else await downloadToFile(path, () => reader.open(), onBytes, 0o644);
    return 'uploaded';
  }
}

const OCI_LAYOUT_BYTES = Buffer.from('{"imageLayoutVersion":"1.0.0"}');

/**
 * An oci-archive, rewritten with one rename on commit (created when missing). Blobs that are not on
 * this machine are downloaded into the blob cache first (`fetchLocal`), so the archive is written
 * from files.
 */
export class ArchiveSink extends LayoutSinkBase {
  private readonly editor: TarFileEditor;
  private readonly fetchLocal: (reader: BlobReader, onBytes?: (n: number) => void) => Promise<BlobSource>;

  private constructor(
    path: string,
    editor: TarFileEditor,
    store: OciArchiveLayout,
    index: ImageIndex,
    tagName: string | undefined,
    fetchLocal: ArchiveSink['fetchLocal'],
  ) {
    super(path, store, index, tagName);
    this.editor = editor;
    this.fetchLocal = fetchLocal;
  }

  static async open(
    path: string,
    exists: boolean,
    tagName: string | undefined,
    fetchLocal: ArchiveSink['fetchLocal'],
  ): Promise<ArchiveSink> {
    const editor = exists ? await TarFileEditor.open(path) : TarFileEditor.empty(path);
    if (!exists) {
      editor.put('oci-layout', OCI_LAYOUT_BYTES);
      editor.put('index.json', jsonBytes({ schemaVersion: 2, manifests: [] }));
    }
    const store = await OciArchiveLayout.fromEditor(editor);
    return new ArchiveSink(path, editor, store, await store.readIndex(), tagName, fetchLocal);
  }

  async putBlob(reader: BlobReader, onBytes?: (n: number) => void): Promise<PushResult> {
    const { descriptor } = reader;
    if (await this.store.hasBlob(descriptor.digest, descriptor.size)) return 'exists';
    // Read (and verified against the digest) only while the new archive is written.
    const verified = reader.local
      ? reader
      : localReader(descriptor, await this.fetchLocal(reader, onBytes), `${this.name}@${descriptor.digest}`);
    this.editor.putSource(blobPath(descriptor.digest), {
      size: descriptor.size,
      open: () => streamOf(verified),
    });
    if (reader.local) onBytes?.(descriptor.size);
    return 'uploaded';
  }

  override async commit(): Promise<void> {
    await super.commit();
    await this.editor.commit();
  }
}
