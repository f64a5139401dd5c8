/**
 * Reading back what is stored with an artifact instead of regenerating it: `waybill sbom --stored`
 * and `waybill inspect --record`. The documents come from the artifact's side (an OCI attachment, a
 * sidecar), so they are parsed before they are handed out — a broken or foreign file is one clear
 * error, never bytes passed on blindly — and the SBOM is compared with the digest its record pins.
 */
import { WaybillError } from '../errors.ts';
import { parseRecordSidecar } from '../record/sidecar.ts';
import type { ReleaseRecord } from '../record/types.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { type ReadSbom, readSbom } from '../sbom/read.ts';
import { openArtifact } from '../sources/open.ts';
import type { Artifact } from '../sources/types.ts';
import { sha256Digest } from '../util/digest.ts';
import { loadStoredRecord, loadStoredSbom, type SbomFormat } from './attachments.ts';

export interface StoredSbom {
  bytes: Buffer;
  format: SbomFormat;
  /** Where it was read: `oci:sha256:…` or the sidecar's file name. */
  location: string;
  sbom: ReadSbom;
  /** Set when a record pins another digest: the SBOM was changed after stamping. */
  notPinned?: string;
}

export interface StoredRecord {
  bytes: Buffer;
  location: string;
  record: ReleaseRecord;
}

export async function storedSbomOf(artifact: Artifact): Promise<StoredSbom> {
  const stored = await loadStoredSbom(artifact);
  if (!stored) {
    throw new WaybillError(
      'NOT_FOUND',
      artifact.ref,
      'no SBOM is stored with it (no record naming one, no SBOM attachment or sidecar): stamp it, or leave out --stored to generate one',
    );
  }
  const sbom = readSbom(stored.bytes, stored.location);
  const out: StoredSbom = { bytes: stored.bytes, format: sbom.format, location: stored.location, sbom };
  const digest = sha256Digest(stored.bytes).slice('sha256:'.length);
  if (stored.pinned !== undefined && stored.pinned !== digest)
    out.notPinned = `the record pins sha256:${stored.pinned.slice(0, 12)}…, this is sha256:${digest.slice(0, 12)}…: it was changed after stamping`;
  return out;
}

export async function storedRecordOf(artifact: Artifact): Promise<StoredRecord> {
  const stored = await loadStoredRecord(artifact);
  if (!stored) {
    throw new WaybillError(
      'NOT_FOUND',
      artifact.ref,
      artifact.kind === 'oci' || artifact.kind === 'oci-archive'
        ? `no release record is attached to ${artifact.digest} in the layout`
        : artifact.kind === 'registry'
          ? `no release record refers to ${artifact.digest} in the registry`
          : 'no release record beside it (NAME.waybill.json)',
    );
  }
  // Decoded as every other reader of a record decodes it (strict UTF-8, a byte order mark dropped).
  return { ...stored, record: parseRecordSidecar(stored.bytes, stored.location) };
}

/** Where the artifact is: a platform of an index, and for `docker://` the registry transport. */
export interface StoredOptions {
  platform?: string;
  registry?: RegistryOptions;
}

export async function readStoredSbom(ref: string, options: StoredOptions = {}): Promise<StoredSbom> {
  return storedSbomOf(await openArtifact(ref, options));
}

export async function readStoredRecord(ref: string, options: StoredOptions = {}): Promise<StoredRecord> {
  return storedRecordOf(await openArtifact(ref, options));
}
