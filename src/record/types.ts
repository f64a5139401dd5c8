/**
 * The release record: an in-toto Statement v1 whose subject is the artifact digest and whose
 * predicate carries the seven guideline facts. A missing fact is `null`, never omitted, so that a
 * record says explicitly what the release team did not provide.
 *
 * waybill writes v2 (`schemas/release-record-v2.schema.json`), whose `source` carries the evidence
 * itself — the raw tag and commit objects — so a consumer re-verifies the tag signature with their
 * own trust instead of believing `signature.verified`. v1 records (no evidence) are still read; their
 * source verdict is a claim nobody can re-check. Fields are documented in docs/record.md.
 */

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** The predicate type waybill writes. */
export const PREDICATE_TYPE = 'https://waybill.dev/release-record/v2';
/** The first version: read, never written. Its `source` has no evidence. */
export const PREDICATE_TYPE_V1 = 'https://waybill.dev/release-record/v1';
/** Every predicate type `parseRecord` accepts. */
export const RECORD_PREDICATE_TYPES = [PREDICATE_TYPE, PREDICATE_TYPE_V1] as const;
export type RecordPredicateType = (typeof RECORD_PREDICATE_TYPES)[number];

export interface ResourceDescriptor {
  name: string;
  digest: { sha256: string };
  mediaType?: string;
}

export interface SignatureVerdict {
  /** True only when the tag's signature verified AND the signer is trusted by the policy. */
  verified: boolean;
  /** `openpgp`, `ssh`, or null when the tag carries no signature. */
  format: 'openpgp' | 'ssh' | 'x509' | null;
  /** Signer identity: OpenPGP primary key fingerprint (and user id), or the SSH principal and key fingerprint. */
  signer: string | null;
  /** One line: why it is (not) verified. */
  reason: string;
}

/**
 * The git objects themselves, as git stores them (the bytes `git cat-file <type> <id>` prints),
 * base64-encoded because a tag message or a committer name need not be UTF-8. With them a consumer
 * checks offline that the tag object hashes to `tagObject`, names `tag` and `commit`, carries a
 * signature that verifies with the consumer's keys, and that the commit hashes to `commit` and names
 * `tree`. The hash algorithm follows from the id length: 40 hex SHA-1, 64 hex SHA-256.
 */
export interface SourceEvidence {
  /** The annotated tag object, signature included; null for a lightweight tag or no tag. */
  rawTag: string | null;
  /** The tagged commit object; null when there is no commit (an unborn HEAD). */
  rawCommit: string | null;
}

export interface SourceFact {
  /** The producer's claim: a tag object cannot prove where the repository lives. */
  repository: string | null;
  tag: string | null;
  /** Full commit id the tag points at. */
  commit: string | null;
  /** v2: the tree id of that commit (read from the commit object, so the evidence checks it). */
  tree?: string | null;
  /** The tag object's id, so a moved tag can be detected later. */
  tagObject: string | null;
  /** The producer's verdict when it stamped: a claim, re-verified by consumers from `evidence`. */
  signature: SignatureVerdict;
  /** v2: the raw objects the claims above can be checked against. Absent in v1 records. */
  evidence?: SourceEvidence;
}

/**
 * One field of the artifact's own metadata that `stamp` replaced, with the value it had before: the
 * upstream trail of a re-released package (`deb Maintainer` → the Debian maintainer).
 */
export interface UpstreamField {
  /** Where, as NativeFacts name fields: `deb Maintainer`, `deb Homepage`. */
  field: string;
  value: string;
}

/** Set on a manifest published with `stamp --force-sbom` although its subject is not this artifact. */
export interface ForcedManifest {
  /** The one line `stamp` would have refused with: what the SBOM describes, and what the artifact is. */
  reason: string;
}

export interface ReleasePredicate {
  identity: {
    name: string | null;
    version: string | null;
    /** Architectures in the artifact's own vocabulary (amd64, x86_64, noarch…); several for multi-platform images. */
    architectures: string[];
    /** For images: `os/arch[/variant]` of each platform. */
    platforms?: string[];
  };
  manifest: {
    format: 'cyclonedx-json' | 'spdx-json';
    digest: { sha256: string };
    /** Where the SBOM is stored: a file name next to the artifact, or `oci:sha256:<manifest digest>`. */
    location: string;
    /** Present only when the SBOM's subject did not match and `--force-sbom` published it anyway. */
    forced?: ForcedManifest;
  } | null;
  dates: {
    /** RFC 3339, UTC. */
    built: string | null;
    published: string | null;
  };
  source: SourceFact | null;
  team: { name: string | null; contact: string | null };
  help: { bugTracker: string | null; docs: string | null };
  support: {
    /** SPDX license expression. */
    license: string | null;
    disclaimer: string | null;
    statement: string | null;
  };
  /** Present only when stamp replaced fields of the artifact's own metadata; sorted by field. */
  upstream?: UpstreamField[];
  generator: { name: 'waybill'; version: string };
}

export interface ReleaseRecord {
  _type: typeof STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: RecordPredicateType;
  predicate: ReleasePredicate;
}
