/**
 * `inspect`: the consumer's view of an artifact. Each fact is taken from the release record and the
 * artifact's own metadata, and carries the places it was read from, so a user can see why `check`
 * said what it said. For the source it shows the producer's verdict as what it is — a claim — and,
 * when the consumer gives trust, the consumer's own verification of the record's evidence.
 */
import type { Fact, NativeFacts } from '../formats/facts.ts';
import { hasTrust } from '../policy/trust.ts';
import { type ConsumerTrust, type SourceVerification, trustHowTo } from '../provenance/source-evidence.ts';
import type { ReleaseRecord, SignatureVerdict, UpstreamField } from '../record/types.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { openArtifact } from '../sources/open.ts';
import type { Artifact, IntegrityCheck, IntegrityOptions } from '../sources/types.ts';
import { listStored, type StoredStatement } from './attachments.ts';
import { missingRecordHint, sbomOutcome, verifyRecordSource } from './check.ts';
import { readBoundFacts, requireIntact } from './integrity.ts';
import { nativeFactsOf } from './native-facts.ts';
import { loadPublication } from './publication.ts';

export interface InspectView {
  artifact: string;
  kind: string;
  digest: string;
  name: string | null;
  version: string | null;
  /** All architectures joined with ", " (one per platform for multi-platform images). */
  architecture: string | null;
  platforms: string[];
  team: string | null;
  contact: string | null;
  help: { bugTracker: string | null; docs: string | null };
  license: string | null;
  disclaimer: string | null;
  support: string | null;
  built: string | null;
  builtAge: string | null;
  published: string | null;
  publishedAge: string | null;
  /** The publication statement the publish date came from (when the record has none), and where it was published. */
  publication: { target: string; reference: string; location: string; forced: string[] } | null;
  source: {
    /** The producer's claim: no git object names a repository. */
    repository: string | null;
    tag: string | null;
    commit: string | null;
    tree: string | null;
    /** The producer's verdict when it stamped: a claim, not evidence. */
    signature: SignatureVerdict | null;
    /** The consumer's verification of the record's evidence; null when no trust was given. */
    verification: SourceVerification | null;
    /** Why there is no verification, and how to get one. */
    unverified?: string;
  } | null;
  manifest: { format: string; location: string; components: number | null; error?: string } | null;
  record: { location: string } | null;
  /** With no record: why an image that was stamped has none here, and how to carry it (check.ts). */
  missingRecord: string | null;
  /** Every statement stored with the artifact (OCI attachments, referrers or sidecars), as `sbom --stored` and `inspect --record` read them. */
  stored: StoredStatement[];
  /** What the artifact's own metadata said before stamp replaced it (record `upstream`). */
  upstream: UpstreamField[];
  /** What was hashed before anything was shown, and against which digest (all passed). */
  integrity: IntegrityCheck[];
  /** For each fact, where its value was read: `record` and/or native fields. */
  fields: Record<string, string[]>;
}

/** "3 days ago", "in 2 hours" — coarse, for people. */
export function ageOf(iso: string | null, now: Date): string | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  const seconds = Math.round((now.getTime() - t) / 1000);
  const abs = Math.abs(seconds);
  const units: Array<[string, number]> = [
    ['year', 365 * 86400],
    ['month', 30 * 86400],
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ];
  for (const [unit, size] of units) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      const text = `${n} ${unit}${n === 1 ? '' : 's'}`;
      return seconds >= 0 ? `${text} ago` : `in ${text}`;
    }
  }
  return 'just now';
}

interface Picked {
  value: string | null;
  from: string[];
}

/** The record's value wins; the native field is listed as a source when it says the same thing. */
function pick(recordValue: string | null | undefined, recordPath: string, native: Fact | undefined): Picked {
  const from: string[] = [];
  if (recordValue) from.push(`record ${recordPath}`);
  if (native && (!recordValue || native.value === recordValue)) from.push(native.field);
  return { value: recordValue || native?.value || null, from };
}

function collect(record: ReleaseRecord | undefined, facts: NativeFacts) {
  const p = record?.predicate;
  const archRecord = p?.identity.architectures.length ? p.identity.architectures.join(', ') : null;
  const archNative = facts.architectures.length
    ? { value: facts.architectures.map((a) => a.value).join(', '), field: facts.architectures[0]!.field }
    : undefined;
  return {
    name: pick(p?.identity.name, 'identity.name', facts.name),
    version: pick(p?.identity.version, 'identity.version', facts.version),
    architecture: pick(archRecord, 'identity.architectures', archNative),
    team: pick(p?.team.name, 'team.name', facts.team),
    bugTracker: pick(p?.help.bugTracker, 'help.bugTracker', facts.bugTracker),
    docs: pick(p?.help.docs, 'help.docs', facts.docs),
    license: pick(p?.support.license, 'support.license', facts.license),
    built: pick(p?.dates.built, 'dates.built', facts.created),
    repository: pick(p?.source?.repository, 'source.repository', facts.sourceRepository),
    commit: pick(p?.source?.commit, 'source.commit', facts.revision),
  };
}

