/**
 * Integrity of everything a reading command relies on, before it shows or judges anything:
 * - the artifact's own bytes: every image blob against its descriptor (sources/integrity.ts); a file
 *   or tree is hashed when opened, and its digest compared here with the record's subject;
 * - the record's binding: its subject must name the artifact's digest;
 * - the SBOM the record names: its bytes against the record's `manifest.digest` (and, for an OCI
 *   attachment, its blob against the attachment's descriptor, checked as it is read).
 *
 * `check` and `inspect` stop on the first failure (`requireIntact`: DIGEST_MISMATCH, exit 2);
 * `verify` reports every check in its integrity verdict (exit 1).
 */
import { dirname, join } from 'node:path';
import { describeError } from '../errors.ts';
import type { ReleaseRecord } from '../record/types.ts';
import { mismatchCheck } from '../sources/integrity.ts';
import { type Artifact, type IntegrityCheck, type IntegrityOptions, isSingleFile } from '../sources/types.ts';
import {
  type DigestFacts,
  DigestMismatchError,
  describeMismatch,
  isDigestMismatch,
  sha256Digest,
} from '../util/digest.ts';
import { type LoadedRecord, loadRecord, loadSbom } from './attachments.ts';

export interface IntegrityReport {
  passed: boolean;
  checks: IntegrityCheck[];
}

/** The SBOM a record names, as found at its location. */
export type RecordedSbom =
  | { location: string; bytes: Buffer }
  /** Not there, or unreadable for another reason: the manifest rule reports it. */
  | { location: string; error: string }
  /** Its stored blob does not match the descriptor it was read by (an attached SBOM changed). */
  | { location: string; broken: IntegrityCheck };

/**
 * The release record, with a changed attachment blob (the record's, or an attachment manifest read
 * to find it) reported as a failed check instead of thrown.
 */
async function loadCheckedRecord(
  artifact: Artifact,
): Promise<{ loaded?: LoadedRecord; broken?: IntegrityCheck }> {
  try {
    const loaded = await loadRecord(artifact);
    return loaded ? { loaded } : {};
  } catch (e) {
    if (isDigestMismatch(e)) return { broken: mismatchCheck('release record attachment', e) };
    throw e;
  }
}

/** Reads the SBOM `record` names; a changed attachment blob is `broken`, never a plain read error. */
export async function readRecordedSbom(
  artifact: Artifact,
  record: ReleaseRecord | undefined,
): Promise<RecordedSbom | undefined> {
  const location = record?.predicate.manifest?.location;
  if (location === undefined) return undefined;
  try {
    const bytes = await loadSbom(artifact, location);
    return bytes ? { location, bytes } : { location, error: `no SBOM found at ${location}` };
  } catch (e) {
    if (isDigestMismatch(e)) return { location, broken: mismatchCheck(`SBOM (${location})`, e) };
    return { location, error: describeError(e) };
  }
}

/** What the record's subject names, in words: the thing whose digest the artifact digest is. */
function subjectWhat(artifact: Artifact): string {
  if (isSingleFile(artifact.kind)) return 'file';
  if (artifact.kind === 'dir') return 'directory tree (canonical tree digest)';
  if (artifact.kind === 'docker-archive') return 'image config (the image ID)';
  return artifact.image?.selected ? 'image manifest' : 'image index';
}

function compare(what: string, name: string, facts: DigestFacts, whose: string): IntegrityCheck {
  const passed =
    facts.actual === facts.expected &&
    (facts.expectedSize === undefined || facts.actualSize === facts.expectedSize);
  return {
    what,
    name,
    expected: facts.expected,
    ...(facts.expectedSize !== undefined ? { expectedSize: facts.expectedSize } : {}),
    ...(facts.actual !== undefined ? { actual: facts.actual } : {}),
    ...(facts.actualSize !== undefined ? { actualSize: facts.actualSize } : {}),
    passed,
    ...(passed ? {} : { problem: `${describeMismatch(facts)} (${whose})` }),
    checkedBy: 'hash',
  };
}

/** The artifact digest (hashed when it was opened) against the record's subject. */
function subjectCheck(artifact: Artifact, record: ReleaseRecord): IntegrityCheck {
  const named = record.subject.map((s) => `sha256:${s.digest?.sha256 ?? ''}`);
  const expected = named.includes(artifact.digest) ? artifact.digest : (named[0] ?? 'none');
  return compare(
    subjectWhat(artifact),
    artifact.path,
    { expected, actual: artifact.digest },
    "the release record's subject",
  );
}

/** Where an SBOM was read, for people: the sidecar's path, or the layout and attachment. */
function sbomName(artifact: Artifact, location: string): string {
  if (artifact.release) return artifact.release.locate(location);
  return location.startsWith('oci:')
    ? `${artifact.path} (${location})`
    : join(dirname(artifact.path), location);
}

