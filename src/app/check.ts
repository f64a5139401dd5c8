/**
 * `check`: gather what the policy rules need — the artifact's native facts, its release record, the
 * SBOM the record points at — and run the seven rules. Pure orchestration; the rules live in policy/.
 */

import { describeError } from '../errors.ts';
import { runCheck } from '../policy/check.ts';
import type { CheckReport, Policy, SbomOutcome } from '../policy/types.ts';
import type { ReleaseRecord } from '../record/types.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { componentCount, readSbom } from '../sbom/read.ts';
import { openArtifact } from '../sources/open.ts';
import type { Artifact, OpenOptions } from '../sources/types.ts';
import { sha256Digest } from '../util/digest.ts';
import { loadRecord, loadSbom } from './attachments.ts';
import { nativeFactsOf } from './native-facts.ts';

export interface CheckOptions {
  policy: Policy;
  platform?: string;
  now?: Date;
  published?: boolean;
  /** `docker://` references: transport and credentials. */
  registry?: RegistryOptions;
  /** Release URLs: download progress of the file. */
  onDownload?: OpenOptions['onDownload'];
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
  const record = loaded?.record;
  return runCheck({
    artifact: artifact.ref,
    digest: artifact.digest,
    facts: await nativeFactsOf(artifact),
    record,
    sbom: await sbomOutcome(artifact, record),
    now: options.now ?? new Date(),
    published: options.published,
    policy: options.policy,
  });
}

export async function checkArtifact(ref: string, options: CheckOptions): Promise<CheckReport> {
  const artifact = await openArtifact(ref, {
    platform: options.platform,
    registry: options.registry,
    onDownload: options.onDownload,
  });
  return checkOpenedArtifact(artifact, options);
}
