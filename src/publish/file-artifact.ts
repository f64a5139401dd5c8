/**
 * Any single file as an OCI artifact, so any OCI registry can host any waybill artifact (issue 10,
 * item 3): an image manifest with `artifactType` naming the kind, the empty config, ONE layer holding
 * the file's bytes (its own media type, `org.opencontainers.image.title` = the file name, as ORAS
 * names files), and the record's facts as the manifest's standard annotations. Attachments (record,
 * SBOM, bundles…) then refer to this manifest, exactly as they refer to an image.
 *
 * The manifest depends only on the file and its record (no clock), so publishing the same file twice
 * gives the same digest.
 *
 * Reading it back (sources/registry.ts): a manifest whose config is not an image config and that has
 * exactly one layer is a file; its name is the layer's title.
 */
import { basename } from 'node:path';
import { detectNativeFormat } from '../formats/registry.ts';
import { artifactManifestBytes, EMPTY_CONFIG_BYTES } from '../oci/artifact-manifest.ts';
import { stampAnnotations } from '../oci/stamp.ts';
import { type Descriptor, MEDIA_TYPE, OCI_ANNOTATION } from '../oci/types.ts';
import { isNetworkRepositoryUrl } from '../provenance/remote-url.ts';
import type { ReleaseRecord } from '../record/types.ts';
import type { BlobSource } from '../registry/blobs.ts';
import { readFileHead } from '../util/read-head.ts';
import { type BlobReader, bufferReader, localReader } from './graph.ts';
import type { BuiltManifest } from './memory-source.ts';

/** What kind of file, and how each kind is typed in a registry. */
export interface FileKind {
  /** `deb`, `rpm`, `wheel`, `sdist`, `executable`, `system-image`, `vagrant-box`, `tarball`, `file`. */
  kind: string;
  artifactType: string;
  /** The layer's media type: the file's own. */
  mediaType: string;
}

const KINDS: Record<string, { artifactType: string; mediaType: string }> = {
  deb: { artifactType: 'application/vnd.waybill.deb.v1', mediaType: 'application/vnd.debian.binary-package' },
  rpm: { artifactType: 'application/vnd.waybill.rpm.v1', mediaType: 'application/x-rpm' },
  wheel: { artifactType: 'application/vnd.waybill.wheel.v1', mediaType: 'application/zip' },
  sdist: { artifactType: 'application/vnd.waybill.sdist.v1', mediaType: 'application/gzip' },
  executable: {
    artifactType: 'application/vnd.waybill.executable.v1',
    mediaType: 'application/octet-stream',
  },
  'system-image': {
    artifactType: 'application/vnd.waybill.system-image.v1',
    mediaType: 'application/octet-stream',
  },
  'vagrant-box': { artifactType: 'application/vnd.waybill.vagrant-box.v1', mediaType: 'application/x-tar' },
  tarball: { artifactType: 'application/vnd.waybill.tarball.v1', mediaType: 'application/x-tar' },
  file: { artifactType: 'application/vnd.waybill.file.v1', mediaType: 'application/octet-stream' },
};

/** Every artifactType a file can be published under (a reader recognises them). */
export const FILE_ARTIFACT_TYPES: ReadonlySet<string> = new Set(
  Object.values(KINDS).map((k) => k.artifactType),
);

/** Native format names (formats/registry.ts) grouped into the kinds above. */
const FORMAT_KIND: Record<string, string> = {
  deb: 'deb',
  rpm: 'rpm',
  wheel: 'wheel',
  sdist: 'sdist',
  executable: 'executable',
  rootfs: 'system-image',
  'disk-image': 'system-image',
  'vagrant-box': 'vagrant-box',
};

/** A compressed stream's own media type, from its magic number. */
function compressionMediaType(head: Buffer): string | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'application/gzip';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])))
    return 'application/x-xz';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'application/zstd';
  return undefined;
}

function tarballLike(head: Buffer): boolean {
  // ustar magic at 257, or a compressed stream (a compressed tarball is the common case).
  return head.subarray(257, 262).toString('latin1') === 'ustar' || compressionMediaType(head) !== undefined;
}

/** The kind of the file at `path`, from its content (and name, as the native formats decide). */
export async function fileKindOf(path: string): Promise<FileKind> {
  const format = await detectNativeFormat(path);
  const head = await readFileHead(path, 512);
  const padded = head.length >= 262 ? head : Buffer.concat([head, Buffer.alloc(262 - head.length)]);
  const kind = (format && FORMAT_KIND[format.name]) ?? (tarballLike(padded) ? 'tarball' : 'file');
  const known = KINDS[kind] ?? KINDS.file!;
  // A compressed file says so: a .tar.gz is application/gzip, not application/x-tar.
  const compressed = kind === 'tarball' || kind === 'vagrant-box' || kind === 'system-image';
  const mediaType = (compressed && compressionMediaType(padded)) || known.mediaType;
  return { kind, artifactType: known.artifactType, mediaType };
}

/** The standard annotations a record's facts give (the same keys `stamp` writes into images). */
export function recordAnnotations(record: ReleaseRecord | undefined): Record<string, string> {
  if (!record) return {};
  const p = record.predicate;
  const repository = p.source?.repository ?? null;
  return stampAnnotations({
    name: p.identity.name,
    version: p.identity.version,
    created: p.dates.built,
    team: p.team.name,
    authors: p.team.contact,
    url: p.help.bugTracker,
    documentation: p.help.docs,
    // Only a URL others can fetch from; a file:// path stays in the record.
    source: repository && isNetworkRepositoryUrl(repository) ? repository : null,
    revision: p.source?.commit ?? null,
    licenses: p.support.license,
  });
}

export interface FileArtifact {
  manifest: BuiltManifest;
  kind: FileKind;
  /** The layer: the file's bytes. */
  layer: Descriptor;
}

/**
 * The artifact manifest of the file at `path` (digest `sha256:…`, `size` bytes), read from `local`.
 */
export async function fileArtifact(
  path: string,
  file: { digest: string; size: number; local: BlobSource },
  record: ReleaseRecord | undefined,
  fileName = basename(path),
): Promise<FileArtifact> {
  const kind = await fileKindOf(path);
  const layer: Descriptor = {
    mediaType: kind.mediaType,
    digest: file.digest,
    size: file.size,
    annotations: { [OCI_ANNOTATION.title]: fileName },
  };
  const annotations = recordAnnotations(record);
  // The manifest's title names the release (as on images); without a record, the file.
  annotations[OCI_ANNOTATION.title] ??= fileName;
  const bytes = artifactManifestBytes({ artifactType: kind.artifactType, layers: [layer], annotations });
  const descriptor = {
    ...bufferReader(bytes, MEDIA_TYPE.ociManifest).descriptor,
    artifactType: kind.artifactType,
  };
  const blobs: BlobReader[] = [
    bufferReader(EMPTY_CONFIG_BYTES, MEDIA_TYPE.ociEmpty),
    localReader(layer, file.local, path),
  ];
  return { manifest: { descriptor, bytes, blobs }, kind, layer };
}
