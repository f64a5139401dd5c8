/**
 * Does an SBOM handed to `stamp --sbom` describe this artifact? A record pins the SBOM it names by
 * digest, so a wrong file given by mistake (last release's SBOM, another package's) would be
 * published as this artifact's manifest with every check passing. The SBOM's subject — CycloneDX
 * `metadata.component`, SPDX `documentDescribes` — is compared with the artifact:
 *
 * - by digest when the subject carries a SHA-256 (CycloneDX `hashes`, SPDX `checksums`, trivy's
 *   image id properties, or a `sha256:…` version, which syft writes for files and images): it must
 *   be one of the artifact's
 *   digests, before or after stamping, or an image's manifest, index or config digest;
 * - otherwise by name and version: the subject's name (or its purl's name, or the last component of
 *   a path or image reference it is spelled as) must be one of the artifact's names — its own, the
 *   record's, its file name — and its version, when it gives one, the artifact's version.
 *
 * A document that names no subject cannot be matched and is refused too; `--force-sbom` publishes
 * any of them anyway, and the record says so (manifest.forced).
 */
import { basename } from 'node:path';
import { PackageURL } from 'packageurl-js';
import { parseImageReference } from '../formats/image/image-reference.ts';
import { sameName, sameVersion } from '../policy/identity-names.ts';
import type { ReadSbom, SbomSubjectRef } from '../sbom/read.ts';
import type { Artifact } from '../sources/types.ts';

/** What the artifact is, for the comparison: every digest and name it goes by. */
export interface SbomTarget {
  /** Lowercase hex SHA-256 digests (without `sha256:`). */
  digests: string[];
  names: string[];
  versions: string[];
  /** The native format, for how names compare (PEP 503 for Python). */
  format: string;
  /** How the artifact is shown in the refusal: `hello 2.10-3 (sha256:2e6e2f1a0007…)`. */
  label: string;
}

/** `sha256:<hex>`; syft writes file versions as `sha256:sha256:<hex>`, so repeats are accepted. */
const SHA256 = /^(?:sha256:)+([0-9a-f]{64})$/;

function hexOf(digest: string): string | undefined {
  return SHA256.exec(digest.trim().toLowerCase())?.[1];
}

/** The digests an artifact goes by: its own, and for images each manifest's, the index's, each config's. */
export function artifactDigests(artifact: Artifact): string[] {
  const all = [artifact.digest];
  const image = artifact.image;
  if (image) {
    if (image.index) all.push(image.index.digest);
    for (const p of image.platforms) all.push(p.descriptor.digest, p.configDigest);
  }
  return [...new Set(all.map(hexOf).filter((d): d is string => d !== undefined))];
}

export function sbomTarget(
  artifacts: Artifact[],
  identity: { name: string | null; version: string | null },
  format: string,
): SbomTarget {
  const digests = [...new Set(artifacts.flatMap(artifactDigests))];
  const names = [identity.name, ...artifacts.map((a) => basename(a.path))].filter(
    (n): n is string => typeof n === 'string' && n !== '',
  );
  const versions = identity.version ? [identity.version] : [];
  const shown =
    [identity.name, identity.version].filter(Boolean).join(' ') || basename(artifacts[0]?.path ?? '');
  const label = `${shown} (sha256:${(digests[0] ?? '').slice(0, 12)}…)`;
  return { digests, names: [...new Set(names)], versions, format, label };
}

/** The names a subject may be spelled as: its name, a path's last component, an image reference's, its purl's. */
function subjectNames(s: SbomSubjectRef): string[] {
  const out: string[] = [];
  for (const raw of [s.name, purlParts(s.purl)?.name]) {
    if (!raw) continue;
    out.push(raw, basename(raw));
    const ref = parseImageReference(raw);
    if (ref) out.push(ref.name, ref.repository);
  }
  return out;
}

function purlParts(purl: string | undefined): { name: string; version?: string } | undefined {
  if (!purl) return undefined;
  try {
    const p = PackageURL.fromString(purl);
    return p.version ? { name: p.name, version: p.version } : { name: p.name };
  } catch {
    return undefined;
  }
}

function describeSubject(s: SbomSubjectRef): string {
  const parts = [s.name ?? purlParts(s.purl)?.name ?? '(no name)', s.version].filter(Boolean).join(' ');
  return `${parts}${s.sha256[0] ? ` (sha256:${s.sha256[0].slice(0, 12)}…)` : ''}, ${s.where}`;
}

/** Why `s` is not the target, or undefined when it is. */
function subjectProblem(s: SbomSubjectRef, target: SbomTarget): string | undefined {
  const versionDigest = s.version ? hexOf(s.version) : undefined;
  const digests = [...s.sha256, ...(versionDigest ? [versionDigest] : [])];
  if (digests.length > 0)
    return digests.some((d) => target.digests.includes(d)) ? undefined : 'other bytes (digest)';
  const names = subjectNames(s);
  if (names.length === 0) return 'nothing named (no name, purl or hash)';
  if (!names.some((n) => target.names.some((t) => sameName(n, t, target.format)))) return 'another name';
  const version = s.version ?? purlParts(s.purl)?.version;
  if (version && target.versions.length > 0 && !target.versions.some((v) => sameVersion(v, version)))
    return 'another version';
  return undefined;
}

/**
 * One line saying why the SBOM does not describe the target, or undefined when one of its subjects
 * does. The line is what `stamp` refuses with and what `manifest.forced.reason` records.
 */
export function sbomSubjectMismatch(sbom: ReadSbom, target: SbomTarget): string | undefined {
  if (sbom.subjects.length === 0) {
    const where = sbom.format === 'cyclonedx-json' ? 'no metadata.component' : 'no documentDescribes';
    return `the SBOM names no subject (${where}), so nothing shows it describes ${target.label}`;
  }
  const problems = sbom.subjects.map((s) => subjectProblem(s, target));
  if (problems.some((p) => p === undefined)) return undefined;
  const first = sbom.subjects[0] as SbomSubjectRef;
  return `the SBOM describes ${describeSubject(first)}, not this artifact, ${target.label}: ${problems[0]}`;
}