function sbomCheck(
  artifact: Artifact,
  record: ReleaseRecord,
  sbom: RecordedSbom,
): IntegrityCheck | undefined {
  if ('broken' in sbom) return sbom.broken;
  if (!('bytes' in sbom)) return undefined;
  const pinned = record.predicate.manifest?.digest?.sha256;
  // A record without a well-formed SBOM digest is the manifest rule's finding, not a mismatch.
  if (typeof pinned !== 'string' || !/^[0-9a-f]{64}$/.test(pinned)) return undefined;
  return compare(
    'SBOM',
    sbomName(artifact, sbom.location),
    { expected: `sha256:${pinned}`, actual: sha256Digest(sbom.bytes), actualSize: sbom.bytes.length },
    "the release record's manifest.digest",
  );
}

/**
 * Every integrity check for an opened artifact with its record and SBOM: image blobs (hashed now,
 * or verified earlier by a walk, `options.verified`), the record's subject, the SBOM's digest.
 */
export async function checkIntegrity(
  artifact: Artifact,
  record: ReleaseRecord | undefined,
  sbom: RecordedSbom | undefined,
  options: IntegrityOptions = {},
): Promise<IntegrityReport> {
  const checks: IntegrityCheck[] = artifact.verifyBlobs ? await artifact.verifyBlobs(options) : [];
  if (record) checks.push(subjectCheck(artifact, record));
  const sbomResult = record && sbom ? sbomCheck(artifact, record, sbom) : undefined;
  if (sbomResult) checks.push(sbomResult);
  return { passed: checks.every((c) => c.passed), checks };
}

/**
 * Throws DIGEST_MISMATCH for the first failed check, naming the blob or file, what it is, and the
 * expected and actual digests (and how many other checks failed).
 */
export function requireIntact(report: IntegrityReport): void {
  const failures = report.checks.filter((c) => !c.passed);
  const first = failures[0];
  if (!first) return;
  const more = failures.length > 1 ? `; ${failures.length - 1} more failed (waybill verify lists them)` : '';
  throw new DigestMismatchError(
    first.name,
    {
      expected: first.expected,
      ...(first.actual !== undefined ? { actual: first.actual } : {}),
      ...(first.expectedSize !== undefined ? { expectedSize: first.expectedSize } : {}),
      ...(first.actualSize !== undefined ? { actualSize: first.actualSize } : {}),
    },
    { reason: `${first.problem ?? 'does not match'}${more}`, what: first.what },
  );
}

/** What a reading command relies on besides the artifact itself, and the integrity of all of it. */
export interface BoundFacts {
  loaded?: LoadedRecord;
  /** Set when the record is attached and its blob (or its attachment manifest) does not match. */
  brokenRecord?: IntegrityCheck;
  sbom?: RecordedSbom;
  integrity: IntegrityReport;
}

/**
 * Loads the record and the SBOM it names, and checks the integrity of them and of the artifact
 * (nothing thrown for a mismatch: `requireIntact` for the commands that stop on one).
 */
export async function readBoundFacts(
  artifact: Artifact,
  options: IntegrityOptions = {},
): Promise<BoundFacts> {
  const { loaded, broken } = await loadCheckedRecord(artifact);
  const sbom = await readRecordedSbom(artifact, loaded?.record);
  const integrity = await checkIntegrity(artifact, loaded?.record, sbom, options);
  if (broken) {
    integrity.checks.unshift(broken);
    integrity.passed = false;
  }
  return {
    ...(loaded ? { loaded } : {}),
    ...(broken ? { brokenRecord: broken } : {}),
    ...(sbom ? { sbom } : {}),
    integrity,
  };
}

/**
 * The layer blobs of `artifact` known intact in this process, so `stamp`'s closing check does not
 * hash them twice: after a successful walk (`walked`), every layer it read — the walk checks each
 * layer's digest, size and diff_id; otherwise (an SBOM given, nothing walked) every blob is hashed
 * now, before anything is written, and a mismatch throws.
 */
export async function intactLayers(
  artifact: Artifact,
  walked: boolean,
  options: IntegrityOptions = {},
): Promise<Set<string>> {
  const image = artifact.image;
  if (!image) return new Set();
  if (walked) {
    const platforms = image.selected ? [image.selected] : image.platforms;
    return new Set(platforms.flatMap((p) => p.manifest.layers.map((l) => l.digest)));
  }
  const checks = artifact.verifyBlobs ? await artifact.verifyBlobs(options) : [];
  requireIntact({ passed: checks.every((c) => c.passed), checks });
  return new Set(checks.map((c) => c.expected));
}