/** The consumer's verification of the source evidence, or why there is none (no trust given). */
async function sourceVerdict(
  record: ReleaseRecord | undefined,
  trust: ConsumerTrust | undefined,
  now: Date,
): Promise<{ verification: SourceVerification | null; unverified?: string }> {
  const source = record?.predicate.source;
  if (!record || !source) return { verification: null };
  if (!hasTrust(trust)) {
    const how = trustHowTo(source.signature.format);
    return { verification: null, unverified: `not checked: no trust given (${how})` };
  }
  return { verification: (await verifyRecordSource(record, trust!, now)) ?? null };
}

/**
 * The consumer's view, shown only for intact bytes: a blob, file, tree or SBOM that does not match
 * the digest naming it is refused (DIGEST_MISMATCH, exit 2) rather than shown beside the facts.
 * With `trust`, the record's source evidence is verified with it.
 */
export async function inspectOpenedArtifact(
  artifact: Artifact,
  now = new Date(),
  integrityOptions: IntegrityOptions = {},
  trust?: ConsumerTrust,
): Promise<InspectView> {
  const { loaded, sbom, integrity } = await readBoundFacts(artifact, integrityOptions);
  requireIntact(integrity);
  const record = loaded?.record;
  const facts = await nativeFactsOf(artifact);
  const c = collect(record, facts);
  const p = record?.predicate;

  let manifest: InspectView['manifest'] = null;
  if (p?.manifest) {
    manifest = { format: p.manifest.format, location: p.manifest.location, components: null };
    const outcome = sbomOutcome(sbom);
    if (outcome && 'components' in outcome) manifest.components = outcome.components;
    else manifest.error = outcome?.error ?? 'not found';
  }
  const image = artifact.image;
  const platforms = image ? (image.selected ? [image.selected] : image.platforms).map((x) => x.platform) : [];
  const publication = await loadPublication(artifact);
  const published = p?.dates.published ?? publication?.statement.predicate.published ?? null;
  const fields: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(c)) fields[key] = value.from;
  return {
    artifact: artifact.ref,
    kind: artifact.kind,
    digest: artifact.digest,
    name: c.name.value,
    version: c.version.value,
    architecture: c.architecture.value,
    platforms: platforms.map((x) =>
      x.variant ? `${x.os}/${x.architecture}/${x.variant}` : `${x.os}/${x.architecture}`,
    ),
    team: c.team.value,
    contact: p?.team.contact ?? null,
    help: { bugTracker: c.bugTracker.value, docs: c.docs.value },
    license: c.license.value,
    disclaimer: p?.support.disclaimer ?? null,
    support: p?.support.statement ?? null,
    built: c.built.value,
    builtAge: ageOf(c.built.value, now),
    published,
    publishedAge: ageOf(published, now),
    publication: publication
      ? {
          target: publication.statement.predicate.target,
          reference: publication.statement.predicate.reference,
          location: publication.location,
          forced: publication.statement.predicate.forced.map((f) => f.rule),
        }
      : null,
    source:
      p?.source || c.repository.value
        ? {
            repository: c.repository.value,
            tag: p?.source?.tag ?? null,
            commit: c.commit.value,
            tree: p?.source?.tree ?? null,
            signature: p?.source?.signature ?? null,
            ...(await sourceVerdict(record, trust, now)),
          }
        : null,
    manifest,
    record: loaded ? { location: loaded.location } : null,
    missingRecord: loaded ? null : (missingRecordHint(artifact) ?? null),
    stored: await listStored(artifact),
    upstream: p?.upstream ?? [],
    integrity: integrity.checks,
    fields,
  };
}

export async function inspectArtifact(
  ref: string,
  options: {
    platform?: string;
    now?: Date;
    integrity?: IntegrityOptions;
    registry?: RegistryOptions;
    trust?: ConsumerTrust;
  } = {},
): Promise<InspectView> {
  return inspectOpenedArtifact(
    await openArtifact(ref, {
      platform: options.platform,
      registry: options.registry,
      // A release URL's file is hashed as it downloads: that is this command's hashing progress.
      onDownload: options.integrity?.onProgress,
    }),
    options.now,
    options.integrity,
    options.trust,
  );
}
