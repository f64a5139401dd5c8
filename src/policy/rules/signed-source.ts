/**
 * Guideline 4, signed source: the record names the source repository, the tag and the full commit it
 * was built from, and the tag's signature verifies — checked by the consumer, not believed:
 *
 * - the producer's own verdict (`source.signature`) must say verified: a false one is an admission
 *   the evidence cannot overturn (a changed checkout, an untrusted signer when it stamped);
 * - the consumer's verification of the embedded evidence (`ctx.source`, made by the caller with the
 *   consumer's trust: provenance/source-evidence.ts) must pass; without it the rule fails and says
 *   how to give trust. A v1 record has no evidence and cannot pass;
 * - the record's own signature (`ctx.recordSignature`): a signature that does not verify fails;
 *   with `requireSignatures` an unsigned (or unchecked) record fails too. The policy has seven rules,
 *   one per guideline; signing the record is part of proving where it came from, so it is judged here.
 *
 * The repository URL is the producer's claim (no git object names it) and is reported as such.
 * Where the artifact's own metadata names a repository or revision (OCI
 * org.opencontainers.image.source / .revision), a disagreement is a warning.
 */

import { type EvidenceCheckId, trustHowTo } from '../../provenance/source-evidence.ts';
import {
  NOT_AT_TAG,
  onlyConfigUncommitted,
  TAG_MISMATCH,
  UNCOMMITTED_PREFIX,
  UNTRUSTED_SIGNER,
} from '../../record/source-reasons.ts';
import type { SignatureVerdict } from '../../record/types.ts';
import type { Finding, RecordSignatureStatus, RuleContext } from '../types.ts';
import { error, factValue, info, nonEmpty, noRecord, recordPath, warning } from './findings.ts';

const FULL_COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Repository URLs compare without `git+`, `.git`, trailing slashes, and with the host lower-cased. */
function normalizeRepository(url: string): string {
  let u = url
    .trim()
    .replace(/^git\+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  u = u.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^/]+)/i,
    (_m, scheme: string, host: string) => scheme.toLowerCase() + host.toLowerCase(),
  );
  return u.replace(/^(?:https?|git|ssh):\/\/(?:[^@/]+@)?/, '');
}

const RESIGN =
  'tag the release commit with a signed tag (git tag -s vX.Y.Z; for an SSH key first git config gpg.format ssh) and stamp again';

/** The fix for an unverified tag signature, chosen by why it is not verified. */
export function signatureFix(sig: SignatureVerdict | null | undefined): string {
  const reason = sig?.reason ?? '';
  const config = onlyConfigUncommitted(reason);
  if (config)
    return `the only uncommitted file is ${config}: commit it (git add ${config}; git commit), then tag that commit with a signed tag (git tag -s vX.Y.Z) and stamp again: the tag must come after the commit`;
  if (reason.startsWith(UNCOMMITTED_PREFIX))
    return 'commit the changes (or remove them; build outputs belong in .gitignore), then tag that commit with a signed tag (git tag -s vX.Y.Z) and stamp again';
  if (NOT_AT_TAG.test(reason))
    return 'tag the commit the artifact is built from — after the last commit, waybill.yaml included — with a signed tag (git tag -s vX.Y.Z) and stamp from that checkout';
  if (TAG_MISMATCH.test(reason))
    return 'check out the commit the tag points at (git checkout vX.Y.Z), under the tag’s own name, and build and stamp from it';
  if (UNTRUSTED_SIGNER.test(reason)) {
    if (sig?.format === 'ssh')
      return 'name the signer when stamping: --allowed-signers FILE (or source.allowedSigners in waybill.yaml), an OpenSSH allowed_signers file listing the key; or re-sign the tag with a key it lists';
    return 'name the signer when stamping: --trusted-gpg-key FINGERPRINT (or source.trustedGpgKeys in waybill.yaml), with the public key in the GnuPG keyring; or re-sign the tag with a trusted key';
  }
  if (sig?.format === 'x509')
    return 'sign the tag with an OpenPGP or SSH key (git tag -s): X.509 tag signatures are not supported';
  if (sig?.format) return `the signature itself does not verify: ${RESIGN}`;
  return RESIGN;
}

