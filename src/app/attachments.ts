/**
 * Where a release record and its SBOM live for each kind of artifact, behind one interface:
 * - an OCI layout or oci-archive: OCI 1.1 artifact manifests inside the layout whose `subject` is the
 *   image, so that a later push carries them to a registry as referrers;
 * - an image in a registry (read only here; `publish` writes): its referrers, through the referrers
 *   API or the referrers tag (src/registry/attachments.ts);
 * - anything else: sidecar files next to the artifact (`NAME.waybill.json`, `NAME.cdx.json` /
 *   `NAME.spdx.json`) — beside it, never inside (a `dir:.` artifact's sidecars go in its parent).
 *
 * Writing goes through a `RecordStore`, which stages (app/stamp-transaction.ts): nothing is visible
 * until the stamp commits the artifact, its SBOM and its record together.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WaybillError } from '../errors.ts';
import { OciArchiveLayout } from '../oci/archive-layout.ts';
import {
  attachArtifact,
  attachToOciArchive,
  detachArtifacts,
  findAttachments,
  findAttachmentsInOciArchive,
  readAttachment,
  readAttachmentFromOciArchive,
} from '../oci/attach.ts';
import { type LayoutStore, OciLayout, resolveRef } from '../oci/layout.ts';
import { ARTIFACT_TYPE, type Descriptor } from '../oci/types.ts';
import { INTOTO_JSONL_ARTIFACT_TYPE } from '../publish/sidecars.ts';
import { serializeRecord } from '../record/build.ts';
import {
  parseRecordSidecar,
  readSidecar,
  SIDECAR_SUFFIX,
  sidecarBytes,
  sidecarHome,
  sidecarPath,
} from '../record/sidecar.ts';
import { RECORD_PREDICATE_TYPES, type ReleaseRecord } from '../record/types.ts';
import {
  findRegistryAttachments,
  readRegistryAttachmentAt,
  readRegistryAttachmentPayload,
  readRegistrySidecar,
} from '../registry/attachments.ts';
import type { Repository } from '../registry/repository.ts';
import {
  BUNDLE_MEDIA_TYPE,
  BUNDLE_PREDICATE_ANNOTATION,
  bundleSidecarPath,
  bundleSuffix,
  isSidecarOf,
} from '../sign/bundle-files.ts';
import type { StatementKind } from '../sign/statement.ts';
import { registryWriteError, releaseWriteError } from '../sources/published-read-only.ts';
import type { Artifact } from '../sources/types.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { parseSha256Digest } from '../util/digest.ts';
import { readRegularFileIfPresent } from '../util/regular-file.ts';
import type { StagingArea } from '../util/staging.ts';

export type SbomFormat = 'cyclonedx-json' | 'spdx-json';

const SBOM_MEDIA: Record<SbomFormat, string> = {
  'cyclonedx-json': ARTIFACT_TYPE.cyclonedx,
  'spdx-json': ARTIFACT_TYPE.spdx,
};

export const SBOM_SUFFIX: Record<SbomFormat, string> = {
  'cyclonedx-json': '.cdx.json',
  'spdx-json': '.spdx.json',
};

/** in-toto predicate types of an SBOM attestation (attestation spec, predicates cyclonedx / spdx). */
export const SBOM_PREDICATE_TYPES: Record<SbomFormat, string> = {
  'cyclonedx-json': 'https://cyclonedx.org/bom',
  'spdx-json': 'https://spdx.dev/Document',
};
/** `waybill audit --attach` beside a file artifact: `NAME.audit.json`. */
export const AUDIT_SIDECAR_SUFFIX = '.audit.json';

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
async function subjectDescriptor(store: LayoutStore, artifact: Artifact): Promise<Descriptor> {
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

/**
 * Attach a payload to the image in an OCI layout or oci-archive after the stamp (a signed statement,
 * an audit); returns `oci:<manifest digest>`. Blobs are written before index.json, as in a stamp.
 */
export async function attach(
  artifact: Artifact,
  artifactType: string,
  payload: Buffer,
  mediaType: string,
  annotations: Record<string, string> = {},
): Promise<string> {
  refuseRegistryWrite(artifact);
  const store =
    artifact.kind === 'oci'
      ? await OciLayout.open(artifact.path)
      : await OciArchiveLayout.open(artifact.path);
  const subject = await subjectDescriptor(store, artifact);
  const attachment =
    artifact.kind === 'oci'
      ? await attachArtifact(artifact.path, subject, artifactType, payload, mediaType, annotations)
      : await attachToOciArchive(artifact.path, subject, artifactType, payload, mediaType, annotations);
  return `${OCI_LOCATION}${attachment.descriptor.digest}`;
}

/** The statements a stamp signs: the record itself and the SBOM attestation. */
export type StampedStatementKind = 'record' | 'sbom';

/** Predicate types of every statement a stamp may have signed earlier (old record versions too). */
const STAMPED_PREDICATE_TYPES: Record<StampedStatementKind, readonly string[]> = {
  record: RECORD_PREDICATE_TYPES,
  sbom: Object.values(SBOM_PREDICATE_TYPES),
};

/** Where a stamp puts an artifact's SBOM and record; returns the locations the record and user see. */
export interface RecordStore {
  saveSbom(target: Artifact, bytes: Buffer, format: SbomFormat): Promise<string>;
  saveRecord(target: Artifact, record: ReleaseRecord): Promise<string>;
  /** A signed statement (a serialized Sigstore bundle) about `target`, published with the rest. */
  saveBundle(
    target: Artifact,
    kind: StampedStatementKind,
    predicateType: string,
    json: string,
  ): Promise<string>;
  /**
   * Drops the bundles an earlier stamp signed for `target` (of these kinds): they sign a record that
   * is being replaced, and a stale signature must not sit beside the new record.
   */
  dropBundles(target: Artifact, kinds: readonly StampedStatementKind[]): Promise<void>;
}

/** Attachments in a layout store (a StagedLayout during a stamp): `oci:sha256:<manifest digest>`. */
export function layoutRecordStore(store: LayoutStore): RecordStore {
  const attach = async (
    target: Artifact,
    type: string,
    payload: Buffer,
    mediaType: string,
    annotations: Record<string, string> = {},
  ) => {
    const subject = await subjectDescriptor(store, target);
    const attachment = await attachArtifact(store, subject, type, payload, mediaType, annotations);
    return `${OCI_LOCATION}${attachment.descriptor.digest}`;
  };
  return {
    saveSbom: (target, bytes, format) => attach(target, SBOM_MEDIA[format], bytes, SBOM_MEDIA[format]),
    saveRecord: (target, record) =>
      attach(
        target,
        ARTIFACT_TYPE.record,
        Buffer.from(serializeRecord(record)),
        'application/vnd.in-toto+json',
      ),
    saveBundle: (target, _kind, predicateType, json) =>
      attach(target, BUNDLE_MEDIA_TYPE, Buffer.from(json, 'utf8'), BUNDLE_MEDIA_TYPE, {
        [BUNDLE_PREDICATE_ANNOTATION]: predicateType,
      }),
    async dropBundles(target, kinds) {
      const subject = await subjectDescriptor(store, target);
      for (const predicateType of kinds.flatMap((k) => STAMPED_PREDICATE_TYPES[k])) {
        await detachArtifacts(store, subject.digest, BUNDLE_MEDIA_TYPE, {
          [BUNDLE_PREDICATE_ANNOTATION]: predicateType,
        });
      }
    },
  };
}

/** Sidecars staged for a stamp, published by `publishSidecars` in the order that keeps them consistent. */
export interface SidecarRecordStore extends RecordStore {
  /**
   * Removes the stale bundles `dropBundles` named, then plans the renames: the record and its
   * bundle, then the SBOM and its bundle (see stamp-transaction.ts for why).
   */
  publishSidecars(): Promise<void>;
}

/**
 * Sidecars of the artifact at `artifactPath`, staged in `staging` (whose home is the directory they
 * go in); nothing is visible until the staging area commits.
 */
export function sidecarRecordStore(staging: StagingArea, artifactPath: string): SidecarRecordStore {
  const staged: Record<'record' | 'recordBundle' | 'sbom' | 'sbomBundle', string[]> = {
    record: [],
    recordBundle: [],
    sbom: [],
    sbomBundle: [],
  };
  const stale = new Set<string>();
  return {
    async saveSbom(_target, bytes, format) {
      const [, name] = sidecarHome(artifactPath, SBOM_SUFFIX[format]);
      await staging.write(name, bytes);
      staged.sbom.push(name);
      return name;
    },
    async saveRecord(_target, record) {
      const [, name] = sidecarHome(artifactPath, SIDECAR_SUFFIX);
      const target = sidecarPath(artifactPath);
      await staging.write(name, sidecarBytes(record, target));
      staged.record.push(name);
      return target;
    },
    async saveBundle(_target, kind, _predicateType, json) {
      const [dir, name] = sidecarHome(artifactPath, bundleSuffix(kind));
      await staging.write(name, json);
      staged[kind === 'record' ? 'recordBundle' : 'sbomBundle'].push(name);
      stale.delete(name);
      return join(dir, name);
    },
    async dropBundles(_target, kinds) {
      for (const kind of kinds) stale.add(sidecarHome(artifactPath, bundleSuffix(kind))[1]);
    },
    async publishSidecars() {
      // Before any rename: a crash after this leaves the old record unsigned, which verify and a
      // policy requiring signatures refuse — never a signature beside a record it does not sign.
      const [dir] = sidecarHome(artifactPath, '');
      for (const name of stale) await rm(join(dir, name), { force: true });
      for (const name of [...staged.record, ...staged.recordBundle, ...staged.sbom, ...staged.sbomBundle])
        staging.publish(name, name);
    },
  };
}

/** The last attachment of a type in `findAttachments` order (by digest): its bytes and location. */
async function findAttached(
  artifact: Artifact,
  artifactType: string,
): Promise<{ bytes: Buffer; location: string } | undefined> {
  const found =
    artifact.kind === 'oci'
      ? await findAttachments(artifact.path, artifact.digest, artifactType)
      : await findAttachmentsInOciArchive(artifact.path, artifact.digest, artifactType);
  const last = found.at(-1);
  if (!last) return undefined;
  const bytes =
    artifact.kind === 'oci'
      ? await readAttachment(artifact.path, last)
      : await readAttachmentFromOciArchive(artifact.path, last);
  return { bytes, location: `${OCI_LOCATION}${last.descriptor.digest}` };
}

/** The newest referrer of a type of a registry image (the registry's order): bytes and location. */
async function findReferrer(
  artifact: Artifact,
  repository: Repository,
  artifactType: string,
): Promise<{ bytes: Buffer; location: string } | undefined> {
  const [newest] = await findRegistryAttachments(repository, registrySubject(artifact), artifactType);
  if (!newest) return undefined;
  const bytes = await readRegistryAttachmentPayload(repository, newest);
  return { bytes, location: `${OCI_LOCATION}${newest.descriptor.digest}` };
}

/**
 * Writing to a registry or a release directory is `publish`'s job: nothing is written there behind
 * the user's back (and nothing next to a release's cached copy, where no reader would look).
 */
function refuseRegistryWrite(artifact: Artifact): void {
  if (artifact.registry) throw registryWriteError(artifact.ref);
  if (artifact.kind === 'release') throw releaseWriteError(artifact.ref);
}

/** The repository of an artifact read from a registry (an image, or a file published as an OCI artifact). */
function registryOf(artifact: Artifact): Repository | undefined {
  return artifact.registry?.repository;
}

/** The manifest digest a registry artifact's attachments refer to. */
export function registrySubject(artifact: Artifact): string {
  return artifact.registry?.subject ?? artifact.digest;
}

/** The SBOM bytes a record's manifest.location points at, or undefined when it is not there. */
export async function loadSbom(artifact: Artifact, location: string): Promise<Buffer | undefined> {
  if (location.startsWith(OCI_LOCATION)) {
    const digest = location.slice(OCI_LOCATION.length);
    const repository = registryOf(artifact);
    if (repository) {
      parseSha256Digest(digest, location, 'SBOM location');
      return readRegistryAttachmentAt(repository, digest, registrySubject(artifact));
    }
    if (!usesLayout(artifact)) return undefined;
    const store =
      artifact.kind === 'oci'
        ? await OciLayout.open(artifact.path)
        : await OciArchiveLayout.open(artifact.path);
    const index = await store.readIndex();
    const descriptor = index.manifests.find((d) => d.digest === digest);
    if (!descriptor) return undefined;
    return readAttachment(store, descriptor);
  }
  // In a registry a sidecar is an attachment titled with its file name (a file published by `publish`).
  const repository = registryOf(artifact);
  if (repository) return readRegistrySidecar(repository, registrySubject(artifact), location);
  if (location.includes('/') || location.includes('\\') || location === '..') {
    throw new WaybillError(
      'UNSAFE_PATH',
      location,
      'an SBOM sidecar location must be a file name next to the artifact',
    );
  }
  // A published release's sidecars are the ones read and checked against its SHA256SUMS.
  const release = artifact.release;
  if (release) return release.sidecars.get(location)?.bytes ?? (await release.readFile(location));
  // Beside the artifact, as the stamp wrote it (a `dir:.` artifact's in its parent). Only a regular
  // file is read: a FIFO there is refused at once (the manifest rule reports it), never waited on.
  const [home] = sidecarHome(artifact.path, '');
  return readRegularFileIfPresent(join(home, location), { code: 'MALFORMED' });
}

export interface LoadedRecord {
  record: ReleaseRecord;
  location: string;
}

export async function loadRecord(artifact: Artifact): Promise<LoadedRecord | undefined> {
  const repository = registryOf(artifact);
  if (repository) {
    const [newest] = await findRegistryAttachments(
      repository,
      registrySubject(artifact),
      ARTIFACT_TYPE.record,
    );
    if (!newest) return undefined;
    const bytes = await readRegistryAttachmentPayload(repository, newest);
    const where = `${artifact.ref} (record ${newest.descriptor.digest})`;
    return {
      record: parseRecordSidecar(bytes, where),
      location: `referrer ${newest.descriptor.digest} in docker://${repository.reference.registry}/${repository.name}`,
    };
  }
  const release = artifact.release;
  if (release) {
    const name = `${release.location.file}${SIDECAR_SUFFIX}`;
    const sidecar = release.sidecars.get(name);
    if (!sidecar) return undefined;
    const where = release.locate(name);
    return { record: parseRecordSidecar(sidecar.bytes, where), location: where };
  }
  if (usesLayout(artifact)) {
    const bytes = (await findAttached(artifact, ARTIFACT_TYPE.record))?.bytes;
    if (!bytes) return undefined;
    const where = `${artifact.ref} (record attached to ${artifact.digest})`;
    return { record: parseRecordSidecar(bytes, where), location: 'OCI artifact in the layout' };
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
  refuseRegistryWrite(artifact);
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

/**
 * Bundles attached to an image in its layout or its registry (every attachment with the bundle
 * media type), or published beside a release-directory file.
 */
export async function loadAttachedBundles(
  artifact: Artifact,
): Promise<Array<{ source: string; bytes: Buffer }>> {
  const release = artifact.release;
  if (release) {
    // Its sidecar bundles and `.intoto.jsonl`, checked against SHA256SUMS when the release was read.
    return [...release.sidecars.values()]
      .filter((s) => isSidecarOf(release.location.file, s.name))
      .map((s) => ({ source: release.locate(s.name), bytes: s.bytes }));
  }
  const repository = registryOf(artifact);
  if (repository) {
    const subject = registrySubject(artifact);
    const found = [
      ...(await findRegistryAttachments(repository, subject, BUNDLE_MEDIA_TYPE)),
      // JSON Lines of envelopes or bundles (`NAME.intoto.jsonl` published with a file).
      ...(await findRegistryAttachments(repository, subject, INTOTO_JSONL_ARTIFACT_TYPE)),
    ];
    const out: Array<{ source: string; bytes: Buffer }> = [];
    for (const attachment of found) {
      const bytes = await readRegistryAttachmentPayload(repository, attachment);
      out.push({ source: `${artifact.ref}@${attachment.descriptor.digest} (referrer bundle)`, bytes });
    }
    return out;
  }
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

// ---------------------------------------------------------------------------------------------
// What is stored with an artifact, read back as it is (`sbom --stored`, `inspect --record`).

/** One statement stored with an artifact: an OCI attachment of the image, or a sidecar file. */
export interface StoredStatement {
  kind: 'record' | 'sbom' | 'signed statement' | 'audit' | 'other';
  /** `oci:sha256:<manifest digest>` for an attachment; the file name of a sidecar. */
  location: string;
  /** The attachment's artifact type, or the sidecar's suffix. */
  type: string;
}

const KIND_OF_TYPE: Record<string, StoredStatement['kind']> = {
  [ARTIFACT_TYPE.record]: 'record',
  [ARTIFACT_TYPE.cyclonedx]: 'sbom',
  [ARTIFACT_TYPE.spdx]: 'sbom',
  [ARTIFACT_TYPE.audit]: 'audit',
  [BUNDLE_MEDIA_TYPE]: 'signed statement',
};

async function layoutAttachments(artifact: Artifact) {
  return artifact.kind === 'oci'
    ? findAttachments(artifact.path, artifact.digest)
    : findAttachmentsInOciArchive(artifact.path, artifact.digest);
}

/** The sidecar suffixes of a file artifact and what each holds (signed statements aside). */
const SIDECAR_KINDS: Array<[string, StoredStatement['kind']]> = [
  [SIDECAR_SUFFIX, 'record'],
  [SBOM_SUFFIX['cyclonedx-json'], 'sbom'],
  [SBOM_SUFFIX['spdx-json'], 'sbom'],
  [AUDIT_SIDECAR_SUFFIX, 'audit'],
];

/**
 * Everything stored with the artifact: for an OCI layout or oci-archive the attachments whose
 * subject is this image's manifest, for a registry image its referrers of the types waybill knows
 * (the referrers API is asked per type), for anything else the sidecar files beside it (regular
 * files only). Sorted by kind, then location.
 */
export async function listStored(artifact: Artifact): Promise<StoredStatement[]> {
  const out: StoredStatement[] = [];
  const repository = registryOf(artifact);
  if (repository) {
    for (const [type, kind] of Object.entries(KIND_OF_TYPE)) {
      for (const a of await findRegistryAttachments(repository, registrySubject(artifact), type))
        out.push({ kind, location: `${OCI_LOCATION}${a.descriptor.digest}`, type });
    }
  } else if (usesLayout(artifact)) {
    for (const a of await layoutAttachments(artifact)) {
      out.push({
        kind: KIND_OF_TYPE[a.artifactType] ?? 'other',
        location: `${OCI_LOCATION}${a.descriptor.digest}`,
        type: a.artifactType,
      });
    }
  } else {
    const [home, name] = sidecarHome(artifact.path, '');
    const entries = await readdir(home, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isFile() || !e.name.startsWith(`${name}.`)) continue;
      const suffix = e.name.slice(name.length);
      const kind = SIDECAR_KINDS.find(([s]) => s === suffix)?.[1];
      if (kind) out.push({ kind, location: e.name, type: suffix });
      else if (isSidecarOf(name, e.name))
        out.push({ kind: 'signed statement', location: e.name, type: suffix });
    }
  }
  const rank = (k: StoredStatement['kind']) =>
    ['record', 'sbom', 'signed statement', 'audit', 'other'].indexOf(k);
  return out.sort(
    (a, b) => rank(a.kind) - rank(b.kind) || (a.location < b.location ? -1 : a.location > b.location ? 1 : 0),
  );
}

/** A stored document, as stored: its bytes and where they were read. */
export interface StoredDocument {
  bytes: Buffer;
  location: string;
}

/** The release record stored with the artifact, its bytes as stored; undefined when there is none. */
export async function loadStoredRecord(artifact: Artifact): Promise<StoredDocument | undefined> {
  const repository = registryOf(artifact);
  if (repository) return findReferrer(artifact, repository, ARTIFACT_TYPE.record);
  if (usesLayout(artifact)) return findAttached(artifact, ARTIFACT_TYPE.record);
  const path = sidecarPath(artifact.path);
  const bytes = await readRegularFileIfPresent(path, { code: 'MALFORMED' });
  return bytes ? { bytes, location: path } : undefined;
}

/**
 * The SBOM stored with the artifact, as stored: the one its record names when there is a record
 * (the SBOM the record pins), else an SBOM attachment or referrer (CycloneDX before SPDX), else the
 * sidecar `NAME.cdx.json` or `NAME.spdx.json`. Undefined when nothing is stored.
 */
export async function loadStoredSbom(
  artifact: Artifact,
): Promise<(StoredDocument & { format: SbomFormat; pinned?: string }) | undefined> {
  const loaded = await loadRecord(artifact);
  const manifest = loaded?.record.predicate.manifest;
  if (manifest) {
    const bytes = await loadSbom(artifact, manifest.location);
    if (bytes)
      return { bytes, location: manifest.location, format: manifest.format, pinned: manifest.digest.sha256 };
  }
  const repository = registryOf(artifact);
  for (const format of ['cyclonedx-json', 'spdx-json'] as const) {
    if (repository) {
      const referrer = await findReferrer(artifact, repository, SBOM_MEDIA[format]);
      if (referrer) return { ...referrer, format };
    } else if (usesLayout(artifact)) {
      const attached = await findAttached(artifact, SBOM_MEDIA[format]);
      if (attached) return { ...attached, format };
    } else {
      const [home, name] = sidecarHome(artifact.path, SBOM_SUFFIX[format]);
      const bytes = await readRegularFileIfPresent(join(home, name), { code: 'MALFORMED' });
      if (bytes) return { bytes, location: name, format };
    }
  }
  return undefined;
}
