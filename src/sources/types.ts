/**
 * The artifact source interface: every kind of input (a file, a directory, an OCI layout, an OCI
 * archive, a docker-archive, an image in a registry) is opened into an `Artifact` with a digest and a lazy, streaming walk
 * over the files it contains. Nothing is extracted to disk; a walk reads each layer once and keeps
 * only the bytes of the files a filter asks for.
 */
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from '../oci/types.ts';
import type { OpenedRelease } from '../publish/release-read.ts';
import type { BlobCache } from '../registry/blob-cache.ts';
import type { RegistryOptions } from '../registry/client.ts';
import type { ImageReference } from '../registry/reference.ts';
import type { Repository } from '../registry/repository.ts';
import { type ByteSource, bufferSource } from '../util/byte-source.ts';

/**
 * Transport names, as containers-transports(5) spells them where skopeo has the same one;
 * `registry` is skopeo's `docker://` (an image in a registry); `release` is one file of a release
 * directory (`https://HOST/NAME/VERSION/FILE`, `file:///ROOT/NAME/VERSION/FILE`), read as a file.
 */
export type SourceKind = 'file' | 'dir' | 'oci' | 'oci-archive' | 'docker-archive' | 'registry' | 'release';

/** Kinds whose artifact is one file on this machine (`path`): a file, or a published release's copy. */
export function isSingleFile(kind: SourceKind): boolean {
  return kind === 'file' || kind === 'release';
}

export interface FileEntry {
  /** Relative POSIX path inside the artifact: no leading `/` or `./`, no `..`, no empty segments. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  size: number;
  mode: number;
  /** For symlinks and hard links: the link target as written (hard links: normalized path). */
  linkTarget?: string;
  /**
   * The image layer this version came from, by its diff_id (the digest of the uncompressed tar, as
   * the config's rootfs.diff_ids lists it): the same id whether the layer travels gzip, zstd or
   * uncompressed. Absent outside images.
   */
  layer?: string;
}

/**
 * A file with content: a regular file, or a hard link (another name for a file: a walk gives it its
 * target's bytes). Catalogers test this rather than `type === 'file'`, or a metadata file that a
 * layer stores as a hard link (a venv's METADATA linked to another's, a pnpm store's package.json)
 * is missed in images though found in the same tree on disk.
 */
export function hasContent(entry: Pick<FileEntry, 'type'>): boolean {
  return entry.type === 'file' || entry.type === 'hardlink';
}

export interface WalkedFile {
  entry: FileEntry;
  data: Buffer;
  /**
   * Earlier versions of the same path from lower layers, oldest first, that the final version
   * replaced (not deleted by a whiteout in between). Lets the manifest engine find the first layer a
   * component appeared in. Empty outside images.
   */
  earlier: Array<{ layer: string; data: Buffer }>;
}

/**
 * Which files a walk keeps. `want` decides from the tar header alone; `'sniff'` defers the decision
 * to `sniff`, which sees the first `SNIFF_BYTES` bytes (for magic numbers: ELF, PE, Mach-O, zip).
 * `keep`, when present, is the last word on a wanted file (or resolved hard link) once its bytes are
 * fully read: false drops the bytes at once, so a walk holds only files worth parsing (an executable
 * without Go build info, say). A dropped file is treated like an unwanted one: in an image it still
 * replaces lower versions of its path, so it is never anyone's `earlier` version. `keep` may return
 * false only when the file's consumer would find nothing in those bytes. `data` may be a buffer the
 * walk reuses: read it during the call, do not hold on to it.
 */
export interface FileFilter {
  want(entry: FileEntry): boolean | 'sniff';
  sniff?(entry: FileEntry, head: Buffer): boolean;
  keep?(entry: FileEntry, data: Buffer): boolean;
  /**
   * A smaller copy of a wanted file's bytes that every consumer of the file reads exactly as it
   * reads the whole (an executable's metadata sections without its code), or undefined to keep the
   * bytes as they are. The walk holds the copy. Called after `keep` on a file read whole; on a file
   * too large to read whole (read from disk through `source`), before `keep`, which then sees the copy.
   */
  condense?(entry: FileEntry, source: ByteSource): Buffer | undefined;
  /**
   * The largest a wanted file may be, when its consumers set a limit below the walk's `maxFileSize`
   * (files every consumer reads whole as text: a package database, a package.json). A walk skips a
   * larger one with a warning before reading it: a few hundred KiB of gzip expand to such a file of
   * hundreds of MiB, which would be held whole, then again as a string.
   */
  maxSize?(entry: FileEntry): number | undefined;
}

