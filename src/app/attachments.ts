/**
 * Where a release record and its SBOM live for each kind of artifact, behind one interface:
 * - an OCI layout or oci-archive: OCI 1.1 artifact manifests inside the layout whose `subject` is the
 *   image, so that a later push carries them to a registry as referrers;
 * - anything else: sidecar files next to the artifact (`NAME.waybill.json`, `NAME.cdx.json` /
 *   `NAME.spdx.json`).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { OciArchiveLayout } from '../oci/archive-layout.ts';
import {
  attachArtifact,
  attachToOciArchive,
  findAttachments,
  findAttachmentsInOciArchive,
  readAttachment,
  readAttachmentFromOciArchive,
} from '../oci/attach.ts';
import { OciLayout, resolveRef } from '../oci/layout.ts';
import { ARTIFACT_TYPE, type Descriptor } from '../oci/types.ts';
import { serializeRecord } from '../record/build.ts';
import { parseRecord } from '../record/schema.ts';
import { readSidecar, sidecarPath, writeSidecar } from '../record/sidecar.ts';
import type { ReleaseRecord } from '../record/types.ts';
import { BUNDLE_MEDIA_TYPE, BUNDLE_PREDICATE_ANNOTATION, bundleSidecarPath } from '../sign/bundle-files.ts';
import type { StatementKind } from '../sign/statement.ts';
import type { Artifact } from '../sources/types.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

export type SbomFormat = 'cyclonedx-json' | 'spdx-json';

const SBOM_MEDIA: Record<SbomFormat, string> = {
  'cyclonedx-json': ARTIFACT_TYPE.cyclonedx,
  'spdx-json': ARTIFACT_TYPE.spdx,
};

const SBOM_SUFFIX: Record<SbomFormat, string> = {
  'cyclonedx-json': '.cdx.json',
  'spdx-json': '.spdx.json',
};

/** The `oci:` location prefix in a record's manifest.location: the artifact manifest's digest. */
const OCI_LOCATION = 'oci:';

function usesLayout(artifact: Artifact): boolean {
  return artifact.kind === 'oci' || artifact.kind === 'oci-archive';
}

/** The reference (tag) inside the layout that the artifact was opened with, if any. */
function layoutRef(artifact: Artifact): string | undefined {
  return artifact.image?.refName;
}

/** The descriptor of the image the record is about: the digest the artifact was opened at. */
async function subjectDescriptor(artifact: Artifact): Promise<Descriptor> {
  const store =
    artifact.kind === 'oci'
      ? await OciLayout.open(artifact.path)
      : await OciArchiveLayout.open(artifact.path);
  const index = await store.readIndex();
  const listed = index.manifests.find((d) => d.digest === artifact.digest);
  if (listed) return { mediaType: listed.mediaType, digest: listed.digest, size: listed.size };
  const selected = artifact.image?.selected?.descriptor;
  if (selected && selected.digest === artifact.digest) {
    return { mediaType: selected.mediaType, digest: selected.digest, size: selected.size };
  }
  const resolved = await resolveRef(store, layoutRef(artifact));
  return {
    mediaType: resolved.descriptor.mediaType,
    digest: resolved.descriptor.digest,
    size: resolved.descriptor.size,
  };
}

async function attach(
  artifact: Artifact,
  artifactType: string,
  payload: Buffer,
  mediaType: string,
  annotations: Record<string, string> = {},
): Promise<string> {
  const subject = await subjectDescriptor(artifact);
  const attachment =
    artifact.kind === 'oci'
      ? await attachArtifact(artifact.path, subject, artifactType, payload, mediaType, annotations)
      : await attachToOciArchive(artifact.path, subject, artifactType, payload, mediaType, annotations);
  return `${OCI_LOCATION}${attachment.descriptor.digest}`;
}

async function findAttached(artifact: Artifact, artifactType: string): Promise<Buffer | undefined> {
  const found =
    artifact.kind === 'oci'
      ? await findAttachments(artifact.path, artifact.digest, artifactType)
      : await findAttachmentsInOciArchive(artifact.path, artifact.digest, artifactType);
  const last = found.at(-1);
  if (!last) return undefined;
  return artifact.kind === 'oci'
    ? readAttachment(artifact.path, last)
    : readAttachmentFromOciArchive(artifact.path, last);
}

