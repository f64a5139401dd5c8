/**
 * `verify`: the consumer's one command. Recomputes the artifact's digests, gathers every signed
 * statement stored with it (sidecars, OCI attachments) or given (`--bundle`), and judges each one with
 * the consumer's own trust (keys, trusted root, identity, provenance policy), offline. When there is
 * a release record it also re-verifies the record's source tag from the evidence it carries (the
 * `source` verdict) and runs `check` with the consumer's policy (the `check` verdict).
 *
 * The result is one verdict per statement, each a list of named checks, so later work adds checks
 * and statement kinds without changing the shape: add a checker to STATEMENT_CHECKERS, or a verdict
 * in `verifyOpenedArtifact`.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { WaybillError } from '../errors.ts';
import {
  BUILT_IN_POLICY,
  type CheckReport,
  defaultPolicy,
  type Policy,
  type RecordSignatureStatus,
} from '../policy/types.ts';
import type { ConsumerTrust, SourceVerification } from '../provenance/source-evidence.ts';
import type { ReleaseRecord } from '../record/types.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { findSidecarBundles } from '../sign/bundle-files.ts';
import { fileDigests } from '../sign/file-digests.ts';
import { identityPolicyFrom } from '../sign/identity-policy.ts';
import { loadPublicKeyFiles } from '../sign/public-key-files.ts';
import {
  parseSignedText,
  readSignedFile,
  requireSignedFilesTotal,
  type SignedItem,
} from '../sign/signed-input.ts';
import {
  checkProvenancePolicy,
  type ProvenancePolicy,
  type ProvenanceSummary,
  summarizeProvenance,
} from '../sign/slsa-provenance.ts';
import { type ParsedStatement, parseStatement, type StatementKind, type Subject } from '../sign/statement.ts';
import { type DigestCandidate, matchSubjects } from '../sign/subject-match.ts';
import { loadTrustedRoot, type TrustedRootInfo } from '../sign/trusted-root.ts';
import { type SignatureCheck, type SignatureTrust, verifySignedItem } from '../sign/verify-signature.ts';
import { mismatchCheck } from '../sources/integrity.ts';
import { openArtifact } from '../sources/open.ts';
import {
  type Artifact,
  type IntegrityCheck,
  type IntegrityOptions,
  isSingleFile,
  type SourceKind,
} from '../sources/types.ts';
import { type DigestMismatchError, isDigestMismatch } from '../util/digest.ts';
import { loadAttachedBundles } from './attachments.ts';
import { checkLoadedRecord, sbomOutcome, verifyRecordSource } from './check.ts';
import { readBoundFacts } from './integrity.ts';
import { recordMatch } from './record-signature.ts';
import { copyMatch, readLocalCopy, readStatementCopies, type StatementCopy } from './statement-copies.ts';

export interface VerifyOptions {
  /** Public key files (PEM) the consumer trusts for key-signed statements. */
  keys?: string[];
  /** Trusted root for keyless verification; default the public-good root shipped with @sigstore/tuf. */
  trustedRoot?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  /** Statement files given in addition to those stored with the artifact. */
  bundles?: string[];
  sourceUri?: string;
  sourceTag?: string;
  builderId?: string;
  /** Accept an unsigned release record (its other checks still run). */
  allowUnsigned?: boolean;
  platform?: string;
  /** `docker://` references: transport and credentials. */
  registry?: RegistryOptions;
  /** How blobs are hashed (progress). */
  integrity?: IntegrityOptions;
  /** The consumer's policy `check` applies (default: the built-in policy). */
  policy?: Policy;
  /** Whom the consumer trusts to sign release tags; default the policy's `trust`. */
  trust?: ConsumerTrust;
  /** The time signer keys must be valid at; default now. */
  now?: Date;
}

export type CheckId =
  | 'signature'
  | 'statement'
  | 'subject'
  | 'source-uri'
  | 'source-tag'
  | 'builder-id'
  | 'record-match'
  | 'record-signed'
  | 'copy-match'
  | 'rebuild-outcome'
  | 'provenance-present'
  | 'found'
  | 'integrity'
  | 'evidence'
  | 'rule';

