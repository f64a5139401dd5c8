/**
 * Guideline 4, signed source: the record names the source repository, the tag and the full commit it
 * was built from, and the tag's signature verified against a trusted signer. Where the artifact's own
 * metadata names a repository or revision (OCI org.opencontainers.image.source / .revision), a
 * disagreement is reported as a warning.
 */

import {
  NOT_AT_TAG,
  onlyConfigUncommitted,
  TAG_MISMATCH,
  UNCOMMITTED_PREFIX,
  UNTRUSTED_SIGNER,
} from '../../record/source-reasons.ts';
import type { SignatureVerdict } from '../../record/types.ts';
import type { Finding, RuleContext } from '../types.ts';
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
  if (sig?.verified !== true) {
    const reason = nonEmpty(sig?.reason)
      ? sig.reason
      : sig?.format
        ? 'the signature did not verify'
        : 'the tag is not signed';
    findings.push(
      error(
        `the source tag's signature is not verified: ${reason}`,
        recordPath('source/signature'),
        signatureFix(sig),
      ),
    );
  }

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

  if (!findings.some((f) => f.severity === 'error')) {
    const signer = nonEmpty(sig.signer) ? ` by ${sig.signer}` : '';
    findings.push(
      info(
        `tag ${source.tag} at ${source.commit} in ${source.repository}, signed (${sig.format ?? 'unknown format'})${signer} (record)`,
        recordPath('source'),
      ),
    );
  }
  return findings;
}