/** The most a walk reads of `entry`: its `maxFileSize`, or the filter's lower limit for the file. */
export function sizeLimit(filter: FileFilter, entry: FileEntry, maxFileSize: number): number {
  return Math.min(maxFileSize, filter.maxSize?.(entry) ?? maxFileSize);
}

/** Why a wanted file of `size` bytes over `limit` (from `sizeLimit`) was skipped. */
export function tooLargeReason(size: number, limit: number, maxFileSize: number): string {
  return limit < maxFileSize
    ? `${size} bytes is larger than ${limit}, the most read of such a file`
    : `${size} bytes is larger than maxFileSize ${maxFileSize}`;
}

/**
 * What a walk holds of a wanted file's bytes: undefined when `keep` drops it, else the filter's
 * condensed copy, else the bytes themselves — copied when `data` is a buffer the walk reuses.
 */
export function keptBytes(
  filter: FileFilter,
  entry: FileEntry,
  data: Buffer,
  reused: boolean,
): Buffer | undefined {
  if (filter.keep && !filter.keep(entry, data)) return undefined;
  const condensed = filter.condense?.(entry, bufferSource(data));
  if (condensed) return condensed;
  return reused ? Buffer.from(data) : data;
}

export const SNIFF_BYTES = 64;

/**
 * The size a hard link is first shown to the filter with when its content is not at hand: a tar
 * header gives a link size 0 (the bytes are stored under the first name, maybe in a lower layer), and
 * a filter that asks for a plausible size (an executable has headers) would refuse every such link.
 * `linkedBytes` asks again with the real size once the bytes are read.
 */
export const LINK_SIZE_PROBE = 64 * 1024;

/**
 * What a walk keeps of a hard link whose target's bytes came later (a second pass over the layer, or
 * a lower layer): the filter decides as if the link had come with those bytes — `want` with the real
 * size, `sniff` on their start, then `keep`/`condense` (`keptBytes`).
 */
export function linkedBytes(filter: FileFilter, entry: FileEntry, data: Buffer): Buffer | undefined {
  const sized = { ...entry, size: data.length };
  const limit = filter.maxSize?.(sized);
  if (limit !== undefined && data.length > limit) return undefined;
  const want = filter.want(sized);
  if (want === false) return undefined;
  if (want === 'sniff' && !filter.sniff?.(sized, data.subarray(0, SNIFF_BYTES))) return undefined;
  return keptBytes(filter, sized, data, false);
}

export interface WalkOptions {
  /** Wanted files larger than this are skipped with a warning rather than buffered. Default 512 MiB. */
  maxFileSize?: number;
  /** Called with compressed bytes read so far and the total, for progress bars. */
  onProgress?: (done: number, total: number) => void;
  /** Image layers on worker threads: 0 or 1 = in-process; default $WAYBILL_WORKERS, else threads with >= 2 cores and >= 2 layers of >= 16 MiB. */
  workers?: number;
  signal?: AbortSignal;
}

export interface WalkResult {
  /** Wanted files as they are in the final view (whiteouts and opaque dirs applied), sorted by path. */
  files: WalkedFile[];
  /** Wanted files not kept, with the reason (too large…). */
  skipped: Array<{ path: string; reason: string }>;
}

/** One platform's image inside an image source. */
export interface PlatformImage {
  /** The descriptor of this image's manifest (digest, size, media type, platform). */
  descriptor: Descriptor;
  manifest: ImageManifest;
  configDigest: string;
  config: ImageConfig;
  platform: Platform;
}

export interface ImageView {
  /** The tag or reference name chosen in the layout (`org.opencontainers.image.ref.name`), if any. */
  refName?: string;
  /** Present when the reference resolves to an image index (`descriptor`: how it was named). */
  index?: { digest: string; index: ImageIndex; descriptor?: Descriptor };
  /** Every platform image the reference resolves to (one for a plain manifest). */
  platforms: PlatformImage[];
  /** The image a walk reads: the only one, or the one chosen with `platform`. */
  selected?: PlatformImage;
  /** docker-archive only: the RepoTags of the chosen image. */
  repoTags?: string[];
}