export interface VerdictCheck {
  id: CheckId;
  passed: boolean;
  detail: string;
}

/**
 * `integrity`: every digest checked; `source`: the record's tag evidence re-verified; `check`: the
 * seven rules by the consumer's policy.
 */
export type VerdictKind = StatementKind | 'artifact-signature' | 'integrity' | 'source' | 'check' | 'unknown';

export interface StatementVerdict {
  /** Where the statement came from: a file (`:line` for JSON Lines), an attachment, or the record. */
  source: string;
  kind: VerdictKind;
  predicateType?: string;
  /** Every verdict counts today; a later policy may mark some informational. */
  required: boolean;
  passed: boolean;
  /** The first failed check's detail. */
  reason?: string;
  checks: VerdictCheck[];
  signature?: Omit<SignatureCheck, 'content' | 'passed' | 'reason'>;
  subjects?: Subject[];
  provenance?: ProvenanceSummary;
  /** What the statement claims that this verdict did not (and could not) verify. */
  claims?: string[];
  /** How to fix a failure, when the verdict knows (flags and keys that exist). */
  fix?: string;
}

export interface VerifyReport {
  artifact: string;
  /** null when the artifact could not be opened because its metadata does not match its digests. */
  kind: SourceKind | null;
  digest: string | null;
  /** What was hashed and the digests the statements were compared with. */
  digests: DigestCandidate[];
  record: { found: false } | { found: true; location: string };
  trustedRoot: TrustedRootInfo;
  statements: StatementVerdict[];
  /**
   * Every digest checked before the statements were judged (image blobs, the record's subject, the
   * SBOM): the `integrity` verdict summarizes them.
   */
  integrity: IntegrityCheck[];
  /** The consumer's verification of the record's source evidence (with a record naming a source). */
  source?: SourceVerification;
  /** `check` of the artifact by the consumer's policy (with a record). */
  check?: CheckReport;
  /** Facts about the run a reader needs ("no release record found"). */
  notes: string[];
  passed: boolean;
}

/** What a statement checker gets. */
export interface StatementContext {
  statement: ParsedStatement;
  signature: SignatureCheck;
  options: VerifyOptions;
  record?: { record: ReleaseRecord; location: string };
}

/** What a signed rebuild verdict reports: shown, so a signed "not reproduced" is never just a tick. */
function rebuildChecks(ctx: StatementContext): VerdictCheck[] {
  const predicate = ctx.statement.predicate as { reproduced?: unknown; reason?: unknown } | null;
  if (typeof predicate !== 'object' || predicate === null || typeof predicate.reproduced !== 'boolean')
    return [];
  const why = typeof predicate.reason === 'string' && predicate.reason !== '' ? `: ${predicate.reason}` : '';
  return [
    {
      id: 'rebuild-outcome',
      // The statement verifies either way; what it reports is the rebuilder's finding, shown as such.
      passed: true,
      detail: predicate.reproduced
        ? 'it reports the rebuild reproduced every output bit for bit'
        : `it reports the rebuild did NOT reproduce the outputs${why}`,
    },
  ];
}

type StatementChecker = (ctx: StatementContext) => VerdictCheck[];

function provenanceChecks(ctx: StatementContext): VerdictCheck[] {
  const summary = summarizeProvenance(ctx.statement.predicateType, ctx.statement.predicate);
  if (!summary) return [];
  const policy: ProvenancePolicy = {
    sourceUri: ctx.options.sourceUri,
    sourceTag: ctx.options.sourceTag,
    builderId: ctx.options.builderId,
  };
  return checkProvenancePolicy(summary, policy, ctx.signature.certificate?.sourceRepositoryUri);
}

function recordChecks(ctx: StatementContext): VerdictCheck[] {
  if (!ctx.record) return [];
  return [{ id: 'record-match', ...recordMatch(ctx.record.record, ctx.statement.raw, ctx.record.location) }];
}

/** Checks per statement kind, run after the signature and subject checks pass. */
export const STATEMENT_CHECKERS: Partial<Record<StatementKind, StatementChecker>> = {
  provenance: provenanceChecks,
  record: recordChecks,
  rebuild: rebuildChecks,
};

