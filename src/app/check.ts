/**
 * `check`: gather what the policy rules need — the artifact's native facts, its release record, the
 * SBOM the record points at — check that every byte of them is what the record and descriptors
 * name (app/integrity.ts), verify the record's source evidence and the record's signature with the
 * consumer's trust, and run the seven rules. Pure orchestration; the rules live in policy/.
 */

import { basename } from 'node:path';
import { describeError } from '../errors.ts';
import { WAYBILL_RECORD_ANNOTATION } from '../oci/types.ts';
import { runCheck } from '../policy/check.ts';
import type {
  CheckReport,
  Policy,
  PublicationFact,
  RecordSignatureStatus,
  SbomOutcome,
} from '../policy/types.ts';
import {
  type ConsumerTrust,
  type SourceVerification,
  verifySourceEvidence,
} from '../provenance/source-evidence.ts';
import type { ReleaseRecord } from '../record/types.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { componentCount, readSbom } from '../sbom/read.ts';
import type { TrustedKey } from '../sign/verify-signature.ts';
import { openArtifact } from '../sources/open.ts';
import type { Artifact, IntegrityOptions } from '../sources/types.ts';
import { sha256Digest } from '../util/digest.ts';
import { type RecordedSbom, readBoundFacts, requireIntact } from './integrity.ts';
import { nativeFactsOf } from './native-facts.ts';
import { loadPublication, publicationFact } from './publication.ts';
import { recordSignatureStatus } from './record-signature.ts';

export interface CheckOptions {
  policy: Policy;
  platform?: string;
  now?: Date;
  published?: boolean;
  /** The publication to judge the dates by (publish's own, about to be written); default: the one stored with the artifact. */
  publication?: PublicationFact;
  /** `docker://` references: transport and credentials. */
  registry?: RegistryOptions;
  /** How blobs are hashed: progress, and blobs a walk in this process already verified (`stamp`). */
  integrity?: IntegrityOptions;
  /** Whom the consumer trusts to sign release tags; default the policy's `trust`. */
  trust?: ConsumerTrust;
  /** Public keys the consumer trusts for the record's own signature (`--key PUB`). */
  keys?: TrustedKey[];
  /** A verification of the source evidence already made (stamp's own, verify's); skips re-running it. */
  sourceVerification?: SourceVerification;
  /** The record signature's status already found (verify judges record bundles itself). */
  recordSignature?: RecordSignatureStatus;
}

/** What the manifest rule needs to know about the SBOM the record names: what it is, or why it is unusable. */
export function sbomOutcome(sbom: RecordedSbom | undefined): SbomOutcome | undefined {
  if (!sbom) return undefined;
  if ('error' in sbom) return { error: sbom.error };
  if ('broken' in sbom) return { error: sbom.broken.problem ?? 'its blob does not match its digest' };
  try {
    const parsed = readSbom(sbom.bytes, sbom.location);
    const outcome: SbomOutcome = {
      format: parsed.format,
      digestSha256: sha256Digest(sbom.bytes).slice('sha256:'.length),
      components: componentCount(parsed),
    };
    if (parsed.subject?.purl) outcome.subjectPurl = parsed.subject.purl;
    if (parsed.subjectLicenses.length > 0) outcome.subjectLicenses = parsed.subjectLicenses;
    return outcome;
  } catch (e) {
    return { error: describeError(e) };
  }
}

/**
 * An image without a record that carries waybill's record mark (oci/types.ts) was stamped: its
 * record and SBOM were left behind when the image was copied. Says where they went and how to carry
 * them; undefined for anything else (never stamped, or not an image).
 */
export function missingRecordHint(artifact: Artifact): string | undefined {
  const image = artifact.image;
  if (!image) return undefined;
  const marked = image.platforms.some(
    (p) =>
      p.manifest.annotations?.[WAYBILL_RECORD_ANNOTATION] !== undefined ||
      p.config.config?.Labels?.[WAYBILL_RECORD_ANNOTATION] !== undefined,
  );
  if (!marked) return undefined;
  if (artifact.kind === 'oci' || artifact.kind === 'oci-archive')
    return `the image was stamped (${WAYBILL_RECORD_ANNOTATION}) but no record is attached to it in this layout: its attachments were probably not copied (skopeo copy copies the image only); copy image and attachments with waybill copy SRC DST`;
  if (artifact.kind === 'registry')
    return `the image was stamped (${WAYBILL_RECORD_ANNOTATION}) but the registry has no record referring to it: its attachments were probably not pushed with it (skopeo copy copies the image only); copy image and attachments with waybill copy SRC DST`;
  const name = basename(artifact.path);
  return `the image was stamped (${WAYBILL_RECORD_ANNOTATION}) but no record is beside this archive: copy its sidecars (${name}.waybill.json, ${name}.cdx.json) with it, or use waybill copy SRC DST`;
}

/**
 * Runs the rules on an opened artifact, after checking the integrity of every byte they rely on:
 * a changed blob, file, tree or SBOM is DIGEST_MISMATCH (exit 2), never a rule verdict.
 */
export async function checkOpenedArtifact(artifact: Artifact, options: CheckOptions): Promise<CheckReport> {
  const { loaded, sbom, integrity } = await readBoundFacts(artifact, options.integrity);
  requireIntact(integrity);
  return checkLoadedRecord(artifact, loaded, sbomOutcome(sbom), options);
}

/** The consumer's verification of a record's source evidence; undefined when it names no source. */
export async function verifyRecordSource(
  record: ReleaseRecord | undefined,
  trust: ConsumerTrust,
  now: Date,
): Promise<SourceVerification | undefined> {
  const source = record?.predicate.source;
  if (!record || !source) return undefined;
  return verifySourceEvidence(source, record.predicateType, trust, { now });
}

/** The rules over a record (and its SBOM outcome) the caller has already loaded. */
export async function checkLoadedRecord(
  artifact: Artifact,
  loaded: { record: ReleaseRecord; location: string } | undefined,
  sbom: SbomOutcome | undefined,
  options: CheckOptions,
): Promise<CheckReport> {
  const record = loaded?.record;
  const now = options.now ?? new Date();
  const trust = options.trust ?? options.policy.trust ?? {};
  const source = options.sourceVerification ?? (await verifyRecordSource(record, trust, now));
  const recordSignature =
    options.recordSignature ?? (await recordSignatureStatus(artifact, loaded, options.keys ?? []));
  const missingRecord = record ? undefined : missingRecordHint(artifact);
  return runCheck({
    ...(missingRecord ? { missingRecord } : {}),
    artifact: artifact.ref,
    digest: artifact.digest,
    facts: await nativeFactsOf(artifact),
    record,
    sbom,
    now,
    published: options.published,
    policy: options.policy,
    ...(source ? { source } : {}),
    ...(recordSignature ? { recordSignature } : {}),
    publication: options.publication ?? publicationFact(await loadPublication(artifact)),
  });
}

export async function checkArtifact(ref: string, options: CheckOptions): Promise<CheckReport> {
  const artifact = await openArtifact(ref, {
    platform: options.platform,
    registry: options.registry,
    // A release URL's file is hashed as it downloads: that is this command's hashing progress.
    onDownload: options.integrity?.onProgress,
  });
  return checkOpenedArtifact(artifact, options);
}