export function checkSignedSource(ctx: RuleContext): Finding[] {
  const { record, facts } = ctx;
  if (!record) return [noRecord('source', ctx.missingRecord)];
  const source = record.predicate.source;
  if (!source) {
    return [
      error(
        'the record names no source: repository, tag and commit are missing',
        recordPath('source'),
        'stamp from the git checkout at the signed release tag: --source DIR, or source.dir in waybill.yaml',
      ),
    ];
  }
  const findings: Finding[] = [];
  if (!nonEmpty(source.repository)) {
    findings.push(
      error(
        'no source repository in the record',
        recordPath('source/repository'),
        'give the checkout a remote (git remote add origin URL): the repository is read from remote.origin.url',
      ),
    );
  }
  if (!nonEmpty(source.tag)) {
    findings.push(
      error(
        'no source tag in the record: the build was not made from a tag',
        recordPath('source/tag'),
        RESIGN,
      ),
    );
  }
  if (!nonEmpty(source.commit)) {
    findings.push(
      error(
        'no source commit in the record',
        recordPath('source/commit'),
        'stamp from a git checkout with at least one commit (--source DIR)',
      ),
    );
  } else if (!FULL_COMMIT.test(source.commit.trim().toLowerCase())) {
    findings.push(
      error(
        `source commit "${source.commit}" is not a full commit id`,
        recordPath('source/commit'),
        'stamp again with this version of waybill: it records the full 40 (or 64) hex digit commit id',
      ),
    );
  }
  const sig = source.signature;
  let producerReason: string | undefined;
  if (sig?.verified !== true) {
    const reason = nonEmpty(sig?.reason)
      ? sig.reason
      : sig?.format
        ? 'the signature did not verify'
        : 'the tag is not signed';
    producerReason = reason;
    findings.push(
      error(
        `the producer's own check of the source tag failed when it stamped: ${reason}`,
        recordPath('source/signature'),
        signatureFix(sig),
      ),
    );
  }
  const verification = ctx.source;
  if (verification === undefined) {
    findings.push(
      error(
        'the source evidence was not verified with your trust',
        recordPath('source/evidence'),
        trustHowTo(sig?.format ?? null),
      ),
    );
  } else if (!verification.verified && verification.reason !== producerReason) {
    // The same failure as the producer's own check (stamp's verdict hands that check in as the
    // verification) is reported once, above, with the fix for its cause (a dirty tree: commit, tag).
    const failed = verification.checks.at(-1)?.id ?? 'evidence';
    findings.push(
      error(
        `the source tag does not verify with your trust: ${verification.reason}`,
        recordPath(EVIDENCE_PATHS[failed]),
        verification.fix ?? trustHowTo(verification.format),
      ),
    );
  }
  findings.push(...recordSignatureFindings(ctx.recordSignature, ctx.policy.requireSignatures === true));

  // The artifact's own word on where it came from.
  const nativeRevision = factValue(facts.revision);
  if (nativeRevision && nonEmpty(source.commit)) {
    const a = nativeRevision.toLowerCase();
    const b = source.commit.trim().toLowerCase();
    // Abbreviated ids are common in labels; a prefix of the full id agrees.
    if (!(a.length >= 7 && b.startsWith(a)) && a !== b) {
      findings.push(
        warning(
          `${facts.revision!.field} says ${nativeRevision}, the record says commit ${source.commit}`,
          facts.revision!.field,
          'build the artifact from the tagged commit and label it with that commit',
        ),
      );
    }
  }
  const nativeRepo = factValue(facts.sourceRepository);
  if (
    nativeRepo &&
    nonEmpty(source.repository) &&
    normalizeRepository(nativeRepo) !== normalizeRepository(source.repository)
  ) {
    findings.push(
      warning(
        `${facts.sourceRepository!.field} says ${nativeRepo}, the record says ${source.repository}`,
        facts.sourceRepository!.field,
        'make the artifact’s source label and source.repository name the same repository',
      ),
    );
  }

  if (!findings.some((f) => f.severity === 'error') && verification?.verified) {
    const signer = verification.signer ? ` by ${verification.signer}` : '';
    findings.unshift(
      info(
        `tag ${source.tag} at ${source.commit}, signed (${verification.format ?? 'unknown format'})${signer}: verified by ${verification.trust ?? 'your trust'}`,
        recordPath('source/evidence'),
      ),
      info(
        `repository ${source.repository}: the producer's claim (no git object names a repository)`,
        recordPath('source/repository'),
      ),
    );
  }
  return findings;
}

/** Where a failed evidence check points in the record. */
const EVIDENCE_PATHS: Readonly<Record<EvidenceCheckId, string>> = {
  evidence: 'source/evidence',
  'tag-object': 'source/evidence/rawTag',
  'tag-name': 'source/tag',
  'tag-commit': 'source/commit',
  'commit-object': 'source/evidence/rawCommit',
  tree: 'source/tree',
  signature: 'source/evidence/rawTag',
};

const SIGN_RECORD_FIX =
  'stamp with a signing key (--key FILE or WAYBILL_KEY; waybill keygen makes a pair): the record is then signed as NAME.record.sigstore.json, or a bundle attached to the image';

/** The record's own signature: a bad one always fails; a missing or unchecked one when required. */
function recordSignatureFindings(status: RecordSignatureStatus | undefined, required: boolean): Finding[] {
  const where = 'record signature';
  const state = status?.state ?? 'unsigned';
  const detail = status?.detail;
  switch (state) {
    case 'failed':
      return [
        error(
          `the release record's signature does not verify: ${detail ?? 'unknown reason'}`,
          where,
          'the record or its bundle was changed after signing, or another key signed it: do not trust this record; get the published record and bundle from the producer',
        ),
      ];
    case 'verified':
      return [info(`the release record is signed: ${detail ?? 'verified'}`, where)];
    case 'unchecked':
      return required
        ? [
            error(
              `the release record is signed but its signature was not checked: ${detail ?? 'no key given'}`,
              where,
              "give the producer's public key: --key PUB (repeatable)",
            ),
          ]
        : [
            info(
              `the release record is signed; not verified (give --key PUB to check it): ${detail ?? ''}`.trim(),
              where,
            ),
          ];
    default:
      return required
        ? [
            error(
              'the release record is not signed, and your policy requires signatures (requireSignatures)',
              where,
              SIGN_RECORD_FIX,
            ),
          ]
        : [];
  }
}