const MESSAGE_ALGORITHMS: Record<string, string> = { '1': 'sha256', '2': 'sha384', '3': 'sha512' };
/** Message-signature bundles sign a file's bytes; they are read whole, so bounded. */
const MAX_MESSAGE_ARTIFACT_BYTES = 1024 * 1024 * 1024;

function finish(verdict: Omit<StatementVerdict, 'passed' | 'reason'>): StatementVerdict {
  const failed = verdict.checks.find((c) => !c.passed);
  return {
    ...verdict,
    passed: failed === undefined && verdict.checks.length > 0,
    ...(failed ? { reason: failed.detail } : {}),
  };
}

async function judge(
  item: SignedItem,
  trust: SignatureTrust,
  candidates: DigestCandidate[],
  options: VerifyOptions,
  record: StatementContext['record'],
  copy: StatementCopy | undefined,
): Promise<StatementVerdict> {
  const signature = await verifySignedItem(item, trust);
  const { content, passed: _p, reason: _r, ...signer } = signature;
  const checks: VerdictCheck[] = [
    signature.passed
      ? { id: 'signature', passed: true, detail: signatureDetail(signature) }
      : { id: 'signature', passed: false, detail: signature.reason ?? 'the signature does not verify' },
  ];
  if (content.kind === 'message') {
    const alg = MESSAGE_ALGORITHMS[content.algorithm] ?? 'sha256';
    const subjects = [{ digest: { [alg]: content.digest.toString('hex') } }];
    if (signature.passed) checks.push({ id: 'subject', ...matchSubjects(subjects, candidates) });
    return finish({
      source: item.source,
      kind: 'artifact-signature',
      required: true,
      checks,
      signature: signer,
      subjects,
    });
  }
  if (content.kind === 'none')
    return finish({ source: item.source, kind: 'unknown', required: true, checks });
  const statement = parseStatement(content.payloadType, content.payload);
  if (typeof statement === 'string') {
    if (signature.passed) checks.push({ id: 'statement', passed: false, detail: statement });
    return finish({ source: item.source, kind: 'unknown', required: true, checks, signature: signer });
  }
  const provenance = summarizeProvenance(statement.predicateType, statement.predicate);
  const verdict = {
    source: item.source,
    kind: statement.kind,
    predicateType: statement.predicateType,
    required: true,
    checks,
    signature: signer,
    subjects: statement.subjects,
    ...(provenance ? { provenance } : {}),
  };
  // An unverified payload is shown (what it claims) but never judged further.
  if (!signature.passed) return finish(verdict);
  checks.push({ id: 'subject', ...matchSubjects(statement.subjects, candidates) });
  const checker = STATEMENT_CHECKERS[statement.kind];
  if (checker) checks.push(...checker({ statement, signature, options, record }));
  if (copy) checks.push({ id: 'copy-match', ...copyMatch(copy, statement.raw) });
  return finish(verdict);
}

function signatureDetail(signature: SignatureCheck): string {
  if (signature.method === 'key') return `signed by the key ${signature.key}`;
  const cert = signature.certificate;
  const log = signature.tlogEntries?.[0];
  const when = log?.integratedTime
    ? `, logged ${log.integratedTime}`
    : log
      ? `, log index ${log.logIndex}`
      : '';
  return `signed by ${cert?.subjectAlternativeName ?? '(unknown identity)'} (issuer ${cert?.issuer ?? 'unknown'}${when})`;
}

async function regularFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/** The artifact's file on this machine; none for a registry image (its `path` names no file). */
async function isLocalFile(artifact: Artifact): Promise<boolean> {
  // A registry image's `path` names no file; a file read from a registry is its cached copy.
  return artifact.kind !== 'registry' && (await regularFile(artifact.path));
}

/** The identities of the artifact statements may name. */
async function digestCandidates(artifact: Artifact): Promise<DigestCandidate[]> {
  const own = artifact.digest.replace(/^sha256:/, '');
  const isFile = await isLocalFile(artifact);
  if (isSingleFile(artifact.kind)) return [{ label: 'file', digests: await fileDigests(artifact.path) }];
  const label =
    artifact.kind === 'dir'
      ? 'directory tree'
      : artifact.kind === 'docker-archive'
        ? 'image config'
        : 'image manifest';
  const candidates: DigestCandidate[] = [{ label, digests: { sha256: own } }];
  if (isFile) candidates.push({ label: 'file', digests: await fileDigests(artifact.path) });
  return candidates;
}

