/** Keyless identity policy, as cosign checks it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type IdentityPolicy, identityPolicyFrom, identityProblem } from './identity-policy.ts';

const CERT = {
  subjectAlternativeName: 'https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1',
  issuer: 'https://token.actions.githubusercontent.com',
  buildSignerUri:
    'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.0.0',
  notBefore: '2024-01-01T00:00:00Z',
  notAfter: '2024-01-01T00:10:00Z',
};

const policy = (p: IdentityPolicy) => identityProblem(p, CERT);

test('identity is exact, the regexp unanchored, the issuer exact', () => {
  assert.equal(policy({ identity: CERT.subjectAlternativeName, issuer: CERT.issuer }), undefined);
  assert.match(
    policy({ identity: 'https://github.com/o/r/', issuer: CERT.issuer }) ?? '',
    /is not https:\/\/github.com\/o\/r\//,
  );
  assert.equal(policy({ identityRegexp: /github\.com\/o\/r\//, issuer: CERT.issuer }), undefined);
  assert.match(
    policy({ identityRegexp: /^https:\/\/github\.com\/x\//, issuer: CERT.issuer }) ?? '',
    /does not match/,
  );
  assert.match(
    policy({ identity: CERT.subjectAlternativeName, issuer: 'https://accounts.google.com' }) ?? '',
    /OIDC issuer .* is not/,
  );
});

test('no identity at all is refused with how to give one', () => {
  assert.match(policy({}) ?? '', /say whom you trust with --certificate-identity/);
});

test('--builder-id checks the Build Signer URI, any ref unless one is given', () => {
  const generator =
    'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml';
  assert.equal(policy({ builderId: generator }), undefined);
  assert.equal(policy({ builderId: `${generator}@refs/tags/v2.0.0` }), undefined);
  assert.match(
    policy({ builderId: `${generator}@refs/tags/v1.0.0` }) ?? '',
    /build signer .* is not the builder/,
  );
  // A github.com builder implies GitHub's issuer.
  assert.match(
    identityProblem({ builderId: generator }, { ...CERT, issuer: 'https://evil.example' }) ?? '',
    /issuer/,
  );
});

test('flags: identity and regexp are exclusive, an identity needs its issuer, a bad regexp is usage', () => {
  assert.throws(
    () =>
      identityPolicyFrom({
        certificateIdentity: 'a',
        certificateIdentityRegexp: 'b',
        certificateOidcIssuer: 'i',
      }),
    /not both/,
  );
  assert.throws(
    () => identityPolicyFrom({ certificateIdentity: 'a' }),
    /--certificate-oidc-issuer: is required/,
  );
  assert.throws(
    () => identityPolicyFrom({ certificateIdentityRegexp: '(', certificateOidcIssuer: 'i' }),
    /not a valid regular expression/,
  );
  assert.deepEqual(identityPolicyFrom({}), {});
});

test('--source-uri alone trusts the certificate whose source repository it names (GitHub issuer implied)', () => {
  const cert = { ...CERT, sourceRepositoryUri: 'https://github.com/o/r' };
  assert.equal(identityProblem({ sourceUri: 'github.com/o/r' }, cert), undefined);
  assert.match(
    identityProblem({ sourceUri: 'github.com/o/other' }, cert) ?? '',
    /certificate source repository https:\/\/github.com\/o\/r is not/,
  );
  assert.match(
    identityProblem({ sourceUri: 'github.com/o/r' }, { ...cert, issuer: 'https://evil.example' }) ?? '',
    /issuer/,
  );
  assert.match(
    identityProblem({ sourceUri: 'github.com/o/r' }, CERT) ?? '',
    /certificate source repository \(none\)/,
  );
});
