/**
 * Whom the consumer trusts for keyless signatures, checked as cosign checks it
 * (`cosign verify-blob-attestation --certificate-identity[-regexp] --certificate-oidc-issuer`):
 * the certificate's subject alternative name equals the identity (or the regular expression matches
 * somewhere in it, unanchored, as Go's regexp.MatchString does), and its OIDC issuer extension equals
 * the issuer. `--builder-id` (slsa-verifier) is compared with the Build Signer URI extension when the
 * certificate has one, and with the SAN otherwise; a builder id without `@ref` accepts any ref.
 * With neither identity flags nor a builder id, `--source-uri` (slsa-verifier, `gh attestation
 * verify --repo`) names whom to trust: the certificate's Source Repository URI extension must be it.
 */
import { WaybillError } from '../errors.ts';
import { builderIdMatches } from './builder-id.ts';
import type { CertificateIdentity } from './certificate-identity.ts';
import { normalizeSourceUri } from './slsa-provenance.ts';

export interface IdentityPolicy {
  identity?: string;
  identityRegexp?: RegExp;
  issuer?: string;
  builderId?: string;
  sourceUri?: string;
}

/** GitHub Actions' OIDC issuer: the issuer a github.com builder id implies when none is given. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

export interface IdentityFlags {
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  builderId?: string;
  sourceUri?: string;
}

/** Builds the policy from flags; USAGE errors for contradictory or incomplete flags. */
export function identityPolicyFrom(flags: IdentityFlags): IdentityPolicy {
  if (flags.certificateIdentity !== undefined && flags.certificateIdentityRegexp !== undefined) {
    throw new WaybillError(
      'USAGE',
      '--certificate-identity',
      'give --certificate-identity or --certificate-identity-regexp, not both',
    );
  }
  const policy: IdentityPolicy = {};
  if (flags.certificateIdentity !== undefined) policy.identity = flags.certificateIdentity;
  if (flags.certificateIdentityRegexp !== undefined) {
    try {
      policy.identityRegexp = new RegExp(flags.certificateIdentityRegexp, 'u');
    } catch (e) {
      throw new WaybillError(
        'USAGE',
        '--certificate-identity-regexp',
        `not a valid regular expression: ${(e as Error).message}`,
      );
    }
  }
  const hasIdentity = policy.identity !== undefined || policy.identityRegexp !== undefined;
  if (hasIdentity && flags.certificateOidcIssuer === undefined) {
    throw new WaybillError(
      'USAGE',
      '--certificate-oidc-issuer',
      'is required with --certificate-identity[-regexp] (the identity means nothing without its issuer)',
    );
  }
  if (flags.certificateOidcIssuer !== undefined) policy.issuer = flags.certificateOidcIssuer;
  if (flags.builderId !== undefined) policy.builderId = flags.builderId;
  if (flags.sourceUri !== undefined) policy.sourceUri = flags.sourceUri;
  return policy;
}

/** undefined when the certificate satisfies the policy, else the reason it does not. */
export function identityProblem(policy: IdentityPolicy, cert: CertificateIdentity): string | undefined {
  const san = cert.subjectAlternativeName;
  const hasIdentity = policy.identity !== undefined || policy.identityRegexp !== undefined;
  const bySource = !hasIdentity && policy.builderId === undefined && policy.sourceUri !== undefined;
  if (!hasIdentity && policy.builderId === undefined && !bySource) {
    return (
      `keyless signature by ${san ?? '(no identity)'} (issuer ${cert.issuer ?? 'unknown'}): ` +
      'say whom you trust with --certificate-identity or --certificate-identity-regexp and --certificate-oidc-issuer'
    );
  }
  if (policy.identity !== undefined && san !== policy.identity) {
    return `certificate identity ${san ?? '(none)'} is not ${policy.identity}`;
  }
  if (policy.identityRegexp !== undefined && (san === undefined || !policy.identityRegexp.test(san))) {
    return `certificate identity ${san ?? '(none)'} does not match ${policy.identityRegexp.source}`;
  }
  if (bySource && policy.sourceUri !== undefined) {
    const named = cert.sourceRepositoryUri;
    if (named === undefined || normalizeSourceUri(named) !== normalizeSourceUri(policy.sourceUri)) {
      return `certificate source repository ${named ?? '(none)'} is not ${policy.sourceUri}`;
    }
  }
  const githubBuilder = policy.builderId?.startsWith('https://github.com/') ?? false;
  const githubSource =
    policy.sourceUri !== undefined && normalizeSourceUri(policy.sourceUri).startsWith('github.com/');
  const issuer =
    policy.issuer ??
    (!hasIdentity && (githubBuilder || (bySource && githubSource)) ? GITHUB_ACTIONS_ISSUER : undefined);
  if (issuer !== undefined && cert.issuer !== issuer) {
    return `certificate OIDC issuer ${cert.issuer ?? '(none)'} is not ${issuer}`;
  }
  if (policy.builderId !== undefined) {
    const signer = cert.buildSignerUri ?? (hasIdentity ? undefined : san);
    if (signer !== undefined && !builderIdMatches(policy.builderId, signer)) {
      return `certificate build signer ${signer} is not the builder ${policy.builderId}`;
    }
  }
  return undefined;
}