/**
 * Every statement file: sidecars, attachments, then --bundle files; each file read once. An attached
 * bundle whose blob does not match its descriptor is added to `broken`, not judged.
 */
async function gatherItems(
  artifact: Artifact,
  given: string[],
  broken: IntegrityCheck[],
): Promise<{ items: SignedItem[]; sidecars: string[] }> {
  const items: SignedItem[] = [];
  const sidecars: string[] = [];
  const seen = new Set<string>();
  const addFile = async (path: string) => {
    const real = await realpath(path).catch(() => path);
    if (seen.has(real)) return;
    seen.add(real);
    // One at a time: a spread of a file's many statements (.intoto.jsonl) overflows the stack.
    for (const item of await readSignedFile(path)) items.push(item);
  };
  // A registry image has no directory of its own: nothing next to it is a sidecar.
  // A release's sidecars are the checked ones loadAttachedBundles gives, never files beside its copy.
  const local =
    !artifact.registry && artifact.kind !== 'release' ? await findSidecarBundles(artifact.path) : [];
  await requireSignedFilesTotal([...local, ...given]);
  for (const path of local) {
    sidecars.push(path);
    await addFile(path);
  }
  let attachedBundles: Awaited<ReturnType<typeof loadAttachedBundles>> = [];
  try {
    attachedBundles = await loadAttachedBundles(artifact);
  } catch (e) {
    if (!isDigestMismatch(e)) throw e;
    broken.push(mismatchCheck('attached statement bundle', e));
  }
  for (const attached of attachedBundles) {
    for (const item of parseSignedText(attached.bytes.toString('utf8'), attached.source)) items.push(item);
  }
  for (const path of given) await addFile(path);
  return { items, sidecars };
}

/**
 * The plain copies of the signed statements stored with the artifact: beside its sidecar bundles,
 * or in its release directory (read there with the release's SHA256SUMS check). Only those: a
 * --bundle file's neighbours are not the producer's.
 */
async function statementCopies(
  artifact: Artifact,
  sidecars: string[],
  broken: IntegrityCheck[],
): Promise<Map<string, StatementCopy>> {
  const release = artifact.release;
  if (!release)
    return readStatementCopies(
      sidecars.map((path) => ({ source: path, bundle: path })),
      readLocalCopy,
    );
  const bundles = [...release.sidecars.keys()].map((name) => ({
    source: release.locate(name),
    bundle: name,
    describe: (copy: string) => release.locate(copy),
  }));
  return readStatementCopies(bundles, async (name) => {
    if (!release.sidecarNames.includes(name)) return undefined;
    try {
      return await release.readFile(name);
    } catch (e) {
      // A copy that is not what SHA256SUMS lists: a failed integrity check, like any published file.
      if (!isDigestMismatch(e)) throw e;
      broken.push(mismatchCheck('published statement', e));
      return undefined;
    }
  });
}

