/**
 * `check`: gather what the policy rules need — the artifact's native facts, its release record, the
 * SBOM the record points at — check that every byte of them is what the record and descriptors
 * name (app/integrity.ts), and run the seven rules. Pure orchestration; the rules live in policy/.
 */

import { describeError } from '../errors.ts';
import { runCheck } from '../policy/check.ts';
import type { CheckReport, Policy, SbomOutcome } from '../policy/types.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { componentCount, readSbom } from '../sbom/read.ts';
import { openArtifact } from '../sources/open.ts';
import type { Artifact, IntegrityOptions } from '../sources/types.ts';
import { sha256Digest } from '../util/digest.ts';
import { type RecordedSbom, readBoundFacts, requireIntact } from './integrity.ts';
import { nativeFactsOf } from './native-facts.ts';

export interface CheckOptions {
  policy: Policy;
  platform?: string;
  now?: Date;
  published?: boolean;
  /** `docker://` references: transport and credentials. */
  registry?: RegistryOptions;
  /** How blobs are hashed: progress, and blobs a walk in this process already verified (`stamp`). */
  integrity?: IntegrityOptions;
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
    return outcome;
  } catch (e) {
    return { error: describeError(e) };
  }
}

/**
 * Runs the rules on an opened artifact, after checking the integrity of every byte they rely on:
 * a changed blob, file, tree or SBOM is DIGEST_MISMATCH (exit 2), never a rule verdict.
 */
export async function checkOpenedArtifact(artifact: Artifact, options: CheckOptions): Promise<CheckReport> {
  const { loaded, sbom, integrity } = await readBoundFacts(artifact, options.integrity);
  requireIntact(integrity);
  const record = loaded?.record;
  return runCheck({
    artifact: artifact.ref,
    digest: artifact.digest,
    facts: await nativeFactsOf(artifact),
    record,
    sbom: sbomOutcome(sbom),
    now: options.now ?? new Date(),
    published: options.published,
    policy: options.policy,
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
