/**
 * The release record: an in-toto Statement v1 whose subject is the artifact digest and whose
 * predicate carries the seven guideline facts. A missing fact is `null`, never omitted, so that a
 * record says explicitly what the release team did not provide.
 * The JSON Schema is `schemas/release-record-v1.schema.json`; fields are documented in docs/record.md.
 */

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://waybill.dev/release-record/v1';

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

export interface SourceFact {
  repository: string | null;
  tag: string | null;
  /** Full commit id the tag points at. */
  commit: string | null;
  /** The tag object's id, so a moved tag can be detected later. */
  tagObject: string | null;
  signature: SignatureVerdict;
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
  predicateType: typeof PREDICATE_TYPE;
  predicate: ReleasePredicate;
}