export interface Artifact {
  /** The reference as the user gave it. */
  ref: string;
  kind: SourceKind;
  /**
   * Filesystem path of the file, directory, layout or archive; for a registry image, the canonical
   * reference `registry/repository[:tag][@digest]` (not a path: never open it).
   */
  path: string;
  /**
   * The digest the release record binds to, `sha256:<hex>`:
   * file: the file's bytes; dir: the canonical tree digest (see dir source);
   * oci / oci-archive / registry: the manifest of the selected platform, or the index when none is
   * selected;
   * docker-archive: the image config digest (the image ID; docker-archive has no manifest digest).
   */
  digest: string;
  /** Images only. */
  image?: ImageView;
  /**
   * Artifacts read from a registry: the repository (for its referrers) and `subject`, the manifest
   * digest attachments refer to — the artifact's own digest for an image; for a file published as an
   * OCI artifact (`kind: 'file'`, `path` its copy in the blob cache), the artifact manifest's.
   */
  registry?: { repository: Repository; reference: ImageReference; subject: string };
  /**
   * Release-directory files only: what was published with it (SHA256SUMS, index.json entry, the
   * statement sidecars read and checked). `path` is the checked local copy of the file.
   */
  release?: OpenedRelease;
  /** The options the artifact was opened with, so a caller reopening it keeps them (registry access). */
  options?: OpenOptions;
  walk(filter: FileFilter, options?: WalkOptions): Promise<WalkResult>;
  /**
   * Images: hashes every blob the artifact is bound to (manifests, configs, layers) against its
   * descriptor, never stopping at the first mismatch (sources/integrity.ts). Files and trees are
   * hashed when opened: their `digest` is the hash of what is there.
   */
  verifyBlobs?(options?: IntegrityOptions): Promise<IntegrityCheck[]>;
}

/**
 * An artifact opened only to list what it holds (`OpenOptions.digest` false): a `dir:` tree then
 * has no digest, as nothing but the files a walk wants is read. Every other kind has its digest.
 */
export type ListedArtifact = Omit<Artifact, 'digest'> & { digest?: string };

/** One thing hashed against the digest that names it. */
export interface IntegrityCheck {
  /** What it is, for people: `image manifest`, `image config`, `layer 2 of 3`, `image index`, `SBOM`. */
  what: string;
  /** Where the bytes are: a blob path, `archive.tar:blobs/sha256/…`, a file path. */
  name: string;
  expected: string;
  expectedSize?: number;
  /** The digest of the bytes found; absent when they could not be read (missing, not a file). */
  actual?: string;
  actualSize?: number;
  passed: boolean;
  /** Why it failed, one line (the digests and sizes, or why the bytes could not be read). */
  problem?: string;
  /** `hash`: hashed by this check; `walk`: verified earlier in this process by a layer walk. */
  checkedBy: 'hash' | 'walk';
}

export interface IntegrityOptions {
  /**
   * Blob digests already verified in this process — every layer a successful walk read (the walk
   * checks each layer's digest, size and diff_id) — so `stamp` does not hash them twice.
   */
  verified?: ReadonlySet<string>;
  /** Blobs hashed at once (default 2: reads of one overlap hashing of the other). */
  concurrency?: number;
  /** Bytes hashed so far and the total, for a progress bar. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface OpenOptions {
  /** `os/arch[/variant]`, to choose one image of an index. */
  platform?: string;
  /**
   * false: the artifact will only be listed (`sbom`), so a `dir:` tree is not hashed for its digest
   * (the other kinds cost nothing to name and have theirs). Default: every artifact has its digest.
   */
  digest?: boolean;
  /** `docker://` references: transport and credentials (src/registry/client.ts). */
  registry?: RegistryOptions;
  /** `docker://` references: where pulled blobs are cached (default: the user cache directory). */
  blobCache?: BlobCache;
  /** Release URLs: the download of the file, bytes so far and the total (0 when not known). */
  onDownload?: (done: number, total: number) => void;
}
