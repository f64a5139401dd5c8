/**
 * Guideline 4, signed source: the record names the source repository, the tag and the full commit it
 * was built from, and the tag's signature verified against a trusted signer. Where the artifact's own
 * metadata names a repository or revision (OCI org.opencontainers.image.source / .revision), a
 * disagreement is reported as a warning.
 */

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

export function checkSignedSource(ctx: RuleContext): Finding[] {
  const { record, facts } = ctx;
  if (!record) return [noRecord('source')];
  const source = record.predicate.source;
  if (!source) {
    return [
      error(
        'the record names no source: repository, tag and commit are missing',
        recordPath('source'),
        'publish from a git checkout at a signed tag (git tag -s vX.Y.Z), or pass --source <repo>',
      ),
    ];
  }
  const findings: Finding[] = [];
  if (!nonEmpty(source.repository)) {
    findings.push(
      error(
        'no source repository in the record',
        recordPath('source/repository'),
        'set source.repository in waybill.yaml',
      ),
    );
  }
  if (!nonEmpty(source.tag)) {
    findings.push(
      error(
        'no source tag in the record: the build was not made from a tag',
        recordPath('source/tag'),
        'tag the release with a signed tag (git tag -s vX.Y.Z) and publish from it',
      ),
    );
  }
  if (!nonEmpty(source.commit)) {
    findings.push(
      error('no source commit in the record', recordPath('source/commit'), 'publish from a git checkout'),
    );
  } else if (!FULL_COMMIT.test(source.commit.trim().toLowerCase())) {
    findings.push(
      error(
        `source commit "${source.commit}" is not a full commit id`,
        recordPath('source/commit'),
        'record the full 40 (or 64) hex digit commit id',
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
        sig?.format
          ? 'add the signer to the policy’s trusted keys (waybill.yaml trust) or re-sign the tag with a trusted key'
          : 'sign the tag (git tag -s, or git tag -s with gpg.format=ssh) and publish again',
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