/** Stores the SBOM; returns the location string the record carries. */
export async function saveSbom(artifact: Artifact, bytes: Buffer, format: SbomFormat): Promise<string> {
  if (usesLayout(artifact)) return attach(artifact, SBOM_MEDIA[format], bytes, SBOM_MEDIA[format]);
  const path = sidecarBase(artifact) + SBOM_SUFFIX[format];
  await writeFileAtomic(path, bytes);
  return basename(path);
}

/** The SBOM bytes a record's manifest.location points at, or undefined when it is not there. */
export async function loadSbom(artifact: Artifact, location: string): Promise<Buffer | undefined> {
  if (location.startsWith(OCI_LOCATION)) {
    if (!usesLayout(artifact)) return undefined;
    const digest = location.slice(OCI_LOCATION.length);
    const store =
      artifact.kind === 'oci'
        ? await OciLayout.open(artifact.path)
        : await OciArchiveLayout.open(artifact.path);
    const index = await store.readIndex();
    const descriptor = index.manifests.find((d) => d.digest === digest);
    if (!descriptor) return undefined;
    return readAttachment(store, descriptor);
  }
  if (location.includes('/') || location.includes('\\') || location === '..') {
    throw new WaybillError(
      'UNSAFE_PATH',
      location,
      'an SBOM sidecar location must be a file name next to the artifact',
    );
  }
  const path = join(dirname(artifact.path), location);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  return readFile(path);
}

export async function saveRecord(artifact: Artifact, record: ReleaseRecord): Promise<string> {
  if (usesLayout(artifact)) {
    const bytes = Buffer.from(serializeRecord(record));
    return attach(artifact, ARTIFACT_TYPE.record, bytes, 'application/vnd.in-toto+json');
  }
  return writeSidecar(artifact.path, record);
}

export async function loadRecord(
  artifact: Artifact,
): Promise<{ record: ReleaseRecord; location: string } | undefined> {
  if (usesLayout(artifact)) {
    const bytes = await findAttached(artifact, ARTIFACT_TYPE.record);
    if (!bytes) return undefined;
    const where = `${artifact.ref} (record attached to ${artifact.digest})`;
    return { record: parseRecord(bytes.toString('utf8'), where), location: 'OCI artifact in the layout' };
  }
  const record = await readSidecar(artifact.path);
  return record ? { record, location: sidecarPath(artifact.path) } : undefined;
}

/**
 * Stores a signed statement (a serialized Sigstore bundle): for layouts an OCI artifact whose subject
 * is the image, with the bundle media type and the predicate type annotation cosign uses; otherwise
 * the sidecar `NAME.<kind>.sigstore.json`. Returns where it went.
 */
export async function saveStatementBundle(
  artifact: Artifact,
  kind: StatementKind,
  predicateType: string,
  bundleJson: string,
): Promise<string> {
  const bytes = Buffer.from(bundleJson, 'utf8');
  if (usesLayout(artifact)) {
    return attach(artifact, BUNDLE_MEDIA_TYPE, bytes, BUNDLE_MEDIA_TYPE, {
      [BUNDLE_PREDICATE_ANNOTATION]: predicateType,
    });
  }
  const path = bundleSidecarPath(artifact.path, kind);
  await writeFileAtomic(path, bytes);
  return path;
}

/** Bundles attached to an image in its layout (every attachment with the bundle media type). */
export async function loadAttachedBundles(
  artifact: Artifact,
): Promise<Array<{ source: string; bytes: Buffer }>> {
  if (!usesLayout(artifact)) return [];
  const found =
    artifact.kind === 'oci'
      ? await findAttachments(artifact.path, artifact.digest, BUNDLE_MEDIA_TYPE)
      : await findAttachmentsInOciArchive(artifact.path, artifact.digest, BUNDLE_MEDIA_TYPE);
  const out: Array<{ source: string; bytes: Buffer }> = [];
  for (const attachment of found) {
    const bytes =
      artifact.kind === 'oci'
        ? await readAttachment(artifact.path, attachment)
        : await readAttachmentFromOciArchive(artifact.path, attachment);
    out.push({ source: `${artifact.ref}@${attachment.descriptor.digest} (attached bundle)`, bytes });
  }
  return out;
}

/** Sidecar files sit next to the artifact: `hello-1.0.tar.gz` → `hello-1.0.tar.gz.waybill.json`. */
function sidecarBase(artifact: Artifact): string {
  return artifact.path.replace(/\/+$/, '');
}
