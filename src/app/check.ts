/**
 * `check`: gather what the policy rules need — the artifact's native facts, its release record, the
 * SBOM the record points at, the consumer's own verification of the record's source evidence and of
 * the record's signature — and run the seven rules. Pure orchestration; the rules live in policy/.
 */

import { describeError } from '../errors.ts';
import { runCheck } from '../policy/check.ts';
import type { CheckReport, Policy, RecordSignatureStatus, SbomOutcome } from '../policy/types.ts';
import {
  type ConsumerTrust,
  type SourceVerification,
  verifySourceEvidence,
} from '../provenance/source-evidence.ts';
import type { ReleaseRecord } from '../record/types.ts';
import { componentCount, readSbom } from '../sbom/read.ts';
import type { TrustedKey } from '../sign/verify-signature.ts';
import { openArtifact } from '../sources/open.ts';
import type { Artifact } from '../sources/types.ts';
import { sha256Digest } from '../util/digest.ts';
import { loadRecord, loadSbom } from './attachments.ts';
import { nativeFactsOf } from './native-facts.ts';
import { recordSignatureStatus } from './record-signature.ts';

export interface CheckOptions {
  policy: Policy;
  platform?: string;
  now?: Date;
  published?: boolean;
  /** Whom the consumer trusts to sign release tags; default the policy's `trust`. */
  trust?: ConsumerTrust;
  /** Public keys the consumer trusts for the record's own signature (`--key PUB`). */
  keys?: TrustedKey[];
  /** A verification of the source evidence already made (stamp's own, verify's); skips re-running it. */
  sourceVerification?: SourceVerification;
  /** The record signature's status already found (verify judges record bundles itself). */
  recordSignature?: RecordSignatureStatus;
}

/** Loads the SBOM a record names and says what it is, or why it could not be used. */
export async function sbomOutcome(
  artifact: Artifact,
  record: ReleaseRecord | undefined,
): Promise<SbomOutcome | undefined> {
  const manifest = record?.predicate.manifest;
  if (!manifest) return undefined;
  try {
    const bytes = await loadSbom(artifact, manifest.location);
    if (!bytes) return { error: `no SBOM found at ${manifest.location}` };
    const parsed = readSbom(bytes, manifest.location);
    const outcome: SbomOutcome = {
      format: parsed.format,
      digestSha256: sha256Digest(bytes).slice('sha256:'.length),
      components: componentCount(parsed),
    };
    if (parsed.subject?.purl) outcome.subjectPurl = parsed.subject.purl;
    return outcome;
  } catch (e) {
    return { error: describeError(e) };
  }
}

export async function checkOpenedArtifact(artifact: Artifact, options: CheckOptions): Promise<CheckReport> {
  const loaded = await loadRecord(artifact);
  return checkLoadedRecord(artifact, loaded, await sbomOutcome(artifact, loaded?.record), options);
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
  return runCheck({
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
  });
}

export async function checkArtifact(ref: string, options: CheckOptions): Promise<CheckReport> {
  return checkOpenedArtifact(await openArtifact(ref, { platform: options.platform }), options);
}
