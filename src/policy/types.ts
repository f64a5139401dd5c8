/**
 * The policy engine's contract: what `check` takes in and what it reports. Every rule is a pure
 * function of this input; nothing here touches the disk or the network (the caller loads the record
 * and the SBOM and passes the outcome).
 */

import type { NativeFacts } from '../formats/facts.ts';
import type { ConsumerTrust, SourceVerification } from '../provenance/source-evidence.ts';
import type { ReleaseRecord } from '../record/types.ts';
import type { CommunityMatcher } from './community-wording.ts';

export type RuleId = 'identity' | 'manifest' | 'dates' | 'signed-source' | 'team' | 'help' | 'support';
export type Level = 'fail' | 'warn' | 'off';

export interface Policy {
  levels: Partial<Record<RuleId, Level>>;
  /** SPDX license identifiers (or LicenseRef-…) the release may be licensed under. */
  allowedLicenses: string[];
  /** Phrases in the community-wording model (see community-wording.ts for the phrase syntax). */
  communityPhrases?: { add?: string[]; replace?: string[] };
  /**
   * Release records must carry a signature that verifies with the consumer's keys
   * (`NAME.record.sigstore.json` or an attached bundle): the signed-source rule fails an unsigned
   * record (docs/policy.md).
   */
  requireSignatures?: boolean;
  /**
   * Whom the consumer trusts to sign release tags (policy/trust.ts). Not read by the rules: the
   * caller verifies the record's source evidence with it and passes the verdict (CheckInput.source).
   */
  trust?: ConsumerTrust;
  /**
   * Where this policy came from, for the report: a file path, or `built-in defaults`. A consumer's
   * policy is the consumer's own (see consumer-policy.ts); the report says which one judged.
   */
  source?: string;
}

/** The `source` of a policy that no file changed. */
export const BUILT_IN_POLICY = 'built-in defaults';

export interface Finding {
  message: string;
  /** Where the rule looked, e.g. `record:/predicate/help/bugTracker` or `OCI annotation org.opencontainers.image.vendor`. */
  path: string;
  fix?: string;
  severity: 'error' | 'warning' | 'info';
}

export type RuleStatus = 'pass' | 'fail' | 'warn' | 'off';

export interface RuleResult {
  id: RuleId;
  title: string;
  guideline: number;
  /** The level the policy set for this rule (`off`: not run). */
  level: Level;
  status: RuleStatus;
  findings: Finding[];
}

export interface CheckReport {
  artifact: string;
  digest: string;
  passed: boolean;
  /** Which policy judged: the file it came from, or `built-in defaults`. */
  policy: { source: string };
  rules: RuleResult[];
}

/** The SBOM the record points at, as loaded by the caller: what it is, or why it could not be read. */
export type SbomOutcome =
  | {
      format: 'cyclonedx-json' | 'spdx-json';
      digestSha256: string;
      components: number;
      /** The purl of the package the SBOM describes, when it names one (a .deb, .rpm, wheel…). */
      subjectPurl?: string;
      /** The licenses the SBOM declares for that package (its copyright file, POM, metadata). */
      subjectLicenses?: string[];
    }
  | { error: string };

export interface CheckInput {
  /** The artifact reference as the user gave it (a path, `docker://…`, `oci:dir:tag`). */
  artifact: string;
  /** The artifact digest, `sha256:<hex>` (a bare hex digest is accepted). */
  digest: string;
  facts: NativeFacts;
  record: ReleaseRecord | undefined;
  /**
   * The publication statement stored with the artifact (written by `publish`): the publish date
   * when the record has none (see publication-date.ts).
   */
  publication?: PublicationFact;
  /** Absent when the record names no SBOM or the caller did not look for one. */
  sbom?: SbomOutcome;
  now: Date;
  /** True when the artifact is (being) published, so a publication date is required. */
  published?: boolean;
  /**
   * When there is no record but the artifact shows it once had one (an image carrying waybill's
   * record mark): where it probably went and how to bring it back. Becomes the fix of the
   * "no release record" findings.
   */
  missingRecord?: string;
  policy: Policy;
  /**
   * The consumer's own verification of the record's source evidence (provenance/source-evidence.ts),
   * made by the caller with the consumer's trust. Absent: nobody verified it, and signed-source fails.
   */
  source?: SourceVerification;
  /** Whether the record is signed and whether that signature verified (app/record-signature.ts). */
  recordSignature?: RecordSignatureStatus;
}

/**
 * The record's own signature, as the caller found it:
 * - `unsigned`: no bundle of the record was found;
 * - `verified`: a bundle's signature verified with a key the consumer gave and it signs this record;
 * - `failed`: a bundle was found and its signature or content does not check out (`detail` says why);
 * - `unchecked`: signed, but no key was given to verify it with.
 */
export interface RecordSignatureStatus {
  state: 'unsigned' | 'verified' | 'failed' | 'unchecked';
  /** One line: which bundle, which key, or why it failed. */
  detail: string;
}

/** A publication: when and where the artifact was published, and where that statement was read. */
export interface PublicationFact {
  /** RFC 3339 in UTC. */
  published: string;
  target: string;
  location: string;
}

/** What each rule function gets: the check input with the phrase model already compiled. */
export interface RuleContext extends CheckInput {
  communityMatcher: CommunityMatcher;
  /** Set when `record.predicate.dates.published` was taken from this publication statement. */
  publishedBy?: PublicationFact;
}

/** A rule reports findings only; its status follows from their severities and the policy level. */
export type RuleFn = (ctx: RuleContext) => Finding[];

export interface RuleInfo {
  id: RuleId;
  guideline: number;
  title: string;
  /** One sentence for SARIF shortDescription and `--help`. */
  summary: string;
}

/** The seven rules in guideline order; reports always list all of them in this order. */
export const RULES: readonly RuleInfo[] = [
  {
    id: 'identity',
    guideline: 1,
    title: 'Identity',
    summary: 'The release names itself (name, version, architecture) and its own metadata agrees.',
  },
  {
    id: 'manifest',
    guideline: 2,
    title: 'Manifest',
    summary: 'The release carries a software bill of materials whose digest the record pins.',
  },
  {
    id: 'dates',
    guideline: 3,
    title: 'Dates',
    summary: 'Build and publication dates are recorded as RFC 3339 and are consistent.',
  },
  {
    id: 'signed-source',
    guideline: 4,
    title: 'Signed source',
    summary: 'The release was built from a signed tag of a named source repository.',
  },
  {
    id: 'team',
    guideline: 5,
    title: 'Team',
    summary: 'The producing team names itself, and nothing claims the whole community produced it.',
  },
  {
    id: 'help',
    guideline: 6,
    title: 'Help',
    summary: 'Users can find where to report bugs (and read documentation) at https URLs.',
  },
  {
    id: 'support',
    guideline: 7,
    title: 'Support',
    summary: 'License, warranty disclaimer and support statement are present and speak only for the team.',
  },
] as const;

export const RULE_IDS: readonly RuleId[] = RULES.map((r) => r.id);

export const LEVELS: readonly Level[] = ['fail', 'warn', 'off'];

export const DEFAULT_ALLOWED_LICENSES: readonly string[] = ['Apache-2.0'];

export const POLICY_DOCS_URI = 'https://waybill.dev/docs/policy';

export function ruleHelpUri(id: RuleId): string {
  return `${POLICY_DOCS_URI}#${id}`;
}

export function defaultPolicy(): Policy {
  return { levels: {}, allowedLicenses: [...DEFAULT_ALLOWED_LICENSES] };
}
