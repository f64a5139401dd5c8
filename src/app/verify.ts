/**
 * `verify`: the consumer's one command. Recomputes the artifact's digests, gathers every signed
 * statement stored with it (sidecars, OCI attachments) or given (`--bundle`), and judges each one with
 * the consumer's own trust (keys, trusted root, identity, provenance policy), offline.
 *
 * The result is one verdict per statement, each a list of named checks, so later work adds checks
 * (record v2 evidence, blob integrity, `check`'s rules) and statement kinds without changing the
 * shape: add a checker to STATEMENT_CHECKERS, or a verdict in `verifyOpenedArtifact`.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { WaybillError } from '../errors.ts';
import { ReleaseIntegrityError } from '../publish/release-integrity.ts';
import type { RegistryOptions } from '../registry/client.ts';
import { findSidecarBundles } from '../sign/bundle-files.ts';
import { fileDigests } from '../sign/file-digests.ts';
import { identityPolicyFrom } from '../sign/identity-policy.ts';
import { loadPublicKey } from '../sign/keys.ts';
import { parseSignedText, readSignedFile, type SignedItem } from '../sign/signed-input.ts';
import {
  checkProvenancePolicy,
  type ProvenancePolicy,
  type ProvenanceSummary,
  summarizeProvenance,
} from '../sign/slsa-provenance.ts';
import { type ParsedStatement, parseStatement, type StatementKind, type Subject } from '../sign/statement.ts';
import { type DigestCandidate, matchSubjects } from '../sign/subject-match.ts';
import { loadTrustedRoot, type TrustedRootInfo } from '../sign/trusted-root.ts';
import {
  type SignatureCheck,
  type SignatureTrust,
  type TrustedKey,
  verifySignedItem,
} from '../sign/verify-signature.ts';
import { openArtifact } from '../sources/open.ts';
import { type Artifact, isSingleFile, type OpenOptions, type SourceKind } from '../sources/types.ts';
import { loadAttachedBundles, loadRecord } from './attachments.ts';

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
  /** Release URLs: download progress of the file. */
  onDownload?: OpenOptions['onDownload'];
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
  | 'provenance-present'
  | 'found'
  | 'release-integrity';

export interface VerdictCheck {
  id: CheckId;
  passed: boolean;
  detail: string;
}

/** `release-file`: a file of a published release that disagrees with its SHA256SUMS, index or record. */
export type VerdictKind = StatementKind | 'artifact-signature' | 'release-file' | 'unknown';

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
}

export interface VerifyReport {
  artifact: string;
  kind: SourceKind;
  digest: string;
  /** What was hashed and the digests the statements were compared with. */
  digests: DigestCandidate[];
  record: { found: false } | { found: true; location: string };
  trustedRoot: TrustedRootInfo;
  statements: StatementVerdict[];
  /** Facts about the run a reader needs ("no release record found"). */
  notes: string[];
  passed: boolean;
}

/** What a statement checker gets. */
export interface StatementContext {
  statement: ParsedStatement;
  signature: SignatureCheck;
  options: VerifyOptions;
  record?: { record: unknown; location: string };
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

/** JSON with object keys sorted, to compare two copies of a statement regardless of key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function recordChecks(ctx: StatementContext): VerdictCheck[] {
  if (!ctx.record) return [];
  const same = canonicalJson(ctx.record.record) === canonicalJson(ctx.statement.raw);
  return [
    same
      ? {
          id: 'record-match',
          passed: true,
          detail: `the signed record is the record in ${ctx.record.location}`,
        }
      : {
          id: 'record-match',
          passed: false,
          detail: `the record in ${ctx.record.location} differs from the signed record: it was edited after signing`,
        },
  ];
}

/** Checks per statement kind, run after the signature and subject checks pass. */
export const STATEMENT_CHECKERS: Partial<Record<StatementKind, StatementChecker>> = {
  provenance: provenanceChecks,
  record: recordChecks,
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

async function loadKeys(paths: string[]): Promise<TrustedKey[]> {
  const keys: TrustedKey[] = [];
  for (const path of paths) {
    const pem = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new WaybillError(
        'NOT_FOUND',
        path,
        e.code === 'ENOENT' ? 'no such key file' : `cannot read (${e.code})`,
      );
    });
    keys.push({ source: path, key: loadPublicKey(pem, path) });
  }
  return keys;
}

async function regularFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/** The artifact's file on this machine; none for a registry image (its `path` names no file). */
async function isLocalFile(artifact: Artifact): Promise<boolean> {
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

/** Every statement file: sidecars, attachments, then --bundle files; each file read once. */
async function gatherItems(artifact: Artifact, given: string[]): Promise<SignedItem[]> {
  const items: SignedItem[] = [];
  const seen = new Set<string>();
  const addFile = async (path: string) => {
    const real = await realpath(path).catch(() => path);
    if (seen.has(real)) return;
    seen.add(real);
    items.push(...(await readSignedFile(path)));
  };
  // A registry image has no directory of its own: nothing next to it is a sidecar. A release's
  // sidecars are the checked ones loadAttachedBundles gives, never files beside its cached copy.
  if (artifact.kind !== 'registry' && artifact.kind !== 'release')
    for (const path of await findSidecarBundles(artifact.path)) await addFile(path);
  for (const attached of await loadAttachedBundles(artifact)) {
    items.push(...parseSignedText(attached.bytes.toString('utf8'), attached.source));
  }
  for (const path of given) await addFile(path);
  return items;
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
  const keys = await loadKeys(options.keys ?? []);
  const trustedRoot = await loadTrustedRoot(options.trustedRoot);
  const candidates = await digestCandidates(artifact);
  const items = await gatherItems(artifact, options.bundles ?? []);
  const loaded = await loadRecord(artifact);
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
  for (const item of items) statements.push(await judge(item, trust, candidates, options, record));

  const notes: string[] = [];
  if (!record) notes.push('no release record found: judging the given statements alone');
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
  if (statements.length === 0) {
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
  return {
    artifact: artifact.ref,
    kind: artifact.kind,
    digest: artifact.digest,
    digests: candidates,
    record: record ? { found: true, location: record.location } : { found: false },
    trustedRoot: trustedRoot.info,
    statements,
    notes,
    passed: statements.every((s) => !s.required || s.passed),
  };
}

export async function verifyArtifact(ref: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  let artifact: Artifact;
  try {
    artifact = await openArtifact(ref, {
      platform: options.platform,
      registry: options.registry,
      onDownload: options.onDownload,
    });
  } catch (e) {
    // A published release whose files disagree is a failed verification, not unreadable input.
    if (e instanceof ReleaseIntegrityError) return releaseIntegrityReport(ref, e, options);
    throw e;
  }
  return verifyOpenedArtifact(artifact, options);
}

async function releaseIntegrityReport(
  ref: string,
  error: ReleaseIntegrityError,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const statement = finish({
    source: error.input,
    kind: 'release-file',
    required: true,
    checks: [{ id: 'release-integrity', passed: false, detail: error.reason }],
  });
  return {
    artifact: ref,
    kind: 'release',
    // Which digest is the release's is exactly what is in dispute: the verdict names both.
    digest: '',
    digests: [],
    record: { found: false },
    trustedRoot: (await loadTrustedRoot(options.trustedRoot)).info,
    statements: [statement],
    notes: [`the published files disagree (${error.file}): no statement was judged`],
    passed: false,
  };
}