export async function verifyOpenedArtifact(
  artifact: Artifact,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const identity = identityPolicyFrom({
    certificateIdentity: options.certificateIdentity,
    certificateIdentityRegexp: options.certificateIdentityRegexp,
    certificateOidcIssuer: options.certificateOidcIssuer,
    builderId: options.builderId,
    sourceUri: options.sourceUri,
  });
  const keys = await loadPublicKeyFiles(options.keys ?? []);
  const trustedRoot = await loadTrustedRoot(options.trustedRoot);
  const candidates = await digestCandidates(artifact);
  const bound = await readBoundFacts(artifact, options.integrity);
  const integrity = bound.integrity.checks;
  const { items, sidecars } = await gatherItems(artifact, options.bundles ?? [], integrity);
  const copies = await statementCopies(artifact, sidecars, integrity);
  const loaded = bound.loaded;
  const record = loaded ? { record: loaded.record, location: loaded.location } : undefined;

  const isFile = await isLocalFile(artifact);
  const trust: SignatureTrust = {
    keys,
    trustedRoot,
    identity,
    artifactBytes: async () => {
      if (!isFile) return undefined;
      const size = (await stat(artifact.path)).size;
      if (size > MAX_MESSAGE_ARTIFACT_BYTES) {
        throw new WaybillError(
          'LIMIT',
          artifact.path,
          `a message signature over ${size} bytes is past the ${MAX_MESSAGE_ARTIFACT_BYTES}-byte limit`,
        );
      }
      return readFile(artifact.path);
    },
  };
  const statements: StatementVerdict[] = [];
  for (const item of items)
    statements.push(await judge(item, trust, candidates, options, record, copies.get(item.source)));

  const notes: string[] = [];
  if (bound.brokenRecord) notes.push('the release record attachment does not match its digest: not read');
  else if (!record) notes.push('no release record found: judging the given statements alone');
  else if (!statements.some((s) => s.kind === 'record' && s.passed)) {
    const signedButFailed = statements.some((s) => s.kind === 'record');
    if (!signedButFailed) {
      statements.push(
        finish({
          source: record.location,
          kind: 'record',
          required: true,
          checks: [
            options.allowUnsigned
              ? {
                  id: 'record-signed',
                  passed: true,
                  detail: 'the release record is not signed; accepted with --allow-unsigned',
                }
              : {
                  id: 'record-signed',
                  passed: false,
                  detail:
                    'the release record is not signed (no record bundle): pass --allow-unsigned to accept that',
                },
          ],
        }),
      );
    }
  }
  let sourceVerification: SourceVerification | undefined;
  let check: CheckReport | undefined;
  if (record) {
    // The record's claims re-verified from its evidence with the consumer's trust, then the rules.
    const now = options.now ?? new Date();
    const policy = options.policy ?? { ...defaultPolicy(), source: BUILT_IN_POLICY };
    const consumerTrust = options.trust ?? policy.trust ?? {};
    sourceVerification = await verifyRecordSource(record.record, consumerTrust, now);
    if (sourceVerification) statements.push(sourceVerdict(record, sourceVerification));
    check = await checkLoadedRecord(artifact, record, sbomOutcome(bound.sbom), {
      policy,
      now,
      trust: consumerTrust,
      ...(sourceVerification ? { sourceVerification } : {}),
      recordSignature: recordSignatureFrom(statements),
    });
    statements.push(checkVerdict(check));
  }
  const wantsProvenance =
    options.sourceUri !== undefined || options.sourceTag !== undefined || options.builderId !== undefined;
  if (wantsProvenance && !statements.some((s) => s.kind === 'provenance')) {
    const flags = [
      options.sourceUri && '--source-uri',
      options.sourceTag && '--source-tag',
      options.builderId && '--builder-id',
    ]
      .filter(Boolean)
      .join(', ');
    statements.push(
      finish({
        source: '(policy)',
        kind: 'provenance',
        required: true,
        checks: [
          {
            id: 'provenance-present',
            passed: false,
            detail: `${flags} given but no provenance statement was found`,
          },
        ],
      }),
    );
  }
  if (statements.length === 0 && integrity.length === 0) {
    statements.push(
      finish({
        source: artifact.ref,
        kind: 'unknown',
        required: true,
        checks: [
          {
            id: 'found',
            passed: false,
            detail:
              'nothing to verify: no release record and no signed statement next to the artifact or given with --bundle',
          },
        ],
      }),
    );
  }
  if (integrity.length > 0) statements.push(integrityVerdict(artifact.ref, integrity));
  return {
    artifact: artifact.ref,
    kind: artifact.kind,
    digest: artifact.digest,
    digests: candidates,
    record: record ? { found: true, location: record.location } : { found: false },
    trustedRoot: trustedRoot.info,
    statements,
    integrity,
    ...(sourceVerification ? { source: sourceVerification } : {}),
    ...(check ? { check } : {}),
    notes,
    passed: statements.every((s) => !s.required || s.passed),
  };
}

