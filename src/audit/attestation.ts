/**
 * `audit --attach`: the audit as an in-toto Statement v1 whose predicate is cosign's vulnerability
 * attestation (`https://cosign.sigstore.dev/attestation/vuln/v1`: invocation, scanner with its
 * database, result, metadata scanStartedOn / scanFinishedOn), the result being the JSON report — so it
 * carries the database snapshot (every source's digest, count and newest modified) that produced it.
 *
 * Stored like waybill's other statements: for an OCI layout or oci-archive, an OCI 1.1 artifact whose
 * subject is the image; for anything else, a sidecar `NAME.audit.json` next to the artifact.
 *
 * Signing: `signAuditStatement` is the hook signing plugs into. When given, it receives the serialized
 * statement and returns what to store instead (a Sigstore bundle) with its media type, sidecar suffix
 * and OCI artifact type; without it the statement is stored unsigned. `auditStatementSigner(signer)`
 * is the hook for a waybill Signer (`audit --attach --key FILE`): a Sigstore bundle v0.3 stored as
 * `NAME.audit.sigstore.json`, or attached with the bundle media type and predicate-type annotation
 * cosign uses, so `verify` finds and judges it like any other signed statement.
 */
import { basename } from 'node:path';
import { AUDIT_SIDECAR_SUFFIX, attach } from '../app/attachments.ts';
import { WaybillError } from '../errors.ts';
import { ARTIFACT_TYPE } from '../oci/types.ts';
import { BUNDLE_MEDIA_TYPE, BUNDLE_PREDICATE_ANNOTATION, bundleSuffix } from '../sign/bundle-files.ts';
import { serializeBundle, signStatement } from '../sign/sign-statement.ts';
import type { Signer } from '../sign/signer.ts';
import type { Artifact } from '../sources/types.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import type { AuditReport } from './report.ts';

export const STATEMENT_TYPE_V1 = 'https://in-toto.io/Statement/v1';
export const VULN_PREDICATE_TYPE = 'https://cosign.sigstore.dev/attestation/vuln/v1';
/** OCI artifactType of an attached audit statement. */
export const AUDIT_ARTIFACT_TYPE = ARTIFACT_TYPE.audit;
export const IN_TOTO_MEDIA_TYPE = 'application/vnd.in-toto+json';
export { AUDIT_SIDECAR_SUFFIX };

/** What a signer returns: the bytes to store in place of the plain statement. */
export interface SignedStatement {
  bytes: Buffer;
  mediaType: string;
  /** Sidecar file suffix, e.g. `.audit.sigstore.json`. */
  sidecarSuffix: string;
  /** OCI artifactType of the attachment (default AUDIT_ARTIFACT_TYPE) and its annotations. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** The signing hook: statement bytes in, signed form out. */
export type StatementSigner = (statement: Buffer) => Promise<SignedStatement>;

export interface AuditStatementOptions {
  toolVersion: string;
  startedOn: Date;
  finishedOn: Date;
  /** The command line's parameters worth recording (`--fail-on`, VEX files…). */
  parameters?: string[];
}

export function auditStatement(report: AuditReport, options: AuditStatementOptions): Record<string, unknown> {
  const digest = report.subject.digest;
  if (!digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw new WaybillError(
      'USAGE',
      report.subject.ref,
      'an audit statement needs the artifact digest (audit the artifact, not an SBOM)',
    );
  }
  const newest =
    report.database.sources
      .map((s) => s.newestModified ?? '')
      .sort()
      .at(-1) ?? '';
  return {
    _type: STATEMENT_TYPE_V1,
    subject: [
      { name: report.subject.name ?? report.subject.ref, digest: { sha256: digest.slice('sha256:'.length) } },
    ],
    predicateType: VULN_PREDICATE_TYPE,
    predicate: {
      invocation: { parameters: options.parameters ?? [], uri: '', event_id: '', 'builder.id': '' },
      scanner: {
        uri: `pkg:npm/waybill@${options.toolVersion}`,
        version: options.toolVersion,
        db: {
          uri: `waybill-advisory-db:${report.database.sources.map((s) => s.digest).join(',')}`,
          version: newest,
        },
        result: report,
      },
      metadata: {
        scanStartedOn: options.startedOn.toISOString(),
        scanFinishedOn: options.finishedOn.toISOString(),
      },
    },
  };
}

/** Store the statement with the artifact; returns where it went. */
export async function attachAuditStatement(
  artifact: Artifact,
  statement: Record<string, unknown>,
  options: { signAuditStatement?: StatementSigner } = {},
): Promise<string> {
  const plain = Buffer.from(`${JSON.stringify(statement, null, 2)}\n`);
  const signed = options.signAuditStatement ? await options.signAuditStatement(plain) : undefined;
  const bytes = signed?.bytes ?? plain;
  const mediaType = signed?.mediaType ?? IN_TOTO_MEDIA_TYPE;
  // A registry image or a published release is not written in place: `attach` refuses them.
  if (['oci', 'oci-archive', 'registry', 'release'].includes(artifact.kind)) {
    return attach(
      artifact,
      signed?.artifactType ?? AUDIT_ARTIFACT_TYPE,
      bytes,
      mediaType,
      signed?.annotations,
    );
  }
  const base = artifact.path.replace(/[/\\]+$/, '');
  if (basename(base) === '' || basename(base) === '.' || basename(base) === '..') {
    throw new WaybillError('USAGE', artifact.ref, 'cannot name a sidecar for this path');
  }
  const path = base + (signed?.sidecarSuffix ?? AUDIT_SIDECAR_SUFFIX);
  await writeFileAtomic(path, bytes);
  return path;
}

/** The signing hook for a waybill Signer: the statement as a Sigstore bundle v0.3 (sign-statement.ts). */
export function auditStatementSigner(signer: Signer): StatementSigner {
  return async (statement) => {
    const bundle = await signStatement(JSON.parse(statement.toString('utf8')), signer);
    return {
      bytes: Buffer.from(serializeBundle(bundle), 'utf8'),
      mediaType: BUNDLE_MEDIA_TYPE,
      sidecarSuffix: bundleSuffix('audit'),
      artifactType: BUNDLE_MEDIA_TYPE,
      annotations: { [BUNDLE_PREDICATE_ANNOTATION]: VULN_PREDICATE_TYPE },
    };
  };
}