/** The record's tag evidence, as the consumer verified it; what it cannot prove listed as claims. */
function sourceVerdict(
  record: NonNullable<StatementContext['record']>,
  verification: SourceVerification,
): StatementVerdict {
  const source = record.record.predicate.source!;
  const claim = source.signature;
  return finish({
    source: `${record.location} (source evidence)`,
    kind: 'source',
    required: true,
    checks: verification.checks.map((c) => ({ id: 'evidence', passed: c.passed, detail: c.detail })),
    ...(verification.fix ? { fix: verification.fix } : {}),
    claims: [
      `repository ${source.repository ?? '(none)'}: no git object names a repository`,
      `the producer's verdict when it stamped: ${claim.verified ? 'verified' : 'NOT verified'} (${claim.reason})`,
    ],
  });
}

/** `check`'s seven rules as one verdict: a rule that fails fails it; off and warn do not. */
function checkVerdict(report: CheckReport): StatementVerdict {
  return finish({
    source: `policy: ${report.policy.source}`,
    kind: 'check',
    required: true,
    checks: report.rules.map((rule) => {
      const error = rule.findings.find((f) => f.severity === 'error' || f.severity === 'warning');
      const why = rule.status === 'pass' || rule.status === 'off' || !error ? '' : `: ${error.message}`;
      return {
        id: 'rule',
        passed: rule.status !== 'fail',
        detail: `${rule.guideline} ${rule.id} ${rule.status}${rule.status === 'off' ? ' (by policy)' : ''}${why}`,
      };
    }),
  });
}

/** What verify's own record verdicts say about the record's signature, for `check`. */
function recordSignatureFrom(statements: StatementVerdict[]): RecordSignatureStatus {
  const signed = statements.filter((s) => s.kind === 'record' && s.checks.some((c) => c.id === 'signature'));
  const good = signed.find((s) => s.passed);
  if (good) return { state: 'verified', detail: good.source };
  const bad = signed[0];
  if (bad) return { state: 'failed', detail: `${bad.source}: ${bad.reason ?? 'does not verify'}` };
  return { state: 'unsigned', detail: 'no record bundle' };
}

/**
 * The integrity verdict: one failed check per digest that does not match (blob or file, what it is,
 * expected and actual digest), then one passed check counting those that do.
 */
export function integrityVerdict(source: string, integrity: IntegrityCheck[]): StatementVerdict {
  const checks: VerdictCheck[] = integrity
    .filter((c) => !c.passed)
    .map((c) => ({
      id: 'integrity',
      passed: false,
      detail: `${c.name} (${c.what}): ${c.problem ?? 'does not match'}`,
    }));
  const intact = integrity.filter((c) => c.passed);
  if (intact.length > 0) {
    const hashed = intact.reduce((n, c) => n + (c.checkedBy === 'hash' ? (c.actualSize ?? 0) : 0), 0);
    checks.push({
      id: 'integrity',
      passed: true,
      detail: `${intact.length} digest${intact.length === 1 ? '' : 's'} match (${hashed} bytes hashed)`,
    });
  }
  return finish({ source, kind: 'integrity', required: true, checks });
}

/**
 * What `verify` says about an artifact it cannot open because a blob it reads to open it (index,
 * manifest, config) does not match the digest naming it: a failed integrity verdict, exit 1.
 */
async function unopenedReport(
  ref: string,
  error: DigestMismatchError,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const trustedRoot = await loadTrustedRoot(options.trustedRoot);
  const integrity = [mismatchCheck('image metadata', error)];
  return {
    artifact: ref,
    kind: null,
    digest: null,
    digests: [],
    record: { found: false },
    trustedRoot: trustedRoot.info,
    statements: [integrityVerdict(ref, integrity)],
    integrity,
    notes: ['the artifact could not be opened: nothing else was judged'],
    passed: false,
  };
}

export async function verifyArtifact(ref: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  let artifact: Artifact;
  try {
    artifact = await openArtifact(ref, {
      platform: options.platform,
      registry: options.registry,
      // A release URL's file is hashed as it downloads: that is this command's hashing progress.
      onDownload: options.integrity?.onProgress,
    });
  } catch (e) {
    if (isDigestMismatch(e)) return unopenedReport(ref, e, options);
    throw e;
  }
  return verifyOpenedArtifact(artifact, options);
}
